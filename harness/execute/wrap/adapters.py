"""Small generated core modules and components that sit between a guest and its imports or exports."""

from __future__ import annotations

from harness.execute.core import CoreFunc, CoreModule
from harness.execute.wrap.names import destroyed_name, quote
from harness.execute.wrap.types import Scope, TypeWriter
from harness.model.wit import Function, Interface, WitPackage


def indirect_stubs(stubs: list[tuple[int, CoreFunc]]) -> list[str]:
    """A module of stubs that call through a table, to stand in for lowered imports.

    Lowered functions need the guest's memory and realloc, which exist only after
    the guest is instantiated; the guest imports these stubs instead, and
    ``fill_stubs`` puts the lowered functions in the table afterwards.
    """
    size = len(stubs)
    body = []
    for slot, (number, func) in enumerate(stubs):
        gets = " ".join(f"local.get {i}" for i in range(len(func.params)))
        stub_type = f"(type $s{number})"
        body.append(f"{stub_type[:-1]} {func.wat()})")
        body.append(f'(func (export "{number}") {stub_type} {gets} i32.const {slot} call_indirect {stub_type})')
    return [
        f'(core module $shim-m (table (export "$imports") {size} {size} funcref) {" ".join(body)})',
        "(core instance $shim (instantiate $shim-m))",
    ]


def fill_stubs(lowered: list[tuple[str, CoreFunc]]) -> list[str]:
    """A module that fills the stubs' table with the lowered functions ``(ident, signature)``."""
    imports = ['(import "" "$imports" (table {0} {0} funcref))'.format(len(lowered))]
    exports = ['(export "$imports" (table $shim "$imports"))']
    for slot, (ident, func) in enumerate(lowered):
        imports.append(f'(import "" "{slot}" {func.wat()})')
        exports.append(f'(export "{slot}" (func {ident}))')
    elems = " ".join(str(i) for i in range(len(lowered)))
    return [
        f"(core module $fixup-m {' '.join(imports)} (elem (i32.const 0) func {elems}))",
        f'(core instance (instantiate $fixup-m (with "" (instance {" ".join(exports)}))))',
    ]


def pseudo_borrow_slots(wit: WitPackage, types: TypeWriter, fn: Function, own_names: set[str]) -> list[tuple[int, str]]:
    """Core parameter positions of ``fn``'s borrows, with what the pseudo adapter does there.

    ``rep-R``: a borrow of the component's own resource type R; under real handles
    it arrives as the rep (CanonicalABI.md ``lower_borrow``), so the global index is
    turned into the rep. ``lend``: a borrow of another component's resource; the
    index is registered as lent for the call, so that dropping it ends the borrow
    instead of destroying the lender's resource (pseudo-era bindings had nothing to
    drop for a borrow; guests written for real handles must drop it).
    """
    slots, position = [], 0
    for param in fn.params:
        kind = wit.kind(param.type)
        if isinstance(kind, dict) and "borrow" in kind.get("handle", {}):
            name = wit.type_name(wit.resolve_alias(kind["handle"]["borrow"])) or ""
            slots.append((position, f"rep-{name}" if name in own_names else "lend"))
        position += types.flat_width(param.type)
    return slots


def pseudo_borrow_adapter(
    core: CoreModule, core_name: str, slots: list[tuple[int, str]], ident: str, inner: str | None = None
) -> list[str]:
    """A core module between a lifted export and the guest function (pseudo model only).

    ``inner`` is the core function it calls (``$instance "name"``); the guest's export by default.
    """
    export = core.export(core_name)
    assert export is not None and export.func is not None
    target = inner or f'$g "{core_name}"'
    actions = dict(slots)
    before, args = [], []
    for position in range(len(export.func.params)):
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
        f' (export "f" (func {target}))))))',
    ]


