"""The ``real`` backend: wasmtime's component model keeps the handle tables.

Each component instance has its own table; ``own``/``borrow``, renumbering across
components and the traps on invalid use are wasmtime's. The backend only supplies
host resource types, their destructors and the functions behind them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from wasmtime.component import Linker, ResourceAny, ResourceHost, ResourceType

from harness.execute.backends.base import Backend, adapt, define_destructor_recorders, handle_slots
from harness.execute.backends.host import HOST_INTERFACES, HOST_RESOURCES, StreamHost
from harness.execute.host_trap import HostTrap
from harness.execute.wrap import host_import_name
from harness.model.scenario import Scenario
from harness.model.vocabulary import HandleModel, TrapKind
from harness.model.wit import WitPackage

#: Host resource type ids handed to ``ResourceType.host``.
RESOURCE_IDS = {name: number for number, name in enumerate(HOST_RESOURCES, start=1)}


def _rep_of_borrow(store: Any, handle: ResourceAny, resource: str) -> int:
    if handle.owned:
        raise HostTrap(TrapKind.HOST_ERROR, f"host functions take {resource} by borrow only")
    # Converting a borrow to a host resource also ends the borrow for this call.
    return int(handle.to_host(store).rep)


def _own(_store: Any, rep: int, resource: str) -> ResourceHost:
    return ResourceHost.own(rep, RESOURCE_IDS[resource])


class RealBackend(Backend):
    """Real handles: per-component tables, own/borrow, traps on invalid use."""

    name: ClassVar[str] = "real"
    model: ClassVar[HandleModel] = HandleModel.REAL
    summary: ClassVar[str] = "wasmtime component model: one table per component instance"

    def define_host(self, linker: Linker, wit: WitPackage, scenario: Scenario, host: StreamHost) -> None:
        with linker.root() as root:
            for short in HOST_INTERFACES:
                iface = wit.interface(short)
                shared = wit.mentions_resources(iface)
                # A shared instance serves every component, so its functions cannot name a caller.
                callers = {
                    host_import_name(self.model, spec.name, iface.qualified, shared): "" if shared else spec.name
                    for spec in scenario.components
                }
                for import_name, caller in sorted(callers.items()):
                    with root.add_instance(import_name) as inst:
                        for name, index in iface.types:
                            if wit.kind(index) == "resource":
                                dtor = self._destructor(host, name)
                                inst.add_resource(name, ResourceType.host(RESOURCE_IDS[name]), dtor)
                        for fn in iface.functions:
                            impl = host.implementation(short, fn.name, caller)
                            adapted = adapt(impl, handle_slots(wit, fn), _rep_of_borrow, _own, host.answered)
                            inst.add_func(fn.name, adapted)
        define_destructor_recorders(linker, wit, scenario, host)

    @staticmethod
    def _destructor(host: StreamHost, resource: str) -> Any:
        def destructor(_store: Any, rep: int) -> None:
            host.destroy(resource, rep)

        return destructor
