"""The loyalty index and the executive summary managers read first (notebook 08)."""

from __future__ import annotations

import pandas as pd

from helpers import display, i18n
from helpers.i18n import _
from helpers.regression import OTHER_REGIONS
from helpers.scorecard import DIMENSIONS, ESTIMATED_MARK, rests_on_estimates
from helpers.story.drivers import construct


def _arrow(change: float) -> str:
    return "▲" if change > 0 else "▼" if change < 0 else "="


def executive_summary(*, index: pd.Series, regions: pd.Series, periods: pd.DataFrame,
                      waves: pd.DataFrame | None, churn_risk: pd.DataFrame | None,
                      elasticities: pd.DataFrame | None, alerts: pd.DataFrame,
                      latest_month: pd.Timestamp, min_group_size: int = 30,
                      currency: str = "", confidence: float = 0.95,
                      survey_drivers: pd.DataFrame | None = None) -> list[str]:
    """Five to eight headline findings in plain language (the report language,
    ``helpers.i18n``), each with its number, the direction since the previous period, an
    interval or a low-n warning, and † where it rests on estimated history. Inputs come from
    the scorecard notebook (see its load cell); ``currency`` labels money (a source mapping's
    currency, '' for none), ``confidence`` is the intervals' level. Each line carries the
    figure the page behind it concludes: the recommendation score weighted to all invitees
    (as 04 and the dashboard), the respondents' own in a note; what drives loyalty when 04
    fitted its driver model (``survey_drivers``)."""
    level = f"{confidence:.0%}"
    name, month = i18n.label, i18n.month
    facts = []
    by_region = index.groupby(regions).agg(["median", "size"]).sort_values("median")
    small = by_region[by_region["size"] < min_group_size].index.tolist()
    readable = by_region[by_region["size"] >= min_group_size]
    readable = readable if len(readable) else by_region
    low, high = readable["median"].iloc[0], readable["median"].iloc[-1]
    among = small and len(readable) > 1
    top_region, bottom_region = name(readable.index[-1]), name(readable.index[0])
    if high - low < 3 and among:
        spread = _("similar in every region among regions with enough customers "
                   "({low:.0f}-{high:.0f})", low=low, high=high)
    elif high - low < 3:
        spread = _("similar in every region ({low:.0f}-{high:.0f})", low=low, high=high)
    elif among:
        spread = _("highest in {top} ({high:.0f}), lowest in {bottom} ({low:.0f}) among "
                   "regions with enough customers", top=top_region, high=high,
                   bottom=bottom_region, low=low)
    else:
        spread = _("highest in {top} ({high:.0f}), lowest in {bottom} ({low:.0f})",
                   top=top_region, high=high, bottom=bottom_region, low=low)
    shown_small = i18n.join([name(r) for r in small[:5]])
    if len(small) > 5:
        shown_small = _("{names} and {more} more", names=shown_small, more=len(small) - 5)
    few = _("; few customers in {names}: read with care", names=shown_small) if small else ""
    facts.append(_("**Loyalty index** (0-100): median {median:.0f} over {customers:,} "
                   "customers, {spread}{few}.", median=index.median(), customers=len(index),
                   spread=spread, few=few))
    now, before = periods.loc["this period"], periods.loc["previous period"]
    compare = bool(before.get("covered", True))
    mark = lambda row: (f" {ESTIMATED_MARK}"  # noqa: E731
                        if rests_on_estimates(row["estimated_share"]) else "")
    no_comparison = _(" (no comparison: the data do not cover the 12 months before)")

    change = now["active_customers"] / before["active_customers"] - 1
    versus = _(" {arrow} {change:+.1%} against the 12 months before", arrow=_arrow(change),
               change=change) if compare else no_comparison
    facts.append(_("**Active customers** (bought in the last 12 months): {active:,}{versus}.",
                   active=now["active_customers"], versus=versus))
    change = now["revenue"] / before["revenue"] - 1
    versus = _(" {arrow} {change:+.1%} against the year before", arrow=_arrow(change),
               change=change) + mark(before) if compare else no_comparison
    money = f"{now['revenue']:,.0f}" + (f" {currency}" if currency else "")
    facts.append(_("**Revenue**, last 12 months: {money}{versus}{mark}.", money=money,
                   versus=versus, mark=mark(now)))
    change = now["repeat_rate"] - before["repeat_rate"]
    versus = _(", {arrow} {points:+.1f} points", arrow=_arrow(change),
               points=100 * change) if compare else no_comparison
    facts.append(_("**Repeat purchase**: {rate:.1%} of last year's buyers bought twice or more "
                   "({level} interval {low:.1%}-{high:.1%}){versus}.", rate=now["repeat_rate"],
                   level=level, low=now["repeat_low"], high=now["repeat_high"],
                   versus=versus))
    if waves is not None and len(waves) >= 2:
        last, previous = waves.iloc[-1], waves.iloc[-2]
        change = last["score"] - previous["score"]
        few = _(" (few answers: read with care)") if last["n"] < min_group_size else ""
        facts.append(_("**Net recommendation score**, latest survey wave, weighted to all "
                       "invited customers: {score:+.0f} ({level} interval {low:+.0f} to "
                       "{high:+.0f}, {answers:,} answers){few}, {arrow} {change:+.0f} against "
                       "the wave before. The respondents alone score {raw:+.0f}: the more loyal "
                       "customers answer more often.", score=last["score"], level=level,
                       low=last["ci_low"], high=last["ci_high"], answers=int(last["n"]),
                       few=few, arrow=_arrow(change), change=change, raw=last["raw_score"]))
    if survey_drivers is not None and len(survey_drivers):
        facts.append(drivers_fact(survey_drivers))
    if churn_risk is not None and len(churn_risk):
        expected = churn_risk["risk"].sum()
        horizon = (int(churn_risk["horizon_months"].iloc[0])
                   if "horizon_months" in churn_risk else 6)
        facts.append(_("**Churn risk**: about {expected:,.0f} of {active:,} active customers "
                       "({share:.0%}) are expected to buy nothing in the next {months} months.",
                       expected=expected, active=len(churn_risk),
                       share=expected / len(churn_risk), months=horizon))
    if elasticities is not None and "region" in elasticities:
        elasticities = elasticities.set_index("region")
    if elasticities is not None and len(elasticities):
        named = elasticities[elasticities.index != OTHER_REGIONS]  # a pool is no region
        ordered = (named if len(named) >= 2 else elasticities).sort_values("elasticity")
        most, least = ordered.iloc[0], ordered.iloc[-1]
        facts.append(_("**Price sensitivity**: strongest in {strong} (elasticity {most:.1f}, "
                       "{most_low:.1f} to {most_high:.1f}), weakest in {weak} ({least:.1f}, "
                       "{least_low:.1f} to {least_high:.1f}).", strong=name(ordered.index[0]),
                       most=most["elasticity"], most_low=most["ci_low"],
                       most_high=most["ci_high"], weak=name(ordered.index[-1]),
                       least=least["elasticity"], least_low=least["ci_low"],
                       least_high=least["ci_high"]))
    latest = alerts[alerts["month"] == latest_month]
    if len(latest):
        top = latest.reindex(latest["z"].abs().sort_values(ascending=False).index).iloc[0]
        facts.append(_("**Alerts** in {month}: {count}; the largest: {indicator} in {region} "
                       "{change:+.0%} against expected, since {since}.",
                       month=month(latest_month), count=len(latest),
                       indicator=name(top["indicator"]), region=name(top["region"]),
                       change=top["change"], since=month(top["since"])))
    else:
        earlier = _(" ({count} earlier alert(s) in the history, the last in {last})",
                    count=len(alerts), last=month(alerts["month"].max())) if len(alerts) else ""
        facts.append(_("**Alerts**: no indicator moved abnormally in {month}{earlier}.",
                       month=month(latest_month), earlier=earlier))
    return facts


