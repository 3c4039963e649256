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
from typing import ClassVar

from harness.execute.host_trap import HostTrap
from harness.model.vocabulary import TrapKind

FIRST_KEY = 3


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
    """``u32`` index -> entry, for every component of one store.

    Here a guest's index is the key itself. A subclass may hand out indices that
    carry more than the key (``_index_of``) and check them on every use
    (``_key_of``); every public method goes through those two.
    """

    #: Keys are ``u32`` and the counter wraps at 2^32 (table.rs, 2023).
    key_space: ClassVar[int] = 1 << 32

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
        parent_key = None if parent is None else self._key_of(parent, "parent ")
        key = self._allocate()
        self._entries[key] = Entry(resource, rep, creator)
        if parent_key is not None:
            self._parent[key] = parent_key
            self._children.setdefault(parent_key, set()).add(key)
        return self._index_of(key)

    def _key_of(self, index: int, role: str = "") -> int:
        """The key of the live entry ``index`` names, else ``NotPresent``."""
        if index not in self._entries:
            raise HostTrap(TrapKind.UNKNOWN_HANDLE, f"NotPresent: no {role}entry at pseudo-handle {index}")
        return index

    def _index_of(self, key: int) -> int:
        """The index a guest is given for a new entry at ``key``."""
        return key

    def _retire(self, key: int) -> None:
        """Called when the entry at ``key`` is deleted, before the key can be handed out again."""

    def _allocate(self) -> int:
        if self.policy is AllocationPolicy.REUSE and self._free:
            return self._free.pop()
        for _ in range(self.key_space):
            key = self._next_key
            self._next_key = (self._next_key + 1) % self.key_space
            if key not in self._entries:
                return key
        raise HostTrap(TrapKind.HOST_ERROR, "pseudo-handle table is full")

    def get(self, index: int, resource: str) -> Entry:
        return self._typed(self._key_of(index), index, resource)

    def _typed(self, key: int, index: int, resource: str) -> Entry:
        entry = self._entries[key]
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
        return self._removable(self._key_of(index), index, resource)

    def _removable(self, key: int, index: int, resource: str) -> Entry:
        entry = self._entries[key]
        children = self._children.get(key)
        if children:
            raise HostTrap(
                TrapKind.HAS_CHILDREN,
                f"HasChildren: {entry.resource} rep {entry.rep} still has {len(children)} live child(ren)",
            )
        return self._typed(key, index, resource)

    def remove(self, index: int, resource: str) -> Entry:
        key = self._key_of(index)
        entry = self._removable(key, index, resource)
        del self._entries[key]
        self._children.pop(key, None)
        parent = self._parent.pop(key, None)
        if parent is not None:
            self._children[parent].discard(key)
        self._retire(key)
        self._free.append(key)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
