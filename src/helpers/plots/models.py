"""Charts of estimates (06-09): points with intervals, naive against adjusted fits, the event
profile around price changes, regression residuals, the monitoring chart, the interventions'
regional gap and event-time chart."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
import seaborn as sns

from helpers import i18n
from helpers.i18n import _
from helpers.plots.common import error_bars, finished, theme


def point_intervals(table: pd.DataFrame | None, value: str, xlabel: str, title: str,
                    reference: float | None = None, percent: bool = False) -> plt.Figure | None:
    """Dot-and-whisker chart of estimates (index = label) with ci_low/ci_high columns; None
    (a part the data did not support) draws nothing."""
    if table is None:
        return None
    return compare_intervals({"": table}, value, "ci_low", "ci_high", xlabel, title,
                             reference=reference, percent=percent)


def compare_intervals(tables: dict[str, pd.DataFrame], value: str, low: str, high: str,
                      xlabel: str, title: str, reference: float | None = 0.0,
                      percent: bool = False) -> plt.Figure | None:
    """Estimates per row label from several tables side by side (e.g. naive vs adjusted), each
    with its interval: one colour per table, rows shared. No tables, or only empty ones:
    None."""
    if not tables or all(table.empty for table in tables.values()):
        return None
    theme()
    labels = list(next(iter(tables.values())).index)
    fig, ax = plt.subplots(figsize=(9, (0.45 + 0.15 * len(tables)) * len(labels) + 1.5))
    palette = sns.color_palette("deep", len(tables))
    step = 0.6 / max(len(tables), 1)
    for k, ((name, table), color) in enumerate(zip(tables.items(), palette, strict=True)):
        table = table.reindex(labels)
        y = [i + (k - (len(tables) - 1) / 2) * step for i in range(len(labels))]
        ax.errorbar(table[value], y, xerr=error_bars(table[value], table[low], table[high]),
                    fmt="o", color=color, capsize=3, label=i18n.label(str(name)))
    if reference is not None:
        ax.axvline(reference, color="#999999", lw=1)
    ax.set_yticks(range(len(labels)), [i18n.label(str(label)) for label in labels])
    ax.invert_yaxis()
    if percent:
        ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax.set_xlabel(i18n.label(xlabel))
    ax.set_title(i18n.label(title))
    if len(tables) > 1:
        ax.legend(loc="best", fontsize=9)
    return finished(fig)


def event_profile(profile: pd.DataFrame) -> plt.Figure:
    """Event-study lines: mean log units relative to the month before a price change, treated
    vs control, one panel per direction (from ``price.event_time_profile``)."""
    theme()
    directions = list(profile.index.get_level_values("direction").unique())
    fig, axes = plt.subplots(1, len(directions), figsize=(11, 3.8), sharey=True,
                             squeeze=False)
    for ax, direction in zip(axes.flat, directions, strict=True):
        part = profile.xs(direction, level="direction")
        ax.plot(part.index, part["treated"], marker="o", color="#C44E52",
                label=_("product in the region of the change"))
        ax.plot(part.index, part["control"], marker="o", color="#999999",
                label=_("same product, other regions"))
        ax.axvline(-0.5, color="#333333", lw=1, ls="--")
        ax.axhline(0, color="#999999", lw=0.8)
        ax.set_title(i18n.label(f"price {direction}s"))
        ax.set_xlabel(_("months before (<0) and after the change, as the event study counts "
                        "them"))
    axes.flat[0].set_ylabel(_("log units, relative to the month before"))
    axes.flat[0].legend(loc="best", fontsize=8)
    return finished(fig)


def residuals(data: pd.DataFrame) -> plt.Figure:
    """Residuals against fitted values (hexbin) and their distribution, for a regression's
    within data with 'fitted' and 'residual' columns."""
    theme()
    fig, (ax_scatter, ax_hist) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax_scatter.hexbin(data["fitted"], data["residual"], gridsize=40, cmap="Blues", mincnt=1)
    ax_scatter.axhline(0, color="#C44E52", lw=1)
    ax_scatter.set_xlabel(_("fitted (after the fixed effects)"))
    ax_scatter.set_ylabel(_("residual"))
    ax_scatter.set_title(_("Residuals against fitted values"))
    ax_hist.hist(data["residual"], bins=60, color="#4C72B0")
    ax_hist.set_xlabel(_("residual (log units)"))
    ax_hist.set_title(_("Distribution of residuals"))
    return finished(fig)


def monitoring(series: pd.DataFrame, alerts: pd.DataFrame, indicator: str,
               max_panels: int = 9) -> plt.Figure:
    """One indicator's monthly series per region, months resting on estimated history hollow,
    alerts marked in red (from ``monitoring.monitoring_series`` and ``detect_alerts``).

    With more regions than ``max_panels``, the total ('all') comes first, then the regions
    with the largest totals and every region with an alert; the title says how many are left
    out."""
    theme()
    data = series[(series["indicator"] == indicator) & (series["region"] != "all")]
    regions = sorted(data["region"].unique())
    left_out = 0
    if len(regions) > max_panels:
        alerted = set(alerts.loc[alerts["indicator"] == indicator, "region"]) - {"all"}
        size = data.groupby("region")["value"].sum().sort_values(ascending=False)
        largest = [r for r in size.index if r not in alerted][:max(max_panels - 1 - len(
            alerted), 0)]
        shown = sorted(alerted | set(largest))
        left_out = len(regions) - len(shown)
        regions = ["all", *shown]
        data = series[series["indicator"] == indicator]
    fig, axes = plt.subplots(-(-len(regions) // 3), 3, figsize=(12, 2.4 * -(-len(regions) // 3)
                                                                + 0.8), sharex=True,
                             squeeze=False)
    flagged = alerts[alerts["indicator"] == indicator]
    for ax, region in zip(axes.flat, regions, strict=False):
        part = data[data["region"] == region].sort_values("month")
        ax.plot(part["month"], part["value"], color="#4C72B0", lw=1.4)
        estimated = part[part["estimated"]]
        ax.scatter(estimated["month"], estimated["value"], facecolors="white",
                   edgecolors="#4C72B0", zorder=3, s=18)
        hits = flagged[flagged["region"] == region]
        ax.scatter(hits["month"], hits["value"], color="#C44E52", zorder=4, s=30)
        ax.set_title(i18n.label("all regions" if region == "all" else region), fontsize=10)
    for ax in list(axes.flat)[len(regions):]:
        ax.set_visible(False)
    axes.flat[0].xaxis.set_major_locator(mdates.YearLocator())
    axes.flat[0].xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    note = _("; {count} smaller regions not shown", count=left_out) if left_out else ""
    fig.suptitle(_("{indicator} per month (red: alert; hollow: month with estimated "
                   "history{note})", indicator=i18n.label(indicator), note=note))
    return finished(fig)


def importance_performance(table: pd.DataFrame | None, title: str, xlabel: str,
                           ylabel: str) -> plt.Figure | None:
    """The importance-performance map: one point per driver (index = its label on the page),
    importance across with its interval (``importance_low``/``_high``), performance up with
    its interval; dashed lines at the drivers' means split the map into quadrants (bottom
    right: important and weak, the first to improve). None draws nothing."""
    if table is None:
        return None
    theme()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.errorbar(table["importance"], table["performance"],
                xerr=error_bars(table["importance"], table["importance_low"],
                                table["importance_high"]),
                yerr=error_bars(table["performance"], table["performance_low"],
                                table["performance_high"]),
                fmt="o", color=sns.color_palette("deep")[0], capsize=3)
    for label, row in table.iterrows():
        ax.annotate(str(label), (row["importance"], row["performance"]),
                    textcoords="offset points", xytext=(6, 6), fontsize=10)
    ax.axvline(table["importance"].mean(), color="#999999", lw=1, ls="--")
    ax.axhline(table["performance"].mean(), color="#999999", lw=1, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return finished(fig)


def regional_gap(series: dict[str, pd.DataFrame], starts: dict[str, pd.Timestamp],
                 title: str) -> plt.Figure | None:
    """Each regional change's difference in differences (one panel per change, keyed by its
    name): the log gap in purchases per customer between its regions and the others, month by
    month, with the start marked and the mean gap before and after drawn. Nothing to draw:
    None."""
    if not series:
        return None
    theme()
    fig, axes = plt.subplots(len(series), 1, figsize=(9, 3.4 * len(series) + 0.6),
                             squeeze=False)
    for ax, (name, gap) in zip(axes.flat, series.items(), strict=True):
        start = starts[name]
        ax.plot(gap.index, gap["difference"], marker="o", color="#4C72B0", lw=1.4)
        for part in (gap[gap.index < start], gap[gap.index >= start]):
            if len(part):
                ax.hlines(part["difference"].mean(), part.index.min(), part.index.max(),
                          color="#C44E52", lw=2)
        ax.axvline(start, color="#999999", lw=1, ls="--")
        ax.set_ylabel(_("log gap in purchases per customer"))
        ax.set_title(name, fontsize=10)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    fig.suptitle(title)
    return finished(fig)


def event_time(effects: dict[str, pd.DataFrame], title: str) -> plt.Figure | None:
    """Each targeted intervention's difference in differences month by month around the
    exposure (``interventions.event_time_effects``, keyed by name): points with intervals,
    the exposure marked; before it the points should sit around zero. None: nothing to draw."""
    if not effects:
        return None
    theme()
    fig, axes = plt.subplots(len(effects), 1, figsize=(9, 3.4 * len(effects) + 0.6),
                             squeeze=False)
    for ax, (name, table) in zip(axes.flat, effects.items(), strict=True):
        after = table.index >= 0
        for part, color in ((~after, "#999999"), (after, "#C44E52")):
            rows = table[part]
            ax.errorbar(rows.index, rows["difference"], yerr=error_bars(
                rows["difference"], rows["ci_low"], rows["ci_high"]), fmt="o", color=color,
                capsize=3)
        ax.axhline(0, color="#333333", lw=0.8)
        ax.axvline(-0.5, color="#999999", lw=1, ls="--")
        ax.set_xticks(table.index)
        ax.set_xlabel(_("months before (<0) and after the exposure"))
        ax.set_ylabel(_("extra purchases per customer"))
        ax.set_title(name, fontsize=10)
    fig.suptitle(title)
    return finished(fig)
