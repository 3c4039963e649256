"""A fingerprint of everything a trace set was produced from.

Trace files carry it so ``handle-compat run --if-stale`` (and ``tox -e gate``)
can tell whether existing traces still describe the current guests, WIT package,
harness and wasmtime, without trusting file times, and so ``handle-compat gate``
can refuse traces that do not.

Of a manifest it covers what a run reads: what it says to expect and why
(expectations, ``diverges``, titles, rules) does not change a trace, so editing
it (or ``gate --update-baseline`` rewriting it) leaves the traces current.
Any other key, including one added later, counts as a run input.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from harness.execute.limits import Limits
from harness.model.scenario import MANIFEST, Scenario

#: Bumped when the harness changes what a trace records.
HARNESS_TRACE_VERSION = "5"
#: Manifest keys that say what to expect or explain, never what to run.
_NOT_RUN_KEYS = frozenset({"title", "category", "description", "rule", "advice", "diverges", "teardown"})
_NOT_RUN_STEP_KEYS = frozenset({"does", "expect"})


def _run_inputs(manifest: bytes) -> bytes:
    """The manifest without what a run never reads, in a canonical form; unreadable bytes as they are."""
    try:
        data = tomllib.loads(manifest.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return manifest
    kept = {key: value for key, value in data.items() if key not in _NOT_RUN_KEYS}
    if isinstance(kept.get("steps"), list):
        kept["steps"] = [
            {k: v for k, v in step.items() if k not in _NOT_RUN_STEP_KEYS} if isinstance(step, dict) else step
            for step in kept["steps"]
        ]
    return json.dumps(kept, sort_keys=True, default=str).encode()


def _files(scenario: Scenario) -> list[Path]:
    return [scenario.path / MANIFEST, *(c.wat for c in scenario.components)]


def fingerprint(scenarios: Iterable[Scenario], wit_dir: Path, limits: Limits, backend_inputs: bytes = b"") -> str:
    """sha256 over the scenarios' names and files, the WIT files, the limits and the tool versions.

    ``backend_inputs``: what else shapes the backend's traces (``Backend.trace_inputs``:
    an out-of-process runtime's version and runner files).
    """
    digest = hashlib.sha256()
    digest.update(f"harness {HARNESS_TRACE_VERSION} wasmtime {version('wasmtime')}\n".encode())
    digest.update(b"backend " + backend_inputs + b"\n")
    digest.update(f"limits {limits.step_timeout_s} {limits.memory_bytes}\n".encode())
    for wit in sorted(wit_dir.glob("*.wit")):
        digest.update(wit.name.encode() + b"\0" + wit.read_bytes() + b"\0")
    for scenario in sorted(scenarios, key=lambda s: s.name):
        digest.update(f"scenario {scenario.name}\n".encode())
        for path in _files(scenario):
            try:
                content = path.read_bytes()
                if path == scenario.path / MANIFEST:
                    content = _run_inputs(content)
                digest.update(path.name.encode() + b"\0" + content + b"\0")
            except OSError:
                digest.update(path.name.encode() + b"\0missing\0")
    return digest.hexdigest()
