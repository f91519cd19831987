"""Progress of the long steps (a bootstrap, snapshots, parameter draws), where someone waits.

``steps(items, label, unit=...)`` yields the items and says how far it has got:

* under the report runner (``helpers.run`` sets ``LOYALTY_PROGRESS`` to a file for each
  notebook's kernel), as lines of JSON appended to that file, which the runner prints in the
  terminal ("03_behaviour: parameter draws 40/100");
* in JupyterLab, as one line under the running cell that is updated in place and removed when
  the step ends (nothing of it stays in the notebook or its page);
* anywhere else (tests, scripts), not at all.

Updates are throttled (``EVERY_S``): a loop of a million cheap steps pays a clock reading per
step. Nothing here changes a result.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

ENV = "LOYALTY_PROGRESS"  # the file a runner's kernel appends its progress to
EVERY_S = 1.0  # at most one update a second
Item = TypeVar("Item")


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab), not in a plain Python or IPython shell."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Reporter:
    """Reports ``done`` of ``total`` for one step to the sink of this process."""

    def __init__(self, label: str, total: int | None = None, unit: str = "") -> None:
        self.label, self.total, self.unit = label, total, unit
        self.file = os.environ.get(ENV) or None
        self.handle = None
        self.last = float("-inf")
        self.started = time.monotonic()
        if self.file is None and _in_notebook():
            from IPython.display import Pretty, display

            self.handle = display(Pretty(self._text(0)), display_id=True)
        self._send(0, force=True)

    def _text(self, done: int) -> str:
        of = f"/{self.total:,}" if self.total is not None else ""
        return f"{self.label}: {done:,}{of} {self.unit}".rstrip()

    def _send(self, done: int, force: bool = False, finished: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < EVERY_S:
            return
        self.last = now
        if self.file is not None:
            event = {"label": self.label, "done": done, "total": self.total,
                     "unit": self.unit, "elapsed_s": round(now - self.started, 1),
                     "finished": finished}
            with Path(self.file).open("a", encoding="utf-8") as sink:
                sink.write(json.dumps(event) + "\n")
        elif self.handle is not None:
            from IPython.display import Pretty

            self.handle.update(Pretty("" if finished else self._text(done)))

    def update(self, done: int) -> None:
        """``done`` steps are done (sent when ``EVERY_S`` has passed since the last update)."""
        self._send(done)

    def finish(self, done: int) -> None:
        """The step is over: the last count goes out, the notebook line is removed."""
        self._send(done, force=True, finished=True)


def steps(items: Iterable[Item], label: str, total: int | None = None,
          unit: str = "") -> Iterator[Item]:
    """The ``items``, reporting how many have been handed out (``total``: their number, taken
    from ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    reporter = Reporter(label, total, unit)
    done = 0
    try:
        for item in items:
            yield item
            done += 1
            reporter.update(done)
    finally:
        reporter.finish(done)


def read_events(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """The progress events appended to ``path`` after byte ``offset`` (whole lines only) and
    the offset to read on from: for the runner, which follows each kernel's file."""
    if not path.exists():
        return [], offset
    with path.open("rb") as source:
        source.seek(offset)
        data = source.read()
    complete = data[:data.rfind(b"\n") + 1]
    events = []
    for line in complete.decode("utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line a kernel was writing when it stopped
    return events, offset + len(complete)


def describe(event: dict) -> str:
    """One event as the terminal shows it: 'parameter draws 40/100 (12 s)'."""
    of = f"/{event['total']:,}" if event.get("total") is not None else ""
    unit = f" {event['unit']}" if event.get("unit") else ""
    return f"{event['label']} {event['done']:,}{of}{unit} ({event['elapsed_s']:.0f} s)"
