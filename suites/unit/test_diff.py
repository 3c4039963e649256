"""The differ on small hand-built traces (edge cases) and on traces of real wasm runs."""

from __future__ import annotations

from harness.compare.diff import diff_traces
from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import load_scenario
from harness.model.trace import Emit, Event, LiveResource, Outcome, Status, StepTrace, Trace
from harness.model.vocabulary import Category, TrapKind

VALUE_1 = Outcome(Status.VALUE, value=1)
UNKNOWN = Outcome(Status.TRAP, trap=TrapKind.UNKNOWN_HANDLE, message="unknown handle index 1")


def _step(index: int, outcome: Outcome, emits: tuple[Emit, ...] = (), events: tuple[Event, ...] = ()) -> StepTrace:
    return StepTrace(index, "a", 1, 0, outcome, emits, events)


def _trace(backend: str, *steps: StepTrace, live: tuple[LiveResource, ...] = ()) -> Trace:
    return Trace("s", backend, {"a": "0" * 64}, steps=steps, live=live)


def test_identical_traces_are_the_same() -> None:
    step = _step(0, VALUE_1)
    assert diff_traces(_trace("l", step), _trace("r", step)).same


def test_handle_values_are_normalized_per_component() -> None:
    left = _trace("l", _step(0, VALUE_1, (Emit("a", "handle", 3), Emit("b", "received", 3))))
    right = _trace("r", _step(0, VALUE_1, (Emit("a", "handle", 1), Emit("b", "received", 1))))
    assert diff_traces(left, right).same


def test_value_computed_from_an_index_is_numbering() -> None:
    events = (Event("create", "input-stream", 1),)
    left = _trace("l", _step(0, Outcome(Status.VALUE, value=3), events=events))
    right = _trace("r", _step(0, Outcome(Status.VALUE, value=1), events=events))
    assert diff_traces(left, right).categories == ("numbering",)


def test_trap_on_one_side_after_gave_own_is_ownership_transfer() -> None:
    given = _step(0, VALUE_1, (Emit("a", "gave-own", 3),))
    left = _trace("l", given, _step(1, VALUE_1))
    right = _trace("r", given, _step(1, UNKNOWN))
    result = diff_traces(left, right)
    assert result.first is not None
    assert (result.first.step, result.first.category) == (1, Category.OWNERSHIP_TRANSFER)


def test_trap_on_one_side_without_intent_is_other() -> None:
    result = diff_traces(_trace("l", _step(0, VALUE_1)), _trace("r", _step(0, UNKNOWN)))
    assert result.categories == ("other",)


def test_borrow_traps_are_borrow_rules_whatever_the_tags() -> None:
    lent = Outcome(Status.TRAP, trap=TrapKind.OWN_LENT)
    result = diff_traces(_trace("l", _step(0, VALUE_1, (Emit("a", "dropped", 3),))), _trace("r", _step(0, lent)))
    assert result.categories == ("borrow-rules",)


def test_different_trap_kinds_are_trap_kind() -> None:
    wrong = Outcome(Status.TRAP, trap=TrapKind.WRONG_TYPE)
    assert diff_traces(_trace("l", _step(0, wrong)), _trace("r", _step(0, UNKNOWN))).categories == ("trap-kind",)


def test_steps_not_run_after_a_trap_are_consequences() -> None:
    left = _trace("l", _step(0, UNKNOWN), _step(1, Outcome(Status.NOT_RUN)))
    right = _trace("r", _step(0, VALUE_1), _step(1, VALUE_1))
    result = diff_traces(left, right)
    assert [d.consequence for d in result.divergences] == [False, True]
    assert result.categories == ("other",)


def test_length_mismatch_is_reported() -> None:
    result = diff_traces(_trace("l", _step(0, VALUE_1)), _trace("r", _step(0, VALUE_1), _step(1, VALUE_1)))
    assert [(d.step, d.detail) for d in result.divergences] == [(None, "1 steps vs 2 steps")]


