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

import numpy as np
import pandas as pd

from helpers import contract
from helpers.i18n import N_

LINE_KEY = ["order_id", "line_no"]
_TOLERANCE = 0.005  # currency units: amounts are rounded to the fen


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


# ----------------------------------------------------------------------------------------------
# the repair log
LOG_COLUMNS = ["table", "row_key", "column", "original_value", "new_value", "method", "reason",
               "confidence", "lower", "upper"]


def _as_text(values: pd.Series) -> pd.Series:
    """Values as log text: dates as ISO days, numbers without float noise, missing as <NA>."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(values):
        out = values.round(6).map(lambda v: f"{v:.10g}", na_action="ignore")
    else:
        out = values.astype("str")
    return out.where(values.notna()).astype("str")


class _Log:
    """Collects log entries; ``frame()`` merges repeated (row_key, column) into one row."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def record(self, row_key: pd.Series, column: str, original: pd.Series, new: pd.Series | None,
               method: str, reason: str, confidence: float | pd.Series,
               lower: pd.Series | None = None, upper: pd.Series | None = None) -> None:
        if len(row_key) == 0:
            return
        index = row_key.index
        empty = pd.Series(pd.NA, index=index, dtype="str")
        self.parts.append(pd.DataFrame({
            "table": "order_lines", "row_key": row_key.astype("str"), "column": column,
            "original_value": _as_text(original),
            "new_value": _as_text(new) if new is not None else empty,
            "method": method, "reason": reason,
            "confidence": pd.Series(confidence, index=index, dtype="float64"),
            "lower": _as_text(lower) if lower is not None else empty,
            "upper": _as_text(upper) if upper is not None else empty,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="float64" if c == "confidence" else "str")
                                 for c in LOG_COLUMNS})
        log = pd.concat(self.parts, ignore_index=True)
        log["_step"] = np.arange(len(log))
        key = ["table", "row_key", "column"]
        repeated = log.duplicated(key, keep=False)
        grouped = log.loc[repeated].groupby(key, sort=False)
        merged = grouped.agg(
            original_value=("original_value", "first"), new_value=("new_value", "last"),
            method=("method", lambda s: " + ".join(s)), reason=("reason", lambda s: "; ".join(s)),
            confidence=("confidence", "min"), lower=("lower", "last"), upper=("upper", "last"),
            _step=("_step", "first")).reset_index()
        merged = pd.concat([log.loc[~repeated], merged], ignore_index=True)
        # a later rule may have set a value back to where it started: nothing changed then
        flagged_only = merged["method"].str.contains("flagged", regex=False)
        same = merged["original_value"].fillna("<NA>") == merged["new_value"].fillna("<NA>")
        merged = merged.loc[~same | flagged_only]
        return (merged.sort_values("_step").drop(columns="_step")[LOG_COLUMNS]
                .reset_index(drop=True))


# ----------------------------------------------------------------------------------------------
# reference values
def reference_prices(lines: pd.DataFrame) -> pd.Series:
    """Median unit price per line's product and region (product-wide median as a fallback).

    Reads product_id, region, unit_price. Returns a Series aligned with ``lines``: the typical
    price the line's product sold at in its region over the whole history, robust to the few
    wrong values (a median).
    """
    by_region = lines.groupby(["product_id", "region"])["unit_price"].transform("median")
    by_product = lines.groupby("product_id")["unit_price"].transform("median")
    return by_region.fillna(by_product)


def bill_number(order_id: pd.Series) -> pd.Series:
    """The numeric part of an order id ('L512345' -> 512345, 'SO0001234' -> 1234)."""
    return pd.to_numeric(order_id.str.extract(r"(\d+)$")[0], errors="coerce")


