"""The differ on small hand-built traces (edge cases) and on traces of real wasm runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.compare.diff import diff_traces
from harness.execute.backends import get_backend
from harness.execute.backends.host import StreamHost
from harness.execute.backends.pseudo import PseudoBackend
from harness.execute.run import RunContext, run_scenario
from harness.model.oplog import HOST_PEER, Action, HandleKind, Op
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import discover, load_scenario
from harness.model.trace import Emit, Event, LiveResource, Outcome, Status, StepTrace, Trace
from harness.model.vocabulary import Category, TrapKind
from harness.model.wit import Function, WitPackage

VALUE_1 = Outcome(Status.VALUE, value=1)
UNKNOWN = Outcome(Status.TRAP, trap=TrapKind.UNKNOWN_HANDLE, message="unknown handle index 1")


def _step(
    index: int,
    outcome: Outcome,
    emits: tuple[Emit, ...] = (),
    events: tuple[Event, ...] = (),
    ops: tuple[tuple[str, Action, str, HandleKind, int], ...] = (),
) -> StepTrace:
    """A step of component a; ``ops`` as (component, action, peer, handle, index), all on input streams."""
    logged = tuple(
        Op(c, index, seq, action, "f", peer, value, handle, "" if handle is HandleKind.DATA else "input-stream")
        for seq, (c, action, peer, handle, value) in enumerate(ops)
    )
    return StepTrace(index, "a", 1, 0, outcome, emits, events, logged)


def _opened(index: int) -> tuple[str, Action, str, HandleKind, int]:
    return ("a", Action.RESULT_IN, HOST_PEER, HandleKind.OWN, index)


def _read(component: str, index: int) -> tuple[str, Action, str, HandleKind, int]:
    return (component, Action.CALL_OUT, HOST_PEER, HandleKind.BORROW, index)


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
    left = _trace("l", _step(0, Outcome(Status.VALUE, value=3), events=events, ops=(_opened(3),)))
    right = _trace("r", _step(0, Outcome(Status.VALUE, value=1), events=events, ops=(_opened(1),)))
    assert diff_traces(left, right).categories == ("numbering",)


def test_a_different_value_under_the_same_numbers_is_other() -> None:
    # Nothing in the handles differs, so the value cannot have come from an index.
    left = _trace("l", _step(0, Outcome(Status.VALUE, value=3), ops=(_opened(1),)))
    right = _trace("r", _step(0, Outcome(Status.VALUE, value=1), ops=(_opened(1),)))
    assert diff_traces(left, right).categories == ("other",)


def test_the_host_answering_the_same_read_differently_is_other_not_numbering() -> None:
    def step(answer: str, index: int, value: int) -> StepTrace:
        events = (Event("create", "input-stream", 1), Event("call", "input-stream", 1, f"read -> {answer}"))
        return _step(0, Outcome(Status.VALUE, value=value), events=events, ops=(_opened(index), _read("a", index)))

    result = diff_traces(_trace("l", step("1 bytes aaaaaaaa", 3, 7)), _trace("r", step("1 bytes bbbbbbbb", 1, 8)))
    assert result.categories == ("other",)
    assert result.first is not None and result.first.detail.startswith("the host answered the same request differently")


def test_trap_on_one_side_after_giving_the_own_away_is_ownership_transfer() -> None:
    def given(index: int) -> StepTrace:
        gave = ("a", Action.CALL_OUT, "b", HandleKind.OWN, index)
        return _step(0, VALUE_1, ops=(_opened(index), gave, ("b", Action.CALL_IN, "a", HandleKind.OWN, index)))

    left = _trace("l", given(3), _step(1, VALUE_1, ops=(_read("a", 3),)))
    right = _trace("r", given(1), _step(1, UNKNOWN, ops=(_read("a", 1),)))
    result = diff_traces(left, right)
    assert result.first is not None
    assert (result.first.step, result.first.category) == (1, Category.OWNERSHIP_TRANSFER)


def test_a_gave_own_tag_without_the_ops_explains_nothing() -> None:
    given = _step(0, VALUE_1, (Emit("a", "gave-own", 3),))
    result = diff_traces(_trace("l", given, _step(1, VALUE_1)), _trace("r", given, _step(1, UNKNOWN)))
    assert result.categories == ("other",)


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


def test_an_index_received_as_a_u32_and_used_is_isolation() -> None:
    def sent(index: int) -> StepTrace:
        poke = ("a", Action.CALL_OUT, "b", HandleKind.DATA, index)
        return _step(0, VALUE_1, ops=(_opened(index), poke, ("b", Action.CALL_IN, "a", HandleKind.DATA, index)))

    left = _trace("l", sent(3), _step(1, VALUE_1, ops=(_read("b", 3),)))
    right = _trace("r", sent(1), _step(1, UNKNOWN, ops=(_read("b", 1),)))
    result = diff_traces(left, right)
    assert result.categories == ("isolation",)
    assert result.first is not None and result.first.right_provenance.startswith(
        "b used 1, which it never held: a sent 1"
    )


def test_a_second_drop_of_the_same_index_is_use_after_free() -> None:
    def dropped(index: int) -> StepTrace:
        return _step(0, VALUE_1, ops=(_opened(index), ("a", Action.DROP, "", HandleKind.ANY, index)))

    again = ("a", Action.DROP, "", HandleKind.ANY, 3)
    left = _trace("l", dropped(3), _step(1, UNKNOWN, ops=(again,)))
    right = _trace("r", dropped(1), _step(1, VALUE_1, ops=(_opened(1), ("a", Action.DROP, "", HandleKind.ANY, 1))))
    assert diff_traces(left, right).categories == ("use-after-free",)


def test_a_destroy_the_other_run_never_does_is_leak() -> None:
    destroy = (Event("destroy", "input-stream", 1),)
    left = _trace("l", _step(0, VALUE_1, events=destroy))
    right = _trace("r", _step(0, VALUE_1), live=(LiveResource("input-stream", 1),))
    assert diff_traces(left, right).categories == ("leak",)


def test_a_step_where_only_the_emits_differ_is_not_a_divergence() -> None:
    left = _trace("l", _step(0, VALUE_1))
    right = _trace("r", _step(0, VALUE_1, (Emit("a", "dropped", 1),)))
    assert diff_traces(left, right).same


def test_the_emits_of_a_divergent_step_are_shown_as_narration() -> None:
    left = _trace("l", _step(0, VALUE_1))
    right = _trace("r", _step(0, UNKNOWN, (Emit("a", "dropped", 1),)))
    result = diff_traces(left, right)
    assert result.first is not None
    assert result.first.detail.endswith("; emits differ: none vs a:dropped=h1")


class _UpperCaseReadsPseudo(PseudoBackend):
    """Pseudo-handles whose read answers are upper-cased on their way to the guest: a host bug."""

    name: ClassVar[str] = "pseudo-upper-case-reads"

    def _adapt(self, impl: Any, wit: WitPackage, fn: Function, table: Any, caller: str, host: StreamHost) -> Any:
        def upper(*args: Any) -> Any:
            answer = impl(*args)
            return answer.upper() if isinstance(answer, bytes) else answer

        return super()._adapt(upper if fn.name == "[method]input-stream.read" else impl, wit, fn, table, caller, host)


def test_a_host_bug_against_the_other_model_is_other_not_numbering(ctx: RunContext) -> None:
    # The numbers differ by design between the models, so only the digest of what the guest
    # got back (taken where the answer leaves for the guest) tells a wrong read from an index.
    scenario = load_scenario(BUILTIN_GUESTS / "host-destructor-on-drop")
    left, right = run_scenario(ctx, _UpperCaseReadsPseudo(), scenario), run_scenario(ctx, get_backend("real"), scenario)
    assert diff_traces(left, right).categories == ("other",)


def _without_emits(trace: Trace) -> Trace:
    return dataclasses.replace(trace, steps=tuple(dataclasses.replace(s, emits=()) for s in trace.steps))


@pytest.mark.parametrize("folder", discover(BUILTIN_GUESTS), ids=lambda folder: folder.name)
def test_every_builtin_scenario_gets_its_declared_categories_without_its_emits(ctx: RunContext, folder: Path) -> None:
    """Categories come from the op log and the host's events: the probe's narration is not needed."""
    scenario = load_scenario(folder)
    left, right = (_without_emits(run_scenario(ctx, get_backend(name), scenario)) for name in ("pseudo", "real"))
    assert diff_traces(left, right).categories == tuple(sorted(scenario.diverges))


def test_per_type_tables_sharing_index_numbers_run_like_real_where_no_type_is_confused(ctx: RunContext) -> None:
    # spec-per-type gives a's 5 input and 5 output streams the indices 1-5 each; real gives 1-10.
    scenario = load_scenario(BUILTIN_GUESTS / "destructor-runs-once")
    left, right = (run_scenario(ctx, get_backend(name), scenario) for name in ("spec-per-type", "real"))
    assert diff_traces(left, right).same


def test_an_index_used_as_another_type_reaching_a_per_type_tables_own_resource_is_forgery(ctx: RunContext) -> None:
    # real traps wrong-type on the output stream's index read as an input stream; per-type tables
    # (component-model PR #176) read a's input stream at that number: a never held it as one.
    scenario = load_scenario(BUILTIN_GUESTS / "wrong-type-index")
    left, right = (run_scenario(ctx, get_backend(name), scenario) for name in ("spec-per-type", "real"))
    assert diff_traces(left, right).categories == ("forgery",)
