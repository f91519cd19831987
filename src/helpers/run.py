"""The report runner: execute the notebook chain with papermill and publish HTML reports.

``python -m helpers.run --config configs/default.yaml [-p KEY=VALUE ...]``

* Notebooks ``notebooks/NN_name.ipynb`` run once the notebooks whose tables they read have
  finished, ``runner.parallel`` at a time (``helpers.schedule``). Each receives only the
  parameters its ``parameters`` cell declares: from the YAML config (its ``common`` block,
  then its own block ``NN_name: {key: value}``; a config may ``extends:`` another, see
  ``helpers.configs``) and from ``-p`` overrides (``-p key=value`` sets it in every notebook
  declaring ``key``; ``-p NN_name.key=value`` in one). Unknown notebooks, undeclared keys and
  values of the wrong type are reported together before anything runs.
* Output: ``reports/<run_id>/`` with the executed notebooks, one HTML per notebook (code and
  parameter cells hidden, images embedded), ``index.html`` and ``manifest.json``.
* A failing notebook is still rendered (its HTML shows the error), no notebook starts after it
  (those running beside it finish), and the exit code is 1. ``reports/latest`` points at the
  last successful run.
* Raw inputs (every ``*raw_dir`` parameter) are hashed before and after each notebook; a change
  fails the run.
* The notebooks write into a staging folder; the clean folder gets the run's tables all at once
  when every notebook succeeded, and keeps the last good run's otherwise (``publishing``). One
  run at a time per clean folder: a second one waits (``--wait``) or stops naming the first.
* SIGTERM or SIGINT (a scheduler stopping the run, Ctrl-C) fails the run cleanly: the kernel is
  shut down, nothing is published, the pages so far and the manifest are written.
* The run ends with one line: success and its page, or what failed and the page showing the
  error (``--quiet`` prints only that line). A successful run that monitored writes
  ``alerts.json`` and calls the configuration's ``runner.notify`` command when the data's last
  month has alerts; ``runner.keep_runs`` prunes old run folders (``operations``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from helpers import (
    capabilities,
    i18n,
    io,
    kernels,
    operations,
    pages,
    publishing,
    schedule,
    tiles,
)
from helpers.configs import (
    COMMON,
    ParameterError,
    load_config,
    resolve_parameters,
    runner_settings,
)
from helpers.schedule import declared_parameters, discover_notebooks

HEADLINE_TAG = "headline"
KERNEL_LOG = "kernels.log"  # what the kernels wrote to stderr (``operations.kernel_stderr_to``)
SUMMARY_TAG = "executive-summary"

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
    started_s: float | None = None  # when it started, seconds after the first notebook
    warm_kernel: bool = False  # its kernel was started (and imported) ahead of its turn


# --------------------------------------------------------------------------------------------
# reading results
def _raw_dirs(parameters: dict[str, dict[str, Any]]) -> list[str]:
    return sorted({str(v) for params in parameters.values() for k, v in params.items()
                   if k.endswith("raw_dir")})


# --------------------------------------------------------------------------------------------
def run_chain(*, config_path: Path | None, overrides: list[str], notebooks_dir: Path,
              reports_dir: Path, run_id: str | None = None, only: list[str] | None = None,
              kernel_name: str | None = None, wait_s: float = 0.0, pdf: bool = False,
              log=print, report=None) -> tuple[int, Path]:
    """Run the chain; returns (exit code, run folder). See the module docstring.

    ``log`` gets the progress, ``report`` (default ``log``) the one closing line
    (``operations.outcome_line``). Raises ``publishing.LockedError`` when another run holds
    a clean folder longer than ``wait_s`` seconds.
    """
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
    settings = runner_settings(config)
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
    run_id = run_id or operations.new_run_id(reports_dir)
    if (reports_dir / run_id).exists():
        raise ParameterError(f"--run-id {run_id}: {reports_dir / run_id} exists already")
    clean_dirs = publishing.clean_dirs(parameters)
    with contextlib.ExitStack() as held:
        for clean_dir in clean_dirs:
            held.enter_context(publishing.RunLock(clean_dir, run_id, wait_s=wait_s, log=log))
        operations.watch_signals()
        recovered = [note for clean_dir in clean_dirs
                     for note in publishing.recover(clean_dir, log)]
        staging = {d: publishing.stage(d, run_id) for d in clean_dirs}
        try:
            manifest, run_dir = _run_notebooks(
                notebooks, parameters, staging, run_id=run_id, reports_dir=reports_dir,
                kernel_name=kernel_name, raw_dirs=raw_dirs, inputs_before=inputs_before,
                log=log, parallel=settings["parallel"])
            manifest.update({"config_file": str(config_path) if config_path else None,
                             "overrides": overrides, "recovered": recovered,
                             "duration_s": round(time.monotonic() - started, 2)})
            code = 0 if manifest["status"] == "success" else 1
            scorecard = _scorecard_ran(manifest, parameters, staging)  # its staged tables
            if code == 0 and scorecard:
                code = operations.deliver_alerts(manifest, run_dir, scorecard["clean_dir"],
                                                 settings["notify"], log)
            index = pages.write_index(run_dir, manifest, tiles.read_dashboard(
                scorecard["clean_dir"], confidence=scorecard.get("confidence", 0.95))
                if scorecard else None)
            if pdf and code == 0:
                try:
                    manifest["pdf"] = pages.write_pdf(index).name
                    log(f"wrote {run_dir / manifest['pdf']}")
                except RuntimeError as error:
                    manifest["status_note"], code = str(error), 1
            manifest["duration_s"] = round(time.monotonic() - started, 2)
            (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str)
                                                   + "\n")
            if manifest["status"] == "success":  # the tables and `latest` switch together
                with operations.signals_held():
                    for clean_dir, folder in staging.items():
                        publishing.publish(clean_dir, folder, run_id)
                    operations.point_latest(reports_dir, run_id)
        finally:
            for folder in staging.values():  # a journal is completed by the next run
                if not (folder / publishing.JOURNAL_FILE).exists():
                    publishing.discard(folder)
    if settings["keep_runs"]:
        pruned = operations.prune_runs(reports_dir, settings["keep_runs"], protect=(run_dir,))
        if pruned:
            log(f"deleted {len(pruned)} old run folder(s) (keep_runs: {settings['keep_runs']})")
    (report or log)(operations.outcome_line(manifest, run_dir))
    return code, run_dir


def _run_notebooks(notebooks: list[Path], parameters: dict[str, dict[str, Any]],
                   staging: dict[Path, Path], *, run_id: str, reports_dir: Path,
                   kernel_name: str | None, raw_dirs: list[str],
                   inputs_before: dict[str, dict[str, str]], log,
                   parallel: int = 1) -> tuple[dict, Path]:
    """Execute and render the notebooks, each once the notebooks whose tables it reads have
    finished, ``parallel`` at a time (``schedule.run_graph``), until one fails; returns the
    manifest (its configuration entries are added by the caller) and the run folder."""
    run_dir = reports_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    started_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    log(f"run {run_id}: {len(notebooks)} notebook(s) -> {run_dir}")
    raw_states = {d: io.file_states(d) for d in raw_dirs}  # rehashed only if these change

    import papermill

    kernel_config = kernels.kernel_config()
    results = {p.stem: NotebookResult(name=p.stem, parameters=parameters[p.stem])
               for p in notebooks}
    position = {p.stem: k for k, p in enumerate(notebooks, start=1)}
    paths = {p.stem: p for p in notebooks}
    needs = schedule.notebook_needs(notebooks)
    alone, machine = schedule.runs_alone(needs), {}  # machine: every core's threads
    kernel_env = lambda name: {**operations.progress_env(run_dir, name),  # noqa: E731
                                 **(machine if name in alone else {})}
    warm = kernels.WarmKernels(kernel_name, kernel_config, str(io.project_dir()), parallel)
    raw_changed: list[str] = []
    pages_lock = threading.Lock()  # page language and rendering: one notebook at a time
    run_started = time.monotonic()

    def run_one(name: str, release) -> bool:
        """Check, execute and render one notebook (a worker thread); False when it failed.
        ``release()``: its tables are written, the notebooks that read them may start."""
        path, result = paths[name], results[name]
        executed = run_dir / path.name
        language = result.parameters.get("report_language", "en")
        label = f"[{position[name]}/{len(notebooks)}] {name}"
        t0 = time.monotonic()
        result.started_s = round(t0 - run_started, 2)
        log(f"{label} started")
        given = publishing.staged_parameters(result.parameters, staging)
        with pages_lock:
            verdict = _verdict(name, given)
            if not verdict.runnable:
                result.status, result.duration_s = "not evaluated", 0.0
                result.html = pages.write_not_evaluated(run_dir / f"{name}.html", name,
                                                        verdict.reason, language)
                result.headlines = [pages.not_evaluated_headline(verdict.reason, language)]
                log(f"{label} ... not evaluated: {verdict.reason}")
                warm.shutdown(warm.take(name))
                release()
                return True
        manager = warm.take(name)  # its kernel, started and imported while others ran
        result.warm_kernel = manager is not None
        try:
            try:
                manager = manager or warm.launch(path, kernel_env(name))
                papermill.execute_notebook(
                    str(path), str(executed), parameters=given, progress_bar=False,
                    kernel_name=kernel_name, cwd=str(io.project_dir()), config=kernel_config,
                    km=manager)
                result.status = "ok"
            except Exception as error:
                result.status, result.error = "failed", _short_error(error)
            result.duration_s = round(time.monotonic() - t0, 2)
            if not all(io.unchanged(d, raw_states[d], inputs_before[d]) for d in raw_dirs):
                raw_changed.append(name)
                result.status = "failed"
                result.error = ((result.error or "")
                                + " raw input files were modified during the run")
            if result.status == "ok":
                release()  # the kernel stops and the page renders while the next ones compute
        finally:
            warm.shutdown(manager)
        if executed.exists():
            target = run_dir / f"{name}.html"
            with pages_lock:
                pages.render_html(executed, target, title=name, language=language,
                                  hidden_sections=verdict.hidden_sections)
            result.ipynb, result.html = executed.name, target.name
            result.headlines = pages.headlines(executed, HEADLINE_TAG)
            result.executive_summary = "\n".join(pages.headlines(executed, SUMMARY_TAG))
        log(f"{label} ... {result.status} ({result.duration_s:.1f} s)" + (
            f"\n    error: {result.error}" if result.error else ""))
        return result.status == "ok"

    failed = False
    try:
        with operations.kernel_stderr_to(run_dir / KERNEL_LOG), \
                schedule.kernel_threads(parallel) as shared, \
                operations.ProgressWatcher(run_dir / operations.PROGRESS_DIR, log):
            machine.update(schedule.whole_machine(shared))
            try:
                schedule.run_graph(list(paths), needs, run_one,
                                   parallel, prepare=lambda name: warm.start(
                                       name, paths[name], kernel_env(name)),
                                   release_early=True)
            finally:
                warm.close()
    except operations.Interrupted as stop:
        failed = True
        for name in getattr(stop, "running", []):
            result = results[name]
            result.status = "failed"
            result.error = f"{stop}; nothing of this run was published"
            log(f"[{position[name]}/{len(notebooks)}] {name} ... failed: {result.error}")
            if (run_dir / paths[name].name).exists() and not result.html:
                result.ipynb = paths[name].name
    finally:
        operations.watch_signals()
    failed = failed or any(r.status == "failed" for r in results.values())
    raw_unchanged = not raw_changed
    results = list(results.values())

    manifest = {
        "run_id": run_id,
        "status": "failed" if failed else "success",
        "started_at": started_at,
        "parameters": {r.name: r.parameters for r in results},
        "inputs": inputs_before,
        "raw_unchanged": raw_unchanged,
        "project_dir": str(io.project_dir()),
        "clean_dirs": [str(d) for d in staging],
        "packages": operations.package_versions(),
        "git": operations.git_state(),
        "notebooks": [asdict(r) for r in results],
    }
    return manifest, run_dir


def _scorecard_ran(manifest: dict[str, Any], parameters: dict[str, dict[str, Any]],
                   staging: dict[Path, Path]) -> dict[str, Any] | None:
    """The parameters of the run's scorecard notebook (08) with its staged clean folder, when
    it ran and succeeded (its tables hold the dashboard and the alerts); None otherwise."""
    done = [nb["name"] for nb in manifest["notebooks"] if nb["name"].startswith("08_")
            and nb["status"] == "ok"]
    given = parameters.get(done[0], {}) if done else {}
    return publishing.staged_parameters(given, staging) if given.get("clean_dir") else None


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
    text = (f"{getattr(error, 'ename', type(error).__name__)}: "
            f"{getattr(error, 'evalue', str(error))}").strip()
    return text if len(text) < 500 else text[:497] + "..."


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (``python -m helpers.run`` / ``loyalty-run``).

    Exit codes: 0 success, 1 a notebook (or the notification) failed, 2 invalid parameters,
    3 another run holds the clean folder."""
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
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for another run on the same clean folder to "
                             "finish (default: stop at once, naming it)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print index.html to index.pdf (A4, headless Chromium)")
    parser.add_argument("--quiet", action="store_true",
                        help="for cron: print only the closing line (success and the run's "
                             "page, or what failed and the page showing the error)")
    args = parser.parse_args(argv)

    printing = threading.Lock()  # notebooks side by side log from their threads

    def log(message: str, end: str = "\n") -> None:
        if not args.quiet:
            with printing:
                print(message + end, end="", flush=True)  # one write: lines never interleave

    closing: list[str] = []
    try:
        code, _ = run_chain(
            config_path=Path(args.config).resolve() if args.config else None,
            overrides=args.param, notebooks_dir=Path(args.notebooks_dir).resolve(),
            reports_dir=Path(args.reports_dir).resolve(), run_id=args.run_id, only=args.only,
            kernel_name=args.kernel, wait_s=args.wait, pdf=args.pdf, log=log,
            report=closing.append)
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except publishing.LockedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except operations.Interrupted as stop:
        print(f"error: {stop} outside a notebook; the run stopped there (the clean tables are "
              "published only after every notebook succeeded)", file=sys.stderr)
        return 1
    print(*closing, file=sys.stdout if code == 0 else sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