# ----------------------------------------------------------------------------------------------
# the rules, in the order they are applied
def remove_duplicated_months(lines: pd.DataFrame, log: _Log, share: float,
                             lag_days: int = 0) -> tuple[pd.DataFrame, int]:
    """Drop legacy lines that repeat another line under a new, out-of-sequence bill number.

    A line is a repeat when customer, date, product, line number, quantity and all money values
    equal those of a line on a lower bill number. Single repeats happen by chance; when at least
    ``share`` of a region-month's lines are repeats, the month was exported twice and the
    higher-numbered copies are removed, with any other repeat inside the same block of bill
    numbers (logged as removed, column '(line)'). Months are counted on the order day (legacy
    dates minus ``lag_days``), as the export was.
    """
    legacy = lines[lines["source"] == "legacy"]
    if legacy.empty:
        return lines, 0
    signature = ["customer_id", "order_date", "product_id", "line_no", "quantity", "unit_price",
                 "list_price", "amount"]
    ordered = legacy.assign(_bill=bill_number(legacy["order_id"])).sort_values("_bill",
                                                                                kind="stable")
    repeat = ordered.duplicated(signature, keep="first")
    month = (ordered["order_date"] - pd.Timedelta(days=lag_days)).dt.to_period("M")
    cell_share = repeat.groupby([ordered["region"], month]).transform("mean")
    exported_twice = repeat & (cell_share >= share)
    # a re-export has a block of new bill numbers: repeats inside a region's block go too (a
    # month's last-day orders can carry the next month's date)
    blocks = ordered.loc[exported_twice].groupby("region")["_bill"].agg(["min", "max"])
    low = ordered["region"].map(blocks["min"])
    high = ordered["region"].map(blocks["max"])
    in_block = repeat & ordered["_bill"].between(low, high)
    drop_index = ordered.index[exported_twice | in_block]
    dropped = lines.loc[drop_index]
    log.record(dropped["order_id"] + "#" + dropped["line_no"].astype(str), "(line)",
               dropped["order_id"], None, "removed: duplicated export",
               N_("the line repeats an earlier line under a new bill number, and at least "
                  "{share} of its region-month does: the month was exported twice").format(
                   share=f"{share:.0%}"),
               0.95)
    return lines.drop(index=drop_index), len(drop_index)


def map_customer_ids(lines: pd.DataFrame, id_map: pd.DataFrame, log: _Log) -> tuple[
        pd.DataFrame, int]:
    """Legacy lines under an old member number get the customer's CRM id (``customer_id_map``)."""
    mapping = id_map.set_index("legacy_customer_id")["customer_id"]
    hit = (lines["source"] == "legacy") & lines["customer_id"].isin(mapping.index)
    new = lines.loc[hit, "customer_id"].map(mapping)
    log.record(_keys(lines.loc[hit]), "customer_id", lines.loc[hit, "customer_id"], new,
               "definition: id crosswalk",
               "the legacy system knew this customer under an old member number; the CRM "
               "migration table maps it to the customer's id", 1.0)
    lines = lines.copy()
    lines.loc[hit, "customer_id"] = new
    return lines, int(hit.sum())


def shift_invoice_dates(lines: pd.DataFrame, lag_days: int, log: _Log) -> tuple[
        pd.DataFrame, int]:
    """Legacy dates are invoice dates, ``lag_days`` after the order: move them to the order day."""
    legacy = lines["source"] == "legacy"
    if lag_days == 0:
        return lines, 0
    new = lines.loc[legacy, "order_date"] - pd.Timedelta(days=lag_days)
    log.record(_keys(lines.loc[legacy]), "order_date", lines.loc[legacy, "order_date"], new,
               "definition: invoice date -> order date",
               N_("the legacy system dated a bill when it was invoiced, {days} day(s) after the "
                  "order").format(days=lag_days) + "; "
               + N_("an order counts on the day it was placed"), 0.95)
    lines = lines.copy()
    lines.loc[legacy, "order_date"] = new
    return lines, int(legacy.sum())


