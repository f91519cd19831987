"""Stage 06 as one call: sales around each price change (event study, naive and against the
same product elsewhere), the regions' price response, each customer's price sensitivity and
how it relates to the other loyalty dimensions.

``evaluate_price`` returns a ``PriceResult``; ``outputs()`` is the customer measure 06 writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import discounts, price, pricing

# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "order_id", "product_id", "order_date", "category", "region", "quantity",
    "unit_price", "list_price", "amount", "is_return", "is_estimated"]


@dataclass
class PriceResult:
    """Everything the price-sensitivity page shows."""

    window_months: int
    changes_origin: str  # 'delivered' or 'derived' (from the order lines, ``helpers.pricing``)
    index_origin: str  # 'delivered', 'derived' or 'none' (prices as charged)
    changes: pd.DataFrame  # the price changes the events rest on
    sales: pd.DataFrame  # units per product x region x month
    events: pd.DataFrame  # one row per price change with its before/after windows
    by_region: pd.DataFrame  # price elasticity around price changes per region
    sensitivity: pd.DataFrame  # per customer
    discount_response: pd.DataFrame | None  # units against discount depth; None: no list prices
    relation: pd.DataFrame  # Spearman correlation with the other loyalty dimensions

    @property
    def market_adjusted(self) -> bool:
        """Prices were compared with a market index (delivered or derived)."""
        return self.index_origin != "none"

    def time_profile(self) -> pd.DataFrame:
        return price.event_time_profile(self.events, self.sales, self.window_months)

    def summary(self, confidence: float, min_group_size: int) -> pd.DataFrame:
        """The events summarised by direction of the change."""
        return price.event_summary(self.events, ["direction"], confidence, min_group_size)

    @property
    def discount_table(self) -> pd.DataFrame | None:
        """The discount response for the page (None without list prices)."""
        if self.discount_response is None:
            return None
        return self.discount_response[["units_change", "ci_low", "ci_high", "discounted_cells",
                                       "cells", "mean_depth", "product_regions", "small_group"]]

    def outputs(self) -> dict[str, pd.DataFrame]:
        return {"price_sensitivity": self.sensitivity.reset_index()}


def evaluate_price(*, order_lines: pd.DataFrame, price_changes: pd.DataFrame,
                   market_index: pd.DataFrame, customer_value: pd.DataFrame,
                   customer_segments: pd.DataFrame, survey_scored: pd.DataFrame | None,
                   churn_risk: pd.DataFrame | None,
                   derived_price_changes: pd.DataFrame | None = None,
                   derived_market_index: pd.DataFrame | None = None, use_market: bool = True,
                   window_months: int = 3, confidence: float = 0.95,
                   min_group_size: int = 30) -> PriceResult:
    """The price page's figures. The delivered price changes and market index are used when
    there are any, else those notebook 02 derived from the order lines; without either index
    (or with ``use_market`` False) prices are taken as charged. 04's and 05's tables may be
    None."""
    changes, changes_origin = pricing.delivered_or_derived(price_changes,
                                                           derived_price_changes)
    index, index_origin = pricing.delivered_or_derived(market_index, derived_market_index)
    if not use_market:
        index, index_origin = market_index.iloc[:0], "none"
    market = price.market_index_or_flat(index[["category", "region", "month", "index"]],
                                        order_lines)
    sales = price.monthly_product_sales(order_lines)
    categories = order_lines.drop_duplicates("product_id").set_index("product_id")["category"]
    events = price.price_change_events(changes, sales, market, categories, window_months)
    with_list_prices = discounts.list_prices_delivered(order_lines)
    sensitivity = price.customer_price_sensitivity(order_lines, market,
                                                   with_discounts=with_list_prices)
    sensitivity["discount_spend_share"] = discounts.discount_dependence(order_lines)
    response = None
    if with_list_prices:
        regions = sorted(order_lines["region"].dropna().unique())
        response = discounts.discount_response(discounts.discount_cells(order_lines), regions,
                                               confidence, min_group_size)
    dimensions = price.loyalty_dimensions(customer_value, customer_segments, survey_scored,
                                          churn_risk)
    return PriceResult(
        window_months=window_months, changes_origin=changes_origin, index_origin=index_origin,
        changes=changes, sales=sales, events=events,
        by_region=price.event_elasticities(events, confidence, min_group_size,
                                           price.buyers_per_region(order_lines)),
        sensitivity=sensitivity, discount_response=response,
        relation=price.relation_to_loyalty(sensitivity["price_sensitivity"], dimensions,
                                           confidence))
