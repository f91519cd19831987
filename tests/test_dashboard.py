"""The manager's first screen: tile figures (hand-computed cases and the run's own tables), the
weighted recommendation score in the summary, the page at laptop and phone width, the PDF."""

import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers import attitude, dashboard, pages, scorecard, tiles
from tests.test_browser import CHROMIUM_FLAGS, _console, _images_decode, _rendered_dom, chromium  # noqa: F401

M = pd.Timestamp("2024-06-01")


def _facts(covered: bool = True) -> pd.DataFrame:
    return pd.DataFrame({
        "this period": {"active_customers": 120, "revenue": 5500.0, "repeat_rate": 0.25,
                        "repeat_low": 0.18, "repeat_high": 0.33, "estimated_share": 0.0,
                        "covered": True},
        "previous period": {"active_customers": 100, "revenue": 5000.0, "repeat_rate": 0.20,
                            "repeat_low": 0.1, "repeat_high": 0.3, "estimated_share": 0.4,
                            "covered": covered}}).T


def _alerts(months: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"indicator": "orders", "region": "all",
                         "month": pd.to_datetime(months), "change": -0.5,
                         "since": pd.to_datetime(months)})


# --- figures ---------------------------------------------------------------------------------
def test_tiles_hand_case():
    waves = pd.DataFrame({"score": [10.0, -5.0], "ci_low": [0.0, -12.0], "ci_high": [20.0, 2.0],
                          "n": [40, 25], "raw_score": [20.0, 8.0], "raw_low": [9.0, -1.0],
                          "raw_high": [31.0, 17.0], "sent": pd.to_datetime(["2024-01-01",
                                                                           "2024-04-01"])})
    churn = pd.DataFrame({"risk": [0.1, 0.5, 0.9, 0.5]})
    elasticities = pd.DataFrame({"elasticity": [-1.0, -2.0], "ci_low": [-1.5, -2.4],
                                 "ci_high": [-0.5, -1.6], "units": [100, 300]})
    board = dashboard.dashboard_tiles(
        index=pd.Series([40.0, 50.0, 70.0]), period_facts=_facts(), waves=waves,
        churn_risk=churn, elasticities=elasticities,
        alerts=_alerts(["2024-05-01", "2024-06-01", "2024-06-01", "2024-06-01"]),
        latest_month=M, min_group_size=30).set_index("tile")
    assert list(board.index) == list(dashboard.TILES)
    assert board.loc["loyalty_index", "value"] == 50 and board.loc["loyalty_index", "small"]
    active = board.loc["active_customers"]
    assert active["change"] == pytest.approx(0.2) and active["change_kind"] == "relative"
    assert board.loc["revenue", "estimated"]  # the previous period rests on estimates
    repeat = board.loc["repeat_purchase"]
    assert repeat["change"] == pytest.approx(0.05) and repeat["ci_low"] == 0.18
    nps = board.loc["recommendation"]
    assert (nps["value"], nps["previous"], nps["change"], nps["raw_value"]) == (
        -5.0, 10.0, -15.0, 8.0)
    assert nps["small"]  # 25 answers
    z = 1.959964
    half = z * math.sqrt(0.09 + 0.25 + 0.09 + 0.25) / 4
    churn_tile = board.loc["churn_risk"]
    assert churn_tile["value"] == pytest.approx(0.5)
    assert (churn_tile["ci_low"], churn_tile["ci_high"]) == pytest.approx((0.5 - half,
                                                                           0.5 + half))
    price = board.loc["price_sensitivity"]
    assert (price["value"], price["ci_low"], price["ci_high"]) == pytest.approx(
        (-1.75, -2.175, -1.325))
    assert not price["small"]  # two regions, not two customers
    alerts = board.loc["alerts"]
    assert (alerts["value"], alerts["previous"], alerts["change"]) == (3, 1, 2)
    assert board["better"].to_dict()["churn_risk"] == "lower"


