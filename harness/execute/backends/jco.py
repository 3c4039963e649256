"""The ``jco`` backend: components transpiled to JavaScript by jco and run on Node.

jco (npm ``@bytecodealliance/jco``, pinned in ``harness/execute/runners/jco/package-lock.json``)
keeps the handle tables in generated JavaScript, one flat array per resource type. It is
an implementation of the real-handle rules under test, so its expectations are the
rules' (``real``'s); where it deviates, the trace shows it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import ClassVar

from harness.execute.backends.external import ExternalBackend
from harness.execute.limits import Limits
from harness.model.errors import InputError
from harness.model.vocabulary import HandleModel

RUNNER_DIR = Path(__file__).resolve().parent.parent / "runners" / "jco"
#: The jco version package-lock.json pins; a different one installed is refused, not run.
JCO_VERSION = "1.35.0"
_WASM_PAGE = 1 << 16


def pinned_version() -> str:
    """The jco version the runner's lockfile pins (what ``npm ci`` installs), or JCO_VERSION without a lockfile."""
    try:
        lock = json.loads((RUNNER_DIR / "package-lock.json").read_text(encoding="utf-8"))
        found = lock["packages"]["node_modules/@bytecodealliance/jco"]["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return JCO_VERSION
    return found if isinstance(found, str) else JCO_VERSION


def install_command() -> str:
    return f"npm ci --prefix {RUNNER_DIR}"


class JcoBackend(ExternalBackend):
    """jco 1.35.0 on Node: per-type handle tables in generated JavaScript."""

    name: ClassVar[str] = "jco"
    model: ClassVar[HandleModel] = HandleModel.REAL
    expectations_from: ClassVar[str | None] = "real"
    runtime: ClassVar[str] = "jco"
    summary: ClassVar[str] = f"jco {JCO_VERSION} on Node: components transpiled to JavaScript"

    def runner_command(self, limits: Limits) -> list[str]:
        pages = max(1, limits.memory_bytes // _WASM_PAGE)
        return [
            shutil.which("node") or "node",
            f"--wasm-max-mem-pages={pages}",
            f"--wasm-max-table-size={limits.table_elements}",
            str(RUNNER_DIR / "runner.mjs"),
        ]

    def unavailable(self) -> InputError | None:
        if shutil.which("node") is None:
            return InputError(RUNNER_DIR / "package.json", "the jco backend needs Node.js 20: `node` is not on PATH")
        installed = RUNNER_DIR / "node_modules" / "@bytecodealliance" / "jco" / "package.json"
        try:
            found = json.loads(installed.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError):
            return InputError(RUNNER_DIR / "package.json", f"jco is not installed: run `{install_command()}`")
        if found != JCO_VERSION:
            message = f"jco {found} is installed where {JCO_VERSION} is pinned: run `{install_command()}`"
            return InputError(RUNNER_DIR / "package.json", message)
        return None

    def implementation_version(self) -> str:
        """The jco version ``package-lock.json`` pins, which ``unavailable`` insists is the one installed."""
        return pinned_version()

    def runner_files(self) -> tuple[Path, ...]:
        return (*sorted(RUNNER_DIR.glob("*.mjs")), RUNNER_DIR / "package-lock.json")
