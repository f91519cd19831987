"""Stage 03 as one call: purchase rates by category, region and year, customer value (BG/NBD and
Gamma-Gamma), value tiers, RFM scores and behavioural segments.

``evaluate_behaviour`` returns a ``BehaviourResult``; ``outputs()`` are the tables 03 writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import behaviour

# the columns the page shows of each rate table
RATE_COLUMNS = ["customers", "repeat_rate", "purchases_per_customer", "spend_per_customer",
                "order_value", "return_rate", "estimated_share", "small_group"]


# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "order_id", "order_date", "category", "amount", "is_return", "is_estimated"]


@dataclass
class BehaviourResult:
    """Everything the behaviour page shows."""

    horizon_weeks: float
    by_category: pd.DataFrame  # purchase_rates per category (with intervals)
    by_region: pd.DataFrame
    by_year: pd.DataFrame  # with cross_purchase_rate and months_in_data
    values: pd.DataFrame  # customer_value per customer
    value_models: dict  # fitted parameters of both value models
    tiers: pd.DataFrame  # value tiers: customers, share of value
    rfm_scores: pd.DataFrame
    features: pd.DataFrame  # behavioural features per customer
    silhouettes: pd.DataFrame  # silhouette per number of segments
    k: int  # the number of segments chosen
    segments: pd.Series
    agreement: float  # adjusted Rand agreement of k-means and Ward

    def rates_shown(self, grouping: str) -> pd.DataFrame:
        """The rate table of ``grouping`` ('category', 'region', 'year') as the page shows it."""
        table = getattr(self, f"by_{grouping}")
        extra = ["cross_purchase_rate", "months_in_data"] if grouping == "year" else []
        return table[[*RATE_COLUMNS, *extra]]

    def rfm_profile(self) -> pd.DataFrame:
        return behaviour.segment_profile(self.rfm_scores, "rfm_segment",
                                         ["recency_days", "frequency", "monetary"])

    def segment_profile(self) -> pd.DataFrame:
        return behaviour.segment_profile(self.features.join(self.segments),
                                         "behaviour_segment", list(self.features.columns))

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables the stage writes: customer value and customer segments."""
        return {"customer_value": self.values.reset_index(),
                "customer_segments": self.rfm_scores.join(
                    self.features.drop(columns="recency_days")).join(
                    self.segments).reset_index()}


def evaluate_behaviour(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                       horizon_weeks: float = 52.0, max_segments: int = 8,
                       confidence: float = 0.95, min_group_size: int = 30,
                       customer_summary: pd.DataFrame | None = None,
                       customer_totals: pd.DataFrame | None = None) -> BehaviourResult:
    """The behaviour page's figures from the repaired order lines and the customers; the
    silhouette picks 2 to ``max_segments`` behavioural segments. ``customer_summary`` and
    ``customer_totals``: the value models' inputs and the customers' totals when an engine
    computed them (``engines``; else embedded DuckDB computes them from ``order_lines``)."""
    rates = {"confidence": confidence, "min_size": min_group_size}
    if customer_totals is None:  # once, for the features and the RFM scores
        customer_totals = behaviour.customer_totals(order_lines)
    by_year = behaviour.purchase_rates(order_lines, customers, ["year"], **rates)
    by_year["cross_purchase_rate"] = behaviour.cross_purchase_rate(
        order_lines, customers, ["year"], confidence=confidence)["rate"]
    values, value_models = behaviour.customer_value(order_lines, horizon_weeks,
                                                    confidence=confidence,
                                                    summary=customer_summary)
    features = behaviour.behaviour_features(order_lines, customer_totals)
    silhouettes, k = behaviour.choose_segments(features, range(2, max_segments + 1))
    segments, agreement = behaviour.segment_customers(features, k)
    return BehaviourResult(
        horizon_weeks=horizon_weeks,
        by_category=behaviour.purchase_rates(order_lines, customers, ["category"], **rates),
        by_region=behaviour.purchase_rates(order_lines, customers, ["region"], **rates),
        by_year=by_year, values=values, value_models=value_models,
        tiers=behaviour.value_tiers(values),
        rfm_scores=behaviour.rfm(order_lines, totals=customer_totals),
        features=features, silhouettes=silhouettes, k=k, segments=segments,
        agreement=agreement)
