"""Charts for the notebooks and reports.

Each function returns a closed matplotlib Figure: a notebook cell that ends with the call shows the
figure exactly once (inline), and the same figure can be saved by scripts.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from helpers import i18n
from helpers.i18n import _


def _finished(fig: plt.Figure, **layout) -> plt.Figure:
    """Lay the figure out and close it (a notebook cell ending with it shows it once)."""
    fig.tight_layout(**layout)
    plt.close(fig)
    return fig


def _theme() -> None:
    """seaborn's white-grid theme, with the report language's font (CJK for Chinese)."""
    sns.set_theme(style="whitegrid")
    i18n.apply_fonts()


def _error_bars(value: pd.Series, low: pd.Series, high: pd.Series) -> list[np.ndarray]:
    """Distances from a point to its interval ends for ``errorbar``; an interval that excludes
    its point by rounding (a rate of exactly 0 or 1) gives 0, not a negative length."""
    value = np.asarray(value, dtype=float)
    return [np.clip(value - np.asarray(low, dtype=float), 0, None),
            np.clip(np.asarray(high, dtype=float) - value, 0, None)]


PALETTE = {"kept": "#4C72B0", "duplicates removed": "#DD8452", "excluded": "#8C8C8C",
           "quarantined": "#C44E52"}


def rows_by_source(summary: pd.DataFrame) -> plt.Figure:
    """Horizontal stacked bars per raw source: rows kept, duplicates removed, excluded (out of
    scope by a mapping rule; shown only when any were) and quarantined.

    Args:
        summary: ``cleaning.source_summary`` output (index source; rows_clean,
            duplicates_removed, excluded, quarantined).
    """
    _theme()
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
    return _finished(fig)


def monthly_lines_by_source(monthly: pd.DataFrame) -> plt.Figure:
    """Stacked monthly bars of order lines per source system, from
    ``cleaning.monthly_lines_by_source`` (index month, one column per source)."""
    _theme()
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
    return _finished(fig)


def repairs_by_rule(rules: pd.DataFrame) -> plt.Figure:
    """Horizontal bars of lines (or region-months) flagged per repair rule, estimated part
    highlighted; from ``history.RepairResult.rules``. Log scale: rules differ by 1000x."""
    _theme()
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
    return _finished(fig)


def revenue_before_after(table: pd.DataFrame, regions: list[str] | None = None) -> plt.Figure:
    """Monthly revenue per region: delivered history (grey) vs repaired (blue), estimated months
    as orange points with their interval. Values far above the repaired range (unit slips) are
    drawn at the top edge with an up-arrow marker. From ``history.revenue_before_after``."""
    _theme()
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
                    yerr=_error_bars(gaps["after"] / 1000, gaps["after_lower"] / 1000,
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
    return _finished(fig, rect=(0, 0.05, 1, 1))


def rates_with_intervals(table: pd.DataFrame | None, label: str, title: str,
                         group: str | None = None, max_groups: int = 8) -> plt.Figure | None:
    """Dot-and-whisker chart of rates with their confidence intervals (``retention.rate_table``
    output, indexed by the category or by (category, group)); small groups drawn hollow. With
    more than ``max_groups`` groups only those with the most trials are drawn, and the title
    says how many are left out. None (a part the data did not support) draws nothing."""
    if table is None:
        return None
    _theme()
    data = table.reset_index()
    categories = list(dict.fromkeys(data.iloc[:, 0]))
    groups = list(dict.fromkeys(data[group])) if group else [None]
    title = i18n.label(title)
    if group and len(groups) > max_groups:
        largest = data.groupby(group)["trials"].sum().nlargest(max_groups).index
        title += _(" ({count} smaller {group}s not shown)",
                   count=len(groups) - max_groups, group=i18n.label(group))
        groups = [g for g in groups if g in set(largest)]
        data = data[data[group].isin(groups)]
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(categories) * max(1, len(groups) / 3) + 1.6))
    palette = sns.color_palette("deep", len(groups))
    step = 0.8 / max(len(groups), 1)
    for k, (name, color) in enumerate(zip(groups, palette, strict=True)):
        part = data if name is None else data[data[group] == name]
        y = [categories.index(c) + (k - (len(groups) - 1) / 2) * step for c in part.iloc[:, 0]]
        small = part["small_group"].to_numpy()
        ax.errorbar(part["rate"], y,
                    xerr=_error_bars(part["rate"], part["ci_low"], part["ci_high"]),
                    fmt="none", ecolor=color, capsize=2)
        ax.scatter(part["rate"][~small], [v for v, s in zip(y, small, strict=True) if not s],
                   color=color, zorder=3,
                   label=i18n.label(name) if name is not None else None)
        ax.scatter(part["rate"][small], [v for v, s in zip(y, small, strict=True) if s],
                   facecolors="white", edgecolors=color, zorder=3)
    ax.set_yticks(range(len(categories)), [i18n.label(str(c)) for c in categories])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(i18n.label(label))
    ax.set_title(i18n.label(title))
    if group:
        ax.legend(loc="best", fontsize=8, ncol=2)
    return _finished(fig)


def cohort_heatmap(rates: pd.DataFrame, flagged: set[str] | None = None) -> plt.Figure:
    """Cohort x age retention heatmap; cells not observable yet are left blank (hatched), never
    0%. Cohorts in ``flagged`` (periods resting on estimated history) are marked with '*'."""
    sns.set_theme(style="white")
    i18n.apply_fonts()
    fig, ax = plt.subplots(figsize=(12, 0.35 * len(rates) + 1.8))
    ax.set_facecolor("#f0f0f0")
    sns.heatmap(rates, ax=ax, cmap="Blues", vmin=0, vmax=max(0.01, float(rates.max().max())),
                annot=True, fmt=".0%", annot_kws={"size": 7},
                cbar_kws={"label": "share of the cohort buying in that quarter",
                          "format": mticker.PercentFormatter(1.0)})
    ax.patch.set_hatch("///")
    ax.patch.set_edgecolor("#cccccc")
    labels = [f"{c} *" if flagged and c in flagged else c for c in rates.index]
    ax.set_yticks([i + 0.5 for i in range(len(labels))], labels, rotation=0, fontsize=8)
    ax.set_ylabel(_("cohort (quarter of first purchase)"))
    ax.set_xlabel(i18n.label(rates.columns.name or "periods since first purchase"))
    ax.set_title(
        _("Cohort retention (hatched: not observable yet; * lost months in that quarter)"))
    return _finished(fig)


def odds_ratios(drivers: pd.DataFrame | None) -> plt.Figure | None:
    """Forest plot of the churn drivers: odds ratio per standard deviation with its interval."""
    if drivers is None:  # a part the data did not support: nothing to draw
        return None
    _theme()
    data = drivers.iloc[::-1]
    colors = data["direction"].map({"raises risk": "#C44E52", "lowers risk": "#4C72B0",
                                    "unclear": "#999999"})
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(data) + 1.5))
    y = range(len(data))
    ax.errorbar(data["odds_ratio_per_sd"], y,
                xerr=_error_bars(data["odds_ratio_per_sd"], data["ci_low"], data["ci_high"]),
                fmt="none", ecolor="#666666", capsize=2)
    ax.scatter(data["odds_ratio_per_sd"], y, c=colors.tolist(), zorder=3)
    ax.axvline(1, color="#333333", lw=1)
    ax.set_xscale("log")
    # plain ratios as ticks: a narrow log axis otherwise shows a lone "10^0"
    from matplotlib.ticker import FixedLocator, NullLocator

    low, high = float(data["ci_low"].min()), float(data["ci_high"].max())
    ticks = [t for t in (0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 4)
             if low * 0.9 <= t <= high * 1.1] or [1]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_yticks(list(y), [i18n.label(str(name)) for name in data.index])
    ax.set_xlabel(_("odds ratio of churning per standard deviation (log scale; 1 = no effect)"))
    ax.set_title(_("What drives churn risk (red raises, blue lowers, grey unclear)"))
    return _finished(fig)


def calibration(table: pd.DataFrame | None) -> plt.Figure | None:
    """Predicted vs observed churn per risk decile, with the observed rate's interval."""
    if table is None:  # a part the data did not support: nothing to draw
        return None
    _theme()
    fig, (ax_cal, ax_bar) = plt.subplots(1, 2, figsize=(11, 4))
    top = float(max(table["ci_high"].max(), table["mean_predicted"].max())) * 1.05
    ax_cal.plot([0, top], [0, top], color="#999999", lw=1, label=_("perfect calibration"))
    ax_cal.errorbar(table["mean_predicted"], table["rate"],
                    yerr=_error_bars(table["rate"], table["ci_low"], table["ci_high"]),
                    fmt="o", color="#4C72B0", capsize=3, label=_("risk decile"))
    ax_cal.set_xlabel(_("predicted churn (mean of the decile)"))
    ax_cal.set_ylabel(_("observed churn"))
    ax_cal.set_title(_("Calibration on the test snapshot"))
    ax_cal.legend(loc="upper left")
    for ax in (ax_cal,):
        ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax_bar.bar(table.index.astype(str), table["rate"], color="#4C72B0")
    ax_bar.axhline(table["successes"].sum() / table["trials"].sum(), color="#C44E52", ls="--",
                   label=_("all customers"))
    ax_bar.set_xlabel(_("risk decile (10 = riskiest)"))
    ax_bar.set_ylabel(_("observed churn"))
    ax_bar.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax_bar.set_title(_("Churn by risk decile"))
    ax_bar.legend()
    return _finished(fig)


