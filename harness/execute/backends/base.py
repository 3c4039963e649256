"""The door every host backend uses, the shipped ones included.

A backend says which handle model its guests are wrapped for and defines the
host side of the WIT package in a component linker. Everything else (wrapping,
running, tracing) is the harness's job, so a third-party host is one small class
registered under the ``handle_compat.backends`` entry-point group.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from wasmtime.component import Linker, LinkerInstance

from harness.execute.backends.host import HOST_INTERFACES, HOST_RESOURCES, StreamHost
from harness.execute.wrap.names import destroyed_name, destructors_import_name, host_import_name, pseudo_name
from harness.model.errors import InputError
from harness.model.scenario import Scenario
from harness.model.vocabulary import HandleModel
from harness.model.wit import Function, WitPackage


@dataclass(frozen=True)
class HandleSlots:
    """Where a WIT function carries handles: resource per param position, and in its result."""

    params: tuple[str | None, ...]
    result: str | None


def handle_slots(wit: WitPackage, fn: Function) -> HandleSlots:
    """Finds the handle-typed params and result of ``fn`` (top level only)."""

    def resource(ref: Any) -> str | None:
        index = wit.resource_of(ref)
        return None if index is None else wit.type_name(index)

    return HandleSlots(tuple(resource(p.type) for p in fn.params), resource(fn.result))


class Backend(ABC):
    """A host for one handle model."""

    name: ClassVar[str]
    model: ClassVar[HandleModel]
    #: Backend whose expectations apply where a manifest names none for this one.
    expectations_from: ClassVar[str | None] = None
    #: Backend whose declared divergences against ``real`` apply where a manifest declares none for this
    #: one (``diverges.<name>``); None: ``expectations_from``'s, else "no divergence from real".
    diverges_from: ClassVar[str | None] = None
    summary: ClassVar[str] = ""
    #: Under the pseudo model: every handle crossing between guests goes through the host's
    #: ``route-*`` functions, for backends whose tables are per component (``spec``).
    routes_peer_handles: ClassVar[bool] = False

    @abstractmethod
    def define_host(self, linker: Linker, wit: WitPackage, scenario: Scenario, host: StreamHost) -> None:
        """Defines every host import the wrapped scenario needs in ``linker``."""

    def unavailable(self) -> InputError | None:
        """Why this backend cannot run on this machine (a runtime or its packages missing), or None.

        Commands left to choose their backends skip such a one and say so.
        """
        return None

    def trace_inputs(self) -> bytes:
        """What shapes this backend's traces beyond the guests, the WIT, the harness and wasmtime.

        Part of the trace files' inputs fingerprint (``harness.execute.inputs``), so traces
        made by another version of an out-of-process runtime count as stale.
        """
        return b""

    def implementation_version(self) -> str | None:
        """The version of the runtime under test, for an implementation backend; None for a model backend.

        An implementation backend with a version is held to its known-deviation file
        ``<guests>/deviations/<name>-<version>.toml`` (``harness.model.deviations``): its
        departures from the rules are reviewed per version, never carried over silently.
        """
        return None


HostFunc = Callable[..., Any]


def define_u32_host_interfaces(
    root: LinkerInstance,
    wit: WitPackage,
    model: HandleModel,
    component: str,
    host: StreamHost,
    adapt: Callable[..., HostFunc],
) -> None:
    """The host interfaces ``component`` imports where the wrapper passes handles as ``u32``.

    One instance per interface for this component, so every function knows its caller;
    ``adapt(impl, fn=fn)`` is the backend's handle model: how the component's numbers
    become reps (one global table under ``pseudo``, the component's own table under ``spec``).
    """
    for short in HOST_INTERFACES:
        iface = wit.interface(short)
        import_name = host_import_name(model, component, iface.qualified, wit.mentions_resources(iface))
        with root.add_instance(import_name) as inst:
            for fn in iface.functions:
                inst.add_func(pseudo_name(fn.name), adapt(host.implementation(short, fn.name, component), fn=fn))


def define_destructor_recorders(linker: Linker, wit: WitPackage, scenario: Scenario, host: StreamHost) -> None:
    """Each component's ``<name>-destructors`` instance: where its guest destructors report before running.

    Defined for every component and every guest-defined resource; the wrapper imports
    it only for a guest whose core module exports a destructor.
    """
    resources = [name for _, name in wit.resources() if name not in HOST_RESOURCES]
    with linker.root() as root:
        for spec in scenario.components:
            with root.add_instance(destructors_import_name(spec.name)) as inst:
                for resource in resources:
                    inst.add_func(destroyed_name(resource), _with_store(host.guest_destroyed(resource)))


def _with_store(record: Callable[[int], None]) -> HostFunc:
    def host_func(_store: Any, rep: int) -> None:
        record(rep)

    return host_func


def adapt(
    impl: HostFunc,
    slots: HandleSlots,
    to_rep: Callable[[Any, Any, str], int],
    from_rep: Callable[[Any, int, str], Any],
    answered: Callable[[Any], None] | None = None,
) -> HostFunc:
    """Wraps a rep-level host function for one handle model.

    ``to_rep(store, handle, resource)`` turns an incoming handle into a rep;
    ``from_rep(store, rep, resource)`` turns a new rep into the handle returned.
    ``answered(result)`` sees what the guest gets back, as the last step before the
    handle model's conversion, so the event log digests the answer that really left.
    """

    def host_func(store: Any, *args: Any) -> Any:
        reps = [a if r is None else to_rep(store, a, r) for a, r in zip(args, slots.params, strict=True)]
        result = impl(*reps)
        if answered is not None:
            answered(result)
        return result if slots.result is None else from_rep(store, result, slots.result)

    return host_func
