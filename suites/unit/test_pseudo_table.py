"""The global pseudo-handle table: keys from 3, allocation policies, NotPresent/HasChildren/WrongType."""

from __future__ import annotations

import pytest

from harness.execute.backends.pseudo_table import FIRST_KEY, AllocationPolicy, PseudoTable
from harness.execute.host_trap import HostTrap
from harness.execute.run import RunContext
from harness.model.vocabulary import TrapKind
from suites.unit.support import FIXTURE_GUESTS, emitted, run


def _filled(policy: AllocationPolicy, count: int) -> tuple[PseudoTable, list[int]]:
    table = PseudoTable(policy)
    return table, [table.insert("input-stream", rep, "a") for rep in range(count)]


def test_first_key_is_3() -> None:
    # wasmtime-wasi preview2 table.rs (2023) kept 0-2 free for preview-1 stdio.
    assert PseudoTable().insert("input-stream", 1, "a") == 3 == FIRST_KEY


def test_keys_are_handed_out_in_increasing_order() -> None:
    _, keys = _filled(AllocationPolicy.MONOTONIC, 4)
    assert keys == [3, 4, 5, 6]


def test_monotonic_policy_never_reuses_a_freed_key() -> None:
    table, freed = _filled(AllocationPolicy.MONOTONIC, 3)
    for key in freed:
        table.remove(key, "input-stream")
    later = {table.insert("input-stream", rep, "a") for rep in range(10)}
    assert not set(freed) & later


def test_reuse_policy_hands_back_the_last_freed_key_first() -> None:
    table, (k3, _, k5) = _filled(AllocationPolicy.REUSE, 3)
    table.remove(k3, "input-stream")
    table.remove(k5, "input-stream")
    assert [table.insert("input-stream", 9, "a"), table.insert("input-stream", 9, "a")] == [k5, k3]


def test_reuse_policy_counts_on_once_nothing_is_free() -> None:
    table, keys = _filled(AllocationPolicy.REUSE, 2)
    assert table.insert("input-stream", 9, "a") == keys[-1] + 1


def test_get_returns_the_entry_inserted() -> None:
    table = PseudoTable()
    key = table.insert("output-stream", 42, "b")
    entry = table.get(key, "output-stream")
    assert (entry.resource, entry.rep, entry.creator) == ("output-stream", 42, "b")


def test_unknown_key_is_not_present_unknown_handle() -> None:
    with pytest.raises(HostTrap) as trap:
        PseudoTable().get(3, "input-stream")
    assert (trap.value.kind, str(trap.value).split(":")[0]) == (TrapKind.UNKNOWN_HANDLE, "NotPresent")


def test_removed_key_is_not_present() -> None:
    table = PseudoTable()
    key = table.insert("input-stream", 1, "a")
    table.remove(key, "input-stream")
    with pytest.raises(HostTrap) as trap:
        table.get(key, "input-stream")
    assert trap.value.kind is TrapKind.UNKNOWN_HANDLE


def test_entry_of_another_type_is_wrong_type() -> None:
    table = PseudoTable()
    key = table.insert("input-stream", 1, "a")
    with pytest.raises(HostTrap) as trap:
        table.get(key, "output-stream")
    assert (trap.value.kind, str(trap.value).split(":")[0]) == (TrapKind.WRONG_TYPE, "WrongType")


def test_remove_with_the_wrong_type_keeps_the_entry() -> None:
    table = PseudoTable()
    key = table.insert("input-stream", 1, "a")
    with pytest.raises(HostTrap):
        table.remove(key, "output-stream")
    assert table.get(key, "input-stream").rep == 1


def _stream_with_pollable() -> tuple[PseudoTable, int, int]:
    table = PseudoTable()
    stream = table.insert("input-stream", 1, "a")
    return table, stream, table.insert("pollable", 2, "a", parent=stream)


def test_removing_a_parent_with_a_live_child_is_has_children() -> None:
    table, stream, _ = _stream_with_pollable()
    with pytest.raises(HostTrap) as trap:
        table.remove(stream, "input-stream")
    assert (trap.value.kind, str(trap.value).split(":")[0]) == (TrapKind.HAS_CHILDREN, "HasChildren")


def test_has_children_is_checked_before_the_type() -> None:
    # table.rs (2023) Table::delete: delete_entry checks NotPresent, then HasChildren;
    # only then does the downcast fail with WrongType.
    table, stream, _ = _stream_with_pollable()
    with pytest.raises(HostTrap) as trap:
        table.remove(stream, "output-stream")
    assert trap.value.kind is TrapKind.HAS_CHILDREN


def test_a_parent_can_be_removed_once_its_child_is() -> None:
    table, stream, pollable = _stream_with_pollable()
    table.remove(pollable, "pollable")
    assert table.remove(stream, "input-stream").rep == 1


def test_a_child_of_a_missing_parent_is_not_present() -> None:
    # table.rs (2023) Table::push_child: the parent must exist.
    with pytest.raises(HostTrap) as trap:
        PseudoTable().insert("pollable", 2, "a", parent=3)
    assert trap.value.kind is TrapKind.UNKNOWN_HANDLE


def test_len_counts_live_entries() -> None:
    table, keys = _filled(AllocationPolicy.MONOTONIC, 3)
    table.remove(keys[1], "input-stream")
    assert len(table) == 2


# --- through a real wasm run on the pseudo backends ---------------------------------


def test_guest_sees_3_for_its_first_stream(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo", FIXTURE_GUESTS / "reopen")
    assert emitted(trace, "handle")[0] == ("a", 3)


def test_pseudo_guest_gets_a_new_index_after_a_drop(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo", FIXTURE_GUESTS / "reopen")
    assert emitted(trace, "handle") == [("a", 3), ("a", 4)]


def test_pseudo_reuse_guest_gets_the_dropped_index_back(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo-reuse", FIXTURE_GUESTS / "reopen")
    assert emitted(trace, "handle") == [("a", 3), ("a", 3)]


def test_index_crosses_components_unchanged(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo", FIXTURE_GUESTS / "give-own")
    (gave,), (received,) = emitted(trace, "gave-own"), emitted(trace, "received")
    assert received[1] == gave[1]
