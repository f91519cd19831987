"""The repair rules of stage 02: each finds one kind of wrong legacy value, corrects or
estimates it, and writes every change to the repair log."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import frames
from helpers.history.log import _TOLERANCE, _keys, _Log, bill_number
from helpers.words import N_


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
    signature = ["customer_id", "order_date", "product_id", "line_no", "quantity", "unit_price",
                 "list_price", "amount"]
    legacy = lines.loc[lines["source"] == "legacy", [*signature, "region", "order_id"]]
    if legacy.empty:
        return lines, 0
    bill = bill_number(legacy["order_id"])
    by_bill = np.argsort(bill.to_numpy(), kind="stable")  # only the columns used are sorted
    ordered = legacy.iloc[by_bill].assign(_bill=bill.iloc[by_bill])
    repeat = frames.duplicated(ordered[signature])
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
    hit = (lines["source"] == "legacy") & frames.isin(lines["customer_id"], mapping.index)
    new = lines.loc[hit, "customer_id"].map(mapping)
    log.record(_keys(lines.loc[hit]), "customer_id", lines.loc[hit, "customer_id"], new,
               "definition: id crosswalk",
               "the legacy system knew this customer under an old member number; the CRM "
               "migration table maps it to the customer's id", 1.0)
    lines = lines.copy(deep=False)  # copy on write: only the columns changed below are copied
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
    lines = lines.copy(deep=False)  # copy on write: only the columns changed below are copied
    lines.loc[legacy, "order_date"] = new
    return lines, int(legacy.sum())


def most_common_date(lines: pd.DataFrame) -> pd.Series:
    """Per order_id and is_return: the date most of its lines carry (the earliest of equally
    common ones, as ``Series.mode().iloc[0]``), by one count and sort instead of a function
    call per bill."""
    counts = lines.groupby(["order_id", "is_return", "order_date"]).size().rename("n")
    ranked = counts.reset_index().sort_values(["order_id", "is_return", "n", "order_date"],
                                              ascending=[True, True, False, True])
    first = ranked.drop_duplicates(["order_id", "is_return"])
    return first.set_index(["order_id", "is_return"])["order_date"]


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
    lines = lines.copy(deep=False)  # copy on write: only the columns changed below are copied
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
    good = lines.loc[~bad, ["order_id", "is_return", "order_date", "source"]]  # what is read
    bill = bill_number(lines["order_id"])
    new_date = pd.Series(pd.NaT, index=lines.index, dtype=dates.dtype)
    method = pd.Series("", index=lines.index, dtype="str")
    estimated = pd.Series(False, index=lines.index)
    lower = pd.Series(pd.NaT, index=lines.index, dtype=dates.dtype)
    upper = lower.copy()

    # 1. same bill, same kind of line
    flagged = lines.loc[bad]
    siblings = good.loc[good["order_id"].isin(flagged["order_id"])]
    same_bill = most_common_date(siblings)
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
            bill_dates = (part["order_date"].groupby(bill[part.index].to_numpy()).min()
                          .sort_index())
            mine = todo[(lines.loc[todo, "source"] == source).to_numpy()]
            if len(mine) == 0 or bill_dates.empty:
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
    lines = lines.copy(deep=False)  # copy on write: only the columns changed below are copied
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
    lines = lines.copy(deep=False)  # copy on write: only the columns changed below are copied
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
    lines = lines.copy(deep=False)  # copy on write: only the columns changed below are copied
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


