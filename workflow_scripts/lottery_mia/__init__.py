"""lottery_mia: membership-inference attacks on lottery-ticket networks.

The scientific core of the pipeline. Every module is importable without Snakemake;
the scripts in ``workflow_scripts/`` only adapt the ``snakemake`` object to these functions.
"""

__version__ = "0.1.0"
