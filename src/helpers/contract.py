"""The data contract: pandera schemas of the clean tables every stage reads.

Company-agnostic: any company's data mapped to these columns runs through the workbook. Extra
columns are allowed (e.g. ``line_no``, ``invitation_id``); the listed ones must be present, typed
and within range. Units: money in currency units (not cents), dates as timestamps (day precision),
rates as fractions 0-1.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

_ID = pa.Column(str, nullable=False)
# what an intervention (``interventions.kind``) may be; ``regions`` lists the regions a
# company-wide change applies to ('' = every region), separated by ';'
INTERVENTION_KINDS = ("campaign", "coupon", "member benefit", "service change", "price policy",
                      "survey incentive")
_TEXT = pa.Column(str, nullable=False)


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column(pa.DateTime, nullable=nullable)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "customers": pa.DataFrameSchema(
        {"customer_id": pa.Column(str, unique=True), "region": _TEXT, "city": _TEXT,
         "join_date": _date(), "channel": _TEXT},
        name="customers"),
    "order_lines": pa.DataFrameSchema(
        {"order_id": _ID, "customer_id": _ID, "order_date": _date(), "product_id": _ID,
         "category": _TEXT, "region": _TEXT,
         # signed: return lines carry negative quantity and amount
         "quantity": pa.Column(int, pa.Check.ne(0)),
         "unit_price": pa.Column(float, pa.Check.ge(0)),
         "list_price": pa.Column(float, pa.Check.ge(0)),
         "amount": pa.Column(float),
         "is_return": pa.Column(bool),
         "source": pa.Column(str, pa.Check.isin(["current", "legacy"])),
         "is_estimated": pa.Column(bool)},
        checks=[pa.Check(lambda d: (d["quantity"] < 0) == d["is_return"],
                         error="return lines (and only they) have negative quantity")],
        name="order_lines"),
    "price_changes": pa.DataFrameSchema(
        {"product_id": _ID, "region": _TEXT, "effective_date": _date(),
         "old_price": pa.Column(float, pa.Check.gt(0)),
         "new_price": pa.Column(float, pa.Check.gt(0))},
        unique=["product_id", "region", "effective_date"], name="price_changes"),
    "market_index": pa.DataFrameSchema(
        {"category": _TEXT, "region": _TEXT, "month": _date(),
         "index": pa.Column(float, pa.Check.gt(0))},
        unique=["category", "region", "month"], name="market_index"),
    "survey_responses": pa.DataFrameSchema(
        {"customer_id": _ID, "sent_date": _date(), "responded": pa.Column(bool),
         "response_date": _date(nullable=True),
         "recommend_score": pa.Column("Int64", pa.Check.in_range(0, 10), nullable=True),
         "satisfaction": pa.Column("Int64", pa.Check.in_range(1, 5), nullable=True),
         "quality_flag": _TEXT},
        name="survey_responses"),
    "survey_answers": pa.DataFrameSchema(
        {"invitation_id": _ID, "item": _TEXT, "score": pa.Column(float)},
        unique=["invitation_id", "item"], name="survey_answers"),
    "referrals": pa.DataFrameSchema(
        {"referrer_id": _ID, "referred_customer_id": _ID, "referral_date": _date()},
        name="referrals"),
    "engagement": pa.DataFrameSchema(
        {"customer_id": _ID, "event_date": _date(), "kind": _TEXT}, name="engagement"),
    "complaints": pa.DataFrameSchema(
        {"complaint_id": pa.Column(str, unique=True), "customer_id": _ID,
         "complaint_date": _date(), "raw_label": _TEXT, "category": _TEXT,
         "severity": pa.Column("Int64", pa.Check.in_range(1, 3), nullable=True)},
        name="complaints"),
    "interventions": pa.DataFrameSchema(
        {"intervention_id": pa.Column(str, unique=True), "name": _TEXT,
         "kind": pa.Column(str, pa.Check.isin(INTERVENTION_KINDS)),
         "start_date": _date(), "end_date": _date(nullable=True),
         "cost": pa.Column(float, pa.Check.ge(0), nullable=True),
         "regions": pa.Column(str), "description": pa.Column(str)},
        checks=[pa.Check(lambda d: d["end_date"].isna() | (d["end_date"] >= d["start_date"]),
                         error="an intervention ends on or after its start")],
        name="interventions"),
    "intervention_exposure": pa.DataFrameSchema(
        {"intervention_id": _ID, "customer_id": _ID,
         "group": pa.Column(str, pa.Check.isin(["treated", "holdout"])),
         "exposure_date": _date(nullable=True)},  # missing: the intervention's start date
        unique=["intervention_id", "customer_id"], name="intervention_exposure"),
    "customer_id_map": pa.DataFrameSchema(
        {"legacy_customer_id": pa.Column(str, unique=True), "customer_id": _ID},
        name="customer_id_map"),
    "monthly_sales": pa.DataFrameSchema(
        {"region": _TEXT, "category": _TEXT, "month": _date(),
         "lines": pa.Column(float, pa.Check.ge(0)),
         "revenue": pa.Column(float),
         "revenue_lower": pa.Column(float), "revenue_upper": pa.Column(float),
         "estimated_revenue": pa.Column(float),
         "is_estimated": pa.Column(bool)},
        checks=[pa.Check(lambda d: (d["revenue_lower"] <= d["revenue"] + 1e-6)
                         & (d["revenue"] <= d["revenue_upper"] + 1e-6),
                         error="revenue lies within its interval")],
        unique=["region", "category", "month"], name="monthly_sales"),
    "repair_log": pa.DataFrameSchema(
        {"table": _TEXT, "row_key": _TEXT, "column": _TEXT,
         "original_value": pa.Column(str, nullable=True),
         "new_value": pa.Column(str, nullable=True),
         "method": _TEXT, "reason": _TEXT, "confidence": pa.Column(float, pa.Check.in_range(0, 1))},
        name="repair_log"),
}


# Stage table written by 01_cleaning and read only by 02_history_repair: order lines as delivered
# (normalised, deduplicated), before the history repair. Legacy lines may lack price and amount.
SCHEMAS["order_lines_unrepaired"] = SCHEMAS["order_lines"].update_columns(
    {"unit_price": {"nullable": True}, "amount": {"nullable": True}}).set_name(
    "order_lines_unrepaired")


def empty(name: str) -> pd.DataFrame:
    """A table of contract ``name`` with no rows, every column of its schema typed."""
    columns = {}
    for column, spec in SCHEMAS[name].columns.items():
        dtype = str(spec.dtype)
        columns[column] = pd.Series(dtype="datetime64[us]" if dtype.startswith("datetime")
                                    else "str" if dtype in ("str", "string") else dtype)
    return pd.DataFrame(columns)


class ContractError(ValueError):
    """A table breaks the data contract; the message names table, columns, checks and rows."""


def validate(name: str, table: pd.DataFrame, *, max_rows_listed: int = 10) -> pd.DataFrame:
    """Validate ``table`` against the contract schema ``name``; return it unchanged if valid.

    Raises:
        ContractError: listing each failing column and check with up to ``max_rows_listed``
            offending row positions and values.
    """
    try:
        return SCHEMAS[name].validate(table, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        lines = [f"table '{name}' breaks the data contract ({len(cases)} failure(s)):"]
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
            shown = ", ".join(f"row {i}: {v!r}" for i, v in
                              zip(group["index"].head(max_rows_listed),
                                  group["failure_case"].head(max_rows_listed), strict=True))
            lines.append(f"  column {column!s}, check {check}: {len(group)} row(s); {shown}")
        raise ContractError("\n".join(lines)) from None
