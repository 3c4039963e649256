"""A fingerprint of everything a trace set was produced from.

Trace files carry it so ``handle-compat run --if-stale`` (and ``tox -e gate``)
can tell whether existing traces still describe the current guests, WIT package,
harness and wasmtime, without trusting file times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from harness.execute.limits import Limits
from harness.model.scenario import MANIFEST, Scenario

#: Bumped when the harness changes what a trace records.
HARNESS_TRACE_VERSION = "3"


def _files(scenario: Scenario) -> list[Path]:
    return [scenario.path / MANIFEST, *(c.wat for c in scenario.components)]


def fingerprint(scenarios: Iterable[Scenario], wit_dir: Path, limits: Limits) -> str:
    """sha256 over the scenarios' names and files, the WIT files, the limits and the tool versions."""
    digest = hashlib.sha256()
    digest.update(f"harness {HARNESS_TRACE_VERSION} wasmtime {version('wasmtime')}\n".encode())
    digest.update(f"limits {limits.step_timeout_s} {limits.memory_bytes}\n".encode())
    for wit in sorted(wit_dir.glob("*.wit")):
        digest.update(wit.name.encode() + b"\0" + wit.read_bytes() + b"\0")
    for scenario in sorted(scenarios, key=lambda s: s.name):
        digest.update(f"scenario {scenario.name}\n".encode())
        for path in _files(scenario):
            try:
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                digest.update(path.name.encode() + b"\0missing\0")
    return digest.hexdigest()
