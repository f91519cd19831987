"""The report runner: execute the notebook chain with papermill and publish HTML reports.

``python -m helpers.run --config configs/default.yaml [-p KEY=VALUE ...]``

* Notebooks ``notebooks/NN_name.ipynb`` run in number order. Each receives only the parameters its
  ``parameters`` cell declares: from its block in the YAML config (``NN_name: {key: value}``) and
  from ``-p`` overrides (``-p key=value`` sets it in every notebook declaring ``key``;
  ``-p NN_name.key=value`` in one). Unknown notebooks, undeclared keys and values of the wrong
  type are reported together before anything runs.
* Output: ``reports/<run_id>/`` with the executed notebooks, one HTML per notebook (code and
  parameter cells hidden, images embedded), ``index.html`` and ``manifest.json``.
* A failing notebook is still rendered (its HTML shows the error), the rest of the chain is not
  run, and the exit code is 1. ``reports/latest`` points at the last successful run.
* Raw inputs (every ``*raw_dir`` parameter) are hashed before and after each notebook; a change
  fails the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
import yaml

from helpers import io

NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
HIDDEN_TAGS = {"parameters", "injected-parameters"}
HEADLINE_TAG = "headline"
SUMMARY_TAG = "executive-summary"
KEY_PACKAGES = ["pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "papermill",
                "nbconvert", "pandera", "pyarrow", "ipykernel", "loyalty-workbook"]
_TYPE_OK = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list,), "dict": (dict,),
}


class ParameterError(ValueError):
    """The configuration names notebooks or parameters that do not exist, or has wrong types."""


@dataclass
class NotebookResult:
    """What happened to one notebook in a run."""

    name: str
    status: str = "not run"  # ok | failed | not run | not evaluated (the data cannot support it)
    duration_s: float | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    ipynb: str | None = None
    html: str | None = None
    error: str | None = None
    headlines: list[str] = field(default_factory=list)
    executive_summary: str = ""


# --------------------------------------------------------------------------------------------
# parameters
def discover_notebooks(notebooks_dir: Path) -> list[Path]:
    """Notebooks named ``NN_name.ipynb`` in run order."""
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))


def declared_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection):
    name -> {inferred_type_name, default, help}."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def _parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ParameterError(f"-p {text!r}: expected KEY=VALUE or NOTEBOOK.KEY=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value) if value.strip() else ""


def _coerce(value: Any, type_name: str) -> Any:
    if isinstance(value, dt.date) and type_name == "str":
        return value.isoformat()  # YAML turns 2024-01-31 into a date; notebooks take strings
    return value


def resolve_parameters(config: dict[str, Any], overrides: list[str],
                       declared: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict]:
    """Merge config blocks and ``-p`` overrides into parameters per notebook, checking them.

    Args:
        config: parsed YAML, notebook stem -> {parameter: value}.
        overrides: ``KEY=VALUE`` or ``NOTEBOOK.KEY=VALUE`` strings (VALUE parsed as YAML).
        declared: notebook stem -> its declared parameters (``declared_parameters``).

    Returns:
        Notebook stem -> {parameter: value}, only declared parameters, for every notebook.

    Raises:
        ParameterError: listing every unknown notebook, undeclared parameter and type mismatch.
    """
    problems: list[str] = []
    resolved: dict[str, dict[str, Any]] = {name: {} for name in declared}
    for block, values in (config or {}).items():
        if block not in declared:
            problems.append(f"config block '{block}': no notebook of that name "
                            f"(notebooks: {', '.join(declared)})")
            continue
        if not isinstance(values, dict):
            problems.append(f"config block '{block}': expected a mapping of parameters")
            continue
        for key, value in values.items():
            resolved[block][key] = value
    for text in overrides:
        try:
            key, value = _parse_override(text)
        except ParameterError as error:
            problems.append(str(error))
            continue
        if "." in key:
            block, name = key.split(".", 1)
            if block not in declared:
                problems.append(f"-p {key}: no notebook '{block}'")
            else:
                resolved[block][name] = value
            continue
        targets = [nb for nb, params in declared.items() if key in params]
        if not targets:
            problems.append(f"-p {key}: no notebook declares a parameter '{key}'")
        for nb in targets:
            resolved[nb][key] = value
    for nb, values in resolved.items():
        for key, value in list(values.items()):
            spec = declared[nb].get(key)
            if spec is None:
                known = ", ".join(sorted(declared[nb])) or "none"
                problems.append(f"{nb}: unknown parameter '{key}' (declared: {known})")
                continue
            type_name = spec.get("inferred_type_name") or "None"
            value = values[key] = _coerce(value, type_name)
            allowed = _TYPE_OK.get(type_name)
            if allowed and (not isinstance(value, allowed) or (
                    isinstance(value, bool) and bool not in allowed)):
                problems.append(f"{nb}: parameter '{key}' expects {type_name} "
                                f"(default {spec.get('default')}), got {value!r}")
    if problems:
        raise ParameterError("invalid parameters, nothing was run:\n  " + "\n  ".join(problems))
    return resolved


# --------------------------------------------------------------------------------------------
# rendering
def render_html(executed: Path, target: Path, title: str, language: str = "en") -> None:
    """Executed notebook -> self-contained HTML: no code, no prompts, no parameter cells, only
    the markdown of ``language`` (cells tagged ``lang:<other>`` are left out)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=HIDDEN_TAGS, enabled=True), enabled=True)
    notebook = drop_hidden_sections(nbformat.read(executed, as_version=4), language)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    if language == "zh":
        from helpers.i18n import with_embedded_font

        body = with_embedded_font(body.replace('<html lang="en">', '<html lang="zh-Hans">', 1)
                                  .replace("<html>", '<html lang="zh-Hans">', 1))
    # nbconvert links MathJax and require.js from a CDN; reports are read offline and contain
    # no maths or widgets, so drop those script tags.
    body = re.sub(r'<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>', "", body)
    target.write_text(body, encoding="utf-8")


