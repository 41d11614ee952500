# Per-example exposure (issue 17): which examples leak, and does the ticket expose the same ones?
# Downstream of files the DAG already writes (outputs, scores, keep matrix): a change of the
# figures' attack or of figures.exposure_top_fraction reruns only these jobs.


rule class_counts:
    output:
        counts_path=CLASS_COUNTS,
    log:
        f"{LOGS}/class_counts/{{dataset}}.log",
    conda:
        "../envs/torch.yaml"
    params:
        dataset="{dataset}",
        data=lambda w: data_settings(config, w.dataset),
    script:
        "../workflow_scripts/class_counts.py"


rule exposure:
    input:
        unpack(exposure_keep_input),
        lambda w: scored_dirs(exposure_scores(w.dataset)),
        lambda w: [r["path"] for r in exposure_references(w.dataset)],
        outputs=lambda w: [m["outputs"] for m in exposure_models(w.dataset)],
        counts_path=CLASS_COUNTS,
    output:
        table_path=f"{TABLES}/exposure_{{dataset}}.parquet",
        agreement_path=report(
            f"{TABLES}/exposure_agreement_{{dataset}}.csv",
            caption="../report/exposure.rst",
            category="Tables",
            labels={"table": "exposure agreement", "dataset": "{dataset}"},
        ),
        memorisation_path=f"{TABLES}/exposure_memorisation_{{dataset}}.csv",
        summary_path=f"{TABLES}/exposure_{{dataset}}.md",
    log:
        f"{LOGS}/exposure/{{dataset}}.log",
    localrule: True
    conda:
        "../envs/attack.yaml"
    params:
        output_keys=lambda w: [m["key"] for m in exposure_models(w.dataset)],
        scores=lambda w: [s["path"] for s in exposure_scores(w.dataset)],
        score_keys=lambda w: [s["key"] for s in exposure_scores(w.dataset)],
        reference_outputs=lambda w: [r["path"] for r in exposure_references(w.dataset)],
        reference_keys=lambda w: [r["key"] for r in exposure_references(w.dataset)],
        dataset="{dataset}",
        n_references=config["attack"]["reference_models"],
        bootstrap=bootstrap_settings(),
        top_fraction=config["figures"]["exposure_top_fraction"],
        reference_attack=exposure_reference_attack(),
    script:
        "../workflow_scripts/exposure.py"


rule fig_exposure:
    input:
        table=f"{TABLES}/exposure_{{dataset}}.parquet",
        agreement=f"{TABLES}/exposure_agreement_{{dataset}}.csv",
        memorisation=f"{TABLES}/exposure_memorisation_{{dataset}}.csv",
    output:
        **figure_output(
            "fig8_exposure_{dataset}",
            "fig8_exposure",
            prefix="exposure_",
            figure="Figure 8",
            dataset="{dataset}",
        ),
        **figure_output(
            "fig9_memorisation_{dataset}",
            "fig9_memorisation",
            prefix="memorisation_",
            figure="Figure 9",
            dataset="{dataset}",
        ),
    log:
        figure_log("fig_exposure_{dataset}"),
    benchmark:
        figure_benchmark("fig_exposure_{dataset}")
    localrule: True
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        dataset="{dataset}",
        top_fraction=config["figures"]["exposure_top_fraction"],
        reference_attack=exposure_reference_attack(),
    script:
        "../workflow_scripts/draw_figure.py"
