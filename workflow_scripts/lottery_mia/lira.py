"""LiRA, the likelihood-ratio attack of Carlini et al. 2022 ("Membership Inference Attacks From
First Principles", IEEE S&P 2022, Algorithm 1).

Statistic: the logit-scaled true-class confidence φ = z_y - logsumexp_{j≠y} z_j of each row
(``membership_signals.logit_scaled_confidence``). For every row x, the reference models that
trained on x (IN, from the keep matrix) and those that did not (OUT) give two samples of φ, each
modelled as a Gaussian.

- Online (Algorithm 1): the log-likelihood ratio
      score(x) = log N(φ_θ(x); μ_in, sigma_in²) - log N(φ_θ(x); μ_out, sigma_out²).
  Natural decision: member iff score > 0 (equal priors). With equal spreads the ratio is linear
  in φ, rising when μ_in > μ_out (training raised the row's confidence). With sigma_in ≠
  sigma_out it is quadratic in φ: it still rises from μ_out to μ_in, but can turn down far
  beyond them (a property of the test, not a sign error).
- Offline (the paper's offline variant, a one-sided test):
      score(x) = log Φ((φ_θ(x) - μ_out) / sigma_out),
  the log of one minus the p-value of "x is OUT"; strictly increasing in φ. We do NOT use the
  released code's -log N(φ; μ_out, sigma_out²), which is two-sided (a row far *below* the OUT
  mean would also look like a member). Natural decision: member iff the one-sided p-value is
  below ``level`` (default 0.5: φ above the OUT mean). Only OUT references are ever read.

Variance: ``per_row`` estimates sigma_in, sigma_out for each row (unbiased; needs ≥ 2 IN and
2 OUT references per row); ``global`` pools the within-row variances over all rows (Σ squared
deviations from each row's own mean / Σ (n_row - 1)), separately for IN and OUT and per query.
The paper recommends a global variance below about 64 references; the authors' code instead
takes the spread of all values across rows, which mixes in between-row variance. Means are
always per row (the paper's per-example difficulty calibration).

Query augmentation (the paper's mirrored/shifted queries): statistics may carry a trailing
query axis Q (e.g. Q = 2: the identity and the horizontally flipped image). Gaussians are
fitted per query and the per-query log-likelihoods (ratios) are averaged, as the paper does.
Shapes: target (rows,) or (rows, Q); references (K, rows) or (K, rows, Q); keep (K, rows) bool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import log_ndtr

Variance = Literal["per_row", "global"]
VARIANCE_KINDS: tuple[Variance, ...] = ("per_row", "global")
#: Smallest standard deviation used: a group whose references agree exactly would divide by 0.
MIN_STD = 1e-4
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


@dataclass(frozen=True)
class Gaussians:
    """Per-row (and per-query) means and standard deviations, shape (rows, Q)."""

    mean: np.ndarray
    std: np.ndarray

    def log_pdf(self, values: np.ndarray) -> np.ndarray:
        standardized = (values - self.mean) / self.std
        return -0.5 * standardized**2 - np.log(self.std) - _LOG_SQRT_2PI

    def log_cdf(self, values: np.ndarray) -> np.ndarray:
        return log_ndtr((values - self.mean) / self.std)


def _with_query_axis(
    target: np.ndarray, references: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate shapes and return target (rows, Q), references (K, rows, Q), keep (K, rows)."""
    target_values = np.asarray(target, dtype=np.float64)
    reference_values = np.asarray(references, dtype=np.float64)
    keep_values = np.asarray(keep)
    if target_values.ndim == 1:
        target_values = target_values[:, None]
    if reference_values.ndim == 2:
        reference_values = reference_values[:, :, None]
    if target_values.ndim != 2 or reference_values.ndim != 3:
        raise ValueError(
            f"target has shape {np.shape(target)} and references {np.shape(references)}; "
            "expected (rows[, Q]) and (K, rows[, Q])"
        )
    if reference_values.shape[1:] != target_values.shape:
        raise ValueError(
            f"references have shape {reference_values.shape}, target {target_values.shape}; "
            "expected references (K, rows, Q) for target (rows, Q)"
        )
    if keep_values.dtype != np.bool_ or keep_values.shape != reference_values.shape[:2]:
        raise ValueError(
            f"keep has shape {keep_values.shape} and dtype {keep_values.dtype}; "
            f"expected bool of shape {reference_values.shape[:2]} (references x rows)"
        )
    for name, values in (("target", target_values), ("references", reference_values)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name} hold {int((~np.isfinite(values)).sum())} non-finite value(s)")
    return target_values, reference_values, keep_values


def fit_gaussians(references: np.ndarray, chosen: np.ndarray, variance: Variance) -> Gaussians:
    """Gaussians of the references' values where ``chosen`` (K, rows) is true, per row and query.

    Unchosen entries are never read (they are replaced, not multiplied, so even a non-finite
    value there could not leak in).
    """
    if variance not in VARIANCE_KINDS:
        raise ValueError(f"LiRA variance is {variance!r}, expected one of {VARIANCE_KINDS}")
    weights = chosen[:, :, None]
    counts = chosen.sum(axis=0)[:, None].astype(np.float64)
    needed = 2 if variance == "per_row" else 1
    if counts.min() < needed:
        raise ValueError(
            f"some row has only {int(counts.min())} reference(s) in a group; {variance} variance "
            f"needs at least {needed} IN and {needed} OUT references per row"
        )
    mean = np.where(weights, references, 0.0).sum(axis=0) / counts
    squares = np.where(weights, (references - mean) ** 2, 0.0).sum(axis=0)
    if variance == "per_row":
        var = squares / (counts - 1)
    else:
        degrees = (counts - 1).sum(axis=0)
        if degrees.min() <= 0:
            raise ValueError("a global variance needs some row with 2 or more references per group")
        var = np.broadcast_to(squares.sum(axis=0) / degrees, mean.shape)
    return Gaussians(mean=mean, std=np.maximum(np.sqrt(var), MIN_STD))


def lira_online(
    target: np.ndarray, references: np.ndarray, keep: np.ndarray, variance: Variance = "global"
) -> np.ndarray:
    """Online LiRA score per row (higher = member): the mean over queries of the log-LR."""
    target_values, reference_values, keep_values = _with_query_axis(target, references, keep)
    inside = fit_gaussians(reference_values, keep_values, variance)
    outside = fit_gaussians(reference_values, ~keep_values, variance)
    ratio = inside.log_pdf(target_values) - outside.log_pdf(target_values)
    return ratio.mean(axis=1)


def lira_offline(
    target: np.ndarray, references: np.ndarray, keep: np.ndarray, variance: Variance = "global"
) -> np.ndarray:
    """Offline, one-sided LiRA score per row: the query mean of log Φ((φ - μ_out) / sigma_out)."""
    target_values, reference_values, keep_values = _with_query_axis(target, references, keep)
    outside = fit_gaussians(reference_values, ~keep_values, variance)
    return outside.log_cdf(target_values).mean(axis=1)


def online_decision(scores: np.ndarray) -> np.ndarray:
    """Member iff the log-likelihood ratio is positive (the likelihood-ratio test, equal priors)."""
    return np.asarray(scores) > 0.0


def offline_decision(scores: np.ndarray, level: float = 0.5) -> np.ndarray:
    """Member iff the one-sided p-value 1 - Φ is below ``level`` (score > log(1 - level))."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level is {level}, expected a probability in (0, 1)")
    return np.asarray(scores) > np.log1p(-level)
