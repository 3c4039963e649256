"""The exception a host function raises to trap its calling guest for a handle-model reason."""

from __future__ import annotations

from harness.model.vocabulary import TrapKind


class HostTrap(Exception):
    """A host refusal that traps the calling guest (``NotPresent``, ``HasChildren``...).

    Raised inside host functions; wasmtime hands a Python exception back to the
    caller unchanged, so the runner reads ``kind`` instead of parsing a message.
    """

    def __init__(self, kind: TrapKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
