"""The Canonical ABI's handle tables, written from CanonicalABI.md, for the ``spec`` backends.

Pure Python, outside ``backends`` so that importing it loads no wasmtime: the harness
holds one ``SpecTables`` per scenario run, and the ``spec`` backends call it from the host
functions that every guest's resource intrinsics and every handle crossing between
components are lowered from. Each method names the CanonicalABI.md function whose rules
it follows.

Two layouts, because the spec changed (WebAssembly/component-model):

* ``Layout.SINGLE`` (since PR #427, after issue #395; "Table State" in CanonicalABI.md):
  one table per component instance for every resource type, each element tagged with its
  type, so an index used as the wrong type traps ``wrong-type``;
* ``Layout.PER_TYPE`` (2023, PR #176): one table per resource type per component
  instance, no tag; an index used as another type just indexes that type's table
  (``unknown-handle``, or another element of that type). In that layout only an ``own``
  is counted as lent (``Subtask.add_lender`` asserted ``lending_handle.own``).

Both: index 0 is reserved, the first handle is 1, a freed slot is reused last-freed-first.
The rules left out are the ones no synchronous call between these guests can reach: the
re-entrance checks (``may_enter``, ``trap_if_on_the_stack``) and PR #176's check that a
borrow is passed on only within the task that received it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from harness.execute.host_trap import HostTrap
from harness.model.vocabulary import TrapKind

#: The definer of host resource types (``rt.impl`` is the host, not a component instance).
HOST = "host"


class Layout(enum.StrEnum):
    """How a component instance's handles are kept."""

    #: One table per instance, elements tagged with their type (component-model PR #427).
    SINGLE = "single"
    #: One table per resource type per instance, no tag (component-model PR #176, 2023).
    PER_TYPE = "per-type"


@dataclass(frozen=True)
class ResourceType:
    """A resource type: its WIT name and who defines it (``rt.impl``: a component, or ``host``).

    Resource types are generative: two components exporting the same interface define two
    types, so the definer is part of the identity.
    """

    name: str
    impl: str

    def __str__(self) -> str:
        return self.name if self.impl == HOST else f"{self.name} (defined by {self.impl})"


@dataclass(eq=False)
class CallScope:
    """One call from ``caller`` into ``callee``: the caller's ``Subtask`` and the callee's ``Task`` at once.

    ``lenders``: the caller's handles lent for this call (``Subtask.add_lender``);
    ``num_borrows``: borrows lowered into the callee and not yet dropped (``Task.num_borrows``).
    """

    caller: str
    callee: str
    num_borrows: int = 0
    lenders: list[HandleElem] = field(default_factory=list)


@dataclass(eq=False)
class HandleElem:
    """A table element (CanonicalABI.md ``ResourceHandle``): an ``own`` or a ``borrow`` of a rep."""

    rt: ResourceType
    rep: int
    own: bool
    #: For a borrow: the call it was lowered into, which must see it dropped before returning.
    scope: CallScope | None = None
    num_lends: int = 0


@dataclass(frozen=True)
class Dropped:
    """What ``resource_drop`` removed; ``destroy``: the last (only) ``own`` went, so the destructor runs."""

    rt: ResourceType
    rep: int
    destroy: bool


