"""What the unit tests share: where the fixtures are, copying scenarios, running the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.scenario import load_scenario
from harness.model.trace import Trace

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Small scenarios, each built to show one behaviour; they all meet their manifests.
FIXTURE_GUESTS = FIXTURES / "guests"
#: Core modules that do not fit the WIT package (bad-input cases).
MISFIT_WATS = FIXTURES / "misfits"
BASELINE = BUILTIN_GUESTS / "baseline-roundtrip"


def run(ctx: RunContext, backend: str, scenario_dir: Path) -> Trace:
    """Loads the scenario in ``scenario_dir`` and runs it on ``backend``."""
    return run_scenario(ctx, get_backend(backend), load_scenario(scenario_dir))


def emitted(trace: Trace, tag: str) -> list[tuple[str, int]]:
    """(component, value) of every ``probe.emit`` with ``tag``, in order."""
    return [(e.component, e.value) for step in trace.steps for e in step.emits if e.tag == tag]


def copy_scenario(source: Path, guests: Path, name: str | None = None) -> Path:
    """Copies a scenario folder into ``guests`` (under ``name``) and returns the copy."""
    target = guests / (name or source.name)
    shutil.copytree(source, target)
    return target


def write_scenario(guests: Path, name: str, manifest: str, wats: dict[str, str | Path]) -> Path:
    """A scenario folder from manifest text and WAT text (or a file to copy) per file name."""
    folder = guests / name
    folder.mkdir(parents=True)
    (folder / "scenario.toml").write_text(manifest, encoding="utf-8")
    for file_name, wat in wats.items():
        if isinstance(wat, Path):
            shutil.copyfile(wat, folder / file_name)
        else:
            (folder / file_name).write_text(wat, encoding="utf-8")
    return folder


def line_of(path: Path, needle: str) -> int:
    """1-based number of the first line of ``path`` that contains ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in {path}")


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS`` in a fresh process, compiled code cached under ``cache``."""
    env = {**os.environ, "HANDLE_COMPAT_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def run_pytest(root: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A pytest session in a fresh process, rooted at ``root``, with the project's plugin loaded.

    No xdist and no cache provider, so its output is one session's, in order;
    compiled code is cached under ``cache`` when given.
    """
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    if cache is not None:
        env["HANDLE_COMPAT_CACHE_DIR"] = str(cache)
    plugin = ("-p", "harness.present.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:xdist")
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "--rootdir", str(root), *args],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=120,
        check=False,
    )


def edit_file(path: Path, old: str, new: str) -> None:
    """Replaces the first ``old`` in ``path`` by ``new``; a fixture that no longer holds ``old`` fails loudly."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_lines(completed: subprocess.CompletedProcess[str]) -> list[str]:
    """The non-empty lines a CLI run wrote to stderr."""
    return [line for line in completed.stderr.splitlines() if line.strip()]
