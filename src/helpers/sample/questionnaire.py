"""The sample's multi-item questionnaire: answers drawn from a known structural model.

Every answered invitation gets 24 items on a 1-10 scale, named as in the ECSI mobile-phone
survey (IMAG1-5, CUEX1-3, PERQ1-7, PERV1-2, CUSA1-3, CUSCO, CUSL1-3). The constructs follow
``TRUE_PATHS`` (standardised coefficients; each construct's disturbance sized so that it has unit
variance), the items load on their construct with ``LOADINGS``; image, the one exogenous
construct, leans a little on the customer's loyalty, so the heavy buyers who answer more often
also think a little better of the shop. The mess, as a survey team finds it: PERQ7 and CUSL2
are worded in reverse (agreeing means *low* quality and loyalty) and a share of respondents
misread them, answering as if they were worded like the others; IMAG3 measures its construct
poorly; some respondents skip a question; a few answers carry the survey tool's code 99
('no answer').

A generator of its own (seeded from the sample's seed) draws all of it, so the questionnaire does
not change any other part of the sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCALE = (1, 10)
BLOCKS: dict[str, tuple[str, ...]] = {
    "image": ("IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"),
    "expectation": ("CUEX1", "CUEX2", "CUEX3"),
    "quality": ("PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"),
    "value": ("PERV1", "PERV2"),
    "satisfaction": ("CUSA1", "CUSA2", "CUSA3"),
    "complaints": ("CUSCO",),
    "loyalty": ("CUSL1", "CUSL2", "CUSL3"),
}
TRUE_PATHS: dict[tuple[str, str], float] = {
    ("image", "expectation"): 0.45, ("image", "satisfaction"): 0.15,
    ("image", "loyalty"): 0.10, ("expectation", "quality"): 0.50,
    ("expectation", "value"): 0.10, ("expectation", "satisfaction"): 0.05,
    ("quality", "value"): 0.50, ("quality", "satisfaction"): 0.50,
    ("value", "satisfaction"): 0.20, ("satisfaction", "complaints"): 0.45,
    ("satisfaction", "loyalty"): 0.55, ("complaints", "loyalty"): 0.15,
}
LOADINGS: dict[str, float] = {
    "IMAG1": 0.80, "IMAG2": 0.75, "IMAG3": 0.45, "IMAG4": 0.85, "IMAG5": 0.80,
    "CUEX1": 0.80, "CUEX2": 0.75, "CUEX3": 0.70,
    "PERQ1": 0.85, "PERQ2": 0.75, "PERQ3": 0.85, "PERQ4": 0.80, "PERQ5": 0.80,
    "PERQ6": 0.80, "PERQ7": 0.80,
    "PERV1": 0.90, "PERV2": 0.90,
    "CUSA1": 0.85, "CUSA2": 0.85, "CUSA3": 0.90,
    "CUSCO": 1.00,
    "CUSL1": 0.85, "CUSL2": 0.80, "CUSL3": 0.85,
}
REVERSED_ITEMS = ("PERQ7", "CUSL2")
MEAN_SCORE = {"image": 6.8, "expectation": 7.1, "quality": 6.3, "value": 5.4,
              "satisfaction": 6.5, "complaints": 5.8, "loyalty": 6.1}
ITEM_SD = 1.4  # answer points per standard deviation of an item
IMAGE_LOYALTY_LINK = 0.3  # correlation of image with the customer's buying loyalty
MISREAD_SHARE = 0.12  # respondents who read the reverse-worded items as positively worded
SKIP_SHARE = 0.03  # respondents who leave one question out
NO_ANSWER_SHARE = 0.002  # answers recorded as the tool's code 99
NO_ANSWER_CODE = 99


def _disturbance_variances() -> dict[str, float]:
    """The variance of each construct's disturbance that gives it unit variance."""
    order = list(BLOCKS)
    position = {c: k for k, c in enumerate(order)}
    cov = np.zeros((len(order), len(order)))
    variances = {}
    for construct in order:  # BLOCKS lists every antecedent before its consequents
        j = position[construct]
        before = [(position[a], b) for (a, t), b in TRUE_PATHS.items() if t == construct]
        idx = [i for i, _ in before]
        beta = np.array([b for _, b in before])
        explained = float(beta @ cov[np.ix_(idx, idx)] @ beta) if idx else 0.0
        variances[construct] = 1.0 - explained
        cov[j, j] = 1.0
        for k in range(len(order)):
            if k != j and idx:
                cov[j, k] = cov[k, j] = float(beta @ cov[idx, k])
    return variances


def true_total_effects() -> pd.DataFrame:
    """The true total effects (from x to), every indirect path added."""
    names = list(BLOCKS)
    paths = pd.DataFrame(0.0, index=names, columns=names)
    for (a, b), value in TRUE_PATHS.items():
        paths.loc[a, b] = value
    eye = np.eye(len(names))
    return pd.DataFrame(np.linalg.inv(eye - paths.to_numpy()) - eye, index=names, columns=names)


def questionnaire_file(seed: int, invitation_id: np.ndarray, loyalty_z: np.ndarray) -> tuple[
        pd.DataFrame, dict[str, pd.DataFrame]]:
    """The answers of the answered invitations (long: invitation_id, question, answer) and the
    truth (``survey_paths``: from, to, coefficient; ``survey_misread``: invitation_id, item)."""
    rng = np.random.default_rng([seed, 18])
    n = len(invitation_id)
    disturbance = _disturbance_variances()
    latent: dict[str, np.ndarray] = {}
    for construct in BLOCKS:
        noise = rng.standard_normal(n) * np.sqrt(disturbance[construct])
        if construct == "image":
            link = IMAGE_LOYALTY_LINK
            latent[construct] = link * loyalty_z + np.sqrt(1 - link ** 2) * rng.standard_normal(n)
            continue
        latent[construct] = noise + sum(b * latent[a] for (a, t), b in TRUE_PATHS.items()
                                        if t == construct)
    misreads = rng.random(n) < MISREAD_SHARE
    low, high = SCALE
    columns = {}
    for construct, items in BLOCKS.items():
        for item in items:
            lam = LOADINGS[item]
            value = lam * latent[construct] + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
            score = np.clip(np.round(MEAN_SCORE[construct] + ITEM_SD * value), low, high)
            if item in REVERSED_ITEMS:  # as written: agreeing means the opposite
                score = np.where(misreads, score, low + high - score)
            columns[item] = score.astype(int)
    wide = pd.DataFrame(columns)
    wide.insert(0, "invitation_id", invitation_id)
    answers = wide.melt(id_vars="invitation_id", var_name="question", value_name="answer")
    answers = answers.assign(order=answers["question"].map(
        {item: k for k, item in enumerate(wide.columns[1:])})).sort_values(
        ["invitation_id", "order"], kind="stable").drop(columns="order")
    skipped = rng.random(len(answers)) < SKIP_SHARE / len(LOADINGS)
    coded = rng.random(len(answers)) < NO_ANSWER_SHARE
    answers.loc[coded & ~skipped, "answer"] = NO_ANSWER_CODE
    answers = answers.loc[~skipped].reset_index(drop=True)
    truth = {
        "survey_paths": pd.DataFrame([{"from": a, "to": b, "coefficient": v}
                                      for (a, b), v in TRUE_PATHS.items()]),
        "survey_misread": pd.DataFrame(
            [(i, item) for i in invitation_id[misreads] for item in REVERSED_ITEMS],
            columns=["invitation_id", "item"]),
    }
    return answers, truth
