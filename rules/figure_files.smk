# The files every figure writes, named in one place. A PNG in the report with its caption
# (report/<caption>.rst), a PDF beside it, a log and a benchmark named after the figure.


def figure_output(name, caption, prefix="", **labels):
    """A figure's outputs, ``png`` (in the report, category Figures) and ``pdf``; ``prefix``
    tells apart the figures of a job that draws several (``exposure_png``, ...)."""
    png = report(
        f"{FIGURES}/{name}.png",
        caption=f"../report/{caption}.rst",
        category="Figures",
        **({"labels": labels} if labels else {}),
    )
    return {f"{prefix}png": png, f"{prefix}pdf": f"{FIGURES}/{name}.pdf"}


def figure_log(name):
    return f"{LOGS}/figures/{name}.log"


def figure_benchmark(name):
    return f"{BENCHMARKS}/figures/{name}.tsv"
