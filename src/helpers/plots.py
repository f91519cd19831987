"""Charts for the notebooks and reports.

Each function returns a closed matplotlib Figure: a notebook cell that ends with the call shows the
figure exactly once (inline), and the same figure can be saved by scripts.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

PALETTE = {"kept": "#4C72B0", "duplicates removed": "#DD8452", "quarantined": "#C44E52"}


def rows_by_source(summary: pd.DataFrame) -> plt.Figure:
    """Horizontal stacked bars per raw source: rows kept, duplicates removed, quarantined.

    Args:
        summary: ``cleaning.source_summary`` output (index source; rows_clean,
            duplicates_removed, quarantined).
    """
    sns.set_theme(style="whitegrid")
    data = summary.rename(columns={"rows_clean": "kept", "duplicates_removed":
                                   "duplicates removed"})[["kept", "duplicates removed",
                                                           "quarantined"]]
    data = data.sort_values("kept")
    fig, (ax_all, ax_lost) = plt.subplots(1, 2, figsize=(11, 0.45 * len(data) + 1.6),
                                          sharey=True, gridspec_kw={"width_ratios": [2, 1]})
    left = pd.Series(0.0, index=data.index)
    for column in data.columns:
        ax_all.barh(data.index, data[column], left=left, color=PALETTE[column], label=column)
        left += data[column]
    ax_all.set_xlabel("rows in the raw file")
    ax_all.legend(loc="lower right", frameon=True)
    ax_all.set_title("What happened to every raw row")
    lost = data[["duplicates removed", "quarantined"]]
    left = pd.Series(0.0, index=data.index)
    for column in lost.columns:
        ax_lost.barh(lost.index, lost[column], left=left, color=PALETTE[column])
        left += lost[column]
    ax_lost.set_xlabel("rows removed or set aside (zoomed)")
    ax_lost.set_title("Removed or set aside")
    fig.tight_layout()
    plt.close(fig)
    return fig


def monthly_lines_by_source(monthly: pd.DataFrame) -> plt.Figure:
    """Stacked monthly bars of order lines per source system, from
    ``cleaning.monthly_lines_by_source`` (index month, one column per source)."""
    sns.set_theme(style="whitegrid")
    colors = {"legacy": "#8172B3", "current": "#4C72B0"}
    fig, ax = plt.subplots(figsize=(11, 3.6))
    bottom = pd.Series(0.0, index=monthly.index)
    for source in [c for c in ["legacy", "current"] if c in monthly] + [
            c for c in monthly if c not in ("legacy", "current")]:
        ax.bar(monthly.index, monthly[source], bottom=bottom, width=25,
               color=colors.get(source, "#999999"), label=f"{source} system")
        bottom += monthly[source]
    ax.set_ylabel("sale lines per month")
    ax.set_title("One order history from two systems")
    ax.legend(loc="upper left")
    fig.tight_layout()
    plt.close(fig)
    return fig
