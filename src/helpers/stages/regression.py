"""Stage 07 as one call: region-specific price elasticities on a product x region x period
panel, market-adjusted where a market index was delivered, beside the naive fit, with the
identification and residual checks.

``evaluate_regression`` returns a ``RegressionResult``; ``outputs()`` is the elasticity table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import price, pricing, regression

# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "product_id", "order_date", "category", "region", "quantity", "list_price",
    "is_return", "is_estimated"]


@dataclass
class RegressionResult:
    """Everything the regional-regression page shows."""

    panel: pd.DataFrame
    adjusted: bool  # prices divided by a market index (delivered or derived, and asked for)
    index_origin: str  # 'delivered', 'derived' (from the company's own prices) or 'none'
    pooled_regions: list[str]  # small regions estimated together as 'other regions'
    fit: regression.ElasticityFit
    naive: regression.ElasticityFit  # pooled, prices as charged, no period effects
    diagnostics: dict

    @property
    def most_influential(self) -> pd.DataFrame:
        return self.diagnostics["most_influential"]

    def outputs(self) -> dict[str, pd.DataFrame]:
        return {"regional_elasticities": self.fit.table.reset_index()}


def evaluate_regression(*, order_lines: pd.DataFrame, market_index: pd.DataFrame,
                        derived_market_index: pd.DataFrame | None = None,
                        period_grain: str = "Q", categories: list[str] | None = None,
                        regions: list[str] | None = None, min_lines_per_cell: int = 1,
                        market_adjusted: bool = True, min_region_products: int = 30,
                        min_region_customers: int = 30,
                        confidence: float = 0.95) -> RegressionResult:
    """The regression page's figures; empty ``categories``/``regions`` mean all of them. The
    delivered market index is used, else the one notebook 02 built from the company's own
    prices, else prices as charged. Regions with fewer than ``min_region_products`` products
    whose price changed there, or fewer than ``min_region_customers`` buyers, are pooled
    (``regression.pool_small_regions``)."""
    index, index_origin = pricing.delivered_or_derived(market_index, derived_market_index)
    index = index[["category", "region", "month", "index"]]
    panel, pooled = regression.pool_small_regions(
        regression.price_panel(order_lines, index, period_grain, categories or None,
                               regions or None, min_lines_per_cell), min_region_products,
        price.buyers_per_region(order_lines), min_region_customers)
    adjusted = market_adjusted and len(index) > 0
    fit = regression.fit_elasticities(panel, market_adjusted=adjusted, confidence=confidence)
    naive = regression.fit_elasticities(panel, market_adjusted=False, period_effects=False,
                                        confidence=confidence)
    return RegressionResult(panel=panel, adjusted=adjusted, index_origin=index_origin,
                            pooled_regions=pooled, fit=fit, naive=naive,
                            diagnostics=regression.diagnostics(fit))