def repair_impossible_dates(lines: pd.DataFrame, log: _Log) -> tuple[
        pd.DataFrame, pd.Series, pd.Series]:
    """Replace dates outside the system's operating period with the best supported date.

    A legacy date is impossible on or after the current system's first order (the legacy system
    was switched off), or more than two months outside the range of its central 98% of dates
    (placeholders like 1900-01-01, years keyed wrong); any date after the last current-system
    order is impossible too. The new date is

    * the date of the other lines of the same bill (same sale/return kind): exact;
    * else the date of the neighbouring bills by bill number (numbers run with time): taken
      when both neighbours agree, estimated (the earlier one, interval to the later) when not;
    * for a return without a dated return line on its bill: the bill's sale date plus the
      median return delay, estimated.

    Returns the repaired lines, the mask of the flagged lines and the mask of those whose new
    date is an estimate.
    """
    lines = lines.copy()
    dates = lines["order_date"]
    current = lines["source"] == "current"
    legacy = lines["source"] == "legacy"
    margin = pd.DateOffset(months=2)
    end = dates[current].max() if current.any() else dates.quantile(0.99) + margin
    legacy_start, legacy_end = dates.min(), end
    if legacy.any():
        legacy_start = dates[legacy].quantile(0.01) - margin
        legacy_end = dates[legacy].quantile(0.99) + margin
        if current.any():
            legacy_end = min(legacy_end, dates[current].min())
    bad = (dates > end) | (legacy & ((dates >= legacy_end) | (dates < legacy_start)))
    if not bad.any():
        return lines, bad, bad
    good = lines.loc[~bad]
    bill = bill_number(lines["order_id"])
    new_date = pd.Series(pd.NaT, index=lines.index, dtype=dates.dtype)
    method = pd.Series("", index=lines.index, dtype="str")
    estimated = pd.Series(False, index=lines.index)
    lower = pd.Series(pd.NaT, index=lines.index, dtype=dates.dtype)
    upper = lower.copy()

    # 1. same bill, same kind of line
    flagged = lines.loc[bad]
    siblings = good.loc[good["order_id"].isin(flagged["order_id"])]
    same_bill = siblings.groupby(["order_id", "is_return"])["order_date"].agg(
        lambda s: s.mode().iloc[0])
    found = pd.Series(list(zip(flagged["order_id"], flagged["is_return"], strict=True)),
                      index=flagged.index).map(same_bill.to_dict())
    found = pd.to_datetime(found).astype(dates.dtype)
    hit = found.notna()
    new_date[hit[hit].index] = found[hit]
    method[hit[hit].index] = "date of the bill's other lines"

    # 2. sale lines: neighbouring bills of the same system
    todo = flagged.index[~hit & ~flagged["is_return"]]
    if len(todo):
        sales = good[~good["is_return"]]
        for source, part in sales.groupby("source"):
            bill_dates = (part.assign(_bill=bill[part.index]).groupby("_bill")["order_date"]
                          .min().sort_index())
            mine = [i for i in todo if lines.at[i, "source"] == source]
            if not mine or bill_dates.empty:
                continue
            numbers = bill[mine].to_numpy()
            pos = np.searchsorted(bill_dates.index.to_numpy(), numbers)
            before = bill_dates.to_numpy()[np.clip(pos - 1, 0, len(bill_dates) - 1)]
            after = bill_dates.to_numpy()[np.clip(pos, 0, len(bill_dates) - 1)]
            before = np.where(pos == 0, after, before)
            after = np.where(pos == len(bill_dates), before, after)
            agree = before == after
            new_date[mine] = before
            lower[mine], upper[mine] = before, after
            estimated[mine] = ~agree
            method[mine] = np.where(agree, "date of the neighbouring bills",
                                    "estimated: earlier of the neighbouring bills' dates")

    # 3. returns: the bill's sale date plus the median return delay
    todo = flagged.index[new_date[flagged.index].isna()]
    if len(todo):
        sale_date = good[~good["is_return"]].groupby("order_id")["order_date"].min()
        return_date = good[good["is_return"]].groupby("order_id")["order_date"].min()
        delays = (return_date - sale_date.reindex(return_date.index)).dropna()
        delay = delays.median() if len(delays) else pd.Timedelta(0)
        base = lines.loc[todo, "order_id"].map(sale_date)
        new_date[todo] = base + delay
        lower[todo] = base + (delays.quantile(0.05) if len(delays) else pd.Timedelta(0))
        upper[todo] = base + (delays.quantile(0.95) if len(delays) else pd.Timedelta(0))
        estimated[todo] = True
        method[todo] = "estimated: sale date + median return delay"

    fixed = bad & new_date.notna()
    confidence = {"date of the bill's other lines": 0.99, "date of the neighbouring bills": 0.9}
    for label in method[fixed].unique():
        rows = fixed & (method == label)
        is_estimate = estimated[rows].any()
        log.record(_keys(lines.loc[rows]), "order_date", lines.loc[rows, "order_date"],
                   new_date[rows], label,
                   "impossible date: outside the period the system was in use",
                   confidence.get(label, 0.5),
                   lower[rows] if is_estimate else None, upper[rows] if is_estimate else None)
    lines.loc[fixed, "order_date"] = new_date[fixed]
    lines.loc[fixed & estimated, "is_estimated"] = True
    return lines, bad, fixed & estimated


