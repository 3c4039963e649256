"""The op log (harness/model/oplog.py, harness/execute/wrap/oplog.py, harness/execute/oplog.py).

Each expected sequence below is written from the guest's WAT (what it calls, with
what, in which order) and from the handle model's numbering: pseudo keys are global,
from 3, never reused (wasmtime-wasi 2023 ``table.rs``); real indices are per component,
from 1, the last freed slot first (CanonicalABI.md ``HandleTable.add``). A ``borrow`` of
the receiver's own resource type arrives as the rep (CanonicalABI.md ``lower_borrow``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.execute.run import RunContext
from harness.model.errors import InputError
from harness.model.oplog import Action, HandleKind, Op, ops_from_json, ops_to_json
from harness.model.paths import BUILTIN_GUESTS
from harness.model.trace import Status, Trace, TraceSet, merge
from suites.unit.support import run

#: (component, action, function, peer, handle, resource, index, position) with the
#: function written without ``handle-compat:io/`` and ``@0.1.0``.
Row = tuple[str, str, str, str, str, str, int, int | None]


def _short(func: str) -> str:
    return func.replace("handle-compat:io/", "").replace("@0.1.0", "")


def _rows(trace: Trace, step: int) -> list[Row]:
    assert trace.error is None, trace.error
    return [
        (o.component, o.action.value, _short(o.func), o.peer, o.handle.value, o.resource, o.index, o.position)
        for o in trace.steps[step].ops
    ]


def _run(ctx: RunContext, backend: str, scenario: str) -> Trace:
    return run(ctx, backend, BUILTIN_GUESTS / scenario)


RUN = "driver#run"
READ = "streams#[method]input-stream.read"
DROP = "streams#[resource-drop]input-stream"
OPEN = "host#open-input"


@pytest.mark.parametrize(("backend", "h"), [("pseudo", 3), ("real", 1)])
def test_own_transfer_logs_the_give_the_receipt_and_the_use_after_giving(ctx: RunContext, backend: str, h: int) -> None:
    trace = _run(ctx, backend, "own-transfer")
    # a op 1: open-input, then take(h): b keeps it and reads 2 bytes through it.
    # b's table under real gets its first index, 1; under pseudo the global key crosses as is.
    assert _rows(trace, 0) == [
        ("a", "call-in", RUN, "host", "data", "", 1, None),
        ("a", "result-in", OPEN, "host", "own", "input-stream", h, None),
        ("a", "call-out", "peer#take", "b", "own", "input-stream", h, None),
        ("b", "call-in", "peer#take", "a", "own", "input-stream", h, None),
        ("b", "call-out", READ, "host", "borrow", "input-stream", h, None),
    ]
    # a op 2: reads through the index it gave away; under real the read traps at the boundary,
    # and the op that trapped is still in the log (from the replay of the step).
    assert _rows(trace, 1) == [
        ("a", "call-in", RUN, "host", "data", "", 2, None),
        ("a", "call-out", READ, "host", "borrow", "input-stream", h, None),
    ]
    assert trace.steps[1].ops_complete


def test_a_trapped_step_keeps_its_ops_and_the_steps_not_run_have_none(ctx: RunContext) -> None:
    trace = _run(ctx, "real", "own-transfer")
    assert [s.outcome.status for s in trace.steps] == [Status.VALUE, Status.TRAP, Status.NOT_RUN]
    assert [len(s.ops) for s in trace.steps] == [5, 2, 0]


@pytest.mark.parametrize(("backend", "a_h"), [("pseudo", 3), ("real", 1)])
def test_handle_as_u32_logs_the_integer_as_data_on_both_sides(ctx: RunContext, backend: str, a_h: int) -> None:
    trace = _run(ctx, backend, "handle-as-u32")
    assert _rows(trace, 0) == [
        ("a", "call-in", RUN, "host", "data", "", 1, None),
        ("a", "result-in", OPEN, "host", "own", "input-stream", a_h, None),
    ]
    # a op 2: poke(h) as a u32; b reads through the integer it got.
    assert _rows(trace, 1) == [
        ("a", "call-in", RUN, "host", "data", "", 2, None),
        ("a", "call-out", "peer#poke", "b", "data", "", a_h, None),
        ("b", "call-in", "peer#poke", "a", "data", "", a_h, None),
        ("b", "call-out", READ, "host", "borrow", "input-stream", a_h, None),
    ]


@pytest.mark.parametrize(("backend", "a_h", "b_h"), [("pseudo", 3, 4), ("real", 1, 1)])
def test_handle_as_list_logs_each_element_with_its_position(ctx: RunContext, backend: str, a_h: int, b_h: int) -> None:
    trace = _run(ctx, backend, "handle-as-list")
    assert _rows(trace, 0) == [
        ("a", "call-in", RUN, "host", "data", "", 1, None),
        ("a", "result-in", OPEN, "host", "own", "input-stream", a_h, None),
    ]
    # b op 1: b opens a stream of its own (pseudo: the next global key; real: b's first index).
    assert _rows(trace, 1) == [
        ("b", "call-in", RUN, "host", "data", "", 1, None),
        ("b", "result-in", OPEN, "host", "own", "input-stream", b_h, None),
    ]
    # a op 2: poke-list([h]); b reads through element 0 (under real that is b's own index 1).
    assert _rows(trace, 2) == [
        ("a", "call-in", RUN, "host", "data", "", 2, None),
        ("a", "call-out", "peer#poke-list", "b", "data", "", a_h, 0),
        ("b", "call-in", "peer#poke-list", "a", "data", "", a_h, 0),
        ("b", "call-out", READ, "host", "borrow", "input-stream", a_h, None),
    ]


@pytest.mark.parametrize(("backend", "h", "lent"), [("pseudo", 3, 3), ("real", 1, 1)])
def test_borrow_scoped_logs_the_lend_the_callee_use_and_its_drop(
    ctx: RunContext, backend: str, h: int, lent: int
) -> None:
    trace = _run(ctx, backend, "borrow-scoped")
    # a op 1: open, lend(h); b reads 1 byte through its borrow, drops it and returns.
    assert _rows(trace, 0) == [
        ("a", "call-in", RUN, "host", "data", "", 1, None),
        ("a", "result-in", OPEN, "host", "own", "input-stream", h, None),
        ("a", "call-out", "peer#lend", "b", "borrow", "input-stream", h, None),
        ("b", "call-in", "peer#lend", "a", "borrow", "input-stream", lent, None),
        ("b", "call-out", READ, "host", "borrow", "input-stream", lent, None),
        ("b", "drop", DROP, "", "any", "input-stream", lent, None),
        ("b", "return", "peer#lend", "a", "data", "", 0, None),
    ]
    assert _rows(trace, 1) == [
        ("a", "call-in", RUN, "host", "data", "", 2, None),
        ("a", "call-out", READ, "host", "borrow", "input-stream", h, None),
    ]
    assert _rows(trace, 2) == [
        ("a", "call-in", RUN, "host", "data", "", 3, None),
        ("a", "drop", DROP, "", "any", "input-stream", h, None),
    ]


@pytest.mark.parametrize(("backend", "b_h", "a_h"), [("pseudo", 3, 3), ("real", 1, 1)])
def test_hand_back_logs_the_result_out_of_b_and_into_a(ctx: RunContext, backend: str, b_h: int, a_h: int) -> None:
    trace = _run(ctx, backend, "hand-back")
    assert _rows(trace, 0) == [
        ("b", "call-in", RUN, "host", "data", "", 3, None),
        ("b", "result-in", OPEN, "host", "own", "input-stream", b_h, None),
    ]
    # a op 1: hand-back() -> own; a keeps it and reads 4 bytes.
    assert _rows(trace, 1) == [
        ("a", "call-in", RUN, "host", "data", "", 1, None),
        ("b", "result-out", "peer#hand-back", "a", "own", "input-stream", b_h, None),
        ("a", "result-in", "peer#hand-back", "b", "own", "input-stream", a_h, None),
        ("a", "call-out", READ, "host", "borrow", "input-stream", a_h, None),
    ]
    assert _rows(trace, 5) == [
        ("a", "call-in", RUN, "host", "data", "", 4, None),
        ("a", "drop", DROP, "", "any", "input-stream", a_h, None),
    ]


CTOR = "counters#[constructor]counter"


@pytest.mark.parametrize(("backend", "keys"), [("pseudo", (3, 4, 5, 5)), ("real", (1, 1, 1, 2))])
def test_guest_resource_roundtrip_logs_new_rep_drop_and_which_user_called(
    ctx: RunContext, backend: str, keys: tuple[int, int, int, int]
) -> None:
    """keys: c's index for each of the three counters, and u1's index for its second one.

    Under real, c's index 1 is freed each time the constructor's own result moves out
    (lift_own), so resource.new reuses it; u1's second counter is its index 2.
    """
    trace = _run(ctx, backend, "guest-resource-roundtrip")
    first, second, third, u1_second = keys
    u1_first = 3 if backend == "pseudo" else 1
    u2_first = second if backend == "pseudo" else 1
    assert _rows(trace, 0) == [
        ("u1", "call-in", RUN, "host", "data", "", 1, None),
        ("c", "new", "counters#[resource-new]counter", "", "own", "counter", first, None),
        ("c", "result-out", CTOR, "u1", "own", "counter", first, None),
        ("u1", "result-in", CTOR, "c", "own", "counter", u1_first, None),
    ]
    assert _rows(trace, 1) == [
        ("u2", "call-in", RUN, "host", "data", "", 1, None),
        ("c", "new", "counters#[resource-new]counter", "", "own", "counter", second, None),
        ("c", "result-out", CTOR, "u2", "own", "counter", second, None),
        ("u2", "result-in", CTOR, "c", "own", "counter", u2_first, None),
    ]
    assert _rows(trace, 2)[1:] == [
        ("c", "new", "counters#[resource-new]counter", "", "own", "counter", third, None),
        ("c", "result-out", CTOR, "u1", "own", "counter", third, None),
        ("u1", "result-in", CTOR, "c", "own", "counter", u1_second, None),
    ]
    # u2 op 2: bump its first counter; c receives self as the rep: the cell at 264 (c's second cell),
    # and the export's return ends the borrow's scope.
    assert _rows(trace, 3) == [
        ("u2", "call-in", RUN, "host", "data", "", 2, None),
        ("u2", "call-out", "counters#[method]counter.bump", "c", "borrow", "counter", u2_first, None),
        ("c", "call-in", "counters#[method]counter.bump", "u2", "rep", "counter", 264, None),
        ("c", "return", "counters#[method]counter.bump", "u2", "data", "", 0, None),
    ]
    # u1 op 4 (step 8): consume its first counter; c gets an own index, asks its rep, drops it.
    consumed = first if backend == "pseudo" else 1
    assert _rows(trace, 7) == [
        ("u1", "call-in", RUN, "host", "data", "", 4, None),
        ("u1", "call-out", "counters#consume", "c", "own", "counter", u1_first, None),
        ("c", "call-in", "counters#consume", "u1", "own", "counter", consumed, None),
        ("c", "rep", "counters#[resource-rep]counter", "", "any", "counter", consumed, None),
        ("c", "drop", "counters#[resource-drop]counter", "", "any", "counter", consumed, None),
    ]


def _shape(trace: Trace) -> list[list[tuple[str, str, str, str, str, str, int | None]]]:
    """Every op without its raw value: what must not depend on the handle model."""
    return [
        [(o.component, o.action.value, o.func, o.peer, o.handle.value, o.resource, o.position) for o in s.ops]
        for s in trace.steps
    ]


@pytest.mark.parametrize("scenario", ["guest-resource-roundtrip", "lend-through-middle", "diamond-a-b-c-a"])
def test_the_op_log_has_the_same_shape_on_every_backend_when_the_runs_agree(ctx: RunContext, scenario: str) -> None:
    pseudo, real, reuse = (_run(ctx, b, scenario) for b in ("pseudo", "real", "pseudo-reuse"))
    assert [s.outcome for s in pseudo.steps] == [s.outcome for s in real.steps]
    assert sum(len(s.ops) for s in pseudo.steps) > 0
    assert _shape(pseudo) == _shape(real) == _shape(reuse)


def test_without_the_switch_the_trace_has_no_ops(tmp_path: Path) -> None:
    with RunContext(BUILTIN_GUESTS / "wit", oplog=False) as bare:
        trace = _run(bare, "real", "own-transfer")
    assert [s.outcome.short() for s in trace.steps] == ["value 2", "trap unknown-handle", "not run"]
    assert [s.ops for s in trace.steps] == [(), (), ()]


def test_ops_survive_a_trace_file_round_trip(ctx: RunContext, tmp_path: Path) -> None:
    trace = _run(ctx, "real", "guest-resource-roundtrip")
    path = tmp_path / "real.json"
    path.write_text(merge("real", "0", [trace]).to_json(), encoding="utf-8")
    assert TraceSet.read(path).traces["guest-resource-roundtrip"] == trace


def test_an_op_is_stored_as_one_short_array() -> None:
    op = Op("b", 2, 0, Action.CALL_IN, "handle-compat:io/peer@0.1.0#poke-list", "a", 7, HandleKind.DATA, "", 1)
    assert ops_to_json([op]) == [["b", "call-in", "handle-compat:io/peer@0.1.0#poke-list", "a", "data", "", 7, 1]]
    assert ops_from_json(ops_to_json([op]), 2) == (op,)


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        (1, "borrowed", "op 1 of step 1: 'borrowed' is not a valid Action"),
        (4, "weak", "op 1 of step 1: 'weak' is not a valid HandleKind"),
        (6, -1, "op 1 of step 1: index must be an integer from 0 to 2^32-1, not -1"),
        (7, "0", "op 1 of step 1: position must be an integer from 0 to 2^32-1, not '0'"),
    ],
)
def test_a_malformed_op_in_a_trace_file_is_named(
    ctx: RunContext, tmp_path: Path, field: int, value: object, complaint: str
) -> None:
    trace = _run(ctx, "pseudo", "handle-as-u32")
    data = json.loads(merge("pseudo", "0", [trace]).to_json())
    data["traces"]["handle-as-u32"]["steps"][0]["ops"][0][field] = value
    path = tmp_path / "pseudo.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as error:
        TraceSet.read(path)
    assert str(error.value) == f"{path}: corrupt trace file: scenario handle-as-u32: {complaint}"
