"""Statistics shared by the stages: intervals for rates and means, small-group flags.

Well-kept libraries do the work (statsmodels); these wrappers fix the conventions of the workbook:
every rate travels with its denominator and interval, NaN where there is no denominator, and
a flag for groups too small to read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def wilson_interval(successes: pd.Series | np.ndarray | int, trials: pd.Series | np.ndarray | int,
                    confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (statsmodels); NaN where trials == 0."""
    from statsmodels.stats.proportion import proportion_confint

    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    safe = np.where(trials > 0, trials, 1)
    low, high = proportion_confint(successes, safe, alpha=1 - confidence, method="wilson")
    return np.where(trials > 0, low, np.nan), np.where(trials > 0, high, np.nan)


def poisson_rate_interval(events: pd.Series | np.ndarray | int,
                          exposure: pd.Series | np.ndarray | int,
                          confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson rate ``events / exposure``; the lower bound is 0
    when no event was seen."""
    from scipy.stats import chi2

    k = np.asarray(events, dtype=float)
    n = np.asarray(exposure, dtype=float)
    alpha = 1 - confidence
    low = np.where(k > 0, chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low / n, high / n


def rate_table(successes: pd.Series, trials: pd.Series, *, confidence: float = 0.95,
               min_size: int = 30) -> pd.DataFrame:
    """successes, trials, rate, ci_low, ci_high and small_group (trials < min_size)."""
    low, high = wilson_interval(successes, trials, confidence)
    out = pd.DataFrame({"successes": successes, "trials": trials})
    out["rate"] = (out["successes"] / out["trials"]).where(out["trials"] > 0)
    out["ci_low"], out["ci_high"] = low, high
    out["small_group"] = out["trials"] < min_size
    return out


def mean_table(frame: pd.DataFrame, value: str, by: str | list[str], confidence: float = 0.95,
               min_size: int = 30) -> pd.DataFrame:
    """Per group: n, mean of ``value`` with a t interval, and small_group (n < ``min_size``)."""
    from scipy import stats as sps

    grouped = frame.groupby(by)[value]
    out = grouped.agg(["size", "mean", "std"]).rename(columns={"size": "n"})
    dof = (out["n"] - 1).clip(lower=1)
    half = sps.t.ppf(0.5 + confidence / 2, dof) * out["std"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    out["small_group"] = out["n"] < min_size
    return out.drop(columns="std")
