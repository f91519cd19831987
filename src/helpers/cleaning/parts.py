"""Cleaning one source (a part of a source mapping) into rows of its contract table.

The same rules for every source, the built-in sample's included, in this order: exact duplicate
rows removed (not for engagement events, which carry no id); the mapping's ``exclude`` rules;
columns renamed and parsed (dates, numbers and money units, ids and their ``id_format``,
``aliases`` and ``vocabulary`` spellings); rows lacking a required value, or with one that cannot
be read, quarantined ("missing x" / "invalid x"); then each table's own checks (a whole non-zero
quantity and valid prices on order lines, one row per key, spellings in the vocabulary, ...).
Every rule is a quality-report row (``ledger``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import contract, frames
from helpers.cleaning.columns import PRICE_COLUMNS, mapped_frame, rule_matches
from helpers.cleaning.ledger import Cleaned
from helpers.cleaning.rules import (
    KEYS,
    count_changes,
    exclusions,
    in_vocabulary,
    lower_case,
    mapped_rows,
    one_row_per_key,
    plausible_values,
    required_values,
    start,
    unreadable_values,
)
from helpers.cleaning.values import classify_complaints, normalise_city, on_scales
from helpers.sources import EXTRA_COLUMNS, TableSource
from helpers.words import N_


def clean_order_lines(source: TableSource, raw: pd.DataFrame, currency: str = "") -> Cleaned:
    """Order lines of one source as ``order_lines_unrepaired`` rows.

    Returns are the ``returns`` rule's rows (with ``sales_pattern``, a row matching neither is
    quarantined), else the lines with a negative quantity; they get negative quantity and
    amount. A ``system: legacy`` source keeps its values as delivered (a missing unit price or
    amount stays missing, a wrong sign stays wrong): the history repair (notebook 02) corrects
    and estimates them and logs every change.
    """
    spec, legacy = source.spec, source.spec.get("system") == "legacy"
    ledger = start(source, raw)
    returns = spec.get("returns")
    is_return = rule_matches(ledger.table, returns) if returns else None
    exclusions(ledger, source, is_return, currency)
    frame = ledger.table
    ledger.table = mapped_frame(source, frame)
    required_values(ledger, source, frame, skip={"quantity", *PRICE_COLUMNS})
    lines = ledger.table
    if returns and "sales_pattern" in returns:
        sale = rule_matches(frame.loc[lines.index], returns, "sales_pattern")
        ledger.quarantine(~is_return.loc[lines.index] & ~sale,
                          N_("unknown {column}").format(column=returns["column"]),
                          N_("{column} matches neither the returns nor the sales pattern")
                          .format(column=returns["column"]))
    lines = ledger.table
    ledger.quarantine(lines["quantity"].isna() | (lines["quantity"] == 0),
                      N_("zero or missing quantity"),
                      N_("a line with no quantity is not a sale or a return"))
    lines = ledger.table
    ledger.quarantine(lines["quantity"] % 1 != 0, N_("fractional quantity"),
                      N_("a line needs a whole number of units"))
    lines = ledger.table
    # a legacy line may lack its unit price and amount (02 completes them from the list
    # price); without a list price delivered, the unit price is the only price there is
    may_lack = {"amount", "unit_price"} if "list_price" in lines else {"amount"}
    required = [c for c in PRICE_COLUMNS if c in lines and not (legacy and c in may_lack)]
    bad_price = lines[required].isna().any(axis=1) | (lines["unit_price"] < 0)
    if "list_price" in lines:
        bad_price |= lines["list_price"] < 0
    ledger.quarantine(bad_price, N_("invalid price"), N_("price missing, non-numeric or negative"))
    plausible_values(ledger, source)
    one_row_per_key(ledger, "order_lines")
    in_vocabulary(ledger, source)
    count_changes(ledger, source, frame)
    lines = ledger.table
    is_return = (is_return.loc[lines.index] if is_return is not None
                 else lines["quantity"] < 0).astype(bool)
    sign = np.where(is_return, -1, 1)
    derived = []
    if legacy:
        quantity, amount = lines["quantity"], lines.get("amount")
    else:
        ledger.changed(N_("returns signed"), int((np.sign(lines["quantity"]) != sign).sum()),
                       N_("quantity (and amount) made negative on returns and positive on sales"))
        quantity = lines["quantity"].abs() * sign
        amount = lines["amount"].abs() * sign if "amount" in lines else None
    if amount is None:
        amount = quantity * lines["unit_price"]
        derived.append(N_("amount = quantity x unit price"))
    list_price = lines["list_price"] if "list_price" in lines else lines["unit_price"]
    if "list_price" not in lines:
        derived.append(N_("list price = unit price (not delivered)"))
    line_no = lines["line_no"] if "line_no" in lines else \
        lines.groupby("order_id").cumcount() + 1
    if "line_no" not in lines:
        derived.append(N_("line numbers within each order"))
    if derived:
        ledger.changed(N_("derived columns"), len(lines), "; ".join(derived))
    table = pd.DataFrame({
        "order_id": lines["order_id"], "line_no": line_no.astype(int),
        "customer_id": lines["customer_id"], "order_date": lines["order_date"],
        "product_id": lines["product_id"], "category": lines["category"],
        "region": lines["region"], "quantity": quantity.astype(int),
        "unit_price": lines["unit_price"], "list_price": list_price, "amount": amount,
        "is_return": is_return.to_numpy(), "source": "legacy" if legacy else "current",
        "is_estimated": False})
    table = table.sort_values(["order_date", "order_id", "line_no"], kind="stable")
    return ledger.finish(table, "order_lines_unrepaired")


def clean_customers(source: TableSource, raw: pd.DataFrame,
                    first_orders: pd.Series | None = None) -> Cleaned:
    """Customers: one row per id (a repeated id with other details quarantined), region in the
    vocabulary when one is named, city spellings unified, channel lower-cased; without a
    delivered join date, the customer's first order (``first_orders``: customer_id -> date)."""
    ledger, frame = mapped_rows(source, raw)
    one_row_per_key(ledger, "customers")
    in_vocabulary(ledger, source)
    count_changes(ledger, source, frame)
    customers = ledger.table
    city = normalise_city(customers["city"]) if "city" in customers else \
        pd.Series("", index=customers.index, dtype="str")
    if "city" in customers:
        ledger.changed(N_("city spelling"), int((city != customers["city"]).sum()),
                       N_("case, spaces and punctuation variants unified"))
    channel = lower_case(ledger, frame, source, "channel") if "channel" in customers else \
        "unknown"
    join_date = customers["join_date"] if "join_date" in customers else (
        customers["customer_id"].map(first_orders) if first_orders is not None else pd.NaT)
    table = pd.DataFrame({"customer_id": customers["customer_id"],
                          "region": customers["region"], "city": city,
                          "join_date": join_date, "channel": channel})
    return ledger.finish(table, "customers")


