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
        summary=RESULTS + "/summary.parquet",
    output:
        png=FIGURES + "/fig1_test_accuracy.png",
        pdf=FIGURES + "/fig1_test_accuracy.pdf",
    params:
        style=config["figures"],
    log:
        LOGS + "/figures/fig1_test_accuracy.log",
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow_scripts/fig_test_accuracy.py"


rule fig_attack_vs_sparsity:
    input:
        summary=RESULTS + "/summary.parquet",
    output:
        png=FIGURES + "/fig2_attack_vs_sparsity.png",
        pdf=FIGURES + "/fig2_attack_vs_sparsity.pdf",
    params:
        style=config["figures"],
        n_samples=config["figures"]["sample_count"],
    log:
        LOGS + "/figures/fig2_attack_vs_sparsity.log",
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow_scripts/fig_attack_vs_sparsity.py"


rule fig_attack_vs_samples:
    input:
        summary=RESULTS + "/summary.parquet",
    output:
        png=FIGURES + "/fig3_attack_vs_samples.png",
        pdf=FIGURES + "/fig3_attack_vs_samples.pdf",
    params:
        style=config["figures"],
    log:
        LOGS + "/figures/fig3_attack_vs_samples.log",
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow_scripts/fig_attack_vs_samples.py"


rule fig_transfer:
    input:
        matrix=lambda w: (
            f"{RESULTS}/{w.dataset}/transfer/"
            f"{config['figures']['attack']}_n{figure_sample_count(w.dataset)}.parquet"
        ),
    output:
        png=FIGURES + "/fig4_transfer_{dataset}.png",
        pdf=FIGURES + "/fig4_transfer_{dataset}.pdf",
    params:
        style=config["figures"],
    log:
        LOGS + "/figures/fig4_transfer_{dataset}.log",
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow_scripts/fig_transfer.py"


rule table1:
    input:
        summary=RESULTS + "/summary.parquet",
    output:
        csv=TABLES + "/table1.csv",
        md=TABLES + "/table1.md",
    params:
        style=config["figures"],
    log:
        LOGS + "/figures/table1.log",
    conda:
        "../envs/plot.yaml"
    script:
        "../workflow_scripts/table1.py"
