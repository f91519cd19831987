"""What an unattended run does besides running the chain: stopping cleanly on a signal, its
one-line outcome, the alerts file and notification, and pruning old runs.

The runner's settings come from the configuration's ``runner`` block (``configs.runner_settings``):
``keep_runs`` (how many run folders to keep; the one ``reports/latest`` points at is always kept)
and ``notify`` (a command called when the latest month has alerts).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import io

KEY_PACKAGES = ["pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "papermill",
                "nbconvert", "pandera", "pyarrow", "ipykernel", "loyalty-workbook"]
ALERTS_FILE = "alerts.json"
ALERTS_PAGE = "08_scorecard.html"
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}(-\d+)?$")  # the runner's default run ids


def outcome_line(manifest: dict[str, Any], run_dir: Path) -> str:
    """The one line a scheduler's log needs: success and the index, or what failed and the page
    showing the error."""
    seconds = manifest["duration_s"]
    if manifest["status"] == "success":
        note = f" but {manifest['status_note']}" if manifest.get("status_note") else ""
        return (f"run {manifest['run_id']} succeeded in {seconds:.0f} s{note}: "
                f"{run_dir / 'index.html'}")
    failed = [nb for nb in manifest["notebooks"] if nb["status"] == "failed"]
    if not failed:
        return f"run {manifest['run_id']} FAILED after {seconds:.0f} s: {run_dir / 'index.html'}"
    first = failed[0]
    page = run_dir / (first["html"] or "index.html")
    error = (first["error"] or "").splitlines()[0] if first["error"] else "no message"
    return (f"run {manifest['run_id']} FAILED in {first['name']} after {seconds:.0f} s "
            f"({error}); the page showing the error: {page}")


# --------------------------------------------------------------------------------------------
class Interrupted(Exception):  # noqa: N818 (the run was stopped, not an error of its own)
    """The runner received SIGTERM or SIGINT between notebooks."""


def _on_signal(signum: int, _frame: object) -> None:
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


def watch_signals() -> None:
    """Turn SIGTERM and SIGINT into ``Interrupted`` (papermill's kernel client installs its own
    handlers while a notebook runs, which shut the kernel down, and removes them after)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)


@contextlib.contextmanager
def signals_held():
    """SIGTERM and SIGINT wait while the clean tables are being published."""
    held = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


# --------------------------------------------------------------------------------------------
# run metadata
def git_state() -> dict[str, Any]:
    """The code version a run used: the git commit and whether the work tree had changes."""
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


