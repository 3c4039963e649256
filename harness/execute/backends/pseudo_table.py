"""The pseudo-handle table: one per store, shared by every component.

Modelled on the mid-2023 wasmtime-wasi preview2 host table
(bytecodealliance/wasmtime ``crates/wasi/src/preview2/table.rs``): a map from
``u32`` keys to entries with a ``next_key`` counter that starts at 3 (0-2 were
kept for preview-1 stdio), takes the next free key and increments, so freed keys
are not reused until the counter wraps. Errors were ``NotPresent`` and
``WrongType``. Its own doc comment called it "just an approximation" of resources.
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

    def insert(self, resource: str, rep: int, creator: str) -> int:
        key = self._allocate()
        self._entries[key] = Entry(resource, rep, creator)
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

    def remove(self, index: int, resource: str) -> Entry:
        entry = self.get(index, resource)
        del self._entries[index]
        self._free.append(index)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