def test_tiles_without_the_data_say_not_evaluated_and_no_comparison():
    board = dashboard.dashboard_tiles(
        index=pd.Series(np.arange(100.0)), period_facts=_facts(covered=False), waves=None,
        churn_risk=None, elasticities=None, alerts=_alerts([]), latest_month=M).set_index("tile")
    assert not board.loc[["recommendation", "churn_risk", "price_sensitivity"],
                         "evaluated"].any()
    assert board.loc[["recommendation", "churn_risk", "price_sensitivity"], "value"].isna().all()
    assert math.isnan(board.loc["active_customers", "change"])  # history too short
    assert not board.loc["revenue", "estimated"]  # the uncovered period is not compared
    frame = tiles.tiles(tiles.Dashboard(board.reset_index(), pd.DataFrame(
        columns=["tile", "month", "value", "estimated"]), pd.DataFrame(), _alerts([])), M)
    shown = {t["key"]: t for t in frame}
    assert shown["churn_risk"]["value"] == "not evaluated"
    assert shown["churn_risk"]["page"] == "05_retention.html"
    assert shown["active_customers"]["change"] == "no comparison: the history is too short"


def test_recommendation_per_wave_is_weighted_to_the_invitees():
    survey = pd.DataFrame({"responded": [True, True, True, True, False],
                           "wave": [1, 1, 2, 2, 2], "recommend_used": [10, 0, 9, 9, np.nan],
                           "weight": [1.0, 3.0, 0.5, 1.5, np.nan],
                           "sent_date": pd.to_datetime(["2024-01-01"] * 2 + ["2024-04-01"] * 3)})
    waves = scorecard.survey_waves(survey)
    assert waves.loc[1, "score"] == pytest.approx(100 * (0.25 - 0.75))  # weighted
    assert waves.loc[1, "raw_score"] == pytest.approx(0.0)  # one promoter, one detractor
    assert waves.loc[2, ["score", "raw_score"]].tolist() == [100.0, 100.0]
    expected = attitude.net_score(pd.Series([10, 0]), pd.Series([1.0, 3.0]))
    assert waves.loc[1, "ci_low"] == pytest.approx(expected["ci_low"])
    assert waves.loc[1, "n"] == 2


def test_tier_mix_counts_only_customers_known_a_year_before():
    end = pd.Timestamp("2025-01-01")
    lines = pd.DataFrame({
        "customer_id": ["A", "A", "B", "C"], "order_id": ["1", "2", "3", "4"],
        "order_date": pd.to_datetime(["2023-06-01", "2024-06-01", "2024-07-01", "2023-03-01"]),
        "amount": [100.0, 300.0, 100.0, 50.0], "is_return": False})
    tiers = {"regular": {"spend": 0, "purchases": 1}, "gold": {"spend": 200, "purchases": 1}}
    order = scorecard.tier_order(tiers)
    now = scorecard.activity_tiers(lines, end, tiers)
    before = scorecard.activity_tiers(lines, end - pd.DateOffset(months=12), tiers)
    mix = dashboard.tier_mix(lines, now, before, end, order).set_index(["period", "tier"])
    assert mix.loc[("now", "gold"), "customers"] == 1  # A
    assert mix.loc[("now", "regular"), "customers"] == 1  # B
    assert mix.loc[("now", "inactive"), "customers"] == 1  # C
    assert mix.loc["a year before", "customers"].sum() == 2  # B had not bought yet
    assert mix.loc[("a year before", "regular"), "value"] == 150.0  # A and C
    assert mix.groupby("period")["share_customers"].sum().tolist() == [1.0, 1.0]
    assert mix.loc[("now", "gold"), "share_value"] == pytest.approx(0.75)


def test_sparkline_draws_estimated_months_dashed():
    points = pd.DataFrame({"month": pd.date_range("2024-01-01", periods=3, freq="MS"),
                           "value": [1.0, 3.0, 2.0], "estimated": [True, False, False]})
    svg = tiles.sparkline(points)
    assert svg.count("<line") == 2 and svg.count("stroke-dasharray") == 1
    assert tiles.sparkline(points.head(1)) == ""


