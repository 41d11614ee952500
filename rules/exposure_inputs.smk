# Inputs of the per-example exposure rules (rules/exposure.smk): which models, scores files and
# reference outputs each dataset's exposure table reads (lottery_mia.exposure_grid).
exposure_reference_attack = partial(exposure_grid.exposure_reference_attack, config)
exposure_models = partial(exposure_grid.exposure_models, config)
exposure_scores = partial(exposure_grid.exposure_scores, config)
exposure_references = partial(exposure_grid.exposure_references, config)


def exposure_keep_input(wildcards):
    return exposure_grid.exposure_keep_input(config, wildcards.dataset)
