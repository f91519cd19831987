"""A run's clean tables published all at once, and one run at a time per clean folder.

The runner never lets a notebook write into the clean folder analysts read. For each run:

1. ``RunLock``: ``<clean_dir>/.run.lock`` holds the running run's id, pid, host and start
   time. A second run on the same folder waits (``wait_s``) or stops with a ``LockedError``
   naming the holder; a lock left by a process that no longer exists is taken over, and the
   runner says so.
2. ``recover``: what an earlier run killed at the wrong moment left behind is settled first:
   a publication that was under way (its journal written) is completed, abandoned staging
   folders are deleted.
3. ``stage``: the notebooks write into ``<clean_dir>/.staging-<run_id>/``, which starts as a
   copy of the published tables (hard links: instant, no extra space; ``io.write_clean``
   replaces files, it never writes into a linked one), so a partial run (``--only``) still
   reads the tables of the notebooks it skips.
4. ``publish`` on success: a journal listing every table to move and every stale table to
   delete is written into the staging folder, then carried out with ``os.replace`` (atomic
   per file) and ``<clean_dir>/.published.json`` records the run. A run killed while
   publishing leaves the journal, and the next run's ``recover`` completes it, so the clean
   folder ends up with one run's complete set. ``discard`` on failure: the published tables
   stay as the last good run left them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import io

LOCK_FILE = ".run.lock"
PUBLISHED_FILE = ".published.json"
JOURNAL_FILE = ".publish.json"
STAGING_PREFIX = ".staging-"


class LockedError(RuntimeError):
    """Another run holds the clean folder; the message names it."""


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_json_atomically(path: Path, content: dict[str, Any]) -> None:
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def process_alive(pid: int) -> bool:
    """True when a process ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def describe_holder(holder: dict[str, Any] | None) -> str:
    """The lock holder in words: run id, pid, host and start time."""
    if not holder:
        return "an unknown run (the lock file is unreadable)"
    return (f"run {holder.get('run_id', '?')} (pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}, started {holder.get('started_at', '?')})")


@dataclass
class RunLock:
    """``<clean_dir>/.run.lock`` while a run uses ``clean_dir`` (a context manager).

    ``wait_s`` seconds are waited for a live holder to finish (checked every
    ``poll_s``) before ``LockedError``; a holder whose process is gone (same host) is taken
    over and ``log`` says so.
    """

    clean_dir: Path
    run_id: str
    wait_s: float = 0.0
    poll_s: float = 2.0
    log: Callable[[str], None] = print

    @property
    def path(self) -> Path:
        return self.clean_dir / LOCK_FILE

    def acquire(self) -> None:
        self.clean_dir.mkdir(parents=True, exist_ok=True)
        content = {"run_id": self.run_id, "pid": os.getpid(), "host": socket.gethostname(),
                   "started_at": _now()}
        deadline = time.monotonic() + self.wait_s
        announced = False
        while True:
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read_json(self.path)
                if self._stale(holder):
                    self._take_over(holder)
                    continue
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"{self.clean_dir} is in use by {describe_holder(holder)}; this run "
                        "did not start. Wait for it to finish (or pass --wait SECONDS); if "
                        f"that run is gone, delete {self.path}") from None
                if not announced:
                    self.log(f"waiting for {describe_holder(holder)} to finish with "
                             f"{self.clean_dir} ...")
                    announced = True
                time.sleep(self.poll_s)
                continue
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(content, out)
            return

    def _stale(self, holder: dict[str, Any] | None) -> bool:
        if holder is None:  # unreadable: half-written by a process killed right then
            age = time.time() - self.path.stat().st_mtime if self.path.exists() else 1e9
            return age > 60
        same_host = holder.get("host") == socket.gethostname()
        return same_host and not process_alive(int(holder.get("pid", -1)))

    def _take_over(self, holder: dict[str, Any] | None) -> None:
        self.log(f"taking over a stale lock of {describe_holder(holder)}: its process no "
                 "longer exists")
        aside = self.path.with_name(f"{LOCK_FILE}.stale-{os.getpid()}")
        try:
            os.replace(self.path, aside)
            aside.unlink()
        except FileNotFoundError:  # another run took it over first
            pass

    def release(self) -> None:
        holder = _read_json(self.path)
        if holder and holder.get("pid") == os.getpid() and holder.get("run_id") == self.run_id:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


