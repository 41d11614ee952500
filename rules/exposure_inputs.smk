# Inputs of the per-example exposure rules (rules/exposure.smk): which models, scores files and
# reference outputs each dataset's exposure table reads.


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
            "outputs": MODEL_OUTPUTS.format(
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
            "path": MODEL_OUTPUTS.format(
                dataset=dataset, arch=arch, run=f"ref{k}", model=model
            ),
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
