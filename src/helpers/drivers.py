"""What drives loyalty: the questionnaire's structural model, its uncertainty and its map.

The questionnaire (``survey_answers``: invitation, item, score) is read through a
``Questionnaire``: which items measure which construct, the paths between constructs (the ECSI
model by default), the construct managers want to move (``target``, loyalty) and the items worded
in reverse. ``answer_matrix`` turns the answers into one complete row per answered invitation:

* scores off the scale (e.g. a survey tool's 99 = 'no answer') are set to missing and counted;
* reverse-worded items are read reversed (``low + high - score``), except where the answer looks
  *misread*: closer to the respondent's other answers of the same construct as written than
  reversed, by at least ``misread_gap`` points; such answers are read as written and counted;
* an invitation missing any item is left out of the model and counted (never imputed).

``driver_model`` fits the model (``pls.fit_pls``; by default with the PLSc correction, since
questionnaire items are reflective measures), draws bootstrap samples over *customers* (a
customer who answered several waves stays one unit) for percentile intervals of every path,
total effect, loading, R-squared and map position, and builds the importance-performance map:
importance is a driver's total effect on the target in points of the target's 0-100 score per
point of the driver's (the standardised total effect times the ratio of the two scores' standard
deviations), performance the driver's mean score on a 0-100 scale (items rescaled from the
answer scale, combined with the weights the model found), weighted by the survey's response
weights so that it speaks for every invitee, not only for the keen ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import pls, progress

ECSI_BLOCKS: dict[str, list[str]] = {
    "image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
    "expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "quality": ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"],
    "value": ["PERV1", "PERV2"],
    "satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "complaints": ["CUSCO"],
    "loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}
ECSI_PATHS: list[list[str]] = [
    ["image", "expectation"], ["image", "satisfaction"], ["image", "loyalty"],
    ["expectation", "quality"], ["expectation", "value"], ["expectation", "satisfaction"],
    ["quality", "value"], ["quality", "satisfaction"], ["value", "satisfaction"],
    ["satisfaction", "complaints"], ["satisfaction", "loyalty"], ["complaints", "loyalty"],
]
MIN_LOADING = 0.7  # an item that shares less than half its variance with its construct
MIN_RELIABILITY = 0.7  # composite reliability rho_C
MIN_AVE = 0.5
MAX_HTMT = 0.9  # above: two constructs the answers do not tell apart


@dataclass(frozen=True)
class Questionnaire:
    """The block definition of a run: model, target construct, levers, reversed items, scale."""

    model: pls.PathModel
    target: str
    levers: tuple[str, ...]
    reversed_items: tuple[str, ...]
    scale: tuple[float, float]


def questionnaire(blocks: dict | None = None, paths: Sequence | None = None, *,
                  target: str = "loyalty", levers: Sequence[str] = (),
                  reversed_items: Sequence[str] = (),
                  scale: Sequence[float] = (1, 10)) -> Questionnaire:
    """A checked ``Questionnaire`` from a run's parameters (``blocks``/``paths`` empty or None:
    the ECSI model, ``ECSI_BLOCKS``/``ECSI_PATHS``; ``levers`` empty: every construct with a
    path to ``target``)."""
    model = pls.PathModel.from_config(blocks or ECSI_BLOCKS, paths or ECSI_PATHS)
    if target not in model.blocks:
        raise ValueError(f"driver target {target!r} is not a construct of the blocks")
    drivers = model.drivers_of(target)
    if not drivers:
        raise ValueError(f"no path leads to the driver target {target!r}")
    unknown = [c for c in levers if c not in drivers]
    if unknown:
        raise ValueError(f"levers without a path to {target!r}: {', '.join(unknown)}")
    stray = [i for i in reversed_items if i not in model.items]
    if stray:
        raise ValueError(f"reversed items not in any block: {', '.join(stray)}")
    low, high = (float(v) for v in scale)
    if not low < high:
        raise ValueError(f"answer scale {list(scale)}: the low end must be below the high end")
    return Questionnaire(model=model, target=target, levers=tuple(levers or drivers),
                         reversed_items=tuple(reversed_items), scale=(low, high))


@dataclass
class AnswerMatrix:
    """Complete questionnaires, one row per answered invitation, items read as meant."""

    items: pd.DataFrame  # invitation_id x item
    respondents: pd.DataFrame  # invitation_id: customer_id, region, weight, ...
    answered: int  # invitations answered
    with_items: int  # of them with any questionnaire answer
    incomplete: int  # left out: a question missing or off the scale
    off_scale: int  # answers off the scale
    misread: int  # reverse-worded answers read as written
    reversed_answers: int  # reverse-worded answers in complete questionnaires
    unknown_items: list[str]  # delivered items no block names (not used)


def misread_answers(items: pd.DataFrame, qn: Questionnaire, gap: float) -> pd.DataFrame:
    """For each reverse-worded item (answers as written): True where the answer is closer to
    the respondent's other answers of its construct as written than reversed, by ``gap``."""
    low, high = qn.scale
    out = pd.DataFrame(False, index=items.index, columns=list(qn.reversed_items))
    for item in qn.reversed_items:
        construct = next(c for c, block in qn.model.blocks.items() if item in block)
        others = [i for i in qn.model.blocks[construct]
                  if i != item and i not in qn.reversed_items]
        if not others:
            continue
        centre = items[others].mean(axis=1)
        as_written = (items[item] - centre).abs()
        reversed_ = (low + high - items[item] - centre).abs()
        out[item] = (as_written + gap <= reversed_).fillna(False)
    return out


