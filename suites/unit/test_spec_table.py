"""The spec backends' handle tables (harness.execute.spec_table.py), on hand-built operation sequences.

No wasm runs here: each test drives the tables the way the host functions do and checks
one rule of CanonicalABI.md (the trap kind, or what the tables hold afterwards).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.execute.host_trap import HostTrap
from harness.execute.spec_table import HOST, Layout, ResourceType, SpecTables
from harness.model.vocabulary import TrapKind

STREAM = ResourceType("input-stream", HOST)
SINK = ResourceType("output-stream", HOST)
COUNTER = ResourceType("counter", "b")


def tables(layout: Layout = Layout.SINGLE) -> SpecTables:
    return SpecTables(layout, ["a", "b", "c"])


def trap_of(action: object) -> TrapKind:
    with pytest.raises(HostTrap) as caught:
        action()  # type: ignore[operator]
    return caught.value.kind


def lent(t: SpecTables, index: int) -> int:
    """``a`` lends its handle at ``index`` to ``b`` in a call left open; returns b's index."""
    t.begin_call("a", "b")
    return t.lower_borrow("b", STREAM, t.lift_borrow("a", STREAM, index))


def test_the_module_never_loads_wasmtime() -> None:
    code = "import sys, harness.execute.spec_table; assert 'wasmtime' not in sys.modules, 'wasmtime loaded'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("layout", list(Layout))
def test_the_first_handle_is_1(layout: Layout) -> None:
    assert tables(layout).lower_own("a", STREAM, 7) == 1


@pytest.mark.parametrize("layout", list(Layout))
def test_index_0_is_reserved(layout: Layout) -> None:
    t = tables(layout)
    t.lower_own("a", STREAM, 7)
    assert trap_of(lambda: t.resource_rep("a", STREAM, 0)) is TrapKind.UNKNOWN_HANDLE


@pytest.mark.parametrize("layout", list(Layout))
def test_an_index_past_the_end_is_unknown(layout: Layout) -> None:
    t = tables(layout)
    t.lower_own("a", STREAM, 7)
    assert trap_of(lambda: t.resource_rep("a", STREAM, 2)) is TrapKind.UNKNOWN_HANDLE


def test_a_dropped_index_is_unknown() -> None:
    t = tables()
    index = t.lower_own("a", STREAM, 7)
    t.resource_drop("a", STREAM, index)
    assert trap_of(lambda: t.resource_drop("a", STREAM, index)) is TrapKind.UNKNOWN_HANDLE


def test_freed_slots_come_back_last_freed_first() -> None:
    t = tables()
    first, second, third = (t.lower_own("a", STREAM, rep) for rep in (10, 20, 30))
    t.resource_drop("a", STREAM, first)
    t.resource_drop("a", STREAM, third)
    assert [t.lower_own("a", STREAM, rep) for rep in (40, 50, 60)] == [third, first, 4]
    assert second == 2


def test_each_component_has_its_own_table() -> None:
    t = tables()
    t.lower_own("a", STREAM, 7)
    assert trap_of(lambda: t.resource_rep("b", STREAM, 1)) is TrapKind.UNKNOWN_HANDLE


def test_single_table_numbers_every_type_in_one_sequence() -> None:
    t = tables(Layout.SINGLE)
    assert [t.lower_own("a", STREAM, 1), t.lower_own("a", SINK, 2)] == [1, 2]


def test_per_type_tables_number_each_type_from_1() -> None:
    t = tables(Layout.PER_TYPE)
    assert [t.lower_own("a", STREAM, 1), t.lower_own("a", SINK, 2)] == [1, 1]


@pytest.mark.parametrize(
    "use",
    [
        lambda t, i: t.resource_rep("a", STREAM, i),
        lambda t, i: t.resource_drop("a", STREAM, i),
        lambda t, i: t.lift_own("a", STREAM, i),
        lambda t, i: lent(t, i),
    ],
    ids=["resource.rep", "resource.drop", "lift_own", "lift_borrow"],
)
def test_single_table_traps_on_the_wrong_type(use: object) -> None:
    t = tables(Layout.SINGLE)
    sink = t.lower_own("a", SINK, 2)
    assert trap_of(lambda: use(t, sink)) is TrapKind.WRONG_TYPE  # type: ignore[operator]


def test_per_type_wrong_type_index_reaches_that_types_table() -> None:
    """PR #176: no tag; index 1 as an input stream is the input stream at 1, whatever a's sink is."""
    t = tables(Layout.PER_TYPE)
    t.lower_own("a", STREAM, 10)
    sink = t.lower_own("a", SINK, 20)
    assert t.resource_rep("a", STREAM, sink) == 10


