"""Stage 01: turn raw sources (as read by ``io.read_raw``) into the clean contract tables.

Every rule is counted in a quality report (rows in, rows out, rows affected per source and rule)
and every row that cannot be used is quarantined with its file row number and reason: nothing is
dropped silently. Only exact duplicate rows are removed (and counted). All functions are pure:
raw DataFrames in, new DataFrames out, no file I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import contract
from helpers.words import N_

# Default spellings of the reference company's regions and legacy labels. Keys are compared after
# ``_key`` (lower case, letters and CJK characters only), so "North-East " matches "northeast".
REGION_ALIASES: dict[str, str] = {
    "northeast": "Northeast", "ne": "Northeast", "东北": "Northeast",
    "northwest": "Northwest", "nw": "Northwest", "西北": "Northwest",
    "southeast": "Southeast", "se": "Southeast", "东南": "Southeast",
    "southwest": "Southwest", "sw": "Southwest", "西南": "Southwest",
    "central": "Central", "centre": "Central", "centralregion": "Central", "华中": "Central",
    "metro": "Metro", "metroarea": "Metro", "metropolitan": "Metro", "都会": "Metro",
}
CATEGORY_ALIASES: dict[str, str] = {
    "furniture": "Furniture", "家具": "Furniture",
    "ceramics": "Ceramics", "陶瓷": "Ceramics",
    "jewellery": "Jewellery", "jewelry": "Jewellery", "珠宝": "Jewellery",
    "paintings": "Paintings", "字画": "Paintings",
    "coinsstamps": "Coins & Stamps", "钱币邮票": "Coins & Stamps",
    "clocks": "Clocks", "钟表": "Clocks",
}
# Complaint taxonomy: first matching rule wins (refund before delivery: "waiting for refund").
COMPLAINT_RULES: list[tuple[str, str]] = [
    ("refund", r"refund|money back|return not processed"),
    ("damaged", r"damag|broken|chipped|scratch"),
    ("not_as_described", r"described|description|pictured|authentic|fake|differs from photo"),
    ("delivery", r"deliver|parcel|courier|not arrived|waiting for my order"),
    ("price", r"price|overcharg|cheaper|fee|charged"),
    ("service", r"staff|assistant|service|no reply|rude|impolite"),
]
SEVERITY_WORDS: dict[str, int] = {"low": 1, "minor": 1, "1": 1, "medium": 2, "med": 2, "2": 2,
                                  "high": 3, "urgent": 3, "3": 3}
ISO_DATE = "%Y-%m-%d"


# --------------------------------------------------------------------------------------------
# small value normalisers
def _key(values: pd.Series) -> pd.Series:
    return values.astype("str").str.lower().str.replace(r"[^a-z\u4e00-\u9fff]", "", regex=True)


def normalise_region(values: pd.Series, aliases: dict[str, str] | None = None) -> pd.Series:
    """Map free-form region spellings ('north-east', 'NE', '东北') to canonical names.

    Args:
        values: region strings as delivered.
        aliases: key -> canonical name, keys compared lower-case with only letters/CJK kept;
            defaults to ``REGION_ALIASES``.

    Returns:
        Canonical region names; unrecognised spellings become <NA> (the caller quarantines).
    """
    aliases = REGION_ALIASES if aliases is None else aliases
    return _key(values).map(aliases).astype("str")


def normalise_category(values: pd.Series, aliases: dict[str, str] | None = None) -> pd.Series:
    """Map category labels (English or the legacy Chinese ones) to canonical names; else <NA>."""
    aliases = CATEGORY_ALIASES if aliases is None else aliases
    return _key(values).map(aliases).astype("str")


def normalise_city(values: pd.Series) -> pd.Series:
    """Unify city spellings: trim and collapse spaces, then pick one spelling per city.

    Spellings sharing the same letters (ignoring case, spaces and punctuation: 'XI'AN', "xi'an ",
    'Xian') are one city; its name is the most frequent mixed-case spelling among them (the
    CRM's usual form; all-caps and all-lower-case entries are typing styles, not names), or the
    most frequent spelling when none is mixed case. Empty values stay empty.
    """
    trimmed = values.astype("str").str.strip().str.replace(r"\s+", " ", regex=True)
    keys = _key(trimmed)
    counts = (pd.DataFrame({"key": keys, "spelling": trimmed})
              .value_counts().rename("n").reset_index())
    counts["mixed_case"] = (counts["spelling"] != counts["spelling"].str.upper()) & (
        counts["spelling"] != counts["spelling"].str.lower())
    best = (counts.sort_values(["key", "mixed_case", "n", "spelling"],
                               ascending=[True, False, False, True])
            .drop_duplicates("key").set_index("key")["spelling"])
    return keys.map(best).astype("str")


def parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    """Parse date strings trying each format in turn; unparseable or impossible dates -> NaT."""
    text = values.astype("str").str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = parsed.isna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return parsed


def parse_numbers(values: pd.Series) -> pd.Series:
    """Strings to float; empty or non-numeric -> NaN."""
    return pd.to_numeric(values.astype("str").str.strip(), errors="coerce").astype(float)


def classify_complaints(labels: pd.Series, rules: list[tuple[str, str]] | None = None) -> pd.Series:
    """Complaint category from a free-form label by ordered keyword rules; 'other' if none match."""
    rules = COMPLAINT_RULES if rules is None else rules
    lower = labels.astype("str").str.lower()
    out = pd.Series("other", index=labels.index, dtype="str")
    assigned = pd.Series(False, index=labels.index)
    for category, pattern in rules:
        hit = lower.str.contains(pattern, regex=True) & ~assigned
        out[hit] = category
        assigned |= hit
    return out


def parse_severity(values: pd.Series) -> pd.Series:
    """'low'/'Med'/'3'/'urgent'... -> 1, 2, 3 (Int64); unknown -> <NA>."""
    return values.astype("str").str.strip().str.lower().map(SEVERITY_WORDS).astype("Int64")


# --------------------------------------------------------------------------------------------
# bookkeeping: quality report and quarantine
@dataclass
class Cleaned:
    """One cleaned table with its quality-report rows and its quarantined raw rows."""

    table: pd.DataFrame
    steps: list[dict] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)


class _Tracker:
    def __init__(self, source: str, raw: pd.DataFrame):
        self.source = source
        self.result = Cleaned(table=raw)
        self.raw = raw
        self.step("read", len(raw), 0, "rows", "rows read from the raw file")

    @property
    def rows(self) -> int:
        return len(self.result.table)

    def step(self, rule: str, rows_in: int, affected: int, action: str, detail: str) -> None:
        self.result.steps.append({
            "source": self.source, "rule": rule, "action": action, "rows_in": rows_in,
            "rows_affected": int(affected), "rows_out": self.rows, "detail": detail})

    def drop_exact_duplicates(self) -> None:
        frame = self.result.table
        dup = frame.drop(columns="_row").duplicated(keep="first")
        self.result.table = frame.loc[~dup]
        self.step("exact duplicate rows", len(frame), dup.sum(), "removed",
                  "identical to an earlier row in every column; the first copy is kept")

    def quarantine(self, bad: pd.Series, rule: str, detail: str, *,
                   action: str = "quarantined") -> None:
        frame = self.result.table
        bad = bad.fillna(True).astype(bool)
        if bad.any():
            rows = self.raw.loc[self.raw["_row"].isin(frame.loc[bad, "_row"])]
            self.result.quarantine.append(pd.DataFrame({
                "source": self.source, "row": rows["_row"].to_numpy(),
                "reason": rule if action == "quarantined" else f"{action}: {rule}",
                "record": records(rows.drop(columns="_row")).to_numpy(),
            }))
        self.result.table = frame.loc[~bad]
        self.step(rule, len(frame), bad.sum(), action, detail)

    def exclude(self, rows: pd.Series, rule: str, detail: str) -> None:
        """Leave out rows a mapping rule says are not in scope (counted, kept for review)."""
        self.quarantine(rows, rule, detail, action="excluded")

    def changed(self, rule: str, affected: int, detail: str) -> None:
        self.step(rule, self.rows, affected, "changed", detail)

    def finish(self, table: pd.DataFrame, name: str) -> Cleaned:
        self.result.table = contract.validate(name, table.reset_index(drop=True))
        self.step("contract check", len(table), 0, "checked",
                  N_("validated against the '{table}' contract schema").format(table=name))
        return self.result


def records(frame: pd.DataFrame) -> pd.Series:
    """Each row as one 'column=value; column=value' string (for the quarantine table)."""
    if frame.shape[1] == 0:
        return pd.Series("", index=frame.index, dtype="str")
    parts = [f"{name}=" + frame[name].astype("str").fillna("<NA>") for name in frame.columns]
    return parts[0].str.cat(parts[1:], sep="; ") if len(parts) > 1 else parts[0]


def _changed_count(before: pd.Series, after: pd.Series) -> int:
    return int((before.astype("str") != after.astype("str")).sum())


# --------------------------------------------------------------------------------------------
# one function per raw source
def clean_customers(raw: pd.DataFrame, region_aliases: dict[str, str] | None = None) -> Cleaned:
    """Clean the CRM customer export.

    Reads customer_id, region, city, join_date (ISO or yyyy/mm/dd), channel. Returns the
    ``customers`` contract table: canonical region, unified city spelling, join_date as date,
    channel lower-case. Exact duplicates are removed; rows with an unknown region, an
    unparseable date, or a customer_id repeated with different content are quarantined.
    """
    track = _Tracker("customers", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    track.quarantine(frame["customer_id"].str.strip() == "", "missing customer_id",
                     "no customer id: the row cannot be linked to anything")
    frame = track.result.table
    track.quarantine(frame["customer_id"].duplicated(keep="first"), "conflicting duplicate id",
                     "customer_id seen before with different details; first one kept")
    frame = track.result.table
    region = normalise_region(frame["region"], region_aliases)
    track.result.table = frame.assign(region_clean=region)
    track.quarantine(region.isna(), "unknown region", "region spelling not in the alias table")
    frame = track.result.table
    track.changed("region spelling", _changed_count(frame["region"], frame["region_clean"]),
                  "spelling variants mapped to canonical region names")
    city = normalise_city(frame["city"])
    track.changed("city spelling", _changed_count(frame["city"], city),
                  "case, spaces and punctuation variants unified")
    join = parse_dates(frame["join_date"], [ISO_DATE, "%Y/%m/%d"])
    track.result.table = frame.assign(join_parsed=join)
    track.quarantine(join.isna(), "invalid join_date", "join_date not a valid date")
    frame = track.result.table
    track.changed("join_date format", int((~frame["join_date"].str.match(
        r"^\d{4}-\d{2}-\d{2}$")).sum()), "yyyy/mm/dd dates converted")
    channel = frame["channel"].str.strip().str.lower()
    track.changed("channel case", _changed_count(frame["channel"], channel), "lower-cased")
    table = pd.DataFrame({
        "customer_id": frame["customer_id"].str.strip(), "region": frame["region_clean"],
        "city": city.loc[frame.index], "join_date": frame["join_parsed"], "channel": channel})
    return track.finish(table, "customers")


def _order_line_checks(track: _Tracker, frame: pd.DataFrame, quantity: pd.Series,
                       date: pd.Series, prices: pd.DataFrame,
                       may_be_missing: tuple[str, ...] = ()) -> None:
    track.result.table = frame.assign(_qty=quantity, _date=date, **{f"_{c}": prices[c]
                                                                   for c in prices})
    frame = track.result.table
    track.quarantine(frame["customer_id"].str.strip() == "", "missing customer_id",
                     "order line without customer: cannot be attributed (e.g. staff test order)")
    frame = track.result.table
    track.quarantine(frame["_date"].isna(), "invalid order_date", "not a valid calendar date")
    frame = track.result.table
    track.quarantine(frame["_qty"].isna() | (frame["_qty"] == 0), "zero or missing quantity",
                     "a line with no quantity is not a sale or a return")
    frame = track.result.table
    required = [f"_{c}" for c in prices if c not in may_be_missing]
    bad_price = frame[required].isna().any(axis=1) | (
        frame["_unit_price"] < 0) | (frame["_list_price"] < 0)
    track.quarantine(bad_price, "invalid price", "price missing, non-numeric or negative")


def clean_current_orders(raw: pd.DataFrame) -> Cleaned:
    """Clean the current order system's lines into ``order_lines`` rows (source='current').

    Reads order_id, line_no, customer_id, order_date (ISO), product_id, category, region,
    quantity (positive), unit_price, list_price, amount (currency units), line_type
    ('sale'/'return'). Returns contract rows where returns carry negative quantity and amount.
    """
    track = _Tracker("orders_current", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    prices = pd.DataFrame({c: parse_numbers(frame[c]) for c in ["unit_price", "list_price",
                                                                "amount"]})
    _order_line_checks(track, frame, parse_numbers(frame["quantity"]),
                       parse_dates(frame["order_date"], [ISO_DATE]), prices)
    frame = track.result.table
    line_type = frame["line_type"].str.strip().str.lower()
    track.quarantine(~line_type.isin(["sale", "return"]), "unknown line_type",
                     "line_type is neither 'sale' nor 'return'")
    frame = track.result.table
    track.quarantine(frame.duplicated(["order_id", "line_no"], keep="first"),
                     "conflicting duplicate line", "order_id + line_no seen before with other data")
    frame = track.result.table
    category, region = normalise_category(frame["category"]), normalise_region(frame["region"])
    track.result.table = frame.assign(_category=category, _region=region)
    track.quarantine(category.isna() | region.isna(), "unknown category or region",
                     "category or region spelling not in the alias tables")
    frame = track.result.table
    is_return = frame["line_type"].str.strip().str.lower() == "return"
    sign = np.where(is_return, -1, 1)
    track.changed("returns signed", int(is_return.sum()),
                  "return lines get negative quantity and amount (contract convention)")
    table = pd.DataFrame({
        "order_id": frame["order_id"].str.strip(),
        "line_no": frame["line_no"].astype(int),
        "customer_id": frame["customer_id"].str.strip(),
        "order_date": frame["_date"],
        "product_id": frame["product_id"].str.strip(),
        "category": frame["_category"],
        "region": frame["_region"],
        "quantity": (frame["_qty"].abs() * sign).astype(int),
        "unit_price": frame["_unit_price"],
        "list_price": frame["_list_price"],
        "amount": frame["_amount"].abs() * sign,
        "is_return": is_return.to_numpy(),
        "source": "current",
        "is_estimated": False,
    })
    return track.finish(table, "order_lines_unrepaired")


def clean_legacy_orders(raw: pd.DataFrame) -> Cleaned:
    """Clean the legacy export into ``order_lines`` rows (source='legacy').

    Reads BILL_NO, ITEM_SEQ, CUST_NO (integer), BILL_DATE (dd/mm/yyyy), ITEM_CODE, CATEGORY_CN
    and AREA_CN (Chinese labels, decoded from GBK by ``io.read_raw``), QTY (negative = return),
    PRICE_FEN, LIST_FEN, AMOUNT_FEN (fen = 1/100 currency unit). Returns
    ``order_lines_unrepaired`` rows with order_id 'L<BILL_NO>', customer_id 'C' + CUST_NO
    zero-padded to 6, money / 100. Values are kept as delivered otherwise: a missing PRICE_FEN or
    AMOUNT_FEN stays missing and wrong values stay wrong; ``history.repair_history`` (notebook
    02) corrects and estimates them and logs every change.
    """
    track = _Tracker("orders_legacy", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    cents = pd.DataFrame({c: parse_numbers(frame[f"{c_raw}"]) for c, c_raw in
                          [("unit_price", "PRICE_FEN"), ("list_price", "LIST_FEN"),
                           ("amount", "AMOUNT_FEN")]})
    frame = frame.assign(customer_id=frame["CUST_NO"].str.strip())
    track.result.table = frame
    _order_line_checks(track, frame, parse_numbers(frame["QTY"]),
                       parse_dates(frame["BILL_DATE"], ["%d/%m/%Y"]), cents / 100.0,
                       may_be_missing=("unit_price", "amount"))
    frame = track.result.table
    track.quarantine(frame.duplicated(["BILL_NO", "ITEM_SEQ"], keep="first"),
                     "conflicting duplicate line", "BILL_NO + ITEM_SEQ seen before with other data")
    frame = track.result.table
    category = normalise_category(frame["CATEGORY_CN"])
    region = normalise_region(frame["AREA_CN"])
    track.result.table = frame.assign(_category=category, _region=region)
    track.quarantine(category.isna() | region.isna(), "unknown category or region",
                     "legacy label not in the alias tables")
    frame = track.result.table
    track.changed("fen to currency units", len(frame), "PRICE/LIST/AMOUNT_FEN divided by 100")
    track.changed("legacy labels translated", len(frame), "Chinese category/region names mapped")
    is_return = frame["_qty"] < 0
    table = pd.DataFrame({
        "order_id": "L" + frame["BILL_NO"].str.strip(),
        "line_no": frame["ITEM_SEQ"].astype(int),
        "customer_id": "C" + frame["customer_id"].str.zfill(6),
        "order_date": frame["_date"],
        "product_id": frame["ITEM_CODE"].str.strip(),
        "category": frame["_category"],
        "region": frame["_region"],
        "quantity": frame["_qty"].astype(int),
        "unit_price": frame["_unit_price"],
        "list_price": frame["_list_price"],
        "amount": frame["_amount"],
        "is_return": is_return.to_numpy(),
        "source": "legacy",
        "is_estimated": False,
    })
    return track.finish(table, "order_lines_unrepaired")


def clean_price_changes(raw: pd.DataFrame) -> Cleaned:
    """Regional list-price changes: dates parsed, prices numeric and positive, region canonical."""
    track = _Tracker("price_changes", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    table = pd.DataFrame({
        "_row": frame["_row"], "product_id": frame["product_id"].str.strip(),
        "region": normalise_region(frame["region"]),
        "effective_date": parse_dates(frame["effective_date"], [ISO_DATE]),
        "old_price": parse_numbers(frame["old_price"]),
        "new_price": parse_numbers(frame["new_price"])})
    track.result.table = table
    track.quarantine(table.isna().any(axis=1) | (table["old_price"] <= 0)
                     | (table["new_price"] <= 0), "invalid price change",
                     "unknown region, bad date or non-positive price")
    return track.finish(track.result.table.drop(columns="_row"), "price_changes")


def clean_market_index(raw: pd.DataFrame) -> Cleaned:
    """Market price index: month 'YYYY-MM' to the month's first day, index numeric > 0."""
    track = _Tracker("market_index", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    table = pd.DataFrame({
        "_row": frame["_row"], "category": normalise_category(frame["category"]),
        "region": normalise_region(frame["region"]),
        "month": parse_dates(frame["month"], ["%Y-%m"]),
        "index": parse_numbers(frame["index"])})
    track.result.table = table
    track.quarantine(table.isna().any(axis=1) | (table["index"] <= 0), "invalid index row",
                     "unknown category/region, bad month or non-positive index")
    return track.finish(track.result.table.drop(columns="_row"), "market_index")


RECOMMEND_SCALE = (0, 10)
SATISFACTION_SCALE = (1, 5)


def on_scales(recommend: pd.Series, satisfaction: pd.Series, *,
              missing_is_out_of_range: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Survey scores kept on their scales (recommend 0-10, satisfaction 1-5).

    Returns (recommend, satisfaction) as rounded Int64 with values off their scale set to <NA>,
    and a mask of the rows with a score off its scale. A missing score counts as off the
    scale when ``missing_is_out_of_range`` (an answer row must carry both scores), else not
    (invitations without an answer).
    """
    off = {}
    for name, values, (low, high) in [("recommend", recommend, RECOMMEND_SCALE),
                                      ("satisfaction", satisfaction, SATISFACTION_SCALE)]:
        outside = ~values.between(low, high)
        off[name] = outside if missing_is_out_of_range else outside & values.notna()
    return (recommend.where(recommend.between(*RECOMMEND_SCALE)).round().astype("Int64"),
            satisfaction.where(satisfaction.between(*SATISFACTION_SCALE)).round().astype("Int64"),
            off["recommend"] | off["satisfaction"])


def clean_surveys(invitations: pd.DataFrame, responses: pd.DataFrame) -> tuple[Cleaned, Cleaned]:
    """Join survey invitations with answers into ``survey_responses`` (one row per invitation).

    Reads invitation_id, customer_id, sent_date, wave (invitations) and invitation_id,
    response_date, q_recommend (0-10), q_satisfaction (1-5) (responses). responded is True where
    an answer exists. quality_flag: 'no_response', 'ok', or 'out_of_range' (an answer outside its
    scale is kept as a response but its score set to <NA>). Answers to unknown invitations and
    second answers to one invitation are quarantined.

    Returns:
        (cleaned invitations joined with answers, the responses' own bookkeeping).
    """
    inv_track = _Tracker("survey_invitations", invitations)
    inv_track.drop_exact_duplicates()
    inv = inv_track.result.table
    sent = parse_dates(inv["sent_date"], [ISO_DATE])
    inv_track.result.table = inv.assign(_sent=sent)
    inv_track.quarantine(sent.isna() | (inv["customer_id"].str.strip() == ""),
                         "invalid invitation", "missing customer or bad sent_date")
    inv = inv_track.result.table
    resp_track = _Tracker("survey_responses", responses)
    resp_track.drop_exact_duplicates()
    resp = resp_track.result.table
    resp_track.quarantine(~resp["invitation_id"].isin(inv["invitation_id"]),
                          "unknown invitation", "answer to an invitation that was never sent")
    resp = resp_track.result.table
    resp_track.quarantine(resp["invitation_id"].duplicated(keep="first"),
                          "second answer", "invitation answered twice; first answer kept")
    resp = resp_track.result.table
    recommend, satisfaction, out_of_range = on_scales(
        parse_numbers(resp["q_recommend"]), parse_numbers(resp["q_satisfaction"]),
        missing_is_out_of_range=True)
    resp_track.changed("score out of range", int(out_of_range.sum()),
                       "score outside its scale set to missing, flagged out_of_range")
    answers = pd.DataFrame({
        "invitation_id": resp["invitation_id"],
        "response_date": parse_dates(resp["response_date"], [ISO_DATE]),
        "recommend_score": recommend, "satisfaction": satisfaction,
        "quality_flag": np.where(out_of_range, "out_of_range", "ok"),
    })
    table = inv.assign(customer_id=inv["customer_id"].str.strip(), sent_date=inv["_sent"],
                       wave=pd.to_numeric(inv["wave"], errors="coerce").astype("Int64"))[
        ["invitation_id", "customer_id", "sent_date", "wave"]].merge(
        answers, on="invitation_id", how="left", validate="one_to_one")
    table["responded"] = table["invitation_id"].isin(answers["invitation_id"])
    table["quality_flag"] = table["quality_flag"].fillna("no_response").astype("str")
    table = table[["invitation_id", "customer_id", "wave", "sent_date", "responded",
                   "response_date", "recommend_score", "satisfaction", "quality_flag"]]
    resp_track.step("joined to invitations", len(resp), 0, "checked",
                    N_("{count} answers matched to invitations").format(
                        count=f"{len(answers):,}"))
    return inv_track.finish(table, "survey_responses"), resp_track.result


def clean_referrals(raw: pd.DataFrame) -> Cleaned:
    """Referrals: dates parsed; exact duplicates removed; self-referrals quarantined."""
    track = _Tracker("referrals", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    date = parse_dates(frame["referral_date"], [ISO_DATE])
    track.result.table = frame.assign(_date=date)
    track.quarantine(date.isna() | (frame["referrer_id"] == frame["referred_customer_id"]),
                     "invalid referral", "bad date or customer referring themselves")
    frame = track.result.table
    table = pd.DataFrame({"referrer_id": frame["referrer_id"].str.strip(),
                          "referred_customer_id": frame["referred_customer_id"].str.strip(),
                          "referral_date": frame["_date"]})
    return track.finish(table, "referrals")


def clean_engagement(raw: pd.DataFrame) -> Cleaned:
    """Engagement events: kind lower-cased ('FOLLOW' -> 'follow'), dates parsed.

    Events carry no id, so identical rows (two newsletter clicks on one day) are kept as
    separate events, not treated as duplicates.
    """
    track = _Tracker("engagement", raw)
    frame = track.result.table
    date = parse_dates(frame["event_date"], [ISO_DATE])
    track.result.table = frame.assign(_date=date)
    track.quarantine(date.isna() | (frame["customer_id"].str.strip() == ""), "invalid event",
                     "bad date or missing customer")
    frame = track.result.table
    kind = frame["kind"].str.strip().str.lower()
    track.changed("kind labels", _changed_count(frame["kind"], kind), "lower-cased")
    table = pd.DataFrame({"customer_id": frame["customer_id"].str.strip(),
                          "event_date": frame["_date"], "kind": kind})
    return track.finish(table, "engagement")


def clean_complaints(raw: pd.DataFrame) -> Cleaned:
    """Complaints: the free-form label kept as raw_label, mapped to a taxonomy category by
    ``COMPLAINT_RULES``; severity words/digits to 1-3."""
    track = _Tracker("complaints", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    date = parse_dates(frame["complaint_date"], [ISO_DATE])
    track.result.table = frame.assign(_date=date)
    track.quarantine(date.isna() | frame["complaint_id"].duplicated(keep="first"),
                     "invalid complaint", "bad date or complaint_id repeated with other content")
    frame = track.result.table
    category = classify_complaints(frame["label"])
    severity = parse_severity(frame["severity"])
    track.changed("label to taxonomy", int((category != "other").sum()),
                  "free-form labels mapped to categories by keyword rules")
    track.changed("severity unknown", int(severity.isna().sum()), "severity left missing")
    table = pd.DataFrame({"complaint_id": frame["complaint_id"].str.strip(),
                          "customer_id": frame["customer_id"].str.strip(),
                          "complaint_date": frame["_date"], "raw_label": frame["label"],
                          "category": category, "severity": severity})
    return track.finish(table, "complaints")


# --------------------------------------------------------------------------------------------
@dataclass
class CleaningResult:
    """All clean contract tables, the quality report and the quarantined rows."""

    tables: dict[str, pd.DataFrame]
    quality_report: pd.DataFrame
    quarantine: pd.DataFrame


def clean_customer_id_map(raw: pd.DataFrame) -> Cleaned:
    """The CRM migration table: legacy member number -> CRM customer_id.

    Returns the ``customer_id_map`` table with ``legacy_customer_id`` written the way
    ``clean_legacy_orders`` writes legacy customer ids ('C' + number zero-padded to 6). Rows
    without both ids, or a legacy number mapped twice to different customers, are quarantined.
    """
    track = _Tracker("customer_id_map", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    number = frame["legacy_customer_no"].str.strip()
    track.quarantine(~number.str.fullmatch(r"\d+") | (frame["customer_id"].str.strip() == ""),
                     "incomplete mapping", "legacy number or customer_id missing or malformed")
    frame = track.result.table
    legacy_id = "C" + frame["legacy_customer_no"].str.strip().str.zfill(6)
    track.quarantine(legacy_id.duplicated(keep=False), "ambiguous legacy number",
                     "the same legacy number is mapped to more than one customer")
    frame = track.result.table
    table = pd.DataFrame({
        "legacy_customer_id": "C" + frame["legacy_customer_no"].str.strip().str.zfill(6),
        "customer_id": frame["customer_id"].str.strip()})
    return track.finish(table, "customer_id_map")


def integrate_orders(current: pd.DataFrame, legacy: pd.DataFrame) -> pd.DataFrame:
    """Stack current and legacy order lines into one ``order_lines`` table, by date."""
    both = pd.concat([legacy, current], ignore_index=True)
    return both.sort_values(["order_date", "order_id", "line_no"], ignore_index=True)


def clean_all(raw: dict[str, pd.DataFrame]) -> CleaningResult:
    """Clean every raw source (as returned by ``io.read_raw``) and integrate the orders.

    Order lines and events pointing at customers missing from the customer table are
    quarantined ("unknown customer_id"), so every clean table joins to ``customers`` (legacy
    order lines may use a legacy member number listed in ``customer_id_map``; notebook 02 maps
    them).

    Returns:
        CleaningResult with tables customers, order_lines_unrepaired (the input of the history
        repair), price_changes, market_index, survey_responses, referrals, engagement,
        complaints, customer_id_map; a quality report (one row per
        source and rule: rows_in, rows_affected, rows_out, action, detail) and the
        quarantine (source, row number in the raw file, reason, the raw record).
    """
    parts: dict[str, Cleaned] = {
        "customers": clean_customers(raw["customers"]),
        "orders_current": clean_current_orders(raw["orders_current"]),
        "orders_legacy": clean_legacy_orders(raw["orders_legacy"]),
        "price_changes": clean_price_changes(raw["price_changes"]),
        "market_index": clean_market_index(raw["market_index"]),
        "referrals": clean_referrals(raw["referrals"]),
        "engagement": clean_engagement(raw["engagement"]),
        "complaints": clean_complaints(raw["complaints"]),
        "customer_id_map": clean_customer_id_map(raw["customer_id_map"]),
    }
    parts["survey_invitations"], parts["survey_responses"] = clean_surveys(
        raw["survey_invitations"], raw["survey_responses"])
    known = set(parts["customers"].table["customer_id"])
    # legacy member numbers of known customers are known too (02 maps them to the CRM id)
    id_map = parts["customer_id_map"].table
    known_legacy = known | set(id_map.loc[id_map["customer_id"].isin(known),
                                          "legacy_customer_id"])
    steps, quarantined = [], []
    for part in parts.values():
        steps.extend(part.steps)
        quarantined.extend(part.quarantine)
    order_lines = integrate_orders(parts["orders_current"].table, parts["orders_legacy"].table)
    tables = {
        "customers": parts["customers"].table,
        "order_lines_unrepaired": order_lines,
        "price_changes": parts["price_changes"].table,
        "market_index": parts["market_index"].table,
        "survey_responses": parts["survey_invitations"].table,
        "referrals": parts["referrals"].table,
        "engagement": parts["engagement"].table,
        "complaints": parts["complaints"].table,
        "customer_id_map": id_map,
    }
    tables, orphan_steps, orphan_rows = quarantine_orphans(tables, known, known_legacy)
    quality = pd.DataFrame(steps + orphan_steps, columns=QUALITY_COLUMNS)
    quarantine = stack_quarantine(quarantined + orphan_rows)
    return CleaningResult(tables=tables, quality_report=quality, quarantine=quarantine)


QUALITY_COLUMNS = ["source", "rule", "action", "rows_in", "rows_affected", "rows_out", "detail"]
CUSTOMER_COLUMNS = {"order_lines_unrepaired": ["customer_id"], "survey_responses": ["customer_id"],
                    "engagement": ["customer_id"], "complaints": ["customer_id"],
                    "referrals": ["referrer_id", "referred_customer_id"]}


def quarantine_orphans(tables: dict[str, pd.DataFrame], known: set[str],
                       known_on_order_lines: set[str] | None = None) -> tuple[
        dict[str, pd.DataFrame], list[dict], list[pd.DataFrame]]:
    """Set aside rows whose customer is not in the customer table.

    Args:
        tables: clean tables by name (those present of ``CUSTOMER_COLUMNS`` are checked).
        known: customer ids of the customer table.
        known_on_order_lines: ids order lines may use (default ``known``; the built-in data
            adds legacy member numbers).

    Returns:
        (tables without the orphan rows, quality-report rows, quarantine frames).
    """
    tables = dict(tables)
    steps, quarantined = [], []
    for name, columns in CUSTOMER_COLUMNS.items():
        if name not in tables:
            continue
        table = tables[name]
        ids = known_on_order_lines if (name == "order_lines_unrepaired"
                                       and known_on_order_lines is not None) else known
        orphan = ~table[columns].isin(ids).all(axis=1)
        if orphan.any():
            quarantined.append(pd.DataFrame({
                "source": name, "row": pd.array([pd.NA] * int(orphan.sum()), dtype="Int64"),
                "reason": "unknown customer_id",
                "record": records(table.loc[orphan]).to_numpy()}))
        tables[name] = table.loc[~orphan].reset_index(drop=True)
        steps.append({"source": name, "rule": "customer exists", "action": "quarantined",
                      "rows_in": len(table), "rows_affected": int(orphan.sum()),
                      "rows_out": len(tables[name]),
                      "detail": "rows whose customer is not in the customer table"})
    return tables, steps, quarantined


def stack_quarantine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One quarantine table (source, row, reason, record) from per-rule frames."""
    quarantine = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["source", "row", "reason", "record"]))
    quarantine["row"] = quarantine["row"].astype("Int64")
    return quarantine


def source_summary(result: CleaningResult) -> pd.DataFrame:
    """Per raw source: rows read, duplicates removed, rows quarantined, rows kept.

    Returns one row per source (index) with rows_read, duplicates_removed, quarantined,
    rows_clean and share_kept (fraction 0-1 of rows read that reached a clean table).
    """
    q = result.quality_report
    read = q[q["rule"] == "read"].set_index("source")["rows_in"]
    removed = q[q["action"] == "removed"].groupby("source")["rows_affected"].sum()
    excluded = q[q["action"] == "excluded"].groupby("source")["rows_affected"].sum()
    quarantined = q[q["action"] == "quarantined"].groupby("source")["rows_affected"].sum()
    out = pd.DataFrame({"rows_read": read}).assign(
        duplicates_removed=removed, excluded=excluded, quarantined=quarantined
    ).fillna(0).astype(int)
    out["rows_clean"] = (out["rows_read"] - out["duplicates_removed"] - out["excluded"]
                         - out["quarantined"])
    out["share_kept"] = out["rows_clean"] / out["rows_read"].where(out["rows_read"] > 0)
    return out


def builtin_sources(result: CleaningResult) -> pd.DataFrame:
    """Where each contract table came from in the built-in (reference company) layout: table,
    origin and rows, like ``sources.clean_mapped`` reports for a mapping."""
    files = {"order_lines": N_("files {names}").format(
        names="orders_current.csv + orders_legacy.csv"), "survey_responses": N_(
        "files {names}").format(names="survey_invitations.csv + survey_responses.csv")}
    rows = []
    for name in ["order_lines", "customers", "price_changes", "market_index",
                 "survey_responses", "referrals", "engagement", "complaints"]:
        table = result.tables["order_lines_unrepaired" if name == "order_lines" else name]
        origin = files.get(name, N_("file {name}").format(name=f"{name}.csv"))
        rows.append({"table": name, "origin": origin,
                     "rows": len(table)})
    return pd.DataFrame(rows)


DATE_COLUMNS = {"customers": "join_date", "order_lines": "order_date",
                "order_lines_unrepaired": "order_date",
                "price_changes": "effective_date", "market_index": "month",
                "survey_responses": "sent_date", "referrals": "referral_date",
                "engagement": "event_date", "complaints": "complaint_date"}


def table_overview(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per clean table: rows, columns, first and last date of its main date column."""
    rows = []
    for name, table in tables.items():
        dates = table[DATE_COLUMNS[name]] if DATE_COLUMNS.get(name) in table else None
        rows.append({"table": name, "rows": len(table), "columns": table.shape[1],
                     "first_date": dates.min() if dates is not None else pd.NaT,
                     "last_date": dates.max() if dates is not None else pd.NaT})
    return pd.DataFrame(rows).set_index("table")


def monthly_lines_by_source(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Sale lines per calendar month and source system (returns excluded).

    Reads order_date, source, is_return. Returns a month x source table of line counts (0 where
    a system had no lines that month), index = first day of the month.

    Lines dated more than a month outside the 0.1%-99.9% range of all dates (impossible dates
    such as 1900 or 2032, repaired in notebook 02) are left out and counted in
    ``.attrs["outside_range"]``.
    """
    sales = order_lines.loc[~order_lines["is_return"]]
    low, high = sales["order_date"].quantile([0.001, 0.999])
    inside = sales["order_date"].between(low - pd.DateOffset(months=1),
                                         high + pd.DateOffset(months=1))
    month = sales.loc[inside, "order_date"].dt.to_period("M").dt.to_timestamp()
    counts = sales.loc[inside].groupby([month, sales.loc[inside, "source"]]).size().unstack(
        fill_value=0)
    counts.index.name = "month"
    counts.attrs["outside_range"] = int((~inside).sum())
    return counts
