"""Run configurations: YAML files of notebook parameters, merged and checked before a run.

A configuration has one block per notebook (``NN_name: {parameter: value}``) and three
optional keys:

* ``common: {parameter: value}`` sets a parameter in every notebook that declares it (the
  report language, the clean folder, the confidence level); a notebook's own block wins;
* ``extends: other.yaml`` (relative to this file) starts from another configuration, so a
  configuration holds only what differs from it; a parameter given here replaces the other
  file's value (a dictionary such as ``tiers`` is replaced whole, not merged);
* ``runner: {keep_runs: N, notify: command}`` settles the runner's own behaviour
  (``runner_settings``), not a notebook's.

``-p KEY=VALUE`` overrides on the command line come last (``-p NN_name.KEY=VALUE`` for one
notebook). Unknown notebooks, undeclared parameters and values of the wrong type are reported
together before anything runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from helpers import engines

COMMON = "common"
EXTENDS = "extends"
RUNNER = "runner"
RUNNER_DEFAULTS: dict[str, Any] = {"keep_runs": None, "notify": None, "parallel": 2}
_TYPE_OK = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list,), "dict": (dict,),
}


class ParameterError(ValueError):
    """The configuration names notebooks or parameters that do not exist, or has wrong types."""


def load_config(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The configuration at ``path`` with the files it extends merged in (theirs first)."""
    path = Path(path).resolve()
    if path in _seen:
        raise ParameterError(f"config {path}: 'extends' goes round in a circle "
                             f"({' -> '.join(str(p) for p in (*_seen, path))})")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ParameterError(f"config file {path} not found") from None
    except yaml.YAMLError as error:
        raise ParameterError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise ParameterError(f"config file {path}: expected blocks of parameters per notebook")
    base = config.pop(EXTENDS, None)
    if base is None:
        return config
    merged = load_config(path.parent / str(base), (*_seen, path))
    for block, values in config.items():
        if isinstance(values, dict) and isinstance(merged.get(block), dict):
            merged[block] = {**merged[block], **values}
        else:
            merged[block] = values
    return merged


def notebook_block(config: dict[str, Any], notebook: str) -> dict[str, Any]:
    """The parameters ``config`` gives ``notebook`` itself: its ``common`` values under its own
    block (without checking which the notebook declares)."""
    return {**(config.get(COMMON) or {}), **(config.get(notebook) or {})}


