# Stage 7: the study's figures and Table 1, drawn from the summary and transfer matrices.
# Only `figures` settings reach these rules, so restyling reruns nothing else.


localrules:
    summarize,
    fig_test_accuracy,
    fig_attack_vs_sparsity,
    fig_attack_vs_samples,
    fig_transfer,
    fig_methods,
    table1,
    fig_forest,
    fig_roc_curves,
    fig_gap_vs_auc,
    per_class,


rule fig_test_accuracy:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        png=report(
            f"{FIGURES}/fig1_test_accuracy.png",
            caption="../report/fig1_test_accuracy.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig1_test_accuracy.pdf",
    log:
        f"{LOGS}/figures/fig1_test_accuracy.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig1_test_accuracy.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        method=figure_method(),
    script:
        "../workflow_scripts/fig_test_accuracy.py"


rule fig_attack_vs_sparsity:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        png=report(
            f"{FIGURES}/fig2_attack_vs_sparsity.png",
            caption="../report/fig2_attack_vs_sparsity.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig2_attack_vs_sparsity.pdf",
    log:
        f"{LOGS}/figures/fig2_attack_vs_sparsity.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig2_attack_vs_sparsity.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
        method=figure_method(),
    script:
        "../workflow_scripts/fig_attack_vs_sparsity.py"


rule fig_attack_vs_samples:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        png=report(
            f"{FIGURES}/fig3_attack_vs_samples.png",
            caption="../report/fig3_attack_vs_samples.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig3_attack_vs_samples.pdf",
    log:
        f"{LOGS}/figures/fig3_attack_vs_samples.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig3_attack_vs_samples.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        sparsity=config["figures"]["sparsity"],
        attack=config["figures"]["attack"],
        method=figure_method(),
    script:
        "../workflow_scripts/fig_attack_vs_samples.py"


rule fig_transfer:
    input:
        cells=lambda w: (
            f"{RESULTS}/{w.dataset}/transfer/"
            f"{transfer_figure_attack()}_n{figure_sample_count(w.dataset)}.cells.parquet"
        ),
    output:
        png=report(
            f"{FIGURES}/fig4_transfer_{{dataset}}.png",
            caption="../report/fig4_transfer.rst",
            category="Figures",
            labels={"figure": "Figure 4", "dataset": "{dataset}"},
        ),
        pdf=f"{FIGURES}/fig4_transfer_{{dataset}}.pdf",
    log:
        f"{LOGS}/figures/fig4_transfer_{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig4_transfer_{{dataset}}.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        metric=config["figures"]["transfer_metric"],
        dataset="{dataset}",
    script:
        "../workflow_scripts/fig_transfer.py"


rule table1:
    input:
        scored_dirs(scored_models(table_attacks(), True)),
        summary=f"{RESULTS}/summary.parquet",
    output:
        csv=report(
            f"{TABLES}/table1.csv", caption="../report/table1.rst", category="Tables"
        ),
        md=f"{TABLES}/table1.md",
    log:
        f"{LOGS}/figures/table1.log",
    benchmark:
        f"{BENCHMARKS}/figures/table1.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        attacks=table_attacks(),
        ticket_sparsity=config["figures"]["sparsity"],
        scores=[m["path"] for m in scored_models(table_attacks(), True)],
        score_keys=[m["key"] for m in scored_models(table_attacks(), True)],
        margin=config["figures"]["equivalence_margin"],
        bootstrap=bootstrap_settings(),
        method=figure_method(),
    script:
        "../workflow_scripts/table1.py"


rule fig_forest:
    input:
        table=f"{TABLES}/table1.csv",
    output:
        png=report(
            f"{FIGURES}/fig_forest.png",
            caption="../report/fig_forest.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig_forest.pdf",
    log:
        f"{LOGS}/figures/fig_forest.log",
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
    script:
        "../workflow_scripts/fig_forest.py"


rule fig_roc_curves:
    input:
        scored_dirs(scored_models(roc_attacks())),
    output:
        png=report(
            f"{FIGURES}/fig5_roc_curves.png",
            caption="../report/fig5_roc_curves.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig5_roc_curves.pdf",
    log:
        f"{LOGS}/figures/fig5_roc_curves.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig5_roc_curves.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        attacks=roc_attacks(),
        scores=[m["path"] for m in scored_models(roc_attacks())],
        score_keys=[m["key"] for m in scored_models(roc_attacks())],
    script:
        "../workflow_scripts/fig_roc_curves.py"


rule fig_gap_vs_auc:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        png=report(
            f"{FIGURES}/fig6_gap_vs_auc.png",
            caption="../report/fig6_gap_vs_auc.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig6_gap_vs_auc.pdf",
    log:
        f"{LOGS}/figures/fig6_gap_vs_auc.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig6_gap_vs_auc.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
        method=figure_method(),
    script:
        "../workflow_scripts/fig_gap_vs_auc.py"


rule per_class:
    input:
        scored_dirs(scored_models([config["figures"]["attack"]])),
        counts=[CLASS_COUNTS.format(dataset=d) for d in config["datasets"]],
    output:
        csv=report(
            f"{TABLES}/per_class.csv",
            caption="../report/per_class.rst",
            category="Tables",
        ),
        md=f"{TABLES}/per_class.md",
        png=report(
            f"{FIGURES}/fig7_per_class.png",
            caption="../report/per_class.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig7_per_class.pdf",
        frequency_png=report(
            f"{FIGURES}/fig7_per_class_frequency.png",
            caption="../report/per_class_frequency.rst",
            category="Figures",
        ),
        frequency_pdf=f"{FIGURES}/fig7_per_class_frequency.pdf",
    log:
        f"{LOGS}/figures/per_class.log",
    benchmark:
        f"{BENCHMARKS}/figures/per_class.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        ticket_sparsity=config["figures"]["sparsity"],
        scores=[m["path"] for m in scored_models([config["figures"]["attack"]])],
        score_keys=[m["key"] for m in scored_models([config["figures"]["attack"]])],
        bootstrap=bootstrap_settings(),
        count_datasets=list(config["datasets"]),
    script:
        "../workflow_scripts/per_class.py"


rule fig_methods:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        png=report(
            f"{FIGURES}/fig_methods.png",
            caption="../report/fig_methods.rst",
            category="Figures",
        ),
        pdf=f"{FIGURES}/fig_methods.pdf",
    log:
        f"{LOGS}/figures/fig_methods.log",
    benchmark:
        f"{BENCHMARKS}/figures/fig_methods.tsv"
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
    script:
        "../workflow_scripts/fig_methods.py"