def test_destroy_in_another_step_is_destructor_timing() -> None:
    destroy = (Event("destroy", "input-stream", 1),)
    left = _trace("l", _step(0, VALUE_1, events=destroy), _step(1, VALUE_1))
    right = _trace("r", _step(0, VALUE_1), _step(1, VALUE_1, events=destroy))
    assert diff_traces(left, right).categories == ("destructor-timing",)


def test_extra_event_without_rule_is_other() -> None:
    extra = (Event("call", "input-stream", 1, "read"),)
    result = diff_traces(_trace("l", _step(0, VALUE_1, events=extra)), _trace("r", _step(0, VALUE_1)))
    assert result.categories == ("other",)


def test_resource_live_on_one_side_only_is_leak() -> None:
    live = (LiveResource("input-stream", 1),)
    result = diff_traces(_trace("l", _step(0, VALUE_1), live=live), _trace("r", _step(0, VALUE_1)))
    assert result.categories == ("leak",)


def test_real_runs_of_own_transfer_diverge_at_step_two_as_ownership_transfer() -> None:
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    scenario = load_scenario(BUILTIN_GUESTS / "own-transfer")
    left, right = (run_scenario(ctx, get_backend(name), scenario) for name in ("pseudo", "real"))
    result = diff_traces(left, right)
    assert result.first is not None
    assert (result.first.step, result.first.left, result.first.right) == (1, "value 1", "trap unknown-handle")
    assert result.categories == ("ownership-transfer",)


def test_real_runs_of_a_scoped_borrow_are_the_same() -> None:
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    scenario = load_scenario(BUILTIN_GUESTS / "borrow-scoped")
    left, right = (run_scenario(ctx, get_backend(name), scenario) for name in ("pseudo", "real"))
    assert diff_traces(left, right).same


def test_an_index_reused_after_a_drop_gets_a_new_name() -> None:
    left = _trace("l", _step(0, VALUE_1, (Emit("a", "handle", 3), Emit("a", "dropped", 3), Emit("a", "handle", 4))))
    right = _trace("r", _step(0, VALUE_1, (Emit("a", "handle", 1), Emit("a", "dropped", 1), Emit("a", "handle", 1))))
    assert diff_traces(left, right).same


def test_a_first_drop_in_the_diverging_step_defers_to_where_the_index_came_from() -> None:
    received = _step(0, VALUE_1, (Emit("b", "raw", 3),))
    left = _trace("l", received, _step(1, VALUE_1, (Emit("b", "dropped", 3),)))
    right = _trace("r", received, _step(1, UNKNOWN, (Emit("b", "dropped", 3),)))
    assert diff_traces(left, right).categories == ("isolation",)


def test_a_second_drop_of_the_same_index_is_use_after_free() -> None:
    dropped = _step(0, VALUE_1, (Emit("a", "handle", 3), Emit("a", "dropped", 3)))
    left = _trace("l", dropped, _step(1, UNKNOWN, (Emit("a", "dropped", 3),)))
    right = _trace("r", dropped, _step(1, VALUE_1, (Emit("a", "dropped", 3),)))
    assert diff_traces(left, right).categories == ("use-after-free",)


def test_a_destroy_the_other_run_never_does_is_leak() -> None:
    destroy = (Event("destroy", "input-stream", 1),)
    left = _trace("l", _step(0, VALUE_1, events=destroy))
    right = _trace("r", _step(0, VALUE_1), live=(LiveResource("input-stream", 1),))
    assert diff_traces(left, right).categories == ("leak",)


def test_the_called_components_tags_explain_before_other_components_tags() -> None:
    given = _step(0, VALUE_1, (Emit("u", "gave-own", 1), Emit("c", "dropped", 1)))
    left = _trace("l", given, StepTrace(1, "u", 2, 0, UNKNOWN))
    right = _trace("r", given, StepTrace(1, "u", 2, 0, VALUE_1))
    assert diff_traces(left, right).categories == ("ownership-transfer",)


def test_a_step_without_emits_reads_as_none_in_the_detail() -> None:
    left = _trace("l", _step(0, VALUE_1))
    right = _trace("r", _step(0, VALUE_1, (Emit("a", "dropped", 1),)))
    result = diff_traces(left, right)
    assert result.first is not None
    assert result.first.detail.endswith("; emits differ: none vs a:dropped=h1")
