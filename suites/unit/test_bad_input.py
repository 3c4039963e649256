"""Unusable input, through the CLI: one line per problem naming the file (and line), exit 2,
and the good scenario next to the broken one still runs.

Each case builds a guests folder holding a copy of ``baseline-roundtrip`` and one
broken scenario, and runs ``python -m harness run --backend real`` on it.

Two scenarios with the same name cannot be made: the name is the folder's, and one
folder cannot hold two folders of the same name, so there is no case for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.model.paths import trace_path
from harness.model.scenario import MANIFEST
from harness.model.trace import Status, TraceSet
from harness.present.cli import EXIT_INPUT
from suites.unit.support import (
    BASELINE,
    FIXTURE_GUESTS,
    MISFIT_WATS,
    copy_scenario,
    edit_file,
    error_lines,
    line_of,
    run_cli,
)

#: Where the error must point: a file and its line, or a file with no line to name.
Blame = tuple[Path, int | None]


def _manifest_edit(old: str, new: str, marker: str) -> Callable[[Path], Blame]:
    """A broken manifest: ``old`` replaced by ``new``; the error is on the line holding ``marker``."""

    def make(folder: Path) -> Blame:
        manifest = folder / MANIFEST
        edit_file(manifest, old, new)
        return manifest, line_of(manifest, marker)

    return make


def _core_module(source: Path | str, line_marker: str | None = None) -> Callable[[Path], Blame]:
    """A broken ``a.wat``: copied from ``source`` or written from text."""

    def make(folder: Path) -> Blame:
        wat = folder / "a.wat"
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        wat.write_text(text, encoding="utf-8")
        return wat, line_of(wat, line_marker) if line_marker else None

    return make


def _non_utf8(folder: Path) -> Blame:
    manifest = folder / MANIFEST
    lines = manifest.read_bytes().split(b"\n")
    lines[4] = b"Caf\xe9 au lait"
    manifest.write_bytes(b"\n".join(lines))
    return manifest, 5


def _huge(folder: Path) -> Blame:
    manifest = folder / MANIFEST
    with manifest.open("a", encoding="utf-8") as handle:
        handle.write("# " + "x" * (50 << 20) + "\n")
    return manifest, None


def _deeply_nested(folder: Path) -> Blame:
    manifest = folder / MANIFEST
    with manifest.open("a", encoding="utf-8") as handle:
        handle.write("extra = " + "[" * 100_000 + "\n")
    return manifest, None


def _import_cycle(folder: Path) -> Blame:
    for name in ("a.wat", "b.wat"):
        (folder / name).write_bytes((FIXTURE_GUESTS / "give-own" / name).read_bytes())
    manifest = folder / MANIFEST
    text = (FIXTURE_GUESTS / "give-own" / MANIFEST).read_text(encoding="utf-8")
    manifest.write_text(text.replace('wat = "b.wat"\n', 'wat = "b.wat"\nimports = { peer = "a" }\n'), "utf-8")
    return manifest, line_of(manifest, "imports")


UNKNOWN_INTERFACE = """(module
  (import "handle-compat:io/nope@0.1.0" "emit" (func (param i32 i32)))
  (func (export "handle-compat:io/driver@0.1.0#run") (param i32 i64) (result i64) (i64.const 0)))