def drop_hidden_sections(notebook: nbformat.NotebookNode,
                         language: str = "en") -> nbformat.NotebookNode:
    """Leave out the cells of sections the notebook declared empty for this data, and the
    markdown written for another report language.

    A ``capabilities.Check`` displayed in the notebook lists section names; cells tagged
    ``section:<name>`` for those names are removed from the report (the notebook file keeps
    them), and so are cells tagged ``lang:<xx>`` for every language but ``language``."""
    from helpers.capabilities import HIDE_MIME
    from helpers.i18n import LANGUAGES

    hidden = {f"section:{name}" for cell in notebook.cells for output in cell.get("outputs", [])
              for name in output.get("data", {}).get(HIDE_MIME, {}).get("hidden_sections", [])}
    hidden |= {f"lang:{other}" for other in LANGUAGES if other != language}
    if hidden:
        notebook.cells = [cell for cell in notebook.cells
                          if not hidden & set(cell.get("metadata", {}).get("tags", []))]
    return notebook


def headlines(executed: Path, tag: str = HEADLINE_TAG) -> list[str]:
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


def _markdown_inline(text: str) -> str:
    escaped = html.escape(text)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)


NOTEBOOK_TITLES: dict[str, tuple[str, str]] = {  # stem -> (English, Chinese) page titles
    "01_cleaning": ("Data cleaning", "数据清洗"),
    "02_history_repair": ("History repair", "历史数据修复"),
    "03_behaviour": ("Behaviour", "购买行为"),
    "04_attitude": ("Attitude", "客户态度"),
    "05_retention": ("Retention", "客户留存"),
    "06_price_sensitivity": ("Price sensitivity", "价格敏感度"),
    "07_regional_regression": ("Regional price regression", "区域价格回归"),
    "08_scorecard": ("Loyalty scorecard", "忠诚度计分卡"),
}
STATUS_ZH = {"ok": "完成", "failed": "失败", "not run": "未运行", "not evaluated": "未评估"}


