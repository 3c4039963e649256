"""The tagged pseudo-handle table: the 2023 global table, each handle signed with a tag.

The 2023 discussion of pseudo-handles (wit-bindgen issue 586 and the WASI meetings
around it) proposed a cheaper fix than per-component tables: keep one table per
store, but put unguessable bits in the high part of every handle and check them on
each use, as pointer authentication signs the unused high bits of a pointer and
checks them before the pointer is followed. A forged, stale or double-dropped
handle then traps instead of reaching whatever entry its number names.

Layout of a handle (a ``u32``)::

    bit 31      always 0: the handle is a positive i32, whichever way a guest extends it
    bits 16-30  the tag: 15 bits, never 0, so a bare key (3, "the first stream") never passes
    bits 0-15   the key into the global table, allocated as the pseudo table does

The table under the tags reuses freed keys last-freed-first
(``AllocationPolicy.REUSE``): reuse is what makes a stale number name a new entry,
exactly what tags are for, so tags over a reusing table show what they buy. A
reused key gets a tag different from the one it had before.

Tags come from a seeded pseudo-random function of (seed, scenario, key,
generation): the same run gives the same tags, on any machine and Python build,
and one entry's tag does not depend on how many other entries were made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar

from harness.execute.backends.pseudo_table import AllocationPolicy, PseudoTable
from harness.execute.host_trap import HostTrap
from harness.model.vocabulary import TrapKind

KEY_BITS = 16
TAG_BITS = 15
KEY_MASK = (1 << KEY_BITS) - 1
TAG_MASK = (1 << TAG_BITS) - 1
#: The seed of every run unless a test picks another; changing it changes every tag.
DEFAULT_SEED = "handle-compat pseudo-tagged 2023"


def handle_of(tag: int, key: int) -> int:
    """The ``u32`` a guest holds for ``key`` signed with ``tag``."""
    return (tag << KEY_BITS) | key


def tag_of(handle: int) -> int:
    """The high bits of a handle, bit 31 included (a handle with it set matches no tag)."""
    return handle >> KEY_BITS


def key_of(handle: int) -> int:
    return handle & KEY_MASK


@dataclass(frozen=True)
class TagSource:
    """Seeded tags: the tag of the ``generation``-th entry made at ``key``.

    A keyed BLAKE2b of (scenario, key, generation, attempt) stands for the random
    generator: reproducible from the seed alone, and free of Python's hash
    randomization. ``attempt`` moves on until the tag is non-zero and differs from
    the key's previous one.
    """

    scenario: str
    seed: str = DEFAULT_SEED
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", hashlib.blake2b(self.seed.encode()).digest()[:32])

    def tag(self, key: int, generation: int, previous: int | None) -> int:
        for attempt in range(1 << TAG_BITS):
            message = f"{self.scenario}\0{key}\0{generation}\0{attempt}".encode()
            digest = hashlib.blake2b(message, key=self._key, digest_size=4).digest()
            tag = int.from_bytes(digest, "big") & TAG_MASK
            if tag not in (0, previous):
                return tag
        raise AssertionError("unreachable: 2^15 attempts cannot all be 0 or the previous tag")


class TaggedTable(PseudoTable):
    """The global pseudo table whose indices carry a tag, checked before the entry is read.

    Check order on every use, as pointer authentication checks the signature
    before the pointer is followed: no entry at the key (``NotPresent``,
    ``unknown-handle``: an empty slot has no tag to compare), then the tag
    (``bad-tag``), then what the 2023 table checks (``WrongType``; on delete
    ``HasChildren`` before ``WrongType``).
    """

    key_space: ClassVar[int] = 1 << KEY_BITS

    def __init__(self, tags: TagSource, policy: AllocationPolicy = AllocationPolicy.REUSE) -> None:
        super().__init__(policy)
        self.tags = tags
        #: key -> the tag of its live entry; key -> how many entries it has held; key -> its last tag.
        self._live_tag: dict[int, int] = {}
        self._generation: dict[int, int] = {}
        self._last_tag: dict[int, int] = {}

    def _index_of(self, key: int) -> int:
        generation = self._generation.get(key, 0)
        tag = self.tags.tag(key, generation, self._last_tag.get(key))
        self._generation[key] = generation + 1
        self._last_tag[key] = self._live_tag[key] = tag
        return handle_of(tag, key)

    def _key_of(self, index: int, role: str = "") -> int:
        key = key_of(index)
        live = self._live_tag.get(key)
        if live is None:
            raise HostTrap(
                TrapKind.UNKNOWN_HANDLE, f"NotPresent: no {role}entry at key {key} of pseudo-handle {index:#x}"
            )
        if tag_of(index) != live:
            raise HostTrap(
                TrapKind.BAD_TAG,
                f"bad tag: pseudo-handle {index:#x} carries tag {tag_of(index):#x}, "
                f"the {self._entries[key].resource} at key {key} has tag {live:#x}",
            )
        return key

    def _retire(self, key: int) -> None:
        del self._live_tag[key]
