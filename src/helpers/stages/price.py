"""Stage 06 as one call: sales around each price change (event study, naive and against the
same product elsewhere), the regions' price response, each customer's price sensitivity and
how it relates to the other loyalty dimensions.

``evaluate_price`` returns a ``PriceResult``; ``outputs()`` is the customer measure 06 writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import price


@dataclass
class PriceResult:
    """Everything the price-sensitivity page shows."""

    window_months: int
    market_delivered: bool  # a market index was delivered (else prices as charged)
    sales: pd.DataFrame  # units per product x region x month
    events: pd.DataFrame  # one row per price change with its before/after windows
    by_region: pd.DataFrame  # price elasticity around price changes per region
    sensitivity: pd.DataFrame  # per customer
    relation: pd.DataFrame  # Spearman correlation with the other loyalty dimensions

    def time_profile(self) -> pd.DataFrame:
        return price.event_time_profile(self.events, self.sales, self.window_months)

    def summary(self, confidence: float, min_group_size: int) -> pd.DataFrame:
        """The events summarised by direction of the change."""
        return price.event_summary(self.events, ["direction"], confidence, min_group_size)

    def outputs(self) -> dict[str, pd.DataFrame]:
        return {"price_sensitivity": self.sensitivity.reset_index()}


def evaluate_price(*, order_lines: pd.DataFrame, price_changes: pd.DataFrame,
                   market_index: pd.DataFrame, customer_value: pd.DataFrame,
                   customer_segments: pd.DataFrame, survey_scored: pd.DataFrame | None,
                   churn_risk: pd.DataFrame | None, market_delivered: bool,
                   window_months: int = 3, confidence: float = 0.95) -> PriceResult:
    """The price page's figures. Without a market index (``market_delivered`` False, an empty
    ``market_index``) prices are taken as charged; 04's and 05's tables may be None."""
    market = price.market_index_or_flat(market_index, order_lines)
    sales = price.monthly_product_sales(order_lines)
    categories = order_lines.drop_duplicates("product_id").set_index("product_id")["category"]
    events = price.price_change_events(price_changes, sales, market, categories, window_months)
    sensitivity = price.customer_price_sensitivity(order_lines, market)
    dimensions = price.loyalty_dimensions(customer_value, customer_segments, survey_scored,
                                          churn_risk)
    return PriceResult(
        window_months=window_months, market_delivered=market_delivered, sales=sales,
        events=events, by_region=price.event_elasticities(events, confidence),
        sensitivity=sensitivity,
        relation=price.relation_to_loyalty(sensitivity["price_sensitivity"], dimensions,
                                           confidence))