def run_language(manifest: dict[str, Any]) -> str:
    """The run's report language: the ``report_language`` most of its notebooks were given."""
    from collections import Counter

    given = Counter(nb["parameters"].get("report_language", "en")
                    for nb in manifest["notebooks"])
    return given.most_common(1)[0][0] if given else "en"


def write_index(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """The run's landing page: status, headlines and a link per notebook (self-contained), in
    the run's report language."""
    zh = run_language(manifest) == "zh"

    def tr(en: str, chinese: str) -> str:
        return chinese if zh else en

    def title(name: str) -> str:
        chinese = NOTEBOOK_TITLES.get(name, (name, name))[1]
        return f"{name[:2]} {chinese}" if zh else name

    ok = manifest["status"] == "success"
    rows = []
    for nb in manifest["notebooks"]:
        link = (f'<a href="{html.escape(nb["html"])}">{html.escape(title(nb["name"]))}</a>'
                if nb["html"] else html.escape(title(nb["name"])))
        duration = f'{nb["duration_s"]:.1f} s' if nb["duration_s"] is not None else "–"
        status = STATUS_ZH.get(nb["status"], nb["status"]) if zh else nb["status"]
        rows.append(f'<tr class="{nb["status"].replace(" ", "-")}"><td>{link}</td>'
                    f'<td><span class="badge {nb["status"].replace(" ", "-")}">'
                    f'{html.escape(status)}</span></td><td>{duration}</td></tr>')
    findings = "".join(
        f"<li><strong>{html.escape(title(nb['name']))}</strong>{tr(': ', '：')}"
        f"{_markdown_inline(h)}</li>"
        for nb in manifest["notebooks"] for h in nb["headlines"]) or (
        f"<li>{tr('No findings.', '暂无结论。')}</li>")
    summaries = "".join(nb.get("executive_summary") or "" for nb in manifest["notebooks"])
    summary = ""
    if summaries:
        import mistune

        summary = (f"<h2>{tr('Executive summary', '管理摘要')}</h2>\n<div class='summary'>"
                   f"{mistune.html(summaries)}</div>\n<p class='meta'>"
                   + tr("▲▼ direction since the previous period; † rests partly on estimated "
                        "(repaired) history.", "▲▼ 与上一期相比的变化方向；† 部分基于估算（修复）的"
                        "历史数据。") + "</p>")
    errors = "".join(
        f"<p class='error'><strong>{html.escape(title(nb['name']))} "
        f"{tr('failed', '运行失败')}:</strong> {html.escape(nb['error'] or '')} — "
        f"{tr('see its page for the details.', '详情见该页面。')}</p>"
        for nb in manifest["notebooks"] if nb["status"] == "failed")
    skipped = [nb["name"] for nb in manifest["notebooks"] if nb["status"] == "not evaluated"]
    status_text = (tr("FAILED", "失败") if not ok else
                   tr("all notebooks succeeded", "全部报告已完成") if not skipped else tr(
                       f"succeeded; {len(skipped)} report(s) not evaluated for lack of data",
                       f"已完成；{len(skipped)} 份报告因缺少数据未评估"))
    inputs = manifest["inputs"]
    n_files = sum(not Path(name).name.startswith(".") for files in inputs.values()
                  for name in files)
    commit = html.escape(str(manifest["git"].get("commit") or "unknown"))[:12]
    dirty = tr(" (with uncommitted changes)", "（含未提交的修改）") if manifest["git"].get(
        "dirty") else ""
    verified = (tr("verified", "已核验") if manifest["raw_unchanged"] else
                tr("CHANGED", "已被修改"))
    about = tr(
        f"Inputs: {n_files} raw file(s), unchanged by the run ({verified}). Code version "
        f"{commit}{dirty}. Parameters, input file hashes and package versions are in "
        '<a href="manifest.json">manifest.json</a>.',
        f"输入：{n_files} 个原始文件，运行未改动（{verified}）。代码版本 {commit}{dirty}。"
        '参数、输入文件哈希值和软件包版本见 <a href="manifest.json">manifest.json</a>。')
    started = tr(
        f"Run <strong>{html.escape(manifest['run_id'])}</strong>, started "
        f"{html.escape(manifest['started_at'])}, took {manifest['duration_s']:.0f} s.",
        f"运行 <strong>{html.escape(manifest['run_id'])}</strong>，开始于 "
        f"{html.escape(manifest['started_at'])}，用时 {manifest['duration_s']:.0f} 秒。")
    fonts = ('"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", '
             if zh else "")
    page = f"""<!DOCTYPE html>
<html lang="{tr('en', 'zh-Hans')}"><head><meta charset="utf-8">
<title>{tr('Loyalty workbook – run', '客户忠诚度报告 – 运行')}
{html.escape(manifest['run_id'])}</title>
<style>
body {{ font-family: {fonts}-apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 2rem auto; max-width: 60rem; color: #222; line-height: 1.5; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .8rem; border-bottom: 1px solid #ddd; }}
.badge {{ padding: .1rem .5rem; border-radius: .3rem; font-size: .9em; }}
.badge.ok {{ background: #d4edda; }} .badge.failed {{ background: #f8d7da; }}
.badge.not-run {{ background: #eee; }} .badge.not-evaluated {{ background: #fff3cd; }}
.status-success {{ color: #155724; }} .status-failed {{ color: #721c24; }}
.error {{ background: #f8d7da; padding: .6rem; border-radius: .3rem; }}
.meta {{ color: #666; font-size: .9em; }}
.summary li {{ margin-bottom: .4rem; }}
</style></head>
<body>
<h1>{tr('Customer loyalty workbook', '客户忠诚度分析报告')}</h1>
<p class="meta">{started}
{tr('Status', '状态')}: <strong class="status-{manifest['status']}">{status_text}</strong>.</p>
{errors}
{summary}
<h2>{tr('Key findings', '主要发现')}</h2>
<ul>{findings}</ul>
<h2>{tr('Reports', '报告')}</h2>
<table><thead><tr><th>{tr('Notebook', '报告')}</th><th>{tr('Status', '状态')}</th>
<th>{tr('Duration', '用时')}</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<h2>{tr('About this run', '关于本次运行')}</h2>
<p class="meta">{about}</p>
</body></html>
"""
    if zh:
        from helpers.i18n import with_embedded_font

        page = with_embedded_font(page)
    path = run_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# run metadata
def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=io.PACKAGE_ROOT, capture_output=True,
                                  text=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _raw_dirs(parameters: dict[str, dict[str, Any]]) -> list[str]:
    return sorted({str(v) for params in parameters.values() for k, v in params.items()
                   if k.endswith("raw_dir")})


def _new_run_id(reports_dir: Path) -> str:
    base = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id, k = base, 1
    while (reports_dir / run_id).exists():
        k += 1
        run_id = f"{base}-{k}"
    return run_id


def _point_latest(reports_dir: Path, run_id: str) -> None:
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


# --------------------------------------------------------------------------------------------
def run_chain(*, config_path: Path | None, overrides: list[str], notebooks_dir: Path,
              reports_dir: Path, run_id: str | None = None, only: list[str] | None = None,
              kernel_name: str | None = None, log=print) -> tuple[int, Path]:
    """Run the chain; returns (exit code, run folder). See the module docstring."""
    started = time.monotonic()
    notebooks = discover_notebooks(notebooks_dir)
    if only:
        unknown = sorted(set(only) - {p.stem for p in notebooks})
        if unknown:
            raise ParameterError(f"--only: no notebook(s) {unknown} in {notebooks_dir}")
        notebooks = [p for p in notebooks if p.stem in only]
    if not notebooks:
        raise ParameterError(f"no notebooks named NN_name.ipynb in {notebooks_dir}")
    config = {}
    if config_path is not None:
        try:
            config = yaml.safe_load(config_path.read_text()) or {}
        except FileNotFoundError:
            raise ParameterError(f"config file {config_path} not found") from None
        if only:
            config = {k: v for k, v in config.items() if k in only}
    declared = {p.stem: declared_parameters(p) for p in notebooks}
    parameters = resolve_parameters(config, overrides, declared)

    raw_dirs = _raw_dirs(parameters)
    missing = [d for d in raw_dirs if not io.resolve(d).is_dir()]
    if missing:
        raise ParameterError(
            f"raw data folder(s) {[str(io.resolve(d)) for d in missing]} do not exist: "
            "`make report` generates the built-in sample into data/raw; for other data point "
            "raw_dir at its folder (in the config or with -p 01_cleaning.raw_dir=/path)")
    inputs_before = {d: io.file_hashes(d) for d in raw_dirs}

    reports_dir.mkdir(parents=True, exist_ok=True)
    run_id = run_id or _new_run_id(reports_dir)
    run_dir = reports_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    started_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    log(f"run {run_id}: {len(notebooks)} notebook(s) -> {run_dir}")

    import papermill
    from traitlets.config import Config

    # ipykernel >= 7.3 warns on every start when kernel traffic is unencrypted TCP; let
    # jupyter_client provision CurveZMQ keys instead (kernel and runner are on one machine).
    kernel_config = Config()
    kernel_config.KernelManager.transport_encryption = "auto"
    results = [NotebookResult(name=p.stem, parameters=parameters[p.stem]) for p in notebooks]
    raw_unchanged = True
    failed = False
    for k, (path, result) in enumerate(zip(notebooks, results, strict=True), start=1):
        if failed:
            continue
        log(f"[{k}/{len(notebooks)}] {path.stem} ...", end=" ")
        executed = run_dir / path.name
        t0 = time.monotonic()
        reason = _not_evaluated_reason(path.stem, result.parameters)
        if reason:
            result.status, result.duration_s = "not evaluated", 0.0
            result.html = _write_not_evaluated(
                run_dir / f"{path.stem}.html", path.stem, reason,
                result.parameters.get("report_language", "en"))
            zh = result.parameters.get("report_language", "en") == "zh"
            result.headlines = [f"未评估：{reason}。" if zh else f"Not evaluated: {reason}."]
            log(f"not evaluated: {reason}")
            continue
        try:
            papermill.execute_notebook(
                str(path), str(executed), parameters=result.parameters, progress_bar=False,
                kernel_name=kernel_name, cwd=str(io.project_dir()), config=kernel_config)
            result.status = "ok"
        except Exception as error:
            result.status, failed = "failed", True
            result.error = _short_error(error)
        result.duration_s = round(time.monotonic() - t0, 2)
        after = {d: io.file_hashes(d) for d in raw_dirs}
        if after != inputs_before:
            raw_unchanged, failed = False, True
            result.status = "failed"
            result.error = (result.error or "") + " raw input files were modified during the run"
        result.ipynb = executed.name if executed.exists() else None
        if executed.exists():
            target = run_dir / f"{path.stem}.html"
            render_html(executed, target, title=path.stem,
                        language=result.parameters.get("report_language", "en"))
            result.html = target.name
            result.headlines = headlines(executed)
            result.executive_summary = "\n".join(headlines(executed, SUMMARY_TAG))
        log(f"{result.status} ({result.duration_s:.1f} s)" + (
            f"\n    error: {result.error}" if result.error else ""))

    status = "failed" if failed else "success"
    manifest = {
        "run_id": run_id,
        "status": status,
        "started_at": started_at,
        "duration_s": round(time.monotonic() - started, 2),
        "config_file": str(config_path) if config_path else None,
        "overrides": overrides,
        "parameters": {r.name: r.parameters for r in results},
        "inputs": inputs_before,
        "raw_unchanged": raw_unchanged,
        "project_dir": str(io.project_dir()),
        "packages": _package_versions(),
        "git": _git_state(),
        "notebooks": [asdict(r) for r in results],
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    index = write_index(run_dir, manifest)
    if not failed:
        _point_latest(reports_dir, run_id)
    log(f"{'done' if not failed else 'FAILED'} in {manifest['duration_s']:.0f} s: {index}")
    return (0 if not failed else 1), run_dir


def _not_evaluated_reason(notebook: str, parameters: dict[str, Any]) -> str:
    """Why the run's data cannot support ``notebook`` ('' when it can), from its clean_dir."""
    from helpers import capabilities

    clean_dir = parameters.get("clean_dir")
    if notebook.startswith("01_") or not clean_dir or not io.resolve(clean_dir).is_dir():
        return ""
    from helpers import i18n

    with i18n.speaking(parameters.get("report_language", "en")):  # the page's language
        check = capabilities.check(notebook, clean_dir)
    return "" if check.runnable else check.reason


def _write_not_evaluated(target: Path, name: str, reason: str, language: str = "en") -> str:
    """A small self-contained page saying why a notebook was not run on this data (the reason
    itself is in English: it names the missing tables)."""
    en, chinese = NOTEBOOK_TITLES.get(name, (name.split("_", 1)[-1].replace("_", " "), name))
    if language == "zh":
        heading, body = f"{chinese}：未评估", (
            f"本次运行的数据不足以支持这项分析（{html.escape(reason)}）。</p>\n<p>本页没有任何"
            "估算或填补的数字。补充所缺数据（见 README 的 “Use your own data” 一节）后重新运行"
            "即可得到这份报告。")
        back = "返回运行概览"
    else:
        heading, body = f"{en}: not evaluated", (
            f"This run's data cannot support this analysis: {html.escape(reason)}.</p>\n"
            "<p>Nothing on this page is estimated or filled in. Deliver the missing data (see "
            'the README section "Use your own data") and run the report again to get it.')
        back = "Back to the run overview"
    page = f"""<!DOCTYPE html>
<html lang="{'zh-Hans' if language == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{html.escape(name)}</title>
<style>body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
margin: 2rem auto; max-width: 50rem; padding: 0 1rem; line-height: 1.5; color: #222; }}
.note {{ background: #fff3cd; padding: .8rem; border-radius: .3rem; }}</style></head>
<body><h1>{html.escape(heading)}</h1>
<p class="note">{body}</p>
<p><a href="index.html">{back}</a></p>
</body></html>
"""
    if language == "zh":
        from helpers.i18n import with_embedded_font

        page = with_embedded_font(page)
    target.write_text(page, encoding="utf-8")
    return target.name


def _short_error(error: BaseException) -> str:
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    text = f"{ename}: {evalue}".strip()
    return text if len(text) < 500 else text[:497] + "..."


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (``python -m helpers.run`` / ``loyalty-run``)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.run",
                                     description="Run the notebook chain and publish reports.")
    parser.add_argument("--config", default=str(io.PACKAGE_ROOT / "configs" / "default.yaml"),
                        help="YAML file: one block of parameters per notebook")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override a parameter (KEY or NOTEBOOK.KEY); repeatable")
    parser.add_argument("--run-id", help="name of the report folder (default: a timestamp)")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                        help="run only these notebooks (e.g. 01_cleaning)")
    parser.add_argument("--notebooks-dir", default=str(io.PACKAGE_ROOT / "notebooks"))
    parser.add_argument("--reports-dir", default=str(io.resolve("reports")),
                        help="parent folder of the run folders (default: <project>/reports)")
    parser.add_argument("--kernel", default=None,
                        help="Jupyter kernel (default: each notebook's own kernelspec)")
    args = parser.parse_args(argv)

    def log(message: str, end: str = "\n") -> None:
        print(message, end=end, flush=True)

    try:
        code, _ = run_chain(
            config_path=Path(args.config).resolve() if args.config else None,
            overrides=args.param, notebooks_dir=Path(args.notebooks_dir).resolve(),
            reports_dir=Path(args.reports_dir).resolve(),
            run_id=args.run_id, only=args.only, kernel_name=args.kernel, log=log)
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
