"""What drives loyalty, in words and tables (notebook 04's driver section)."""

from __future__ import annotations

import pandas as pd

from helpers import drivers, i18n
from helpers.drivers import MAX_HTMT, MIN_AVE, MIN_LOADING, MIN_RELIABILITY
from helpers.i18n import _
from helpers.stages.attitude import DriverAnalysis
from helpers.words import N_

CONSTRUCT_LABELS = {  # the ECSI constructs' names on the page; others show as named
    "image": N_("image"), "expectation": N_("expectations"), "quality": N_("perceived quality"),
    "value": N_("perceived value"), "satisfaction": N_("satisfaction"),
    "complaints": N_("complaint handling"), "loyalty": N_("loyalty"),
}
COLUMN_WORDS = (N_("from"), N_("to"), N_("path"), N_("total effect"), N_("importance"),
                N_("performance (0-100)"), N_("strongest driver in"), N_("construct"),
                N_("loading"), N_("below threshold"), N_("alpha"), N_("rho_c"), N_("ave"),
                N_("rho_a"), N_("low reliability"), N_("low AVE"), N_("driver"),
                N_("R-squared"), N_("interval"), N_("item"))


def construct(name: str) -> str:
    """A construct's name on the page (report language)."""
    return i18n.label(CONSTRUCT_LABELS.get(name, name))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _interval(low: float, high: float, digits: int = 2) -> str:
    return f"{low:.{digits}f} – {high:.{digits}f}"


def _model(analysis: DriverAnalysis | None) -> drivers.DriverModel | None:
    return None if analysis is None else analysis.model


def headline(analysis: DriverAnalysis | None) -> str:
    """Which driver to improve first, how much it moves the target, and how sure we are ('' when
    the questionnaire was not delivered)."""
    if analysis is None:
        return ""
    if analysis.model is None:
        return _("The driver model was not estimated: {problem}.", problem=analysis.problem)
    model = analysis.model
    table = model.drivers
    top = model.top_driver
    row = table.loc[top]
    score, mean = round(row["performance"]), round(table["performance"].mean())
    runner_up = table["importance"].drop(top).idxmax() if len(table) > 1 else None
    text = _("**{driver} moves {target} most**: one point more on its 0-100 score goes with "
             "{effect:.2f} points more {target} ({low:.2f} to {high:.2f}, {level:.0%} "
             "interval); it was the strongest driver in {share:.0%} of {samples:,} bootstrap "
             "samples.", driver=_capitalised(construct(top)),
             target=construct(analysis.questionnaire.target),
             effect=row["importance"], low=row["importance_low"], high=row["importance_high"],
             level=model.confidence, share=row["top_share"], samples=model.samples)
    if score < mean:
        text += " " + _("Its score, {score} of 100, is below the drivers' average ({mean}): it "
                        "is the first thing to improve.", score=score, mean=mean)
    elif score == mean:
        text += " " + _("Its score, {score} of 100, is at the drivers' average: raising it "
                        "pays most.", score=score)
    else:
        text += " " + _("Its score, {score} of 100, is already above the drivers' average "
                        "({mean}): keeping it there matters most.", score=score, mean=mean)
    if runner_up is not None and row["top_share"] < 0.8:
        text += " " + _("{other} comes close ({other_effect:.2f}): the order of the two is not "
                        "certain.", other=construct(runner_up),
                        other_effect=table.loc[runner_up, "importance"])
    return text


