"""PLS path modelling: the structural model of a multi-item questionnaire.

A questionnaire measures each *construct* (image, expectations, perceived quality, perceived
value, satisfaction, complaint handling, loyalty in the ECSI model) by a block of items; the
*paths* say which construct drives which. ``fit_pls`` estimates the model as Wold and Lohmoeller
defined it and SmartPLS, semPLS and seminr compute it: every item standardised on its own
(mean 0, variance 1), mode A outer weights (each item's covariance with its construct's inner
estimate), the path weighting scheme (regression weights from a construct's antecedents,
correlations to its consequents) or the factorial or centroid scheme, until the weights change
by less than ``tol``. Construct scores are standardised weighted sums of their items; path
coefficients are least squares on the scores; total effects add every indirect path.

``consistent=True`` applies Dijkstra and Henseler's correction (PLSc, 2015): composite scores
carry their items' measurement error, which pulls plain PLS paths towards zero when items are
reflective measures of a common factor; PLSc divides the construct correlations by the square
roots of the constructs' reliabilities rho_A before the paths are solved, and corrects the
loadings the same way. A single-item construct has rho_A = 1.

The reference results the tests reproduce: SmartPLS 2.0 on the ECSI mobile-phone survey (the
regression test of the R package semPLS) and seminr's fixtures (R-squared, reliability, HTMT,
PLSc).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SCHEMES = ("path", "factorial", "centroid")


@dataclass(frozen=True)
class PathModel:
    """Which items measure which construct (``blocks``), which construct drives which
    (``paths``: (from, to) pairs). Constructs are kept in the order of ``blocks``."""

    blocks: dict[str, tuple[str, ...]]
    paths: tuple[tuple[str, str], ...]
    constructs: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", {c: tuple(i) for c, i in self.blocks.items()})
        object.__setattr__(self, "paths", tuple((a, b) for a, b in self.paths))
        object.__setattr__(self, "constructs", tuple(self.blocks))
        items = [i for block in self.blocks.values() for i in block]
        repeated = sorted({i for i in items if items.count(i) > 1})
        if repeated:
            raise ValueError(f"items in more than one block: {', '.join(repeated)}")
        empty = [c for c, block in self.blocks.items() if not block]
        if empty:
            raise ValueError(f"constructs without items: {', '.join(empty)}")
        unknown = sorted({c for p in self.paths for c in p} - set(self.blocks))
        if unknown:
            raise ValueError(f"paths name constructs without a block: {', '.join(unknown)}")
        loose = [c for c in self.blocks if not any(c in p for p in self.paths)]
        if loose:
            raise ValueError(f"constructs on no path: {', '.join(loose)}")
        self.order()  # raises on a cycle

    @classmethod
    def from_config(cls, blocks: dict, paths: Sequence) -> PathModel:
        """From a configuration: ``blocks`` {construct: [items]}, ``paths`` [[from, to], ...]
        or [{from: x, to: [y, z]}, ...]."""
        pairs: list[tuple[str, str]] = []
        for entry in paths:
            if isinstance(entry, dict):
                targets = entry["to"] if isinstance(entry["to"], list) else [entry["to"]]
                sources = entry["from"] if isinstance(entry["from"], list) else [entry["from"]]
                pairs += [(a, b) for a in sources for b in targets]
            else:
                a, b = entry
                pairs.append((a, b))
        return cls(blocks={c: tuple(v) for c, v in blocks.items()}, paths=tuple(pairs))

    @property
    def items(self) -> list[str]:
        return [i for block in self.blocks.values() for i in block]

    def antecedents(self, construct: str) -> list[str]:
        return [a for a, b in self.paths if b == construct]

    def consequents(self, construct: str) -> list[str]:
        return [b for a, b in self.paths if a == construct]

    @property
    def endogenous(self) -> list[str]:
        return [c for c in self.constructs if self.antecedents(c)]

    def order(self) -> list[str]:
        """The constructs in causal order (every antecedent before its consequents)."""
        done: list[str] = []
        left = list(self.constructs)
        while left:
            ready = [c for c in left if all(a in done for a in self.antecedents(c))]
            if not ready:
                raise ValueError(f"the paths form a cycle among: {', '.join(left)}")
            done += ready
            left = [c for c in left if c not in ready]
        return done

    def drivers_of(self, target: str) -> list[str]:
        """Every construct with a path (direct or indirect) to ``target``."""
        found: list[str] = []
        frontier = [target]
        while frontier:
            here = frontier.pop()
            for a in self.antecedents(here):
                if a not in found:
                    found.append(a)
                    frontier.append(a)
        return [c for c in self.constructs if c in found]


@dataclass
class PlsFit:
    """One estimate of a path model."""

    model: PathModel
    weights: pd.DataFrame  # item x construct: outer weights (scores of unit variance)
    loadings: pd.Series  # item: correlation with its own construct (PLSc: corrected)
    cross_loadings: pd.DataFrame  # item x construct: correlation with every construct
    paths: pd.DataFrame  # from x to: path coefficients (0 where no path)
    total_effects: pd.DataFrame  # from x to
    r_squared: pd.Series  # endogenous construct
    scores: pd.DataFrame  # respondent x construct, standardised
    construct_correlations: pd.DataFrame  # PLSc: corrected for measurement error
    rho_a: pd.Series  # construct: Dijkstra-Henseler reliability
    iterations: int
    consistent: bool


def _standardise(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean(axis=0)
    sd = centred.std(axis=0, ddof=1)
    if np.any(sd == 0):
        raise ValueError("an item or construct does not vary: it cannot be standardised")
    return centred / sd


@dataclass(frozen=True)
class Layout:
    """A model's positions as arrays: item blocks, antecedents, the path pairs."""

    blocks: tuple[np.ndarray, ...]
    member: np.ndarray  # item x construct, 1 where the item measures the construct
    antecedents: tuple[tuple[int, tuple[int, ...]], ...]  # (endogenous, its antecedents)
    pairs: tuple[tuple[int, int], ...]


