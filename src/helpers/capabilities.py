"""What a run's data can support: which contract tables were delivered, which notebooks and
analyses can run on them, and the plain-language reason when one cannot.

What each notebook needs is declared once, in ``REQUIREMENTS``: one row per need, saying whether
the whole notebook, one of its sections or only a remark depends on it. ``check`` evaluates the
rows of a notebook on a clean folder (and the notebook's parameters, for needs such as the
length of history a churn model asks for). The runner evaluates it before running a notebook:
a notebook that cannot run gets a page with the reason, and the cells of the sections left out
(tagged ``section:<name>``) are dropped from its page. The notebook reads the same verdict in
its first cell (``require``) and shows it; opened by hand it stops there with the reason.

The built-in sample delivers every table. A company's own data (``helpers.sources``) may deliver
only orders: then the attitude notebook, the price notebooks and the scorecard's attitude and
price dimensions are "not evaluated", and the reports say why instead of inventing numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow.parquet as pq

from helpers import i18n, io, story
from helpers.i18n import _

OPTIONAL_TABLES = ("price_changes", "market_index", "survey_responses", "survey_answers",
                   "referrals", "engagement", "complaints", "interventions",
                   "intervention_exposure")
ATTITUDE_TABLES = ("survey_responses", "referrals", "engagement", "complaints")


class NotEvaluated(RuntimeError):  # noqa: N818 (a state the report shows, not a failure)
    """The data cannot support this notebook; the message says which data is missing."""


def table_rows(clean_dir: str | Path) -> dict[str, int]:
    """Rows per clean table present in ``clean_dir`` (absent tables are left out)."""
    folder = io.resolve(clean_dir)
    return {path.stem: pq.ParquetFile(path).metadata.num_rows
            for path in sorted(folder.glob("*.parquet"))}


def has(rows: dict[str, int], table: str) -> bool:
    """True when ``table`` was delivered with at least one row."""
    return rows.get(table, 0) > 0


@dataclass
class Facts:
    """What the requirements look at: the clean folder's tables and the notebook's
    parameters (columns are read only when a requirement asks for them)."""

    clean_dir: Path
    parameters: dict[str, Any]
    _columns: dict[tuple[str, str], pd.Series | None] = field(default_factory=dict, repr=False)

    @cached_property
    def rows(self) -> dict[str, int]:
        return table_rows(self.clean_dir)

    def has(self, *tables: str) -> bool:
        """Every one of ``tables`` was delivered with rows."""
        return all(has(self.rows, t) for t in tables)

    def any(self, *tables: str) -> bool:
        """At least one of ``tables`` was delivered with rows."""
        return any(has(self.rows, t) for t in tables)

    def column(self, table: str, column: str) -> pd.Series | None:
        """One column of a clean table (None when the table is absent), read once: a
        requirement's condition and its words may both ask for it."""
        if (table, column) not in self._columns:
            path = self.clean_dir / f"{table}.parquet"
            self._columns[(table, column)] = (
                pd.read_parquet(path, columns=[column])[column] if path.exists() else None)
        return self._columns[(table, column)]


Scope = Literal["notebook", "section", "remark"]


@dataclass(frozen=True)
class Requirement:
    """One need of a notebook. When ``met`` is false: scope "notebook", the notebook is not
    evaluated (``says`` is the reason); "section", the section named ``section`` is left out
    and listed; "remark", the page says what is missing but shows everything."""

    notebook: str
    scope: Scope
    met: Callable[[Facts], bool]
    says: Callable[[Facts], str]
    section: str = ""


def _churn_history_problem(facts: Facts) -> str:
    """Why the churn model cannot be fitted on this history ('' when it can, or when there are
    no order lines to judge)."""
    dates = facts.column("order_lines", "order_date")
    if dates is None or dates.empty:
        return ""
    params = facts.parameters
    return story.retention.churn_model_problem(
        pd.DataFrame({"order_date": dates}), params.get("horizon_months", 6),
        params.get("n_train_snapshots", 4), params.get("snapshot_spacing_months", 3))


def _legacy_lines(facts: Facts) -> bool:
    source = facts.column("order_lines_unrepaired", "source")
    return source is None or source.empty or bool((source == "legacy").any())


def _dimension_remark(dimension: str) -> Callable[[Facts], str]:
    return lambda facts: _("the {dimension} dimension (no data for it): the index uses the "
                           "other dimensions", dimension=i18n.label(dimension))



def _price_changes(facts: Facts) -> bool:
    """Price changes delivered, or found in the order lines by notebook 02."""
    return facts.any("price_changes", "derived_price_changes")


def _market_index(facts: Facts) -> bool:
    """A market index delivered, or built from the company's own prices by notebook 02."""
    return facts.any("market_index", "derived_market_index")


