"""Normalizes a failed guest call into a trap kind and a one-line cause.

wasmtime reports every failure of a component call as ``WasmtimeError`` with a
multi-line message (``error while executing at wasm backtrace: ... Caused by:
<cause>``); the kind is read from the cause, using the messages wasmtime's own
tests check (``tests/misc_testsuite/component-model/resources.wast``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import wasmtime

from harness.execute.host_trap import HostTrap
from harness.model.trace import Emit
from harness.model.vocabulary import TrapKind

#: The probe tag a guest emits when ``memory.grow`` returned -1. wasmtime's C
#: API caps memory by making the grow fail, not by trapping, and a guest then
#: aborts (``unreachable``) as its allocator would; only the guest knows why.
OUT_OF_MEMORY_TAG = "out-of-memory"

_CAUSES: tuple[tuple[re.Pattern[str], TrapKind], ...] = (
    (re.compile(r"unknown handle index"), TrapKind.UNKNOWN_HANDLE),
    (re.compile(r"used with the wrong type"), TrapKind.WRONG_TYPE),
    (re.compile(r"cannot remove owned resource while borrowed"), TrapKind.OWN_LENT),
    (re.compile(r"borrow handles still remain at the end of the call"), TrapKind.BORROW_OUTSTANDING),
    (re.compile(r"cannot lift own resource from a borrow"), TrapKind.BORROW_AS_OWN),
    (re.compile(r"all fuel consumed|interrupt"), TrapKind.TIMEOUT),
    (re.compile(r"resource limit|memory.*(limit|exceed)|out of memory", re.I), TrapKind.RESOURCE_LIMIT),
)


def cause_of(message: str) -> str:
    """The last ``Caused by`` entry of a wasmtime error on one line, else its first line.

    An entry can span lines (a type mismatch says ``expected: ...`` and ``found: ...``
    below it); those lines are joined with ``; `` so the cause stays one line.
    """
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    if "Caused by:" in lines:
        causes: list[list[str]] = []
        for line in lines[lines.index("Caused by:") + 1 :]:
            if re.match(r"^\d+:\s+0x", line):
                continue
            numbered = re.match(r"^\d+:\s*(.*)$", line)
            if numbered or not causes:
                causes.append([numbered.group(1) if numbered else line])
            else:
                causes[-1].append(line)
        if causes:
            return re.sub(r"\s+", " ", "; ".join(causes[-1])).removeprefix("wasm trap: ")
    first = lines[0] if lines else "unknown error"
    return first.removeprefix("wasm trap: ")


def classify(error: BaseException) -> tuple[TrapKind, str]:
    """The normalized kind and one-line cause of a failed call."""
    if isinstance(error, HostTrap):
        return error.kind, str(error)
    if isinstance(error, wasmtime.WasmtimeError | wasmtime.Trap):
        cause = cause_of(str(error))
        for pattern, kind in _CAUSES:
            if pattern.search(cause):
                return kind, cause
        return TrapKind.GUEST_TRAP, cause
    return TrapKind.HOST_ERROR, f"{type(error).__name__}: {error}"


def reported_out_of_memory(emits: Iterable[Emit]) -> bool:
    """Whether a guest said, in this step, that its memory could not grow.

    A guest trap after that report is the memory cap at work: ``resource-limit``.
    """
    return any(emit.tag == OUT_OF_MEMORY_TAG for emit in emits)
