"""The statistics of the study, in one place: every number the tables and figures show is made here.

Modules by topic (each imports only those above it, so none pulls in matplotlib or a figure):

- ``metrics``: the attack metrics (``METRIC_NAMES``) of evaluation rows, their ROC points, and
  which FPR bounds an evaluation set can resolve.
- ``over_seeds``: a value averaged over training seeds, with an interval counting training and
  row noise (``SeedMean``), a t-interval over seeds alone, and per-group seed means of a summary.
- ``resampling``: the stratified bootstrap (one seeded index matrix), percentile intervals,
  every metric with its interval (``MetricReport``), and per-class AUC.
- ``verdicts``: p-values, Holm's adjustment and the equivalence verdict of ticket - dense.
- ``paired``: ticket - dense on the same rows (``PairedDifference``), the rows' alignment, and
  the comparison of one model pair over seeds.

Definitions and the reasons behind them: ``docs/attacks_and_statistics.md``.
"""
