"""The company's own price decisions found in its order lines, for data without a price-change
log or a market price index (an order-line export with prices is what most companies have).

**Regular price.** Per product, region and month, the price most sale lines were sold at (the
list price where one is delivered, else the unit price; ties go to the higher price, the regular
one): a quantity discount or a few promotional lines do not move it.

**Persistence rule.** A month whose regular price differs from the current one by more than
``tolerance`` (relative) starts a price change only when the new price holds in the next
``persistence`` - 1 months with sales too; a price that returns before that (a one-week
promotion, a mis-keyed line) is not a change. The change is dated to the first month with sales
at the new price; ``last_old_period`` keeps the last month sold at the old price. The true
change lies between the two, and both months were found *because* something sold in them, so
the event study leaves them out of its before and after windows (counting them would bias the
units after a change upwards).

**Market index from the data.** A chained category x region index of the regular prices: each
month's change is the mean log change of the regular prices of the products sold in both months
(a product's last regular price carried forward), so "net of the market" removes the company's
general repricing of the category in the region. With a single category it is a region-level
price index. It cannot remove what moves the whole market outside the company's own prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def regular_prices(order_lines: pd.DataFrame, period: str = "M") -> pd.DataFrame:
    """The regular price per product, region and period (see the module docstring).

    Returns product_id, region, category, period (first day), price, lines (sale lines at that
    price) and all_lines (sale lines in the period); sale lines with estimated values are
    left out."""
    sales = order_lines.loc[~order_lines["is_return"] & ~order_lines["is_estimated"],
                            ["product_id", "region", "category", "order_date", "list_price"]]
    sales = sales.assign(period=sales["order_date"].dt.to_period(period).dt.start_time,
                         price=sales["list_price"].round(2))
    keys = ["product_id", "region", "period"]
    counts = (sales.groupby([*keys, "price"], observed=True).size().rename("lines")
              .reset_index()
              .sort_values([*keys, "lines", "price"], ascending=[True, True, True, False, False]))
    modal = counts.drop_duplicates(keys)
    total = sales.groupby(keys, observed=True).size().rename("all_lines")
    category = sales.drop_duplicates("product_id").set_index("product_id")["category"]
    return modal.join(total, on=keys).assign(
        category=lambda t: t["product_id"].map(category)).reset_index(drop=True)


def derive_price_changes(order_lines: pd.DataFrame, *, period: str = "M",
                         persistence: int = 2, tolerance: float = 0.02) -> pd.DataFrame:
    """Lasting changes of each product's regular price in each region (the persistence rule of
    the module docstring).

    Returns the ``price_changes`` contract columns (product_id, region, effective_date = first
    day of the first period at the new price, old_price, new_price) plus last_old_period (the
    last period sold at the old price) and origin = 'derived'.
    """
    return _changes_of(regular_prices(order_lines, period), persistence, tolerance)


def _changes_of(regular: pd.DataFrame, persistence: int, tolerance: float) -> pd.DataFrame:
    rows = []
    for (product, region), series in regular.groupby(["product_id", "region"], sort=False):
        prices, periods = series["price"].to_numpy(), series["period"].to_numpy()
        current, last_at_current = prices[0], 0
        for i in range(1, len(prices)):
            if current > 0 and abs(prices[i] / current - 1) <= tolerance:
                last_at_current = i
                continue
            ahead = prices[i:i + persistence]
            if len(ahead) == persistence and prices[i] > 0 and np.all(
                    np.abs(ahead / prices[i] - 1) <= tolerance) and current > 0:
                rows.append((product, region, periods[i], float(current), float(prices[i]),
                             periods[last_at_current]))
                current, last_at_current = prices[i], i
    changes = pd.DataFrame(rows, columns=["product_id", "region", "effective_date", "old_price",
                                          "new_price", "last_old_period"])
    for column in ("effective_date", "last_old_period"):
        changes[column] = pd.to_datetime(changes[column]).astype("datetime64[us]")
    return changes.assign(origin="derived")


def market_index_from_prices(order_lines: pd.DataFrame, period: str = "M") -> pd.DataFrame:
    """A chained category x region price index (100 in the first month) from the regular
    prices of the company's products (see the module docstring).

    Returns the ``market_index`` contract columns (category, region, month, index) for every
    month from the first to the last order, plus products (how many products' prices the
    month's change rests on) and origin = 'derived'.
    """
    return _index_of(regular_prices(order_lines, period))


def _index_of(regular: pd.DataFrame) -> pd.DataFrame:
    months = pd.date_range(regular["period"].min(), regular["period"].max(), freq="MS")
    wide = regular.pivot_table(index="period", columns=["category", "region", "product_id"],
                               values="price", aggfunc="first").reindex(months)
    carried = wide.ffill()
    change = np.log(carried).diff()
    observed = carried.notna() & carried.shift().notna()
    grouped_change = change.where(observed).T.groupby(level=["category", "region"]).mean().T
    products = observed.T.groupby(level=["category", "region"]).sum().T
    log_index = grouped_change.fillna(0.0).cumsum()
    index = (100 * np.exp(log_index)).stack(["category", "region"], future_stack=True)
    out = index.rename("index").reset_index().rename(columns={"level_0": "month"})
    out["products"] = products.stack(["category", "region"], future_stack=True).to_numpy()
    out["month"] = out["month"].astype("datetime64[us]")
    return out[["category", "region", "month", "index", "products"]].assign(origin="derived")


@dataclass
class DerivedPrices:
    """The price tables derived from the order lines where none were delivered (None where
    the delivered table is used)."""

    price_changes: pd.DataFrame | None
    market_index: pd.DataFrame | None

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables notebook 02 writes: derived_price_changes, derived_market_index."""
        out = {"derived_price_changes": self.price_changes,
               "derived_market_index": self.market_index}
        return {name: table for name, table in out.items() if table is not None}


def derive_missing(order_lines: pd.DataFrame, price_changes: pd.DataFrame,
                   market_index: pd.DataFrame, *, persistence: int = 2,
                   tolerance: float = 0.02) -> DerivedPrices:
    """Price changes and a market index from the order lines, each only when the delivered
    table is empty (not delivered); the regular prices both rest on are found once."""
    if len(price_changes) and len(market_index):
        return DerivedPrices(price_changes=None, market_index=None)
    regular = regular_prices(order_lines)
    return DerivedPrices(
        price_changes=None if len(price_changes) else _changes_of(regular, persistence,
                                                                  tolerance),
        market_index=None if len(market_index) else _index_of(regular))


def delivered_or_derived(delivered: pd.DataFrame, derived: pd.DataFrame | None) -> tuple[
        pd.DataFrame, str]:
    """The delivered table when it has rows, else the derived one (an empty delivered table
    when neither has rows), with where it came from: 'delivered', 'derived' or 'none'."""
    if len(delivered):
        return delivered, "delivered"
    if derived is not None and len(derived):
        return derived, "derived"
    return delivered, "none"
