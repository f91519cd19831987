"""Shared statistics: intervals checked against published values."""

import numpy as np
import pandas as pd
import pytest

from helpers import stats


def test_wilson_interval_matches_the_published_values_and_handles_empty_groups():
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775
    low, high = stats.wilson_interval(np.array([81, 0, 0]), np.array([263, 10, 0]))
    assert low[:2] == pytest.approx([0.2553, 0.0], abs=5e-5)
    assert high[:2] == pytest.approx([0.3662, 0.2775], abs=5e-5)
    assert np.isnan(low[2]) and np.isnan(high[2])
    table = stats.rate_table(pd.Series([3, 0]), pd.Series([40, 0]), min_size=30)
    assert table["rate"].tolist()[0] == 0.075 and np.isnan(table["rate"].iloc[1])
    assert table["small_group"].tolist() == [False, True]


def test_poisson_rate_interval_matches_garwood_tables():
    # exact 95% limits for 0, 1 and 10 events (Garwood 1936; e.g. Ulm 1990, Table 1)
    low, high = stats.poisson_rate_interval(np.array([0, 1, 10]), np.array([1, 1, 1]))
    assert low.tolist() == pytest.approx([0.0, 0.0253, 4.7954], abs=1e-4)
    assert high.tolist() == pytest.approx([3.6889, 5.5716, 18.3904], abs=1e-4)
    low, high = stats.poisson_rate_interval(10, 200)  # a rate: limits scale with the exposure
    assert (float(low), float(high)) == pytest.approx((4.7954 / 200, 18.3904 / 200), abs=1e-6)
