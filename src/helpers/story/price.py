"""Behaviour around price changes, in words (notebook 06)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.i18n import _


def summary_sentence(event_table: pd.DataFrame, relation: pd.DataFrame,
                     index_origin: str = "delivered", changes_origin: str = "delivered") -> str:
    """The headline of notebook 06: where the price changes and the market index came from
    ('delivered', 'derived' from the order lines, or 'none'), the regions that react most and
    least, and the link to loyalty."""
    large = event_table.loc[~event_table["small_group"].astype(bool)] if "small_group" in \
        event_table else event_table
    adjusted = large["adjusted"].sort_values()  # a region with few events is never an extreme
    strongest = relation["spearman"].abs().max() if len(relation) else float("nan")
    if strongest < 0.1:
        link = _("price sensitivity is unrelated to the loyalty measures (all |rho| < 0.1)")
    else:
        measure = relation["spearman"].abs().idxmax()
        link = _("the strongest link to a loyalty measure is rho = {rho:.2f} with {measure}",
                 rho=relation.loc[measure, "spearman"], measure=i18n.label(measure))
    net = {"delivered": _("net of the market and of the same product in other regions"),
           "derived": _("net of the category's price level in the region (an index of the "
                        "company's own regular prices: no market index was delivered) and of "
                        "the same product in other regions"),
           "none": _("net of the same product in other regions (no market index delivered)")
           }[index_origin]
    events = int(event_table["events"].sum())
    changes = (_("Around {events:,} price changes", events=events) if changes_origin ==
               "delivered" else _("Around {events:,} lasting price changes found in the order "
                                  "lines (no price-change log was delivered)", events=events))
    if len(adjusted) < 2:
        return _("{changes}, {net}: too few price changes in each region to say where units "
                 "react most; at customer level, {link}.", changes=changes, net=net, link=link)
    most, least = adjusted.index[0], adjusted.index[-1]
    return _("{changes}, {net}, units react most in {most} (elasticity {most_elasticity:.1f}, "
             "interval {most_low:.1f} to {most_high:.1f}) and least in {least} "
             "({least_elasticity:.1f}, {least_low:.1f} to {least_high:.1f}); at customer "
             "level, {link}.", changes=changes, net=net, most=i18n.label(most),
             most_elasticity=adjusted.iloc[0], most_low=event_table.loc[most, "adjusted_low"],
             most_high=event_table.loc[most, "adjusted_high"], least=i18n.label(least),
             least_elasticity=adjusted.iloc[-1],
             least_low=event_table.loc[least, "adjusted_low"],
             least_high=event_table.loc[least, "adjusted_high"], link=link)
