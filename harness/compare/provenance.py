"""Provenance: which handle indices each component holds, and how each stopped being held.

Read from ONE backend's op log (``harness.model.oplog``), step by step in ``seq``
order, with no knowledge of the handle model: a component holds an index it created
(``resource.new``, an ``own`` result from the host or a peer) or received (an ``own``
or ``borrow`` parameter of one of its exports, an ``own`` result of an import); it
stops holding it when it drops it, gives it away as ``own`` (a call-out or a
result-out), or, for a borrow, when the export call that received it returns
(CanonicalABI.md: a borrow is scoped to the call that lent it). Plain ``u32`` values
that cross between components are kept too, with their sender, so an index smuggled
as data can be recognised where it is used.

Every handle gets a canonical name, ``<component>#<n>`` for the n-th handle the
component came to hold, so two backends' logs line up although their raw numbers
differ (pseudo keys from 3, never reused; real indices per component from 1, the
last freed slot reused first).

A handle is held as its resource type at its index: under one table per resource type
(component-model PR #176) a component holds an input stream and an output stream both
at index 1, and a use names the handle of the type it is made with. An index used as
a type it is not held as is not a legitimate use (under one table per component it
traps ``wrong-type``): its standing is that type's history at the index, and the
handle of the other type it does name is shown beside it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from harness.model.oplog import HOST_PEER, Action, HandleKind, Op
from harness.model.trace import Trace


class Release(enum.StrEnum):
    """How a component stopped holding a handle."""

    DROPPED = "dropped"
    GIVEN_AWAY = "given-away"
    #: A borrow whose call returned (CanonicalABI.md: borrows are scoped to the lending call).
    SCOPE_ENDED = "scope-ended"


class Standing(enum.StrEnum):
    """How an index a component uses stands in its own history at that moment."""

    HELD = "held"
    AFTER_DROP = "after-drop"
    AFTER_GIVING = "after-giving"
    BORROW_PAST_CALL = "borrow-past-call"
    OWN_WHILE_LENT = "own-while-lent"
    BORROW_AS_OWN = "borrow-as-own"
    RECEIVED_AS_DATA = "received-as-data"
    NEVER_HELD = "never-held"


#: Actions that use an index the component must hold (the rest create handles or carry data).
_USING = frozenset({Action.REP, Action.DROP, Action.CALL_OUT, Action.RESULT_OUT})

#: Where a component holds (or last held) a handle: (component, resource type, index).
_Slot = tuple[str, str, int]


@dataclass(frozen=True)
class Holding:
    """One handle one component came to hold, and, once it stopped, how."""

    name: str
    component: str
    index: int
    resource: str
    kind: HandleKind
    #: Who it came from: ``""`` when the component created it, else ``host`` or a component.
    source: str
    func: str
    step: int
    seq: int
    released: Release | None = None
    released_step: int | None = None
    #: The receiver when it was given away.
    released_to: str = ""
    #: For a borrow: the call that received it has returned (its drop may have come first).
    scope_ended: bool = False
    #: Lends of this own to components whose calls have not returned yet.
    lends: int = 0

    def origin(self) -> str:
        """Where the handle came from, in words: ``created by open-input in step 1``."""
        what = _short(self.func)
        if not self.source:
            return f"{self.name}, which {self.component} created with {what} in step {self.step + 1}"
        how = "lent" if self.kind is HandleKind.BORROW else "given"
        verb = "returned by" if self.source == HOST_PEER else f"{how} by"
        return f"{self.name}, {self.kind.value} {verb} {self.source} through {what} in step {self.step + 1}"


@dataclass(frozen=True)
class DataReceipt:
    """A plain ``u32`` a component received, and from whom."""

    component: str
    sender: str
    value: int
    func: str
    step: int
    seq: int
    #: The sender's handle whose index this value equalled when it was sent, if any.
    name: str | None


@dataclass(frozen=True)
class Use:
    """How the index of one op stood in its component's history when the op happened."""

    standing: Standing
    #: The holding the index names (held, or the last one that had this index).
    holding: Holding | None = None
    #: The latest time the component received this value as data from another component.
    receipt: DataReceipt | None = None

    @property
    def legitimate(self) -> bool:
        return self.standing is Standing.HELD

    def describe(self, op: Op) -> str:
        """The use in plain words: which component used which index and where it came from."""
        who, index = op.component, op.index
        h, r = self.holding, self.receipt
        if self.standing is Standing.HELD and h is not None:
            return f"{who} used {index}, which it holds: {h.origin()}"
        if self.standing is Standing.OWN_WHILE_LENT and h is not None:
            verb = "dropped" if op.action is Action.DROP else "passed as own"
            return f"{who} {verb} {index} while it was lent out: {h.origin()}"
        if self.standing is Standing.BORROW_AS_OWN and h is not None:
            return f"{who} passed {index} as own, but holds it only as a borrow: {h.origin()}"
        if self.standing is Standing.AFTER_DROP and h is not None:
            return f"{who} used {index} after dropping it in step {(h.released_step or 0) + 1}: it was {h.origin()}"
        if self.standing is Standing.AFTER_GIVING and h is not None:
            return (
                f"{who} used {index} after giving it to {h.released_to} as own in step "
                f"{(h.released_step or 0) + 1}: it was {h.origin()}"
            )
        if self.standing is Standing.BORROW_PAST_CALL and h is not None:
            return f"{who} used {index} after the call that lent it returned: it was {h.origin()}"
        if self.standing is Standing.NEVER_HELD and h is not None:
            return f"{who} used {index} as {op.resource}, which it never held as one: it holds {h.origin()}"
        if self.standing is Standing.RECEIVED_AS_DATA and r is not None:
            named = f" (its index of {r.name})" if r.name else ""
            return (
                f"{who} used {index}, which it never held: {r.sender} sent {index}{named} to {who} "
                f"as a u32 through {_short(r.func)} in step {r.step + 1}"
            )
        return f"{who} used {index}, which it never held and never received"