def derive_customers(order_lines: pd.DataFrame) -> pd.DataFrame:
    """A ``customers`` table from order lines, for sources without a customer file.

    One row per customer: region = the region of most of their lines (ties: alphabetical),
    join_date = first order date, city '' and channel 'unknown'.
    """
    counts = order_lines.groupby(["customer_id", "region"]).size().rename("n").reset_index()
    region = (counts.sort_values(["customer_id", "n", "region"], ascending=[True, False, True])
              .drop_duplicates("customer_id").set_index("customer_id")["region"])
    first = order_lines.groupby("customer_id")["order_date"].min()
    return pd.DataFrame({"customer_id": first.index.astype("str"),
                         "region": region.reindex(first.index).to_numpy(),
                         "city": "", "join_date": first.to_numpy(),
                         "channel": "unknown"}).reset_index(drop=True)


def clean_survey(source: TableSource, raw: pd.DataFrame,
                 answers_raw: pd.DataFrame | None = None) -> tuple[Cleaned, Cleaned | None]:
    """Survey invitations (with their answers, or joined with a separate ``answers`` source)
    as ``survey_responses``, one row per invitation.

    responded: the row has an answer (an answers row, or a score or response date); an answer
    off its scale is kept as a response with that score missing and flagged 'out_of_range'
    (``quality_flag``: 'no_response', 'ok', 'out_of_range'). Separate answers to an unknown
    invitation and second answers to one invitation are quarantined.

    Returns:
        (the survey table's part, the answers' own bookkeeping or None).
    """
    ledger, _delivered = mapped_rows(source, raw)
    survey = ledger.table
    answered_part = None
    if source.answers is not None and answers_raw is not None:
        answers, answered_part = _clean_answers(source.answers, answers_raw, survey)
        survey = survey.drop(columns=[c for c in answers if c in survey and
                                      c != "invitation_id"]).merge(
            answers, on="invitation_id", how="left", validate="one_to_one")
        survey["responded"] = survey["quality_flag"].notna()
        survey["quality_flag"] = survey["quality_flag"].fillna("no_response").astype("str")
    else:
        for column in ("recommend_score", "satisfaction"):
            if column not in survey:
                survey[column] = np.nan
        if "response_date" not in survey:
            survey["response_date"] = pd.Series(pd.NaT, index=survey.index,
                                                dtype="datetime64[us]")
        if "responded" not in survey:
            survey["responded"] = survey[["recommend_score", "satisfaction"]].notna().any(
                axis=1) | survey["response_date"].notna()
        survey["recommend_score"], survey["satisfaction"], off = on_scales(
            survey["recommend_score"], survey["satisfaction"], missing_is_out_of_range=False)
        ledger.changed(N_("score out of range"), int(off.sum()),
                       N_("score outside its scale set to missing, flagged out_of_range"))
        if "quality_flag" not in source.columns:
            survey["quality_flag"] = np.where(off, "out_of_range", np.where(
                survey["responded"].fillna(False), "ok", "no_response"))
    early = survey["response_date"] < survey["sent_date"]
    if early.any():
        survey["response_date"] = survey["response_date"].mask(early)
        ledger.changed(N_("answered before sent"), int(early.sum()),
                       N_("response date before the invitation's sent date set to missing "
                          "(the answer is kept)"))
    columns = [c for c in ["invitation_id", "customer_id", "wave"] if c in survey] + [
        "sent_date", "responded", "response_date", "recommend_score", "satisfaction",
        "quality_flag"]
    return ledger.finish(survey[columns], "survey_responses"), answered_part