def test_per_type_wrong_type_index_past_that_types_table_is_unknown() -> None:
    t = tables(Layout.PER_TYPE)
    t.lower_own("a", STREAM, 10)
    t.lower_own("a", SINK, 20)
    sink = t.lower_own("a", SINK, 30)
    assert trap_of(lambda: t.resource_drop("a", STREAM, sink)) is TrapKind.UNKNOWN_HANDLE


def test_guest_types_of_two_definers_are_distinct() -> None:
    t = tables()
    index = t.resource_new("b", COUNTER, 5)
    assert trap_of(lambda: t.resource_rep("b", ResourceType("counter", "c"), index)) is TrapKind.WRONG_TYPE


def test_lift_own_moves_the_handle_out_of_the_callers_table() -> None:
    t = tables()
    index = t.lower_own("a", STREAM, 7)
    t.begin_call("a", "b")
    received = t.lower_own("b", STREAM, t.lift_own("a", STREAM, index))
    t.end_call()
    assert (t.handles("a"), t.resource_rep("b", STREAM, received)) == (0, 7)


@pytest.mark.parametrize("layout", list(Layout))
def test_lift_own_of_a_lent_handle_traps_own_lent(layout: Layout) -> None:
    t = tables(layout)
    index = t.lower_own("a", STREAM, 7)
    lent(t, index)
    assert trap_of(lambda: t.lift_own("a", STREAM, index)) is TrapKind.OWN_LENT


@pytest.mark.parametrize("layout", list(Layout))
def test_lift_own_of_a_borrow_traps_borrow_as_own(layout: Layout) -> None:
    t = tables(layout)
    borrowed = lent(t, t.lower_own("a", STREAM, 7))
    assert trap_of(lambda: t.lift_own("b", STREAM, borrowed)) is TrapKind.BORROW_AS_OWN


@pytest.mark.parametrize("layout", list(Layout))
def test_resource_drop_of_a_lent_own_traps_own_lent(layout: Layout) -> None:
    t = tables(layout)
    index = t.lower_own("a", STREAM, 7)
    lent(t, index)
    assert trap_of(lambda: t.resource_drop("a", STREAM, index)) is TrapKind.OWN_LENT


def test_the_lend_ends_with_the_call() -> None:
    t = tables()
    index = t.lower_own("a", STREAM, 7)
    t.resource_drop("b", STREAM, lent(t, index))
    t.end_call()
    assert t.resource_drop("a", STREAM, index).destroy


def test_dropping_the_own_runs_the_destructor() -> None:
    t = tables()
    dropped = t.resource_drop("a", STREAM, t.lower_own("a", STREAM, 7))
    assert (dropped.rep, dropped.destroy) == (7, True)


def test_dropping_a_borrow_runs_no_destructor() -> None:
    t = tables()
    dropped = t.resource_drop("b", STREAM, lent(t, t.lower_own("a", STREAM, 7)))
    assert (dropped.rep, dropped.destroy) == (7, False)


@pytest.mark.parametrize("layout", list(Layout))
def test_returning_with_a_borrow_not_dropped_traps_borrow_outstanding(layout: Layout) -> None:
    t = tables(layout)
    lent(t, t.lower_own("a", STREAM, 7))
    assert trap_of(t.end_call) is TrapKind.BORROW_OUTSTANDING


def test_a_borrow_of_the_callees_own_type_arrives_as_the_rep() -> None:
    """lower_borrow: the definer gets the rep, and no handle whose drop the call would wait for."""
    t = tables()
    index = t.lower_own("a", COUNTER, 42)
    t.begin_call("a", "b")
    rep = t.lower_borrow("b", COUNTER, t.lift_borrow("a", COUNTER, index))
    t.end_call()
    assert (rep, t.handles("b")) == (42, 0)


def test_resource_new_gives_the_definer_an_own() -> None:
    t = tables()
    index = t.resource_new("b", COUNTER, 42)
    assert (index, t.resource_drop("b", COUNTER, index).destroy) == (1, True)


def test_single_table_a_borrow_passed_on_is_lent_too() -> None:
    """Since PR #427 ``add_lender`` counts lends on any handle: b cannot drop a borrow it lent on."""
    t = tables(Layout.SINGLE)
    borrowed = lent(t, t.lower_own("a", STREAM, 7))
    t.begin_call("b", "c")
    t.lower_borrow("c", STREAM, t.lift_borrow("b", STREAM, borrowed))
    assert trap_of(lambda: t.resource_drop("b", STREAM, borrowed)) is TrapKind.OWN_LENT


def test_per_type_only_an_own_is_lent() -> None:
    """PR #176: ``add_lender`` took owns only; a borrow passed on keeps no lend count."""
    t = tables(Layout.PER_TYPE)
    borrowed = lent(t, t.lower_own("a", STREAM, 7))
    t.begin_call("b", "c")
    t.lift_borrow("b", STREAM, borrowed)
    assert not t.resource_drop("b", STREAM, borrowed).destroy
