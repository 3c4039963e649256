"""Real handles through wasmtime's component model: per-component tables numbered from 1."""

from __future__ import annotations

from harness.execute.run import RunContext
from suites.unit.support import FIXTURE_GUESTS, emitted, run


def test_first_handle_index_in_a_component_is_1(ctx: RunContext) -> None:
    trace = run(ctx, "real", FIXTURE_GUESTS / "give-own")
    assert emitted(trace, "handle")[0] == ("a", 1)


def test_each_component_numbers_from_1(ctx: RunContext) -> None:
    # a holds indices 1 and 2 and gives away 2; b's table is its own, so it sees 1.
    trace = run(ctx, "real", FIXTURE_GUESTS / "give-own")
    (gave,), (received,) = emitted(trace, "gave-own"), emitted(trace, "received")
    assert (gave, received) == (("a", 2), ("b", 1))


def test_freed_slot_is_reused(ctx: RunContext) -> None:
    # CanonicalABI.md: a freed slot goes on the free list and is handed out next.
    trace = run(ctx, "real", FIXTURE_GUESTS / "reopen")
    assert emitted(trace, "handle") == [("a", 1), ("a", 1)]


def test_dropping_the_last_own_runs_the_host_destructor(ctx: RunContext) -> None:
    trace = run(ctx, "real", FIXTURE_GUESTS / "reopen")
    kinds = [(e.kind, e.resource) for e in trace.steps[0].events]
    assert kinds == [("create", "input-stream"), ("destroy", "input-stream")] * 2
