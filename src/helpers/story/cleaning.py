"""What the cleaning did, in words (notebook 01)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.cleaning import CleaningResult, source_summary
from helpers.i18n import _


def summary_sentence(result: CleaningResult) -> str:
    """One plain-language sentence on what cleaning did, with its numbers."""
    s = source_summary(result)
    read, dup, quar = s["rows_read"].sum(), s["duplicates_removed"].sum(), s["quarantined"].sum()
    files = int((s["rows_read"] > 0).sum())
    excluded = int(s["excluded"].sum())
    reasons = result.quarantine.loc[~result.quarantine["reason"].str.startswith("excluded: "),
                                    "reason"].value_counts()
    top = i18n.join([_("{count:,} {reason}", count=n, reason=i18n.label(reason))
                     for reason, n in reasons.head(3).items()], "clauses") or _("none")
    lines = result.tables["order_lines_unrepaired"]
    legacy_share = (lines["source"] == "legacy").mean() if len(lines) else float("nan")
    left_out = result.quarantine.loc[result.quarantine["reason"].str.startswith("excluded: "),
                                     "reason"].str.removeprefix("excluded: ").value_counts()
    out_of_scope = _(", {count:,} were left out by the source mapping's rules ({share:.1%}; "
                     "most: {reason}, {most:,})", count=excluded, share=excluded / read,
                     reason=left_out.index[0], most=left_out.iloc[0]) if excluded else ""
    systems = _("the {count:,} order lines combine both order systems, {share:.0%} of them from "
                "the legacy export (their values are repaired in the history repair)",
                count=len(lines), share=legacy_share) if legacy_share > 0 else _(
        "{count:,} order lines remain", count=len(lines))
    set_aside = _("{count:,} rows were set aside for review ({share:.2%}; main reasons: "
                  "{reasons})", count=quar, share=quar / read, reasons=top) if quar else _(
        "no row had to be set aside for review")
    return _("Of {read:,} raw rows in {files} source(s), {duplicates:,} exact duplicates were "
             "removed ({share:.1%}){out_of_scope} and {set_aside}; {systems}.", read=read,
             files=files, duplicates=dup, share=dup / read, out_of_scope=out_of_scope,
             set_aside=set_aside, systems=systems)


def order_history_text(order_lines: pd.DataFrame) -> str:
    """Markdown for the report: where the order history comes from (one or two systems)."""
    if (order_lines["source"] == "legacy").any():
        return _("## One order history from two systems\n\n"
                 "Orders before the system change come from the legacy export (GBK-encoded, "
                 "amounts in fen, day-first dates, returns as negative quantities); they are "
                 "converted to the current system's definitions and stacked with its orders. "
                 "The `source` column keeps the origin.\n\n"
                 "The values are still as delivered: wrongly keyed amounts, impossible dates, a "
                 "month exported twice and months missing from the legacy export are repaired, "
                 "and logged value by value, in the next report (history repair).")
    return _("## The order history\n\nAll order lines come from one system, so there are no "
             "legacy definitions to unify; the history-repair step passes them on unchanged.")
