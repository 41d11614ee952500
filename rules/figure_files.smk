# The files every figure writes, named in one place. A PNG in the report with its caption
# (report/<caption>.rst), a PDF beside it, a log and a benchmark named after the figure.
# A figure is a final target through its own outputs alone. figure_output adds its files to
# FIGURE_TARGETS, which the Snakefile's `all` makes beside grid.final_targets().
from lottery_mia.result_paths import figure_files, figure_paths

FIGURE_TARGETS = []


def figure_output(name, caption, prefix="", target=True, **labels):
    """A figure's outputs, ``png`` (in the report, category Figures) and ``pdf``; ``prefix``
    tells apart the figures of a job that draws several (``exposure_png``, ...). Its files,
    once per dataset for a name with ``{dataset}``, join FIGURE_TARGETS unless ``target`` is
    false (a figure this grid does not draw)."""
    png_path, pdf_path = figure_paths(name)
    if target:
        FIGURE_TARGETS.extend(figure_files(name, config["datasets"]))
    png = report(
        png_path,
        caption=f"../report/{caption}.rst",
        category="Figures",
        **({"labels": labels} if labels else {}),
    )
    return {f"{prefix}png": png, f"{prefix}pdf": pdf_path}


def figure_log(name):
    return f"{LOGS}/figures/{name}.log"


def figure_benchmark(name):
    return f"{BENCHMARKS}/figures/{name}.tsv"