def answer_matrix(survey_answers: pd.DataFrame, survey_scored: pd.DataFrame, qn: Questionnaire,
                  *, misread_gap: float = 3.0) -> AnswerMatrix:
    """The model's input from the clean answers and the scored invitations of 04
    (``survey_scored``: invitation_id, customer_id, responded, region, weight, ...)."""
    answered = survey_scored[survey_scored["responded"]].set_index("invitation_id")
    wide = survey_answers.pivot(index="invitation_id", columns="item", values="score")
    unknown = sorted(set(wide.columns) - set(qn.model.items))
    wide = wide.reindex(index=wide.index.intersection(answered.index),
                        columns=qn.model.items).astype(float)
    low, high = qn.scale
    off = wide.notna() & ((wide < low) | (wide > high))
    wide = wide.mask(off)
    misread = misread_answers(wide, qn, misread_gap)
    for item in qn.reversed_items:
        wide[item] = wide[item].where(misread[item], low + high - wide[item])
    complete = wide.notna().all(axis=1)
    items = wide[complete]
    return AnswerMatrix(
        items=items, respondents=answered.loc[items.index],
        answered=len(answered), with_items=len(wide), incomplete=int((~complete).sum()),
        off_scale=int(off.to_numpy().sum()), misread=int(misread[complete].to_numpy().sum()),
        reversed_answers=int(complete.sum()) * len(qn.reversed_items), unknown_items=unknown)


def _importance_performance(values: np.ndarray, fit: pls.Estimate, qn: Questionnaire,
                            weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each lever's importance (points of the target's 0-100 score per point of the lever's)
    and performance (its weighted mean 0-100 score) from one fit on ``values``."""
    low, high = qn.scale
    rescaled = (values - low) / (high - low) * 100
    raw_weights = fit.weights / values.std(axis=0, ddof=1)[:, None]
    raw_weights = raw_weights / raw_weights.sum(axis=0)
    scores = rescaled @ raw_weights
    names = list(qn.model.constructs)
    sd = scores.std(axis=0, ddof=1)
    t = names.index(qn.target)
    levers = [names.index(c) for c in qn.levers]
    importance = fit.total[levers, t] * sd[t] / sd[levers]
    performance = np.average(scores[:, levers], axis=0, weights=weights)
    return importance, performance


@dataclass
class DriverModel:
    """The fitted driver model with bootstrap intervals, ready for the page."""

    questionnaire: Questionnaire
    fit: pls.PlsFit
    respondents: int
    customers: int
    samples: int
    confidence: float
    paths: pd.DataFrame  # from, to, estimate, ci_low, ci_high
    drivers: pd.DataFrame  # lever: total_effect, importance, performance (each + ci), top_share
    loadings: pd.DataFrame  # item: construct, loading (+ci), low (flag)
    reliability: pd.DataFrame  # construct: alpha, rho_c, ave, rho_a, flags
    htmt: pd.DataFrame  # construct pair: htmt, high (flag)
    r_squared: pd.DataFrame  # construct: estimate (+ci)

    @property
    def top_driver(self) -> str:
        return str(self.drivers["importance"].idxmax())


def _interval(draws: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - confidence) / 2 * 100
    return np.nanpercentile(draws, tail, axis=0), np.nanpercentile(draws, 100 - tail, axis=0)


def _customer_blocks(customers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows grouped by customer (positions, and where each customer's start and end):
    computed once for all the bootstrap samples of ``_customer_resample``."""
    codes, uniques = pd.factorize(customers)
    rows_of = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[rows_of], np.arange(len(uniques)))
    return rows_of, starts, np.append(starts[1:], len(codes))


