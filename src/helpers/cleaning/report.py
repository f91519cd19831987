"""What the cleaning page summarises: rows per source, the clean tables, monthly lines per order
system."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from helpers.cleaning import CleaningResult


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


DATE_COLUMNS = {"customers": "join_date", "order_lines": "order_date",
                "order_lines_unrepaired": "order_date",
                "price_changes": "effective_date", "market_index": "month",
                "survey_responses": "sent_date", "referrals": "referral_date",
                "engagement": "event_date", "complaints": "complaint_date",
                "interventions": "start_date", "intervention_exposure": "exposure_date"}


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
    sales = order_lines.loc[~order_lines["is_return"], ["order_date", "source"]]
    low, high = sales["order_date"].quantile([0.001, 0.999])
    inside = sales["order_date"].between(low - pd.DateOffset(months=1),
                                         high + pd.DateOffset(months=1))
    month = sales.loc[inside, "order_date"].dt.to_period("M").dt.to_timestamp()
    counts = sales.loc[inside].groupby([month, sales.loc[inside, "source"]]).size().unstack(
        fill_value=0)
    counts.index.name = "month"
    counts.attrs["outside_range"] = int((~inside).sum())
    return counts


def rules_that_acted(quality_report: pd.DataFrame) -> pd.DataFrame:
    """The quality report's rules that touched at least one row (the 'read' counts left out)."""
    return quality_report.query("rows_affected > 0 and action != 'rows'")


def quarantine_counts(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Rows set aside (and left out by mapping rules) per source and reason: source, reason,
    rows."""
    return quarantine.groupby(["source", "reason"]).size().rename("rows").reset_index()


def sources_shown(data_sources: pd.DataFrame) -> pd.DataFrame:
    """The data-sources table as the cleaning page shows it: without the currency column when
    the mapping names no currency (an empty column says nothing)."""
    if "currency" in data_sources and not data_sources["currency"].astype("str").str.strip(
            ).ne("").any():
        return data_sources.drop(columns="currency")
    return data_sources
