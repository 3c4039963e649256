"""The nested component around one guest's core module.

It turns the guest's core imports into component imports and its core exports
into component exports, following the canonical ABI's naming (``iface#func``,
``[method]r.f``, ``[resource-drop]r``, ``[export]iface``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from harness.execute.core import CoreFunc, CoreImport, CoreModule
from harness.execute.wrap.adapters import (
    destructor_shim,
    export_shim,
    fill_destructors,
    fill_stubs,
    indirect_stubs,
    peer_route_adapter,
    pseudo_borrow_adapter,
    pseudo_borrow_slots,
    pseudo_drop_adapter,
    route_slots,
)
from harness.execute.wrap.interfaces import InterfaceWriter
from harness.execute.wrap.names import DESTRUCTORS, PSEUDO_TABLE, dtor_export_name, pseudo_dtor_name, quote
from harness.execute.wrap.oplog import GuestLog
from harness.execute.wrap.types import Scope, TypeWriter
from harness.model.errors import InputError
from harness.model.vocabulary import HandleModel
from harness.model.wit import Function, Interface, WitPackage

_INTRINSIC = re.compile(r"^\[resource-(new|rep|drop)\](.+)$")


@dataclass(frozen=True)
class WrappedGuest:
    """A guest's nested component and the interfaces it imports and exports."""

    text: str
    #: Interfaces the component imports, dependencies first.
    imports: tuple[str, ...]
    exports: tuple[str, ...]
    #: Resources this guest defines with a destructor: it imports the destructors host instance for them.
    destructors: tuple[str, ...] = ()