def repair_unit_slips(lines: pd.DataFrame, reference: pd.Series, log: _Log,
                      slip_range: tuple[float, float]) -> tuple[pd.DataFrame, pd.Series]:
    """Money values about 100 times the product's usual price were keyed in fen: divide by 100.

    Each of unit_price, list_price and amount (per unit of quantity) is compared with the
    line's reference price; a ratio within ``slip_range`` is a unit slip. Exact. Only legacy
    lines are judged: the current system records money in currency units, so a far-off price
    there is a real price (a quantity discount, a manual price), not a slip.
    """
    lines = lines.copy()
    low, high = slip_range
    legacy = lines["source"] == "legacy"
    any_slip = pd.Series(False, index=lines.index)
    for column in ["unit_price", "list_price", "amount"]:
        per_unit = lines[column] / (lines["quantity"].abs() if column == "amount" else 1)
        ratio = per_unit.abs() / reference
        slip = ratio.between(low, high) & legacy
        new = (lines.loc[slip, column] / 100).round(2)
        log.record(_keys(lines.loc[slip]), column, lines.loc[slip, column], new,
                   "corrected: divided by 100",
                   N_("value is {low}-{high} times the product's usual price in the region: "
                      "keyed in fen instead of currency units").format(low=f"{low:g}",
                                                                      high=f"{high:g}"), 0.99)
        lines.loc[slip, column] = new
        any_slip |= slip
    return lines, any_slip


def repair_amount_contradictions(lines: pd.DataFrame, reference: pd.Series, log: _Log,
                                 outlier_ratio: float) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """Lines whose amount is not quantity x unit price (to the fen).

    * amount / unit price is a whole number of units: the quantity was keyed wrong; it becomes
      that number (exact);
    * else, when amount / quantity is more than ``outlier_ratio`` times away from the product's
      usual price, the amount is far outside the price history: it becomes quantity x unit
      price (exact when price and quantity are right);
    * else the contradiction is small and left as delivered (flagged in the log).

    Only legacy lines are judged (keying errors of the old system); the current system derives
    the amount itself.
    """
    lines = lines.copy()
    known = lines["unit_price"].notna() & lines["amount"].notna() & (lines["unit_price"] > 0) & (
        lines["source"] == "legacy")
    expected = lines["quantity"] * lines["unit_price"]
    off = known & ((lines["amount"] - expected).abs() > _TOLERANCE + 1e-9)
    units = (lines["amount"] / lines["unit_price"]).round()
    whole = off & (units != 0) & ((units * lines["unit_price"] - lines["amount"]).abs()
                                  <= _TOLERANCE)
    implied = (lines["amount"] / lines["quantity"]).abs()
    far = off & ~whole & ((implied > outlier_ratio * reference)
                          | (implied < reference / outlier_ratio))
    small = off & ~whole & ~far
    new_quantity = units[whole].astype("int64")
    log.record(_keys(lines.loc[whole]), "quantity", lines.loc[whole, "quantity"], new_quantity,
               "corrected: quantity = amount / unit price",
               "amount is not quantity x unit price, but is a whole number of units at the "
               "unit price: the quantity was keyed wrong", 0.95)
    lines.loc[whole, "quantity"] = new_quantity
    new_amount = (lines.loc[far, "quantity"] * lines.loc[far, "unit_price"]).round(2)
    log.record(_keys(lines.loc[far]), "amount", lines.loc[far, "amount"], new_amount,
               "corrected: amount = quantity x unit price",
               N_("amount per unit is more than {ratio} times away from the product's usual "
                  "price and contradicts quantity x unit price").format(
                   ratio=f"{outlier_ratio:g}"), 0.95)
    lines.loc[far, "amount"] = new_amount
    log.record(_keys(lines.loc[small]), "amount", lines.loc[small, "amount"],
               lines.loc[small, "amount"], "flagged, not changed",
               "amount differs from quantity x unit price but is within the price history", 0.5)
    return lines, {"quantity": whole, "amount": far, "small": small}


