"""Did the loyalty strategies work, in words (notebook 09 and the executive summary)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.i18n import _, ngettext
from helpers.stages.interventions import verdict
from helpers.words import N_

DESIGNS = (N_("randomised holdout"), N_("targeted, no holdout"), N_("regional change"),
           N_("survey waves"))
VERDICTS = (N_("worked"), N_("backfired"), N_("no clear effect"), N_("not measurable yet"))
# the words of the page's tables (columns, kinds, outcomes, estimates)
TABLE_WORDS = (
    N_("campaign"), N_("coupon"), N_("member benefit"), N_("service change"),
    N_("price policy"), N_("survey incentive"), N_("kind"), N_("design"), N_("start"),
    N_("treated"), N_("comparison"), N_("relative"), N_("relative_low"), N_("relative_high"),
    N_("verdict"), N_("name"), N_("intervention"), N_("intervention_id"), N_("feature"),
    N_("treated_mean"), N_("comparison_mean"), N_("weighted_comparison_mean"),
    N_("difference_before"), N_("difference_after"), N_("outcome"), N_("estimate"),
    N_("effect"), N_("purchases"), N_("spend"), N_("bought"), N_("adjusted"),
    N_("seasonal baseline"), N_("subgroup"),
    N_("log_spend_12m"), N_("recency_days"), N_("orders_12m"), N_("tenure_years"),
    N_("responded"), N_("wave"), N_("successes"), N_("trials"), N_("rate"), N_("ci_low"),
    N_("ci_high"), N_("small_group"), N_("incentive"), N_("complaints"), N_("by"),
    N_("group"), N_("region"), N_("value before"), N_("top 20% by spend before it"),
    N_("other customers"), N_("tier before it"), N_("loyalty_index"))


def definitions(window_months: int, pre_months: int, min_group_size: int) -> str:
    """The page's definitions, with the run's window, pre-period and minimum group size."""
    return _("**Definitions used on this page.** An intervention's effect is measured on the "
             "customers it reached over the {window} months after each one's exposure (purchases: "
             "orders with a sale line; spend: net amount; bought: at least one purchase, i.e. "
             "retained; complaints where they were delivered), against a comparison group: the "
             "holdout where there is one, else customers who looked like the targeted ones before "
             "it, or for a change in a region the other regions over the {pre} months before it. A"
             " verdict says *worked* or *backfired* only when the whole interval of the effect on "
             "purchases lies on one side of zero; a group of fewer than {minimum} customers, no "
             "exposed customers or a window that ends after the data is *not measurable yet*. A "
             "survey incentive is judged by its wave's response rate against the other survey "
             "waves.",
             window=window_months, pre=pre_months, minimum=min_group_size)


def _verdict_words() -> dict[str, str]:
    """The verdicts in the page's language (read at call time, after i18n.use)."""
    return {"worked": _("worked"), "backfired": _("backfired"),
            "no clear effect": _("no clear effect")}