def model_layout(model: PathModel) -> Layout:
    """The positions ``estimate`` works with (computed once for many fits of one model)."""
    position = {c: k for k, c in enumerate(model.constructs)}
    item_pos = {item: k for k, item in enumerate(model.items)}
    blocks = tuple(np.array([item_pos[i] for i in model.blocks[c]]) for c in model.constructs)
    member = np.zeros((len(item_pos), len(blocks)))
    for j, block in enumerate(blocks):
        member[block, j] = 1.0
    return Layout(blocks=blocks, member=member,
                   antecedents=tuple((position[c], tuple(position[a] for a in
                                                         model.antecedents(c)))
                                     for c in model.endogenous),
                   pairs=tuple((position[a], position[b]) for a, b in model.paths))


def _inner_weights(corr: np.ndarray, layout: Layout, scheme: str) -> np.ndarray:
    inner = np.zeros_like(corr)
    for i, j in layout.pairs:
        if scheme == "factorial":
            inner[i, j] = inner[j, i] = corr[i, j]
        elif scheme == "centroid":
            inner[i, j] = inner[j, i] = np.sign(corr[i, j])
        else:  # path weighting: correlation from a consequent back to its antecedent
            inner[j, i] = corr[i, j]
    if scheme == "path":
        for j, before in layout.antecedents:
            idx = list(before)
            inner[idx, j] = np.linalg.solve(corr[np.ix_(idx, idx)], corr[idx, j])
    return inner


def _rho_a(weights: np.ndarray, item_corr: np.ndarray) -> float:
    """Dijkstra and Henseler's rho_A of one block (weights scaled to unit-variance scores)."""
    if weights.size == 1:
        return 1.0
    off = item_corr - np.diag(np.diag(item_corr))
    outer = np.outer(weights, weights)
    outer_off = outer - np.diag(np.diag(outer))
    return float((weights @ weights) ** 2 * (weights @ off @ weights)
                 / (weights @ outer_off @ weights))


