"""Behaviour around price changes, in words (notebook 06)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.i18n import _


def summary_sentence(event_table: pd.DataFrame, relation: pd.DataFrame,
                     market_adjusted: bool = True) -> str:
    """The headline of notebook 06 (``market_adjusted``: a market index was delivered)."""
    adjusted = event_table["adjusted"].sort_values()
    strongest = relation["spearman"].abs().max() if len(relation) else float("nan")
    if strongest < 0.1:
        link = _("price sensitivity is unrelated to the loyalty measures (all |rho| < 0.1)")
    else:
        measure = relation["spearman"].abs().idxmax()
        link = _("the strongest link to a loyalty measure is rho = {rho:.2f} with {measure}",
                 rho=relation.loc[measure, "spearman"], measure=i18n.label(measure))
    if market_adjusted:
        net = _("net of the market and of the same product in other regions")
    else:
        net = _("net of the same product in other regions (no market index delivered)")
    return _("Around {events:,} price changes, {net}, units react most in {most} (elasticity "
             "{most_elasticity:.1f}) and least in {least} ({least_elasticity:.1f}); at customer "
             "level, {link}.", events=int(event_table["events"].sum()), net=net,
             most=i18n.label(adjusted.index[0]), most_elasticity=adjusted.iloc[0],
             least=i18n.label(adjusted.index[-1]), least_elasticity=adjusted.iloc[-1],
             link=link)
