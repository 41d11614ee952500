"""How long attack and transfer jobs take: SLURM time limits that grow with the rows they fit.

An attack job fits the paper's classifiers on n rows of the target's class probabilities, and a
transfer job fits the MLP once per model of its dataset and bootstraps every model pair. On
digits that is seconds; at the paper's ImageNet sizes (n = 98,000 rows of d = 1,000
probabilities) an SVM fit alone takes hours, far beyond a fixed limit, and SLURM would kill the
job after paying for it (twice, with the profile's retry). So the limit is this estimate, never
below the former fixed one (``MIN_MINUTES``).

Fit seconds on one core, power laws fitted to ``benchmarks/attack_fit_time.py`` on the
development machine (a 2-core AMD EPYC) for n up to 8,000 rows and d of 100 and 1,000;
beyond, they are extrapolations and say so (``ESTIMATE``):

- MLP (Adam): linear in n and in its epochs, per row and 300 epochs a + b d, every epoch of
  ``max_iter`` counted (on probability vectors it often does not converge earlier);
- SVM (RBF kernel, libsvm): about n^2.7, linear in d;
- random forest (100 trees): about n^1.3 d^0.4.

The threshold and per-class attacks, LiRA and RMIA fit nothing worth counting. A job's minutes
are ``resources.SAFETY`` x its seconds plus ``resources.STARTUP_MINUTES``, times the attempt.
"""

from __future__ import annotations

from collections.abc import Iterable

from lottery_mia.resources import padded_minutes

ESTIMATE = (
    "estimated: power laws fitted to benchmarks/attack_fit_time.py (n <= 8,000 rows, d = 100 "
    "and 1,000) on a 2-core AMD EPYC, extrapolated beyond"
)
#: The fixed limits these estimates replace (profiles/slurm had them): never ask for less.
MIN_MINUTES = {"run_attacks": 120, "reference_attacks": 30, "transfer": 60}
#: MLP seconds per row and ``MLP_EPOCHS`` epochs: a + b x features.
MLP_ROW_SECONDS = (7.0e-4, 2.8e-6)
MLP_EPOCHS = 300
#: SVM seconds: c x features x (rows / 1000)^p.
SVM_SECONDS = (2.2e-4, 2.7)
#: Random forest seconds: k x (rows / 1000)^p x features^q.
FOREST_SECONDS = (0.073, 1.3, 0.4)
#: Bootstrap seconds per evaluation row of one transfer pair (1,000 resamples, draws shared).
BOOTSTRAP_ROW_SECONDS = 2.0e-5


def fit_seconds(attack: str, rows: int, features: int, mlp_epochs: int = MLP_EPOCHS) -> float:
    """Seconds to fit ``attack`` on ``rows`` rows of ``features`` values, on one core; an MLP
    for at most ``mlp_epochs`` epochs (``attack.mlp.max_iter``)."""
    if attack in ("mlp", "shadow_mlp"):
        per_row, per_value = MLP_ROW_SECONDS
        return rows * (per_row + per_value * features) * mlp_epochs / MLP_EPOCHS
    if attack == "svm":
        scale, power = SVM_SECONDS
        return scale * features * (rows / 1000) ** power
    if attack == "random_forest":
        scale, row_power, feature_power = FOREST_SECONDS
        return scale * (rows / 1000) ** row_power * features**feature_power
    return 0.0


def _minutes(rule: str, seconds: float, attempt: int) -> int:
    return max(MIN_MINUTES[rule] * max(1, attempt), padded_minutes(seconds, attempt))


def attack_minutes(
    rule: str,
    attacks: Iterable[str],
    rows: int,
    features: int,
    attempt: int = 1,
    mlp_epochs: int = MLP_EPOCHS,
) -> int:
    """``runtime`` of a ``run_attacks`` or ``reference_attacks`` job fitting ``attacks`` on
    ``rows`` training rows of ``features`` values."""
    seconds = sum(fit_seconds(attack, rows, features, mlp_epochs) for attack in attacks)
    return _minutes(rule, seconds, attempt)


def transfer_minutes(
    attack: str,
    models: int,
    rows: int,
    features: int,
    eval_size: int,
    attempt: int = 1,
    mlp_epochs: int = MLP_EPOCHS,
) -> int:
    """``runtime`` of a transfer job: ``attack`` fitted once per model on ``rows`` rows, and
    every one of the models^2 pairs scored and bootstrapped on ``eval_size`` rows."""
    seconds = models * fit_seconds(attack, rows, features, mlp_epochs)
    seconds += models**2 * eval_size * BOOTSTRAP_ROW_SECONDS
    return _minutes("transfer", seconds, attempt)
