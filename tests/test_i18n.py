"""Report language: Chinese pages carry their own CJK font, charts draw Chinese text, the runner
keeps only the run's language, and the Chinese executive summary states the run's numbers."""

import base64
import io as bytes_io
import re
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers import i18n
from tests.conftest import run_cli
from tests.test_browser import chromium  # noqa: F401 (the fixture)


@pytest.fixture
def chinese():
    i18n.use("zh")
    yield
    i18n.use("en")


def test_unknown_language_is_refused():
    with pytest.raises(i18n.LanguageError, match="must be one of"):
        i18n.use("fr")


def test_charts_draw_chinese_text_with_the_cjk_font(chinese):
    from helpers import plots

    plots._theme()  # seaborn resets the fonts; the theme puts the CJK font back first
    fig, ax = plt.subplots()
    ax.set_title("每月订单数（红点：预警）")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise
        fig.canvas.draw()
    plt.close(fig)
    assert plt.rcParams["font.sans-serif"][0] == i18n.CJK_FONT_NAME


def test_labels_and_tables_follow_the_language(chinese):
    assert i18n.label("Northeast") == "东北" and i18n.label("Atlantis") == "Atlantis"
    frame = pd.DataFrame({"customers": [3], "region": ["Metro"]})
    assert i18n.values(frame, ["region"])["region"].tolist() == ["都会"]
    html = i18n.relabel(frame.style).to_html()
    assert "客户数" in html and "区域" in html
    # yes/no flags in Chinese, and the caller's number formats kept on the other columns
    flagged = pd.DataFrame({"mean_risk": [0.29531], "small_group": [False]})
    html = i18n.relabel(flagged.style.format({"mean_risk": "{:.1%}"})).to_html()
    assert "29.5%" in html and "0.29531" not in html and ">否<" in html
    nullable = pd.DataFrame({"small_group": pd.array([True], dtype="boolean")})
    assert ">是<" in i18n.relabel(nullable.style).to_html()
    wide = pd.DataFrame([[1.234]], index=pd.Index(["price"], name="category"),
                        columns=pd.Index(["Metro"], name="region"))
    html = i18n.relabel(wide.style.format("{:.2f}")).to_html()
    assert "区域" in html and "region" not in html and "1.23" in html and "都会" in html
    i18n.use("en")
    assert i18n.relabel(frame.style).to_html().count("customers") >= 1


def test_every_rule_text_of_cleaning_and_repair_has_chinese(chinese, cleaned):
    """The quality report, the data sources and the repair log are shown on the Chinese pages
    through ``i18n.values``: each of their texts needs a translation (a new rule without one
    fails here)."""
    from helpers import cleaning, history

    repair = history.repair_history(cleaned.tables["order_lines_unrepaired"],
                                    cleaned.tables["customer_id_map"])
    texts = {*cleaned.quality_report["rule"], *cleaned.quality_report["detail"],
             *cleaned.quality_report["action"], *cleaned.quarantine["reason"],
             *cleaning.builtin_sources(cleaned)["origin"],
             *repair.repair_log["method"], *repair.repair_log["reason"],
             *repair.repair_log["column"]}
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert sorted(t for t in texts if not cjk.search(i18n.data_text(t))) == []
    assert i18n.data_text("corrected: divided by 100; excluded: my own rule") == \
        "已更正：除以 100；excluded: my own rule"  # a mapping's own words stay as written
    i18n.use("en")
    assert i18n.values(cleaned.quality_report, ["rule"]) is cleaned.quality_report


def _embedded_font_covers(page: str) -> set[str]:
    """The characters of ``page`` that its embedded font has no glyph for."""
    from fontTools.ttLib import TTFont

    data = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page).group(1)
    font = TTFont(bytes_io.BytesIO(base64.b64decode(data)))
    mapped = set(font.getBestCmap())
    text = re.sub(r"<style>.*?</style>|<script.*?</script>|data:[^\"')]+", "", page, flags=re.S)
    return {c for c in text if ord(c) > 0x2E7F and ord(c) not in mapped}


def test_embedded_font_is_small_and_covers_the_page():
    page = "<html><head></head><body>客户忠诚度分析报告：净推荐值 +21。</body></html>"
    styled = i18n.with_embedded_font(page)
    assert len(styled) < 200_000
    assert _embedded_font_covers(styled) == set()


