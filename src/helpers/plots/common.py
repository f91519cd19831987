"""What every chart shares: the theme (with the report language's font), closing a finished
figure, interval bars and the cleaning palette."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from helpers import i18n


def finished(fig: plt.Figure, **layout) -> plt.Figure:
    """Lay the figure out and close it (a notebook cell ending with it shows it once)."""
    fig.tight_layout(**layout)
    plt.close(fig)
    return fig


def theme() -> None:
    """seaborn's white-grid theme, with the report language's font (CJK for Chinese)."""
    sns.set_theme(style="whitegrid")
    i18n.apply_fonts()


def error_bars(value: pd.Series, low: pd.Series, high: pd.Series) -> list[np.ndarray]:
    """Distances from a point to its interval ends for ``errorbar``; an interval that excludes
    its point by rounding (a rate of exactly 0 or 1) gives 0, not a negative length."""
    value = np.asarray(value, dtype=float)
    return [np.clip(value - np.asarray(low, dtype=float), 0, None),
            np.clip(np.asarray(high, dtype=float) - value, 0, None)]


PALETTE = {"kept": "#4C72B0", "duplicates removed": "#DD8452", "excluded": "#8C8C8C",
           "quarantined": "#C44E52"}
