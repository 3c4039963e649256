"""The handle-operation log: what crossed the boundary between a guest core module and the canonical ABI.

The generated wrapper records every handle a guest creates (``resource.new``), asks the
rep of (``resource.rep``), drops (``resource.drop``), passes to or gets from an import,
and receives in or returns from an export, with the plain ``u32`` values (alone or in a
``list<u32>``) that cross the same way, so a handle smuggled as data can be recognised.
The log is evidence the harness gathers itself, on every backend and in the same shape;
the guest's probe emits are its own narration.

Each step's log is kept in a trace as a list of short arrays (order = ``seq``), which
keeps trace files small and their bytes stable.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple


class Action(enum.StrEnum):
    """What the guest did with the value, seen from the guest."""

    #: ``canon resource.new``: the index of a handle the guest just created.
    NEW = "new"
    #: ``canon resource.rep``: the index the guest asked the rep of.
    REP = "rep"
    #: ``canon resource.drop``: the index the guest dropped.
    DROP = "drop"
    #: A parameter of an import the guest calls.
    CALL_OUT = "call-out"
    #: The result an import returned to the guest.
    RESULT_IN = "result-in"
    #: A parameter the guest receives in a call of one of its exports.
    CALL_IN = "call-in"
    #: The result the guest returns from one of its exports.
    RESULT_OUT = "result-out"
    #: An export that received a borrow returned (index 0): the end of the borrow's scope
    #: (CanonicalABI.md: borrows received in a call must be dropped before it returns).
    RETURN = "return"


class HandleKind(enum.StrEnum):
    """How the value is typed at the boundary (the WIT signature, identical under every model)."""

    OWN = "own"
    BORROW = "borrow"
    #: A ``borrow`` of the receiving component's own resource type: it arrives as the rep,
    #: not as an index (CanonicalABI.md ``lower_borrow``), under every model alike.
    REP = "rep"
    #: The index given to ``resource.rep`` or ``resource.drop``: an own or a borrow, which
    #: only the index's history tells.
    ANY = "any"
    #: A plain ``u32``, alone or as an element of a ``list<u32>``.
    DATA = "data"


#: The host, as the peer of a call the harness or a host interface makes or serves.
HOST_PEER = "host"


class Op(NamedTuple):
    """One value that crossed the boundary of one component, in one step.

    A named tuple rather than a dataclass: a step can carry thousands of ops
    (``create-drop-1000``: 6,000), and a tuple is built and written out several
    times faster, which keeps the log's cost small beside the run it records.
    """

    component: str
    #: 0-based index of the scenario step the op happened in.
    step: int
    #: Order within the step, across every component of the scenario.
    seq: int
    action: Action
    #: The function as the guest's core module names it: ``<interface>#<function>``
    #: (``handle-compat:io/streams@0.1.0#[method]input-stream.read``).
    func: str
    #: The other side: ``host``, the other component's name, or ``""`` for an intrinsic.
    peer: str
    #: The raw i32 value the guest saw (an index, a rep, or data), as an unsigned integer.
    #: (The name is the handle vocabulary's; it hides ``tuple.index``, which ops never need.)
    index: int  # type: ignore[assignment]
    handle: HandleKind
    #: The resource type's name; ``""`` for data.
    resource: str
    #: The element's position in a ``list<u32>``; None for a value that is not in a list.
    position: int | None = None

    def to_json(self) -> list[Any]:
        """``[component, action, func, peer, handle, resource, index, position]``; step and seq are implied."""
        return list(_JSON_FIELDS(self))


#: The fields of an op's trace form, in order (the enums are ``str``s and serialize as their values).
_JSON_FIELDS = operator.itemgetter(0, 3, 4, 5, 7, 8, 6, 9)


def ops_to_json(ops: Sequence[Op]) -> list[list[Any]]:
    return [op.to_json() for op in ops]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, not {value!r}")
    return value


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 32:
        raise ValueError(f"{what} must be an integer from 0 to 2^32-1, not {value!r}")
    return value


def ops_from_json(raw: Any, step: int) -> tuple[Op, ...]:
    """The ops of step ``step`` from their trace form; ValueError names the first malformed op."""
    if not isinstance(raw, list):
        raise ValueError(f"ops of step {step + 1} must be a list")
    ops = []
    for seq, item in enumerate(raw):
        where = f"op {seq + 1} of step {step + 1}"
        if not isinstance(item, list) or len(item) != 8:
            raise ValueError(f"{where} must be a list of 8 fields, not {item!r}")
        component, action, func, peer, handle, resource, index, position = item
        try:
            action_value, handle_value = Action(action), HandleKind(handle)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from err
        ops.append(
            Op(
                component=_text(component, f"{where}: component"),
                step=step,
                seq=seq,
                action=action_value,
                func=_text(func, f"{where}: func"),
                peer=_text(peer, f"{where}: peer"),
                index=_count(index, f"{where}: index"),
                handle=handle_value,
                resource=_text(resource, f"{where}: resource"),
                position=None if position is None else _count(position, f"{where}: position"),
            )
        )
    return tuple(ops)
