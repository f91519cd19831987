"""The pages say what the run did: numbers in page text follow the run's parameters.

The notebooks are rendered with non-default parameters on the clean tables of the session's
default run; no page may still state a default (a 95% interval, a 6-month horizon, the 75th
percentile, a one-year referral window)."""

import re
import shutil

import pytest
from bs4 import BeautifulSoup

from tests.conftest import make_project, run_cli

OVERRIDES = {"confidence": 0.9, "horizon_months": 3, "cycle_quantile": 0.5,
             "referral_window_months": 6, "period_grain": "M", "market_adjusted": "false"}
NOTEBOOKS = ["03_behaviour", "04_attitude", "05_retention", "07_regional_regression"]


def _text(page) -> str:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for hidden in soup(["style", "script"]):
        hidden.decompose()
    return re.sub(r"\s+", " ", soup.get_text(" "))


@pytest.fixture(scope="module")
def pages(report_run, raw_dir, tmp_path_factory) -> dict[str, str]:
    assert report_run["result"].returncode == 0, report_run["result"].stderr[-2000:]
    project = make_project(raw_dir, tmp_path_factory.mktemp("parameters-project"))
    shutil.copytree(report_run["project"] / "data" / "clean", project / "data" / "clean")
    args = [f"-p {key}={value}" for key, value in OVERRIDES.items()]
    done = run_cli(["--only", *NOTEBOOKS, *" ".join(args).split()], project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = (project / "reports" / "latest").resolve()
    return {name: _text(run_dir / f"{name}.html") for name in NOTEBOOKS}


def test_every_page_states_the_runs_interval_level(pages):
    for name, text in pages.items():
        assert "90%" in text, name
        stale = re.findall(r"95% (?:interval|confidence)|Intervals are 95%|a 95%", text)
        assert not stale, (name, stale)


def test_retention_states_the_runs_horizon_and_cycle_quantile(pages):
    text = pages["05_retention"]
    assert "the next 3 months (the horizon" in text
    assert "within which 50% of repeat purchases happen" in text
    for stale in ("next 6 months", "75th percentile", "three in four"):
        assert stale not in text, stale


def test_attitude_states_the_runs_referral_window(pages):
    text = pages["04_attitude"]
    assert "within 6 months of the survey" in text
    assert "within a year of the survey" not in text


def test_the_default_run_states_the_defaults(report_run):
    """The same checks on the default run find the default numbers (so they can fail)."""
    run_dir = report_run["run_dir"]
    retention = _text(run_dir / "05_retention.html")
    assert "the next 6 months (the horizon" in retention
    assert "within which 75% of repeat purchases happen" in retention
    assert "within 12 months of the survey" in _text(run_dir / "04_attitude.html")
    assert re.search(r"95% (?:interval|confidence)", _text(run_dir / "03_behaviour.html"))


def test_the_regression_states_its_specification_as_run(pages, report_run):
    text = pages["07_regional_regression"]
    assert "product x region x month cells" in text
    assert "the log of the price as charged (not measured against a market index)" in text
    default = _text(report_run["run_dir"] / "07_regional_regression.html")
    assert "product x region x quarter cells" in default
    assert "relative to the delivered market price index" in default
