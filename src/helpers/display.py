"""Presentation helpers for the published pages: tables in the report language with number
formats chosen by what each column holds, and no customer ids (managers read the pages).

``table(frame)`` picks a column's format from ``FORMATS`` (the workbook's column names: counts
with thousands separators, shares as percentages, elasticities with two decimals, ...), else
from its type (integers with separators, other numbers by their size, dates as days, yes/no
flags in words); a notebook cell passes ``formats`` only for what is special to its table.
Labels, index names and the words of ``translate`` columns are translated (``helpers.i18n``).
Analysts get ids from the parquet tables in data/clean; the HTML pages show masked values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from helpers import i18n
from helpers.i18n import _

MASK = "•••"
ID_FIELDS = ("customer_id", "referrer_id", "referred_customer_id", "legacy_customer_id")


def mask_customer_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to publish: customer-id columns masked, ``key=value`` records
    (quarantine) masked for id fields, and repair-log values of the customer_id column masked.
    """
    out = frame.copy()
    for column in out.columns:
        if str(column) in ID_FIELDS:
            out[column] = out[column].where(out[column].isna(), MASK)
    if "record" in out:
        pattern = r"\b(" + "|".join(ID_FIELDS) + r")=[^;]*"
        out["record"] = out["record"].str.replace(pattern, lambda m: f"{m.group(1)}={MASK}",
                                                  regex=True)
    if {"column", "original_value", "new_value"} <= set(out.columns):
        ids = out["column"].isin(ID_FIELDS)
        for value in ["original_value", "new_value"]:
            out.loc[ids & out[value].notna(), value] = MASK
    return out


COUNT, WHOLE = "{:,.0f}", "{:,.0f}"
PERCENT, PERCENT_2 = "{:.1%}", "{:.2%}"
FORMATS: dict[str, str] = {
    **dict.fromkeys(["customers", "rows", "rows_read", "duplicates_removed", "excluded",
                     "quarantined", "rows_clean", "rows_in", "rows_affected", "rows_out",
                     "flagged", "repaired", "estimated", "lines changed", "columns", "n",
                     "n_effective", "successes", "trials", "events", "cells", "units",
                     "products", "count", "expected_churners", "high_risk_customers",
                     "repeat_gaps", "series", "series_with_price_changes",
                     "cells_in_changing_series", "answers"], COUNT),
    **dict.fromkeys(["revenue", "revenue_lower", "revenue_upper", "spend_per_customer",
                     "order_value", "monetary", "expected_revenue", "expected_value",
                     "recency_days", "median_days", "p75_days", "p90_days", "cycle_days"],
                    WHOLE),
    **dict.fromkeys(["share_kept", "repeat_rate", "return_rate", "cross_purchase_rate",
                     "share", "rate", "mean_risk", "share_of_customers", "share_of_value",
                     "share_of_revenue", "promoters", "passives", "detractors",
                     "share_estimated", "mean_p_alive", "share_with_changes"], PERCENT),
    "estimated_share": PERCENT_2,
    "top_decile_kept": "{:.0%}",
    **dict.fromkeys(["purchases_per_customer", "elasticity", "odds_ratio_per_sd",
                     "confidence", "spearman"], "{:.2f}"),
    **dict.fromkeys(["price_change", "relative_price_change", "units_change_naive",
                     "units_change_did", "did_low", "did_high", "buyers_change",
                     "line_value_change", "change"], "{:+.1%}"),
    **dict.fromkeys(["naive", "naive_low", "naive_high", "adjusted", "adjusted_low",
                     "adjusted_high", "25%", "50%", "75%"], "{:.2f}"),
    "std_error": "{:.3f}", "expected_purchases": "{:.1f}", "frequency": "{:.0f}",
    "median_index": "{:.0f}", "score": "{:+.1f}", "z": "{:+.1f}", "p_value": "{:.3g}",
    "cooks_distance": "{:.5f}", "price": "{:,.2f}", "value": "{:,.3g}", "expected": "{:,.3g}",
    "first_date": "{:%Y-%m-%d}", "last_date": "{:%Y-%m-%d}", "month": "{:%Y-%m}",
    "since": "{:%Y-%m}",
}
Format = str | Callable[[object], str]
RATE_INTERVAL = {"rate": PERCENT, "ci_low": PERCENT, "ci_high": PERCENT}  # rate_table output


