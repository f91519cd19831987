"""The published pages of a run: each executed notebook as HTML (no code), the run's
``index.html`` and the page of a notebook the data cannot support, in the report language.

Layout is in Jinja2 templates (``helpers/templates``); every word comes from ``helpers.i18n``.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jinja2
import nbformat

from helpers import i18n, tiles
from helpers.i18n import _
from helpers.words import N_

HIDDEN_TAGS = {"parameters", "injected-parameters"}
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("helpers", "templates"), autoescape=True,
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
NOTEBOOK_TITLES: dict[str, str] = {  # stem -> page title (translated when shown)
    "01_cleaning": N_("Data cleaning"),
    "02_history_repair": N_("History repair"),
    "03_behaviour": N_("Behaviour"),
    "04_attitude": N_("Attitude"),
    "05_retention": N_("Retention"),
    "06_price_sensitivity": N_("Price sensitivity"),
    "07_regional_regression": N_("Regional price regression"),
    "08_scorecard": N_("Loyalty scorecard"),
}


def _self_contained(page: str, language: str) -> str:
    """The page with the CJK font subset embedded when it is Chinese."""
    return i18n.with_embedded_font(page) if language == "zh" else page


# --------------------------------------------------------------------------------------------
# notebook pages
def render_html(executed: Path, target: Path, title: str, language: str = "en",
                hidden_sections: list[str] | tuple[str, ...] = ()) -> None:
    """Executed notebook -> self-contained HTML: no code, no prompts, no parameter cells, the
    markdown translated into ``language`` paragraph by paragraph, the cells of
    ``hidden_sections`` (the sections the data cannot support) left out."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=HIDDEN_TAGS, enabled=True), enabled=True)
    notebook = drop_hidden_sections(nbformat.read(executed, as_version=4), hidden_sections)
    with i18n.speaking(language):
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = i18n.markdown(cell.source)
    body, _resources = exporter.from_notebook_node(notebook, resources={"metadata": {
        "name": title}})
    if language != "en":
        body = (body.replace('<html lang="en">', f'<html lang="{HTML_LANG[language]}">', 1)
                .replace("<html>", f'<html lang="{HTML_LANG[language]}">', 1))
    # nbconvert links MathJax and require.js from a CDN; reports are read offline and contain
    # no maths or widgets, so drop those script tags.
    body = re.sub(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>', "", body)
    target.write_text(_self_contained(body, language), encoding="utf-8")


# a cell whose output is for ``index.html`` only (e.g. an executive-summary line)
INDEX_ONLY_TAG = "index-only"


def drop_hidden_sections(notebook: nbformat.NotebookNode,
                         sections: list[str] | tuple[str, ...]) -> nbformat.NotebookNode:
    """Leave out the cells tagged ``section:<name>`` for each name in ``sections`` (those the
    data cannot support, from ``capabilities.check``) and those tagged ``index-only`` (a line
    written for the run's landing page that the page itself says otherwise); the notebook file
    keeps them."""
    hidden = {f"section:{name}" for name in sections} | {INDEX_ONLY_TAG}
    if hidden:
        notebook.cells = [cell for cell in notebook.cells
                          if not hidden & set(cell.get("metadata", {}).get("tags", []))]
    return notebook


# --------------------------------------------------------------------------------------------
# the run's pages
def run_language(manifest: dict[str, Any]) -> str:
    """The run's report language: the ``report_language`` most of its notebooks were given."""
    given = Counter(nb["parameters"].get("report_language", "en")
                    for nb in manifest["notebooks"])
    return given.most_common(1)[0][0] if given else "en"


def notebook_title(name: str) -> str:
    """A notebook's name on the index: its stem in English, number and title in another
    language."""
    if i18n.language() == i18n.SOURCE_LANGUAGE or name not in NOTEBOOK_TITLES:
        return name
    return f"{name[:2]} {_(NOTEBOOK_TITLES[name])}"


def status_word(status: str) -> str:
    """A notebook's status (ok, failed, not run, not evaluated) in the current language."""
    words = {"ok": i18n.pgettext("status", "ok"), "failed": i18n.pgettext("status", "failed"),
             "not run": i18n.pgettext("status", "not run"),
             "not evaluated": i18n.pgettext("status", "not evaluated")}
    return words.get(status, status)


def _markdown_inline(text: str) -> str:
    escaped = html.escape(text)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


def write_index(run_dir: Path, manifest: dict[str, Any],
                dashboard: tiles.Dashboard | None = None) -> Path:
    """The run's landing page (self-contained), in the run's report language: the dashboard
    (``tiles``) when the run has one, status, executive summary, headlines and a link per
    notebook."""
    language = run_language(manifest)
    with i18n.speaking(language):
        content = _index_content(manifest, language)
        content["dashboard"] = tiles.content(dashboard, dashboard.latest_month
                                             if dashboard is not None else None)
        page = TEMPLATES.get_template("index.html").render(**content)
    path = run_dir / "index.html"
    path.write_text(_self_contained(page, language), encoding="utf-8")
    return path


def _index_content(manifest: dict[str, Any], language: str) -> dict[str, Any]:
    """What ``index.html`` shows, in the current language."""
    import mistune

    notebooks = manifest["notebooks"]
    rows = [{"title": notebook_title(nb["name"]), "html": nb["html"],
             "css": nb["status"].replace(" ", "-"), "status": status_word(nb["status"]),
             "duration": f'{nb["duration_s"]:.1f} s' if nb["duration_s"] is not None else "–"}
            for nb in notebooks]
    findings = [{"title": notebook_title(nb["name"]), "html": _markdown_inline(h)}
                for nb in notebooks for h in nb["headlines"]]
    errors = [{"title": notebook_title(nb["name"]), "message": nb["error"] or ""}
              for nb in notebooks if nb["status"] == "failed"]
    summaries = "\n".join(nb["executive_summary"] for nb in notebooks
                          if nb.get("executive_summary"))
    skipped = sum(nb["status"] == "not evaluated" for nb in notebooks)
    if manifest["status"] != "success":
        status_text = _("FAILED")
    elif skipped:
        status_text = ngettext_reports(skipped)
    else:
        status_text = _("all notebooks succeeded")
    inputs = manifest["inputs"]
    n_files = sum(not Path(name).name.startswith(".") for files in inputs.values()
                  for name in files)
    commit = html.escape(str(manifest["git"].get("commit") or "unknown"))[:12]
    dirty = _(" (with uncommitted changes)") if manifest["git"].get("dirty") else ""
    verified = _("verified") if manifest["raw_unchanged"] else _("CHANGED")
    about = _("Inputs: {files} raw file(s), unchanged by the run ({verified}). Code version "
              "{commit}{dirty}. Parameters, input file hashes and package versions are in "
              '<a href="manifest.json">manifest.json</a>.', files=n_files, verified=verified,
              commit=commit, dirty=html.escape(dirty))
    started = _("Run <strong>{run_id}</strong>, started {started}, took {seconds:.0f} s.",
                run_id=html.escape(manifest["run_id"]),
                started=html.escape(manifest["started_at"]), seconds=manifest["duration_s"])
    text = {"status": _("Status"), "failed": _("failed"), "colon": _(": "),
            "see_page": _("see its page for the details."), "summary": _("Executive summary"),
            "summary_note": _("▲▼ direction since the previous period; † rests partly on "
                              "estimated (repaired) history."),
            "findings": _("Key findings"), "no_findings": _("No findings."),
            "reports": _("Reports"), "notebook": _("Notebook"), "duration": _("Duration"),
            "about": _("About this run")}
    fonts = ('"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", '
             if language == "zh" else "")
    return {"html_lang": HTML_LANG[language], "page_title": _("Loyalty workbook – run"),
            "run_id": manifest["run_id"], "fonts": fonts,
            "heading": _("Customer loyalty workbook"), "started": started,
            "status": manifest["status"], "status_text": status_text, "errors": errors,
            "summary": mistune.html(summaries) if summaries else "", "findings": findings,
            "rows": rows, "about": about, "text": text}


def ngettext_reports(skipped: int) -> str:
    """The status line of a run that left reports out for lack of data."""
    return i18n.ngettext("succeeded; {n} report not evaluated for lack of data",
                         "succeeded; {n} reports not evaluated for lack of data", skipped)


def not_evaluated_headline(reason: str, language: str) -> str:
    """The index's finding for a notebook the data cannot support."""
    with i18n.speaking(language):
        return _("Not evaluated: {reason}.", reason=reason)


def write_not_evaluated(target: Path, name: str, reason: str, language: str = "en") -> str:
    """A small self-contained page saying why a notebook was not run on this data."""
    with i18n.speaking(language):
        title = _(NOTEBOOK_TITLES[name]) if name in NOTEBOOK_TITLES else (
            name.split("_", 1)[-1].replace("_", " "))
        page = TEMPLATES.get_template("not_evaluated.html").render(
            html_lang=HTML_LANG[language], name=name,
            heading=_("{title}: not evaluated", title=title),
            reason_text=_("This run's data cannot support this analysis: {reason}.",
                          reason=reason),
            advice=_("Nothing on this page is estimated or filled in. Deliver the missing data "
                     '(see the README section "Use your own data") and run the report again to '
                     "get it."),
            back=_("Back to the run overview"))
    target.write_text(_self_contained(page, language), encoding="utf-8")
    return target.name


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str | None:
    """The path of a Chromium browser (Debian's ``chromium``), None without one."""
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(page: Path, target: Path | None = None, timeout_s: float = 180) -> Path:
    """``page`` printed to A4 PDF by headless Chromium (its print stylesheet: the dashboard on
    the first page); returns the PDF's path (default: beside the page).

    Raises:
        RuntimeError: no Chromium, or it failed (the message says which and how to fix it).
    """
    import subprocess
    import tempfile

    browser = chromium()
    if browser is None:
        raise RuntimeError("index.pdf not written: Chromium is not installed "
                           "(apt-get install chromium)")
    target = target or page.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="loyalty-pdf-") as profile:
        done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               "--no-pdf-header-footer", f"--print-to-pdf={target}",
                               page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0 or not target.exists():
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{target.name} not written: Chromium failed ({detail})")
    return target


def headlines(executed: Path, tag: str) -> list[str]:
    """Plain-text outputs of the cells tagged ``tag`` (one sentence each, or a markdown list for
    the executive summary) in a notebook."""
    notebook = nbformat.read(executed, as_version=4)
    found = []
    for cell in notebook.cells:
        if tag not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/markdown") or data.get("text/plain") or output.get("text")
            if text:
                found.append("".join(text).strip().strip("'\""))
    return found
