"""Charts of the data pages (01 cleaning, 02 history repair)."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from helpers import i18n
from helpers.i18n import _
from helpers.plots.common import PALETTE, error_bars, finished, theme


def rows_by_source(summary: pd.DataFrame) -> plt.Figure:
    """Horizontal stacked bars per raw source: rows kept, duplicates removed, excluded (out of
    scope by a mapping rule; shown only when any were) and quarantined.

    Args:
        summary: ``cleaning.source_summary`` output (index source; rows_clean,
            duplicates_removed, excluded, quarantined).
    """
    theme()
    parts = ["kept", "duplicates removed", "excluded", "quarantined"]
    data = summary.rename(columns={"rows_clean": "kept", "duplicates_removed":
                                   "duplicates removed"})
    if "excluded" not in data or not data["excluded"].any():
        parts.remove("excluded")
    data = data[parts]
    data = data.sort_values("kept")
    fig, (ax_all, ax_lost) = plt.subplots(1, 2, figsize=(11, 0.45 * len(data) + 1.6),
                                          sharey=True, gridspec_kw={"width_ratios": [2, 1]})
    left = pd.Series(0.0, index=data.index)
    for column in data.columns:
        ax_all.barh(data.index, data[column], left=left, color=PALETTE[column],
                    label=i18n.label(column))
        left += data[column]
    ax_all.set_xlabel(_("rows in the raw file"))
    ax_all.legend(loc="lower right", frameon=True)
    ax_all.set_title(_("What happened to every raw row"))
    lost = data[parts[1:]]
    left = pd.Series(0.0, index=data.index)
    for column in lost.columns:
        ax_lost.barh(lost.index, lost[column], left=left, color=PALETTE[column])
        left += lost[column]
    ax_lost.set_xlabel(_("rows not kept (zoomed)"))
    ax_lost.set_title(_("Removed, excluded or set aside") if "excluded" in parts
                      else "Removed or set aside")
    return finished(fig)


def monthly_lines_by_source(monthly: pd.DataFrame) -> plt.Figure:
    """Stacked monthly bars of order lines per source system, from
    ``cleaning.monthly_lines_by_source`` (index month, one column per source)."""
    theme()
    colors = {"legacy": "#8172B3", "current": "#4C72B0"}
    fig, ax = plt.subplots(figsize=(11, 3.6))
    bottom = pd.Series(0.0, index=monthly.index)
    for source in [c for c in ["legacy", "current"] if c in monthly] + [
            c for c in monthly if c not in ("legacy", "current")]:
        ax.bar(monthly.index, monthly[source], bottom=bottom, width=25,
               color=colors.get(source, "#999999"), label=i18n.label(f"{source} system"))
        bottom += monthly[source]
    ax.set_ylabel(_("sale lines per month"))
    ax.set_title(_("One order history from two systems"))
    ax.legend(loc="upper left")
    return finished(fig)


def repairs_by_rule(rules: pd.DataFrame) -> plt.Figure:
    """Horizontal bars of lines (or region-months) flagged per repair rule, estimated part
    highlighted; from ``history.RepairResult.rules``. Log scale: rules differ by 1000x."""
    theme()
    data = rules.set_index("rule").iloc[::-1]
    data = data[data["flagged"] > 0].rename(index=i18n.label)
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(data) + 1.4))
    ax.barh(data.index, data["flagged"] - data["estimated"], color="#4C72B0",
            label=_("corrected or removed"))
    ax.barh(data.index, data["estimated"], left=data["flagged"] - data["estimated"],
            color="#DD8452", hatch="//", label=_("estimated"))
    ax.set_xscale("log")
    for y, value in enumerate(data["flagged"]):
        ax.text(value * 1.1, y, f"{value:,}", va="center", fontsize=9)
    ax.set_xlabel(_("lines affected (log scale; region-months for the last rule)"))
    ax.set_title(_("What the history repair did, by rule"))
    ax.legend(loc="lower right")
    return finished(fig)


def revenue_before_after(table: pd.DataFrame, regions: list[str] | None = None) -> plt.Figure:
    """Monthly revenue per region: delivered history (grey) vs repaired (blue), estimated months
    as orange points with their interval. Values far above the repaired range (unit slips) are
    drawn at the top edge with an up-arrow marker. From ``history.revenue_before_after``."""
    theme()
    regions = regions or sorted(table["region"].unique())
    ncols = 2
    nrows = -(-len(regions) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.6 * nrows + 0.8), sharex=True,
                             squeeze=False)
    for ax, region in zip(axes.flat, regions, strict=False):
        part = table[table["region"] == region].sort_values("month")
        top = 1.35 * part["after_upper"].max() / 1000
        before = part["before"] / 1000
        ax.plot(part["month"], before.clip(upper=top), color="#999999", lw=1.2,
                label=_("as delivered"))
        over = before > top
        ax.scatter(part.loc[over, "month"], [top] * int(over.sum()), marker="^",
                   color="#999999", zorder=3, label=_("as delivered, off scale"))
        ax.plot(part["month"], part["after"] / 1000, color="#4C72B0", lw=1.8,
                label=_("after the repair"))
        gaps = part[part["gap"]]
        ax.errorbar(gaps["month"], gaps["after"] / 1000,
                    yerr=error_bars(gaps["after"] / 1000, gaps["after_lower"] / 1000,
                                     gaps["after_upper"] / 1000),
                    fmt="o", color="#DD8452", capsize=3, label=_("estimated month (interval)"))
        ax.set_ylim(0, top * 1.05)
        ax.set_title(i18n.label(region), fontsize=11)
        ax.set_ylabel(_("revenue (thousands)"))
    for ax in list(axes.flat)[len(regions):]:
        ax.set_visible(False)
    axes.flat[0].xaxis.set_major_locator(mdates.YearLocator())
    axes.flat[0].xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
    fig.suptitle(_("Monthly revenue per region, before and after the repair"))
    return finished(fig, rect=(0, 0.05, 1, 1))
