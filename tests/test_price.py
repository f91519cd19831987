"""Price sensitivity (notebook 06): events by hand, customer measures, truth recovery."""

import numpy as np
import pandas as pd
import pytest

from helpers import price
from helpers.sample import TRUE_ELASTICITY


def _sales(units: dict[tuple[str, str], list[int]]) -> pd.DataFrame:
    """(product, region) -> monthly units from 2024-01 on."""
    rows = [(p, r, pd.Timestamp("2024-01-01") + pd.DateOffset(months=k), u, u, 10.0)
            for (p, r), series in units.items() for k, u in enumerate(series)]
    return pd.DataFrame(rows, columns=["product_id", "region", "month", "units", "buyers",
                                       "line_value"])


def test_difference_in_differences_around_one_price_change_by_hand():
    sales = _sales({("P", "A"): [4, 4, 4, 2, 2, 2], ("P", "B"): [3, 3, 3, 3, 3, 3],
                    ("P", "C"): [5, 5, 5, 7, 7, 7]})
    changes = pd.DataFrame({"product_id": ["P", "P"], "region": ["A", "C"],
                            "effective_date": pd.to_datetime(["2024-04-01", "2024-09-01"]),
                            "old_price": [100.0, 100.0], "new_price": [110.0, 90.0]})
    market = pd.DataFrame([("X", r, pd.Timestamp("2024-01-01") + pd.DateOffset(months=k),
                            100.0 if k < 3 else 105.0) for r in "ABC" for k in range(6)],
                          columns=["category", "region", "month", "index"])
    events = price.price_change_events(changes, sales, market, pd.Series({"P": "X"}), 3)
    assert len(events) == 1  # the September change has no full window inside the data
    event = events.iloc[0]
    assert event["controls"] == 2  # B and C had no change in the window
    assert event["dlog_units_treated"] == pytest.approx(np.log(6.5 / 12.5))
    assert event["dlog_units_control"] == pytest.approx(np.log(15.5 / 12.5))  # mean(9, 21)+0.5
    assert event["did"] == pytest.approx(np.log(6.5 / 12.5) - np.log(15.5 / 12.5))
    assert event["dlog_relative_price"] == pytest.approx(np.log(1.1) - np.log(1.05))
    assert event["direction"] == "increase" and event["buyers_after"] == 6


def test_event_time_profile_leaves_out_the_months_a_derived_change_was_found_in():
    # sold 4 a month, except the two months the change was found in (the last at the old
    # price, 2024-04, and the first at the new price, 2024-05): both had sales by construction
    sales = _sales({("P", "A"): [4, 4, 4, 9, 9, 4, 4, 4], ("P", "B"): [4] * 8})
    derived = pd.DataFrame({"product_id": ["P"], "region": ["A"], "direction": ["increase"],
                            "effective_date": pd.to_datetime(["2024-05-01"]),
                            "last_old_period": pd.to_datetime(["2024-04-01"])})
    profile = price.event_time_profile(derived, sales, window_months=3)
    assert profile.loc["increase"].index.tolist() == [-3, -2, -1, 0, 1, 2]
    assert profile.loc["increase", "treated"].abs().max() == pytest.approx(0.0)  # no spike
    # a delivered change dated 2024-04 keeps its month as event time 0
    delivered = derived.assign(effective_date=pd.to_datetime(["2024-04-01"]),
                               last_old_period=pd.NaT)
    profile = price.event_time_profile(delivered, sales, window_months=3)
    assert profile.loc[("increase", 0), "treated"] == pytest.approx(np.log(9.5 / 4.5))
    assert profile.loc[("increase", -1), "treated"] == 0.0


def test_event_elasticities_recover_a_known_slope():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.1, 400)
    events = pd.DataFrame({"region": np.repeat(["A", "B"], 200),
                           "product_id": [f"P{i % 40}" for i in range(400)],
                           "dlog_price": x + 0.05, "dlog_relative_price": x,
                           "dlog_units_treated": -1.5 * x + rng.normal(0, 0.05, 400),
                           "did": -1.5 * x + rng.normal(0, 0.05, 400)})
    table = price.event_elasticities(events)
    assert table.loc["A", "adjusted_low"] < -1.5 < table.loc["A", "adjusted_high"]
    assert table.loc["B", "adjusted"] == pytest.approx(-1.5, abs=0.1)


