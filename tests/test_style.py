"""ruff is part of the test suite: the code, tests, scripts and notebooks are lint-clean."""

import subprocess
import sys

from helpers import io


def test_ruff_is_clean():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests",
                           "notebooks", "scripts", "conftest.py"],
                          cwd=io.PACKAGE_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