def estimate_missing_amounts(lines: pd.DataFrame, log: _Log, level: float) -> tuple[
        pd.DataFrame, pd.Series, pd.Series]:
    """Fill missing unit prices and amounts.

    With one of the two present the other follows exactly (amount = quantity x unit price).
    With both missing, the unit price is estimated as list price x (1 - mean discount) of the
    line's system, with an interval from the discounts' ``level`` range; the amount follows.
    Estimated values get ``is_estimated`` and ``amount_lower``/``amount_upper``. Returns the
    lines, the mask of lines missing a value and the mask of those estimated.
    """
    lines = lines.copy()
    price_missing, amount_missing = lines["unit_price"].isna(), lines["amount"].isna()
    only_amount = amount_missing & ~price_missing
    new = (lines.loc[only_amount, "quantity"] * lines.loc[only_amount, "unit_price"]).round(2)
    log.record(_keys(lines.loc[only_amount]), "amount", lines.loc[only_amount, "amount"], new,
               "completed: amount = quantity x unit price", "amount missing", 0.99)
    lines.loc[only_amount, "amount"] = new
    only_price = price_missing & ~amount_missing & (lines["quantity"] != 0)
    new = (lines.loc[only_price, "amount"] / lines.loc[only_price, "quantity"]).round(2)
    log.record(_keys(lines.loc[only_price]), "unit_price", lines.loc[only_price, "unit_price"],
               new, "completed: unit price = amount / quantity", "unit price missing", 0.99)
    lines.loc[only_price, "unit_price"] = new

    both = price_missing & amount_missing
    lines["amount_lower"] = lines["amount"]
    lines["amount_upper"] = lines["amount"]
    if both.any():
        seen = lines.loc[~both & (lines["list_price"] > 0)]
        discount = (1 - seen["unit_price"] / seen["list_price"]).clip(0, 1)
        tail = (1 - level) / 2
        for source in lines.loc[both, "source"].unique():
            rows = both & (lines["source"] == source)
            d = discount[seen["source"] == source]
            d = d if len(d) else discount
            mean = d.mean()
            # the range always holds the point estimate (a skewed discount mix can put the mean
            # outside the central range)
            low, high = min(d.quantile(tail), mean), max(d.quantile(1 - tail), mean)
            unit = (lines.loc[rows, "list_price"] * (1 - mean)).round(2)
            unit_low = lines.loc[rows, "list_price"] * (1 - high)
            unit_high = lines.loc[rows, "list_price"] * (1 - low)
            qty = lines.loc[rows, "quantity"]
            amount = (qty * unit).round(2)
            bounds = np.sort(np.stack([qty * unit_low, qty * unit_high]), axis=0)
            method = N_("estimated: list price x (1 - mean discount {discount})").format(
                discount=f"{mean:.1%}")
            if source == "legacy":
                reason = N_("unit price and amount missing; the list price and the discounts "
                            "of legacy-system lines give the estimate and its {level} range")
            else:
                reason = N_("unit price and amount missing; the list price and the discounts "
                            "of current-system lines give the estimate and its {level} range")
            reason = reason.format(level=f"{level:.0%}")
            log.record(_keys(lines.loc[rows]), "unit_price", lines.loc[rows, "unit_price"], unit,
                       method, reason, level, unit_low.round(2), unit_high.round(2))
            log.record(_keys(lines.loc[rows]), "amount", lines.loc[rows, "amount"], amount,
                       method, reason, level, pd.Series(bounds[0], index=qty.index).round(2),
                       pd.Series(bounds[1], index=qty.index).round(2))
            lines.loc[rows, "unit_price"] = unit
            lines.loc[rows, "amount"] = amount
            lines.loc[rows, "amount_lower"] = bounds[0].round(2)
            lines.loc[rows, "amount_upper"] = bounds[1].round(2)
            lines.loc[rows, "is_estimated"] = True
    return lines, price_missing | amount_missing, both


