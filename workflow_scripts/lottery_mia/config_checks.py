"""The config checks a JSON schema cannot express, all run before any job starts.

``config.validate_config`` checks each key on its own (types, ranges, unknown keys); the checks
here relate keys to each other and to the data: per-dataset training overrides, the settings the
figures and Table 1 need from the grid, reference models wherever their attacks run, pruning
settings every architecture can follow, and pools large enough for every sample count. Each
check returns its problems as sentences naming the key, so one run reports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema

from lottery_mia.architectures import prunable_layer_names
from lottery_mia.attack.registry import REFERENCE_ATTACKS
from lottery_mia.config import (
    ConfigError,
    data_settings,
    describe_schema_error,
    sample_counts,
    schema_error_key,
    training_settings,
)
from lottery_mia.pruning_plan import check_exclude_patterns, imp_round, rewind_epoch
from lottery_mia.reference_keep import per_row_variance_problem, reference_count_problem
from lottery_mia.selection import max_sample_count, samples_per_pool


def check_config(
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    pool_sizes: Callable[[str, Mapping[str, Any]], tuple[int, int]] | None,
) -> None:
    """Checks beyond the schema, all before any job runs: per-dataset training overrides, the
    settings the figures and Table 1 need from the grid, and data that is there and large enough
    for every sample count (unless ``pool_sizes`` is None: a cluster job, whose data the main
    process has checked)."""
    problems = [
        *_grid_problems(config),
        *_reference_problems(config),
        *_pruning_problems(config),
    ]
    for dataset in config["datasets"]:
        problems.extend(_override_problems(config, dataset, schema))
        problems.extend(_warmup_problems(config, dataset))
        problems.extend(_rewind_problems(config, dataset))
        if pool_sizes is not None:
            problems.extend(_pool_problems(config, dataset, pool_sizes))
    if problems:
        # One message per key: a shared section's problem is found once per dataset.
        unique = dict.fromkeys(problems)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(unique))


def _grid_problems(config: Mapping[str, Any]) -> list[str]:
    """Keys whose values only fail at the last, figure-drawing jobs unless checked here."""
    problems = []
    attacks = config["grid"]["attacks"]
    if config["figures"]["attack"] not in attacks:
        problems.append(
            f"config key 'figures.attack': {config['figures']['attack']!r} is not in "
            f"grid.attacks {attacks}; expected one of the attacks the grid runs"
        )
    sparsities = config["grid"]["sparsities"]
    if 0 not in sparsities or all(p == 0 for p in sparsities):
        problems.append(
            f"config key 'grid.sparsities': {sparsities}; expected 0 (the dense baseline) and at "
            "least one sparsity > 0 (a ticket), which Figure 3 and Table 1 compare"
        )
    table_attacks = config["figures"]["table_attacks"] or []
    unknown_in_table = [a for a in table_attacks if a not in attacks]
    if unknown_in_table:
        problems.append(
            f"config key 'figures.table_attacks': {unknown_in_table} not in grid.attacks "
            f"{attacks}; expected attacks the grid runs (or null for the default)"
        )
    unknown_transfers = [a for a in config["transfer"]["attacks"] if a not in attacks]
    if unknown_transfers:
        problems.append(
            f"config key 'transfer.attacks': {unknown_transfers} not in grid.attacks {attacks}; "
            "expected attacks the grid runs (a transfer matrix needs the attack's settings and "
            "every model's attack results)"
        )
    palette_problem = _palette_problem(config["figures"]["palette"])
    if palette_problem:
        problems.append(palette_problem)
    if config["figures"]["sparsity"] == 0:
        problems.append(
            "config key 'figures.sparsity': 0; expected the sparsity of a ticket (> 0), which "
            "Figure 3 and Table 1 show"
        )
    return problems


def _reference_problems(config: Mapping[str, Any]) -> list[str]:
    """Reference models: a balanced keep matrix, and references wherever their attacks run."""
    attack, grid = config["attack"], config["grid"]
    count = attack["reference_models"]
    problems = []
    count_problem = reference_count_problem(count)
    if count and count_problem:
        problems.append(
            f"config key 'attack.reference_models': {count}; expected 0 (none) or {count_problem}"
        )
    variance_problem = per_row_variance_problem(attack["lira"]["variance"], count)
    if count and variance_problem:
        problems.append(variance_problem)
    wanted = [name for name in grid["attacks"] if name in REFERENCE_ATTACKS]
    if wanted and not count:
        problems.append(
            f"config key 'attack.reference_models': 0, but grid.attacks has {wanted}; expected "
            "an even number >= 4 of reference models for them"
        )
    for key, grid_key in (("reference_sparsities", "sparsities"), ("reference_archs", "archs")):
        chosen = attack[key]
        if chosen is not None and not set(chosen) <= set(grid[grid_key]):
            problems.append(
                f"config key 'attack.{key}': {chosen}; expected values of grid.{grid_key} "
                f"{grid[grid_key]} (or null = all)"
            )
    shown = config["figures"]["attack"]
    sparsities, archs = attack["reference_sparsities"], attack["reference_archs"]
    missing_sparsity = sparsities is not None and not {0, config["figures"]["sparsity"]} <= set(
        sparsities
    )
    missing_arch = archs is not None and not set(grid["archs"]) <= set(archs)
    if shown in REFERENCE_ATTACKS and (missing_sparsity or missing_arch):
        problems.append(
            f"config key 'figures.attack': {shown!r} needs reference models at sparsities 0 and "
            f"figures.sparsity for every architecture; attack.reference_sparsities is "
            f"{sparsities}, attack.reference_archs {archs}"
        )
    not_transferable = [a for a in config["transfer"]["attacks"] if a in REFERENCE_ATTACKS]
    if not_transferable:
        problems.append(
            f"config key 'transfer.attacks': {not_transferable} read reference models, not one "
            "model's outputs; expected attacks trained on one model's outputs"
        )
    return problems


def _pruning_problems(config: Mapping[str, Any]) -> list[str]:
    """Exclusion patterns that match no layer, and sparsities IMP cannot reach."""
    problems = []
    pruning = config["pruning"]
    for pattern in pruning["exclude"]:
        refusals = {}
        for arch in config["grid"]["archs"]:
            try:
                check_exclude_patterns(prunable_layer_names(arch), [pattern])
            except ValueError as err:
                refusals[arch] = _after_key(err)
        if refusals:
            archs = ", ".join(refusals)
            message = next(iter(refusals.values()))
            problems.append(f"config key 'pruning.exclude' ({archs}): {message}")
    if "imp" in config["grid"]["pruning_methods"]:
        for sparsity in config["grid"]["sparsities"]:
            if sparsity == 0:
                continue
            try:
                imp_round(sparsity, pruning["imp_rate"])
            except ValueError as err:
                problems.append(f"config key 'grid.sparsities' (method imp): {err}")
    return problems


def _after_key(error: ValueError) -> str:
    """The library's message without its leading ``<key>: `` (the gate names the key itself)."""
    message = str(error)
    return message.split(": ", 1)[1] if message.startswith(("pruning.", "training.")) else message


