"""Unattended runs: tables published all at once, one run at a time, a killed run leaves the
last good one, the closing line, alerts file and notification, pruning, determinism."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers import configs, io, operations, publishing
from tests.conftest import make_project, run_cli


def _table(folder: Path, name: str, value: int) -> Path:
    path = folder / f"{name}.parquet"
    pd.DataFrame({"x": [value]}).to_parquet(path)
    return path


def _values(folder: Path) -> dict[str, int]:
    return {p.stem: int(pd.read_parquet(p)["x"].iloc[0]) for p in folder.glob("*.parquet")}


# --- publishing -----------------------------------------------------------------------------
def test_staged_tables_replace_the_published_ones_only_on_publish(tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    _table(clean, "order_lines", 1)
    _table(clean, "churn_risk", 1)  # a workbook table this run will not produce again
    (clean / "notes.txt").write_text("an analyst's file")
    (clean / "online_retail").mkdir()  # another configuration's clean folder
    _table(clean / "online_retail", "order_lines", 7)

    staging = publishing.stage(clean, "run-2")
    assert _values(staging) == {"order_lines": 1, "churn_risk": 1}  # a partial run reads them
    io.write_clean({"order_lines": pd.DataFrame({"x": [2]}),
                    "customers": pd.DataFrame({"x": [2]})}, staging)
    (staging / "churn_risk.parquet").unlink()
    assert _values(clean) == {"order_lines": 1, "churn_risk": 1}  # hard links never written into

    record = publishing.publish(clean, staging, "run-2")
    assert _values(clean) == {"order_lines": 2, "customers": 2}
    assert (clean / "notes.txt").read_text() == "an analyst's file"
    assert _values(clean / "online_retail") == {"order_lines": 7}
    assert not staging.exists()
    assert publishing.published_run(clean) == record
    assert record["run_id"] == "run-2"
    assert record["tables"] == ["customers.parquet", "notes.txt", "order_lines.parquet"]


def test_an_interrupted_publication_is_completed_and_an_abandoned_staging_deleted(tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("order_lines", "customers", "churn_risk"):
        _table(clean, name, 1)
    staging = publishing.stage(clean, "run-2")
    io.write_clean({"order_lines": pd.DataFrame({"x": [2]}),
                    "customers": pd.DataFrame({"x": [2]})}, staging)
    (staging / "churn_risk.parquet").unlink()
    journal = {"run_id": "run-2", "move": ["customers.parquet", "order_lines.parquet"],
               "delete": ["churn_risk.parquet"]}
    (staging / publishing.JOURNAL_FILE).write_text(json.dumps(journal))
    os.replace(staging / "customers.parquet", clean / "customers.parquet")  # killed here
    abandoned = publishing.stage(clean, "run-3")
    _table(abandoned, "order_lines", 3)

    notes = publishing.recover(clean, log=lambda message: None)
    assert _values(clean) == {"order_lines": 2, "customers": 2}
    assert not staging.exists() and not abandoned.exists()
    assert publishing.published_run(clean)["run_id"] == "run-2"
    assert len(notes) == 2
    assert "completed the interrupted publication of run run-2" in notes[0]
    assert "deleted .staging-run-3" in notes[1]


def test_write_clean_leaves_no_partial_file_when_writing_fails(tmp_path):
    _table(tmp_path, "order_lines", 1)

    class Broken(pd.DataFrame):
        def to_parquet(self, path, **kwargs):
            Path(path).write_bytes(b"PAR1 half a file")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        io.write_clean({"order_lines": Broken({"x": [2]})}, tmp_path)
    assert _values(tmp_path) == {"order_lines": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["order_lines.parquet"]


# --- the lock -------------------------------------------------------------------------------
def _holder(clean: Path, pid: int, run_id: str = "other-run") -> None:
    clean.mkdir(parents=True, exist_ok=True)
    (clean / publishing.LOCK_FILE).write_text(json.dumps({
        "run_id": run_id, "pid": pid, "host": socket.gethostname(),
        "started_at": "2026-01-01T02:00:00+00:00"}))


def test_a_live_holder_stops_the_second_run_with_its_name(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _holder(tmp_path, sleeper.pid)
        with pytest.raises(publishing.LockedError) as error:
            publishing.RunLock(tmp_path, "mine").acquire()
    finally:
        sleeper.kill()
        sleeper.wait()
    message = str(error.value)
    assert f"in use by run other-run (pid {sleeper.pid} on {socket.gethostname()}" in message
    assert "started 2026-01-01T02:00:00" in message and "--wait" in message


def test_a_stale_lock_is_taken_over_and_said_so(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _holder(tmp_path, dead.pid)
    said = []
    with publishing.RunLock(tmp_path, "mine", log=said.append) as lock:
        assert json.loads(lock.path.read_text())["run_id"] == "mine"
    assert not (tmp_path / publishing.LOCK_FILE).exists()
    assert said == [f"taking over a stale lock of run other-run (pid {dead.pid} on "
                    f"{socket.gethostname()}, started 2026-01-01T02:00:00+00:00): its process "
                    "no longer exists"]


def test_a_waiting_run_starts_when_the_holder_finishes(tmp_path):
    first = publishing.RunLock(tmp_path, "first")
    first.acquire()
    said = []
    timer = threading.Timer(0.3, first.release)
    timer.start()
    started = time.monotonic()
    with publishing.RunLock(tmp_path, "second", wait_s=30, poll_s=0.05, log=said.append):
        waited = time.monotonic() - started
    timer.join()
    assert 0.2 < waited < 30
    assert said and said[0].startswith("waiting for run first")


# --- runner settings, closing line, alerts, pruning ------------------------------------------
def test_runner_settings_are_checked():
    assert configs.runner_settings({}) == {"keep_runs": None, "notify": None, "parallel": 2}
    assert configs.runner_settings({"runner": {"keep_runs": 5, "notify": "mail x"}})[
        "keep_runs"] == 5
    with pytest.raises(configs.ParameterError) as error:
        configs.runner_settings({"runner": {"keep_runs": 0, "notify": "", "keep": 1}})
    message = str(error.value)
    assert "unknown setting 'keep'" in message
    assert "keep_runs expects a whole number of at least 1, got 0" in message
    assert "notify expects a command" in message


def _manifest(status: str, notebooks: list[dict]) -> dict:
    return {"run_id": "r1", "status": status, "duration_s": 12.3, "notebooks": notebooks}


def test_the_closing_line_names_the_failed_notebook_and_its_page(tmp_path):
    ok = operations.outcome_line(_manifest("success", []), tmp_path)
    assert ok == f"run r1 succeeded in 12 s: {tmp_path / 'index.html'}"
    noted = operations.outcome_line({**_manifest("success", []), "status_note":
                                     "notification command 'mail' failed"}, tmp_path)
    assert noted == ("run r1 succeeded in 12 s but notification command 'mail' failed: "
                     f"{tmp_path / 'index.html'}")
    failed = _manifest("failed", [
        {"name": "01_cleaning", "status": "ok", "html": "01_cleaning.html", "error": None},
        {"name": "02_history_repair", "status": "failed", "html": "02_history_repair.html",
         "error": "RawFileError: orders.csv: line 7\nmore"},
        {"name": "03_behaviour", "status": "not run", "html": None, "error": None}])
    assert operations.outcome_line(failed, tmp_path) == (
        "run r1 FAILED in 02_history_repair after 12 s (RawFileError: orders.csv: line 7); "
        f"the page showing the error: {tmp_path / '02_history_repair.html'}")


def test_alerts_file_holds_the_last_months_alerts_and_notify_gets_it(tmp_path):
    alerts = pd.DataFrame({
        "indicator": ["orders", "revenue", "orders"], "region": ["North", "all", "South"],
        "month": pd.to_datetime(["2024-03-01", "2024-06-01", "2024-06-01"]),
        "value": [10.0, 5.0, 3.0], "expected": [20.0, 9.0, 8.0], "change": [-0.5, -0.44, -0.62],
        "z": [-4.5, -4.1, -5.0], "p_value": [1e-5, 4e-5, 1e-6],
        "since": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-06-01"]),
        "kind": ["abnormal"] * 3})
    path = operations.write_alerts(tmp_path, "r1", alerts, pd.Timestamp("2024-06-01"))
    content = json.loads(path.read_text())
    assert content["last_month"] == "2024-06" and content["page"] == "08_scorecard.html"
    assert [(a["indicator"], a["region"]) for a in content["current"]] == [
        ("revenue", "all"), ("orders", "South")]
    assert content["current"][0]["since"] == "2024-05"
    assert [a["month"] for a in content["earlier"]] == ["2024-03"]

    received = tmp_path / "received.json"
    script = ("import os, shutil, sys; shutil.copy(sys.argv[1], sys.argv[2]); "
              "assert os.environ['LOYALTY_ALERTS'] == sys.argv[1]")
    ok, what = operations.notify([sys.executable, "-c", script, "{alerts}", str(received)],
                                 path, tmp_path)
    assert ok and json.loads(received.read_text()) == content
    ok, what = operations.notify(f"{sys.executable} -c 'import sys; sys.exit(\"no mail\")'",
                                 path, tmp_path)
    assert not ok and what.endswith("failed with exit code 1: no mail")


def test_pruning_keeps_the_newest_and_the_latest_run(tmp_path):
    names = ["20260101-000000", "20260201-000000", "20260301-000000", "20260401-000000",
             "20260501-000000"]
    for k, name in enumerate(names):
        (tmp_path / name).mkdir()
        if k != 1:  # the second was killed before writing its manifest
            (tmp_path / name / "manifest.json").write_text(json.dumps(
                {"started_at": f"2026-0{k + 1}-01T00:00:00+00:00"}))
    (tmp_path / "bench").mkdir()  # not a run folder
    (tmp_path / "latest").symlink_to(names[0])
    deleted = operations.prune_runs(tmp_path, keep=2)
    assert sorted(p.name for p in deleted) == [names[1], names[2]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [names[0], names[3], names[4], "bench", "latest"])


# --- whole runs -------------------------------------------------------------------------------
def _start(project: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "LOYALTY_PROJECT_DIR": str(project)}
    return subprocess.Popen([sys.executable, "-m", "helpers.run", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _clean_state(project: Path) -> dict[str, str]:
    return io.file_hashes(project / "data" / "clean")


FIRST_TWO = ["--only", "01_cleaning", "02_history_repair"]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_run_leaves_the_last_good_one_and_the_next_run_succeeds(raw_dir, tmp_path,
                                                                          stop):
    project = make_project(raw_dir, tmp_path)
    good = run_cli(FIRST_TWO, project)
    assert good.returncode == 0, good.stderr
    latest = (project / "reports" / "latest").resolve()
    clean = project / "data" / "clean"
    before = _clean_state(project)
    published_inode = (clean / "order_lines_unrepaired.parquet").stat().st_ino

    running = _start(project, *FIRST_TWO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait for 01 to write its own tables (while 02 runs)
        staged = list(clean.glob(".staging-*/order_lines_unrepaired.parquet"))
        try:
            if staged and staged[0].stat().st_ino != published_inode:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    else:
        pytest.fail("the run never wrote its tables")
    time.sleep(1.0)  # 02 is reading or writing by now
    running.send_signal(stop)
    _out, err = running.communicate(timeout=120)
    assert running.returncode != 0

    visible = {k: v for k, v in _clean_state(project).items() if not k.startswith(".")}
    assert visible == {k: v for k, v in before.items() if not k.startswith(".")}
    if stop == signal.SIGTERM:  # nor a staging folder or a lock left behind
        assert _clean_state(project) == before
    assert (project / "reports" / "latest").resolve() == latest
    assert publishing.published_run(clean)["run_id"] == latest.name
    if stop == signal.SIGTERM:
        assert "interrupted by SIGTERM" in err and "FAILED" in err
        assert sorted(p.name for p in clean.iterdir() if p.name.startswith(".")) == [
            publishing.PUBLISHED_FILE]
        manifest = json.loads(next(p for p in (project / "reports").glob("*/manifest.json")
                                   if p.parent.name not in (latest.name, "latest")).read_text())
        assert manifest["status"] == "failed"

    again = run_cli([*FIRST_TWO, "--quiet"], project)
    assert again.returncode == 0, again.stderr
    newest = (project / "reports" / "latest").resolve()
    [line] = again.stdout.splitlines()  # --quiet: the closing line only
    assert line.startswith(f"run {newest.name} succeeded in ")
    assert line.endswith(str(newest / "index.html")) and again.stderr == ""
    assert newest != latest and publishing.published_run(clean)["run_id"] == newest.name
    assert not list(clean.glob(".staging-*")) and not (clean / publishing.LOCK_FILE).exists()
    manifest = json.loads((newest / "manifest.json").read_text())
    if stop == signal.SIGKILL:  # the dead run's lock and staging folder were settled
        assert any("deleted .staging-" in note for note in manifest["recovered"])
    assert _clean_state(project).keys() == before.keys()


def test_a_second_run_on_the_same_clean_folder_stops_naming_the_first(raw_dir, tmp_path):
    project = make_project(raw_dir, tmp_path)
    first = _start(project, *FIRST_TWO)
    lock = project / "data" / "clean" / publishing.LOCK_FILE
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        second = run_cli(FIRST_TWO, project)
    finally:
        first.communicate(timeout=300)
    assert second.returncode == 3
    holder = json.loads(lock.read_text()) if lock.exists() else None
    assert holder is None  # released by the first run when it finished
    assert f"(pid {first.pid} on {socket.gethostname()}" in second.stderr
    assert "is in use by run " in second.stderr and "this run did not start" in second.stderr
    assert first.returncode == 0
    assert len([p for p in (project / "reports").iterdir() if not p.is_symlink()]) == 1


def test_the_default_run_writes_its_alerts_file(report_run):
    run_dir = report_run["run_dir"]
    content = json.loads((run_dir / operations.ALERTS_FILE).read_text())
    clean = report_run["project"] / "data" / "clean"
    alerts = pd.read_parquet(clean / "alerts.parquet")
    last = pd.to_datetime(pd.read_parquet(clean / "monthly_sales.parquet")["month"]).max()
    assert content["last_month"] == last.strftime("%Y-%m")
    assert len(content["current"]) + len(content["earlier"]) == len(alerts) > 0
    assert len(content["current"]) == (pd.to_datetime(alerts["month"]) == last).sum()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["alerts"]["all"] == len(alerts)


def test_same_input_and_seed_give_the_same_numbers(report_run, raw_dir, tmp_path):
    project = make_project(raw_dir, tmp_path)
    again = run_cli(["--quiet"], project)
    assert again.returncode == 0, again.stderr
    first_clean = report_run["project"] / "data" / "clean"
    second_clean = project / "data" / "clean"
    names = sorted(p.name for p in first_clean.glob("*.parquet"))
    assert names == sorted(p.name for p in second_clean.glob("*.parquet"))
    for name in names:
        pd.testing.assert_frame_equal(pd.read_parquet(first_clean / name),
                                      pd.read_parquet(second_clean / name), obj=name)
    first = json.loads((report_run["run_dir"] / "manifest.json").read_text())
    second = json.loads(((project / "reports" / "latest") / "manifest.json").read_text())
    assert [(n["name"], n["headlines"], n["executive_summary"]) for n in first["notebooks"]] == [
        (n["name"], n["headlines"], n["executive_summary"]) for n in second["notebooks"]]


def test_runner_notifies_of_the_last_months_alerts_and_keeps_the_newest_runs(report_run,
                                                                            tmp_path):
    """08 run alone on a copy of the default run's tables, with a threshold every month
    breaches, a notification command and keep_runs 1, twice."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(report_run["project"] / "data", project / "data")
    received = tmp_path / "received.json"
    config = tmp_path / "notify.yaml"
    config.write_text(json.dumps({
        "extends": str(io.PACKAGE_ROOT / "configs" / "default.yaml"),
        "08_scorecard": {"alert_thresholds": {"orders": {"min": 1e12}}},
        "runner": {"keep_runs": 1, "notify": [
            sys.executable, "-c", "import shutil, sys; shutil.copy(*sys.argv[1:])", "{alerts}",
            str(received)]}}))
    for extra in ([], ["--pdf"]):
        done = run_cli(["--config", str(config), "--only", "08_scorecard", *extra], project)
        assert done.returncode == 0, done.stderr
    latest = (project / "reports" / "latest").resolve()
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["pdf"] == "index.pdf" and (latest / "index.pdf").stat().st_size > 10_000
    alerts = json.loads((latest / operations.ALERTS_FILE).read_text())
    months = pd.to_datetime(pd.read_parquet(project / "data" / "clean" / "monthly_sales.parquet")[
        "month"])
    assert alerts["last_month"] == months.max().strftime("%Y-%m")
    breaches = [a for a in alerts["current"] if a["kind"] == "threshold (min)"]
    assert {a["indicator"] for a in breaches} == {"orders"} and len(breaches) >= 1
    assert json.loads(received.read_text()) == alerts  # the command got this run's file
    assert "notification command" in done.stdout
    assert [p.name for p in (project / "reports").iterdir() if not p.is_symlink()] == [
        latest.name]
    assert "deleted 1 old run folder(s) (keep_runs: 1)" in done.stdout
