"""Charts of rates and retention (03, 04, 05): rates with intervals, cohorts, churn drivers and
calibration, consumption cycles."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
import seaborn as sns

from helpers import i18n
from helpers.i18n import _
from helpers.plots.common import error_bars, finished, theme


def rates_with_intervals(table: pd.DataFrame | None, label: str, title: str,
                         group: str | None = None, max_groups: int = 8) -> plt.Figure | None:
    """Dot-and-whisker chart of rates with their confidence intervals (``retention.rate_table``
    output, indexed by the category or by (category, group)); small groups drawn hollow. With
    more than ``max_groups`` groups only those with the most trials are drawn, and the title
    says how many are left out. None (a part the data did not support) draws nothing."""
    if table is None:
        return None
    theme()
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
                    xerr=error_bars(part["rate"], part["ci_low"], part["ci_high"]),
                    fmt="none", ecolor=color, capsize=2)
        ax.scatter(part["rate"][~small], [v for v, s in zip(y, small, strict=True) if not s],
                   color=color, zorder=3,
                   label=i18n.label(name) if name is not None else None)
        ax.scatter(part["rate"][small], [v for v, s in zip(y, small, strict=True) if s],
                   facecolors="white", edgecolors=color, zorder=3)
    ax.set_yticks(range(len(categories)), [i18n.label(str(c)) for c in categories])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))  # decimals as the range needs
    ax.set_xlabel(i18n.label(label))
    ax.set_title(i18n.label(title))
    if group:
        ax.legend(loc="best", fontsize=8, ncol=2)
    return finished(fig)


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
    return finished(fig)


def odds_ratios(drivers: pd.DataFrame | None) -> plt.Figure | None:
    """Forest plot of the churn drivers: odds ratio per standard deviation with its interval."""
    if drivers is None:  # a part the data did not support: nothing to draw
        return None
    theme()
    data = drivers.iloc[::-1]
    colors = data["direction"].map({"raises risk": "#C44E52", "lowers risk": "#4C72B0",
                                    "unclear": "#999999"})
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(data) + 1.5))
    y = range(len(data))
    ax.errorbar(data["odds_ratio_per_sd"], y,
                xerr=error_bars(data["odds_ratio_per_sd"], data["ci_low"], data["ci_high"]),
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
    return finished(fig)


def calibration(table: pd.DataFrame | None) -> plt.Figure | None:
    """Predicted vs observed churn per risk decile, with the observed rate's interval."""
    if table is None:  # a part the data did not support: nothing to draw
        return None
    theme()
    fig, (ax_cal, ax_bar) = plt.subplots(1, 2, figsize=(11, 4))
    top = float(max(table["ci_high"].max(), table["mean_predicted"].max())) * 1.05
    ax_cal.plot([0, top], [0, top], color="#999999", lw=1, label=_("perfect calibration"))
    ax_cal.errorbar(table["mean_predicted"], table["rate"],
                    yerr=error_bars(table["rate"], table["ci_low"], table["ci_high"]),
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
    return finished(fig)


def cycle_distribution(gaps: pd.DataFrame, cycles: pd.DataFrame,
                       cycle_quantile: float = 0.75) -> plt.Figure:
    """Box plots of days between repeat purchases per category, the cycle marked.

    ``gaps``: category, gap (days); ``cycles``: ``retention.consumption_cycles`` output at
    ``cycle_quantile`` (named in the legend)."""
    theme()
    order = cycles.sort_values("cycle_days").index.tolist()
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(order) + 1.5))
    sns.boxplot(data=gaps, x="gap", y="category", order=order, ax=ax, color="#A1C9F4",
                showfliers=False)
    ax.scatter(cycles.loc[order, "cycle_days"], range(len(order)), marker="|", s=400,
               color="#C44E52", zorder=3, label=_("consumption cycle ({share:.0%} quantile)",
                                                    share=cycle_quantile))
    ax.set_xlabel(_("days between a customer's consecutive purchases in the category"))
    ax.set_ylabel("")
    ax.legend(loc="lower right")
    ax.set_title(_("How long customers take to buy again, by category"))
    return finished(fig)