def _parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ParameterError(f"-p {text!r}: expected KEY=VALUE or NOTEBOOK.KEY=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value) if value.strip() else ""


def _coerce(value: Any, type_name: str) -> Any:
    if isinstance(value, dt.date) and type_name == "str":
        return value.isoformat()  # YAML turns 2024-01-31 into a date; notebooks take strings
    return value


def resolve_parameters(config: dict[str, Any], overrides: list[str],
                       declared: dict[str, dict[str, dict[str, Any]]],
                       strict_common: bool = True) -> dict[str, dict]:
    """Merge the ``common`` block, the notebook blocks and ``-p`` overrides into parameters
    per notebook, checking them.

    Args:
        config: parsed YAML (``load_config``), notebook stem -> {parameter: value}, and
            ``common`` -> {parameter: value} for every notebook declaring it.
        overrides: ``KEY=VALUE`` or ``NOTEBOOK.KEY=VALUE`` strings (VALUE parsed as YAML).
        declared: notebook stem -> its declared parameters (``run.declared_parameters``).
        strict_common: a ``common`` parameter no notebook declares is a problem (off when
            only some notebooks run).

    Returns:
        Notebook stem -> {parameter: value}, only declared parameters, for every notebook.

    Raises:
        ParameterError: listing every unknown notebook, undeclared parameter and type mismatch.
    """
    problems: list[str] = []
    resolved: dict[str, dict[str, Any]] = {name: {} for name in declared}
    common = (config or {}).get(COMMON) or {}
    if not isinstance(common, dict):
        problems.append(f"config block '{COMMON}': expected a mapping of parameters")
        common = {}
    for key, value in common.items():
        targets = [nb for nb, params in declared.items() if key in params]
        if not targets and strict_common:
            problems.append(f"config block '{COMMON}': no notebook declares a parameter '{key}'")
        for nb in targets:
            resolved[nb][key] = value
    for block, values in (config or {}).items():
        if block in (COMMON, RUNNER):
            continue
        if block not in declared:
            problems.append(f"config block '{block}': no notebook of that name "
                            f"(notebooks: {', '.join(declared)})")
            continue
        if not isinstance(values, dict):
            problems.append(f"config block '{block}': expected a mapping of parameters")
            continue
        resolved[block].update(values)
    for text in overrides:
        try:
            key, value = _parse_override(text)
        except ParameterError as error:
            problems.append(str(error))
            continue
        if "." in key:
            block, name = key.split(".", 1)
            if block not in declared:
                problems.append(f"-p {key}: no notebook '{block}'")
            else:
                resolved[block][name] = value
            continue
        targets = [nb for nb, params in declared.items() if key in params]
        if not targets:
            problems.append(f"-p {key}: no notebook declares a parameter '{key}'")
        for nb in targets:
            resolved[nb][key] = value
    for nb, values in resolved.items():
        for key, value in list(values.items()):
            spec = declared[nb].get(key)
            if spec is None:
                known = ", ".join(sorted(declared[nb])) or "none"
                problems.append(f"{nb}: unknown parameter '{key}' (declared: {known})")
                continue
            type_name = spec.get("inferred_type_name") or "None"
            value = values[key] = _coerce(value, type_name)
            allowed = _TYPE_OK.get(type_name)
            if allowed and (not isinstance(value, allowed) or (
                    isinstance(value, bool) and bool not in allowed)):
                problems.append(f"{nb}: parameter '{key}' expects {type_name} "
                                f"(default {spec.get('default')}), got {value!r}")
        if "engine" in values and (problem := engines.engine_problem(
                values["engine"], values.get("spark_master", ""))):
            problems.append(f"{nb}: {problem}")
    if problems:
        raise ParameterError("invalid parameters, nothing was run:\n  " + "\n  ".join(problems))
    return resolved


def runner_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration's ``runner`` block with its defaults, checked:

    * ``keep_runs``: keep this many run folders in the reports folder, deleting older ones
      after each run (never the one ``reports/latest`` points at); empty keeps them all;
    * ``notify``: a command (a string split like a shell line, or a list) called after a
      successful run whose data's last month has alerts, with the alerts file as ``{alerts}``
      (``operations.notify``); empty calls nothing;
    * ``parallel``: how many notebooks may run at the same time (``helpers.schedule``; 2,
      one per core of a small machine; 1 runs them one after another, the least memory).
    """
    given = (config or {}).get(RUNNER) or {}
    if not isinstance(given, dict):
        raise ParameterError(f"config block '{RUNNER}': expected a mapping of settings")
    problems = [f"config block '{RUNNER}': unknown setting '{key}' (settings: "
                f"{', '.join(RUNNER_DEFAULTS)})" for key in given if key not in RUNNER_DEFAULTS]
    settings = {**RUNNER_DEFAULTS, **given}
    keep = settings["keep_runs"]
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        problems.append(f"config block '{RUNNER}': keep_runs expects a whole number of at "
                        f"least 1, got {keep!r}")
    parallel = settings["parallel"]
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        problems.append(f"config block '{RUNNER}': parallel expects a whole number of at "
                        f"least 1, got {parallel!r}")
    command = settings["notify"]
    if command is not None and not (
            (isinstance(command, str) and command.strip())
            or (isinstance(command, list) and command and all(isinstance(a, str)
                                                              for a in command))):
        problems.append(f"config block '{RUNNER}': notify expects a command (a string or a "
                        f"list of strings), got {command!r}")
    if problems:
        raise ParameterError("invalid parameters, nothing was run:\n  " + "\n  ".join(problems))
    return settings