def _solve_paths(corr: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    paths = np.zeros_like(corr)
    r_squared = np.empty(len(layout.antecedents))
    for k, (j, before) in enumerate(layout.antecedents):
        idx = list(before)
        beta = np.linalg.solve(corr[np.ix_(idx, idx)], corr[idx, j])
        paths[idx, j] = beta
        r_squared[k] = beta @ corr[idx, j]
    return paths, r_squared


@dataclass
class Estimate:
    """One fit as arrays (constructs and items in the model's order)."""

    weights: np.ndarray  # item x construct
    cross: np.ndarray  # item x construct correlations
    loadings: np.ndarray  # item
    paths: np.ndarray  # construct x construct
    total: np.ndarray
    r_squared: np.ndarray  # endogenous constructs
    corr: np.ndarray  # construct correlations (PLSc: corrected)
    rho_a: np.ndarray
    scores: np.ndarray  # respondent x construct (unit variance)
    iterations: int


def estimate(values: np.ndarray, model: PathModel, *, scheme: str = "path",
             consistent: bool = False, tol: float = 1e-10, max_iter: int = 300,
             layout: Layout | None = None) -> Estimate:
    """``fit_pls`` on an array (respondent x item, the model's item order): the core the
    bootstrap and the permutation tests repeat."""
    layout = layout or model_layout(model)
    x = _standardise(values)
    n = len(x)
    member = layout.member
    # Every step of the iteration needs the data only through the item correlations: the
    # scores' covariance is W'SW and the items' covariance with them SW. Iterating on S
    # (items x items) instead of the respondents makes each step independent of n.
    item_corr = x.T @ x / (n - 1)

    def unit_variance(w: np.ndarray) -> np.ndarray:
        return w / np.sqrt(np.einsum("ij,ik,kj->j", w, item_corr, w))

    weights = unit_variance(member.copy())
    iteration, change = 0, np.inf
    while iteration < max_iter and change >= tol:
        iteration += 1
        corr = weights.T @ item_corr @ weights  # the scores have unit variance
        inner = _inner_weights(corr, layout, scheme)
        new = unit_variance(member * (item_corr @ weights @ inner))
        change = np.abs(new - weights).max()
        weights = new
    if change >= tol:
        raise RuntimeError(f"PLS did not converge in {max_iter} iterations (change {change:.2g})")
    cross = item_corr @ weights
    flip = np.sign((cross * member).sum(axis=0))  # a construct's items load positively
    weights, cross = weights * flip, cross * flip
    scores = x @ weights
    rho = np.array([_rho_a(weights[b, j], item_corr[np.ix_(b, b)])
                    for j, b in enumerate(layout.blocks)])
    corr = weights.T @ item_corr @ weights
    loadings = (cross * member).sum(axis=1)
    if consistent:  # a block with a negative rho_A (a degenerate resample): NaN, not a warning
        with np.errstate(invalid="ignore"):
            adjust = np.sqrt(np.outer(rho, rho))
            np.fill_diagonal(adjust, 1.0)
            corr = corr / adjust
            for j, b in enumerate(layout.blocks):
                w = weights[b, j]
                loadings[b] = w * np.sqrt(rho[j]) / (w @ w) if b.size > 1 else 1.0
    path_matrix, r_squared = _solve_paths(corr, layout)
    eye = np.eye(len(layout.blocks))
    return Estimate(weights=weights, cross=cross, loadings=loadings, paths=path_matrix,
                    total=np.linalg.inv(eye - path_matrix) - eye, r_squared=r_squared,
                    corr=corr, rho_a=rho, scores=scores, iterations=iteration)


def fit_pls(items: pd.DataFrame, model: PathModel, *, scheme: str = "path",
            consistent: bool = False, tol: float = 1e-10, max_iter: int = 300) -> PlsFit:
    """Estimate ``model`` on ``items`` (one row per respondent, one numeric column per item,
    no missing values). ``scheme``: 'path', 'factorial' or 'centroid'."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme {scheme!r}: expected one of {', '.join(SCHEMES)}")
    missing = [i for i in model.items if i not in items.columns]
    if missing:
        raise ValueError(f"items not in the answers: {', '.join(missing)}")
    fit = estimate(items[model.items].to_numpy(dtype=float), model, scheme=scheme,
                   consistent=consistent, tol=tol, max_iter=max_iter)
    return labelled(fit, model, items.index, consistent)


def labelled(fit: Estimate, model: PathModel, index: pd.Index, consistent: bool) -> PlsFit:
    """``fit`` (an ``estimate``) as a ``PlsFit`` with construct and item names; ``index``: the
    respondents of the scores."""
    names = list(model.constructs)
    frame = lambda m, rows: pd.DataFrame(m, index=rows, columns=names)  # noqa: E731
    return PlsFit(
        model=model, weights=frame(fit.weights, model.items),
        loadings=pd.Series(fit.loadings, index=model.items, name="loading"),
        cross_loadings=frame(fit.cross, model.items), paths=frame(fit.paths, names),
        total_effects=frame(fit.total, names),
        r_squared=pd.Series(fit.r_squared, index=model.endogenous, name="r_squared"),
        scores=pd.DataFrame(fit.scores, index=index, columns=names),
        construct_correlations=frame(fit.corr, names), rho_a=pd.Series(fit.rho_a, index=names),
        iterations=fit.iterations, consistent=consistent)


def reliability(items: pd.DataFrame, fit: PlsFit) -> pd.DataFrame:
    """Per construct: Cronbach's alpha, composite reliability rho_C, average variance
    extracted (AVE) and rho_A; a single-item construct gets 1 for each."""
    model = fit.model
    rows = {}
    for construct in model.constructs:
        block = list(model.blocks[construct])
        k = len(block)
        if k == 1:
            rows[construct] = {"alpha": 1.0, "rho_c": 1.0, "ave": 1.0, "rho_a": 1.0}
            continue
        corr = items[block].astype(float).corr().to_numpy()
        lam = fit.loadings[block].to_numpy()
        rows[construct] = {
            "alpha": k / (k - 1) * (1 - k / corr.sum()),
            "rho_c": lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam ** 2).sum()),
            "ave": float((lam ** 2).mean()), "rho_a": float(fit.rho_a[construct])}
    return pd.DataFrame.from_dict(rows, orient="index")


def htmt(items: pd.DataFrame, model: PathModel) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of every pair of constructs (Henseler, Ringle and Sarstedt
    2015): the mean absolute correlation between the two blocks' items over the geometric mean
    of the mean absolute correlation within each block (1 within a single-item block). Upper
    triangle filled, in the order of the blocks."""
    corr = items[model.items].astype(float).corr().abs()

    def within(block: tuple[str, ...]) -> float:
        if len(block) == 1:
            return 1.0
        values = corr.loc[list(block), list(block)].to_numpy()
        return float(values[np.triu_indices(len(block), 1)].mean())

    names = list(model.constructs)
    out = pd.DataFrame(np.nan, index=names, columns=names)
    for a_pos, a in enumerate(names):
        for b in names[a_pos + 1:]:
            between = corr.loc[list(model.blocks[a]), list(model.blocks[b])].to_numpy().mean()
            out.loc[a, b] = between / np.sqrt(within(model.blocks[a]) * within(model.blocks[b]))
    return out
