"""The published pages open in a real browser (headless Chromium) and show what a manager reads.

Chromium is Debian's ``chromium`` package; ``.ci/run`` installs it. Without it these tests are
skipped on a workstation but fail under CI=true, so CI can never pass without looking.
"""

import os
import subprocess
from pathlib import Path

import pytest

from helpers import pages

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = pages.CHROMIUM_FLAGS  # the flags the runner prints the PDF with


@pytest.fixture(scope="module")
def chromium() -> str:
    path = pages.chromium()
    if path is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message)
    return path


def _browse(chromium: str, page: Path, tmp_path: Path, *action: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                           "--virtual-time-budget=5000", *action, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    """The page's console messages (errors, uncaught exceptions, logs) from Chromium's log."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def _rendered_dom(chromium: str, page: Path, tmp_path: Path):
    """The DOM after rendering; fails on any console message (errors, uncaught exceptions)."""
    from bs4 import BeautifulSoup

    done = _browse(chromium, page, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _console(done.stderr) == [], f"{page.name}: console output"
    return BeautifulSoup(done.stdout, "html.parser")


def test_console_errors_are_caught(chromium, tmp_path):
    """The check above can fail: a page with a script error is reported."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>missing_function();</script></body></html>")
    done = _browse(chromium, page, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in _console(done.stderr))


def _images_decode(dom) -> None:
    """Every image is an embedded picture that decodes (no broken images)."""
    import base64
    import io as bytes_io

    from PIL import Image

    for img in dom.find_all("img"):
        header, _, data = img["src"].partition(",")
        assert header.startswith("data:image/") and header.endswith(";base64"), header[:40]
        Image.open(bytes_io.BytesIO(base64.b64decode(data))).verify()


def test_index_renders_with_findings_and_working_links(chromium, report_run, tmp_path):
    import pandas as pd

    run_dir = report_run["run_dir"]
    dom = _rendered_dom(chromium, run_dir / "index.html", tmp_path)
    text = dom.get_text(" ", strip=True)
    assert "Key findings" in text and "raw rows" in text
    assert text.index("Executive summary") < text.index("Key findings")
    # the headline numbers are the run's own: recomputed here from its output tables
    clean = report_run["project"] / "data" / "clean"
    risk = pd.read_parquet(clean / "churn_risk.parquet")
    card = pd.read_parquet(clean / "scorecard.parquet")
    assert f"about {risk['risk'].sum():,.0f} of {len(risk):,} active customers" in text
    assert f"median {card['loyalty_index'].median():.0f} over {len(card):,} customers" in text
    assert len(dom.select(".summary li")) >= 5
    links = [a["href"] for a in dom.find_all("a", href=True)]
    assert {"01_cleaning.html", "02_history_repair.html"} <= set(links)
    for href in links:
        if not href.startswith(("http", "#", "mailto:")):
            target, _, anchor = href.partition("#")
            assert (run_dir / target).is_file(), f"index.html links to missing {href}"
            if anchor:  # the section it points at exists on that page
                assert f'id="{anchor}"' in (run_dir / target).read_text(), href


@pytest.mark.parametrize("name", ["01_cleaning", "02_history_repair", "03_behaviour",
                                  "04_attitude", "05_retention", "06_price_sensitivity",
                                  "07_regional_regression", "08_scorecard",
                                  "09_interventions"])
def test_notebook_page_renders_without_code(chromium, report_run, tmp_path, name):
    dom = _rendered_dom(chromium, report_run["run_dir"] / f"{name}.html", tmp_path)
    assert dom.select(".jp-Cell") or dom.select(".jp-OutputArea"), "no notebook cells rendered"
    assert dom.select(".jp-InputArea .jp-Editor") == []
    assert dom.select(".jp-InputPrompt") == [] and dom.select(".jp-OutputPrompt") == []
    images = dom.find_all("img")
    assert len(images) >= 1
    _images_decode(dom)
    text = dom.get_text(" ", strip=True)
    assert "import " not in text and "Traceback" not in text
    assert dom.find("table") is not None  # the styled tables survive rendering


@pytest.mark.parametrize("page", ["index", "01_cleaning"])
def test_screenshot_shows_a_rendered_page(chromium, report_run, tmp_path, page):
    from PIL import Image

    # kept next to the report: the test run leaves a picture of what managers see
    shot = report_run["run_dir"] / f"{page}.png"
    done = _browse(chromium, report_run["run_dir"] / f"{page}.html", tmp_path,
                   f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 2000)
    low, high = image.getextrema()
    assert high - low > 100, "the screenshot is a blank page"
    histogram = image.histogram()
    assert max(histogram) / sum(histogram) < 0.97, "the page is almost entirely one colour"
