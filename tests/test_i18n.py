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
    from helpers.plots import common

    common.theme()  # seaborn resets the fonts; the theme puts the CJK font back first
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
    # a name that is an index level has that level translated, the others kept
    indexed = pd.DataFrame({"customers": [3, 4], "by": ["region", "region"],
                            "group": ["Metro", "Northeast"]}).set_index(["by", "group"])
    shown = i18n.values(indexed, ["by", "group"])
    assert shown.index.get_level_values("group").tolist() == ["都会", "东北"]
    assert shown.index.names == ["by", "group"] and shown["customers"].tolist() == [3, 4]
    with pytest.raises(KeyError, match="tier"):
        i18n.values(frame, ["tier"])
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
    from helpers import history

    repair = history.repair_history(cleaned.tables["order_lines_unrepaired"],
                                    cleaned.tables["customer_id_map"])
    texts = {*cleaned.quality_report["rule"], *cleaned.quality_report["detail"],
             *cleaned.quality_report["action"], *cleaned.quarantine["reason"],
             *cleaned.sources["origin"],
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
             "06_price_sensitivity", "07_regional_regression", "08_scorecard",
             "09_interventions"]


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
    return [line.lstrip("# ").strip() for cell in cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")]


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chinese_pages_keep_only_chinese_markdown_and_carry_their_font(chinese_run, name):
    page = (chinese_run[0] / f"{name}.html").read_text(encoding="utf-8")
    assert 'lang="zh-Hans"' in page
    assert _embedded_font_covers(page) == set(), name
    headings = _english_headings(name)
    assert headings, f"{name} has no markdown headings"
    for heading in headings:
        assert heading not in page, f"{name}: English heading {heading!r} on the Chinese page"
    # table cells: the sample's regions in Chinese, numbers formatted (no raw 6-decimal floats)
    from helpers.sample import REGIONS

    cells = [c.strip() for c in re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", page)]
    assert not set(cells) & set(REGIONS), f"{name}: English region names in a table"
    raw = [c for c in cells if re.fullmatch(r"-?\d+\.\d{6,}", c)  # pandas' default display
           and len(c.lstrip("-").replace(".", "").lstrip("0")) >= 4]  # not a 3-digit "{:.3g}"
    assert not raw, f"{name}: unformatted numbers {raw[:3]}"


def test_catalog_translates_every_text_and_holds_no_unused_entry():
    from helpers import catalog

    assert catalog.check() == []


@pytest.fixture(scope="module")
def sources_copy(tmp_path_factory):
    """A copy of the package's modules and the notebooks, to edit (the catalog is the real
    one)."""
    import shutil

    from helpers import io

    root = tmp_path_factory.mktemp("sources")
    shutil.copytree(io.PACKAGE_ROOT / "src" / "helpers", root / "src" / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "locale"))
    shutil.copytree(io.PACKAGE_ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


def test_an_english_text_changed_without_its_chinese_fails_the_check(sources_copy):
    """Edit one sentence of a module and one paragraph of a notebook: the check reports both
    as missing and their old texts as unused; ``update`` then carries the old translations
    over as fuzzy, which the check still reports."""
    from helpers import catalog

    module = sources_copy / "src" / "helpers" / "story" / "retention.py"
    module.write_text(module.read_text().replace(
        '"there is no snapshot to validate on, so the simpler model is used"',
        '"there is no snapshot to validate on, so the simplest model is used"'))
    notebook = sources_copy / "notebooks" / "06_price_sensitivity.ipynb"
    notebook.write_text(notebook.read_text().replace(
        "# Price sensitivity: what happens when prices change",
        "# Price sensitivity: what happens when our prices change"))
    template = catalog.extract_catalog(sources_copy)
    translated = catalog.read_catalog("zh")
    problems = catalog.check_catalog(template, translated, sources_copy)
    assert sorted(p.split(":")[0] for p in problems) == ["missing"] * 2 + ["unused"] * 2
    assert any("the simplest model" in p for p in problems)
    assert any("when our prices change" in p for p in problems)
    translated.update(template, no_fuzzy_matching=False)  # what `make i18n-update` does
    problems = catalog.check_catalog(template, translated, sources_copy)
    assert sorted(p.split(":")[0] for p in problems) == ["fuzzy", "fuzzy"]


def test_check_catches_wrong_placeholders_and_marked_f_strings(tmp_path):
    from babel.messages.catalog import Catalog

    from helpers import catalog

    (tmp_path / "src" / "helpers").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "src" / "helpers" / "m.py").write_text(
        'a = _("{count:,} rows", count=3)\nb = _(f"{x} rows")\nc = N_("kept")\n')
    template = catalog.extract_catalog(tmp_path)
    assert [m.id for m in template if m.id] == ["{count:,} rows", "kept"]
    translated = Catalog(locale="zh")
    translated.add("{count:,} rows", "{n:,} 行")
    translated.add("kept", "保留")
    problems = catalog.check_catalog(template, translated, tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith("placeholders differ: '{count:,} rows'")
    assert problems[1].startswith("f-string marked for translation in src/helpers/m.py")


def test_sentences_plurals_lists_and_months_follow_the_language():
    from helpers.i18n import _

    assert _("{count:,} order lines remain", count=1234) == "1,234 order lines remain"
    assert i18n.ngettext("succeeded; {n} report not evaluated for lack of data",
                         "succeeded; {n} reports not evaluated for lack of data", 3) == \
        "succeeded; 3 reports not evaluated for lack of data"
    assert i18n.join(["Metro", "Central"]) == "Metro, Central"
    assert i18n.sentences(["One.", "Two."]) == "One. Two."
    assert i18n.month(pd.Timestamp("2025-01-15")) == "January 2025"
    with i18n.speaking("zh"):
        assert _("{count:,} order lines remain", count=1234) == "保留 1,234 条订单明细"
        assert i18n.ngettext("succeeded; {n} report not evaluated for lack of data",
                             "succeeded; {n} reports not evaluated for lack of data", 3) == \
            "已完成；3 份报告因缺少数据未评估"
        assert i18n.join([i18n.label("Metro"), i18n.label("Central")]) == "都会、华中"
        assert i18n.sentences(["一。", "二。"]) == "一。二。"
        assert i18n.month(pd.Timestamp("2025-01-15")) == "2025年1月"
        # a filled-in data text is translated by its template, the values kept
        assert i18n.data_text("validated against the 'orders' contract schema") == \
            "按数据约定中 'orders' 的结构校验"
        # markdown paragraph by paragraph; an unknown paragraph stays as written
        assert i18n.markdown("## Around each price change\n\nA paragraph of my own.") == \
            "## 每次调价前后\n\nA paragraph of my own."


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
        assert i18n.yes_no(True) == "是"
    assert i18n.language() == "en"
    with pytest.raises(i18n.LanguageError), i18n.speaking("xx"):
        pass


@pytest.mark.slow
@pytest.mark.browser
def test_chinese_dashboard_reads_on_a_laptop_and_a_phone(chromium, chinese_run,  # noqa: F811
                                                         tmp_path):
    from tests.test_dashboard import check_dashboard

    dom = check_dashboard(chromium, chinese_run[0], tmp_path, "忠诚度现状")
    text = dom.get_text(" ", strip=True)
    assert "流失风险" in text and "等级构成" in text
    board = pd.read_parquet(chinese_run[1] / "data" / "clean" / "dashboard.parquet")
    churn = board.set_index("tile").loc["churn_risk"]
    assert f"{churn['value']:.0%}" in text
