"""Provenance (harness/compare/provenance.py) on hand-built op logs, one rule each; no wasm runs.

Each log is written as a guest would produce it under real handles (per-component
indices from 1, the last freed slot first: CanonicalABI.md ``HandleTable.add``) or
pseudo-handles (global keys from 3: wasmtime-wasi 2023 ``table.rs``); provenance must
not depend on which.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.compare.provenance import Release, Seen, Standing, of_ops
from harness.model.oplog import HOST_PEER, Action, HandleKind, Op

OPEN = "handle-compat:io/host@0.1.0#open-input"
READ = "handle-compat:io/streams@0.1.0#[method]input-stream.read"
DROP = "handle-compat:io/streams@0.1.0#[resource-drop]input-stream"
TAKE = "handle-compat:io/peer@0.1.0#take"
LEND = "handle-compat:io/peer@0.1.0#lend"
POKE = "handle-compat:io/peer@0.1.0#poke"
STREAM = "input-stream"
#: (component, action, func, peer, handle, index)
Row = tuple[str, Action, str, str, HandleKind, int]


def _step(step: int, *rows: Row) -> list[Op]:
    """Ops of one step from (component, action, func, peer, handle, index) rows, in order."""
    return [
        Op(component, step, seq, action, func, peer, index, handle, "" if handle is HandleKind.DATA else STREAM)
        for seq, (component, action, func, peer, handle, index) in enumerate(rows)
    ]


def _opened(component: str, index: int) -> Row:
    return (component, Action.RESULT_IN, OPEN, HOST_PEER, HandleKind.OWN, index)


def _read(component: str, index: int) -> Row:
    return (component, Action.CALL_OUT, READ, HOST_PEER, HandleKind.BORROW, index)


def _last(steps: Sequence[Sequence[Op]]) -> Seen:
    return of_ops("real", steps).steps[-1][-1]


def _standing(steps: Sequence[Sequence[Op]]) -> Standing:
    seen = _last(steps)
    assert seen.use is not None
    return seen.use.standing


def test_an_index_the_component_was_given_by_the_host_is_held() -> None:
    assert _standing([_step(0, _opened("a", 1), _read("a", 1))]) is Standing.HELD


def test_a_use_after_the_components_own_drop_is_after_drop() -> None:
    dropped = _step(0, _opened("a", 1), ("a", Action.DROP, DROP, "", HandleKind.ANY, 1))
    assert _standing([dropped, _step(1, _read("a", 1))]) is Standing.AFTER_DROP


def test_a_use_after_passing_the_own_to_a_peer_is_after_giving() -> None:
    given = _step(
        0,
        _opened("a", 1),
        ("a", Action.CALL_OUT, TAKE, "b", HandleKind.OWN, 1),
        ("b", Action.CALL_IN, TAKE, "a", HandleKind.OWN, 1),
    )
    assert _standing([given, _step(1, _read("a", 1))]) is Standing.AFTER_GIVING


def test_the_receiver_of_an_own_holds_it() -> None:
    given = _step(
        0,
        _opened("a", 1),
        ("a", Action.CALL_OUT, TAKE, "b", HandleKind.OWN, 1),
        ("b", Action.CALL_IN, TAKE, "a", HandleKind.OWN, 1),
    )
    assert _standing([given, _step(1, _read("b", 1))]) is Standing.HELD


def _lent(index: int, returned: bool) -> list[Row]:
    """a opens a stream and lends it to b, which reads through it and drops it (and returns)."""
    rows: list[Row] = [
        _opened("a", index),
        ("a", Action.CALL_OUT, LEND, "b", HandleKind.BORROW, index),
        ("b", Action.CALL_IN, LEND, "a", HandleKind.BORROW, index),
        _read("b", index),
        ("b", Action.DROP, DROP, "", HandleKind.ANY, index),
    ]
    if returned:
        rows.append(("b", Action.RETURN, LEND, "a", HandleKind.DATA, 0))
    return rows


def test_a_borrow_used_in_a_later_step_is_past_its_call_even_when_dropped_first() -> None:
    assert _standing([_step(0, *_lent(1, returned=False)), _step(1, _read("b", 1))]) is Standing.BORROW_PAST_CALL


def test_a_borrow_used_after_its_export_returned_in_the_same_step_is_past_its_call() -> None:
    assert _standing([_step(0, *_lent(1, returned=True), _read("b", 1))]) is Standing.BORROW_PAST_CALL


def test_a_borrow_used_after_its_drop_inside_its_call_is_after_drop() -> None:
    assert _standing([_step(0, *_lent(1, returned=False), _read("b", 1))]) is Standing.AFTER_DROP


def test_passing_a_received_borrow_on_as_own_is_borrow_as_own() -> None:
    ops = _step(
        0,
        _opened("a", 1),
        ("a", Action.CALL_OUT, LEND, "b", HandleKind.BORROW, 1),
        ("b", Action.CALL_IN, LEND, "a", HandleKind.BORROW, 1),
        ("b", Action.CALL_OUT, TAKE, "c", HandleKind.OWN, 1),
    )
    assert _standing([ops]) is Standing.BORROW_AS_OWN


def test_dropping_an_own_while_it_is_lent_is_own_while_lent() -> None:
    # b calls back into a during the lend (a's export receives data), and a drops the lent own.
    ops = _step(
        0,
        _opened("a", 1),
        ("a", Action.CALL_OUT, LEND, "b", HandleKind.BORROW, 1),
        ("b", Action.CALL_IN, LEND, "a", HandleKind.BORROW, 1),
        ("b", Action.CALL_OUT, POKE, "a", HandleKind.DATA, 7),
        ("a", Action.CALL_IN, POKE, "b", HandleKind.DATA, 7),
        ("a", Action.DROP, DROP, "", HandleKind.ANY, 1),
    )
    assert _standing([ops]) is Standing.OWN_WHILE_LENT


def test_the_lend_ends_when_the_borrowing_call_returns() -> None:
    dropped = ("a", Action.DROP, DROP, "", HandleKind.ANY, 1)
    assert _standing([_step(0, *_lent(1, returned=True), dropped)]) is Standing.HELD


def test_an_index_received_as_a_u32_from_another_component_is_received_as_data() -> None:
    sent = _step(
        0,
        _opened("a", 3),
        ("a", Action.CALL_OUT, POKE, "b", HandleKind.DATA, 3),
        ("b", Action.CALL_IN, POKE, "a", HandleKind.DATA, 3),
    )
    seen = _last([sent, _step(1, _read("b", 3))])
    assert seen.use is not None and seen.use.standing is Standing.RECEIVED_AS_DATA
    assert seen.use.receipt is not None and (seen.use.receipt.sender, seen.use.receipt.name) == ("a", "a#1")


def test_an_index_nobody_gave_is_never_held() -> None:
    assert _standing([_step(0, _opened("a", 3)), _step(1, _read("b", 3))]) is Standing.NEVER_HELD


def test_a_u32_from_the_host_does_not_make_an_index_received() -> None:
    ops = _step(0, ("b", Action.CALL_IN, "driver#run", HOST_PEER, HandleKind.DATA, 3), _read("b", 3))
    assert _standing([ops]) is Standing.NEVER_HELD


def test_handles_are_named_in_the_order_the_component_came_to_hold_them() -> None:
    # Under real the freed index 1 is reused for the second stream; its name is a#2 all the same.
    steps = [
        _step(0, _opened("a", 1), ("a", Action.DROP, DROP, "", HandleKind.ANY, 1)),
        _step(1, _opened("a", 1), _read("a", 1)),
    ]
    result = of_ops("real", steps)
    assert [seen.name for step in result.steps for seen in step] == ["a#1", "a#1", "a#2", "a#2"]


def test_the_same_log_under_other_numbers_lines_up_by_name() -> None:
    def log(first: int, second: int) -> list[list[Op]]:
        return [
            _step(0, _opened("a", first), ("a", Action.DROP, DROP, "", HandleKind.ANY, first)),
            _step(1, _opened("a", second), _read("a", second)),
        ]

    real, pseudo = of_ops("real", log(1, 1)), of_ops("pseudo", log(3, 4))
    assert all(
        a.lines_up_with(b) for ra, rb in zip(real.steps, pseudo.steps, strict=True) for a, b in zip(ra, rb, strict=True)
    )


def test_a_released_holding_records_how_and_to_whom() -> None:
    given = _step(
        0,
        _opened("a", 1),
        ("a", Action.CALL_OUT, TAKE, "b", HandleKind.OWN, 1),
        ("b", Action.CALL_IN, TAKE, "a", HandleKind.OWN, 1),
    )
    first = of_ops("real", [given]).holdings[0]
    assert (first.name, first.released, first.released_to) == ("a#1", Release.GIVEN_AWAY, "b")


def test_the_plain_words_name_the_sender_and_the_step() -> None:
    sent = _step(
        0,
        _opened("a", 3),
        ("a", Action.CALL_OUT, POKE, "b", HandleKind.DATA, 3),
        ("b", Action.CALL_IN, POKE, "a", HandleKind.DATA, 3),
    )
    seen = _last([sent, _step(1, _read("b", 3))])
    assert seen.use is not None
    assert seen.use.describe(seen.op) == (
        "b used 3, which it never held: a sent 3 (its index of a#1) to b as a u32 through poke in step 1"
    )


OPEN_OUTPUT = "handle-compat:io/host@0.1.0#open-output"
DROP_OUTPUT = "handle-compat:io/streams@0.1.0#[resource-drop]output-stream"


def _of_type(step: int, seq: int, action: Action, func: str, handle: HandleKind, resource: str) -> Op:
    """One op of component a at index 1, for a resource type of its own choosing."""
    peer = "" if action in (Action.DROP, Action.REP) else HOST_PEER
    return Op("a", step, seq, action, func, peer, 1, handle, resource)


def _both_streams_at_index_1() -> list[Op]:
    """a holds an input stream and an output stream at index 1, as one table per resource type gives them."""
    return [
        _of_type(0, 0, Action.RESULT_IN, OPEN, HandleKind.OWN, STREAM),
        _of_type(0, 1, Action.RESULT_IN, OPEN_OUTPUT, HandleKind.OWN, "output-stream"),
    ]


def test_handles_of_two_types_at_one_index_are_both_held() -> None:
    # Component-model PR #176: one table per resource type, so both streams are index 1.
    dropped = _of_type(1, 0, Action.DROP, DROP_OUTPUT, HandleKind.ANY, "output-stream")
    read = _of_type(1, 1, Action.CALL_OUT, READ, HandleKind.BORROW, STREAM)
    seen = _last([_both_streams_at_index_1(), [dropped, read]])
    assert seen.use is not None and seen.use.holding is not None
    assert (seen.use.standing, seen.use.holding.name) == (Standing.HELD, "a#1")


def test_an_index_used_as_a_type_it_is_not_held_as_is_never_held_and_names_the_handle_it_is() -> None:
    # Under one table per component the input stream is 1 and the output stream 2: reading 2 as an
    # input stream is the wrong type (CanonicalABI.md HandleTable.get: trap_if(h.rt is not rt)).
    opened = [
        _of_type(0, 0, Action.RESULT_IN, OPEN, HandleKind.OWN, STREAM),
        _of_type(0, 1, Action.RESULT_IN, OPEN_OUTPUT, HandleKind.OWN, "output-stream")._replace(index=2),
    ]
    seen = _last([opened, _step(1, _read("a", 2))])
    assert seen.use is not None and seen.use.holding is not None
    assert (seen.use.standing, seen.use.holding.name) == (Standing.NEVER_HELD, "a#2")
    assert seen.use.describe(seen.op).startswith("a used 2 as input-stream, which it never held as one: it holds a#2")


def test_a_stale_index_of_one_type_used_as_another_is_after_drop() -> None:
    # The input stream at 1 dropped, nothing else at 1: an output-stream use of 1 is a use after that drop.
    ops = [
        _of_type(0, 0, Action.RESULT_IN, OPEN, HandleKind.OWN, STREAM),
        _of_type(0, 1, Action.DROP, DROP, HandleKind.ANY, STREAM),
    ]
    used = _of_type(1, 0, Action.DROP, DROP_OUTPUT, HandleKind.ANY, "output-stream")
    assert _standing([ops, [used]]) is Standing.AFTER_DROP
