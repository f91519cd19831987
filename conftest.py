"""Session set-up shared by tests/ and the nbval notebook tests.

Before anything is collected, a throw-away project folder gets the built-in *small* sample in
data/raw (truth in data/truth), and LOYALTY_PROJECT_DIR points at it. Notebooks executed by
nbval inherit that variable, so they run on the small sample and never touch the repository's
data/ folders.
"""

import os
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def pytest_configure(config):
    from helpers.sample import write_sample

    workspace = Path(tempfile.mkdtemp(prefix="loyalty-tests-"))
    write_sample(workspace / "data" / "raw", workspace / "data" / "truth", size="small")
    config.loyalty_workspace = workspace
    config.loyalty_previous_dir = os.environ.get("LOYALTY_PROJECT_DIR")
    os.environ["LOYALTY_PROJECT_DIR"] = str(workspace)


def pytest_unconfigure(config):
    workspace = getattr(config, "loyalty_workspace", None)
    if workspace is not None:
        shutil.rmtree(workspace, ignore_errors=True)
        if config.loyalty_previous_dir is None:
            os.environ.pop("LOYALTY_PROJECT_DIR", None)
        else:
            os.environ["LOYALTY_PROJECT_DIR"] = config.loyalty_previous_dir