def number(value: object) -> str:
    """A number without a column-specific format: thousands separated above 1,000, two
    decimals around 1, two significant digits below 0.01; never an exponent or 17 digits."""
    if value is None or pd.isna(value):
        return ""
    size = abs(float(value))
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.01 or size == 0:
        return f"{value:.2f}"
    return f"{value:.2g}"


def few_customers(small: object) -> str:
    """A small-group flag as a warning word (empty for groups large enough)."""
    return _("few customers") if small else ""


def column_format(frame: pd.DataFrame, column: object) -> Format | None:
    """The format of one column: yes/no for flags, else by its name (``FORMATS``), else by its
    type."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        return i18n.yes_no
    numeric = pd.api.types.is_numeric_dtype(values)
    dated = pd.api.types.is_datetime64_any_dtype(values)
    if str(column) in FORMATS and (numeric or dated):
        return FORMATS[str(column)]
    if pd.api.types.is_integer_dtype(values):
        return "{:,}"
    if numeric:
        return number
    if dated:
        return "{:%Y-%m-%d}"
    return None


def table(frame: pd.DataFrame | None, formats: dict[object, Format] | Format | None = None, *,
         caption: str | None = None, translate: Iterable[str] = (), hide_index: bool = False,
         wrap: Iterable[str] | bool = (), percent: Iterable[object] = (), na_rep: str = "",
         gradient: str | None = None, gradient_columns: Iterable[object] | None = None,
         empty: str | None = None):
    """``frame`` as a styled table for a page.

    Args:
        frame: the table.
        formats: formats of particular columns (they win over ``FORMATS``), or one format for
            every cell (a grid of like numbers).
        caption: the table's caption (already in the report language).
        translate: columns whose words (regions, rules, reasons) are shown translated.
        hide_index: leave the row labels out.
        wrap: text columns shown left-aligned and wrapped (True: every column).
        percent: columns shown as whole percentages (e.g. the tiers of a migration matrix).
        na_rep: what an empty cell shows.
        gradient: a matplotlib colour map to shade number cells by their value: those of
            ``gradient_columns``, by default every number column.
        empty: a sentence (markdown) shown instead of a table without rows.

    Returns:
        A pandas Styler (a notebook cell that ends with it shows the table); None for None (a
        part the data did not support: nothing is shown).
    """
    if frame is None:
        return None
    if empty is not None and frame.empty:
        from IPython.display import Markdown

        return Markdown(empty)
    shown = i18n.values(frame, list(translate)) if translate else frame
    styler = shown.style
    if isinstance(formats, str | Callable):
        styler = styler.format(formats, na_rep=na_rep)
    else:
        chosen = {column: column_format(shown, column) for column in shown.columns}
        chosen.update(dict.fromkeys(percent, "{:.0%}"))
        chosen.update(formats or {})
        chosen = {column: spec for column, spec in chosen.items() if spec is not None}
        styler = styler.format(chosen, na_rep=na_rep)
        rest = [c for c in shown.columns if c not in chosen]
        if rest:
            styler = styler.format(na_rep=na_rep, subset=rest)
    if hide_index:
        styler = styler.hide(axis="index")
    wrapped = list(shown.columns) if wrap is True else list(wrap or [])
    if wrapped:
        styler = styler.set_properties(subset=wrapped, **{"text-align": "left",
                                                          "white-space": "normal"})
    if gradient:
        numbers = list(gradient_columns) if gradient_columns is not None else [
            c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])]
        styler = styler.background_gradient(cmap=gradient, axis=None, subset=numbers)
    if caption:
        styler = styler.set_caption(caption)
    own = list(formats) if isinstance(formats, dict) else []
    return i18n.relabel(styler, formatted=own)