"""


@dataclass(frozen=True)
class Case:
    id: str
    #: Breaks the scenario copied into the folder; says which file and line the error must name.
    make: Callable[[Path], Blame]
    #: What the one error line must say about the problem.
    says: str


CASES = [
    Case("wat-syntax", _core_module(MISFIT_WATS / "syntax-error.wat", "i32.const oops"), "invalid core module"),
    # The canonical ABI lowers read(self, len: u64) -> result<list<u8>, _> to (i32 i64 i32).
    Case("wat-wrong-signature", _core_module(MISFIT_WATS / "wrong-signature.wat"), "(func (param i32 i64 i32))"),
    Case("wat-undeclared-function", _core_module(MISFIT_WATS / "undeclared-function.wat"), "open-sesame"),
    Case("wat-unknown-interface", _core_module(UNKNOWN_INTERFACE), "handle-compat:io/nope@0.1.0"),
    Case("toml-syntax", _manifest_edit("op = 2", "op = = 2", "op = = 2"), "TOML syntax"),
    Case("unknown-top-level-key", _manifest_edit("title =", 'colour = "red"\ntitle =', "colour"), "'colour'"),
    Case("unknown-step-key", _manifest_edit("op = 2", "op = 2\nwhen = 3", "when = 3"), "'when'"),
    Case("step-value-of-wrong-type", _manifest_edit("op = 2", 'op = "two"', 'op = "two"'), "must be int"),
    Case(
        "step-missing-key",
        _manifest_edit(
            '[[steps]]\ncall = "a"\nop = 2\n', '[[steps]]  # op is missing\ncall = "a"\n', "# op is missing"
        ),
        "needs 'op'",
    ),
    Case("unknown-component", _manifest_edit('call = "a"', 'call = "zz"', 'call = "zz"'), "'zz'"),
    Case("missing-wat-file", _manifest_edit('"a.wat"', '"missing.wat"', "missing.wat"), "missing.wat"),
    Case(
        "expectation-with-two-outcomes", _manifest_edit("value = 5,", 'value = 5, trap = "x",', 'trap = "x"'), "exactly"
    ),
    Case(
        "unknown-trap-kind",
        _manifest_edit("value = 5,", 'trap = "unknown-handel",', "unknown-handel"),
        "unknown-handel",
    ),
    Case("import-cycle", _import_cycle, "cycle"),
    Case("non-utf8-manifest", _non_utf8, "UTF-8"),
    Case("50-mb-manifest", _huge, "limit"),
    Case("deeply-nested-manifest", _deeply_nested, "deeply"),
]


@dataclass(frozen=True)
class Outcome:
    case: Case
    returncode: int
    stdout: str
    errors: list[str]
    blame: Blame
    traces: Path


@pytest.fixture(scope="module", params=CASES, ids=[case.id for case in CASES])
def outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One CLI run per case, shared by the tests below."""
    case: Case = request.param
    root = tmp_path_factory.mktemp(case.id)
    guests = root / "guests"
    copy_scenario(BASELINE, guests)
    blame = case.make(copy_scenario(BASELINE, guests, "broken"))
    reports = root / "reports"
    completed = run_cli("run", "--backend", "real", "--guests", str(guests), "--reports", str(reports), cache=root)
    return Outcome(
        case, completed.returncode, completed.stdout, error_lines(completed), blame, trace_path(reports, "real")
    )


def test_exit_code_says_unusable_input(outcome: Outcome) -> None:
    assert outcome.returncode == EXIT_INPUT


def test_one_error_line_naming_the_file_and_line(outcome: Outcome) -> None:
    path, line = outcome.blame
    where = f"{path}:{line}: " if line else f"{path}:"
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith(f"error: {where}"), outcome.errors


def test_error_line_says_what_is_wrong(outcome: Outcome) -> None:
    assert outcome.case.says in outcome.errors[0]


def test_good_scenario_still_runs(outcome: Outcome) -> None:
    assert re.search(r"^ok\s+baseline-roundtrip\b", outcome.stdout, re.MULTILINE), outcome.stdout


def test_good_scenario_trace_is_written(outcome: Outcome) -> None:
    trace = TraceSet.read(outcome.traces).traces["baseline-roundtrip"]
    assert [s.outcome.status for s in trace.steps] == [Status.VALUE, Status.VALUE]


# --- options ---------------------------------------------------------------------------------


def test_unknown_backend_is_one_line_and_exit_2(tmp_path: Path) -> None:
    completed = run_cli("run", "--backend", "nope", "--reports", str(tmp_path), cache=tmp_path)
    errors = error_lines(completed)
    assert (completed.returncode, len(errors)) == (EXIT_INPUT, 1)
    assert errors[0].startswith("error: --backend: unknown backend 'nope'")


def test_missing_guests_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    args = ("run", "--backend", "real", "--guests", str(absent), "--reports", str(tmp_path))
    completed = run_cli(*args, cache=tmp_path)
    errors = error_lines(completed)
    assert (completed.returncode, len(errors)) == (EXIT_INPUT, 1)
    assert errors[0].startswith(f"error: {absent}: ")