class GuestWrapper:
    """Wraps one core module for one handle model."""

    def __init__(self, wit: WitPackage, model: HandleModel, routed: bool = False) -> None:
        """``routed`` (pseudo model only): every handle crossing between guests goes through the
        caller's table instance (``peer_route_adapter``), for backends that keep a table per component."""
        self.wit = wit
        self.model = model
        self.routed = routed and model is HandleModel.PSEUDO
        self.types = TypeWriter(wit, model)
        self.interfaces = InterfaceWriter(wit, model, self.types)

    def guest_interfaces(self, core: CoreModule) -> tuple[list[str], list[str]]:
        """(imported, exported) interfaces of a core module, from its names."""
        imported: list[str] = []
        for imp in core.imports:
            module = imp.module.removeprefix("[export]")
            if self.wit.find_interface(module) is None:
                raise InputError(
                    core.path, f"imports from {imp.module!r}, which is not an interface of the WIT package"
                )
            if not imp.module.startswith("[export]") and module not in imported:
                imported.append(module)
        exported: list[str] = []
        for exp in core.exports:
            if "#" in exp.name and not exp.name.startswith("cabi_post_"):
                iface_name = exp.name.split("#")[0]
                if self.wit.find_interface(iface_name) is None:
                    raise InputError(core.path, f"exports {exp.name!r}, which names no interface of the WIT package")
                if iface_name not in exported:
                    exported.append(iface_name)
        return imported, exported

    def wrap(
        self,
        name: str,
        core: CoreModule,
        provider_dtors: frozenset[tuple[str, str]] = frozenset(),
        log: GuestLog | None = None,
        peers: Mapping[str, int] | None = None,
    ) -> WrappedGuest:
        """The nested component ``$C-<name>`` wrapping ``core``; with ``log``, recording its op log.

        ``provider_dtors``: (interface, resource) pairs this guest imports from a guest
        that defines a destructor for them; under pseudo its drops run that destructor.
        ``peers``: when routed, the position in the scenario of the guest providing each imported interface.
        """
        imported, exported = self.guest_interfaces(core)
        used_by_exports = [dep for q in exported for dep in self.interfaces.uses(self.wit.interface(q))]
        needed = self.interfaces.closure(imported + used_by_exports)
        comp = f"$C-{name}"
        scope = Scope()
        lines = [f"(component {comp}"]
        own_resources = [(q, r) for q, r in self.wit.resources() if q in exported]
        own_dtors = [(q, r) for q, r in own_resources if core.export(dtor_export_name(q, r))]
        # Under real handles the component model runs a peer's destructor itself.
        peer_dtors: list[tuple[str, str]] = []
        if self.model is HandleModel.PSEUDO:
            drops = {(i.module, i.name) for i in core.imports}
            peer_dtors = sorted((q, r) for q, r in provider_dtors if (q, f"[resource-drop]{r}") in drops)
        if log is not None:
            lines.append(log.import_line())
        for qualified in needed:
            iface = self.wit.interface(qualified)
            extra = tuple(
                f'(export "{pseudo_dtor_name(r)}" (func (param "rep" u32)))' for q, r in peer_dtors if q == qualified
            )
            self.interfaces.import_interface(lines, iface, qualified, f"$i.{qualified}", comp, scope, extra)
        if self.model is HandleModel.PSEUDO:
            table_type = self.interfaces.pseudo_table_type(self.routed)
            lines.append(f"(import {quote(PSEUDO_TABLE)} (instance $table {table_type}))")
        if own_dtors:
            resources = [r for _, r in own_dtors]
            lines.append(
                f"(import {quote(DESTRUCTORS)} (instance $dtors {self.interfaces.destructors_type(resources)}))"
            )
            lines.extend(destructor_shim(resources, "$dtors"))
        if self.model is HandleModel.REAL:
            for qualified, resource in own_resources:
                index = dict(self.wit.interface(qualified).types)[resource]
                ident = f"$own.{qualified}.{resource}"
                dtor = f' (dtor (core func $dtor "{resource}"))' if (qualified, resource) in own_dtors else ""
                lines.append(f"(type {ident} (resource (rep i32){dtor}))")
                scope.ids[index] = ident
        drop_adapters = self._pseudo_drop_adapters(lines, own_dtors, peer_dtors)
        lines.append(f'(import "core" {core.type_wat("$core")})')
        if log is not None:
            lines.append(log.append_func())
        lines.extend(self._core_instance(core, scope, drop_adapters, log, peers or {}))
        if own_dtors:
            lines.extend(fill_destructors([dtor_export_name(q, r) for q, r in own_dtors]))
        lines.extend(self._exports(core, exported, scope, {r for _, r in own_resources}, own_dtors, log))
        lines.append(")")
        return WrappedGuest("\n".join(lines), tuple(needed), tuple(exported), tuple(r for _, r in own_dtors))

    def _pseudo_drop_adapters(
        self, lines: list[str], own_dtors: list[tuple[str, str]], peer_dtors: list[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """Under pseudo, the ``[resource-drop]`` of each resource with a destructor, by (module, resource).

        The pseudo table had no guest destructors (wasmtime-wasi 2023 hosts ran no guest-defined
        resources); this model runs the definer's destructor when the entry is deleted, as deleting an
        entry destroyed a host resource (rule ``pseudo-delete-runs-guest-dtor`` in guests/rules.toml).
        The definer calls its own destructor directly; another guest calls the one its provider exports.
        """
        adapters: dict[tuple[str, str], str] = {}
        if self.model is not HandleModel.PSEUDO:
            return adapters
        for qualified, resource, module, dtor in [
            *((q, r, f"[export]{q}", f'$dtor "{r}"') for q, r in own_dtors),
            *((q, r, q, f"$dtor-peer.{q}.{r}") for q, r in peer_dtors),
        ]:
            side = "peer" if module == qualified else "own"
            ident, take = f"$drop.{side}.{qualified}.{resource}", f"$take.{side}.{qualified}.{resource}"
            lines.append(f'(core func {take} (canon lower (func $table "resource-take-{resource}")))')
            if not module.startswith("[export]"):
                lines.append(f'(core func {dtor} (canon lower (func $i.{qualified} "{pseudo_dtor_name(resource)}")))')
            lines.extend(pseudo_drop_adapter(ident, take, dtor))
            adapters[(module, resource)] = ident
        return adapters

    def _intrinsic(self, module: str, name: str, scope: Scope, drop_adapters: dict[tuple[str, str], str]) -> str | None:
        """Core function text for a ``[resource-*]`` import, or None for a plain import."""
        match = _INTRINSIC.match(name)
        if not match:
            return None
        action, resource = match.groups()
        if action == "drop" and (module, resource) in drop_adapters:
            return f'(alias core export {drop_adapters[(module, resource)]} "drop")'
        if self.model is HandleModel.PSEUDO:
            return f'(canon lower (func $table "resource-{action}-{resource}"))'
        iface = self.wit.interface(module.removeprefix("[export]"))
        index = dict(iface.types).get(resource)
        if index is None or (self.wit.resolve_alias(index) not in scope.ids and index not in scope.ids):
            return None
        ident = scope.ids.get(index) or scope.ids[self.wit.resolve_alias(index)]
        return f"(canon resource.{action} {ident})"

    def _core_instance(
        self,
        core: CoreModule,
        scope: Scope,
        drop_adapters: dict[tuple[str, str], str],
        log: GuestLog | None = None,
        peers: Mapping[str, int] | None = None,
    ) -> list[str]:
        """Instantiates the guest core module with its imports lowered through stubs."""
        lines: list[str] = []
        lowered: list[tuple[int, str, CoreFunc]] = []
        intrinsics: list[tuple[int, CoreImport]] = []
        functions: list[tuple[int, CoreImport, Function]] = []
        by_module: dict[str, list[tuple[str, str]]] = {}
        for number, imp in enumerate(core.imports):
            intrinsic = self._intrinsic(imp.module, imp.name, scope, drop_adapters)
            if intrinsic is not None:
                lines.append(f"(core func $k{number} {intrinsic})")
                by_module.setdefault(imp.module, []).append((imp.name, f"$k{number}"))
                intrinsics.append((number, imp))
                continue
            fn = self._function(imp.module, imp.name, core)
            functions.append((number, imp, fn))
            target = f"(func $i.{imp.module} {quote(self.types.func_name(fn))})"
            lowered.append((number, target, imp.func))
            by_module.setdefault(imp.module, []).append((imp.name, f'$shim "{number}"'))
        if lowered:
            lines.extend(indirect_stubs([(number, func) for number, _, func in lowered]))
        logged: dict[str, str] = {}
        if log is not None:
            log_lines, logged = log.intrinsics(intrinsics)
            lines.extend(log_lines)
            by_module = {
                module: [(n, logged.get(ref, ref)) for n, ref in members] for module, members in by_module.items()
            }
        instances = []
        for number, (module, members) in enumerate(by_module.items()):
            exports = " ".join(f"(export {quote(n)} (func {ref}))" for n, ref in members)
            lines.append(f"(core instance $im{number} {exports})")
            instances.append(f"(with {quote(module)} (instance $im{number}))")
        lines.append(f"(core instance $g (instantiate $core {' '.join(instances)}))")
        if lowered:
            options = " ".join([*self._memory_options(core), "string-encoding=utf8"])
            routes = self._routes(functions, peers or {})
            for number, target, func in lowered:
                raw = f"$lr{number}" if number in routes else f"$l{number}"
                lines.append(f"(core func {raw} (canon lower {target} {options}))")
                if number in routes:
                    slots, result, callee = routes[number]
                    lines.extend(peer_route_adapter(f"$rt{number}", func, slots, result, callee, raw))
                    lines.append(f'(alias core export $rt{number} "f" (core func $l{number}))')
            if log is not None:
                log_lines, logged = log.lowered(functions, '$g "memory"' if core.export("memory") else None)
                lines.extend(log_lines)
            lines.extend(fill_stubs([(logged.get(f"$l{number}", f"$l{number}"), func) for number, _, func in lowered]))
        return lines

    def _routes(
        self, functions: list[tuple[int, CoreImport, Function]], peers: Mapping[str, int]
    ) -> dict[int, tuple[list[tuple[int, str, str]], str | None, int]]:
        """Lowered imports of a peer's functions that carry handles, when routed: their handle slots and callee."""
        routes = {}
        for number, imp, fn in functions:
            if not self.routed or imp.module not in peers:
                continue
            slots, result = route_slots(self.wit, self.types, fn)
            if slots or result is not None:
                routes[number] = (slots, result, peers[imp.module])
        return routes

    @staticmethod
    def _memory_options(core: CoreModule) -> list[str]:
        options = []
        if core.export("memory"):
            options.append('(memory (core memory $g "memory"))')
        if core.export("cabi_realloc"):
            options.append('(realloc (core func $g "cabi_realloc"))')
        return options

    def _function(self, module: str, name: str, core: CoreModule) -> Function:
        iface = self.wit.interface(module)
        for fn in iface.functions:
            if fn.name == name:
                return fn
        raise InputError(core.path, f"imports {module}.{name}, which {iface.name} does not declare")

    def _exports(
        self,
        core: CoreModule,
        exported: list[str],
        scope: Scope,
        own_names: set[str],
        own_dtors: list[tuple[str, str]],
        log: GuestLog | None = None,
    ) -> list[str]:
        lines: list[str] = []
        logged: dict[str, str] = {}
        if log is not None:
            entries = [(f"{q}#{fn.name}", fn) for q in exported for fn in self.wit.interface(q).functions]
            lines, logged = log.exports(core, entries, own_names)
        for qualified in exported:
            iface = self.wit.interface(qualified)
            lifted: list[tuple[Function, str]] = []
            for number, fn in enumerate(iface.functions):
                core_name = f"{qualified}#{fn.name}"
                if core.export(core_name) is None:
                    raise InputError(core.path, f"exports part of {iface.name} but not {core_name!r}")
                options = self._memory_options(core)
                if core.export(f"cabi_post_{core_name}"):
                    options.append(f'(post-return (core func $g "cabi_post_{core_name}"))')
                inner = logged.get(core_name, f'$g "{core_name}"')
                source = f"(core func {inner})"
                slots = []
                if self.model is HandleModel.PSEUDO and not self.routed:
                    # Routed, the caller's route already lent the borrow (or handed the rep) into this table.
                    slots = pseudo_borrow_slots(self.wit, self.types, fn, own_names)
                if slots:
                    adapter = f"$ad.{qualified}.{number}"
                    lines.extend(pseudo_borrow_adapter(core, core_name, slots, adapter, inner))
                    source = f'(core func {adapter} "f")'
                ident = f"$e.{qualified}.{number}"
                signature = self.types.func(fn, scope)[len("(func ") : -1]
                lines.append(f"(func {ident} {signature} (canon lift {source} {' '.join(options)}))")
                lifted.append((fn, ident))
            dtors: list[tuple[str, str]] = []
            if self.model is HandleModel.PSEUDO:
                for _, resource in (d for d in own_dtors if d[0] == qualified):
                    ident = f"$dtor-lift.{qualified}.{resource}"
                    lines.append(f'(func {ident} (param "rep" u32) (canon lift (core func $dtor "{resource}")))')
                    dtors.append((pseudo_dtor_name(resource), ident))
            lines.extend(self._export_instance(iface, lifted, scope, dtors))
        return lines

    def _export_instance(
        self,
        iface: Interface,
        lifted: list[tuple[Function, str]],
        scope: Scope,
        dtors: list[tuple[str, str]],
    ) -> list[str]:
        """Exports an interface as an instance of the nested component (under pseudo, with its destructors)."""
        qualified = iface.qualified
        resources = []
        if self.model is HandleModel.REAL:
            resources = [(name, index) for name, index in iface.types if self.wit.resolve_alias(index) in scope.ids]
        if resources:
            return export_shim(self.wit, self.types, iface, resources, lifted, scope)
        named = [(self.types.func_name(fn), ident) for fn, ident in lifted] + dtors
        funcs = " ".join(f"(export {quote(name)} (func {ident}))" for name, ident in named)
        return [f"(instance $x.{qualified} {funcs})", f"(export {quote(qualified)} (instance $x.{qualified}))"]
