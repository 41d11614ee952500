# Stage 7: the study's figures and Table 1, drawn from the summary and transfer matrices.
# Only `figures` settings reach these rules, so restyling reruns nothing else.


localrules:
    summarize,
    fig_test_accuracy,
    fig_attack_vs_sparsity,
    fig_attack_vs_samples,
    fig_transfer,
    table1,


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
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
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
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        n_samples=figure2_sample_count(),
        attack=config["figures"]["attack"],
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
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        sparsity=config["figures"]["sparsity"],
        attack=config["figures"]["attack"],
    script:
        "../workflow_scripts/fig_attack_vs_samples.py"


rule fig_transfer:
    input:
        matrix=lambda w: (
            f"{RESULTS}/{w.dataset}/transfer/"
            f"{config['figures']['attack']}_n{figure_sample_count(w.dataset)}.parquet"
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
        summary=f"{RESULTS}/summary.parquet",
    output:
        csv=report(
            f"{TABLES}/table1.csv", caption="../report/table1.rst", category="Tables"
        ),
        md=f"{TABLES}/table1.md",
    log:
        f"{LOGS}/figures/table1.log",
    conda:
        "../envs/plot.yaml"
    params:
        attack=config["figures"]["attack"],
        ticket_sparsity=config["figures"]["sparsity"],
    script:
        "../workflow_scripts/table1.py"