def _keys(lines: pd.DataFrame) -> pd.Series:
    return lines["order_id"] + "#" + lines["line_no"].astype(str)


# ----------------------------------------------------------------------------------------------
# monthly history and its gaps
def monthly_sales(lines: pd.DataFrame) -> pd.DataFrame:
    """Observed net revenue per region x category x month, every combination present.

    Reads region, category, order_date, amount, is_estimated, amount_lower/amount_upper (when
    present). Returns region, category, month, lines, revenue, revenue_lower, revenue_upper,
    estimated_revenue (the part resting on estimated values), is_estimated (False here). The
    bounds add up the estimated lines' bounds: a conservative range for the month (wider than
    the lines' level, as their errors partly cancel).
    """
    lines = lines.assign(month=lines["order_date"].dt.to_period("M").dt.to_timestamp())
    lower = lines["amount_lower"] if "amount_lower" in lines else lines["amount"]
    upper = lines["amount_upper"] if "amount_upper" in lines else lines["amount"]
    grouped = lines.assign(
        _lower=lower, _upper=upper,
        _estimated=lines["amount"].where(lines["is_estimated"], 0.0),
    ).groupby(["region", "category", "month"])
    observed = grouped.agg(lines=("amount", "size"), revenue=("amount", "sum"),
                           revenue_lower=("_lower", "sum"), revenue_upper=("_upper", "sum"),
                           estimated_revenue=("_estimated", "sum"))
    months = pd.date_range(lines["month"].min(), lines["month"].max(), freq="MS", name="month")
    full = pd.MultiIndex.from_product([sorted(lines["region"].unique()),
                                       sorted(lines["category"].unique()), months],
                                      names=["region", "category", "month"])
    table = observed.reindex(full, fill_value=0).reset_index()
    table["lines"] = table["lines"].astype("float64")
    table["is_estimated"] = False
    return table