def export_shim(
    wit: WitPackage,
    types: TypeWriter,
    iface: Interface,
    resources: list[tuple[str, int]],
    lifted: list[tuple[Function, str]],
    scope: Scope,
) -> list[str]:
    """Exports an interface whose functions name resource types, through a shim component.

    The functions must refer to the types by the names the instance exports, which
    only a component's own exports can do: the shim imports the types and
    functions and re-exports them (as wit-component does).
    """
    qualified = iface.qualified
    inner, outer = Scope(), Scope()
    shim = [f"(component $xs.{qualified}"]
    withs = []
    for number, (_, index) in enumerate(resources):
        target = wit.resolve_alias(index)
        shim.append(f'(import "t{number}" (type $it{number} (sub resource)))')
        inner.ids[index] = inner.ids[target] = f"$it{number}"
        withs.append(f'(with "t{number}" (type {scope.ids[target]}))')
    for number, (fn, ident) in enumerate(lifted):
        shim.append(f'(import "f{number}" {types.func(fn, inner).replace("(func", f"(func $if{number}", 1)})')
        withs.append(f'(with "f{number}" (func {ident}))')
    for number, (name, index) in enumerate(resources):
        shim.append(f'(export $xt{number} "{name}" (type $it{number}))')
        outer.ids[index] = outer.ids[wit.resolve_alias(index)] = f"$xt{number}"
    for number, (fn, _) in enumerate(lifted):
        shim.append(f"(export {quote(fn.name)} (func $if{number}) {types.func(fn, outer)})")
    shim.append(")")
    return [
        "\n".join(shim),
        f"(instance $x.{qualified} (instantiate $xs.{qualified} {' '.join(withs)}))",
        f"(export {quote(qualified)} (instance $x.{qualified}))",
    ]


def destructor_shim(resources: list[str], recorders: str) -> list[str]:
    """A core instance ``$dtor`` exporting, per resource, the destructor the component model calls.

    Each reports the rep to the host (``destroyed-<resource>`` of the ``recorders``
    instance), so the destructor run lands in the event log, then calls the guest's
    own destructor through a table: the resource type must name its destructor before
    the guest is instantiated, so ``fill_destructors`` puts the guest's exports in the
    table afterwards (as wit-component does).
    """
    size = len(resources)
    lowered = [f'(core func $dtor-rec.{r} (canon lower (func {recorders} "{destroyed_name(r)}")))' for r in resources]
    imports = [f'(import "" "{r}" (func $rec.{r} (param i32)))' for r in resources]
    funcs = [
        f'(func (export "{r}") (param i32) local.get 0 call $rec.{r}'
        f" local.get 0 i32.const {slot} call_indirect (type $d))"
        for slot, r in enumerate(resources)
    ]
    module = " ".join(
        [*imports, "(type $d (func (param i32)))", f'(table (export "$dtors") {size} {size} funcref)', *funcs]
    )
    withs = " ".join(f'(export "{r}" (func $dtor-rec.{r}))' for r in resources)
    return [
        *lowered,
        f"(core module $dtor-m {module})",
        f'(core instance $dtor (instantiate $dtor-m (with "" (instance {withs}))))',
    ]


def fill_destructors(guest_exports: list[str]) -> list[str]:
    """Puts the guest's destructor exports (core export names) in ``$dtor``'s table."""
    size = len(guest_exports)
    imports = [f'(import "" "$dtors" (table {size} {size} funcref))']
    imports += [f'(import "" "{slot}" (func (param i32)))' for slot in range(size)]
    exports = ['(export "$dtors" (table $dtor "$dtors"))']
    exports += [f'(export "{slot}" (func $g {quote(name)}))' for slot, name in enumerate(guest_exports)]
    elems = " ".join(str(i) for i in range(size))
    return [
        f"(core module $dtor-fill-m {' '.join(imports)} (elem (i32.const 0) func {elems}))",
        f'(core instance (instantiate $dtor-fill-m (with "" (instance {" ".join(exports)}))))',
    ]


def pseudo_drop_adapter(ident: str, take: str, dtor: str) -> list[str]:
    """``[resource-drop]`` of a resource with a destructor, under the pseudo model (core instance ``ident``).

    ``take`` (the table's ``resource-take-<resource>``) deletes the entry and returns
    its rep, or -1 when the drop only ended a borrow; then ``dtor`` runs with the rep.
    """
    body = (
        "(local $rep i64) (local.set $rep (call $take (local.get 0)))"
        " (if (i64.ge_s (local.get $rep) (i64.const 0)) (then (call $dtor (i32.wrap_i64 (local.get $rep)))))"
    )
    return [
        f"(core module {ident}-m"
        ' (import "" "take" (func $take (param i32) (result i64)))'
        ' (import "" "dtor" (func $dtor (param i32)))'
        f' (func (export "drop") (param i32) {body}))',
        f'(core instance {ident} (instantiate {ident}-m (with "" (instance'
        f' (export "take" (func {take})) (export "dtor" (func {dtor}))))))',
    ]


