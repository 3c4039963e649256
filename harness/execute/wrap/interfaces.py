"""Imports of WIT interfaces as component instance types, and their ``use`` dependencies."""

from __future__ import annotations

from harness.execute.wrap.names import destroyed_name, quote
from harness.execute.wrap.types import Scope, TypeWriter
from harness.model.errors import InputError
from harness.model.vocabulary import HandleModel
from harness.model.wit import Interface, WitPackage

#: What a routed handle crossing does (``route-<verb>-<resource>``): move an own to the callee,
#: lend a borrow to it, move an own result back.
ROUTE_VERBS = ("give", "lend", "take")


class InterfaceWriter:
    """Spells interfaces as instance types and imports them into a component."""

    def __init__(self, wit: WitPackage, model: HandleModel, types: TypeWriter) -> None:
        self.wit = wit
        self.model = model
        self.types = types

    def _is_resource(self, index: int) -> bool:
        return bool(self.wit.kind(self.wit.resolve_alias(index)) == "resource")

    def uses(self, iface: Interface) -> list[str]:
        """Interfaces whose types ``iface`` borrows through ``use``."""
        deps = []
        for _, index in iface.types:
            kind = self.wit.kind(index)
            if isinstance(kind, dict) and isinstance(kind.get("type"), int):
                owner = self.wit.owner_of(self.wit.resolve_alias(index))
                if owner and owner != iface.qualified and owner not in deps:
                    deps.append(owner)
        return deps

    def closure(self, wanted: list[str]) -> list[str]:
        """``wanted`` interfaces plus what they use, dependencies first."""
        ordered: list[str] = []

        def visit(qualified: str) -> None:
            if qualified in ordered:
                return
            for dep in self.uses(self.wit.interface(qualified)):
                visit(dep)
            ordered.append(qualified)

        for qualified in wanted:
            visit(qualified)
        return ordered

    def instance_type(self, iface: Interface, outer: str, outer_scope: Scope, extra: tuple[str, ...] = ()) -> str:
        """The declarations of ``iface``'s instance type; used types are aliased from ``outer``.

        ``extra``: declarations beyond the WIT interface (a defining guest's destructors under pseudo).
        """
        scope = Scope()
        decls = []
        for counter, (name, index) in enumerate(iface.types):
            kind = self.wit.kind(index)
            local = f"$t{counter}"
            if kind == "resource":
                if self.model is HandleModel.REAL:
                    decls.append(f"(export {quote(name)} (type {local} (sub resource)))")
                    scope.ids[index] = local
            elif isinstance(kind, dict) and isinstance(kind.get("type"), int):
                target = self.wit.resolve_alias(index)
                if self.model is HandleModel.PSEUDO and self._is_resource(target):
                    continue
                decls.append(f"(alias outer {outer} {outer_scope.ids[target]} (type {local}-outer))")
                decls.append(f"(export {quote(name)} (type {local} (eq {local}-outer)))")
                scope.ids[index] = local
            else:
                definition = self.types.definition(index)
                if definition is None:
                    raise InputError("WIT", f"type {name} in {iface.qualified} is not supported by the wrapper")
                decls.append(f"(type {local}-def {definition})")
                decls.append(f"(export {quote(name)} (type {local} (eq {local}-def)))")
                scope.ids[index] = local
        for fn in iface.functions:
            decls.append(f"(export {quote(self.types.func_name(fn))} {self.types.func(fn, scope)})")
        return " ".join([*decls, *extra])

    def import_interface(
        self,
        lines: list[str],
        iface: Interface,
        import_name: str,
        var: str,
        outer: str,
        scope: Scope,
        extra: tuple[str, ...] = (),
    ) -> None:
        """Imports ``iface`` as ``var`` and aliases its named types into ``scope``."""
        instance = self.instance_type(iface, outer, scope, extra)
        lines.append(f"(import {quote(import_name)} (instance {var} {instance}))")
        for name, index in iface.types:
            kind = self.wit.kind(index)
            aliased = isinstance(kind, dict) and isinstance(kind.get("type"), int)
            if aliased or (kind == "resource" and self.model is HandleModel.PSEUDO):
                continue
            ident = f"{var}.{name}"
            lines.append(f"(alias export {var} {quote(name)} (type {ident}))")
            scope.ids[index] = ident

    def pseudo_table_type(self, routed: bool = False) -> str:
        """The host instance serving ``[resource-*]`` intrinsics over the global table.

        ``routed``: also the functions every handle crossing between guests goes through
        (``adapters.peer_route_adapter``), for models whose tables the harness keeps per component.
        """
        funcs = []
        for _, name in self.wit.resources():
            funcs.append(f'(export "resource-new-{name}" (func (param "rep" u32) (result u32)))')
            funcs.append(f'(export "resource-rep-{name}" (func (param "handle" u32) (result u32)))')
            funcs.append(f'(export "resource-drop-{name}" (func (param "handle" u32)))')
            funcs.append(f'(export "resource-take-{name}" (func (param "handle" u32) (result s64)))')
            if routed:
                for verb in ROUTE_VERBS:
                    funcs.append(
                        f'(export "route-{verb}-{name}" (func (param "callee" u32) (param "handle" u32) (result u32)))'
                    )
        funcs.append('(export "borrow-begin" (func (param "handle" u32)))')
        funcs.append('(export "borrow-end" (func))')
        if routed:
            funcs.append('(export "route-begin" (func (param "callee" u32)))')
            funcs.append('(export "route-end" (func (param "callee" u32)))')
        return " ".join(funcs)

    @staticmethod
    def destructors_type(resources: list[str]) -> str:
        """The host instance a guest's destructors report to: one function per resource it defines."""
        return " ".join(f'(export "{destroyed_name(r)}" (func (param "rep" u32)))' for r in resources)