@dataclass(frozen=True)
class Seen:
    """One op with what provenance makes of it."""

    op: Op
    #: The op with its raw value replaced by a name that means the same on every backend.
    name: str | None
    #: Set for an op that uses an index (rep, drop, a handle passed or returned).
    use: Use | None = None

    def lines_up_with(self, other: Seen) -> bool:
        """The same op on two backends: same shape, same handle by name, same data (raw, or by name)."""
        a, b = self.op, other.op
        shape = (a.component, a.action, a.func, a.peer, a.handle, a.resource, a.position)
        if shape != (b.component, b.action, b.func, b.peer, b.handle, b.resource, b.position):
            return False
        if a.handle is HandleKind.DATA:
            return a.index == b.index or (self.name is not None and self.name == other.name)
        if a.handle is HandleKind.REP or a.action is Action.RETURN:
            return a.index == b.index
        return self.name == other.name


@dataclass(frozen=True)
class Provenance:
    """Every op of one trace with its provenance, per step, and every handle held."""

    backend: str
    steps: tuple[tuple[Seen, ...], ...]
    holdings: tuple[Holding, ...]


@dataclass
class _Frame:
    """One export call that received borrows: they end when it returns."""

    component: str
    func: str
    borrows: list[str] = field(default_factory=list)
    #: Holdings of callers that lent them, released from the lend at the return.
    lenders: list[str] = field(default_factory=list)


