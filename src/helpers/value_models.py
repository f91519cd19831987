"""The customer-value models: BG/NBD purchases (Fader, Hardie and Lee 2005, "Counting your
customers the easy way") and Gamma-Gamma spend (Fader and Hardie 2013), fitted by maximum
likelihood with scipy over ``behaviour.rfm_summary``'s columns; tests reproduce the published
CDNOW estimates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import optimize, special


def _bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                          t: np.ndarray, distinct: tuple[np.ndarray, np.ndarray] | None = None
                          ) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood. The gamma and beta functions depend on x alone,
    which takes few values: ``distinct`` (the distinct x and each customer's position among
    them, ``np.unique(x, return_inverse=True)``) has them computed once per value."""
    r, alpha, a, b = params
    values, position = distinct if distinct is not None else np.unique(x, return_inverse=True)
    beta_ratio = special.betaln(a, b + values) - special.betaln(a, b)
    common = special.gammaln(r + values) - special.gammaln(r) + r * np.log(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        repeat = np.where(values > 0, special.betaln(a + 1, b + values - 1)
                          - special.betaln(a, b) + common, -np.inf)
    term1 = (beta_ratio + common)[position] - (r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        term2 = np.where(x > 0, repeat[position] - (r + x) * np.log(alpha + t_x), -np.inf)
    return np.logaddexp(term1, term2)


def _maximum_likelihood(negative_mean: Callable[[np.ndarray], float],
                        start: np.ndarray) -> np.ndarray:
    """The log-parameters minimising a *mean* (per customer) negative log-likelihood: L-BFGS-B
    with a numerical gradient. On the mean, its tolerances mean the same at 2,000 and at
    2,000,000 customers (a summed log-likelihood with an absolute tolerance, as Nelder-Mead
    had it, kept a 640,000-customer fit iterating for 15 minutes)."""
    best = optimize.minimize(negative_mean, start, method="L-BFGS-B",
                             options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 2000})
    return best.x


def fit_bgnbd(summary: pd.DataFrame) -> dict[str, float]:
    """Maximum-likelihood BG/NBD parameters r, alpha, a, b (Fader, Hardie and Lee 2005) from
    ``rfm_summary`` columns frequency, recency, T; also the log-likelihood. Customers with the
    same (frequency, recency, T) share one term weighted by their count."""
    negative_mean, total, mean_t = _bgnbd_objective(summary)
    best = _maximum_likelihood(negative_mean, np.log([0.5, max(mean_t / 5, 1.0), 1.0, 1.0]))
    r, alpha, a, b = np.exp(best)
    return {"r": r, "alpha": alpha, "a": a, "b": b,
            "log_likelihood": -negative_mean(best) * total}


def _bgnbd_objective(summary: pd.DataFrame) -> tuple[Callable[[np.ndarray], float], float,
                                                     float]:
    """The BG/NBD mean negative log-likelihood of the log-parameters, the number of customers
    and their mean T (customers with the same summary share one weighted term)."""
    grouped = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="count")
    x, t_x, t, count = (grouped[c].to_numpy(float) for c in ["frequency", "recency", "T",
                                                             "count"])
    total = float(count.sum())
    distinct = np.unique(x, return_inverse=True)

    def negative_mean(log_params: np.ndarray) -> float:
        return -(count * _bgnbd_log_likelihood(np.exp(log_params), x, t_x, t, distinct)
                 ).sum() / total

    return negative_mean, total, float(t.mean())


def bgnbd_p_alive(params: dict, summary: pd.DataFrame) -> pd.Series:
    """P(the customer is still active | x, t_x, T) under the BG/NBD model."""
    r, alpha, a, b = (params[k] for k in ["r", "alpha", "a", "b"])
    x, t_x, t = (summary[c].to_numpy(float) for c in ["frequency", "recency", "T"])
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, a / (b + x - 1) * ((alpha + t) / (alpha + t_x)) ** (r + x), 0.0)
    return pd.Series(1 / (1 + odds), index=summary.index, name="p_alive")


