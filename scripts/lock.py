"""Re-pin requirements.txt (every package in .venv, exact versions) and environment.yml.

Run through `make lock` after changing the dependencies in pyproject.toml and installing them.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
# Lock file: exact versions of every package the workbook's .venv holds (direct and transitive).
# Direct dependencies are listed in pyproject.toml; regenerate with 'make lock' after changing them.
# environment.yml must list the same pins (tests/test_environment.py checks it).
"""


def main() -> None:
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    pins = sorted((line for line in frozen if "==" in line and not line.startswith("pip==")),
                  key=str.lower)
    (ROOT / "requirements.txt").write_text(HEADER + "\n".join(pins) + "\n")
    env = ["# Conda users: conda env create -f environment.yml (then pip install --no-deps -e .)",
           "# Same pins as requirements.txt, installed by pip inside the conda environment;",
           "# tests/test_environment.py checks that the two agree. Regenerate with 'make lock'.",
           "name: loyalty-workbook", "channels:", "  - conda-forge", "dependencies:",
           "  - python=3.11", "  - pip", "  - pip:"]
    env += [f"      - {pin}" for pin in pins]
    (ROOT / "environment.yml").write_text("\n".join(env) + "\n")
    print(f"pinned {len(pins)} packages in requirements.txt and environment.yml")


if __name__ == "__main__":
    main()