class Table:
    """One handle table (CanonicalABI.md ``Table``): slot 0 reserved, a free list used last-freed-first."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.array: list[HandleElem | None] = [None]
        self.free: list[int] = []

    def get(self, i: int) -> HandleElem:
        """``Table.get``: traps when ``i`` is out of range or its slot is empty (index 0 included)."""
        element = self.array[i] if 0 <= i < len(self.array) else None
        if element is None:
            raise HostTrap(TrapKind.UNKNOWN_HANDLE, f"unknown handle index {i} in {self.owner}'s table")
        return element

    def add(self, element: HandleElem) -> int:
        """``Table.add``: the most recently freed slot, else a new one at the end."""
        if self.free:
            i = self.free.pop()
            self.array[i] = element
            return i
        self.array.append(element)
        return len(self.array) - 1

    def remove(self, i: int) -> HandleElem:
        """``Table.remove``: empties the slot and puts it on the free list."""
        element = self.get(i)
        self.array[i] = None
        self.free.append(i)
        return element

    def __len__(self) -> int:
        return sum(element is not None for element in self.array)


class SpecTables:
    """Every component instance's handle table(s) in one scenario, and the calls in progress."""

    def __init__(self, layout: Layout, components: list[str]) -> None:
        self.layout = layout
        self._tables: dict[str, dict[ResourceType | None, Table]] = {name: {} for name in components}
        self._calls: list[CallScope] = []

    # --- tables ---------------------------------------------------------------

    def table(self, inst: str, rt: ResourceType) -> Table:
        """The table ``rt``'s handles live in: the instance's one table, or its table for ``rt`` (PR #176)."""
        key = None if self.layout is Layout.SINGLE else rt
        tables = self._tables[inst]
        if key not in tables:
            tables[key] = Table(inst if key is None else f"{inst}'s {rt.name}")
        return tables[key]

    def _get(self, inst: str, rt: ResourceType, i: int) -> HandleElem:
        """``Table.get`` then, in the single table, ``trap_if(h.rt is not rt)``."""
        element = self.table(inst, rt).get(i)
        if element.rt != rt:
            raise HostTrap(
                TrapKind.WRONG_TYPE, f"handle index {i} of {inst} is a {element.rt}, used as a {rt} (wrong type)"
            )
        return element

    def handles(self, inst: str) -> int:
        """How many handles ``inst`` holds, over all its tables."""
        return sum(len(table) for table in self._tables[inst].values())

    # --- canon built-ins ------------------------------------------------------

    def resource_new(self, inst: str, rt: ResourceType, rep: int) -> int:
        """``canon_resource_new``: a new ``own`` of ``rep`` in the defining instance's table."""
        return self.table(inst, rt).add(HandleElem(rt, rep, own=True))

    def resource_rep(self, inst: str, rt: ResourceType, i: int) -> int:
        """``canon_resource_rep``: the rep at ``i``; traps on an empty index or (single table) another type."""
        return self._get(inst, rt, i).rep

    def resource_drop(self, inst: str, rt: ResourceType, i: int) -> Dropped:
        """``canon_resource_drop``: removes the handle at ``i``.

        Traps on an empty index, on another type (single table), and while the handle is lent
        (``num_lends != 0``: ``own-lent``; under PR #176 only an ``own`` could be lent). Dropping
        the ``own`` runs the destructor (``destroy``); dropping a borrow ends it for its call
        (``num_borrows -= 1``).
        """
        element = self._get(inst, rt, i)
        if element.num_lends != 0:
            raise HostTrap(
                TrapKind.OWN_LENT, f"handle index {i} of {inst} is lent out ({element.num_lends}) and cannot be dropped"
            )
        self.table(inst, rt).remove(i)
        if not element.own and element.scope is not None:
            element.scope.num_borrows -= 1
        return Dropped(rt, element.rep, destroy=element.own)

    # --- lifting and lowering -------------------------------------------------

    def lift_own(self, inst: str, rt: ResourceType, i: int) -> int:
        """``lift_own``: takes the ``own`` at ``i`` out of ``inst``'s table and returns its rep.

        Traps on an empty index, on another type (single table), on a lent handle
        (``own-lent``) and on a borrow (``borrow-as-own``), in that order.
        """
        element = self._get(inst, rt, i)
        if element.num_lends != 0:
            raise HostTrap(
                TrapKind.OWN_LENT, f"handle index {i} of {inst} is lent out ({element.num_lends}) and cannot move"
            )
        if not element.own:
            raise HostTrap(TrapKind.BORROW_AS_OWN, f"handle index {i} of {inst} is a borrow, passed as own")
        self.table(inst, rt).remove(i)
        return element.rep

    def lift_borrow(self, inst: str, rt: ResourceType, i: int) -> int:
        """``lift_borrow``: the rep at ``i``, lent for the current call (``Subtask.add_lender``).

        Traps on an empty index and on another type (single table). The lend lasts until the
        call ends (``end_call``) and keeps the handle from being dropped or moved meanwhile.
        """
        element = self._get(inst, rt, i)
        if element.own or self.layout is Layout.SINGLE:
            element.num_lends += 1
            self.current().lenders.append(element)
        return element.rep

    def lower_own(self, inst: str, rt: ResourceType, rep: int) -> int:
        """``lower_own``: a new ``own`` of ``rep`` in ``inst``'s table, at a new index."""
        return self.table(inst, rt).add(HandleElem(rt, rep, own=True))

    def lower_borrow(self, inst: str, rt: ResourceType, rep: int) -> int:
        """``lower_borrow``: the rep itself when ``inst`` defines ``rt``, else a new borrow for the current call."""
        if rt.impl == inst:
            return rep
        scope = self.current()
        scope.num_borrows += 1
        return self.table(inst, rt).add(HandleElem(rt, rep, own=False, scope=scope))

    # --- calls ----------------------------------------------------------------

    def begin_call(self, caller: str, callee: str) -> CallScope:
        """A call starts: the scope its borrows are lent and lowered in (``Subtask`` / ``Task``)."""
        scope = CallScope(caller, callee)
        self._calls.append(scope)
        return scope

    def current(self) -> CallScope:
        if not self._calls:
            raise HostTrap(TrapKind.HOST_ERROR, "a borrow was lifted outside any call")
        return self._calls[-1]

    def end_call(self) -> None:
        """The callee returned: ``Task.return_`` traps while it holds borrows it was given
        (``borrow-outstanding``); then ``Subtask.deliver_resolve`` gives the caller's lends back."""
        scope = self._calls.pop()
        if scope.num_borrows > 0:
            raise HostTrap(
                TrapKind.BORROW_OUTSTANDING,
                f"{scope.callee} returned to {scope.caller} with {scope.num_borrows} borrow(s) not dropped",
            )
        for element in scope.lenders:
            element.num_lends -= 1
