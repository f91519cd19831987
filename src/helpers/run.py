"""The report runner: execute the notebook chain with papermill and publish HTML reports.

``python -m helpers.run --config configs/default.yaml [-p KEY=VALUE ...]``

* Notebooks ``notebooks/NN_name.ipynb`` run in number order. Each receives only the parameters its
  ``parameters`` cell declares: from the YAML config (its ``common`` block, then its own block
  ``NN_name: {key: value}``; a config may ``extends:`` another, see ``helpers.configs``) and
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

from helpers import capabilities, i18n, io, pages
from helpers.configs import COMMON, ParameterError, load_config, resolve_parameters

NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
HEADLINE_TAG = "headline"
SUMMARY_TAG = "executive-summary"
KEY_PACKAGES = ["pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "papermill",
                "nbconvert", "pandera", "pyarrow", "ipykernel", "loyalty-workbook"]


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


# --------------------------------------------------------------------------------------------
# reading results
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
    config = load_config(config_path) if config_path is not None else {}
    if only:
        config = {k: v for k, v in config.items() if k in only or k == COMMON}
    declared = {p.stem: declared_parameters(p) for p in notebooks}
    parameters = resolve_parameters(config, overrides, declared, strict_common=not only)

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
        verdict = _verdict(path.stem, result.parameters)
        reason = "" if verdict.runnable else verdict.reason
        if reason:
            result.status, result.duration_s = "not evaluated", 0.0
            language = result.parameters.get("report_language", "en")
            result.html = pages.write_not_evaluated(run_dir / f"{path.stem}.html", path.stem,
                                                    reason, language)
            result.headlines = [pages.not_evaluated_headline(reason, language)]
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
            pages.render_html(executed, target, title=path.stem,
                              language=result.parameters.get("report_language", "en"),
                              hidden_sections=verdict.hidden_sections)
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
    index = pages.write_index(run_dir, manifest)
    if not failed:
        _point_latest(reports_dir, run_id)
    log(f"{'done' if not failed else 'FAILED'} in {manifest['duration_s']:.0f} s: {index}")
    return (0 if not failed else 1), run_dir


def _verdict(notebook: str, parameters: dict[str, Any]) -> capabilities.Check:
    """What the run's data can support of ``notebook`` (``capabilities.REQUIREMENTS``), from its
    clean_dir and parameters, worded in its report language; everything for 01 (it reads the
    raw data) and for a notebook without a clean folder yet."""
    clean_dir = parameters.get("clean_dir")
    if notebook.startswith("01_") or not clean_dir or not io.resolve(clean_dir).is_dir():
        return capabilities.Check(notebook)
    with i18n.speaking(parameters.get("report_language", "en")):  # the page's language
        return capabilities.check(notebook, clean_dir, parameters)


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
