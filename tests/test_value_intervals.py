"""Customer value with its uncertainty: the parameters' standard errors from the likelihood's
Hessian against lifetimes' published CDNOW summaries, the Hessian on a case known in closed
form, and the intervals, revenue and tier stability built on them."""

import numpy as np
import pandas as pd
import pytest

from helpers import value_intervals, value_models
from tests.test_behaviour import cdnow  # noqa: F401  (the CDNOW fixture)


def test_the_hessian_of_an_exponential_likelihood_is_its_information():
    """Exp(rate) data, log-rate theta: the mean negative log-likelihood -theta + e^theta x_bar
    has second derivative e^theta x_bar, which is 1 at the estimate (rate = 1 / x_bar)."""
    x_bar = 2.5
    curvature = value_models.hessian(lambda t: -t[0] + np.exp(t[0]) * x_bar,
                                     np.array([np.log(1 / x_bar)]))
    assert curvature[0, 0] == pytest.approx(1.0, abs=1e-6)


def test_standard_errors_reproduce_lifetimes_published_cdnow_summaries(cdnow):  # noqa: F811
    """lifetimes' documentation prints BetaGeoFitter and GammaGammaFitter summaries on CDNOW:
    se r 0.012557, alpha 0.378221, a 0.185719, b 0.705345; p 1.189687, q 0.290166, v 4.159994
    (the delta method takes our log-scale covariance to the parameters' scale)."""
    for fit, names, published in [
            (value_models.fit_bgnbd, value_models.BGNBD_NAMES,
             [0.012557, 0.378221, 0.185719, 0.705345]),
            (value_models.fit_gamma_gamma, value_models.GAMMA_GAMMA_NAMES,
             [1.189687, 0.290166, 4.159994])]:
        params = fit(cdnow)
        covariance = value_models.log_parameter_covariance(cdnow, params)
        errors = [params[n] * np.sqrt(covariance[i, i]) for i, n in enumerate(names)]
        assert errors == pytest.approx(published, rel=2e-3)


def test_tiers_follow_the_rank_of_the_expected_value():
    values = np.array([5.0, 50.0, 1.0, 20.0, 20.0, 3.0, 8.0, 2.0, 9.0, 4.0])
    tiers = value_intervals.assign_tiers(values, (0.5, 0.8, 0.9))
    labels = value_intervals.tier_labels((0.5, 0.8, 0.9))
    assert labels == ["top 10%", "next 10%", "next 30%", "other 50%"]
    # ranks: 50 (1), 20 (2), 20 (3), 9, 8, 5, 4, 3, 2, 1
    assert tiers.tolist() == [3, 0, 3, 1, 2, 3, 2, 3, 2, 3]


def test_intervals_hold_the_expectations_and_narrow_with_more_customers(cdnow):  # noqa: F811
    purchases = value_models.fit_bgnbd(cdnow)
    spend = value_models.fit_gamma_gamma(cdnow)
    table, revenue = value_intervals.value_intervals(cdnow, purchases, spend, 39.0,
                                                     (0.5, 0.8, 0.95), draws=60)
    expected = value_models.bgnbd_expected_purchases(purchases, cdnow, 39.0)
    assert (table["expected_purchases_low"] < expected).all()
    assert (expected < table["expected_purchases_high"]).all()
    assert revenue["revenue_low"] < revenue["revenue"] < revenue["revenue_high"]
    assert table["tier_kept"].between(0, 1).all() and table["tier_kept"].mean() > 0.8
    # the same customers ten times over: the parameters are sqrt(10) times surer
    tenfold = pd.concat([cdnow] * 10, ignore_index=True)
    wide, _ = value_intervals.value_intervals(tenfold, purchases, spend, 39.0,
                                              (0.5, 0.8, 0.95), draws=10)
    ratio = ((table["expected_value_high"] - table["expected_value_low"]).iloc[:50].to_numpy()
             / (wide["expected_value_high"] - wide["expected_value_low"]).iloc[:50].to_numpy())
    assert np.median(ratio) == pytest.approx(np.sqrt(10), rel=0.02)