def frequency_age_pairs(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (frequency, T) pairs of ``summary`` and each customer's position among
    them: the expected purchases' hypergeometric function depends on these two alone, and
    640,000 customers share about 30,000 pairs."""
    x, t = summary["frequency"].to_numpy(float), summary["T"].to_numpy(float)
    pairs, position = np.unique(np.column_stack([x, t]), axis=0, return_inverse=True)
    return pairs[:, 0], pairs[:, 1], position.ravel()


def bgnbd_expected_purchases(params: dict, summary: pd.DataFrame, horizon: float,
                             pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                             ) -> pd.Series:
    """Expected purchases in the next ``horizon`` (same unit as T) given x, t_x, T (Fader,
    Hardie and Lee 2005, equation 10). ``pairs``: ``frequency_age_pairs(summary)``, computed
    once when the expectation is asked of many parameter sets."""
    r, alpha, a, b = (params[k] for k in ["r", "alpha", "a", "b"])
    x, t, position = pairs if pairs is not None else frequency_age_pairs(summary)
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, horizon / (alpha + t + horizon))
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * hyper
    expected = (head * body)[position] * bgnbd_p_alive(params, summary).to_numpy()
    return pd.Series(expected, index=summary.index, name="expected_purchases")


def _spend_observations(summary: pd.DataFrame) -> pd.Series:  # zero-value days left out
    return summary["spend_days"] if "spend_days" in summary else summary["frequency"]


def fit_gamma_gamma(summary: pd.DataFrame) -> dict[str, float]:
    """Maximum-likelihood Gamma-Gamma spend parameters p, q, gamma (Fader and Hardie 2013)
    from repeat customers' number of spend observations (``spend_days`` where the summary has
    it, else frequency) and monetary_value (must be positive)."""
    negative_mean, total, mean_m = _gamma_gamma_objective(summary)
    best = _maximum_likelihood(negative_mean, np.log([1.0, 1.0, max(mean_m, 1.0)]))
    p, q, gamma = np.exp(best)
    return {"p": p, "q": q, "gamma": gamma, "log_likelihood": -negative_mean(best) * total}


def _gamma_gamma_objective(summary: pd.DataFrame) -> tuple[Callable[[np.ndarray], float],
                                                           float, float]:
    """The Gamma-Gamma mean negative log-likelihood of the log-parameters, the number of
    spend observations' customers and their mean spend."""
    spends = _spend_observations(summary)
    keep = (spends > 0) & (summary["monetary_value"] > 0)
    x = spends[keep].to_numpy(float)
    m = summary.loc[keep, "monetary_value"].to_numpy(float)

    def negative_mean(log_params: np.ndarray) -> float:
        p, q, gamma = np.exp(log_params)
        ll = (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
              + q * np.log(gamma) + (p * x - 1) * np.log(m) + p * x * np.log(x)
              - (p * x + q) * np.log(gamma + x * m))
        return -ll.mean()

    return negative_mean, float(len(x)), float(m.mean())


def hessian(function: Callable[[np.ndarray], float], point: np.ndarray,
            step: float = 1e-4) -> np.ndarray:
    """The matrix of second derivatives of ``function`` at ``point`` (central differences)."""
    point = np.asarray(point, float)
    k = len(point)
    out = np.empty((k, k))
    unit = np.eye(k) * step
    for i in range(k):
        for j in range(i, k):
            out[i, j] = out[j, i] = (
                function(point + unit[i] + unit[j]) - function(point + unit[i] - unit[j])
                - function(point - unit[i] + unit[j]) + function(point - unit[i] - unit[j])
            ) / (4 * step ** 2)
    return out


BGNBD_NAMES, GAMMA_GAMMA_NAMES = ("r", "alpha", "a", "b"), ("p", "q", "gamma")


def log_parameter_covariance(summary: pd.DataFrame, params: dict) -> np.ndarray:
    """Covariance of the log-parameters of a fitted model (BG/NBD when ``params`` has r, else
    Gamma-Gamma): the inverse of the log-likelihood's Hessian at the estimate (the
    observed information)."""
    bgnbd = "r" in params
    negative_mean, total, _ = (_bgnbd_objective if bgnbd else _gamma_gamma_objective)(summary)
    names = BGNBD_NAMES if bgnbd else GAMMA_GAMMA_NAMES
    point = np.log([params[n] for n in names])
    return np.linalg.inv(total * hessian(negative_mean, point))


def gamma_gamma_expected_spend(params: dict, summary: pd.DataFrame) -> pd.Series:
    """Expected spend per purchase given x and the mean spend (population mean when x = 0)."""
    p, q, gamma = params["p"], params["q"], params["gamma"]
    x = _spend_observations(summary).to_numpy(float)
    m = summary["monetary_value"].to_numpy(float)
    expected = (gamma + x * m) * p / (p * x + q - 1)
    return pd.Series(expected, index=summary.index, name="expected_spend")
