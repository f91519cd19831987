"""Prices found in the order lines: the regular price and the persistence rule on hand-made
series, the chained index by hand, and truth recovery on the default sample with its price-change
log and market index withheld."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from helpers import price, pricing


def _lines(prices_by_month: dict[str, list[float]], product: str = "P1",
           region: str = "North") -> pd.DataFrame:
    """Sale lines: for each month 'YYYY-MM', one line per listed price (mid-month)."""
    rows = [{"product_id": product, "region": region, "category": "Vases",
             "order_date": pd.Timestamp(f"{month}-15"), "list_price": p, "unit_price": p,
             "is_return": False, "is_estimated": False}
            for month, prices in prices_by_month.items() for p in prices]
    return pd.DataFrame(rows)


def test_a_step_is_a_change_dated_to_its_first_month_with_the_last_old_month_kept():
    lines = _lines({f"2024-{m:02d}": [10.0, 10.0] for m in range(1, 7)}
                   | {f"2024-{m:02d}": [12.0] for m in range(7, 13)})
    changes = pricing.derive_price_changes(lines)
    assert changes[["effective_date", "old_price", "new_price", "last_old_period"]].values.tolist(
    ) == [[pd.Timestamp("2024-07-01"), 10.0, 12.0, pd.Timestamp("2024-06-01")]]
    assert (changes["origin"] == "derived").all()


def test_a_one_month_promotion_is_not_a_change():
    lines = _lines({"2024-01": [10.0], "2024-02": [10.0], "2024-03": [10.0], "2024-04": [8.0],
                    "2024-05": [10.0], "2024-06": [10.0]})
    assert pricing.derive_price_changes(lines).empty
    # held for two months it is one (and the return another)
    lines = _lines({"2024-01": [10.0], "2024-02": [10.0], "2024-03": [8.0], "2024-04": [8.0],
                    "2024-05": [10.0], "2024-06": [10.0]})
    assert pricing.derive_price_changes(lines)[["old_price", "new_price"]].values.tolist() == [
        [10.0, 8.0], [8.0, 10.0]]


def test_wholesale_lines_do_not_move_the_regular_price():
    retail_then_wholesale = {f"2024-{m:02d}": [10.0, 10.0, 10.0, 8.5] for m in range(1, 4)}
    retail_then_wholesale |= {f"2024-{m:02d}": [11.0, 11.0, 11.0, 9.35] for m in range(4, 7)}
    changes = pricing.derive_price_changes(_lines(retail_then_wholesale))
    assert changes[["effective_date", "old_price", "new_price"]].values.tolist() == [
        [pd.Timestamp("2024-04-01"), 10.0, 11.0]]


def test_months_without_sales_leave_the_change_between_two_months():
    lines = _lines({"2024-01": [10.0], "2024-02": [10.0], "2024-04": [11.0], "2024-05": [11.0]})
    change = pricing.derive_price_changes(lines).iloc[0]
    assert (change["last_old_period"], change["effective_date"]) == (
        pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-01"))
    windows = price._with_windows(pricing.derive_price_changes(lines), 2).iloc[0]
    assert windows["before"] == [pd.Timestamp("2023-12-01"), pd.Timestamp("2024-01-01")]
    assert windows["after"] == [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")]
    assert windows["unknown"] == list(pd.date_range("2024-02-01", "2024-04-01", freq="MS"))


def test_the_chained_index_is_the_mean_log_change_of_the_regular_prices():
    a = _lines({"2024-01": [10.0], "2024-02": [11.0], "2024-03": [11.0]}, product="A")
    b = _lines({"2024-01": [20.0], "2024-03": [20.0]}, product="B")  # no sale in February
    index = pricing.market_index_from_prices(pd.concat([a, b])).set_index("month")
    assert index["index"].tolist() == pytest.approx([100.0, 100 * np.sqrt(1.1),
                                                     100 * np.sqrt(1.1)])
    assert index["products"].tolist() == [0, 2, 2]  # B's price carried through February


@pytest.mark.slow
def test_derived_prices_recover_the_true_regional_elasticities(default_run):
    """The default sample with its price-change log and market index withheld: the changes
    found in the order lines and the index of the company's own prices give every region's
    true elasticity inside its 95% interval and nearly the true ranking."""
    tables, truth = default_run["tables"], default_run["truth"]
    lines = tables["order_lines"]
    derived = pricing.derive_missing(lines, tables["price_changes"].iloc[:0],
                                     tables["market_index"].iloc[:0])
    delivered = tables["price_changes"].assign(
        month=lambda t: t["effective_date"].dt.to_period("M").dt.to_timestamp())
    found = derived.price_changes.merge(delivered, left_on=["product_id", "region",
                                                            "effective_date"],
                                        right_on=["product_id", "region", "month"])
    assert len(found) / len(derived.price_changes) > 0.8  # most found changes are real ones
    sales = price.monthly_product_sales(lines)
    categories = lines.drop_duplicates("product_id").set_index("product_id")["category"]
    events = price.price_change_events(derived.price_changes, sales,
                                       derived.market_index[["category", "region", "month",
                                                             "index"]], categories)
    table = price.event_elasticities(events).join(
        truth["elasticity"].set_index("region")["elasticity"])
    inside = (table["adjusted_low"] <= table["elasticity"]) & (
        table["elasticity"] <= table["adjusted_high"])
    assert inside.all(), table
    assert spearmanr(table["adjusted"], table["elasticity"]).statistic >= 0.8
    assert table["adjusted"].idxmin() == table["elasticity"].idxmin()  # the most sensitive


@pytest.mark.slow
def test_the_regional_regression_on_the_derived_index_recovers_truth_and_ranking(default_run):
    """07 on the default sample with its market index withheld: the index of the company's own
    regular prices takes its place, and every region's true elasticity lies inside its 95%
    interval with the regions in their true order."""
    from helpers import regression
    from tests.test_regression import assert_truth_inside_and_ranked

    lines = default_run["tables"]["order_lines"]
    derived = pricing.market_index_from_prices(lines)
    panel = regression.price_panel(lines, derived[["category", "region", "month", "index"]])
    assert_truth_inside_and_ranked(regression.fit_elasticities(panel).table)