def _clean_answers(source: TableSource, raw: pd.DataFrame,
                   invitations: pd.DataFrame) -> tuple[pd.DataFrame, Cleaned]:
    ledger = start(source, raw)
    delivered = ledger.table
    ledger.table = mapped_frame(source, delivered)
    unreadable_values(ledger, source, delivered)
    plausible_values(ledger, source)
    ledger.quarantine(~frames.isin(ledger.table["invitation_id"], invitations["invitation_id"]),
                      N_("unknown invitation"), N_("answer to an invitation that was never sent"))
    ledger.quarantine(ledger.table["invitation_id"].duplicated(keep="first"),
                      N_("second answer"), N_("invitation answered twice; first answer kept"))
    answers = ledger.table
    nothing = pd.Series(np.nan, index=answers.index)
    # an answer must carry every score the survey asks (a question it does not ask: no flag)
    recommend, satisfaction, off = on_scales(
        answers.get("recommend_score", nothing), answers.get("satisfaction", nothing),
        missing_is_out_of_range={"recommend_score", "satisfaction"} <= set(answers))
    ledger.changed(N_("score out of range"), int(off.sum()),
                   N_("score outside its scale set to missing, flagged out_of_range"))
    table = pd.DataFrame({
        "invitation_id": answers["invitation_id"],
        "response_date": answers.get("response_date", pd.NaT),
        "recommend_score": recommend, "satisfaction": satisfaction,
        "quality_flag": np.where(off, "out_of_range", "ok")})
    ledger.step(N_("joined to invitations"), len(answers), 0, "checked",
                N_("{count} answers matched to invitations").format(count=f"{len(answers):,}"))
    return table, ledger.result


