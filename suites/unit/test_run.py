"""Running a scenario on a backend: steps, the poisoned instance, emits, host events, live resources."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.execute.run import RunContext
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import MANIFEST
from harness.model.trace import LiveResource, Status
from suites.unit.support import BASELINE, FIXTURE_GUESTS, MISFIT_WATS, run, write_scenario

BACKENDS = ("pseudo", "pseudo-reuse", "real")


@pytest.mark.parametrize("backend", BACKENDS)
def test_steps_after_a_trap_are_not_run(ctx: RunContext, backend: str) -> None:
    trace = run(ctx, backend, FIXTURE_GUESTS / "unreachable")
    assert [s.outcome.status for s in trace.steps] == [Status.TRAP, Status.NOT_RUN]


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_value_is_what_the_guest_returned(ctx: RunContext, backend: str) -> None:
    # baseline-roundtrip op 1 reads `arg` = 3 of the 5 bytes of "hello" and returns the count.
    trace = run(ctx, backend, BASELINE)
    assert (trace.steps[0].outcome.status, trace.steps[0].outcome.value) == (Status.VALUE, 3)


def test_step_records_what_was_called(ctx: RunContext) -> None:
    step = run(ctx, "real", BASELINE).steps[0]
    assert (step.index, step.component, step.op, step.arg) == (0, "a", 1, 3)


def test_emits_are_attributed_to_the_component_that_made_them(ctx: RunContext) -> None:
    trace = run(ctx, "real", FIXTURE_GUESTS / "give-own")
    assert [(e.component, e.tag) for e in trace.steps[0].emits] == [
        ("a", "handle"),
        ("a", "handle"),
        ("a", "gave-own"),
        ("b", "received"),
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_host_events_log_create_call_destroy(ctx: RunContext, backend: str) -> None:
    events = run(ctx, backend, BASELINE).steps[0].events
    assert [(e.kind, e.resource, e.detail) for e in events] == [
        ("create", "input-stream", ""),
        # The call's detail digests what the guest got: the first 3 bytes of 'hello'.
        ("call", "input-stream", f"read -> 3 bytes {hashlib.sha256(b'hel').hexdigest()[:8]}"),
        ("destroy", "input-stream", ""),
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_resources_never_dropped_are_live_at_teardown(ctx: RunContext, backend: str) -> None:
    trace = run(ctx, backend, FIXTURE_GUESTS / "wrong-type")
    assert trace.live == (LiveResource("input-stream", 1),)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nothing_is_live_after_every_handle_is_dropped(ctx: RunContext, backend: str) -> None:
    assert run(ctx, backend, BASELINE).live == ()


def test_each_run_starts_with_fresh_host_state(ctx: RunContext) -> None:
    # Reps count from 1 in every run: no host state leaks from one run into the next.
    first, second = (run(ctx, "real", FIXTURE_GUESTS / "wrong-type") for _ in range(2))
    assert first == second


def test_guest_that_does_not_compile_gives_an_error_trace(ctx: RunContext, tmp_path: Path) -> None:
    manifest = (BASELINE / MANIFEST).read_text(encoding="utf-8")
    folder = write_scenario(tmp_path, "broken", manifest, {"a.wat": MISFIT_WATS / "syntax-error.wat"})
    trace = run(ctx, "real", folder)
    assert (trace.steps, str(trace.error).startswith(f"{folder / 'a.wat'}:")) == ((), True)


def test_guest_that_does_not_fit_the_wit_gives_an_error_trace(ctx: RunContext, tmp_path: Path) -> None:
    manifest = (BASELINE / MANIFEST).read_text(encoding="utf-8")
    folder = write_scenario(tmp_path, "misfit", manifest, {"a.wat": MISFIT_WATS / "wrong-signature.wat"})
    trace = run(ctx, "real", folder)
    assert str(trace.error).startswith(f"{folder / 'a.wat'}: guest does not fit the WIT package")


def test_error_trace_still_records_the_module_hash(ctx: RunContext, tmp_path: Path) -> None:
    manifest = (BASELINE / MANIFEST).read_text(encoding="utf-8")
    folder = write_scenario(tmp_path, "misfit", manifest, {"a.wat": MISFIT_WATS / "wrong-signature.wat"})
    assert set(run(ctx, "real", folder).modules) == {"a"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_guest_defined_resource_is_shared_between_components(ctx: RunContext, backend: str) -> None:
    # guest-resource-shared: u makes c's counter at 10, bumps it by 5, reads it, gives it back.
    trace = run(ctx, backend, BUILTIN_GUESTS / "guest-resource-shared")
    assert [s.outcome.value for s in trace.steps[:3]] == [15, 15, 15]


def _reserved_kib() -> int:
    """This process's virtual memory size (Linux ``VmSize``), where a store's memory reservations show."""
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs /proc/self/status (Linux) to see reserved address space")
    line = next(line for line in status.read_text().splitlines() if line.startswith("VmSize:"))
    return int(line.split()[1])


@pytest.mark.parametrize("backend", ["pseudo", "real"])
def test_a_finished_run_gives_its_address_space_back(ctx: RunContext, backend: str) -> None:
    # Each store reserves several GiB of address space per linear memory; a run that left its
    # store alive made 30 runs hold hundreds of GiB, and a fuzzing campaign ran out after a few thousand.
    run(ctx, backend, FIXTURE_GUESTS / "unreachable")
    before = _reserved_kib()
    for _ in range(30):
        run(ctx, backend, FIXTURE_GUESTS / "unreachable")
    assert _reserved_kib() - before < 4 << 20