def verdict_line(row: pd.Series, window_months: int, confidence: float = 0.95) -> str:
    """One intervention's verdict for managers: 'worked: +x% purchases (a to b)', 'no clear
    effect', 'backfired' or 'not measurable yet' with the reason."""
    name = row["name"]
    if row["verdict"] == "not measurable yet":
        return _("{name}: not measurable yet ({reason}).", name=name,
                 reason=i18n.data_text(str(row["reason"])))
    if row["design"] == "survey waves":
        return _("{name}: {verdict}, response rate {rate:.1%} against {base:.1%} in the other "
                 "survey waves: {points:+.1f} points ({level:.0%} interval {low:+.1f} to "
                 "{high:+.1f}), on {invitations:,} invitations.", name=name,
                 verdict=_verdict_words()[row["verdict"]], rate=row["response_rate"],
                 base=row["comparison_rate"], points=100 * row["points"], level=confidence,
                 low=100 * row["points_low"], high=100 * row["points_high"],
                 invitations=int(row["treated"]))
    effect = _("{change:+.0%} purchases per customer ({level:.0%} interval {low:+.0%} to "
               "{high:+.0%})", change=row["relative"], level=confidence,
               low=row["relative_low"], high=row["relative_high"])
    window = (_("in the {months} months after exposure", months=window_months)
              if row["design"] != "regional change" else _("since it started"))
    said = _verdict_words()[row["verdict"]]
    money = ""
    if pd.notna(row.get("revenue")) and row["verdict"] != "no clear effect":
        money = " " + _("Revenue it brought: {revenue:,.0f} ({low:,.0f} to {high:,.0f}).",
                        revenue=row["revenue"], low=row["revenue_low"],
                        high=row["revenue_high"])
        if pd.notna(row.get("cost")) and row["cost"] > 0:
            money += " " + _("That is {times:.1f} times its cost of {cost:,.0f} ({low:.1f} to "
                             "{high:.1f}).", cost=row["cost"],
                             times=row["revenue"] / row["cost"],
                             low=row["revenue_low"] / row["cost"],
                             high=row["revenue_high"] / row["cost"])
    return _("{name}: {verdict}, {effect} {window}, {design}.{money}", name=name,
             verdict=said, effect=effect, window=window,
             design=i18n.data_text(row["design"]), money=money)


def headline(overview: pd.DataFrame, window_months: int, confidence: float = 0.95) -> str:
    """The page's headline (and the executive summary's line): how many interventions worked,
    which did best, and which could not be judged."""
    if overview.empty:
        return _("No interventions were delivered.")
    judged = overview[overview["verdict"] != "not measurable yet"]
    if judged.empty:
        return ngettext("The {n} intervention delivered is not measurable yet.",
                        "None of the {n} interventions delivered is measurable yet.",
                        len(overview))
    worked = judged[judged["verdict"] == "worked"]
    text = ngettext("{n} intervention measured", "{n} interventions measured", len(judged))
    parts = [text + ": " + _("{worked} worked, {unclear} without a clear effect, {backfired} "
                             "backfired.", worked=len(worked),
                             unclear=int((judged["verdict"] == "no clear effect").sum()),
                             backfired=int((judged["verdict"] == "backfired").sum()))]
    on_purchases = worked[worked["design"] != "survey waves"]
    if len(on_purchases):
        best = on_purchases["relative"].idxmax()
        parts.append(_("The strongest: {line}", line=verdict_line(
            overview.loc[best], window_months, confidence)))
    waiting = len(overview) - len(judged)
    if waiting:
        parts.append(ngettext("{n} is not measurable yet.", "{n} are not measurable yet.",
                              waiting))
    return " ".join(parts)


def index_sentences(effects: pd.DataFrame, overview: pd.DataFrame, window_months: int,
                    confidence: float = 0.95) -> str:
    """The adjusted effect of each measured intervention on the loyalty index recomputed for
    its window (``intervention_outcomes.window_loyalty_index``), with what it explains ('' when
    no intervention has one)."""
    rows = effects[(effects["outcome"] == "loyalty_index") & (effects["estimate"] == "adjusted")]
    if rows.empty:
        return ""
    words = _verdict_words()
    lines = [_("- {name}: {effect:+.1f} points ({low:+.1f} to {high:+.1f}) against {base:.1f} "
               "without it: {verdict}.", name=overview.loc[row["intervention_id"], "name"],
               effect=row["effect"], low=row["ci_low"], high=row["ci_high"],
               base=row["comparison_mean"], verdict=words[verdict(row["ci_low"],
                                                                  row["ci_high"])])
             for _i, row in rows.iterrows()]
    intro = _("**The loyalty index.** Recomputed for the {window} months after each exposure and "
              "the {window} months before it, on the scorecard's 0-100 scale: its behaviour "
              "dimension, the purchases, categories bought and spend of the window, each scored "
              "by where it falls among the same customers' months before it. The survey, "
              "churn-model and price dimensions cannot be recomputed for a window, so this is the"
              " part of the index that the orders show. Effects with {level:.0%} intervals, "
              "adjusted as above:", window=window_months, level=confidence)
    return "\n".join([intro, "", *lines])


