# Per-example exposure (issue 17): which examples leak, and does the ticket expose the same ones?
# Downstream of files the DAG already writes (outputs, scores, keep matrix): a change of the
# figures' attack or of figures.exposure_top_fraction reruns only these jobs.
CLASS_COUNTS = "results/{dataset}/class_counts.parquet"


def exposure_reference_attack():
    """The strongest reference attack the grid runs: LiRA online where references exist, else
    RMIA, then the offline variants; None without reference models."""
    if config["attack"]["reference_models"] == 0:
        return None
    ranked = ["lira_online", "rmia", "lira_offline", "rmia_offline"]
    return next((a for a in ranked if a in config["grid"]["attacks"]), None)


def exposure_models(dataset):
    """Every target model of the dataset, its key naming its results folder as `model`."""
    return [
        {
            "dir": MODEL_DIR.format(
                dataset=dataset, arch=arch, run=f"seed{seed}", model=model
            ),
            "key": {"arch": arch, "seed": seed, "model": model, "method": method},
            "sparsity": float(p),
        }
        for arch in config["grid"]["archs"]
        for seed in config["grid"]["seeds"]
        for method, p, model in model_variants()
    ]


def _exposure_attacks(model):
    reference = exposure_reference_attack()
    key = {"arch": model["key"]["arch"], "method": model["key"]["method"]}
    referenced = has_references({**key, "sparsity": model["sparsity"]})
    return [config["figures"]["attack"]] + (
        [reference] if reference and referenced else []
    )


def exposure_scores(dataset):
    """Scores files at the figures' sample count: the figures' attack on every model, the
    strongest reference attack on the models with references."""
    n = figure_sample_count(dataset)
    return [
        {
            "path": attack_file(model["dir"], attack, n, "scores"),
            "dir": attack_dir(model["dir"], attack, n),
            "key": {**model["key"], "attack": attack},
        }
        for model in exposure_models(dataset)
        for attack in _exposure_attacks(model)
    ]


def exposure_references(dataset):
    """Outputs of the K references of each referenced (arch, model), in reference order."""
    referenced = {
        (m["key"]["arch"], m["key"]["model"])
        for m in exposure_models(dataset)
        if has_references({**m["key"], "sparsity": m["sparsity"]})
    }
    return [
        {
            "path": MODEL_DIR.format(
                dataset=dataset, arch=arch, run=f"ref{k}", model=model
            )
            + "/outputs.parquet",
            "key": {"arch": arch, "model": model, "reference": k},
        }
        for arch, model in sorted(referenced)
        for k in range(config["attack"]["reference_models"])
    ]


def exposure_keep_input(wildcards):
    return (
        {"keep_path": REFERENCE_KEEP.format(dataset=wildcards.dataset)}
        if exposure_references(wildcards.dataset)
        else {}
    )


def exposure_files(dataset):
    return [
        f"{TABLES}/exposure_{dataset}.parquet",
        f"{TABLES}/exposure_{dataset}.md",
        f"{TABLES}/exposure_agreement_{dataset}.csv",
        *figure_paths(f"fig8_exposure_{dataset}"),
        *figure_paths(f"fig9_memorisation_{dataset}"),
    ]


localrules:
    exposure,
    fig_exposure,


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
        outputs=lambda w: [
            f"{m['dir']}/outputs.parquet" for m in exposure_models(w.dataset)
        ],
        counts_path=CLASS_COUNTS,
    output:
        table_path=f"{TABLES}/exposure_{{dataset}}.parquet",
        agreement_path=report(
            f"{TABLES}/exposure_agreement_{{dataset}}.csv",
            caption="../report/exposure.rst",
            category="Tables",
            labels={"table": "exposure agreement", "dataset": "{dataset}"},
        ),
        summary_path=f"{TABLES}/exposure_{{dataset}}.md",
    log:
        f"{LOGS}/exposure/{{dataset}}.log",
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
    output:
        exposure_png=report(
            f"{FIGURES}/fig8_exposure_{{dataset}}.png",
            caption="../report/fig8_exposure.rst",
            category="Figures",
            labels={"figure": "Figure 8", "dataset": "{dataset}"},
        ),
        exposure_pdf=f"{FIGURES}/fig8_exposure_{{dataset}}.pdf",
        memorisation_png=report(
            f"{FIGURES}/fig9_memorisation_{{dataset}}.png",
            caption="../report/fig9_memorisation.rst",
            category="Figures",
            labels={"figure": "Figure 9", "dataset": "{dataset}"},
        ),
        memorisation_pdf=f"{FIGURES}/fig9_memorisation_{{dataset}}.pdf",
    log:
        f"{LOGS}/figures/fig_exposure_{{dataset}}.log",
    conda:
        "../envs/plot.yaml"
    params:
        style=figure_look(),
        dataset="{dataset}",
        top_fraction=config["figures"]["exposure_top_fraction"],
        reference_attack=exposure_reference_attack(),
    script:
        "../workflow_scripts/fig_exposure.py"