REQUIREMENTS: list[Requirement] = [
    Requirement("02_history_repair", "section", _legacy_lines, lambda f: _(
        "legacy-system repairs (all order lines come from one current system: nothing to "
        "unify or repair)"), "legacy"),
    Requirement("04_attitude", "notebook", lambda f: f.any(*ATTITUDE_TABLES), lambda f: _(
        "no survey, referral, engagement or complaint data was delivered: the attitude "
        "dimension is not evaluated")),
    Requirement("04_attitude", "notebook",
                lambda f: f.any("survey_responses", "engagement", "complaints"), lambda f: _(
                    "only referrals were delivered: without survey answers to compare them "
                    "with, complaints or engagement, the attitude dimension is not evaluated "
                    "(the scorecard does not use referrals)")),
    Requirement("04_attitude", "section", lambda f: f.has("survey_responses"), lambda f: _(
        "the likelihood to recommend, satisfaction, survey quality and how scores match actual "
        "referrals (no survey data)"), "survey_responses"),
    Requirement("04_attitude", "section",
                lambda f: f.has("survey_responses") and f.has("survey_answers"), lambda f: _(
                    "what drives loyalty (no multi-item questionnaire answers)"),
                "survey_answers"),
    Requirement("04_attitude", "section", lambda f: f.has("referrals"),
                lambda f: _("actual referrals (no referral data)"), "referrals"),
    Requirement("04_attitude", "section", lambda f: f.has("engagement"),
                lambda f: _("emotional connection (no engagement data)"), "engagement"),
    Requirement("04_attitude", "section", lambda f: f.has("complaints"),
                lambda f: _("complaint taxonomy and rates (no complaint data)"), "complaints"),
    Requirement("05_retention", "remark", lambda f: f.has("complaints"), lambda f: _(
        "complaints as a churn warning sign (no complaint data)")),
    Requirement("05_retention", "remark", lambda f: f.has("survey_responses"), lambda f: _(
        "survey answers as churn warning signs (no survey data)")),
    Requirement("05_retention", "section", lambda f: not _churn_history_problem(f),
                lambda f: _("the churn early-warning model: {reason}",
                            reason=_churn_history_problem(f)), "churn-model"),
    Requirement("06_price_sensitivity", "notebook", _price_changes, lambda f: _(
        "no price changes were delivered and none were found in the order lines: behaviour "
        "around price adjustments cannot be measured, so price sensitivity is not evaluated")),
    Requirement("06_price_sensitivity", "section", _market_index, lambda f: _(
        "the market adjustment (no market price index): changes are compared with other "
        "regions only"), "market"),
    Requirement("07_regional_regression", "notebook", _price_changes,
                lambda f: _("no price changes were delivered or found in the order lines: "
                            "without the company's own price decisions, price differences "
                            "within a product come from quantity discounts and customer mix, "
                            "so the regional price regression is not estimable")),
    Requirement("07_regional_regression", "remark", _market_index,
                lambda f: _("the market adjustment (no market price index): prices are used as "
                            "charged")),
    Requirement("08_scorecard", "remark", lambda f: f.any(*ATTITUDE_TABLES),
                _dimension_remark("attitude")),
    Requirement("08_scorecard", "remark", _price_changes,
                _dimension_remark("price sensitivity")),
    Requirement("09_interventions", "notebook", lambda f: f.has("interventions"), lambda f: _(
        "no interventions (campaigns, coupons, member benefits, service changes) were "
        "delivered: their effects cannot be measured")),
]


@dataclass
class Check:
    """Whether a notebook can run, and which of its analyses are left out and why.

    Displayed in a notebook (the cell after the loading cell), it shows ``sentence()``; the
    runner leaves the cells tagged ``section:<name>`` for each name in ``hidden_sections`` out
    of the page (they run, on empty inputs, but a manager should not read empty tables).
    """

    notebook: str
    runnable: bool = True
    reason: str = ""
    not_evaluated: list[str] = field(default_factory=list)
    hidden_sections: list[str] = field(default_factory=list)

    def evaluates(self, section: str) -> bool:
        """True when the section ``section`` runs on this data."""
        return section not in self.hidden_sections

    def _repr_markdown_(self) -> str:
        return self.sentence()

    def sentence(self) -> str:
        """Markdown for the report: the reason, or the list of analyses left out (or '')."""
        if not self.runnable:
            return _("**Not evaluated:** {reason}.", reason=self.reason)
        if not self.not_evaluated:
            return ""
        return _("**Left out for lack of data:**") + "\n\n" + \
            "\n".join(f"- {item}" for item in self.not_evaluated)


def check(notebook: str, clean_dir: str | Path,
          parameters: dict[str, Any] | None = None) -> Check:
    """The verdict of ``REQUIREMENTS`` for ``notebook`` (e.g. '04_attitude') on the tables in
    ``clean_dir`` and the notebook's ``parameters``, in the report language.

    Tables written by earlier notebooks are not checked here (``io.read_clean`` says which
    notebook to run first); only the delivered data.
    """
    facts = Facts(io.resolve(clean_dir), dict(parameters or {}))
    result = Check(notebook)
    for requirement in (r for r in REQUIREMENTS if r.notebook == notebook):
        if requirement.met(facts):
            continue
        if requirement.scope == "notebook":
            result.runnable, result.reason = False, requirement.says(facts)
            break
        result.not_evaluated.append(requirement.says(facts))
        if requirement.scope == "section":
            result.hidden_sections.append(requirement.section)
    return result


def require(notebook: str, clean_dir: str | Path,
            parameters: dict[str, Any] | None = None) -> Check:
    """``check`` for a notebook's first cell: raises ``NotEvaluated`` if it cannot run."""
    result = check(notebook, clean_dir, parameters)
    if not result.runnable:
        raise NotEvaluated(f"{notebook}: {result.reason}")
    return result
