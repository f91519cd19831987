"""Discounts (notebook 06): the response of units to discount depth with two-way fixed effects,
checked on an exact panel, against statsmodels with every dummy written out, and on the sample
(whose discounts are drawn independently of the quantity: a true response of zero); each
customer's discount dependence by hand."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from helpers import discounts, price


def _lines(rows: list[tuple]) -> pd.DataFrame:
    """Order lines from (product, region, month, quantity, list price, unit price, customer)."""
    frame = pd.DataFrame(rows, columns=["product_id", "region", "month", "quantity",
                                        "list_price", "unit_price", "customer_id"])
    return frame.assign(order_date=pd.to_datetime(frame.pop("month") + "-15"),
                        is_return=False, is_estimated=False)


def _panel(slope: float, noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Cells whose log units are product-region + month effects + slope x depth (+ noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    for p in range(8):
        for region in ["North", "South"]:
            level = rng.normal(3, 0.5)
            for k, month in enumerate(months):
                depth = [0.0, 0.0, 0.1, 0.0, 0.2, 0.05][(k + p) % 6]
                units = np.exp(level + 0.1 * np.sin(k) + slope * depth
                               + noise * rng.normal())
                rows.append({"product_id": f"P{p}", "region": region, "month": month,
                             "units": units, "depth": depth})
    return pd.DataFrame(rows)


def test_an_exact_panel_gives_its_slope_back():
    table = discounts.discount_response(_panel(slope=2.0))
    assert table.loc["all regions", "slope"] == pytest.approx(2.0, abs=1e-8)
    assert table.loc["North", "units_change"] == pytest.approx(np.expm1(0.2), abs=1e-8)
    assert table.loc["all regions", "product_regions"] == 16


def test_the_slope_is_the_one_of_a_regression_on_every_dummy():
    cells = _panel(slope=1.5, noise=0.3, seed=4)
    ours = discounts.discount_response(cells).loc["all regions", "slope"]
    cells = cells.assign(log_units=np.log(cells["units"]),
                         pair=cells["product_id"] + cells["region"],
                         month=cells["month"].astype(str))
    full = smf.ols("log_units ~ depth + C(pair) + C(month)", cells).fit()
    assert ours == pytest.approx(full.params["depth"], abs=1e-8)


def test_depth_is_one_minus_paid_over_list_value():
    lines = _lines([("A", "North", "2024-01", 2, 10.0, 9.0, "C1"),
                    ("A", "North", "2024-01", 2, 10.0, 10.0, "C2"),
                    ("A", "North", "2024-02", 1, 10.0, 10.0, "C1")])
    cells = discounts.discount_cells(lines).set_index("month")
    assert cells["depth"].tolist() == pytest.approx([0.05, 0.0])
    assert cells["units"].tolist() == [4, 1]
    assert discounts.list_prices_delivered(lines)
    assert not discounts.list_prices_delivered(lines.assign(list_price=lines["unit_price"]))


def test_discount_dependence_is_the_shrunk_share_of_spend_on_discount():
    lines = _lines([("A", "North", "2024-01", 1, 10.0, 8.0, "C1"),
                    ("A", "North", "2024-01", 1, 10.0, 10.0, "C1"),
                    ("A", "North", "2024-01", 2, 10.0, 10.0, "C2")])
    raw = discounts.discount_dependence(lines, prior_strength=0.0)
    assert raw["C1"] == pytest.approx(8 / 18) and raw["C2"] == 0.0
    shrunk = discounts.discount_dependence(lines, prior_strength=20.0)
    overall = 8 / 38
    assert shrunk["C1"] == pytest.approx((8 + 20 * (38 / 3) * overall) / (18 + 20 * 38 / 3))
    assert raw["C1"] > shrunk["C1"] > overall > shrunk["C2"] > raw["C2"]


@pytest.mark.slow
def test_the_samples_discounts_move_no_units(default_run):
    """The generator draws each line's discount independently of its quantity: the true
    response is zero in every region, and every interval must cover it."""
    lines = default_run["tables"]["order_lines"]
    table = discounts.discount_response(discounts.discount_cells(lines))
    assert (table["ci_low"] <= 0).all() and (table["ci_high"] >= 0).all(), table
    assert (table["ci_high"] - table["ci_low"]).loc["all regions"] < 0.05  # and it is precise


def test_without_list_prices_the_score_rests_on_buying_when_cheap():
    rows = [("A", "North", "2024-01", 1, 10.0, 10.0, f"C{k}") for k in range(5)]
    rows += [("A", "North", "2024-02", 1, 8.0, 8.0, "C0"), ("A", "North", "2024-02", 1, 8.0, 8.0,
                                                             "C1")]
    lines = _lines(rows).assign(category="Toys")
    market = price.flat_market_index(lines)
    table = price.customer_price_sensitivity(lines, market, with_discounts=False)
    assert (table["price_sensitivity"] - 100 * table["cheap_timing"].rank(pct=True)).abs().max() \
        < 1e-9
    assert table["price_sensitivity"].max() == 90.0  # ties ranked; a flat deal share gave 70
    assert table.loc["C0", "price_sensitivity"] > table.loc["C4", "price_sensitivity"]