@dataclass
class _Tracker:
    holdings: dict[str, Holding] = field(default_factory=dict)
    held: dict[_Slot, str] = field(default_factory=dict)
    #: The last holding that had an index as a resource type in a component and stopped.
    former: dict[_Slot, str] = field(default_factory=dict)
    #: The holding most recently placed at an index in a component, of any type (named for data).
    latest: dict[tuple[str, int], str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    receipts: dict[tuple[str, int], DataReceipt] = field(default_factory=dict)
    frames: list[_Frame] = field(default_factory=list)
    #: (callee, lender component) -> the lender's holdings lent in calls the callee has not received yet.
    pending: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    previous: Op | None = None
    step: int = 0

    def see(self, op: Op) -> Seen:
        self.step = op.step
        if op.action is Action.RETURN:
            self._returned(op.component, op.func)
            seen = Seen(op, None)
        elif op.handle is HandleKind.DATA:
            seen = self._data(op)
        elif op.handle is HandleKind.REP:
            seen = Seen(op, None)
            self._open_frame(op, None)
        elif op.action in _USING:
            seen = self._use(op)
        else:
            seen = Seen(op, self._hold(op).name)
        self.previous = op
        return seen

    def end_step(self) -> None:
        """A step's calls have all returned (or trapped): every borrow received in it has ended."""
        while self.frames:
            self._close(self.frames.pop())
        self.pending.clear()
        self.previous = None

    # --- handles ---------------------------------------------------------------

    def _hold(self, op: Op) -> Holding:
        self.counts[op.component] = self.counts.get(op.component, 0) + 1
        kind = HandleKind.BORROW if op.handle is HandleKind.BORROW else HandleKind.OWN
        source = "" if op.action is Action.NEW else op.peer
        holding = Holding(
            f"{op.component}#{self.counts[op.component]}",
            op.component,
            op.index,
            op.resource,
            kind,
            source,
            op.func,
            op.step,
            op.seq,
        )
        self.holdings[holding.name] = holding
        self.held[(op.component, op.resource, op.index)] = holding.name
        self.latest[(op.component, op.index)] = holding.name
        if kind is HandleKind.BORROW:
            self._open_frame(op, holding.name)
        return holding

    def _release(self, name: str, how: Release, step: int, to: str = "") -> None:
        holding = self.holdings[name]
        self.holdings[name] = replace(holding, released=how, released_step=step, released_to=to)
        key = (holding.component, holding.resource, holding.index)
        if self.held.get(key) == name:
            del self.held[key]
        self.former[key] = name

    def _use(self, op: Op) -> Seen:
        name = self.held.get((op.component, op.resource, op.index))
        use = self._standing(op, name)
        if name is not None:
            holding = self.holdings[name]
            passed = op.action in (Action.CALL_OUT, Action.RESULT_OUT)
            if op.action is Action.DROP:
                self._release(name, Release.DROPPED, op.step)
            elif passed and op.handle is HandleKind.OWN:
                self._release(name, Release.GIVEN_AWAY, op.step, op.peer)
            elif passed and op.handle is HandleKind.BORROW and op.peer != HOST_PEER:
                self.holdings[name] = replace(holding, lends=holding.lends + 1)
                self.pending.setdefault((op.peer, op.component), []).append(name)
            return Seen(op, name, use)
        shown = use.holding.name + "~" if use.holding is not None else None
        if shown is None and use.receipt is not None and use.receipt.name is not None:
            shown = "data:" + use.receipt.name
        return Seen(op, shown or f"{op.component}?{op.index}", use)

    def _standing(self, op: Op, name: str | None) -> Use:
        if name is not None:
            holding = self.holdings[name]
            as_own = op.handle is HandleKind.OWN and op.action in (Action.CALL_OUT, Action.RESULT_OUT)
            if as_own and holding.kind is HandleKind.BORROW:
                return Use(Standing.BORROW_AS_OWN, holding)
            if (as_own or op.action is Action.DROP) and holding.lends:
                return Use(Standing.OWN_WHILE_LENT, holding)
            return Use(Standing.HELD, holding)
        former = self.holdings.get(self.former.get((op.component, op.resource, op.index), ""))
        other = None if former is not None else self._held_as_other_type(op)
        if former is None and other is None:
            # A stale index of one type used as another: what the index last named.
            former = self.holdings.get(self.latest.get((op.component, op.index), ""))
        receipt = self.receipts.get((op.component, op.index))
        if receipt is not None and (former is None or (receipt.step, receipt.seq) > (former.step, former.seq)):
            return Use(Standing.RECEIVED_AS_DATA, former, receipt)
        if former is None:
            return Use(Standing.NEVER_HELD, other)
        if former.kind is HandleKind.BORROW and former.scope_ended:
            return Use(Standing.BORROW_PAST_CALL, former, receipt)
        if former.released is Release.GIVEN_AWAY:
            return Use(Standing.AFTER_GIVING, former, receipt)
        if former.released is Release.DROPPED:
            return Use(Standing.AFTER_DROP, former, receipt)
        return Use(Standing.BORROW_PAST_CALL, former, receipt)

    def _held_as_other_type(self, op: Op) -> Holding | None:
        """The handle the component holds at the index of ``op`` as another resource type, if any."""
        for (component, _, index), name in self.held.items():
            if (component, index) == (op.component, op.index):
                return self.holdings[name]
        return None

    # --- borrow scopes -----------------------------------------------------------

    def _open_frame(self, op: Op, borrow: str | None) -> None:
        prev = self.previous
        same_call = (
            prev is not None
            and self.frames
            and (prev.component, prev.action, prev.func) == (op.component, Action.CALL_IN, op.func)
            and (self.frames[-1].component, self.frames[-1].func) == (op.component, op.func)
        )
        if not same_call:
            self.frames.append(_Frame(op.component, op.func))
        frame = self.frames[-1]
        if borrow is not None:
            frame.borrows.append(borrow)
        lent = self.pending.get((op.component, op.peer))
        if lent:
            frame.lenders.append(lent.pop(0))

    def _returned(self, component: str, func: str) -> None:
        for at in range(len(self.frames) - 1, -1, -1):
            if (self.frames[at].component, self.frames[at].func) == (component, func):
                self._close(self.frames.pop(at))
                return

    def _close(self, frame: _Frame) -> None:
        for name in frame.borrows:
            holding = self.holdings[name]
            self.holdings[name] = replace(holding, scope_ended=True)
            if holding.released is None:
                self._release(name, Release.SCOPE_ENDED, self.step)
                self.holdings[name] = replace(self.holdings[name], scope_ended=True)
        for name in frame.lenders:
            holding = self.holdings[name]
            self.holdings[name] = replace(holding, lends=max(0, holding.lends - 1))

    # --- data --------------------------------------------------------------------

    def _name_in(self, component: str, value: int) -> str | None:
        """The handle ``value`` is the index of in ``component``: the last placed there, of any type."""
        return self.latest.get((component, value))

    def _data(self, op: Op) -> Seen:
        if op.action in (Action.CALL_OUT, Action.RESULT_OUT):
            return Seen(op, self._name_in(op.component, op.index))
        name = None if op.peer == HOST_PEER else self._name_in(op.peer, op.index)
        if op.peer not in (HOST_PEER, op.component):
            self.receipts[(op.component, op.index)] = DataReceipt(
                op.component, op.peer, op.index, op.func, op.step, op.seq, name
            )
        return Seen(op, name)


def provenance(trace: Trace) -> Provenance:
    """The provenance of every op of ``trace``, step by step."""
    return of_ops(trace.backend, [step.ops for step in trace.steps])


def of_ops(backend: str, steps: Sequence[Sequence[Op]]) -> Provenance:
    """The provenance of hand-made steps of ops (each step's ops in ``seq`` order)."""
    tracker = _Tracker()
    seen = []
    for ops in steps:
        seen.append(tuple(tracker.see(op) for op in ops))
        tracker.end_step()
    return Provenance(backend, tuple(seen), tuple(tracker.holdings.values()))


def _short(func: str) -> str:
    """``[method]input-stream.read`` for ``handle-compat:io/streams@0.1.0#[method]input-stream.read``."""
    return func.rpartition("#")[2] or func