def targeted_sentence(effects: pd.DataFrame, name: str, confidence: float = 0.95) -> str:
    """How far the naive treated-vs-rest comparison is from the adjusted one, for a targeted
    intervention (the selection bias the weighting removes)."""
    purchases = effects[effects["outcome"] == "purchases"].set_index("estimate")
    naive, adjusted = purchases.loc["naive"], purchases.loc["adjusted"]
    return _("{name}: comparing the targeted customers with everyone else gives "
             "{naive:+.2f} purchases per customer ({naive_low:+.2f} to {naive_high:+.2f}); "
             "against customers who looked like them before it (weighted, difference in "
             "differences) the effect is {adjusted:+.2f} ({low:+.2f} to {high:+.2f}, "
             "{level:.0%} intervals). The targeted customers were chosen for how they "
             "bought, so the naive comparison mixes that choice with the effect.", name=name,
             naive=naive["effect"], naive_low=naive["ci_low"], naive_high=naive["ci_high"],
             adjusted=adjusted["effect"], low=adjusted["ci_low"], high=adjusted["ci_high"],
             level=confidence)


def pre_trend_sentence(row: pd.Series, confidence: float = 0.95) -> str:
    """Whether the regions moved in parallel before a regional change (the check its
    difference in differences rests on)."""
    parallel = row["pre_trend_low"] <= 0 <= row["pre_trend_high"]
    verdict = (_("the regions moved in parallel before it") if parallel else
               _("the regions were already drifting apart before it, so read the effect with "
                 "care"))
    return _("{name}: {verdict} (gap trend {trend:+.3f} log points per month, {level:.0%} "
             "interval {low:+.3f} to {high:+.3f}).", name=row["name"], verdict=verdict,
             trend=row["pre_trend"], level=confidence, low=row["pre_trend_low"],
             high=row["pre_trend_high"])


def verdict_list(overview: pd.DataFrame, window_months: int, confidence: float = 0.95) -> str:
    """Every intervention's verdict line, as a markdown list ('' without interventions)."""
    return "\n".join(f"- {verdict_line(row, window_months, confidence)}"
                     for _id, row in overview.iterrows())


def targeted_sentences(effects: pd.DataFrame, overview: pd.DataFrame,
                       confidence: float = 0.95) -> str:
    """``targeted_sentence`` for each measured targeted intervention, one paragraph each."""
    targeted = overview[(overview["design"] == "targeted, no holdout")
                        & (overview["verdict"] != "not measurable yet")] if len(overview) \
        else overview
    return "\n\n".join(targeted_sentence(effects[effects["intervention_id"] == key],
                                         row["name"], confidence)
                       for key, row in targeted.iterrows())


def seasonal_sentence(effects: pd.DataFrame, name: str, confidence: float = 0.95) -> str:
    """A regional change measured against the same month a year before (its rows of the
    effects table), and whether that agrees with the plain difference in differences."""
    rows = effects[effects["outcome"] == "purchases"].set_index("estimate")
    if "seasonal baseline" not in rows.index:
        return _("{name}: too little history for the seasonal check (it needs a year more "
                 "before the start).", name=name)
    plain, seasonal = rows.loc["adjusted"], rows.loc["seasonal baseline"]
    agree = seasonal["relative_low"] <= plain["relative"] <= seasonal["relative_high"]
    conclusion = (_("it agrees: no sign of a seasonal rhythm of the region's own that would "
                    "bias the comparison") if agree else
                  _("it disagrees: the region has a seasonal rhythm of its own, so trust the "
                    "seasonal check more"))
    return _("{name}: against the same month a year before (the monitoring's seasonal "
             "baseline), {relative:+.1%} ({low:+.1%} to {high:+.1%}, {level:.0%} interval); "
             "{conclusion}.", name=name, relative=seasonal["relative"],
             low=seasonal["relative_low"], high=seasonal["relative_high"], level=confidence,
             conclusion=conclusion)


