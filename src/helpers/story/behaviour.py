"""Purchase behaviour and customer value, in words (notebook 03)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.i18n import _, ngettext


def value_model_sentence(value_models: dict) -> str:
    """The fitted purchase and spend models in one sentence (report language), with a warning
    when the purchase model sees almost no drop-out (mean drop-out chance after a purchase,
    a / (a + b), under 1%): then every customer is expected to keep buying, and the values are
    upper bounds (typical of short histories)."""
    p, s = value_models["purchases"], value_models["spend"]
    parameters = f"r = {p['r']:.2f}, alpha = {p['alpha']:.1f}, a = {p['a']:.2f}, b = {p['b']:.2f}"
    spend = f"p = {s['p']:.2f}, q = {s['q']:.1f}, gamma = {s['gamma']:,.0f}"
    dropout = p["a"] / (p["a"] + p["b"])
    warning = _(" The model sees almost no drop-out (a / (a + b) = {dropout:.2%} per purchase): "
                "it expects every customer to keep buying, so read the values as upper bounds.",
                dropout=dropout) if dropout < 0.01 else ""
    return _("Purchase model: {purchases} (weeks). Spend model: {spend}. The customer list with "
             "values is in `customer_value.parquet`.{warning}", purchases=parameters,
             spend=spend, warning=warning)


def value_uncertainty_sentence(value_models: dict, tiers: pd.DataFrame, horizon_weeks: float,
                               confidence: float = 0.95) -> str:
    """The expected revenue of today's customers with its interval, and how stable the value
    tiers are, under the value models' parameter uncertainty (``value_intervals``)."""
    revenue = value_models["revenue"]
    top = tiers.index[0]
    stable = bool((tiers["tier_kept"] >= 0.9).all())
    steadiness = (_("The tiers are stable under the same uncertainty") if stable else
                  _("The tiers are not settled under the same uncertainty"))
    return _("Expected revenue from today's customers in the next {weeks:.0f} weeks: "
             "{revenue:,.0f} ({level:.0%} interval {low:,.0f} to {high:,.0f}, from the "
             "uncertainty of the models' parameters; one customer's actual purchases scatter "
             "far more widely than the expectation). {steadiness}: across {draws} plausible "
             "parameter sets a customer of the {top} stays in it {kept:.0%} of the time on "
             "average, and the least settled tier keeps {least:.0%}.",
             weeks=horizon_weeks, revenue=revenue["revenue"], level=confidence,
             low=revenue["revenue_low"], high=revenue["revenue_high"], steadiness=steadiness,
             draws=revenue["draws"], top=i18n.label(top), kept=tiers.loc[top, "tier_kept"],
             least=tiers["tier_kept"].min())


def segments_sentence(silhouettes: pd.DataFrame, k: int, agreement: float) -> str:
    """How the number of segments was chosen and how far to trust the split."""
    best = silhouettes.loc[k, "silhouette"]
    if best >= 0.5:
        strength = _("clear structure")
    elif best >= 0.3:
        strength = _("moderate structure")
    else:
        strength = _("weak structure")
    if agreement >= 0.8:
        trust = _("the two methods find the same segments")
    elif agreement >= 0.5:
        trust = _("the two methods largely agree")
    else:
        trust = _("the two methods split customers differently, so read the segments as a "
                  "convenient summary of a continuum, not as natural groups")
    return _("The silhouette is highest for {k} segments ({best:.2f}: {strength}); Ward "
             "hierarchical clustering agrees with k-means at an adjusted Rand index of "
             "{agreement:.2f} (1 = identical): {trust}.", k=k, best=best, strength=strength,
             agreement=agreement, trust=trust)


def summary_sentence(values: pd.DataFrame, tiers: pd.DataFrame, by_category: pd.DataFrame,
                     horizon_weeks: float, confidence: float = 0.95) -> str:
    """The behaviour headline: where value concentrates and which category is bought again
    (the extremes among categories with enough buyers: a ``small_group`` is never named)."""
    top = tiers.iloc[0]
    large = by_category.loc[~by_category["small_group"].astype(bool)] if \
        "small_group" in by_category else by_category
    left_out = len(by_category) - len(large)
    if len(large) < 2:
        large = by_category
    repeat = large["repeat_rate"].sort_values()
    low, high = by_category["repeat_rate_low"].iloc[0], by_category["repeat_rate_high"].iloc[0]
    if len(repeat) > 1:
        lowest, highest = repeat.index[0], repeat.index[-1]
        small = ngettext(" ({n} category with too few buyers to compare is left out)",
                         " ({n} categories with too few buyers to compare are left out)",
                         left_out) if left_out and len(large) < len(
            by_category) else ""
        repeat_text = _("Repeat buying ranges from {low_rate:.0%} of buyers in {lowest} "
                        "({lowest_low:.0%}-{lowest_high:.0%}) to {high_rate:.0%} in {highest} "
                        "({highest_low:.0%}-{highest_high:.0%}){small}.",
                        low_rate=repeat.iloc[0], lowest=i18n.label(lowest),
                        lowest_low=large.loc[lowest, "repeat_rate_low"],
                        lowest_high=large.loc[lowest, "repeat_rate_high"],
                        high_rate=repeat.iloc[-1], highest=i18n.label(highest),
                        highest_low=large.loc[highest, "repeat_rate_low"],
                        highest_high=large.loc[highest, "repeat_rate_high"], small=small)
    else:
        repeat_text = _("{rate:.0%} of buyers bought more than once ({level:.0%} interval "
                        "{low:.0%}-{high:.0%}).", rate=repeat.iloc[0], level=confidence,
                        low=low, high=high)
    return _("The most valuable {top_share:.0%} of {customers:,} customers are expected to bring "
             "{revenue_share:.0%} of the revenue of the next {months:.0f} months ({value:,.0f} "
             "in all, BG/NBD and Gamma-Gamma models). ", top_share=top["share_of_customers"],
             customers=len(values), revenue_share=top["share_of_revenue"],
             months=horizon_weeks * 12 / 52,
             value=values["expected_value"].sum()) + repeat_text


def definitions(confidence: float = 0.95, min_group_size: int = 30) -> str:
    """The page's definitions paragraph, with the run's interval level and group minimum."""
    return _("**Definitions.** A *purchase* is an order with at least one sale line; *spend* is "
             "net of returns. The *repeat-purchase rate* of a group is the share of its buyers "
             "who bought at least twice in it. Every figure comes with a {level:.0%} interval; "
             "groups of fewer than {minimum:,} customers are flagged.", level=confidence,
             minimum=min_group_size)
