"""Kernels started ahead of their notebooks, so that a notebook's wait is its work.

A notebook's kernel takes one to two seconds to start and as long again to import pandas,
SciPy, seaborn and the workbook: four seconds that every notebook of the chain used to spend
while the notebooks after it waited. The runner starts the kernel of a notebook whose inputs
are being computed (``schedule.run_graph`` asks for it), runs the notebook's own import lines
in it, and hands it to papermill when the notebook's turn comes; the warm-up uses the core the
chain's single running notebook leaves idle (the scheduler asks only while fewer than
``parallel`` notebooks run). At most ``limit`` warm kernels wait at a time (each holds its
imports, a few hundred MB). A kernel whose warm-up fails is shut down and the notebook starts
its own, as before.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import nbformat


def import_lines(notebook: Path) -> str:
    """The import statements of a notebook's code cells, as one script, with the submodules
    its cells reach through a package (``story.behaviour``: the packages load those when first
    used)."""
    lines, submodules = [], []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        lines += [ast.unparse(node) for node in tree.body
                  if isinstance(node, (ast.Import, ast.ImportFrom))]
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                name = f"helpers.{node.value.id}.{node.attr}"
                if name not in submodules and _is_module(f"helpers.{node.value.id}") \
                        and _is_module(name):
                    submodules.append(name)
    return "\n".join([*lines, *(f"import {name}" for name in submodules)])


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ModuleNotFoundError, ValueError):
        return False


def kernel_config():
    """The kernels' configuration: ipykernel >= 7.3 warns on every start when kernel traffic
    is unencrypted TCP, so jupyter_client provisions CurveZMQ keys (kernel and runner are on
    one machine)."""
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport_encryption = "auto"
    return config


def _manager_class() -> type:
    """A kernel manager that starts the kernel in this thread and gives papermill an
    asynchronous client for it (papermill runs in another thread, with its own event loop)."""
    from jupyter_client.manager import KernelManager

    class WarmKernelManager(KernelManager):
        client_class = "jupyter_client.asynchronous.AsyncKernelClient"

    return WarmKernelManager


class WarmKernels:
    """Kernels being started, or waiting, for the notebooks about to run."""

    def __init__(self, kernel_name: str | None, config: Any, cwd: str, limit: int = 2,
                 startup_s: float = 60.0) -> None:
        self.kernel_name, self.config, self.cwd = kernel_name, config, cwd
        self.limit, self.startup_s = max(1, limit), startup_s
        self.lock = threading.Lock()
        self.pending: dict[str, futures.Future] = {}
        self.pool = futures.ThreadPoolExecutor(max_workers=self.limit,
                                               thread_name_prefix="warm-kernel")

    def start(self, name: str, notebook: Path, env: dict[str, str]) -> bool:
        """Start ``name``'s kernel in the background (with ``env`` added to this process's
        environment); False when ``limit`` kernels already wait or it was started before."""
        with self.lock:
            if name in self.pending or len(self.pending) >= self.limit:
                return False
            self.pending[name] = self.pool.submit(self._warm, notebook, env)
            return True

    def launch(self, notebook: Path, env: dict[str, str]):
        """A kernel started now, in this thread, for a notebook none was warmed for (its
        imports left to its cells): the runner, not papermill, owns it, so it is shut down
        after the notebooks waiting for this one have started (``shutdown``)."""
        return self._warm(notebook, env, imports=False)

    def _warm(self, notebook: Path, env: dict[str, str], imports: bool = True):
        kernel_name = self.kernel_name or nbformat.read(notebook, as_version=4).metadata.get(
            "kernelspec", {}).get("name", "python3")
        manager = _manager_class()(kernel_name=kernel_name, config=self.config)
        manager.start_kernel(cwd=self.cwd, env={**os.environ, **env})
        client = manager.blocking_client()
        try:
            client.start_channels()
            client.wait_for_ready(timeout=self.startup_s)
            if not imports:
                return manager
            reply = client.execute_interactive(import_lines(notebook), timeout=self.startup_s,
                                               output_hook=lambda _message: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError("the notebook's imports failed in the warm kernel")
        except Exception:
            manager.shutdown_kernel(now=True)
            raise
        finally:
            client.stop_channels()
        return manager

    def take(self, name: str):
        """The warm kernel manager of ``name`` (waiting for its warm-up to end), or None when
        none was started or its warm-up failed (then the runner ``launch``es one). The caller
        shuts the kernel down (``shutdown``)."""
        with self.lock:
            pending = self.pending.pop(name, None)
        if pending is None:
            return None
        try:
            return pending.result()
        except Exception:
            return None

    @staticmethod
    def shutdown(manager) -> None:
        """Shut a taken kernel down (after its notebook ran)."""
        if manager is not None and manager.has_kernel:
            manager.shutdown_kernel(now=False)

    def close(self) -> None:
        """Shut down the kernels no notebook took (a run that failed, or a notebook that
        was not evaluated)."""
        with self.lock:
            left = list(self.pending.values())
            self.pending.clear()
        for pending in left:
            try:
                self.shutdown(pending.result())
            except Exception:
                continue
        self.pool.shutdown(wait=True)