def answers_sentence(analysis: DriverAnalysis | None) -> str:
    """How the questionnaires were read: used, left out, off the scale, misread."""
    if analysis is None:
        return ""
    answers = analysis.answers
    qn = analysis.questionnaire
    text = _("{used:,} of {answered:,} answered invitations carry a complete questionnaire "
             "({items} items) and enter the model; {incomplete:,} with a question missing or "
             "off the {low:g}-{high:g} scale are left out (not filled in). {off:,} answers off "
             "the scale were read as missing.", used=len(answers.items),
             answered=answers.answered, items=len(qn.model.items),
             incomplete=answers.incomplete, low=qn.scale[0], high=qn.scale[1],
             off=answers.off_scale)
    if qn.reversed_items:
        text += " " + _("The reverse-worded items ({items}) are read reversed, except "
                        "{misread:,} of {total:,} answers that look misread (as written they "
                        "agree with the respondent's other answers): those are read as "
                        "written.", items=i18n.join(list(qn.reversed_items)),
                        misread=answers.misread,
                        total=answers.reversed_answers)
    if answers.unknown_items:
        text += " " + _("Items no block names were not used: {items}.",
                        items=i18n.join(answers.unknown_items))
    return text


def measurement_sentence(analysis: DriverAnalysis | None) -> str:
    """The measurement model's checks in one sentence: what is flagged (nothing dropped)."""
    model = _model(analysis)
    if model is None:
        return ""
    low = list(model.loadings.index[model.loadings["low"]])
    weak = [construct(c) for c in model.reliability.index[
        model.reliability["low_reliability"] | model.reliability["low_ave"]]]
    similar = model.htmt[model.htmt["high"]]
    parts = [_("Items load below {threshold:.2f} on their construct: {items}; they are kept "
               "and flagged.", threshold=MIN_LOADING, items=i18n.join(low)) if low else _(
        "Every item loads at least {threshold:.2f} on its construct.", threshold=MIN_LOADING)]
    parts.append(_("Constructs below a composite reliability of {rel:.1f} or an average "
                   "variance extracted of {ave:.1f}: {names}.", rel=MIN_RELIABILITY,
                   ave=MIN_AVE, names=i18n.join(weak)) if weak else _(
        "Every construct is reliable (composite reliability at least {rel:.1f}, average "
        "variance extracted at least {ave:.1f}).", rel=MIN_RELIABILITY, ave=MIN_AVE))
    parts.append(_("The answers hardly tell these constructs apart: {pairs} (HTMT above "
                   "{limit:.2f}).",
                   pairs=i18n.join([f"{construct(a)} / {construct(b)}" for a, b in zip(
                       similar["construct"], similar["other"], strict=True)]), limit=MAX_HTMT)
                 if len(similar) else _("The answers tell every pair of constructs apart "
                                        "(HTMT at most {limit:.2f}).", limit=MAX_HTMT))
    return " ".join(parts)


GROUPINGS = {"region": N_("region"), "value_tier": N_("value tier")}


def _comparison(analysis: DriverAnalysis | None, by: str) -> drivers.GroupComparison | None:
    if _model(analysis) is None:
        return None
    return analysis.by_region if by == "region" else analysis.by_tier


def group_sentence(analysis: DriverAnalysis | None, by: str, min_group: int) -> str:
    """Whether the drivers' effects differ between the groups of ``by`` ('region' or
    'value_tier'; permutation test)."""
    if _model(analysis) is None:
        return ""
    comparison = _comparison(analysis, by)
    by_label = i18n.label(GROUPINGS[by])
    if comparison is None:
        return _("Too few groups by {by} have {minimum:,} complete questionnaires to compare "
                 "the drivers between them.", by=by_label, minimum=min_group)
    smallest = comparison.p_values.idxmin()
    p = comparison.p_values[smallest]
    left = (" " + _("Left out for too few answers: {groups}.", groups=i18n.join([
        i18n.label(g) for g in comparison.left_out]))) if comparison.left_out else ""
    if p < 0.05:
        effects = comparison.effects.loc[smallest]
        return _("By {by}, the effect of {driver} differs (permutation test p = {p:.2f}, "
                 "{permutations} permutations): {high_group} {high:.2f}, {low_group} "
                 "{low:.2f}.", by=by_label, driver=construct(smallest), p=p,
                 permutations=comparison.permutations, high_group=i18n.label(effects.idxmax()),
                 high=effects.max(), low_group=i18n.label(effects.idxmin()),
                 low=effects.min()) + left
    return _("By {by}, no driver's effect differs clearly between the {groups} groups "
             "(smallest permutation p = {p:.2f}, {permutations} permutations): the same "
             "priorities hold everywhere.", by=by_label, groups=len(comparison.effects.columns),
             p=p, permutations=comparison.permutations) + left


