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


def discount_sentence(response: pd.DataFrame | None, confidence: float = 0.95) -> str:
    """Whether units respond to discounts (``discounts.discount_response``), in the report
    language; without delivered list prices, why it is not measured."""
    if response is None:
        return _("**Not measured:** no list prices were delivered, so a discount cannot be told "
                 "from the regular price. In such an export a price below the month's usual one "
                 "is mostly a quantity discount, which follows the quantity bought rather than "
                 "causing it. The customer score below rests on buying when cheap alone.")
    pooled = response.loc["all regions"]
    if pd.isna(pooled["units_change"]):
        return _("Too few discounted months to measure how units respond to discounts.")
    facts = {"change": pooled["units_change"], "low": pooled["ci_low"],
             "high": pooled["ci_high"], "level": confidence,
             "depth": pooled["mean_depth"], "discounted": int(pooled["discounted_cells"]),
             "cells": int(pooled["cells"]), "pairs": int(pooled["product_regions"])}
    if pooled["ci_low"] <= 0 <= pooled["ci_high"]:
        verdict = _("No measurable response to discounts")
    elif pooled["units_change"] > 0:
        verdict = _("Discounts sell more units")
    else:
        verdict = _("Discounted months sold fewer units")
    return _("{verdict}: against a product's own regular months in the same region, a 10% "
             "discount went with {change:+.1%} units ({level:.0%} interval {low:+.1%} to "
             "{high:+.1%}); {discounted:,} of {cells:,} product-region-months were discounted, "
             "by {depth:.1%} on average, across {pairs:,} products and regions.",
             verdict=verdict, **facts)
