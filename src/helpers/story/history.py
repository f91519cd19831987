"""What the history repair changed and estimated, in words (notebook 02)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import i18n
from helpers.history import RepairResult, estimated_share
from helpers.i18n import _
from helpers.pricing import DerivedPrices


def estimated_share_sentences(table: pd.DataFrame, by: list[str], *, what: str = "revenue",
                              at_least: float = 0.005, value: str = "revenue",
                              estimated: str = "estimated_revenue") -> list[str]:
    """Sentences like '12% of 2022 revenue in Northwest is estimated', largest share first."""
    shares = estimated_share(table, by, value, estimated)
    shares = shares[shares["share_estimated"] >= at_least].sort_values(
        "share_estimated", ascending=False)
    sentences = []
    for keys, row in shares.iterrows():
        keys = keys if isinstance(keys, tuple) else (keys,)
        labels = dict(zip(by, keys, strict=True))
        year = labels.pop("year", None)
        places = i18n.join([i18n.label(v) for v in labels.values()])
        fields = {"share": row["share_estimated"], "year": year, "what": i18n.label(what),
                  "places": places}
        if year and places:
            sentence = _("{share:.0%} of {year} {what} in {places} is estimated", **fields)
        elif year:
            sentence = _("{share:.0%} of {year} {what} is estimated", **fields)
        elif places:
            sentence = _("{share:.0%} of {what} in {places} is estimated", **fields)
        else:
            sentence = _("{share:.0%} of {what} is estimated", **fields)
        sentences.append(sentence)
    return sentences


def summary_sentence(result: RepairResult, comparison: pd.DataFrame | None = None) -> str:
    """One sentence for the report index: what the repair changed and estimated.

    With ``comparison`` (``revenue_before_after``), it adds how far the delivered legacy-period
    revenue was from the repaired figure.
    """
    log = result.repair_log
    rules = result.rules.set_index("rule")
    if not (result.order_lines["source"] == "legacy").any():
        return _("All {lines:,} order lines come from one current system: there are no legacy "
                 "definitions to unify and no old export to repair, so the lines are passed on "
                 "as delivered ({changed:,} values changed, nothing estimated).",
                 lines=len(result.order_lines), changed=len(log))
    corrected = log["method"].str.startswith(("corrected", "completed")) | log[
        "method"].str.contains(r"\+ date of", regex=True)
    estimated_values = log["method"].str.contains("estimated").sum()
    gaps = int(rules.loc["missing region-month", "flagged"])
    sales = result.monthly_sales
    lines = result.order_lines
    first_current = lines.loc[lines["source"] == "current", "order_date"].min()
    has_legacy = (lines["source"] == "legacy").any()
    period = sales["month"] < first_current if has_legacy and pd.notna(first_current) else (
        sales["month"].notna())
    revenue = sales.loc[period, "revenue"].sum()
    share = sales.loc[period, "estimated_revenue"].sum() / revenue if revenue else 0.0
    delivered = ""
    if comparison is not None and has_legacy:
        part = comparison[comparison["month"].isin(set(sales.loc[period, "month"]))]
        if part["after"].sum():
            gap = part["before"].sum() / part["after"].sum() - 1
            if gap > 0:
                delivered = _(" The legacy-period revenue as delivered was {gap:.0%} above the "
                              "repaired figure.", gap=gap)
            else:
                delivered = _(" The legacy-period revenue as delivered was {gap:.0%} below the "
                              "repaired figure.", gap=-gap)
    period_name = _("the legacy period's revenue") if has_legacy else _("revenue")
    return _("The history repair corrected {corrected:,} wrongly keyed values, removed "
             "{duplicated:,} lines exported twice, mapped {mapped:,} legacy lines to their "
             "customer's current id and estimated {estimated:,} missing values and {gaps} lost "
             "region-month(s); {share:.1%} of {period} rests on estimates, marked wherever it "
             "is used.{delivered}", corrected=int(corrected.sum()),
             duplicated=int(rules.loc["duplicated legacy month", "repaired"]),
             mapped=int(rules.loc["customer identity", "repaired"]),
             estimated=int(estimated_values), gaps=gaps, share=share, period=period_name,
             delivered=delivered)


def model_sentence(model: dict) -> str:
    """How the lost region-months were estimated, in one sentence (from ``RepairResult.model``)."""
    if not model.get("gap_cells"):
        return _("No region-month was missing: nothing had to be estimated by the seasonal "
                 "model.")
    if model.get("model", "").startswith("none"):
        return _("{gaps} region x category months are missing, but the complete history is too "
                 "short to estimate them: they are left out and flagged.",
                 gaps=model["gap_cells"])
    fit = {"cells": model["cells_fitted"], "r_squared": model["r_squared"],
           "error": np.expm1(model["residual_sd"]), "gaps": model["gap_cells"],
           "level": model["interval_level"]}
    if "_moy" in model["model"]:
        return _("Fitted on {cells:,} complete region x category months, with a calendar-month "
                 "effect: R² = {r_squared:.2f}, typical error of one month ±{error:.0%}; {gaps} "
                 "cells estimated with {level:.0%} intervals.", **fit)
    return _("Fitted on {cells:,} complete region x category months, without (too little "
             "history for) a calendar-month effect: R² = {r_squared:.2f}, typical error of one "
             "month ±{error:.0%}; {gaps} cells estimated with {level:.0%} intervals.", **fit)


def estimated_share_list(monthly_sales: pd.DataFrame) -> str:
    """Markdown: the years and regions whose revenue rests partly on estimates (largest share
    first), or that none does."""
    sentences = estimated_share_sentences(monthly_sales, ["year", "region"])
    if not sentences:
        return _("No figure rests on estimates.")
    return "\n".join(f"- {sentence}{_('.')}" for sentence in sentences)


def derived_prices_sentence(derived: DerivedPrices) -> str:
    """What notebook 02 derived from the order lines for the price reports (or that nothing
    was needed)."""
    parts = []
    if derived.price_changes is not None:
        changes = derived.price_changes
        parts.append(_("The order lines show {count:,} lasting price changes of {products:,} "
                       "products (a new regular price that held for at least two months with "
                       "sales; {up:,} increases, {down:,} decreases).", count=len(changes),
                       products=changes["product_id"].nunique(),
                       up=int((changes["new_price"] > changes["old_price"]).sum()),
                       down=int((changes["new_price"] < changes["old_price"]).sum())))
    if derived.market_index is not None:
        index = derived.market_index
        parts.append(_("An index of the company's own regular prices stands in for the market "
                       "index, for {cells:,} category x region series: it removes the "
                       "company's general repricing, not what the whole market does.",
                       cells=len(index.groupby(["category", "region"]))))
    if not parts:
        return _("Price changes and a market price index were delivered: nothing is derived "
                 "from the order lines.")
    return i18n.sentences(parts)