def test_customer_measure_shrinks_small_customers_toward_the_average():
    lines = pd.DataFrame({
        "customer_id": ["A", "A", "B", "B", "B", "B"], "product_id": "P", "category": "X",
        "region": "East", "order_date": pd.to_datetime(["2024-01-10"] * 6),
        "unit_price": [90.0, 90.0, 100.0, 100.0, 100.0, 100.0], "list_price": 100.0,
        "is_return": False, "is_estimated": False})
    market = pd.DataFrame({"category": ["X"], "region": ["East"],
                           "month": pd.to_datetime(["2024-01-01"]), "index": [100.0]})
    table = price.customer_price_sensitivity(lines, market, prior_strength=4)
    overall = 2 / 6
    assert table.loc["A", "deal_share"] == pytest.approx((2 + 4 * overall) / (2 + 4))
    assert table.loc["B", "deal_share"] == pytest.approx((0 + 4 * overall) / (4 + 4))
    assert table.loc["A", "price_sensitivity"] > table.loc["B", "price_sensitivity"]


def test_relation_interval_is_fisher_z():
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(size=200))
    dims = pd.DataFrame({"related": x + rng.normal(size=200), "noise": rng.normal(size=200)})
    table = price.relation_to_loyalty(x, dims)
    assert table.loc["related", "spearman"] > 0.5 and table.loc["related", "customers"] == 200
    low, high = table.loc["noise", ["ci_low", "ci_high"]]
    assert low < 0 < high and high - low == pytest.approx(
        np.tanh(np.arctanh(table.loc["noise", "spearman"]) + 1.96 / np.sqrt(197))
        - np.tanh(np.arctanh(table.loc["noise", "spearman"]) - 1.96 / np.sqrt(197)), abs=1e-3)


@pytest.mark.slow
def test_price_change_events_recover_the_regional_elasticities(default_run):
    tables = default_run["tables"]
    lines = tables["order_lines"]
    sales = price.monthly_product_sales(lines)
    categories = lines.drop_duplicates("product_id").set_index("product_id")["category"]
    events = price.price_change_events(tables["price_changes"], sales, tables["market_index"],
                                       categories)
    table = price.event_elasticities(events)
    truth = pd.Series(TRUE_ELASTICITY).reindex(table.index)
    assert ((table["adjusted_low"] <= truth) & (truth <= table["adjusted_high"])).all()
    adjusted_error = (table["adjusted"] - truth).abs().mean()
    naive_error = (table["naive"] - truth).abs().mean()
    assert adjusted_error < naive_error


def test_the_price_headline_never_names_a_region_with_few_price_changes():
    from helpers import story

    events = pd.DataFrame({"events": [2, 80, 90], "adjusted": [-4.0, -1.8, -1.2],
                           "adjusted_low": [-9.0, -2.2, -1.5], "adjusted_high": [1.0, -1.4, -0.9],
                           "small_group": [True, False, False]}, index=["Tiny", "North", "South"])
    relation = pd.DataFrame({"spearman": [0.02]}, index=["recommend"])
    text = story.price.summary_sentence(events, relation)
    assert "react most in North (elasticity -1.8" in text and "least in South" in text
    assert "Tiny" not in text
    alone = story.price.summary_sentence(events.iloc[:2], relation)
    assert "too few price changes in each region" in alone and "North" not in alone


def test_the_elasticity_chart_leaves_small_regions_to_the_table():
    table = pd.DataFrame({"naive": [-1.0, -0.5, 30.0], "naive_low": [-1.5, -0.9, -10.0],
                          "naive_high": [-0.5, -0.1, 70.0], "adjusted": [-0.8, -0.4, 25.0],
                          "adjusted_low": [-1.2, -0.8, -15.0], "adjusted_high": [-0.4, 0.0, 65.0],
                          "small_group": [False, False, True]}, index=["A", "B", "Tiny"])
    views = price.elasticity_views(table)
    assert list(views["naive"].index) == ["A", "B"]
    assert list(price.elasticity_views(table.iloc[1:])["market-adjusted"].index) == ["B", "Tiny"]
