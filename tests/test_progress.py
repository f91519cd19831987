"""Progress of long steps: what a kernel under the runner writes, what JupyterLab shows, what
the runner prints, and that nothing is reported elsewhere."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from helpers import operations, progress, run
from tests.conftest import make_project


def test_under_the_runner_each_update_is_a_line_of_json(tmp_path, monkeypatch):
    sink = tmp_path / "03_behaviour.jsonl"
    monkeypatch.setenv(progress.ENV, str(sink))
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    assert list(progress.steps(range(3), "parameter draws")) == [0, 1, 2]
    events, offset = progress.read_events(sink)
    assert [(e["done"], e["total"], e["finished"]) for e in events] == [
        (0, 3, False), (1, 3, False), (2, 3, False), (3, 3, False), (3, 3, True)]
    assert offset == sink.stat().st_size
    assert progress.describe(events[-1]).startswith("parameter draws 3/3 (")


def test_updates_are_throttled(tmp_path, monkeypatch):
    sink = tmp_path / "p.jsonl"
    monkeypatch.setenv(progress.ENV, str(sink))
    monkeypatch.setattr(progress, "EVERY_S", 3600.0)
    list(progress.steps(range(1000), "many cheap steps"))
    events, _ = progress.read_events(sink)
    assert [(e["done"], e["finished"]) for e in events] == [(0, False), (1000, True)]


def test_nothing_is_reported_outside_a_run_or_a_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert list(progress.steps(iter("abc"), "letters")) == ["a", "b", "c"]
    assert list(tmp_path.iterdir()) == []


def test_in_jupyterlab_one_line_is_updated_and_removed_at_the_end(monkeypatch):
    import IPython.display

    shown = []

    class Handle:
        def update(self, value):
            shown.append(value.data)

    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.setattr(progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    monkeypatch.setattr(IPython.display, "display",
                        lambda value, display_id: shown.append(value.data) or Handle())
    list(progress.steps(range(2), "bootstrap samples", unit="samples"))
    assert shown[0] == "bootstrap samples: 0/2 samples"
    assert "bootstrap samples: 2/2 samples" in shown and shown[-1] == ""


def test_a_line_being_written_is_read_when_it_is_whole(tmp_path):
    sink = tmp_path / "p.jsonl"
    sink.write_text(json.dumps({"label": "a", "done": 1}) + "\n" + '{"label": "b", "do')
    events, offset = progress.read_events(sink)
    assert [e["label"] for e in events] == ["a"]
    with sink.open("a") as more:
        more.write('ne": 2}\n')
    events, _ = progress.read_events(sink, offset)
    assert events == [{"label": "b", "done": 2}]


def test_the_watcher_tells_about_long_steps_only(tmp_path):
    lines = []
    watcher = operations.ProgressWatcher(tmp_path, lines.append, every_s=10.0)
    event = {"label": "bootstrap", "total": 300, "unit": "", "finished": False}
    with (tmp_path / "04_attitude.jsonl").open("a") as sink:
        for done, elapsed in [(10, 2.0), (200, 12.0)]:
            sink.write(json.dumps({**event, "done": done, "elapsed_s": elapsed}) + "\n")
    (tmp_path / "01_cleaning.jsonl").write_text(json.dumps(
        {**event, "done": 300, "elapsed_s": 1.0, "finished": True}) + "\n")
    watcher.poll(now=100.0)
    assert lines == ["    04_attitude: bootstrap 200/300 (12 s)"]
    with (tmp_path / "04_attitude.jsonl").open("a") as sink:
        sink.write(json.dumps({**event, "done": 250, "elapsed_s": 15.0}) + "\n")
    watcher.poll(now=105.0)  # five seconds later: not yet
    assert len(lines) == 1
    with (tmp_path / "04_attitude.jsonl").open("a") as sink:
        sink.write(json.dumps({**event, "done": 300, "elapsed_s": 16.0, "finished": True})
                   + "\n")
    watcher.poll(now=106.0)  # the end of a long step is always told
    assert lines[-1] == "    04_attitude: bootstrap 300/300 (16 s)"


@pytest.mark.slow
def test_the_runner_prints_the_progress_of_a_kernel(raw_dir, tmp_path, monkeypatch):
    project = make_project(raw_dir, tmp_path / "project")
    monkeypatch.setenv("LOYALTY_PROJECT_DIR", str(project))
    monkeypatch.setattr(operations, "PROGRESS_POLL_S", 0.2)
    monkeypatch.setattr(operations, "PROGRESS_EVERY_S", 0.5)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    parameters = new_code_cell("message: str = 'x'")
    parameters.metadata["tags"] = ["parameters"]
    work = new_code_cell("import time\nfrom helpers import progress\n"
                         "for step in progress.steps(range(4), 'slow steps'):\n"
                         "    time.sleep(0.6)")
    nbformat.write(new_notebook(cells=[parameters, work], metadata={
        "kernelspec": {"name": "loyalty", "display_name": "Python (loyalty workbook)",
                       "language": "python"}, "language_info": {"name": "python"}}),
        notebooks / "01_slow.ipynb")
    lines = []
    code, run_dir = run.run_chain(config_path=None, overrides=[], notebooks_dir=notebooks,
                                  reports_dir=project / "reports",
                                  log=lambda message, **_: lines.append(message))
    assert code == 0
    told = [line for line in lines if line.startswith("    01_slow: slow steps")]
    assert told and told[-1].startswith("    01_slow: slow steps 4/4 (")
    page = (run_dir / "01_slow.html").read_text()
    assert "slow steps" not in page  # the run's pages show no progress
