"""Stage 02: repair the order history, with a per-value audit trail.

The business's history is incomplete and partly wrong: the legacy and the current order system
defined things differently, some values were keyed in wrong, and some months never made it into
the legacy export. The agreed rule, applied here: unify definitions, correct what can be corrected,
estimate what must be estimated from the surrounding records, and label every estimate.

``repair_history`` takes the ``order_lines_unrepaired`` table of notebook 01 (and the CRM's
``customer_id_map``) and returns

* ``order_lines``: the contract table, every value repaired or estimated marked
  (``is_estimated``; estimated amounts also carry ``amount_lower``/``amount_upper``);
* ``repair_log``: one row per changed, removed or estimated value (table, row_key, column,
  original_value, new_value, method, reason, confidence, lower, upper). A value touched by two
  rules (a legacy date shifted by the definition, then repaired) has one row: its original value,
  its final value, both methods;
* ``monthly_sales``: revenue per region x category x month with missing region-months estimated
  by a seasonal model and an interval per estimate;
* ``rules``: counts per rule, and ``definitions``: the unified definitions with the lines they
  touched.

Everything is deterministic (no random numbers): the same input gives the same output.
All functions are pure; file I/O lives in the notebook through ``helpers.io``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers import contract
from helpers.history.gaps import (
    estimate_gaps,
    estimated_cells,
    estimated_share,
    estimated_share_by_year,
    find_gaps,
    legacy_period,
    monthly_sales,
)
from helpers.history.log import _Log, reference_prices
from helpers.history.rules import (
    estimate_missing_amounts,
    map_customer_ids,
    remove_duplicated_months,
    repair_amount_contradictions,
    repair_impossible_dates,
    repair_unit_slips,
    shift_invoice_dates,
)

__all__ = ["DEFINITIONS", "RepairResult", "RepairSettings", "definitions_table",
           "estimated_cells", "estimated_share", "estimated_share_by_year", "find_gaps",
           "log_examples", "repair_history", "revenue_before_after"]


@dataclass(frozen=True)
class RepairSettings:
    """Documented thresholds of the repair rules (the notebook's parameters feed these)."""

    legacy_invoice_lag_days: int = 1  # legacy dates are invoice dates, this many days late
    unit_slip_range: tuple[float, float] = (30.0, 300.0)  # value / reference price = x100 slip
    outlier_ratio: float = 3.0  # amount/quantity this far from the reference price is an outlier
    duplicated_month_share: float = 0.25  # share of a region-month repeating other lines
    gap_share: float = 0.2  # region-month with fewer lines than this share of its usual count
    interval_level: float = 0.9  # level of every estimate's interval


@dataclass
class RepairResult:
    """The outputs of ``repair_history`` (see the module docstring)."""

    order_lines: pd.DataFrame
    repair_log: pd.DataFrame
    monthly_sales: pd.DataFrame
    rules: pd.DataFrame
    definitions: pd.DataFrame
    model: dict = field(default_factory=dict)

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables notebook 02 writes: repaired order lines, the log, monthly sales."""
        return {"order_lines": self.order_lines, "repair_log": self.repair_log,
                "monthly_sales": self.monthly_sales}



# ----------------------------------------------------------------------------------------------
DEFINITIONS = [
    ("order", "a bill (BILL_NO) with item lines", "an order (order_id) with lines",
     "one order = one order_id; legacy bills become order ids 'L<BILL_NO>'", "01 cleaning"),
    ("return", "a line with negative QTY on the original bill",
     "a line with line_type='return'",
     "a return is a line with negative quantity and amount, is_return=True", "01 cleaning"),
    ("currency unit", "fen (1/100), integers", "currency units with decimals",
     "currency units", "01 cleaning"),
    ("region naming", "Chinese area names (GBK)", "English names, free spelling",
     "six canonical English region names", "01 cleaning"),
    ("customer identity", "member number; some customers kept an old one",
     "CRM customer_id", "CRM customer_id; old member numbers mapped via customer_id_map",
     "02 repair"),
    ("order date", "invoice date (the day after the order)", "order date",
     "an order counts on the day it was placed", "02 repair"),
]


def definitions_table(counts: dict[str, int] | None = None) -> pd.DataFrame:
    """The unified definitions: topic, legacy system, current system, unified, where applied,
    and (when ``counts`` has the topic) the number of lines it changed."""
    table = pd.DataFrame(DEFINITIONS, columns=["topic", "legacy system", "current system",
                                               "unified definition", "applied in"])
    if counts is not None:
        table["lines changed"] = table["topic"].map(counts).astype("Int64")
    return table


def repair_history(order_lines_unrepaired: pd.DataFrame,
                   customer_id_map: pd.DataFrame | None = None,
                   settings: RepairSettings | None = None) -> RepairResult:
    """Unify definitions, correct wrong values, estimate missing ones; log every change.

    Args:
        order_lines_unrepaired: notebook 01's stage table (contract schema
            ``order_lines_unrepaired``).
        customer_id_map: legacy_customer_id -> customer_id (may be empty or None).
        settings: rule thresholds; defaults documented in ``RepairSettings``.

    Returns:
        RepairResult (see the module docstring). The input is not modified.
    """
    settings = settings or RepairSettings()
    lines = contract.validate("order_lines_unrepaired", order_lines_unrepaired)
    id_map = customer_id_map if customer_id_map is not None else pd.DataFrame(
        {"legacy_customer_id": pd.Series(dtype="str"), "customer_id": pd.Series(dtype="str")})
    log = _Log()

    lines, n_removed = remove_duplicated_months(lines, log, settings.duplicated_month_share,
                                                settings.legacy_invoice_lag_days)
    lines, n_ids = map_customer_ids(lines, id_map, log)
    lines, n_dates = shift_invoice_dates(lines, settings.legacy_invoice_lag_days, log)
    lines, bad_dates, estimated_dates = repair_impossible_dates(lines, log)
    reference = reference_prices(lines)
    lines, slips = repair_unit_slips(lines, reference, log, settings.unit_slip_range)
    reference = reference_prices(lines)
    lines, contradictions = repair_amount_contradictions(lines, reference, log,
                                                         settings.outlier_ratio)
    lines, missing, estimated_amounts = estimate_missing_amounts(lines, log,
                                                                 settings.interval_level)

    lines = lines.sort_values(["order_date", "order_id", "line_no"], kind="stable",
                              ignore_index=True)
    lines["quantity"] = lines["quantity"].astype("int64")
    lines = contract.validate("order_lines", lines)
    repair_log = contract.validate("repair_log", log.frame())

    table = monthly_sales(lines)
    period = legacy_period(lines)
    gaps = (find_gaps(table, settings.gap_share, period=period) if period is not None
            else find_gaps(table.iloc[:0], settings.gap_share))
    table, model = estimate_gaps(table, gaps, settings.interval_level)
    model["gaps"] = gaps
    table = contract.validate("monthly_sales", table)

    gaps_estimated = len(gaps) if table["is_estimated"].any() else 0  # 0: history too short
    rules = pd.DataFrame([
        ("duplicated legacy month", n_removed, n_removed, 0,
         "lines repeating earlier lines under new bill numbers, month-wise: removed"),
        ("customer identity", n_ids, n_ids, 0, "old member numbers mapped to CRM ids"),
        ("invoice date -> order date", n_dates, n_dates, 0, "legacy dates moved to the order day"),
        ("impossible date", int(bad_dates.sum()), int(bad_dates.sum()),
         int(estimated_dates.sum()), "outside the period the system was in use"),
        ("unit slip x100", int(slips.sum()), int(slips.sum()), 0,
         "money keyed in fen instead of currency units"),
        ("quantity contradicts amount", int(contradictions["quantity"].sum()),
         int(contradictions["quantity"].sum()), 0, "quantity re-derived from amount and price"),
        ("amount outside price history", int(contradictions["amount"].sum()),
         int(contradictions["amount"].sum()), 0, "amount re-derived from quantity and price"),
        ("small amount mismatch", int(contradictions["small"].sum()), 0, 0,
         "flagged only: within the price history"),
        ("missing price or amount", int(missing.sum()), int(missing.sum()),
         int(estimated_amounts.sum()),
         "completed exactly, or estimated from the list price"),
        ("missing region-month", len(gaps), gaps_estimated, gaps_estimated,
         "whole region-months estimated per category by the seasonal model"),
    ], columns=["rule", "flagged", "repaired", "estimated", "what happens"])
    definitions = definitions_table({"customer identity": n_ids, "order date": n_dates})
    return RepairResult(order_lines=lines, repair_log=repair_log, monthly_sales=table,
                        rules=rules, definitions=definitions, model=model)


# ----------------------------------------------------------------------------------------------
# what the notebook shows
def revenue_before_after(unrepaired: pd.DataFrame, result: RepairResult) -> pd.DataFrame:
    """Monthly net revenue per region before and after the repair, for the before/after chart.

    Before: the delivered lines (missing amounts count as 0, dates as delivered, impossible
    dates left out by the month range of the repaired history). After: ``monthly_sales`` summed
    over categories, with the estimated part and the interval. Returns region, month, before,
    after, after_lower, after_upper, estimated (revenue resting on estimates), gap (the whole
    month is estimated).
    """
    summed = [c for c in ["region", "category", "order_date", "amount", "amount_lower",
                          "amount_upper"] if c in unrepaired]  # what monthly_sales reads
    before_lines = unrepaired[summed].assign(amount=unrepaired["amount"].fillna(0.0),
                                             is_estimated=False)
    before = monthly_sales(before_lines).groupby(["region", "month"])["revenue"].sum()
    sales = result.monthly_sales
    after = sales.groupby(["region", "month"]).agg(
        after=("revenue", "sum"), after_lower=("revenue_lower", "sum"),
        after_upper=("revenue_upper", "sum"), estimated=("estimated_revenue", "sum"),
        gap=("is_estimated", "all"))
    table = after.join(before.rename("before"), how="left").reset_index()
    return table[["region", "month", "before", "after", "after_lower", "after_upper",
                  "estimated", "gap"]]


def log_examples(repair_log: pd.DataFrame, per_method: int = 1) -> pd.DataFrame:
    """The first ``per_method`` log rows of each method (the definition shift shown once)."""
    return repair_log.groupby("method", sort=False).head(per_method).reset_index(drop=True)
