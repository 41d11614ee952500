"""``make plan``'s printed tables and ``results/plan.json``, from a ``CostPlan`` and a
``PowerPlan``; formatting only, every number comes from ``plan`` and ``power``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lottery_mia.attack_cost import ESTIMATE
from lottery_mia.exposure import MIN_TOP_K
from lottery_mia.plan import CostPlan, RateUse, StageHours
from lottery_mia.plan_resolution import Resolution
from lottery_mia.power import PowerPlan, RowForecast
from lottery_mia.stats.metrics import FPR_BOUNDS
from lottery_mia.stats.resampling import MIN_CLASS_ROWS

ESTIMATE_MARK = "*"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Columns padded to their widest cell; text left, numbers right."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(_is_number(row[i]) for row in cells[1:]) for i in range(len(header))]
    return [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in cells
    ]


def _is_number(text: str) -> bool:
    if text == "-":  # a number that does not apply
        return True
    return text.replace(".", "", 1).replace(ESTIMATE_MARK, "").replace(",", "").isdigit()


def _hours(value: float) -> str:
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.2g}"


def _bytes(value: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _gpu_cell(row: StageHours, value: float) -> str:
    return _hours(value) + (ESTIMATE_MARK if row.estimated and row.gpu_jobs else "")


def cost_lines(cost: CostPlan, config_name: str) -> list[str]:
    return [
        f"Plan of {config_name}: {cost.total_jobs} jobs (Snakemake's DAG under "
        "profiles/slurm, every job counted as if nothing had run)",
        "",
        *_rule_lines(cost),
        "",
        *_hours_lines(cost),
        "",
        *_disk_lines(cost),
        "",
        *_rate_lines(cost),
        "",
        "Planned before the data is on disk; skipped checks:",
        *[f"  - {check}" for check in cost.skipped_checks],
    ]


def _rule_lines(cost: CostPlan) -> list[str]:
    def row(rule: str, n: int) -> list[Any]:
        if rule in cost.local_rules:  # run by Snakemake itself: no request reaches SLURM
            return [rule, n, "login node", "-", "-"]
        return [rule, n, "SLURM", cost.peak_mem_mb[rule], cost.peak_runtime_minutes[rule]]

    rows = [row(rule, n) for rule, n in cost.jobs_per_rule.items()]
    return [
        "Jobs and peak memory and runtime request per rule (first attempt; login-node jobs "
        "request nothing: -)",
        *_table(["rule", "jobs", "runs on", "peak mem_mb", "peak runtime min"], rows),
    ]


def _hours_row(row: StageHours) -> list[Any]:
    return [
        row.dataset,
        row.stage,
        row.jobs,
        row.gpu_jobs,
        _gpu_cell(row, row.gpu_hours_requested),
        _gpu_cell(row, row.gpu_hours_at_table_rates),
        _hours(row.cpu_hours_requested),
        ", ".join(row.rate_kinds) or "-",
    ]


def _hours_lines(cost: CostPlan) -> list[str]:
    header = [
        "dataset", "stage", "jobs", "GPU jobs", "GPU-h requested", "GPU-h at table rates",
        "CPU-h requested", "rate sources",
    ]  # fmt: skip
    total = [
        "total",
        "",
        cost.total_jobs,
        sum(row.gpu_jobs for row in cost.hours),
        _hours(cost.total("gpu_hours_requested")),
        _hours(cost.total("gpu_hours_at_table_rates")),
        _hours(cost.total("cpu_hours_requested")),
        "",
    ]
    shared = []
    if cost.trainings_per_gpu > 1:
        g, s = cost.trainings_per_gpu, cost.sharing_slowdown
        shared = [
            f"Training and export jobs share a GPU, {g} to one SLURM allocation "
            f"(compute.trainings_per_gpu): a bundle holds one GPU for its longest member at "
            f"{s:g} x its time alone (compute.sharing_slowdown, the contention factor), a bundle "
            f"short of {g} as long as a full one.",
        ]
    return [
        "Hours per dataset and stage. GPU-h requested: the GPU jobs' runtime requests; at table "
        "rates: their compute time alone (no safety margin, no start-up). CPU-h: runtime x "
        "threads of the CPU jobs SLURM runs; the attack and transfer runtimes rest on fit times "
        f"{ESTIMATE} (lottery_mia/attack_cost.py).",
        *shared,
        *_table(header, [*[_hours_row(row) for row in cost.hours], total]),
        f"{ESTIMATE_MARK} rests on an estimated rate (or on the JPEG-decoding cap): replace it "
        "with benchmarks/gpu_check.sh's measurement on the cluster's GPU",
    ]


def _disk_lines(cost: CostPlan) -> list[str]:
    rows = [[kind, _bytes(size)] for kind, size in cost.disk_bytes.items()]
    return [
        "Disk of the results, from shapes (epoch checkpoints while training, logs and figures "
        "not counted)",
        *_table(["kind", "size"], [*rows, ["total", _bytes(sum(cost.disk_bytes.values()))]]),
    ]


def _rate_row(rate: RateUse) -> list[Any]:
    capped = "; capped by JPEG decoding" if rate.capped_by_jpeg_decoding else ""
    return [
        rate.device,
        rate.dataset,
        rate.arch,
        f"{rate.train_images_per_second:,.0f}",
        f"{rate.infer_images_per_second:,.0f}",
        rate.kind,
        rate.source + capped,
    ]


def _rate_lines(cost: CostPlan) -> list[str]:
    header = ["device", "dataset", "arch", "train", "infer", "kind", "source"]
    return [
        "Rates (images/s) behind the training and export jobs",
        *_table(header, [_rate_row(rate) for rate in cost.rates]),
    ]


def _resolution_row(row: Resolution) -> list[Any]:
    return [
        row.dataset, row.scoring, f"{row.members:,}", f"{row.non_members:,}",
        *("yes" if row.tpr_resolved[name] else "NaN" for name in FPR_BOUNDS),
        row.classes, f"{row.members_per_class:,.1f}", f"{row.share_of_classes_with_auc:.0%}",
        row.top_k, "yes" if row.jaccard_resolved else "NaN",
    ]  # fmt: skip


def resolution_lines(rows: Sequence[Resolution]) -> list[str]:
    """What the scored rows resolve: a "NaN" here is NaN in every table and figure of the run."""
    bounds = [f"TPR at {bound:.1%} FPR".replace(".0%", "%") for bound in FPR_BOUNDS.values()]
    header = [
        "dataset", "scored rows", "members", "non-members", *bounds, "classes",
        "members per class", "classes with an AUC", "exposure top k", "top-k Jaccard",
    ]  # fmt: skip
    return [
        "What the evaluation rows resolve (NaN: reported as NaN, however long the run): TPR at a "
        "bound needs more non-members than 1 / bound; a class's AUC needs "
        f"{MIN_CLASS_ROWS} evaluated members and {MIN_CLASS_ROWS} non-members (expected share of "
        f"balanced classes); a top-k Jaccard needs k >= {MIN_TOP_K} "
        "(attack.eval_size, outputs.max_per_pool and figures.exposure_top_fraction set them)",
        *_table(header, [_resolution_row(row) for row in rows]),
    ]


def _maybe(value: float | int | None, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def _forecast_cells(row: RowForecast) -> list[Any]:
    powered = {True: "yes", False: "no", None: "?"}[row.powered]
    return [
        row.attack, row.dataset, row.arch, row.n_samples,
        f"{row.pilot_rows}/{row.pilot_seeds}", f"{row.pilot_half_width:.4f}",
        f"{row.rows}/{row.seeds}", _maybe(row.half_width, ".4f"), powered,
        _maybe(row.min_eval_size), row.largest_eval_size, _maybe(row.min_seeds),
    ]  # fmt: skip


def power_lines(power: PowerPlan, pilot_name: str) -> list[str]:
    header = [
        "attack", "dataset", "arch", "n", "pilot rows/seeds", "pilot half-width",
        "rows/seeds", "predicted half-width", "80% power", "min eval_size", "pool max",
        "min seeds",
    ]  # fmt: skip
    notes = [
        f"  {row.attack} {row.dataset} {row.arch} n={row.n_samples}: {row.note}"
        for row in power.rows
        if row.note
    ]
    return [
        f"Power, from the pilot {pilot_name}: Table 1's 90% half-width of the AUC difference "
        f"ticket - dense at eval_size {power.eval_size} and {power.seeds} seed(s); "
        f"`equivalent` within ±{power.margin:g} with 80% power at a true difference of 0 needs "
        f"SE <= {power.needed_standard_error:.4f} (one seed; t quantiles for several).",
        *_table(header, [_forecast_cells(row) for row in power.rows]),
        "min eval_size: at the config's seeds; min seeds: at the config's eval_size; "
        "pool max: the largest eval_size the pool allows with the largest sample count.",
        *(["Rows that cannot get there:", *notes] if notes else []),
    ]


def plan_document(
    config_name: str,
    cost: CostPlan,
    resolution: Sequence[Resolution],
    power: PowerPlan | None,
    pilot_name: str | None,
) -> dict[str, Any]:
    """results/plan.json: the same numbers as the printed tables."""
    return {
        "config": config_name,
        **cost.as_dict(),
        "resolution": [row.as_dict() for row in resolution],
        "power": None if power is None else {"pilot": pilot_name, **power.as_dict()},
    }
