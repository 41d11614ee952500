# Stage 7: the study's figures and Table 1, drawn from the summary and transfer matrices.
# Only `figures` settings reach these rules, so restyling reruns nothing else.
# Each runs on the submitting machine (`localrule: True`): seconds of work, no SLURM job.


rule fig_test_accuracy:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        **figure_output("fig1_test_accuracy", "fig1_test_accuracy"),
    log:
        figure_log("fig1_test_accuracy"),
    benchmark:
        figure_benchmark("fig1_test_accuracy")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        method=figure_method(),
    script:
        "../workflow_scripts/draw_figure.py"


rule fig_attack_vs_sparsity:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        **figure_output("fig2_attack_vs_sparsity", "fig2_attack_vs_sparsity"),
    log:
        figure_log("fig2_attack_vs_sparsity"),
    benchmark:
        figure_benchmark("fig2_attack_vs_sparsity")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
        method=figure_method(),
    script:
        "../workflow_scripts/draw_figure.py"


rule fig_attack_vs_samples:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        **figure_output("fig3_attack_vs_samples", "fig3_attack_vs_samples"),
    log:
        figure_log("fig3_attack_vs_samples"),
    benchmark:
        figure_benchmark("fig3_attack_vs_samples")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        sparsity=config["figures"]["sparsity"],
        attack=config["figures"]["attack"],
        method=figure_method(),
    script:
        "../workflow_scripts/draw_figure.py"


rule fig_transfer:
    input:
        cells=lambda w: (
            f"{RESULTS}/{w.dataset}/transfer/"
            f"{transfer_figure_attack()}_n{figure_sample_count(w.dataset)}.cells.parquet"
        ),
    output:
        **figure_output(
            "fig4_transfer_{dataset}",
            "fig4_transfer",
            figure="Figure 4",
            dataset="{dataset}",
        ),
    log:
        figure_log("fig4_transfer_{dataset}"),
    benchmark:
        figure_benchmark("fig4_transfer_{dataset}")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        metric=config["figures"]["transfer_metric"],
        dataset="{dataset}",
    script:
        "../workflow_scripts/draw_figure.py"


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
    localrule: True
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
        **figure_output("fig_forest", "fig_forest"),
    log:
        figure_log("fig_forest"),
    benchmark:
        figure_benchmark("fig_forest")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
    script:
        "../workflow_scripts/draw_figure.py"


rule fig_roc_curves:
    input:
        scored_dirs(scored_models(roc_attacks())),
    output:
        **figure_output("fig5_roc_curves", "fig5_roc_curves"),
    log:
        figure_log("fig5_roc_curves"),
    benchmark:
        figure_benchmark("fig5_roc_curves")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        attacks=roc_attacks(),
        scores=[m["path"] for m in scored_models(roc_attacks())],
        score_keys=[m["key"] for m in scored_models(roc_attacks())],
        bootstrap=bootstrap_settings(),
    script:
        "../workflow_scripts/draw_figure.py"


rule fig_gap_vs_auc:
    input:
        summary=f"{RESULTS}/summary.parquet",
    output:
        **figure_output("fig6_gap_vs_auc", "fig6_gap_vs_auc"),
    log:
        figure_log("fig6_gap_vs_auc"),
    benchmark:
        figure_benchmark("fig6_gap_vs_auc")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
        method=figure_method(),
    script:
        "../workflow_scripts/draw_figure.py"


rule per_class:
    input:
        scored_dirs(scored_models([config["figures"]["attack"]])),
        counts=[CLASS_COUNTS.format(dataset=d) for d in config["datasets"]],
    output:
        **figure_output("fig7_per_class", "per_class"),
        **figure_output(
            "fig7_per_class_frequency", "per_class_frequency", prefix="frequency_"
        ),
        csv=report(
            f"{TABLES}/per_class.csv",
            caption="../report/per_class.rst",
            category="Tables",
        ),
        md=f"{TABLES}/per_class.md",
    log:
        figure_log("per_class"),
    benchmark:
        figure_benchmark("per_class")
    localrule: True
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
        # A final target only when the grid compares several pruning methods.
        **figure_output(
            "fig_methods",
            "fig_methods",
            target=len(config["grid"]["pruning_methods"]) > 1,
        ),
    log:
        figure_log("fig_methods"),
    benchmark:
        figure_benchmark("fig_methods")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
    script:
        "../workflow_scripts/draw_figure.py"
