"""The pseudo-handle table: one per store, shared by every component.

Modelled on the mid-2023 wasmtime-wasi preview2 host table
(bytecodealliance/wasmtime ``crates/wasi/src/preview2/table.rs``): a map from
``u32`` keys to entries with a ``next_key`` counter that starts at 3 (0-2 were
kept for preview-1 stdio), takes the next free key and increments, so freed keys
are not reused until the counter wraps. Errors were ``NotPresent``,
``WrongType`` and ``HasChildren``: an entry pushed as the child of another
(``push_child``, a pollable of a stream) keeps its parent from being deleted.
Its own doc comment called it "just an approximation" of resources.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.execute.host_trap import HostTrap
from harness.model.vocabulary import TrapKind

FIRST_KEY = 3
_KEY_SPACE = 1 << 32


class AllocationPolicy(enum.StrEnum):
    """How the table picks the index of a new entry."""

    #: wasmtime-wasi 2023: keys only go up; a freed key stays unused.
    MONOTONIC = "monotonic"
    #: The most recently freed key is handed out next (as the Canonical ABI's
    #: per-component free list does), so a stale index can alias a new entry.
    REUSE = "reuse"


@dataclass(frozen=True)
class Entry:
    resource: str
    rep: int
    #: Component that created the entry (for the event log; not enforced).
    creator: str


class PseudoTable:
    """``u32`` index -> entry, for every component of one store."""

    def __init__(self, policy: AllocationPolicy = AllocationPolicy.MONOTONIC) -> None:
        self.policy = policy
        self._entries: dict[int, Entry] = {}
        self._next_key = FIRST_KEY
        self._free: list[int] = []
        #: key -> its parent's key, and key -> the keys of its live children.
        self._parent: dict[int, int] = {}
        self._children: dict[int, set[int]] = {}

    def insert(self, resource: str, rep: int, creator: str, parent: int | None = None) -> int:
        """A new entry; with ``parent``, a child that keeps ``parent`` from being removed.

        As ``Table::push_child`` (table.rs, 2023), the parent must exist (``NotPresent``).
        """
        if parent is not None and parent not in self._entries:
            raise HostTrap(TrapKind.UNKNOWN_HANDLE, f"NotPresent: no parent entry at pseudo-handle {parent}")
        key = self._allocate()
        self._entries[key] = Entry(resource, rep, creator)
        if parent is not None:
            self._parent[key] = parent
            self._children.setdefault(parent, set()).add(key)
        return key

    def _allocate(self) -> int:
        if self.policy is AllocationPolicy.REUSE and self._free:
            return self._free.pop()
        for _ in range(_KEY_SPACE):
            key = self._next_key
            self._next_key = (self._next_key + 1) % _KEY_SPACE
            if key not in self._entries:
                return key
        raise HostTrap(TrapKind.HOST_ERROR, "pseudo-handle table is full")

    def get(self, index: int, resource: str) -> Entry:
        entry = self._entries.get(index)
        if entry is None:
            raise HostTrap(TrapKind.UNKNOWN_HANDLE, f"NotPresent: no entry at pseudo-handle {index}")
        if entry.resource != resource:
            raise HostTrap(
                TrapKind.WRONG_TYPE, f"WrongType: pseudo-handle {index} is a {entry.resource}, not a {resource}"
            )
        return entry

    def check_remove(self, index: int, resource: str) -> Entry:
        """The entry ``remove`` would delete, or the error it would raise.

        In the order of ``Table::delete`` (table.rs, 2023): ``delete_entry`` fails with
        ``NotPresent``, then ``HasChildren``; only then does the downcast to the
        requested type fail with ``WrongType``. So dropping a stream that has a live
        pollable through the wrong type reports ``HasChildren``.
        """
        entry = self._entries.get(index)
        if entry is None:
            raise HostTrap(TrapKind.UNKNOWN_HANDLE, f"NotPresent: no entry at pseudo-handle {index}")
        children = self._children.get(index)
        if children:
            raise HostTrap(
                TrapKind.HAS_CHILDREN,
                f"HasChildren: {entry.resource} rep {entry.rep} still has {len(children)} live child(ren)",
            )
        return self.get(index, resource)

    def remove(self, index: int, resource: str) -> Entry:
        entry = self.check_remove(index, resource)
        del self._entries[index]
        self._children.pop(index, None)
        parent = self._parent.pop(index, None)
        if parent is not None:
            self._children[parent].discard(index)
        self._free.append(index)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