def map_table(analysis: DriverAnalysis | None) -> pd.DataFrame | None:
    """The drivers' map positions with their names on the page (None without a model)."""
    model = _model(analysis)
    if model is None:
        return None
    return model.drivers.set_axis([construct(c) for c in model.drivers.index])


def drivers_frame(analysis: DriverAnalysis | None) -> pd.DataFrame | None:
    """The map's numbers, one row per driver, strongest first."""
    model = _model(analysis)
    if model is None:
        return None
    table = model.drivers.sort_values("importance", ascending=False)
    return pd.DataFrame({
        "total effect": table["total_effect"].to_numpy(),
        "interval": [_interval(a, b) for a, b in zip(table["total_low"], table["total_high"],
                                                     strict=True)],
        "importance": table["importance"].to_numpy(),
        "performance (0-100)": table["performance"].to_numpy(),
        "strongest driver in": table["top_share"].to_numpy(),
    }, index=pd.Index([construct(c) for c in table.index], name="driver"))


def paths_frame(analysis: DriverAnalysis | None) -> pd.DataFrame | None:
    """Every path with its bootstrap interval."""
    model = _model(analysis)
    if model is None:
        return None
    paths = model.paths
    return pd.DataFrame({
        "from": [construct(c) for c in paths["from"]], "to": [construct(c) for c in paths["to"]],
        "path": paths["estimate"],
        "interval": [_interval(a, b) for a, b in zip(paths["ci_low"], paths["ci_high"],
                                                     strict=True)]})


def loadings_frame(analysis: DriverAnalysis | None) -> pd.DataFrame | None:
    """Every item's loading with its interval and the threshold flag."""
    model = _model(analysis)
    if model is None:
        return None
    table = model.loadings
    return pd.DataFrame({
        "construct": [construct(c) for c in table["construct"]], "loading": table["loading"],
        "interval": [_interval(a, b) for a, b in zip(table["ci_low"], table["ci_high"],
                                                     strict=True)],
        "below threshold": table["low"]}, index=table.index.rename("item"))


def reliability_frame(analysis: DriverAnalysis | None) -> pd.DataFrame | None:
    """Reliability per construct, with R-squared of the explained ones."""
    model = _model(analysis)
    if model is None:
        return None
    rel = model.reliability
    r2 = model.r_squared["estimate"].reindex(rel.index)
    return pd.DataFrame({
        "alpha": rel["alpha"], "rho_c": rel["rho_c"], "ave": rel["ave"], "rho_a": rel["rho_a"],
        "R-squared": r2, "low reliability": rel["low_reliability"], "low AVE": rel["low_ave"]},
    ).set_axis([construct(c) for c in rel.index]).rename_axis("construct")


def groups_frame(analysis: DriverAnalysis | None, by: str) -> pd.DataFrame | None:
    """Each driver's total effect per group of ``by``, with the permutation p-value."""
    comparison = _comparison(analysis, by)
    if comparison is None:
        return None
    frame = comparison.effects.copy()
    frame.columns = [f"{i18n.label(g)} (n={n:,})" for g, n in comparison.sizes.items()]
    frame["p_value"] = comparison.p_values
    return frame.set_axis([construct(c) for c in frame.index]).rename_axis("driver")


def htmt_frame(analysis: DriverAnalysis | None) -> pd.DataFrame | None:
    """The heterotrait-monotrait ratio of every pair of constructs (upper triangle)."""
    model = _model(analysis)
    if model is None:
        return None
    matrix = model.htmt.pivot(index="construct", columns="other", values="htmt")
    order = list(analysis.questionnaire.model.constructs)
    matrix = matrix.reindex(index=order[:-1], columns=order[1:])
    return matrix.set_axis([construct(c) for c in matrix.index]).set_axis(
        [construct(c) for c in matrix.columns], axis=1).rename_axis("construct")
