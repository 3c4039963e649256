"""Runaway guests: every call has a deadline and a memory cap, and a runaway ends only its own scenario."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.compare.expect import check
from harness.execute.backends import get_backend
from harness.execute.limits import Limits
from harness.execute.run import RunContext
from harness.execute.traps import OUT_OF_MEMORY_TAG, reported_out_of_memory
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.scenario import MANIFEST, load_scenario
from harness.model.trace import Emit, Status
from harness.model.vocabulary import TrapKind
from harness.present.cli import EXIT_INPUT
from suites.unit.support import BASELINE, FIXTURE_GUESTS, copy_scenario, emitted, error_lines, run, run_cli

BACKENDS = ("pseudo", "pseudo-reuse", "real")
LOOP = BUILTIN_GUESTS / "runaway-infinite-loop"
BOMB = BUILTIN_GUESTS / "runaway-memory-bomb"
GROW_AND_SURVIVE = """(module
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "out-of-memory")
  (func (export "handle-compat:io/driver@0.1.0#run") (param i32 i64) (result i64)
    (loop $more (br_if $more (i32.ne (memory.grow (i32.const 64)) (i32.const -1))))
    (call $emit (i32.const 16) (i32.const 13) (i64.extend_i32_u (memory.size)))
    (i64.extend_i32_u (memory.size))))
"""
SPIN_AT_START = """(module
  (func $spin (loop $forever (br $forever)))
  (start $spin)
  (func (export "handle-compat:io/driver@0.1.0#run") (param i32 i64) (result i64) (i64.const 0)))
"""


@pytest.fixture(scope="module")
def short() -> Iterator[RunContext]:
    """A context whose default deadline is 50 ms and memory cap 8 MiB."""
    context = RunContext(BUILTIN_GUESTS / "wit", limits=Limits(step_timeout_s=0.05, memory_bytes=8 << 20))
    yield context
    context.close()


def _without_timeout(tmp_path: Path, source: Path) -> Path:
    """A copy of ``source`` whose manifest sets no step-timeout-ms."""
    folder = copy_scenario(source, tmp_path)
    manifest = folder / MANIFEST
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    manifest.write_text("".join(ln for ln in lines if not ln.startswith("step-timeout-ms")), encoding="utf-8")
    return folder


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_infinite_loop_ends_its_step_with_timeout(ctx: RunContext, backend: str) -> None:
    trace = run(ctx, backend, LOOP)
    assert [s.outcome.short() for s in trace.steps] == ["value 2", "trap timeout", "not run"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_memory_bomb_ends_its_step_with_resource_limit(ctx: RunContext, backend: str) -> None:
    trace = run(ctx, backend, BOMB)
    assert [s.outcome.short() for s in trace.steps] == ["value 2", "trap resource-limit", "not run"]


def test_the_memory_cap_is_where_grow_fails(ctx: RunContext) -> None:
    # 64 MiB = 1024 pages; from 2 pages in steps of 16 the last grow that fits reaches 1010.
    assert emitted(run(ctx, "real", BOMB), OUT_OF_MEMORY_TAG) == [("a", 1010)]


def test_a_smaller_memory_limit_makes_grow_fail_sooner(short: RunContext) -> None:
    # 8 MiB = 128 pages: 2 + 16 * 7 = 114 pages, the next grow would need 130.
    assert emitted(run(short, "real", BOMB), OUT_OF_MEMORY_TAG) == [("a", 114)]


def test_a_timeout_names_the_deadline(ctx: RunContext) -> None:
    message = run(ctx, "real", LOOP).steps[1].outcome.message
    assert message.endswith("(deadline 100 ms)")


def test_the_manifest_deadline_wins_over_the_default(short: RunContext) -> None:
    assert short.step_timeout_s(load_scenario(LOOP)) == pytest.approx(0.1)


def test_the_default_deadline_applies_where_the_manifest_sets_none(short: RunContext, tmp_path: Path) -> None:
    outcome = run(short, "pseudo", _without_timeout(tmp_path, LOOP)).steps[1].outcome
    assert (outcome.trap, outcome.message.endswith("(deadline 50 ms)")) == (TrapKind.TIMEOUT, True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_scenarios_after_runaways_still_meet_their_manifests(ctx: RunContext, backend: str) -> None:
    for runaway in (LOOP, BOMB):
        run(ctx, backend, runaway)
    after = [BASELINE, BUILTIN_GUESTS / "own-transfer", BUILTIN_GUESTS / "borrow-scoped"]
    fallback = get_backend(backend).expectations_from
    mismatches = [
        mismatch
        for folder in after
        for mismatch in check(load_scenario(folder), run(ctx, backend, folder), backend, fallback)
    ]
    assert mismatches == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_start_function_that_never_returns_ends_instantiation(ctx: RunContext, tmp_path: Path, backend: str) -> None:
    trace = run(ctx, backend, _single_step(tmp_path, "spin-at-start", SPIN_AT_START, "step-timeout-ms = 50\n"))
    error = trace.error or ""
    assert (trace.steps, "cannot instantiate" in error, "interrupt" in error) == ((), True, True)


def test_a_guest_trap_without_an_out_of_memory_report_stays_a_guest_trap(ctx: RunContext) -> None:
    trace = run(ctx, "real", FIXTURE_GUESTS / "unreachable")
    assert trace.steps[0].outcome.trap is TrapKind.GUEST_TRAP


def test_an_out_of_memory_emit_is_recognized() -> None:
    emits = [Emit("a", "handle", 3), Emit("a", OUT_OF_MEMORY_TAG, 1010)]
    assert (reported_out_of_memory(emits), reported_out_of_memory(emits[:1])) == (True, False)


def _single_step(tmp_path: Path, name: str, wat: str, header: str = "") -> Path:
    """A one-component scenario around ``wat``, with the unreachable fixture's manifest."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "a.wat").write_text(wat, encoding="utf-8")
    manifest = (FIXTURE_GUESTS / "unreachable" / MANIFEST).read_text(encoding="utf-8")
    (folder / MANIFEST).write_text(header + manifest, encoding="utf-8")
    return folder


