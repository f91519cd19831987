"""Discounts: do units respond when a product is sold below its list price, and how much of each
customer's spend is bought on discount (notebook 06).

**Discount depth** of a product in a region and month: 1 - paid value / list value of its sale
lines (lines with estimated values left out). It is measured only where list prices were
delivered: in an export whose list price is the unit price itself, a price below the month's
regular one is mostly a quantity discount, which follows the quantity bought rather than
causing it, so no response is estimated there (``list_prices_delivered``).

**Response.** log units of a product-region-month on its discount depth, with product x region
and month fixed effects (two-way within transformation, ``regression.absorb``): only a product's
own months with and without a discount are compared, in the same calendar month as the others.
The slope's interval is cluster-robust by product x region. The page shows the change in units
for a 10% discount: exp(0.1 x slope) - 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.regression import absorb

# a discount below this depth (e.g. a rounding of the paid price) is no discount
MIN_DEPTH = 0.005
# the discount the response is expressed for: the change in units at a 10% discount
REFERENCE_DEPTH = 0.10


def list_prices_delivered(order_lines: pd.DataFrame) -> bool:
    """Whether the order lines carry list prices of their own (some sale line paid below its
    list price); without them the cleaning set the list price to the unit price."""
    sale = ~order_lines["is_return"]
    return bool((sale & (order_lines["unit_price"] < order_lines["list_price"]
                         * (1 - MIN_DEPTH))).any())


def discount_cells(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Units, list value, paid value and discount depth per product, region and month (sale
    lines with known values; returns and estimated lines left out)."""
    sales = order_lines.loc[~order_lines["is_return"] & ~order_lines["is_estimated"],
                            ["product_id", "region", "order_date", "quantity", "unit_price",
                             "list_price"]]
    sales = sales.assign(month=sales["order_date"].dt.to_period("M").dt.to_timestamp(),
                         list_value=sales["list_price"] * sales["quantity"],
                         paid_value=sales["unit_price"] * sales["quantity"])
    cells = sales.groupby(["product_id", "region", "month"], observed=True).agg(
        units=("quantity", "sum"), list_value=("list_value", "sum"),
        paid_value=("paid_value", "sum")).reset_index()
    depth = (1 - cells["paid_value"] / cells["list_value"]).where(cells["list_value"] > 0, 0.0)
    return cells.assign(depth=depth.clip(0, 1))


def _response(cells: pd.DataFrame, confidence: float) -> dict:
    """The discount slope of log units with its cluster-robust interval, on one set of
    cells."""
    import statsmodels.api as sm
    from scipy.stats import norm

    pair = cells["product_id"].astype(str) + "|" + cells["region"].astype(str)
    demeaned = absorb(pd.DataFrame({"y": np.log(cells["units"]), "x": cells["depth"],
                                    "pair": pair, "month": cells["month"]}),
                      ["y", "x"], ["pair", "month"])
    row = {"cells": len(cells), "discounted_cells": int((cells["depth"] >= MIN_DEPTH).sum()),
           "product_regions": int(pair.nunique()), "mean_depth": float(
               cells.loc[cells["depth"] >= MIN_DEPTH, "depth"].mean())}
    if row["discounted_cells"] < 2 or float(demeaned["x"].abs().max()) < 1e-12:
        return row | {"slope": np.nan, "slope_low": np.nan, "slope_high": np.nan}
    fit = sm.OLS(demeaned["y"].to_numpy(), demeaned[["x"]].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(pair)[0]})
    half = norm.ppf(0.5 + confidence / 2) * float(fit.bse[0])
    slope = float(fit.params[0])
    return row | {"slope": slope, "slope_low": slope - half, "slope_high": slope + half}


def discount_response(cells: pd.DataFrame, regions: pd.Series | None = None,
                      confidence: float = 0.95, min_group_size: int = 30) -> pd.DataFrame:
    """How units respond to a discount, for all regions together and for each region: the
    slope of log units on discount depth (fixed effects of product x region and month),
    units_change (at a ``REFERENCE_DEPTH`` discount, with ci_low/ci_high), cells,
    discounted_cells, product_regions, mean_depth and small_group (fewer discounted cells than
    ``min_group_size``). ``regions`` (defaults to the cells' regions) orders the rows."""
    order = list(regions) if regions is not None else sorted(cells["region"].unique())
    rows = {"all regions": _response(cells, confidence)}
    for region in order:
        part = cells[cells["region"] == region]
        if len(part):
            rows[region] = _response(part, confidence)
    table = pd.DataFrame(rows).T
    for name, column in (("units_change", "slope"), ("ci_low", "slope_low"),
                         ("ci_high", "slope_high")):
        table[name] = np.expm1(REFERENCE_DEPTH * table[column].astype(float))
    table["small_group"] = table["discounted_cells"].astype(int) < min_group_size
    table.index.name = "region"
    return table[["units_change", "ci_low", "ci_high", "slope", "slope_low", "slope_high",
                  "cells", "discounted_cells", "product_regions", "mean_depth", "small_group"]]


def discount_dependence(order_lines: pd.DataFrame, prior_strength: float = 20.0) -> pd.Series:
    """Each customer's share of sale spend bought on discount (paid below list price), shrunk
    toward the overall share as if each customer had ``prior_strength`` more lines of average
    value at the overall share (a customer with little spend is not extreme by chance)."""
    sales = order_lines.loc[~order_lines["is_return"] & ~order_lines["is_estimated"],
                            ["customer_id", "unit_price", "quantity", "list_price"]]
    spend = sales["unit_price"] * sales["quantity"]
    on_discount = spend.where(sales["unit_price"] < sales["list_price"] * (1 - MIN_DEPTH), 0.0)
    per = pd.DataFrame({"spend": spend, "discounted": on_discount,
                        "customer_id": sales["customer_id"]}).groupby("customer_id").sum()
    overall = per["discounted"].sum() / per["spend"].sum() if per["spend"].sum() else 0.0
    prior_spend = prior_strength * float(spend.mean()) if len(spend) else 0.0
    return ((per["discounted"] + prior_spend * overall) / (per["spend"] + prior_spend)).rename(
        "discount_spend_share")
