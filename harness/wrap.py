"""Generates the component text that wraps a scenario's core modules.

One outer component per scenario and backend: it imports the host interfaces and
every guest's core module, and holds one nested component per guest. The nested
component turns the guest's core imports into component imports and its core
exports into component exports, following the canonical ABI's naming (``iface#func``,
``[method]r.f``, ``[resource-drop]r``, ``[export]iface``).

Two handle models differ only here:

* ``REAL``: resources are resource types; handles are ``own``/``borrow``;
  ``resource.new/rep/drop`` are canonical built-ins, so wasmtime keeps one handle
  table per component instance (CanonicalABI.md, "Handle tables").
* ``PSEUDO``: every handle is a ``u32``; resource intrinsics are host functions
  over the store's one global table (wasmtime-wasi preview2 ``table.rs``, 2023).
  Names like ``[method]r.f`` are only valid on resource types, so they become
  ``method-r-f`` at the component level; the core import names do not change.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from harness.core import CoreModule
from harness.errors import InputError
from harness.scenario import Scenario
from harness.wit import Function, Interface, TypeRef, WitPackage

#: The instance that serves resource intrinsics under the pseudo model.
PSEUDO_TABLE = "handle-compat:pseudo/table"
DRIVER_FUNC = "run"
_INTRINSIC = re.compile(r"^\[resource-(new|rep|drop)\](.+)$")


class HandleModel(enum.Enum):
    REAL = "real"
    PSEUDO = "pseudo"


def pseudo_name(wit_name: str) -> str:
    """Component-level name of a function once its handles are plain ``u32``."""
    match = re.match(r"^\[(constructor|method|static|resource-new|resource-rep|resource-drop)\](.+)$", wit_name)
    if not match:
        return wit_name
    kind, rest = match.groups()
    return f"{kind}-{rest.replace('.', '-')}"


def host_import_name(model: HandleModel, component: str, qualified: str, has_resources: bool) -> str:
    """Import name of a host interface in the outer component.

    Each guest gets its own copy of a host instance so the host knows which
    component called, except under the real model for interfaces that mention
    resource types: those are shared, because a handle can only cross between
    components whose resource types are the same.
    """
    if model is HandleModel.REAL and has_resources:
        return qualified
    short = qualified.split("/")[1].split("@")[0]
    return f"{component}-{short}"


def core_import_name(component: str) -> str:
    return f"core-{component}"


def driver_export_name(component: str) -> str:
    return f"{component}-{DRIVER_FUNC}"


def _quote(text: str) -> str:
    return '"' + text + '"'


@dataclass
class _Scope:
    """Maps WIT type indices to WAT identifiers within one component."""

    ids: dict[int, str] = field(default_factory=dict)


class _TypeWriter:
    """Spells WIT types in component-model text for one handle model."""

    def __init__(self, wit: WitPackage, model: HandleModel) -> None:
        self.wit = wit
        self.model = model

    def val(self, ref: TypeRef, scope: _Scope) -> str:
        if isinstance(ref, str):
            return ref
        kind = self.wit.kind(ref)
        if ref in scope.ids:
            return scope.ids[ref]
        if isinstance(kind, dict):
            if "handle" in kind:
                if self.model is HandleModel.PSEUDO:
                    return "u32"
                ((mode, target),) = kind["handle"].items()
                return f"({mode} {self._named(target, scope)})"
            if "list" in kind:
                return f"(list {self.val(kind['list'], scope)})"
            if "option" in kind:
                return f"(option {self.val(kind['option'], scope)})"
            if "tuple" in kind:
                return "(tuple " + " ".join(self.val(t, scope) for t in kind["tuple"]["types"]) + ")"
            if "result" in kind:
                ok, err = kind["result"].get("ok"), kind["result"].get("err")
                parts = ["result"]
                if ok is not None:
                    parts.append(self.val(ok, scope))
                if err is not None:
                    parts.append(f"(error {self.val(err, scope)})")
                return "(" + " ".join(parts) + ")"
            if "type" in kind:
                return self.val(kind["type"], scope)
        raise InputError("WIT", f"type {self.wit.type_name(ref) or ref} is not supported by the wrapper")

    def _named(self, index: int, scope: _Scope) -> str:
        if index in scope.ids:
            return scope.ids[index]
        resolved = self.wit.resolve_alias(index)
        if resolved in scope.ids:
            return scope.ids[resolved]
        raise InputError("WIT", f"type {self.wit.type_name(index)} is not in scope")

    def definition(self, index: int) -> str | None:
        """Text of a named value type (enum, record, ...), or None for resources/aliases."""
        kind = self.wit.kind(index)
        if isinstance(kind, dict) and "enum" in kind:
            return "(enum " + " ".join(_quote(c["name"]) for c in kind["enum"]["cases"]) + ")"
        if isinstance(kind, dict) and "flags" in kind:
            return "(flags " + " ".join(_quote(f["name"]) for f in kind["flags"]["flags"]) + ")"
        if isinstance(kind, dict) and "record" in kind:
            fields = " ".join(
                f"(field {_quote(f['name'])} {self.val(f['type'], _Scope())})" for f in kind["record"]["fields"]
            )
            return f"(record {fields})"
        return None

    def func(self, fn: Function, scope: _Scope) -> str:
        params = " ".join(f"(param {_quote(p.name)} {self.val(p.type, scope)})" for p in fn.params)
        result = f" (result {self.val(fn.result, scope)})" if fn.result is not None else ""
        return f"(func {params}{result})".replace("(func  ", "(func ")

    def func_name(self, fn: Function) -> str:
        return pseudo_name(fn.name) if self.model is HandleModel.PSEUDO else fn.name


class _Wrapper:
    """Builds the outer component text for one scenario under one handle model."""

    def __init__(self, wit: WitPackage, model: HandleModel) -> None:
        self.wit = wit
        self.model = model
        self.types = _TypeWriter(wit, model)

    # --- interfaces -------------------------------------------------------

    def _is_resource(self, index: int) -> bool:
        return bool(self.wit.kind(self.wit.resolve_alias(index)) == "resource")

    def _uses(self, iface: Interface) -> list[str]:
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
            for dep in self._uses(self.wit.interface(qualified)):
                visit(dep)
            ordered.append(qualified)

        for qualified in wanted:
            visit(qualified)
        return ordered

    def instance_type(self, iface: Interface, outer: str, outer_scope: _Scope) -> str:
        """The declarations of ``iface``'s instance type; used types are aliased from ``outer``."""
        scope = _Scope()
        decls = []
        for counter, (name, index) in enumerate(iface.types):
            kind = self.wit.kind(index)
            local = f"$t{counter}"
            if kind == "resource":
                if self.model is HandleModel.REAL:
                    decls.append(f"(export {_quote(name)} (type {local} (sub resource)))")
                    scope.ids[index] = local
            elif isinstance(kind, dict) and isinstance(kind.get("type"), int):
                target = self.wit.resolve_alias(index)
                if self.model is HandleModel.PSEUDO and self._is_resource(target):
                    continue
                decls.append(f"(alias outer {outer} {outer_scope.ids[target]} (type {local}-outer))")
                decls.append(f"(export {_quote(name)} (type {local} (eq {local}-outer)))")
                scope.ids[index] = local
            else:
                definition = self.types.definition(index)
                if definition is None:
                    raise InputError("WIT", f"type {name} in {iface.qualified} is not supported by the wrapper")
                decls.append(f"(type {local}-def {definition})")
                decls.append(f"(export {_quote(name)} (type {local} (eq {local}-def)))")
                scope.ids[index] = local
        for fn in iface.functions:
            decls.append(f"(export {_quote(self.types.func_name(fn))} {self.types.func(fn, scope)})")
        return " ".join(decls)

    def import_interface(
        self, lines: list[str], iface: Interface, import_name: str, var: str, outer: str, scope: _Scope
    ) -> None:
        """Imports ``iface`` as ``var`` and aliases its named types into ``scope``."""
        lines.append(f"(import {_quote(import_name)} (instance {var} {self.instance_type(iface, outer, scope)}))")
        for name, index in iface.types:
            kind = self.wit.kind(index)
            aliased = isinstance(kind, dict) and isinstance(kind.get("type"), int)
            if aliased or (kind == "resource" and self.model is HandleModel.PSEUDO):
                continue
            ident = f"{var}.{name}"
            lines.append(f"(alias export {var} {_quote(name)} (type {ident}))")
            scope.ids[index] = ident

    def pseudo_table_type(self, resources: list[tuple[str, str]]) -> str:
        """The host instance serving ``[resource-*]`` intrinsics over the global table."""
        funcs = []
        for _, name in resources:
            funcs.append(f'(export "resource-new-{name}" (func (param "rep" u32) (result u32)))')
            funcs.append(f'(export "resource-rep-{name}" (func (param "handle" u32) (result u32)))')
            funcs.append(f'(export "resource-drop-{name}" (func (param "handle" u32)))')
        funcs.append('(export "borrow-begin" (func (param "handle" u32)))')
        funcs.append('(export "borrow-end" (func))')
        return " ".join(funcs)

    # --- one guest ----------------------------------------------------------

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

    def nested_component(self, scenario: Scenario, name: str, core: CoreModule) -> tuple[str, list[str], list[str]]:
        """The nested component wrapping one guest; returns (text, imports, exports)."""
        imported, exported = self.guest_interfaces(core)
        used_by_exports = [dep for q in exported for dep in self._uses(self.wit.interface(q))]
        needed = self.closure(imported + used_by_exports)
        comp = f"$C-{name}"
        scope = _Scope()
        lines = [f"(component {comp}"]
        for qualified in needed:
            self.import_interface(lines, self.wit.interface(qualified), qualified, f"$i.{qualified}", comp, scope)
        own_resources = [(q, r) for q, r in self.wit.resources() if q in exported]
        if self.model is HandleModel.PSEUDO:
            lines.append(
                f"(import {_quote(PSEUDO_TABLE)} (instance $table {self.pseudo_table_type(self.wit.resources())}))"
            )
        else:
            for qualified, resource in own_resources:
                index = dict(self.wit.interface(qualified).types)[resource]
                ident = f"$own.{qualified}.{resource}"
                lines.append(f"(type {ident} (resource (rep i32)))")
                scope.ids[index] = ident
        lines.append(f'(import "core" {core.type_wat("$core")})')
        lines.extend(self._core_instance(core, scope))
        lines.extend(self._exports(core, exported, scope, own_resources))
        lines.append(")")
        return "\n".join(lines), needed, exported

    def _lowered_options(self, core: CoreModule) -> str:
        options = []
        if core.export("memory"):
            options.append('(memory (core memory $g "memory"))')
        if core.export("cabi_realloc"):
            options.append('(realloc (core func $g "cabi_realloc"))')
        options.append("string-encoding=utf8")
        return " ".join(options)

    def _intrinsic(self, module: str, name: str, scope: _Scope) -> str | None:
        """Core function text for a ``[resource-*]`` import, or None for a plain import."""
        match = _INTRINSIC.match(name)
        if not match:
            return None
        action, resource = match.groups()
        if self.model is HandleModel.PSEUDO:
            return f'(canon lower (func $table "resource-{action}-{resource}"))'
        iface = self.wit.interface(module.removeprefix("[export]"))
        index = dict(iface.types).get(resource)
        if index is None or (self.wit.resolve_alias(index) not in scope.ids and index not in scope.ids):
            return None
        ident = scope.ids.get(index) or scope.ids[self.wit.resolve_alias(index)]
        return f"(canon resource.{action} {ident})"

    def _core_instance(self, core: CoreModule, scope: _Scope) -> list[str]:
        """Instantiates the guest core module with lowered imports.

        Lowered functions need the guest's memory and realloc, which exist only
        after instantiation: imports go through a table of indirect-call stubs
        that a second module fills once the guest instance exists.
        """
        lines: list[str] = []
        lowered: list[tuple[int, str, str]] = []
        by_module: dict[str, list[tuple[str, str]]] = {}
        for number, imp in enumerate(core.imports):
            intrinsic = self._intrinsic(imp.module, imp.name, scope)
            if intrinsic is not None:
                lines.append(f"(core func $k{number} {intrinsic})")
                by_module.setdefault(imp.module, []).append((imp.name, f"$k{number}"))
                continue
            fn = self._function(imp.module, imp.name, core)
            target = f"(func $i.{imp.module} {_quote(self.types.func_name(fn))})"
            lowered.append((number, target, imp.func.wat()))
            by_module.setdefault(imp.module, []).append((imp.name, f'$shim "{number}"'))
        if lowered:
            size = len(lowered)
            stubs = []
            for slot, (number, _, sig) in enumerate(lowered):
                gets = " ".join(f"local.get {i}" for i in range(len(core.imports[number].func.params)))
                stub_type = f"(type $s{number})"
                stubs.append(f"{stub_type[:-1]} {sig})")
                stubs.append(
                    f'(func (export "{number}") {stub_type} {gets} i32.const {slot} call_indirect {stub_type})'
                )
            lines.append(f'(core module $shim-m (table (export "$imports") {size} {size} funcref) {" ".join(stubs)})')
            lines.append("(core instance $shim (instantiate $shim-m))")
        instances = []
        for number, (module, members) in enumerate(by_module.items()):
            exports = " ".join(f"(export {_quote(n)} (func {ref}))" for n, ref in members)
            ident = f"$im{number}"
            lines.append(f"(core instance {ident} {exports})")
            instances.append(f"(with {_quote(module)} (instance {ident}))")
        lines.append(f"(core instance $g (instantiate $core {' '.join(instances)}))")
        if lowered:
            options = self._lowered_options(core)
            fix_imports = ['(import "" "$imports" (table {0} {0} funcref))'.format(len(lowered))]
            fix_exports = ['(export "$imports" (table $shim "$imports"))']
            for slot, (number, target, sig) in enumerate(lowered):
                lines.append(f"(core func $l{number} (canon lower {target} {options}))")
                fix_imports.append(f'(import "" "{slot}" {sig})')
                fix_exports.append(f'(export "{slot}" (func $l{number}))')
            elems = " ".join(str(i) for i in range(len(lowered)))
            lines.append(f"(core module $fixup-m {' '.join(fix_imports)} (elem (i32.const 0) func {elems}))")
            lines.append(f'(core instance (instantiate $fixup-m (with "" (instance {" ".join(fix_exports)}))))')
        return lines

    def _function(self, module: str, name: str, core: CoreModule) -> Function:
        iface = self.wit.interface(module)
        for fn in iface.functions:
            if fn.name == name:
                return fn
        raise InputError(core.path, f"imports {module}.{name}, which {iface.name} does not declare")

    def _exports(self, core: CoreModule, exported: list[str], scope: _Scope, own: list[tuple[str, str]]) -> list[str]:
        lines: list[str] = []
        lift_options = []
        if core.export("memory"):
            lift_options.append('(memory (core memory $g "memory"))')
        if core.export("cabi_realloc"):
            lift_options.append('(realloc (core func $g "cabi_realloc"))')
        own_names = {r for q, r in own}
        for qualified in exported:
            iface = self.wit.interface(qualified)
            lifted: list[tuple[Function, str]] = []
            for number, fn in enumerate(iface.functions):
                core_name = f"{qualified}#{fn.name}"
                if core.export(core_name) is None:
                    raise InputError(core.path, f"exports part of {iface.name} but not {core_name!r}")
                options = list(lift_options)
                if core.export(f"cabi_post_{core_name}"):
                    options.append(f'(post-return (core func $g "cabi_post_{core_name}"))')
                source = f'(core func $g "{core_name}")'
                slots = self._pseudo_borrow_slots(fn, own_names) if self.model is HandleModel.PSEUDO else []
                if slots:
                    adapter = f"$ad.{qualified}.{number}"
                    lines.extend(self._pseudo_borrow_adapter(core, core_name, slots, adapter))
                    source = f'(core func {adapter} "f")'
                ident = f"$e.{qualified}.{number}"
                signature = self.types.func(fn, scope)[len("(func ") : -1]
                lines.append(f"(func {ident} {signature} (canon lift {source} {' '.join(options)}))")
                lifted.append((fn, ident))
            lines.extend(self._export_instance(iface, lifted, scope))
        return lines

    def _export_instance(self, iface: Interface, lifted: list[tuple[Function, str]], scope: _Scope) -> list[str]:
        """Exports an interface as an instance of the nested component.

        When the interface names resource types, its functions must refer to the
        types by the names the instance exports: only a component's own exports
        can do that, so a small shim component imports the types and functions and
        re-exports them (as wit-component does).
        """
        qualified = iface.qualified
        types = []
        if self.model is HandleModel.REAL:
            types = [(name, index) for name, index in iface.types if self.wit.resolve_alias(index) in scope.ids]
        if not types:
            funcs = " ".join(f"(export {_quote(self.types.func_name(fn))} (func {ident}))" for fn, ident in lifted)
            return [f"(instance $x.{qualified} {funcs})", f"(export {_quote(qualified)} (instance $x.{qualified}))"]
        inner, outer = _Scope(), _Scope()
        shim = [f"(component $xs.{qualified}"]
        withs = []
        for number, (_, index) in enumerate(types):
            target = self.wit.resolve_alias(index)
            shim.append(f'(import "t{number}" (type $it{number} (sub resource)))')
            inner.ids[index] = inner.ids[target] = f"$it{number}"
            withs.append(f'(with "t{number}" (type {scope.ids[target]}))')
        for number, (fn, ident) in enumerate(lifted):
            shim.append(f'(import "f{number}" {self.types.func(fn, inner).replace("(func", f"(func $if{number}", 1)})')
            withs.append(f'(with "f{number}" (func {ident}))')
        for number, (name, index) in enumerate(types):
            shim.append(f'(export $xt{number} "{name}" (type $it{number}))')
            outer.ids[index] = outer.ids[self.wit.resolve_alias(index)] = f"$xt{number}"
        for number, (fn, _) in enumerate(lifted):
            shim.append(f"(export {_quote(fn.name)} (func $if{number}) {self.types.func(fn, outer)})")
        shim.append(")")
        return [
            "\n".join(shim),
            f"(instance $x.{qualified} (instantiate $xs.{qualified} {' '.join(withs)}))",
            f"(export {_quote(qualified)} (instance $x.{qualified}))",
        ]

    def _flat_width(self, ref: TypeRef) -> int:
        """How many core parameters a WIT value flattens to (CanonicalABI.md ``flatten_type``)."""
        kind = self.wit.kind(ref)
        if kind == "string" or (isinstance(kind, dict) and "list" in kind):
            return 2
        if isinstance(kind, str) or (isinstance(kind, dict) and ("handle" in kind or "enum" in kind)):
            return 1
        if isinstance(kind, dict) and "type" in kind:
            return self._flat_width(kind["type"])
        raise InputError("WIT", f"a parameter of type {kind} before a borrow is not supported by the pseudo wrapper")

    def _pseudo_borrow_slots(self, fn: Function, own_names: set[str]) -> list[tuple[int, str]]:
        """Core parameter positions of ``fn``'s borrows, with what the pseudo adapter does there.

        ``rep``: a borrow of the component's own resource type; under real handles it
        arrives as the rep (CanonicalABI.md ``lower_borrow``), so the global index is
        turned into the rep. ``lend``: a borrow of another component's resource; the
        index is registered as lent for the call, so that dropping it ends the borrow
        instead of destroying the lender's resource (pseudo-era bindings had nothing to
        drop for a borrow; guests written for real handles must drop it).
        """
        slots, position = [], 0
        for param in fn.params:
            kind = self.wit.kind(param.type)
            if isinstance(kind, dict) and "borrow" in kind.get("handle", {}):
                name = self.wit.type_name(self.wit.resolve_alias(kind["handle"]["borrow"])) or ""
                slots.append((position, f"rep-{name}" if name in own_names else "lend"))
            position += self._flat_width(param.type)
        return slots

    def _pseudo_borrow_adapter(
        self, core: CoreModule, core_name: str, slots: list[tuple[int, str]], ident: str
    ) -> list[str]:
        """A core module between the lifted export and the guest function (pseudo model only)."""
        export = core.export(core_name)
        assert export is not None and export.func is not None
        width = len(export.func.params)
        actions = dict(slots)
        before, args = [], []
        for position in range(width):
            action = actions.get(position)
            if action == "lend":
                before.append(f"local.get {position} call $lend")
            args.append(f"local.get {position}" + (f" call ${action}" if action and action != "lend" else ""))
        reps = sorted({a for a in actions.values() if a != "lend"})
        imports = [f'(import "" "{r}" (func ${r} (param i32) (result i32)))' for r in reps]
        imports += ['(import "" "lend" (func $lend (param i32)))', '(import "" "end" (func $end))']
        body = " ".join(before + args) + " call $f call $end"
        with_funcs = [f'(export "{r}" (func {ident}-{r}))' for r in reps]
        with_funcs += [f'(export "lend" (func {ident}-lend))', f'(export "end" (func {ident}-end))']
        lowered = [f'(core func {ident}-{r} (canon lower (func $table "resource-{r}")))' for r in reps]
        lowered += [
            f'(core func {ident}-lend (canon lower (func $table "borrow-begin")))',
            f'(core func {ident}-end (canon lower (func $table "borrow-end")))',
        ]
        return [
            *lowered,
            f"(core module {ident}-m (type $f {export.func.wat()}) {' '.join(imports)}"
            f' (import "" "f" (func $f (type $f))) (func (export "f") (type $f) {body}))',
            f'(core instance {ident} (instantiate {ident}-m (with "" (instance {" ".join(with_funcs)}'
            f' (export "f" (func $g "{core_name}"))))))',
        ]

    # --- the whole scenario --------------------------------------------------

    def outer(self, scenario: Scenario, cores: dict[str, CoreModule]) -> str:
        lines = ["(component $outer"]
        scope = _Scope()
        body: list[str] = []
        host_ifaces: dict[str, list[str]] = {}
        exported_by: dict[str, list[str]] = {}
        nested: dict[str, str] = {}
        for spec in scenario.components:
            text, needed, exported = self.nested_component(scenario, spec.name, cores[spec.name])
            nested[spec.name] = text
            exported_by[spec.name] = exported
            host_ifaces[spec.name] = needed
        peer_served = {self.wit.interface(i).qualified for i in ("peer", "counters") if self.wit.find_interface(i)}
        # Host interfaces: everything a guest imports that no component provides.
        shared_done: set[str] = set()
        for spec in scenario.components:
            withs = [f'(with "core" (core module $m.{spec.name}))']
            module_type = cores[spec.name].type_wat(f"$m.{spec.name}")
            lines.append(f"(import {_quote(core_import_name(spec.name))} {module_type})")
            provided = {self.wit.interface(k).qualified: v for k, v in spec.imports.items()}
            for qualified in host_ifaces[spec.name]:
                if qualified in provided:
                    withs.append(f"(with {_quote(qualified)} (instance $x.{provided[qualified]}.{qualified}))")
                    continue
                if qualified in exported_by[spec.name]:
                    continue
                if qualified in peer_served:
                    raise InputError(
                        scenario.path / "scenario.toml",
                        f"component {spec.name} imports {qualified} but no component is wired to provide it",
                    )
                iface = self.wit.interface(qualified)
                import_name = host_import_name(self.model, spec.name, qualified, self.wit.mentions_resources(iface))
                var = f"$h.{import_name}"
                if import_name not in shared_done:
                    self.import_interface(lines, self.wit.interface(qualified), import_name, var, "$outer", scope)
                    shared_done.add(import_name)
                withs.append(f"(with {_quote(qualified)} (instance {var}))")
            if self.model is HandleModel.PSEUDO:
                table_name = f"{spec.name}-table"
                table_type = self.pseudo_table_type(self.wit.resources())
                lines.append(f"(import {_quote(table_name)} (instance $h.{table_name} {table_type}))")
                withs.append(f"(with {_quote(PSEUDO_TABLE)} (instance $h.{table_name}))")
            body.append(nested[spec.name])
            body.append(f"(instance $a.{spec.name} (instantiate $C-{spec.name} {' '.join(withs)}))")
            for qualified in exported_by[spec.name]:
                body.append(f"(alias export $a.{spec.name} {_quote(qualified)} (instance $x.{spec.name}.{qualified}))")
            driver = self.wit.find_interface("driver")
            if driver and driver.qualified in exported_by[spec.name]:
                body.append(f'(alias export $x.{spec.name}.{driver.qualified} "{DRIVER_FUNC}" (func $run.{spec.name}))')
                body.append(f"(export {_quote(driver_export_name(spec.name))} (func $run.{spec.name}))")
        return "\n".join(lines + body + [")"])


def wrap_scenario(wit: WitPackage, model: HandleModel, scenario: Scenario, cores: dict[str, CoreModule]) -> str:
    """The outer component text for ``scenario`` under ``model``."""
    return _Wrapper(wit, model).outer(scenario, cores)
