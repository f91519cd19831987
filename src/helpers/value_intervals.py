"""Customer value with its uncertainty (notebook 03): how much the fitted value models'
parameters could differ, carried to each customer's expected purchases and value, to the
expected revenue of all customers and to the value tiers.

The parameters' uncertainty is their covariance from the log-likelihood's Hessian
(``value_models.log_parameter_covariance``, on log scale: the parameters stay positive).
Each customer's interval comes from the delta method (the gradient of the expectation in the
log-parameters); the revenue's interval and the tiers' stability from ``draws`` parameter sets
drawn from the estimates' normal distribution. The purchase and spend models are fitted apart,
so their parameters are drawn independently. This is the uncertainty of the *expectations*: a
single customer's actual purchases scatter far more widely around them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers import progress
from helpers import value_models as vm


def tier_labels(tiers: tuple[float, ...]) -> list[str]:
    """The tier names for cuts such as (0.5, 0.8, 0.95): 'top 5%', 'next 15%', 'next 30%',
    'other 50%'."""
    cuts = sorted(tiers, reverse=True)
    labels = [f"top {1 - cuts[0]:.0%}"] + [f"next {hi - lo:.0%}" for hi, lo in
                                           itertools.pairwise(cuts)]
    return [*labels, f"other {cuts[-1]:.0%}"]


def assign_tiers(expected_value: np.ndarray, tiers: tuple[float, ...]) -> np.ndarray:
    """Each customer's tier number (0 = the most valuable) by the rank of its expected value
    (ties in order of appearance)."""
    order = np.argsort(-np.asarray(expected_value), kind="stable")
    share = np.empty(len(order))
    share[order] = np.arange(1, len(order) + 1) / len(order)
    bounds = np.round([1 - c for c in sorted(tiers, reverse=True)], 12)  # 1 - 0.9 is 0.1
    return np.searchsorted(bounds, np.round(share, 12), side="left")


def _log_gradient(function: Callable[[dict], np.ndarray], params: dict,
                  names: tuple[str, ...], step: float = 1e-5) -> np.ndarray:
    """d function / d log(parameter) for each named parameter (central differences): one
    column per parameter, one row per customer."""
    columns = []
    for name in names:
        up, down = dict(params), dict(params)
        up[name], down[name] = params[name] * np.exp(step), params[name] * np.exp(-step)
        columns.append((function(up) - function(down)) / (2 * step))
    return np.column_stack(columns)


def _draws(params: dict, covariance: np.ndarray, names: tuple[str, ...], count: int,
           rng: np.random.Generator) -> list[dict]:
    centre = np.log([params[n] for n in names])
    return [dict(params, **dict(zip(names, np.exp(row), strict=True)))
            for row in rng.multivariate_normal(centre, covariance, size=count)]


def value_intervals(summary: pd.DataFrame, purchases: dict, spend: dict, horizon_weeks: float,
                    tiers: tuple[float, ...], confidence: float = 0.95, draws: int = 100,
                    seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Intervals of each customer's expected purchases and value, and how stable each
    customer's tier is, from the parameters' uncertainty (module docstring).

    Returns (a table indexed like ``summary``: expected_purchases_low/high,
    expected_value_low/high, tier_kept = share of the parameter draws that keep the customer
    in its tier; and the expected revenue of all customers with its interval: revenue,
    revenue_low, revenue_high, draws)."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2)
    cov_purchases = vm.log_parameter_covariance(summary, purchases)
    cov_spend = vm.log_parameter_covariance(summary, spend)

    pairs = vm.frequency_age_pairs(summary)  # once for the ~110 parameter sets below

    def expected_purchases(params: dict) -> np.ndarray:
        return vm.bgnbd_expected_purchases(params, summary, horizon_weeks, pairs).to_numpy()

    def expected_spend(params: dict) -> np.ndarray:
        return vm.gamma_gamma_expected_spend(params, summary).to_numpy()

    n, s = expected_purchases(purchases), expected_spend(spend)
    grad_n = _log_gradient(expected_purchases, purchases, vm.BGNBD_NAMES)
    grad_s = _log_gradient(expected_spend, spend, vm.GAMMA_GAMMA_NAMES)
    var_n = np.einsum("ij,jk,ik->i", grad_n, cov_purchases, grad_n)
    var_s = np.einsum("ij,jk,ik->i", grad_s, cov_spend, grad_s)
    value = n * s
    # intervals on the log scale (expectations are positive): relative standard errors
    rel_n = np.sqrt(np.clip(var_n, 0, None)) / n
    rel_v = np.sqrt(np.clip(var_n / n ** 2 + var_s / s ** 2, 0, None))
    table = pd.DataFrame({
        "expected_purchases_low": n * np.exp(-z * rel_n),
        "expected_purchases_high": n * np.exp(z * rel_n),
        "expected_value_low": value * np.exp(-z * rel_v),
        "expected_value_high": value * np.exp(z * rel_v)}, index=summary.index)
    rng = np.random.default_rng(seed)
    tier_now = assign_tiers(value, tiers)
    kept = np.zeros(len(value))
    totals = []
    parameter_sets = zip(_draws(purchases, cov_purchases, vm.BGNBD_NAMES, draws, rng),
                         _draws(spend, cov_spend, vm.GAMMA_GAMMA_NAMES, draws, rng), strict=True)
    for drawn_n, drawn_s in progress.steps(parameter_sets, "customer value: parameter draws",
                                           total=draws):
        drawn_value = expected_purchases(drawn_n) * expected_spend(drawn_s)
        kept += assign_tiers(drawn_value, tiers) == tier_now
        totals.append(float(drawn_value.sum()))
    table["tier_kept"] = kept / draws
    low, high = np.quantile(totals, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return table, {"revenue": float(value.sum()), "revenue_low": float(low),
                   "revenue_high": float(high), "draws": draws}