def package_versions() -> dict[str, str]:
    """Python's and the key packages' versions (for the manifest)."""
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# --------------------------------------------------------------------------------------------
def current_alerts(alerts: pd.DataFrame, last_month: pd.Timestamp | None) -> pd.DataFrame:
    """The alerts of the data's last month (those a person should hear about now)."""
    if last_month is None or alerts.empty:
        return alerts.iloc[0:0]
    return alerts[pd.to_datetime(alerts["month"]) == pd.Timestamp(last_month)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    for column in ("month", "since"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m")
    return json.loads(out.to_json(orient="records", double_precision=6))


def write_alerts(run_dir: Path, run_id: str, alerts: pd.DataFrame,
                 last_month: pd.Timestamp | None) -> Path:
    """``<run_dir>/alerts.json``: the run, the data's last month, that month's alerts
    (``current``) and every earlier one (``earlier``), each with the page that charts it."""
    now = current_alerts(alerts, last_month)
    earlier = alerts.drop(index=now.index)
    content = {"run_id": run_id,
               "last_month": None if last_month is None else
               pd.Timestamp(last_month).strftime("%Y-%m"),
               "page": ALERTS_PAGE, "current": _records(now), "earlier": _records(earlier)}
    path = run_dir / ALERTS_FILE
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def deliver_alerts(manifest: dict[str, Any], run_dir: Path, clean_dir: str | Path,
                   command: str | list[str] | None, log: Callable[[str], None]) -> int:
    """After a successful run whose 08 ran (``clean_dir`` holds its tables): write
    ``alerts.json`` from the alerts and call ``command`` (the configuration's
    ``runner.notify``) when the data's last month has alerts; the manifest records both.
    Returns the exit code: 1 when the notification failed (the run itself is published),
    else 0."""
    alerts = io.read_clean("alerts", clean_dir, optional=True)
    if alerts is None:
        return 0
    monthly = io.read_clean("monthly_sales", clean_dir, optional=True)
    last_month = (pd.to_datetime(monthly["month"]).max()
                  if monthly is not None and len(monthly) else None)
    path = write_alerts(run_dir, manifest["run_id"], alerts, last_month)
    current = len(current_alerts(alerts, last_month))
    manifest["alerts"] = {"file": path.name, "current": current, "all": len(alerts)}
    if current and command:
        succeeded, what = notify(command, path, run_dir)
        manifest["alerts"]["notification"] = what
        log(what)
        if not succeeded:
            manifest["status_note"] = what
            return 1
    return 0


def notify(command: str | list[str], alerts_file: Path, run_dir: Path,
           timeout_s: float = 120) -> tuple[bool, str]:
    """Call the configured notification ``command`` (a string split like a shell line, or a
    list; ``{alerts}`` and ``{run_dir}`` in it are replaced by the paths, which are also in
    the environment as LOYALTY_ALERTS and LOYALTY_RUN_DIR). Returns (succeeded, what
    happened in one line)."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    argv = [a.replace("{alerts}", str(alerts_file)).replace("{run_dir}", str(run_dir))
            for a in argv]
    env = {**os.environ, "LOYALTY_ALERTS": str(alerts_file), "LOYALTY_RUN_DIR": str(run_dir)}
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"notification command {argv[0]!r} could not run: {error}"
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return False, (f"notification command {argv[0]!r} failed with exit code "
                       f"{done.returncode}" + (f": {detail[-1]}" if detail else ""))
    return True, f"notification command {argv[0]!r} called"


# --------------------------------------------------------------------------------------------
def run_folders(reports_dir: Path) -> list[Path]:
    """The run folders of ``reports_dir``, oldest first: those with a manifest, and those of
    runs killed before writing one (named like a run id)."""
    def started(folder: Path) -> tuple[str, str]:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            when = str(manifest["started_at"])
        except (OSError, ValueError, KeyError):  # killed early: its id says when it started
            when = (dt.datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S").astimezone()
                    .isoformat(timespec="seconds") if RUN_ID_PATTERN.match(folder.name)
                    else "")
        return when, folder.name

    folders = [p for p in reports_dir.iterdir() if p.is_dir() and not p.is_symlink() and (
        (p / "manifest.json").exists() or RUN_ID_PATTERN.match(p.name))]
    return sorted(folders, key=started)


def prune_runs(reports_dir: Path, keep: int, protect: tuple[Path, ...] = ()) -> list[Path]:
    """Delete all but the newest ``keep`` run folders, never the one ``latest`` points at nor
    those in ``protect``; returns the deleted folders."""
    latest = reports_dir / "latest"
    kept = {p.resolve() for p in protect}
    if latest.is_symlink() or latest.exists():
        kept.add(latest.resolve())
    folders = run_folders(reports_dir)
    candidates = folders[:max(len(folders) - keep, 0)]
    deleted = [p for p in candidates if p.resolve() not in kept]
    for folder in deleted:
        shutil.rmtree(folder, ignore_errors=True)
    return deleted


@contextlib.contextmanager
def kernel_stderr_to(path: Path):
    """Send what the processes started inside the block write to stderr (the Jupyter kernels:
    'KeyboardInterrupt caught in kernel' at shutdown, ZMQ notices) to ``path`` instead of the
    terminal: a scheduled run prints its closing line only, and nothing a kernel said is lost.
    The runner's own messages go to the terminal before and after the block."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


# ----------------------------------------------------------------------------------------------
# run folders and kernels
def new_run_id(reports_dir: Path) -> str:
    """A run id from the time (YYYYMMDD-HHMMSS), with -2, -3 ... when that folder exists."""
    base = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id, k = base, 1
    while (reports_dir / run_id).exists():
        k += 1
        run_id = f"{base}-{k}"
    return run_id


def point_latest(reports_dir: Path, run_id: str) -> None:
    """Point ``reports_dir/latest`` at the run folder ``run_id`` (replaced atomically)."""
    link = reports_dir / "latest"
    tmp = reports_dir / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


PROGRESS_DIR = "progress"  # in a run folder: each kernel's progress (``helpers.progress``)


def progress_env(run_dir: Path, name: str) -> dict[str, str]:
    """The environment that sends notebook ``name``'s progress to its file in ``run_dir``."""
    from helpers.progress import ENV

    return {ENV: str(run_dir / PROGRESS_DIR / f"{name}.jsonl")}


PROGRESS_POLL_S = 2.0  # how often the runner looks at the kernels' progress
PROGRESS_EVERY_S = 10.0  # a step is told about once it has run this long, this often


class ProgressWatcher:
    """Follows the progress files of a run's kernels (``helpers.progress``, one per notebook in
    ``folder``) and logs how far a long step has got: at most one line per notebook every
    ``every_s`` seconds, and a step that took that long when it ends."""

    def __init__(self, folder: Path, log: Callable[[str], None], poll_s: float | None = None,
                 every_s: float | None = None) -> None:
        self.folder, self.log = folder, log
        self.poll_s = PROGRESS_POLL_S if poll_s is None else poll_s
        self.every_s = PROGRESS_EVERY_S if every_s is None else every_s
        self.offsets: dict[Path, int] = {}
        self.printed: dict[str, float] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def __enter__(self) -> ProgressWatcher:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()
        self.poll()  # what came in since the last look

    def _loop(self) -> None:
        while not self.stopped.wait(self.poll_s):
            self.poll()

    def poll(self, now: float | None = None) -> None:
        """Log what the progress files gained since the last look."""
        import time

        from helpers.progress import describe, read_events

        now = time.monotonic() if now is None else now
        for path in sorted(self.folder.glob("*.jsonl")):
            events, self.offsets[path] = read_events(path, self.offsets.get(path, 0))
            name = path.stem
            for event in events:
                long = event["elapsed_s"] >= self.every_s
                due = now - self.printed.get(name, float("-inf")) >= self.every_s
                if long and (event["finished"] or (due and event is events[-1])):
                    self.log(f"    {name}: {describe(event)}")
                    self.printed[name] = now
