"""The regional price regression, in words (notebook 07)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.i18n import _
from helpers.regression import OTHER_REGIONS


def _drop(elasticity: float) -> float:
    """% fewer units after a 10% relative price rise, in whole percent (never "-0")."""
    return float(round(100 * (1 - 1.1 ** elasticity)))


def findings(table: pd.DataFrame, test: dict, market_adjusted: bool = True,
             index_origin: str = "delivered", pooled: list[str] | None = None,
             confidence: float = 0.95) -> str:
    """Plain-language finding for managers from the elasticity table and the equality test
    (``market_adjusted``: prices were taken relative to a market index, ``index_origin``
    'derived' when it is the company's own price index; ``pooled``: the small regions
    estimated together as 'other regions', never named as the most or least sensitive: a
    pool is no region a manager can act on; ``confidence``: the intervals' level)."""
    level = f"{confidence:.0%}"
    pooled_note = _(" {count} small regions are estimated together as 'other regions'.",
                    count=len(pooled)) if pooled else ""
    relative = "" if not market_adjusted else (
        _("relative to the company's own price level ") if index_origin == "derived"
        else _("relative to the market "))
    if len(table) == 1:
        row = table.iloc[0]
        return _("One region: a 10% price rise {relative}cuts units sold by about {drop:.0f}% "
                 "({level} interval {low:.0f}% to {high:.0f}%).", relative=relative, level=level,
                 drop=_drop(row["elasticity"]), low=_drop(row["ci_high"]),
                 high=_drop(row["ci_low"])) + pooled_note
    named = table[table.index != OTHER_REGIONS]
    ordered = (named if len(named) >= 2 else table).sort_values("elasticity")
    most, least = ordered.index[0], ordered.index[-1]
    if test["p_value"] < 0.01:
        differ = _("Regions differ clearly in how they react to price")
    elif test["p_value"] < 0.05:
        differ = _("Regions may differ in how they react to price")
    else:
        differ = _("The data cannot tell the regions apart in how they react to price")
    m, lo = ordered.loc[most], ordered.loc[least]
    drop = _drop
    return _("{differ} (equal-sensitivity test p = {p:.2g}). Most price-sensitive: {most}, where "
             "a 10% price rise {relative}cuts units sold by about {most_drop:.0f}% ({level} "
             "interval {most_low:.0f}% to {most_high:.0f}%). Least: {least}, about "
             "{least_drop:.0f}% ({least_low:.0f}% to {least_high:.0f}%).", differ=differ,
             p=test["p_value"], level=level,
             most=i18n.label(most), relative=relative, most_drop=drop(m["elasticity"]),
             most_low=drop(m["ci_high"]), most_high=drop(m["ci_low"]), least=i18n.label(least),
             least_drop=drop(lo["elasticity"]), least_low=drop(lo["ci_high"]),
             least_high=drop(lo["ci_low"])) + pooled_note


def diagnostics_sentence(checks: dict) -> str:
    """What the diagnostics say, in words that follow the numbers."""
    if checks["breusch_pagan_p"] < 0.05:
        spread = _("the residual spread varies with price, so the intervals use cluster-robust "
                   "errors, which allow for it")
    else:
        spread = _("no sign that the residual spread varies with price")
    if checks["max_cooks_distance"] < 0.5:
        influence = _("no single cell drives the estimates")
    else:
        influence = _("some cells pull the estimates strongly: check them (table below)")
    return _("Breusch-Pagan: LM = {lm:.0f}, p = {p:.2g}: {spread}. Largest Cook's distance "
             "{cooks:.4f}: {influence}.", lm=checks["breusch_pagan_lm"],
             p=checks["breusch_pagan_p"], spread=spread, cooks=checks["max_cooks_distance"],
             influence=influence)


def fits_by_name(adjusted_fit: pd.DataFrame, naive_fit: pd.DataFrame,
                 market_adjusted: bool) -> dict[str, pd.DataFrame]:
    """The regression's elasticity tables under the names the chart shows (the first is
    market-adjusted only when a market index was used)."""
    name = _("market-adjusted, period effects") if market_adjusted else _("period effects")
    return {name: adjusted_fit, _("naive: raw price, seasons only"): naive_fit}


def equality_sentence(equality_test: dict, naive_fit: pd.DataFrame) -> str:
    """Whether the regions differ (the Wald test that every regional elasticity is equal),
    and how far the naive model's elasticities spread."""
    test = equality_test
    if test["df_num"] == 0:
        return _("One region only: there are no regions to compare.")
    wald = f"F({test['df_num']}, {test['df_den']}) = {test['F']:.1f}, p = {test['p_value']:.2g}"
    return _("Do regions differ? Wald test that all regional elasticities are equal: {wald}. "
             "The naive model (raw prices, no period effects) gives elasticities between "
             "{low:.2f} and {high:.2f}: market-wide price swings masquerade as demand responses.",
             wald=wald, low=naive_fit["elasticity"].min(), high=naive_fit["elasticity"].max())


def elasticity_intro(confidence: float = 0.95) -> str:
    """How to read an elasticity, with the run's interval level."""
    return _("An elasticity of -1.5 means a 1% price rise relative to the market costs about "
             "1.5% of units sold. Intervals are {level:.0%}.", level=confidence)


def specification(adjusted: bool, index_origin: str, period_grain: str = "Q") -> str:
    """The page's specification paragraph: what the price is measured against (the delivered
    market index, one built from the company's own prices, or nothing) and the panel's period,
    as this run did it."""
    period = _("quarter") if period_grain == "Q" else _("month")
    if adjusted and index_origin == "derived":
        price = _("the log of the price relative to a market index built from the company's own "
                  "regular prices of the other products in the category and region (no market "
                  "index was delivered; it removes the company's general price moves, not a "
                  "competitor's)")
    elif adjusted:
        price = _("the log of the price relative to the delivered market price index of the "
                  "product's category and region")
    else:
        price = _("the log of the price as charged (not measured against a market index)")
    return _("**Specification.** On a panel of product x region x {period} cells, the log of "
             "units sold is regressed on {price}, with a separate price slope (elasticity) for "
             "each region. Product x region fixed effects take out each product's level in each "
             "region; region x {period} fixed effects take out each region's demand in each "
             "{period} (season, customer base, market-wide swings). What is left to identify an "
             "elasticity is a product's price moving, within a region, against the region's "
             "other products. Standard errors are clustered by product, because a product's "
             "shocks are shared across regions and periods.", period=period, price=price)