def pre_trend_sentences(regional: pd.DataFrame, effects: pd.DataFrame | None = None,
                        confidence: float = 0.95) -> str:
    """``pre_trend_sentence`` for each measured regional change, each followed by its
    ``seasonal_sentence`` when ``effects`` are given."""
    return "\n\n".join(
        pre_trend_sentence(row, confidence) + ("" if effects is None else " " + seasonal_sentence(
            effects[effects["intervention_id"] == key], row["name"], confidence))
        for key, row in regional.iterrows())


def summary_bullet(overview: pd.DataFrame, window_months: int, confidence: float = 0.95) -> str:
    """The executive summary's line on the loyalty strategies (a markdown list item)."""
    return "- " + _("**Loyalty strategies:** {headline}",
                    headline=headline(overview, window_months, confidence))


def subgroup_intro(min_group_size: int, by_tier: bool = False) -> str:
    """What the effects by group are, with the run's minimum group size (``by_tier``: the
    split by membership tier before it is made too)."""
    tier = _(", within each membership tier the customers held over the 12 months before it"
             ) if by_tier else ""
    return _("For an intervention with a randomised holdout the effect on purchases is also "
             "measured within each region{tier} and within the customers who spent most in "
             "the months before it (the top 20%) and the others: groups known before it, so the "
             "holdout stays a fair comparison inside each. A group with fewer than {minimum} "
             "customers on either side is flagged in the table and left out of the chart. With "
             "many groups, about one interval in twenty misses the true effect by chance: a "
             "single group that stands out is a lead to test, not a finding.",
             minimum=min_group_size, tier=tier)


def subgroup_chart_title(by_tier: bool = False) -> str:
    """The title of the effects-by-group chart (``by_tier`` as in ``subgroup_intro``)."""
    if by_tier:
        return _("Effect on purchases by region, by tier and by spend before it")
    return _("Effect on purchases by region and by spend before it")


def subgroup_sentence(rows: pd.DataFrame, name: str, confidence: float = 0.95) -> str:
    """Whether an intervention's effect differed between the groups of one split (``rows``:
    its subgroup rows of one ``by``, small groups left out): the highest and the lowest, and
    whether their intervals overlap."""
    high, low = rows.loc[rows["relative"].idxmax()], rows.loc[rows["relative"].idxmin()]
    args = {"name": name, "by": i18n.label(rows["by"].iloc[0]),
            "high": i18n.label(high["group"]), "low": i18n.label(low["group"]),
            "high_value": high["relative"], "low_value": low["relative"], "level": confidence}
    if high["relative_low"] > low["relative_high"]:
        return _("{name}, by {by}: it did more for {high} ({high_value:+.0%}) than for {low} "
                 "({low_value:+.0%}); their {level:.0%} intervals do not overlap.", **args)
    return _("{name}, by {by}: from {low_value:+.0%} ({low}) to {high_value:+.0%} ({high}), "
             "but the {level:.0%} intervals overlap: the data do not show it working better "
             "for one group.", **args)


def subgroup_sentences(subgroups: pd.DataFrame | None, overview: pd.DataFrame,
                       confidence: float = 0.95) -> str:
    """``subgroup_sentence`` per intervention and split with at least two groups that are not
    small ('' without any)."""
    if subgroups is None or subgroups.empty:
        return ""
    shown = subgroups[~subgroups["small_group"].astype(bool) & subgroups["relative"].notna()]
    return "\n\n".join(
        subgroup_sentence(rows, overview.loc[key, "name"], confidence)
        for (key, _by), rows in shown.groupby(["intervention_id", "by"], sort=False)
        if len(rows) >= 2)