def _customer_resample(rng: np.random.Generator,
                       customers: np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]
                       ) -> np.ndarray:
    """Row positions of a bootstrap sample drawn over customers (all of a customer's rows);
    ``customers``: each row's customer, or their ``_customer_blocks``."""
    rows_of, starts, ends = (customers if isinstance(customers, tuple)
                             else _customer_blocks(customers))
    drawn = rng.integers(0, len(starts), len(starts))
    lengths = (ends - starts)[drawn]
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows_of[np.repeat(starts[drawn], lengths) + offsets]


def driver_model(matrix: AnswerMatrix, qn: Questionnaire, *, samples: int = 300,
                 confidence: float = 0.95, seed: int = 18, consistent: bool = True,
                 scheme: str = "path") -> DriverModel:
    """Fit the questionnaire's model on ``matrix`` and bootstrap it ``samples`` times over
    customers; raises ValueError with fewer complete questionnaires than twice the items."""
    items = matrix.items
    if len(items) < 2 * len(qn.model.items):
        raise ValueError(f"{len(items)} complete questionnaires: too few for a model of "
                         f"{len(qn.model.items)} items (at least {2 * len(qn.model.items)})")
    weights = matrix.respondents["weight"].to_numpy(dtype=float) if "weight" in \
        matrix.respondents else np.ones(len(items))
    customers = matrix.respondents["customer_id"].to_numpy()
    values = items[qn.model.items].to_numpy(dtype=float)
    layout = pls.model_layout(qn.model)
    whole = pls.estimate(values, qn.model, scheme=scheme, consistent=consistent, layout=layout)
    fit = pls.labelled(whole, qn.model, items.index, consistent)
    importance, performance = _importance_performance(values, whole, qn, weights)
    rng = np.random.default_rng(seed)
    path_pairs = list(qn.model.paths)
    names = list(qn.model.constructs)
    t = names.index(qn.target)
    lever_pos = [names.index(c) for c in qn.levers]
    pair_pos = ([names.index(a) for a, _ in path_pairs], [names.index(b) for _, b in path_pairs])
    draws = {"paths": [], "total": [], "importance": [], "performance": [], "loadings": [],
             "r2": []}
    blocks = _customer_blocks(customers)
    for _ in progress.steps(range(samples), "driver model: bootstrap samples"):
        rows = _customer_resample(rng, blocks)
        try:
            boot = pls.estimate(values[rows], qn.model, scheme=scheme, consistent=consistent,
                                layout=layout)
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            continue  # a degenerate resample (an item without variance) is not counted
        imp, perf = _importance_performance(values[rows], boot, qn, weights[rows])
        draws["paths"].append(boot.paths[pair_pos])
        draws["total"].append(boot.total[lever_pos, t])
        draws["importance"].append(imp)
        draws["performance"].append(perf)
        draws["loadings"].append(boot.loadings)
        draws["r2"].append(boot.r_squared)
    arrays = {k: np.asarray(v, dtype=float) for k, v in draws.items()}

    def with_ci(estimate_values: np.ndarray, key: str) -> dict[str, np.ndarray]:
        low, high = _interval(arrays[key], confidence)
        return {"estimate": estimate_values, "ci_low": low, "ci_high": high}

    paths = pd.DataFrame({"from": [a for a, _ in path_pairs], "to": [b for _, b in path_pairs],
                          **with_ci(np.array([fit.paths.loc[a, b] for a, b in path_pairs]),
                                    "paths")})
    total = with_ci(fit.total_effects.to_numpy()[lever_pos, t], "total")
    imp_ci, perf_ci = with_ci(importance, "importance"), with_ci(performance, "performance")
    top = np.argmax(arrays["importance"], axis=1)
    drivers = pd.DataFrame({
        "total_effect": total["estimate"], "total_low": total["ci_low"],
        "total_high": total["ci_high"], "importance": importance,
        "importance_low": imp_ci["ci_low"], "importance_high": imp_ci["ci_high"],
        "performance": performance, "performance_low": perf_ci["ci_low"],
        "performance_high": perf_ci["ci_high"],
        "top_share": np.bincount(top, minlength=len(lever_pos)) / max(len(top), 1)},
        index=pd.Index(list(qn.levers), name="driver"))
    construct_of = {i: c for c, block in qn.model.blocks.items() for i in block}
    load = with_ci(fit.loadings.to_numpy(), "loadings")
    loadings = pd.DataFrame({"construct": [construct_of[i] for i in qn.model.items],
                             "loading": load["estimate"], "ci_low": load["ci_low"],
                             "ci_high": load["ci_high"]},
                            index=pd.Index(qn.model.items, name="item"))
    single = loadings["construct"].map(lambda c: len(qn.model.blocks[c]) == 1)
    loadings["low"] = (loadings["loading"] < MIN_LOADING) & ~single
    rel = pls.reliability(items, fit)
    rel["low_reliability"] = rel["rho_c"] < MIN_RELIABILITY
    rel["low_ave"] = rel["ave"] < MIN_AVE
    ratio = pls.htmt(items, qn.model).stack().rename("htmt").reset_index()
    ratio.columns = ["construct", "other", "htmt"]
    ratio["high"] = ratio["htmt"] > MAX_HTMT
    r2 = with_ci(fit.r_squared.to_numpy(), "r2")
    return DriverModel(
        questionnaire=qn, fit=fit, respondents=len(items),
        customers=int(pd.Series(customers).nunique()), samples=len(arrays["paths"]),
        confidence=confidence, paths=paths, drivers=drivers, loadings=loadings,
        reliability=rel, htmt=ratio,
        r_squared=pd.DataFrame(r2, index=pd.Index(fit.r_squared.index, name="construct")))