def clean_complaints(source: TableSource, raw: pd.DataFrame) -> Cleaned:
    """Complaints: the free-form label kept as raw_label and mapped to a taxonomy category by
    ``vocabulary.COMPLAINT_RULES`` (unless a category is delivered); severity words and digits
    to 1-3; one row per complaint_id (the row number when none is delivered)."""
    ledger, _delivered = mapped_rows(source, raw)
    one_row_per_key(ledger, "complaints")
    complaints = ledger.table
    category = complaints["category"] if "category" in complaints else \
        classify_complaints(complaints["raw_label"])
    severity = complaints["severity"] if "severity" in complaints else pd.Series(
        pd.array([pd.NA] * len(complaints), dtype="Int64"), index=complaints.index)
    if "category" not in source.columns:
        ledger.changed(N_("label to taxonomy"), int((category != "other").sum()),
                       N_("free-form labels mapped to categories by keyword rules"))
    ledger.changed(N_("severity unknown"), int(severity.isna().sum()),
                   N_("severity left missing"))
    table = complaints[["complaint_id", "customer_id", "complaint_date", "raw_label"]].assign(
        category=category, severity=severity)
    return ledger.finish(table, "complaints")


# what an intervention table's unmapped optional columns hold
INTERVENTION_DEFAULTS = {
    "interventions": {"end_date": pd.NaT, "cost": np.nan, "regions": "", "description": ""},
    "intervention_exposure": {"group": "treated", "exposure_date": pd.NaT}}


def _intervention_rules(ledger, frame: pd.DataFrame, source: TableSource) -> None:
    """Interventions and exposures: unmapped optional columns filled in, kinds and groups
    lower-cased and checked against the contract's words, an end before the start set
    aside."""
    name = source.table
    for column, value in INTERVENTION_DEFAULTS[name].items():
        if column not in ledger.table:
            ledger.table[column] = value
    ledger.table["end_date" if name == "interventions" else "exposure_date"] = pd.to_datetime(
        ledger.table["end_date" if name == "interventions" else "exposure_date"]).astype(
        "datetime64[us]")
    column, allowed = (("kind", contract.INTERVENTION_KINDS) if name == "interventions"
                       else ("group", ("treated", "holdout")))
    if column in source.columns:
        ledger.table[column] = lower_case(ledger, frame, source, column)
    ledger.quarantine(~ledger.table[column].isin(allowed), N_("unknown {column}").format(
        column=column), N_("{column} must be one of: {allowed}").format(
        column=column, allowed=", ".join(allowed)))
    if name == "interventions":
        ledger.quarantine(ledger.table["end_date"] < ledger.table["start_date"],
                          N_("ends before it starts"), N_("end_date before start_date"))
        ledger.table["cost"] = ledger.table["cost"].astype("float64")


def clean_other(source: TableSource, raw: pd.DataFrame) -> Cleaned:
    """Price changes, market index, referrals, engagement events and the CRM migration table:
    renamed, parsed and checked (positive prices and index values, no self-referral, one row
    per key); the month of a market index is its first day; event kinds lower-cased."""
    name = source.table
    ledger, frame = mapped_rows(source, raw)
    table = ledger.table
    if name == "price_changes":
        ledger.quarantine((table["old_price"] <= 0) | (table["new_price"] <= 0),
                          N_("non-positive price"), N_("a price change needs positive prices"))
    if name == "market_index":
        ledger.quarantine(table["index"] <= 0, N_("non-positive index"),
                          N_("index must be above 0"))
        ledger.table = ledger.table.assign(
            month=ledger.table["month"].dt.to_period("M").dt.to_timestamp())
    if name == "referrals":
        ledger.quarantine(table["referrer_id"] == table["referred_customer_id"],
                          N_("self-referral"), N_("a customer referring themselves"))
    if name in KEYS:
        one_row_per_key(ledger, name)
    in_vocabulary(ledger, source)
    count_changes(ledger, source, frame)
    if name == "engagement":
        ledger.table = ledger.table.assign(kind=lower_case(ledger, frame, source, "kind"))
    if name in INTERVENTION_DEFAULTS:
        _intervention_rules(ledger, frame, source)
    columns = list(contract.SCHEMAS[name].columns)
    columns += [c for c in EXTRA_COLUMNS.get(name, {}) if c in ledger.table]
    return ledger.finish(ledger.table[columns], name)