def _rewind_problems(config: Mapping[str, Any], dataset: str) -> list[str]:
    """A rewind epoch the dataset's dense run never reaches."""
    epochs = training_settings(config, dataset)["epochs"]
    try:
        rewind_epoch(config["pruning"]["rewind"], epochs)
    except ValueError as err:
        return [f"config key 'pruning.rewind' (dataset {dataset}): {_after_key(err)}"]
    return []


# Palettes seaborn always has (its own and matplotlib's qualitative maps): naming one skips
# importing seaborn, a second of every Snakefile parse.
KNOWN_PALETTES = frozenset(
    {f"{name}{six}" for name in ("deep", "muted", "pastel", "bright", "dark", "colorblind")
     for six in ("", "6")}
    | {"tab10", "tab20", "tab20b", "tab20c", "Set1", "Set2", "Set3", "Accent", "Paired",
       "Pastel1", "Pastel2", "Dark2", "husl", "hls"}
)  # fmt: skip


def _palette_problem(palette: str) -> str | None:
    """A palette seaborn cannot draw fails the figure jobs at the very end: check it now."""
    if palette in KNOWN_PALETTES:
        return None
    import seaborn  # here, not at the top: only an unusual palette needs it

    try:
        seaborn.color_palette(palette)
    except ValueError as err:
        return f"config key 'figures.palette': {palette!r} is not a seaborn palette ({err})"
    return None


def _override_problems(
    config: Mapping[str, Any], dataset: str, schema: Mapping[str, Any]
) -> list[str]:
    """``datasets.<name>.training`` must obey the ``training`` schema (keys, types, ranges)."""
    override = config["datasets"][dataset].get("training", {})
    validator = jsonschema.Draft202012Validator(schema["$defs"]["training"])
    errors = sorted(validator.iter_errors(override), key=lambda e: list(e.path))
    return [
        f"config key 'datasets.{dataset}.training"
        f"{'.' + schema_error_key(error) if error.absolute_path else ''}': {describe_schema_error(error)}"
        for error in errors
    ]


def _warmup_problems(config: Mapping[str, Any], dataset: str) -> list[str]:
    """The warm-up must end before training does: the schedule after it needs epochs to run in."""
    training = training_settings(config, dataset)
    epochs, warmup = training["epochs"], training["warmup_epochs"]
    if not isinstance(epochs, int) or epochs < 1 or not isinstance(warmup, int) or warmup < epochs:
        return []  # a bad epochs or warmup_epochs value is reported by the schema checks
    override = config["datasets"][dataset].get("training", {})
    overridden = "epochs" in override or "warmup_epochs" in override
    key = f"datasets.{dataset}.training.warmup_epochs" if overridden else "training.warmup_epochs"
    return [
        f"config key '{key}': {warmup} with {epochs} training epochs; "
        "expected fewer warm-up epochs than training epochs"
    ]


def _pool_problems(
    config: Mapping[str, Any],
    dataset: str,
    pool_sizes: Callable[[str, Mapping[str, Any]], tuple[int, int]],
) -> list[str]:
    settings = data_settings(config, dataset)
    try:
        train_size, test_size = pool_sizes(dataset, settings)
    except (OSError, ValueError) as err:  # missing or unreadable data, settings the loader refuses
        missing_root = isinstance(err, OSError) and "root" in settings
        return [f"config key 'datasets.{dataset}{'.root' if missing_root else ''}': {err}"]
    per_pool = samples_per_pool(train_size, test_size, config["outputs"]["max_per_pool"])
    eval_size = config["attack"]["eval_size"]
    largest = max_sample_count(per_pool, eval_size)
    too_large = [n for n in sample_counts(config, dataset) if n > largest]
    if not too_large:
        return []
    own_counts = bool(config["datasets"][dataset].get("sample_counts"))
    key = f"datasets.{dataset}.sample_counts" if own_counts else "grid.sample_counts"
    return [
        f"config key '{key}' (dataset {dataset}): sample count(s) {too_large} need "
        f"n/2 members and n/2 non-members plus attack.eval_size/2 = {eval_size // 2} of each, but "
        f"{dataset} has {train_size} training (member) and {test_size} test (non-member) samples, "
        f"{per_pool} exported per pool: the largest allowed sample count is {largest}"
    ]