@dataclass
class GroupComparison:
    """The drivers' total effects on the target per group, and whether they differ."""

    by: str  # the grouping column (region, value_tier)
    effects: pd.DataFrame  # lever x group: total effect on the target
    sizes: pd.Series  # group: complete questionnaires
    p_values: pd.Series  # lever: permutation test of equal effects in every group
    left_out: list[str]  # groups below the minimum size
    permutations: int


def _group_effects(values: np.ndarray, labels: np.ndarray, groups: list[str],
                   qn: Questionnaire, consistent: bool, layout: pls.Layout) -> np.ndarray:
    names = list(qn.model.constructs)
    t, levers = names.index(qn.target), [names.index(c) for c in qn.levers]
    out = np.empty((len(levers), len(groups)))
    for k, group in enumerate(groups):
        fit = pls.estimate(values[labels == group], qn.model, consistent=consistent,
                           layout=layout)
        out[:, k] = fit.total[levers, t]
    return out


def group_differences(matrix: AnswerMatrix, qn: Questionnaire, by: str, *,
                      min_group: int = 150, permutations: int = 199, seed: int = 18,
                      consistent: bool = True) -> GroupComparison | None:
    """Each lever's total effect on the target in every group of ``by`` (a column of
    ``matrix.respondents``) with at least ``min_group`` complete questionnaires, and a
    permutation test per lever (Chin and Dibbern 2010): the groups' customers are shuffled
    between groups ``permutations`` times and the spread of the effects (largest minus smallest)
    compared with the observed one. None with fewer than two groups large enough."""
    if by not in matrix.respondents:
        return None
    labels = matrix.respondents[by].astype("str").to_numpy()
    sizes = pd.Series(labels).value_counts()
    groups = sorted(sizes[sizes >= min_group].index)
    left_out = sorted(sizes[sizes < min_group].index)
    if len(groups) < 2:
        return None
    keep = np.isin(labels, groups)
    values = matrix.items[qn.model.items].to_numpy(dtype=float)[keep]
    labels = labels[keep]
    customers = matrix.respondents["customer_id"].to_numpy()[keep]
    layout = pls.model_layout(qn.model)  # once for every permutation
    observed = _group_effects(values, labels, groups, qn, consistent, layout)
    spread = observed.max(axis=1) - observed.min(axis=1)
    codes, _customers = pd.factorize(customers)
    first_label = pd.Series(labels).groupby(codes).first().to_numpy()
    rng = np.random.default_rng(seed)
    exceed = np.zeros(len(qn.levers))
    for _ in progress.steps(range(permutations), f"drivers by {by}: permutations"):
        shuffled = rng.permutation(first_label)[codes]
        effects = _group_effects(values, shuffled, groups, qn, consistent, layout)
        exceed += (effects.max(axis=1) - effects.min(axis=1)) >= spread
    return GroupComparison(
        by=by, effects=pd.DataFrame(observed, index=pd.Index(list(qn.levers), name="driver"),
                                    columns=groups),
        sizes=sizes.reindex(groups).rename("n"),
        p_values=pd.Series((exceed + 1) / (permutations + 1), index=list(qn.levers),
                           name="p_value"),
        left_out=left_out, permutations=permutations)