# --------------------------------------------------------------------------------------------
def staging_dir(clean_dir: Path, run_id: str) -> Path:
    """Where the run ``run_id`` writes its tables before they are published."""
    return clean_dir / f"{STAGING_PREFIX}{run_id}"


def clean_dirs(parameters: dict[str, dict[str, Any]]) -> list[Path]:
    """The clean folders a run's notebooks write to (their ``clean_dir`` parameters)."""
    return sorted({io.resolve(params["clean_dir"]) for params in parameters.values()
                   if params.get("clean_dir")})


def staged_parameters(parameters: dict[str, Any], staging: dict[Path, Path]) -> dict[str, Any]:
    """A notebook's parameters with its clean folder replaced by the run's staging folder."""
    if not parameters.get("clean_dir"):
        return parameters
    return {**parameters, "clean_dir": str(staging[io.resolve(parameters["clean_dir"])])}


def _published_files(folder: Path) -> list[Path]:
    """The tables of a clean folder: its visible top-level files (not its subfolders, which
    may be other configurations' clean folders)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def stage(clean_dir: Path, run_id: str) -> Path:
    """A staging folder for ``run_id`` holding the published tables (hard links, copies where
    the file system has none)."""
    clean_dir.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(clean_dir, run_id)
    staging.mkdir()
    for path in _published_files(clean_dir):
        try:
            os.link(path, staging / path.name)
        except OSError:
            shutil.copy2(path, staging / path.name)
    return staging


def publish(clean_dir: Path, staging: Path, run_id: str) -> dict[str, Any]:
    """Make the staged tables the clean folder's (see the module docstring); returns the
    record written to ``.published.json``."""
    staged = sorted(p.name for p in _published_files(staging))
    workbook_tables = set(io.workbook_table_files())
    stale = sorted(p.name for p in _published_files(clean_dir)
                   if p.name not in staged and p.name in workbook_tables)
    journal = {"run_id": run_id, "move": staged, "delete": stale, "written_at": _now()}
    _write_json_atomically(staging / JOURNAL_FILE, journal)
    return _carry_out(clean_dir, staging, journal)


def _carry_out(clean_dir: Path, staging: Path, journal: dict[str, Any]) -> dict[str, Any]:
    for name in journal["move"]:
        if (staging / name).exists():  # moved already by an interrupted publication
            os.replace(staging / name, clean_dir / name)
    for name in journal["delete"]:
        (clean_dir / name).unlink(missing_ok=True)
    record = {"run_id": journal["run_id"], "published_at": _now(),
              "tables": journal["move"]}
    _write_json_atomically(clean_dir / PUBLISHED_FILE, record)
    shutil.rmtree(staging, ignore_errors=True)
    return record


def discard(staging: Path) -> None:
    """Delete a staging folder (the run failed: nothing of it is published)."""
    shutil.rmtree(staging, ignore_errors=True)


def recover(clean_dir: Path, log: Callable[[str], None] = print) -> list[str]:
    """Settle what killed runs left in ``clean_dir`` (call it holding the lock): complete a
    publication whose journal was written, delete abandoned staging folders. Returns one
    sentence per thing done."""
    done: list[str] = []
    if not clean_dir.is_dir():
        return done
    for staging in sorted(clean_dir.glob(f"{STAGING_PREFIX}*")):
        journal = _read_json(staging / JOURNAL_FILE)
        if journal is not None and {"run_id", "move", "delete"} <= set(journal):
            _carry_out(clean_dir, staging, journal)
            done.append(f"completed the interrupted publication of run {journal['run_id']} "
                        f"in {clean_dir}")
        else:
            discard(staging)
            done.append(f"deleted {staging.name}, left in {clean_dir} by a run that did not "
                        "finish (nothing of it had been published)")
    for message in done:
        log(message)
    return done


def published_run(clean_dir: Path) -> dict[str, Any] | None:
    """The record of the run whose tables ``clean_dir`` holds (None before the first
    published run)."""
    return _read_json(Path(clean_dir) / PUBLISHED_FILE)