# --- the run's own figures ------------------------------------------------------------------
def test_trend_ends_at_the_tiles_figure_and_the_previous_period(report_run):
    clean = report_run["project"] / "data" / "clean"
    lines = pd.read_parquet(clean / "order_lines.parquet")
    monthly = pd.read_parquet(clean / "monthly_sales.parquet")
    end = lines["order_date"].max() + pd.Timedelta(days=1)
    facts = scorecard.period_facts(lines, monthly, end)
    rolling = dashboard.rolling_facts(lines, monthly, end)
    assert rolling["active_customers"].iloc[-1] == facts.loc["this period", "active_customers"]
    assert rolling["revenue"].iloc[-1] == pytest.approx(facts.loc["this period", "revenue"])
    assert rolling["active_customers"].iloc[-13] == facts.loc["previous period",
                                                              "active_customers"]
    assert rolling["repeat_rate"].iloc[-1] == pytest.approx(facts.loc["this period",
                                                                      "repeat_rate"])
    trends = pd.read_parquet(clean / "dashboard_trends.parquet")
    active = trends[trends["tile"] == "active_customers"]
    assert len(active) == len(rolling) <= dashboard.TREND_MONTHS
    assert active["value"].iloc[-1] == facts.loc["this period", "active_customers"]


def _tile_texts(dom) -> dict[str, dict[str, str]]:
    found = {}
    for article in dom.select("article.tile"):
        found[article["data-tile"]] = {
            "value": article.select_one(".value").get_text(strip=True),
            "text": article.get_text(" ", strip=True),
            "links": [a["href"] for a in article.find_all("a")]}
    return found


def test_tile_values_are_the_runs_own_figures(report_run):
    from bs4 import BeautifulSoup

    run_dir, clean = report_run["run_dir"], report_run["project"] / "data" / "clean"
    shown = _tile_texts(BeautifulSoup((run_dir / "index.html").read_text(), "html.parser"))
    board = pd.read_parquet(clean / "dashboard.parquet").set_index("tile")
    assert list(shown) == list(dashboard.TILES)
    card = pd.read_parquet(clean / "scorecard.parquet")
    assert shown["loyalty_index"]["value"] == f"{card['loyalty_index'].median():,.0f}"
    risk = pd.read_parquet(clean / "churn_risk.parquet")
    assert shown["churn_risk"]["value"] == f"{risk['risk'].mean():.0%}"
    assert f"{len(risk):,} active customers" in shown["churn_risk"]["text"]
    # the recommendation score weighted to all invitees, recomputed from 04's table
    survey = pd.read_parquet(clean / "survey_scored.parquet")
    answered = survey[survey["responded"]]
    last = answered[answered["wave"] == answered.groupby("wave")["sent_date"].min().idxmax()]
    weighted = attitude.net_score(last["recommend_used"], last["weight"])
    raw = attitude.net_score(last["recommend_used"])
    assert shown["recommendation"]["value"] == f"{weighted['score']:+.0f}"
    assert f"respondents only: {raw['score']:+.0f}" in shown["recommendation"]["text"]
    assert board.loc["recommendation", "value"] == pytest.approx(weighted["score"])
    alerts = pd.read_parquet(clean / "alerts.parquet")
    assert shown["alerts"]["value"] == str(int((alerts["month"] == board.loc[
        "alerts", "month"]).sum()))
    for tile, entry in shown.items():
        assert entry["links"][0] == f"{board.loc[tile, 'page']}.html"
    # the executive summary carries the same weighted score, the raw one as a note
    summary = BeautifulSoup((run_dir / "index.html").read_text(), "html.parser").select_one(
        ".summary").get_text(" ", strip=True)
    assert f"weighted to all invited customers: {weighted['score']:+.0f}" in summary
    assert f"respondents alone score {raw['score']:+.0f}" in summary


