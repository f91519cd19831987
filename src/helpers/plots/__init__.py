"""Charts for the notebooks and reports.

Each function returns a closed matplotlib Figure: a notebook cell that ends with the call shows the
figure exactly once (inline), and the same figure can be saved by scripts.
"""

from helpers.plots.data import (
    monthly_lines_by_source,
    repairs_by_rule,
    revenue_before_after,
    rows_by_source,
)
from helpers.plots.models import (
    compare_intervals,
    event_profile,
    event_time,
    importance_performance,
    monitoring,
    point_intervals,
    regional_gap,
    residuals,
)
from helpers.plots.rates import (
    calibration,
    cohort_heatmap,
    cycle_distribution,
    odds_ratios,
    rates_with_intervals,
)

__all__ = ["calibration", "cohort_heatmap", "compare_intervals", "cycle_distribution",
           "event_profile", "event_time", "importance_performance", "monitoring",
           "monthly_lines_by_source", "odds_ratios", "point_intervals", "rates_with_intervals",
           "regional_gap", "repairs_by_rule", "residuals", "revenue_before_after",
           "rows_by_source"]
