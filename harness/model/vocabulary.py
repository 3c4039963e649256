"""The closed sets every layer speaks in: handle models, trap kinds, divergence categories.

They live below everything else so that a manifest can be validated against them
when it is loaded, and so that the pure layers (model, compare) never need the
modules that run wasm.
"""

from __future__ import annotations

import enum
from typing import Protocol


class HandleModel(enum.Enum):
    """How a backend's guests are wrapped: handles as plain ``u32`` or as component-model handles."""

    REAL = "real"
    PSEUDO = "pseudo"


class TrapKind(enum.StrEnum):
    """Why a step trapped, normalized across backends."""

    UNKNOWN_HANDLE = "unknown-handle"
    WRONG_TYPE = "wrong-type"
    OWN_LENT = "own-lent"
    BORROW_OUTSTANDING = "borrow-outstanding"
    BORROW_AS_OWN = "borrow-as-own"
    HAS_CHILDREN = "has-children"
    #: pseudo-tagged: the handle's tag is not the one its table entry was given (forged, stale, dropped twice).
    BAD_TAG = "bad-tag"
    GUEST_TRAP = "guest-trap"
    HOST_ERROR = "host-error"
    TIMEOUT = "timeout"
    RESOURCE_LIMIT = "resource-limit"


class Category(enum.StrEnum):
    """Why two backends behaved differently at a step (see ``harness.compare.diff.EXPLANATIONS``)."""

    NUMBERING = "numbering"
    ISOLATION = "isolation"
    FORGERY = "forgery"
    OWNERSHIP_TRANSFER = "ownership-transfer"
    BORROW_RULES = "borrow-rules"
    USE_AFTER_FREE = "use-after-free"
    DESTRUCTOR_TIMING = "destructor-timing"
    LEAK = "leak"
    TRAP_KIND = "trap-kind"
    OTHER = "other"


class BackendFacts(Protocol):
    """What the comparing layer needs to know of a backend, without running anything."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> HandleModel: ...

    @property
    def expectations_from(self) -> str | None: ...

    @property
    def diverges_from(self) -> str | None: ...