def cycle_distribution(gaps: pd.DataFrame, cycles: pd.DataFrame) -> plt.Figure:
    """Box plots of days between repeat purchases per category, the cycle marked.

    ``gaps``: category, gap (days); ``cycles``: ``retention.consumption_cycles`` output."""
    _theme()
    order = cycles.sort_values("cycle_days").index.tolist()
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(order) + 1.5))
    sns.boxplot(data=gaps, x="gap", y="category", order=order, ax=ax, color="#A1C9F4",
                showfliers=False)
    ax.scatter(cycles.loc[order, "cycle_days"], range(len(order)), marker="|", s=400,
               color="#C44E52", zorder=3, label=_("consumption cycle (75th percentile)"))
    ax.set_xlabel(_("days between a customer's consecutive purchases in the category"))
    ax.set_ylabel("")
    ax.legend(loc="lower right")
    ax.set_title(_("How long customers take to buy again, by category"))
    return _finished(fig)


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
                      percent: bool = False) -> plt.Figure:
    """Estimates per row label from several tables side by side (e.g. naive vs adjusted), each
    with its interval: one colour per table, rows shared."""
    _theme()
    labels = list(next(iter(tables.values())).index)
    fig, ax = plt.subplots(figsize=(9, (0.45 + 0.15 * len(tables)) * len(labels) + 1.5))
    palette = sns.color_palette("deep", len(tables))
    step = 0.6 / max(len(tables), 1)
    for k, ((name, table), color) in enumerate(zip(tables.items(), palette, strict=True)):
        table = table.reindex(labels)
        y = [i + (k - (len(tables) - 1) / 2) * step for i in range(len(labels))]
        ax.errorbar(table[value], y, xerr=_error_bars(table[value], table[low], table[high]),
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
    return _finished(fig)


def event_profile(profile: pd.DataFrame) -> plt.Figure:
    """Event-study lines: mean log units relative to the month before a price change, treated
    vs control, one panel per direction (from ``price.event_time_profile``)."""
    _theme()
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
        ax.set_xlabel(_("months from the change"))
    axes.flat[0].set_ylabel(_("log units, relative to the month before"))
    axes.flat[0].legend(loc="best", fontsize=8)
    return _finished(fig)


def residuals(data: pd.DataFrame) -> plt.Figure:
    """Residuals against fitted values (hexbin) and their distribution, for a regression's
    within data with 'fitted' and 'residual' columns."""
    _theme()
    fig, (ax_scatter, ax_hist) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax_scatter.hexbin(data["fitted"], data["residual"], gridsize=40, cmap="Blues", mincnt=1)
    ax_scatter.axhline(0, color="#C44E52", lw=1)
    ax_scatter.set_xlabel(_("fitted (after the fixed effects)"))
    ax_scatter.set_ylabel(_("residual"))
    ax_scatter.set_title(_("Residuals against fitted values"))
    ax_hist.hist(data["residual"], bins=60, color="#4C72B0")
    ax_hist.set_xlabel(_("residual (log units)"))
    ax_hist.set_title(_("Distribution of residuals"))
    return _finished(fig)


def monitoring(series: pd.DataFrame, alerts: pd.DataFrame, indicator: str,
               max_panels: int = 9) -> plt.Figure:
    """One indicator's monthly series per region, months resting on estimated history hollow,
    alerts marked in red (from ``monitoring.monitoring_series`` and ``detect_alerts``).

    With more regions than ``max_panels``, the total ('all') comes first, then the regions
    with the largest totals and every region with an alert; the title says how many are left
    out."""
    _theme()
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
    return _finished(fig)
