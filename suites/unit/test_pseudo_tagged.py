"""The tagged pseudo table: handle layout, a new tag on reuse, bad-tag before any other check, seeded tags."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from harness.execute.backends.pseudo_table import FIRST_KEY, AllocationPolicy
from harness.execute.backends.pseudo_tagged_table import (
    DEFAULT_SEED,
    KEY_BITS,
    TaggedTable,
    TagSource,
    handle_of,
    key_of,
    tag_of,
)
from harness.execute.host_trap import HostTrap
from harness.execute.run import RunContext
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.trace import Status
from harness.model.vocabulary import TrapKind
from suites.unit.support import run

STREAM = "input-stream"


def _table(scenario: str = "s", seed: str = DEFAULT_SEED) -> TaggedTable:
    return TaggedTable(TagSource(scenario, seed))


def _trap(action: object, *args: object) -> TrapKind:
    with pytest.raises(HostTrap) as trap:
        action(*args)  # type: ignore[operator]
    return trap.value.kind


def _handles(table: TaggedTable, count: int) -> list[int]:
    return [table.insert(STREAM, rep, "a") for rep in range(count)]


def _reused(table: TaggedTable) -> tuple[int, int]:
    """A handle dropped and the handle its key was then given to (last freed, first reused)."""
    stale = table.insert(STREAM, 1, "a")
    table.remove(stale, STREAM)
    return stale, table.insert(STREAM, 2, "a")


# --- layout -------------------------------------------------------------------------


def test_the_first_handle_has_key_3_under_a_tag() -> None:
    handle = _table().insert(STREAM, 1, "a")
    assert (key_of(handle), handle >> KEY_BITS > 0) == (FIRST_KEY, True)


def test_a_handle_is_a_positive_i32() -> None:
    # Bit 31 stays clear, so a guest reads the same number whether it extends signed or unsigned.
    assert all(h < 1 << 31 for h in _handles(_table(), 200))


def test_the_table_reuses_the_last_freed_key() -> None:
    stale, fresh = _reused(_table())
    assert key_of(stale) == key_of(fresh)


def test_a_reused_key_gets_a_new_tag() -> None:
    stale, fresh = _reused(_table())
    assert tag_of(stale) != tag_of(fresh)


def test_a_tag_source_never_repeats_the_previous_tag() -> None:
    # Even when the seeded draw comes out equal to the key's previous tag, another one is drawn.
    source = TagSource("s")
    drawn = source.tag(FIRST_KEY, 0, None)
    assert source.tag(FIRST_KEY, 0, drawn) != drawn


def test_no_tag_repeats_on_one_key_across_many_reuses() -> None:
    table = _table()
    tags = []
    for rep in range(500):
        handle = table.insert(STREAM, rep, "a")
        tags.append(tag_of(handle))
        table.remove(handle, STREAM)
    assert all(a != b for a, b in itertools.pairwise(tags)) and 0 not in tags


# --- the check --------------------------------------------------------------------------


def test_a_live_handle_reaches_its_entry() -> None:
    table = _table()
    handle = table.insert(STREAM, 42, "a")
    assert table.get(handle, STREAM).rep == 42


def test_a_guessed_neighbour_traps_bad_tag() -> None:
    # Own handle + 1: the neighbour's key carrying the guesser's tag.
    table = _table()
    mine, theirs = _handles(table, 2)
    assert tag_of(mine) != tag_of(theirs)
    assert _trap(table.get, mine + 1, STREAM) is TrapKind.BAD_TAG


def test_a_bare_key_traps_bad_tag() -> None:
    # "3, the first stream": tag 0 is never given out.
    table = _table()
    _handles(table, 1)
    assert _trap(table.get, FIRST_KEY, STREAM) is TrapKind.BAD_TAG


def test_a_stale_handle_after_drop_and_reuse_traps_bad_tag() -> None:
    table = _table()
    stale, _ = _reused(table)
    assert _trap(table.get, stale, STREAM) is TrapKind.BAD_TAG


def test_a_stale_handle_of_an_empty_slot_is_not_present() -> None:
    # An empty slot has no tag to compare: NotPresent comes first.
    table = _table()
    handle = table.insert(STREAM, 1, "a")
    table.remove(handle, STREAM)
    assert _trap(table.get, handle, STREAM) is TrapKind.UNKNOWN_HANDLE


def test_a_double_drop_after_reuse_traps_bad_tag() -> None:
    table = _table()
    stale, _ = _reused(table)
    assert _trap(table.remove, stale, STREAM) is TrapKind.BAD_TAG


def test_a_double_drop_after_reuse_leaves_the_new_entry() -> None:
    table = _table()
    stale, fresh = _reused(table)
    with pytest.raises(HostTrap):
        table.remove(stale, STREAM)
    assert table.get(fresh, STREAM).rep == 2


def test_the_tag_is_checked_before_the_type() -> None:
    table = _table()
    stale, _ = _reused(table)
    assert _trap(table.get, stale, "output-stream") is TrapKind.BAD_TAG


def test_the_tag_is_checked_before_has_children() -> None:
    table = _table()
    stale, fresh = _reused(table)
    table.insert("pollable", 3, "a", parent=fresh)
    assert _trap(table.remove, stale, STREAM) is TrapKind.BAD_TAG


def test_with_a_good_tag_the_2023_checks_follow() -> None:
    # table.rs (2023) Table::delete: HasChildren before WrongType.
    table = _table()
    stream = table.insert(STREAM, 1, "a")
    table.insert("pollable", 2, "a", parent=stream)
    assert (_trap(table.get, stream, "output-stream"), _trap(table.remove, stream, "output-stream")) == (
        TrapKind.WRONG_TYPE,
        TrapKind.HAS_CHILDREN,
    )


def test_a_child_of_a_stale_parent_handle_traps_bad_tag() -> None:
    table = _table()
    stale, _ = _reused(table)
    assert _trap(table.insert, "pollable", 3, "a", stale) is TrapKind.BAD_TAG


def test_a_handle_with_bit_31_set_traps_bad_tag() -> None:
    table = _table()
    handle = table.insert(STREAM, 1, "a")
    assert _trap(table.get, handle | 1 << 31, STREAM) is TrapKind.BAD_TAG


# --- seeded tags ------------------------------------------------------------------------


def _sequence(scenario: str = "s", seed: str = DEFAULT_SEED) -> list[int]:
    table = _table(scenario, seed)
    handles = _handles(table, 5)
    table.remove(handles[1], STREAM)
    return [*handles, table.insert(STREAM, 9, "a")]


def test_the_same_seed_and_scenario_give_the_same_handles() -> None:
    assert _sequence() == _sequence()


def test_another_seed_gives_other_tags() -> None:
    assert _sequence(seed="another") != _sequence()


def test_each_scenario_gets_its_own_tags() -> None:
    assert _sequence("one") != _sequence("two")


def test_tags_do_not_depend_on_the_process() -> None:
    # Python's hash randomization differs per process; the tags must not.
    code = (
        "from harness.execute.backends.pseudo_tagged_table import TaggedTable, TagSource\n"
        "t = TaggedTable(TagSource('s'))\n"
        "print([t.insert('input-stream', r, 'a') for r in range(5)])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
            check=True,
        ).stdout
        for hash_seed in ("1", "2", "3")
    }
    assert outputs == {f"{_handles(_table(), 5)}\n"}


def test_handle_of_puts_the_tag_above_the_key() -> None:
    assert handle_of(0x1234, 3) == 0x1234_0003


def test_the_default_policy_is_reuse() -> None:
    assert _table().policy is AllocationPolicy.REUSE


# --- through real wasm runs ----------------------------------------------------------------


def test_use_after_drop_traps_bad_tag_where_real_reads_the_new_stream(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo-tagged", BUILTIN_GUESTS / "use-after-drop")
    assert trace.steps[2].outcome.trap is TrapKind.BAD_TAG


def test_a_forged_key_traps_bad_tag(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo-tagged", BUILTIN_GUESTS / "forge-guess-foreign")
    assert trace.steps[1].outcome.trap is TrapKind.BAD_TAG


def test_a_handle_sent_as_u32_still_reads_the_stream(ctx: RunContext) -> None:
    # The tag travels with the number: passing it as data keeps it valid.
    trace = run(ctx, "pseudo-tagged", BUILTIN_GUESTS / "handle-as-u32")
    assert (trace.steps[1].outcome.status, trace.steps[1].outcome.value) == (Status.VALUE, 1)


def test_the_guest_holds_the_tagged_handle(ctx: RunContext) -> None:
    trace = run(ctx, "pseudo-tagged", BUILTIN_GUESTS / "zero-as-no-handle")
    assert trace.steps[2].outcome.value == 0


def test_two_runs_give_the_same_trace(ctx: RunContext) -> None:
    first, second = (run(ctx, "pseudo-tagged", BUILTIN_GUESTS / "double-drop") for _ in range(2))
    assert first == second