def drivers_fact(survey_drivers: pd.DataFrame) -> str:
    """The executive summary's line on what drives the target (04's ``survey_drivers``)."""
    top = survey_drivers.loc[survey_drivers["importance"].idxmax()]
    return _("**What drives {target}**: {driver} most; one point more on its 0-100 score goes "
             "with {effect:.2f} points more {target} ({level:.0%} interval {low:.2f} to "
             "{high:.2f}), the strongest driver in {share:.0%} of the bootstrap samples; it "
             "scores {score:.0f} of 100.", target=construct(top["target"]),
             driver=construct(top["driver"]), effect=top["importance"],
             level=top["confidence"], low=top["importance_low"], high=top["importance_high"],
             share=top["top_share"], score=top["performance"])


def _listed(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (in the report language)."""
    names = [i18n.label(n) for n in names]
    if len(names) == 1:
        return names[0]
    return i18n.pgettext("list", "{items} and {last}", items=i18n.join(names[:-1]),
                         last=names[-1])


def index_sentence(index: pd.Series, no_survey: pd.Series, agreement: float,
                   dimensions: list[str] | None = None) -> str:
    """The scorecard's headline for the report index (``dimensions``: those with data, when
    not all four)."""
    dimensions = DIMENSIONS if dimensions is None else dimensions
    basis = "" if len(dimensions) == len(DIMENSIONS) else _(
        " from {dimensions} only (no data for {missing})", dimensions=_listed(dimensions),
        missing=i18n.join([i18n.label(d) for d in DIMENSIONS if d not in dimensions]))
    survey = _("{share:.0%} have no survey answer and are scored on the other indicators; ",
               share=no_survey.mean()) if "attitude" in dimensions else ""
    if agreement >= 0.9:
        likeness = _("like the expert weights")
    elif agreement >= 0.7:
        likeness = _("broadly like the expert weights")
    else:
        likeness = _("differently from the expert weights")
    return _("Loyalty index for {customers:,} customers{basis} (median {median:.0f} of 100); "
             "{survey}data-driven weights rank customers {likeness} (rank correlation "
             "{agreement:.2f}).", customers=len(index), basis=basis, median=index.median(),
             survey=survey, likeness=likeness, agreement=agreement)


def sensitivity_sentence(draws: pd.DataFrame, agreement: float) -> str:
    """What the weight-sensitivity draws say (``weight_sensitivity``), in the report
    language."""
    return _("Across {draws} random weightings the rank correlation with the expert index has "
             "median {median:.2f} (5th percentile {low:.2f}), and {kept:.0%} of the top 10% "
             "stay in the top 10%. The data-driven entropy weights rank customers at a "
             "correlation of {agreement:.2f} with the expert weights.", draws=len(draws),
             median=draws["spearman"].median(), low=draws["spearman"].quantile(0.05),
             kept=draws["top_decile_kept"].median(), agreement=agreement)


def survey_coverage_sentence(no_survey: pd.Series, dimensions: list[str]) -> str:
    """How many customers are scored without a survey answer (or that no survey was run)."""
    if "attitude" not in dimensions:
        return _("No attitude data (surveys, follows, events) was delivered: the index rests on "
                 "{dimensions} alone.", dimensions=_listed(dimensions))
    return _("{without:,} of {customers:,} customers ({share:.0%}) have no survey answer: their "
             "attitude score rests on follows and events only.", without=int(no_survey.sum()),
             customers=len(no_survey), share=no_survey.mean())


def bullets(facts: list[str]) -> str:
    """The executive summary's facts as a markdown list."""
    return "\n".join(f"- {fact}" for fact in facts)


def tier_migration(migration: pd.DataFrame, tier_order: list[str], covered: bool):
    """The tier migration matrix as a table, or (when the history does not cover the year
    before last year) why it is not evaluated."""
    from IPython.display import Markdown

    if not covered:
        return Markdown(_("**Tier migration not evaluated:** the order history does not cover "
                          "the 12 months before last year, so last year's tiers are unknown."))
    return display.table(migration, percent=tier_order, na_rep="–", gradient="Blues",
                         gradient_columns=tier_order,
                         caption=_("Tier 12 months ago (rows) against tier now (columns)"))
