"""The ``pseudo`` backend: every handle is a ``u32`` into one table per store."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from wasmtime.component import Linker

from harness.execute.backends.base import (
    Backend,
    adapt,
    define_destructor_recorders,
    define_u32_host_interfaces,
    handle_slots,
)
from harness.execute.backends.host import HOST_RESOURCES, StreamHost
from harness.execute.backends.pseudo_table import AllocationPolicy, PseudoTable
from harness.execute.host_trap import HostTrap
from harness.model.scenario import ComponentSpec, Scenario
from harness.model.vocabulary import HandleModel, TrapKind
from harness.model.wit import WitPackage


class PseudoBackend(Backend):
    """Pseudo-handles as the mid-2023 WASI host had them: no isolation, no own/borrow."""

    name: ClassVar[str] = "pseudo"
    model: ClassVar[HandleModel] = HandleModel.PSEUDO
    policy: ClassVar[AllocationPolicy] = AllocationPolicy.MONOTONIC
    summary: ClassVar[str] = "one u32 table per store, keys from 3, never reused"

    def new_table(self, scenario: Scenario) -> PseudoTable:
        """The one table of a run of ``scenario``; the same for every scenario here."""
        return PseudoTable(self.policy)

    def define_host(self, linker: Linker, wit: WitPackage, scenario: Scenario, host: StreamHost) -> None:
        table = self.new_table(scenario)
        lent: dict[str, set[int]] = {spec.name: set() for spec in scenario.components}
        with linker.root() as root:
            for spec in scenario.components:
                define_u32_host_interfaces(
                    root,
                    wit,
                    self.model,
                    spec.name,
                    host,
                    functools.partial(self._adapt, wit=wit, table=table, caller=spec.name, host=host),
                )
                with root.add_instance(f"{spec.name}-table") as inst:
                    self._define_intrinsics(inst, wit, table, host, spec, lent[spec.name])
        define_destructor_recorders(linker, wit, scenario, host)

    def _adapt(self, impl: Any, wit: WitPackage, fn: Any, table: PseudoTable, caller: str, host: StreamHost) -> Any:
        """A host function over pseudo-handles; a new child resource is pushed as a child of its parent's key.

        The 2023 host pushed a stream's pollable with ``Table::push_child`` under the
        stream's key, which is the handle the guest passed in this call.
        """
        passed: dict[int, int] = {}

        def to_rep(_store: Any, index: int, resource: str) -> int:
            rep = int(self.lookup(table, caller, index, resource).rep)
            passed[rep] = index
            return rep

        def from_rep(_store: Any, rep: int, resource: str) -> int:
            parent = host.parent_of(rep)
            return table.insert(resource, rep, caller, None if parent is None else passed[parent])

        adapted = adapt(impl, handle_slots(wit, fn), to_rep, from_rep, host.answered)

        def host_func(store: Any, *args: Any) -> Any:
            passed.clear()
            return adapted(store, *args)

        return host_func

    def lookup(self, table: PseudoTable, caller: str, index: int, resource: str) -> Any:
        """Resolves a guest's index; the caller is known but, under pseudo-handles, ignored."""
        return table.get(index, resource)

    def _define_intrinsics(
        self, inst: Any, wit: WitPackage, table: PseudoTable, host: StreamHost, spec: ComponentSpec, lent: set[int]
    ) -> None:
        """``[resource-*]`` over the global table, and the borrow scope of the current call.

        ``lent`` holds the indices passed to the component as borrows in the call it is
        running: dropping one of those ends the borrow and leaves the lender's
        resource alone, as guests written for real handles do.

        ``resource-take-<r>`` is the drop of a guest resource whose definer has a
        destructor: it deletes the entry and returns the rep, which the wrapper then
        hands to that destructor (-1: the drop only ended a borrow). The wrapper wires
        each guest to one definer's destructor (its own, or its provider's); an entry
        made by another definer cannot reach the right one, and says so.
        """
        caller = spec.name
        owners = {wit.interface(short).qualified: provider for short, provider in spec.imports.items()}

        def borrow_begin(_store: Any, index: int) -> None:
            lent.add(index)

        def borrow_end(_store: Any) -> None:
            lent.clear()

        inst.add_func("borrow-begin", borrow_begin)
        inst.add_func("borrow-end", borrow_end)
        for qualified, resource in wit.resources():
            definer = owners.get(qualified, caller)

            def new(_store: Any, rep: int, resource: str = resource) -> int:
                return table.insert(resource, rep, caller)

            def rep_of(_store: Any, index: int, resource: str = resource) -> int:
                return int(self.lookup(table, caller, index, resource).rep)

            def drop(_store: Any, index: int, resource: str = resource) -> None:
                if index in lent:
                    self.lookup(table, caller, index, resource)
                    lent.discard(index)
                    return
                table.check_remove(index, resource)
                entry = self.lookup(table, caller, index, resource)
                if resource in HOST_RESOURCES:
                    host.destroy(resource, entry.rep)
                table.remove(index, resource)

            def take(_store: Any, index: int, resource: str = resource, definer: str = definer) -> int:
                if index in lent:
                    self.lookup(table, caller, index, resource)
                    lent.discard(index)
                    return -1
                table.check_remove(index, resource)
                entry = self.lookup(table, caller, index, resource)
                if entry.creator != definer:
                    raise HostTrap(
                        TrapKind.HOST_ERROR,
                        f"pseudo-handle {index} is a {resource} made by {entry.creator}; "
                        f"{caller}'s drop can only run {definer}'s destructor",
                    )
                table.remove(index, resource)
                return int(entry.rep)

            inst.add_func(f"resource-new-{resource}", new)
            inst.add_func(f"resource-rep-{resource}", rep_of)
            inst.add_func(f"resource-drop-{resource}", drop)
            inst.add_func(f"resource-take-{resource}", take)


class PseudoReuseBackend(PseudoBackend):
    """The pseudo table with a free list: the most recently freed index comes back first."""

    name: ClassVar[str] = "pseudo-reuse"
    policy: ClassVar[AllocationPolicy] = AllocationPolicy.REUSE
    expectations_from: ClassVar[str | None] = "pseudo"
    summary: ClassVar[str] = "one u32 table per store, keys from 3, freed keys reused last-freed-first"