def find_gaps(table: pd.DataFrame, share: float, chance: float = 1e-6,
              period: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    """Region-months that lost their records: far fewer lines than the region's usual month.

    A region-month is a gap when it has fewer lines than ``share`` of the region's median month
    *and* so few that chance cannot explain it: under a Poisson count with the median as its
    mean, a count this low has probability below ``chance`` (strict, because lines come in
    orders and vary more than Poisson). Small regions' quiet months are therefore not gaps.
    ``period`` (first and last month, inclusive) limits the search to the months an export
    could have lost (the legacy system's); None searches every month.

    Returns region, month, lines, usual_lines (the region's median) for each gap.
    """
    from scipy.stats import poisson

    per_month = table.groupby(["region", "month"])["lines"].sum().rename("lines").reset_index()
    per_month["usual_lines"] = per_month.groupby("region")["lines"].transform("median")
    low = per_month["lines"] < share * per_month["usual_lines"]
    improbable = poisson.cdf(per_month["lines"], per_month["usual_lines"]) < chance
    inside = (per_month["month"].between(*period) if period is not None
              else pd.Series(True, index=per_month.index))
    return per_month.loc[low & improbable & inside].reset_index(drop=True)


def legacy_period(order_lines: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last month with legacy lines (None without a legacy system): the months whose
    records an export could have lost."""
    legacy = order_lines.loc[order_lines["source"] == "legacy", "order_date"]
    if legacy.empty:
        return None
    months = legacy.dt.to_period("M").dt.to_timestamp()
    # the legacy export's months run to the system change, even where one was lost at the end
    current = order_lines.loc[order_lines["source"] == "current", "order_date"]
    last = (current.min().to_period("M").to_timestamp() - pd.DateOffset(months=1)
            if len(current) else months.max())
    return months.min(), max(months.max(), last)


MODELS = [  # (formula, factors that must be seen in the fit), the first one that can be fitted
    ("np.log(revenue) ~ C(_series) + C(_series):_t + C(_moy)", ["_series", "_moy"]),
    ("np.log(revenue) ~ C(_series) + C(_series):_t", ["_series"]),
]


def estimate_gaps(table: pd.DataFrame, gaps: pd.DataFrame, level: float) -> tuple[
        pd.DataFrame, dict]:
    """Estimate the revenue of every category in the gap region-months with a seasonal model.

    Model (statsmodels OLS, fitted on every complete cell): log revenue = level of the
    region x category series + its own linear trend + a calendar-month seasonal effect shared by
    all series. Each gap cell gets the model's prediction (median on the revenue scale) and its
    ``level`` prediction interval (parameter and residual uncertainty), and is_estimated=True.

    When a gap's calendar month was never seen complete (or the history is short), the model
    drops the seasonal effect; with less than two complete cells per parameter nothing is
    estimated and the summary says so (model 'none').

    Returns the table with gap cells filled and a model summary (formula, cells fitted, R²,
    residual SD, level).
    """
    import statsmodels.formula.api as smf

    table = table.copy()
    start = table["month"].min()
    table["_t"] = ((table["month"].dt.year - start.year) * 12
                   + table["month"].dt.month - start.month) / 12.0
    table["_moy"] = table["month"].dt.month.astype("str")
    table["_series"] = table["region"] + "|" + table["category"]
    gap_cell = table.set_index(["region", "month"]).index.isin(
        gaps.set_index(["region", "month"]).index)
    fit_rows = ~gap_cell & (table["revenue"] > 0)
    summary = {"cells_fitted": int(fit_rows.sum()), "gap_cells": int(gap_cell.sum()),
               "interval_level": level}
    if not gap_cell.any():
        return table.drop(columns=["_t", "_moy", "_series"]), summary
    fit = table.loc[fit_rows]
    target = table.loc[gap_cell]
    formula = None
    for candidate, factors in MODELS:
        seen = all(set(target[f]) <= set(fit[f]) for f in factors)
        n_parameters = fit["_series"].nunique() * 2 + (11 if "_moy" in factors else 0)
        if seen and len(fit) >= 2 * n_parameters:
            formula = candidate
            break
    if formula is None:  # too little complete history to say anything about the gaps
        summary.update(model="none: too little complete history; gaps left unestimated")
        return table.drop(columns=["_t", "_moy", "_series"]), summary
    model = smf.ols(formula, data=fit).fit()
    frame = model.get_prediction(target).summary_frame(alpha=1 - level)
    estimate = np.exp(frame["mean"].to_numpy())
    table.loc[gap_cell, "revenue"] = estimate
    table.loc[gap_cell, "revenue_lower"] = np.exp(frame["obs_ci_lower"].to_numpy())
    table.loc[gap_cell, "revenue_upper"] = np.exp(frame["obs_ci_upper"].to_numpy())
    table.loc[gap_cell, "estimated_revenue"] = estimate
    table.loc[gap_cell, "is_estimated"] = True
    summary.update(model=formula)
    summary.update(r_squared=float(model.rsquared), residual_sd=float(np.sqrt(model.scale)),
                   parameters=int(model.df_model) + 1)
    return table.drop(columns=["_t", "_moy", "_series"]), summary


# ----------------------------------------------------------------------------------------------
# propagation: how much of a figure rests on estimates
def estimated_share(table: pd.DataFrame, by: list[str], value: str = "revenue",
                    estimated: str = "estimated_revenue") -> pd.DataFrame:
    """Per group: the figure, the part of it resting on estimated values, and that share.

    Works on ``monthly_sales`` (value='revenue', estimated='estimated_revenue') and on
    ``order_lines`` (value='amount', estimated=None: the amount of lines with is_estimated).
    Group columns may include 'year', derived from 'month' or 'order_date' when absent.
    """
    table = table.copy()
    if "year" in by and "year" not in table:
        date = table["month"] if "month" in table else table["order_date"]
        table["year"] = date.dt.year
    part = table[estimated] if estimated else table[value].where(table["is_estimated"], 0.0)
    out = table.assign(_estimated=part).groupby(by).agg(
        total=(value, "sum"), estimated=("_estimated", "sum"))
    out["share_estimated"] = (out["estimated"] / out["total"]).where(out["total"] != 0)
    return out


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
    lines = contract.validate("order_lines_unrepaired", order_lines_unrepaired).copy()
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
    before_lines = unrepaired.assign(amount=unrepaired["amount"].fillna(0.0),
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