def test_a_value_after_an_out_of_memory_report_stays_a_value(short: RunContext, tmp_path: Path) -> None:
    # A guest that survives a refused grow returns normally: only a trap becomes resource-limit.
    trace = run(short, "real", _single_step(tmp_path, "grow-and-survive", GROW_AND_SURVIVE))
    assert (trace.steps[0].outcome.status, trace.steps[0].outcome.value) == (Status.VALUE, 65)


@pytest.mark.parametrize("value", ["0", "-5", "60001", "600000", '"100"', "1.5"])
def test_a_step_timeout_outside_its_range_is_refused(tmp_path: Path, value: str) -> None:
    folder = _without_timeout(tmp_path, LOOP)
    manifest = folder / MANIFEST
    manifest.write_text(f"step-timeout-ms = {value}\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match="step-timeout-ms") as raised:
        load_scenario(folder)
    assert raised.value.line == 1


@pytest.mark.parametrize("limits", [{"step_timeout_s": 0.0}, {"memory_bytes": 0}])
def test_limits_must_be_positive(limits: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Limits(**limits)


def test_a_closed_watchdog_refuses_to_arm() -> None:
    context = RunContext(BUILTIN_GUESTS / "wit")
    context.close()
    with pytest.raises(RuntimeError, match="closed"):
        run(context, "real", BASELINE)


BAD_OPTIONS = [
    ("--step-timeout", "inf"),
    ("--step-timeout", "1e300"),
    ("--step-timeout", "nan"),
    ("--step-timeout", "0"),
    ("--step-timeout", "-1"),
    ("--step-timeout", "61"),
    ("--memory-limit", "0"),
    ("--memory-limit", "-1"),
    ("--memory-limit", "4097"),
    ("--memory-limit", "1e300"),
    ("--memory-limit", "nan"),
]


def _names(value: str, line: str) -> bool:
    """Whether an error line quotes the refused value (out of range, or not a number at all)."""
    return line.endswith(f"not {value}") or f"{value!r} is not" in line


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS)
def test_the_cli_refuses_a_limit_outside_its_range_with_one_line(tmp_path: Path, option: str, value: str) -> None:
    completed = run_cli(
        "run", "--backend", "pseudo", "--reports", str(tmp_path / "reports"), f"{option}={value}", cache=tmp_path
    )
    # argparse prints the usage (wrapped over lines), then the one error line.
    errors = [line for line in error_lines(completed) if "error:" in line]
    assert (completed.returncode, f"{option}: " in errors[-1], _names(value, errors[-1]), len(errors)) == (
        EXIT_INPUT,
        True,
        True,
        1,
    )


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS)
def test_the_pytest_plugin_refuses_a_limit_outside_its_range(tmp_path: Path, option: str, value: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", f"{option}={value}"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    # pytest prints its usage line and where it ran around the one error line.
    errors = [line for line in error_lines(completed) if "error:" in line]
    assert (completed.returncode, len(errors), f"{option}: " in errors[0], _names(value, errors[0])) == (
        pytest.ExitCode.USAGE_ERROR,
        1,
        True,
        True,
    )


@pytest.mark.parametrize("seconds", [float("inf"), 1e300, float("nan"), 61.0])
def test_limits_refuse_a_deadline_the_watchdog_cannot_keep(seconds: float) -> None:
    with pytest.raises(ValueError, match="step timeout must be positive and at most 60 s"):
        Limits(step_timeout_s=seconds)