NOTEBOOKS = ["01_cleaning", "02_history_repair", "03_behaviour", "04_attitude", "05_retention",
             "06_price_sensitivity", "07_regional_regression", "08_scorecard"]


@pytest.fixture(scope="module")
def chinese_run(raw_dir, tmp_path_factory):
    """The whole chain on a copy of the small sample, in Chinese: (run folder, project)."""
    from tests.conftest import make_project

    project = make_project(raw_dir, tmp_path_factory.mktemp("chinese-project"))
    done = run_cli(["-p", "report_language=zh", "--run-id", "zh"], project)
    assert done.returncode == 0, done.stdout + done.stderr
    return project / "reports" / "zh", project


def _english_headings(notebook: str) -> list[str]:
    """The headings of the notebook's English markdown cells."""
    import nbformat

    from helpers import io

    cells = nbformat.read(io.PACKAGE_ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4).cells
    return [line.lstrip("# ").strip() for cell in cells
            if "lang:en" in cell.metadata.get("tags", [])
            for line in cell.source.splitlines() if line.startswith("#")]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chinese_pages_keep_only_chinese_markdown_and_carry_their_font(chinese_run, name):
    page = (chinese_run[0] / f"{name}.html").read_text(encoding="utf-8")
    assert 'lang="zh-Hans"' in page
    assert _embedded_font_covers(page) == set(), name
    headings = _english_headings(name)
    assert headings, f"{name} has no English markdown tagged lang:en"
    for heading in headings:
        assert heading not in page, f"{name}: English heading {heading!r} on the Chinese page"
    # table cells: the sample's regions in Chinese, numbers formatted (no raw 6-decimal floats)
    from helpers.sample import REGIONS

    cells = [c.strip() for c in re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", page)]
    assert not set(cells) & set(REGIONS), f"{name}: English region names in a table"
    raw = [c for c in cells if re.fullmatch(r"-?\d+\.\d{6,}", c)  # pandas' default display
           and len(c.lstrip("-").replace(".", "").lstrip("0")) >= 4]  # not a 3-digit "{:.3g}"
    assert not raw, f"{name}: unformatted numbers {raw[:3]}"


def test_every_english_markdown_cell_has_a_chinese_twin():
    import nbformat

    from helpers import io

    for name in NOTEBOOKS:
        cells = nbformat.read(io.PACKAGE_ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells
        markdown = [c for c in cells if c.cell_type == "markdown"]
        english = [c for c in markdown if "lang:en" in c.metadata.get("tags", [])]
        chinese = [c for c in markdown if "lang:zh" in c.metadata.get("tags", [])]
        assert len(english) == len(chinese) == len(markdown) / 2, name


@pytest.mark.slow
def test_english_pages_keep_only_english_markdown(report_run):
    scorecard = (report_run["run_dir"] / "08_scorecard.html").read_text(encoding="utf-8")
    assert "Membership tiers" in scorecard and "会员等级" not in scorecard
    assert "@font-face" not in scorecard


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chinese_pages_render(chromium, chinese_run, tmp_path, name):  # noqa: F811
    from tests.test_browser import _images_decode, _rendered_dom

    dom = _rendered_dom(chromium, chinese_run[0] / f"{name}.html", tmp_path)
    text = dom.get_text(" ", strip=True)
    assert "Traceback" not in text and "import " not in text
    _images_decode(dom)
    assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 100  # the page is in Chinese


@pytest.mark.slow
@pytest.mark.browser
def test_chinese_index_states_the_runs_numbers(chromium, chinese_run, tmp_path):  # noqa: F811
    from tests.test_browser import _rendered_dom

    dom = _rendered_dom(chromium, chinese_run[0] / "index.html", tmp_path)
    text = dom.get_text(" ", strip=True)
    assert "管理摘要" in text and "忠诚度计分卡" in text
    clean = chinese_run[1] / "data" / "clean"
    card = pd.read_parquet(clean / "scorecard.parquet")
    risk = pd.read_parquet(clean / "churn_risk.parquet")
    assert (f"{len(card):,} 位客户的中位数为 {card['loyalty_index'].median():.0f}"
            in text)
    assert f"{len(risk):,} 位活跃客户中预计约 {risk['risk'].sum():,.0f} 位" in text


def test_speaking_a_language_ends_with_the_block():
    with i18n.speaking("zh"):
        assert i18n.text("yes", "是") == "是"
    assert i18n.language() == "en"
    with pytest.raises(i18n.LanguageError), i18n.speaking("xx"):
        pass