# --- the page in a browser, and printed -----------------------------------------------------
def _measure_width(chromium: str, page, width: int, tmp_path) -> tuple[int, int]:  # noqa: F811
    """The page's scroll width and viewport width when shown at ``width`` px (in a frame of
    that width: headless windows are at least 500 px wide)."""
    import subprocess

    folder = tmp_path / f"at-{width}"
    shutil.copytree(page.parent, folder, ignore=shutil.ignore_patterns("*.ipynb"))
    copy = folder / page.name
    copy.write_text(copy.read_text(encoding="utf-8").replace(
        "</body>", "<script>parent.postMessage({scroll: document.documentElement.scrollWidth, "
        "inner: window.innerWidth}, '*');</script></body>"), encoding="utf-8")
    frame = folder / "frame.html"
    frame.write_text(f'<html><body style="margin:0"><iframe src="{page.name}" style="width:'
                     f'{width}px;height:3000px;border:0"></iframe><script>window.addEventListener('
                     '"message", e => {document.body.dataset.scroll = e.data.scroll; '
                     'document.body.dataset.inner = e.data.inner;});</script></body></html>')
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}",
                           "--window-size=1400,900", "--virtual-time-budget=5000", "--dump-dom",
                           frame.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'data-scroll="(\d+)" data-inner="(\d+)"', done.stdout)
    assert found, done.stdout[-500:]
    return int(found.group(1)), int(found.group(2))


def check_dashboard(chromium, run_dir, tmp_path, language_words):  # noqa: F811
    """The index's dashboard in a browser: no console errors, images decode, every tile with a
    value (or a not-evaluated link) and working links, no horizontal overflow at 1280 and 390
    px; screenshots at both widths saved in the run folder. Returns the DOM."""
    import subprocess

    from PIL import Image

    dom = _rendered_dom(chromium, run_dir / "index.html", tmp_path)  # no console errors
    _images_decode(dom)
    shown = _tile_texts(dom)
    assert list(shown) == list(dashboard.TILES)
    for tile, entry in shown.items():
        assert entry["value"], tile
        assert entry["links"] and all((run_dir / link.split("#")[0]).exists()
                                      for link in entry["links"]), tile
    assert language_words in dom.get_text(" ", strip=True)
    for width in (1280, 390):
        scroll, inner = _measure_width(chromium, run_dir / "index.html", width, tmp_path)
        assert inner == width and scroll <= inner, f"horizontal overflow at {width} px"
        shot = run_dir / f"screenshot-{width}.png"
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / f'p{width}'}",
                        f"--window-size={width},1600", f"--screenshot={shot}",
                        (run_dir / "index.html").as_uri()], capture_output=True, timeout=120)
        Image.open(shot).verify()
    return dom


@pytest.mark.browser
def test_dashboard_reads_on_a_laptop_and_a_phone(chromium, report_run, tmp_path):  # noqa: F811
    dom = check_dashboard(chromium, report_run["run_dir"], tmp_path, "Where loyalty stands")
    assert dom.select_one(".tiers") is not None  # the tier mix
    assert dom.find("a", href=tiles.ALERTS_LINK) is not None


@pytest.mark.browser
def test_pdf_has_the_dashboard_on_its_first_page(chromium, report_run, tmp_path):  # noqa: F811
    from pypdf import PdfReader

    page = tmp_path / "index.html"
    shutil.copy(report_run["run_dir"] / "index.html", page)
    pdf = pages.write_pdf(page)
    reader = PdfReader(pdf)
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Where loyalty stands" in first
    board = pd.read_parquet(report_run["project"] / "data" / "clean" / "dashboard.parquet")
    for _k, row in board[board["evaluated"]].iterrows():
        assert tiles._number(row["tile"], row["value"], "") in first, row["tile"]
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4