def route_slots(wit: WitPackage, types: TypeWriter, fn: Function) -> tuple[list[tuple[int, str, str]], str | None]:
    """Where ``fn`` carries handles at top level: (core position, ``own``/``borrow``, resource) per
    parameter, and the resource of an ``own`` result (None when the result is no handle)."""

    def handle(ref: object) -> tuple[str, str] | None:
        kind = wit.kind(ref)  # type: ignore[arg-type]
        while isinstance(kind, dict) and "type" in kind and not isinstance(kind["type"], str):
            kind = wit.kind(kind["type"])
        if not (isinstance(kind, dict) and "handle" in kind):
            return None
        ((mode, target),) = kind["handle"].items()
        return mode, wit.type_name(wit.resolve_alias(target)) or ""

    slots, position = [], 0
    for param in fn.params:
        found = handle(param.type)
        if found is not None:
            slots.append((position, *found))
        position += types.flat_width(param.type)
    result = None if fn.result is None else handle(fn.result)
    return slots, None if result is None else result[1]


def peer_route_adapter(
    ident: str, func: CoreFunc, slots: list[tuple[int, str, str]], result: str | None, callee: int, target: str
) -> list[str]:
    """A core instance ``ident`` between a guest and its lowered import of a peer's function (routed models).

    Every handle crossing goes through the caller's table instance: ``route-begin`` opens the
    call, each ``own`` parameter is moved (``route-give-<r>``: lifted from the caller's table,
    lowered into the callee's) and each ``borrow`` lent (``route-lend-<r>``) in parameter order,
    the call runs, ``route-end`` closes it (the callee's borrows must be dropped; the caller's
    lends come back), and an ``own`` result is moved back (``route-take-<r>``). ``callee`` is the
    peer's position in the scenario; ``target`` the lowered function.
    """
    own_result = result is not None and func.results == ("i32",)
    resources = sorted({(mode, r) for _, mode, r in slots} | ({("take", result)} if own_result and result else set()))
    verb = {"own": "give", "borrow": "lend", "take": "take"}
    imports = [
        '(import "" "begin" (func $begin (param i32)))',
        '(import "" "end" (func $end (param i32)))',
        *(f'(import "" "{verb[m]}-{r}" (func ${verb[m]}-{r} (param i32 i32) (result i32)))' for m, r in resources),
    ]
    by_position = {position: (mode, r) for position, mode, r in slots}
    args = []
    for position in range(len(func.params)):
        arg = f"(local.get {position})"
        if position in by_position:
            mode, r = by_position[position]
            arg = f"(call ${verb[mode]}-{r} (i32.const {callee}) {arg})"
        args.append(arg)
    call = f"(call $f {' '.join(args)})"
    body = [f"(call $begin (i32.const {callee}))"]
    if func.results:
        body += [f"(local.set $r {call})", f"(call $end (i32.const {callee}))"]
        body.append(f"(call $take-{result} (i32.const {callee}) (local.get $r))" if own_result else "(local.get $r)")
    else:
        body += [call, f"(call $end (i32.const {callee}))"]
    local = f" (local $r {func.results[0]})" if func.results else ""
    lowered = [
        f'(core func {ident}-begin (canon lower (func $table "route-begin")))',
        f'(core func {ident}-end (canon lower (func $table "route-end")))',
        *(f'(core func {ident}-{verb[m]}-{r} (canon lower (func $table "route-{verb[m]}-{r}")))' for m, r in resources),
    ]
    withs = [f'(export "f" (func {target}))', f'(export "begin" (func {ident}-begin))']
    withs += [f'(export "end" (func {ident}-end))']
    withs += [f'(export "{verb[m]}-{r}" (func {ident}-{verb[m]}-{r}))' for m, r in resources]
    return [
        *lowered,
        f"(core module {ident}-m (type $f {func.wat()}) {' '.join(imports)}"
        f' (import "" "f" (func $f (type $f))) (func (export "f") (type $f){local} {" ".join(body)}))',
        f'(core instance {ident} (instantiate {ident}-m (with "" (instance {" ".join(withs)}))))',
    ]
