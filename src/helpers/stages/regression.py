"""Stage 07 as one call: region-specific price elasticities on a product x region x period
panel, market-adjusted where a market index was delivered, beside the naive fit, with the
identification and residual checks.

``evaluate_regression`` returns a ``RegressionResult``; ``outputs()`` is the elasticity table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import regression


@dataclass
class RegressionResult:
    """Everything the regional-regression page shows."""

    panel: pd.DataFrame
    adjusted: bool  # prices divided by the market index (one was delivered and asked for)
    fit: regression.ElasticityFit
    naive: regression.ElasticityFit  # pooled, prices as charged, no period effects
    diagnostics: dict

    @property
    def most_influential(self) -> pd.DataFrame:
        return self.diagnostics["most_influential"]

    def outputs(self) -> dict[str, pd.DataFrame]:
        return {"regional_elasticities": self.fit.table.reset_index()}


def evaluate_regression(*, order_lines: pd.DataFrame, market_index: pd.DataFrame,
                        period_grain: str = "Q", categories: list[str] | None = None,
                        regions: list[str] | None = None, min_lines_per_cell: int = 1,
                        market_adjusted: bool = True,
                        confidence: float = 0.95) -> RegressionResult:
    """The regression page's figures; empty ``categories``/``regions`` mean all of them."""
    panel = regression.price_panel(order_lines, market_index, period_grain, categories or None,
                                   regions or None, min_lines_per_cell)
    adjusted = market_adjusted and len(market_index) > 0  # none delivered: prices as charged
    fit = regression.fit_elasticities(panel, market_adjusted=adjusted, confidence=confidence)
    naive = regression.fit_elasticities(panel, market_adjusted=False, period_effects=False,
                                        confidence=confidence)
    return RegressionResult(panel=panel, adjusted=adjusted, fit=fit, naive=naive,
                            diagnostics=regression.diagnostics(fit))
