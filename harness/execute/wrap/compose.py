"""The outer component of a scenario: host imports, core modules, and the guests wired together."""

from __future__ import annotations

from collections.abc import Mapping

from harness.execute.core import CoreModule
from harness.execute.wrap.guest import GuestWrapper, WrappedGuest
from harness.execute.wrap.names import (
    DESTRUCTORS,
    DRIVER_FUNC,
    PSEUDO_TABLE,
    core_import_name,
    destructors_import_name,
    driver_export_name,
    dtor_export_name,
    host_import_name,
    quote,
)
from harness.execute.wrap.oplog import OPLOG_IMPORT, GuestLog, SiteTable, log_component, sink_import
from harness.execute.wrap.types import Scope
from harness.model.errors import InputError
from harness.model.scenario import MANIFEST, PEER_INTERFACES, Scenario
from harness.model.vocabulary import HandleModel
from harness.model.wit import WitPackage


def wrap_scenario(
    wit: WitPackage,
    model: HandleModel,
    scenario: Scenario,
    cores: dict[str, CoreModule],
    sites: SiteTable | None = None,
    routed: bool = False,
    *,
    inline_cores: bool = False,
) -> str:
    """The outer component text for ``scenario`` under ``model``.

    One component holds every guest of ``scenario``, providers instantiated first.
    It imports each guest's core module (``core-<name>``, so every backend
    instantiates the very same bytes) and each host interface a guest needs that
    no other guest provides; it exports each guest's driver as ``<name>-run``.
    With ``sites``, every guest records its op log (``wrap.oplog``), interned in ``sites``.
    ``routed`` (pseudo model): handles crossing between guests go through the caller's table instance.
    ``inline_cores``: each core module is defined in place, as an empty ``(core module $m.<name>)`` that
    ``wrap.inline.with_core_modules`` fills with the module's bytes, for runtimes that cannot take core
    modules as imports (jco); the rest of the text is unchanged.
    """
    wrapper = GuestWrapper(wit, model, routed)
    positions = {spec.name: number for number, spec in enumerate(scenario.components)}
    guests: dict[str, WrappedGuest] = {}
    for spec in scenario.components:
        log = None
        if sites is not None:
            providers = {wit.interface(short).qualified: provider for short, provider in spec.imports.items()}
            log = GuestLog(wit, sites, spec.name, providers)
        provider_dtors = _provider_dtors(wit, spec.imports, cores)
        peers = {wit.interface(s).qualified: positions[p] for s, p in spec.imports.items() if p in positions}
        guests[spec.name] = wrapper.wrap(spec.name, cores[spec.name], provider_dtors, log, peers)
    from_guests = {wit.interface(short).qualified for short in PEER_INTERFACES if wit.find_interface(short)}
    driver = wit.find_interface("driver")
    imports, body = ["(component $outer"], []
    if sites is not None:
        imports.extend(sink_import())
        body.extend(log_component())
    scope = Scope()
    host_imported: set[str] = set()
    for spec in scenario.components:
        guest = guests[spec.name]
        if inline_cores:
            imports.append(f"(core module $m.{spec.name})")
        else:
            core_type = cores[spec.name].type_wat(f"$m.{spec.name}")
            imports.append(f"(import {quote(core_import_name(spec.name))} {core_type})")
        withs = [f'(with "core" (core module $m.{spec.name}))']
        provided = {wit.interface(short).qualified: provider for short, provider in spec.imports.items()}
        for qualified in guest.imports:
            if qualified in provided:
                withs.append(f"(with {quote(qualified)} (instance $x.{provided[qualified]}.{qualified}))")
                continue
            if qualified in guest.exports:
                continue
            if qualified in from_guests:
                raise InputError(
                    scenario.path / MANIFEST,
                    f"component {spec.name} imports {qualified} but no component is wired to provide it",
                )
            iface = wit.interface(qualified)
            import_name = host_import_name(model, spec.name, qualified, wit.mentions_resources(iface))
            if import_name not in host_imported:
                wrapper.interfaces.import_interface(imports, iface, import_name, f"$h.{import_name}", "$outer", scope)
                host_imported.add(import_name)
            withs.append(f"(with {quote(qualified)} (instance $h.{import_name}))")
        if guest.destructors:
            recorders = destructors_import_name(spec.name)
            recorders_type = wrapper.interfaces.destructors_type(list(guest.destructors))
            imports.append(f"(import {quote(recorders)} (instance $h.{recorders} {recorders_type}))")
            withs.append(f"(with {quote(DESTRUCTORS)} (instance $h.{recorders}))")
        if model is HandleModel.PSEUDO:
            table = f"{spec.name}-table"
            table_type = wrapper.interfaces.pseudo_table_type(wrapper.routed)
            imports.append(f"(import {quote(table)} (instance $h.{table} {table_type}))")
            withs.append(f"(with {quote(PSEUDO_TABLE)} (instance $h.{table}))")
        if sites is not None:
            withs.append(f"(with {quote(OPLOG_IMPORT)} (instance $oplog))")
        body.append(guest.text)
        body.append(f"(instance $a.{spec.name} (instantiate $C-{spec.name} {' '.join(withs)}))")
        for qualified in guest.exports:
            body.append(f"(alias export $a.{spec.name} {quote(qualified)} (instance $x.{spec.name}.{qualified}))")
        if driver and driver.qualified in guest.exports:
            body.append(f'(alias export $x.{spec.name}.{driver.qualified} "{DRIVER_FUNC}" (func $run.{spec.name}))')
            body.append(f"(export {quote(driver_export_name(spec.name))} (func $run.{spec.name}))")
    return "\n".join([*imports, *body, ")"])


def _provider_dtors(
    wit: WitPackage, imports: Mapping[str, str], cores: dict[str, CoreModule]
) -> frozenset[tuple[str, str]]:
    """(interface, resource) pairs a guest imports from a provider whose core module exports their destructor."""
    found = set()
    for short, provider in imports.items():
        iface = wit.find_interface(short)
        if iface is None or provider not in cores:
            continue
        for qualified, resource in wit.resources():
            if qualified == iface.qualified and cores[provider].export(dtor_export_name(qualified, resource)):
                found.add((qualified, resource))
    return frozenset(found)
