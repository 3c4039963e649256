"""The generated component text around guests' core modules, for each handle model."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import (
    S8,
    S16,
    S32,
    S64,
    U8,
    U16,
    U32,
    U64,
    Bool,
    BorrowType,
    Component,
    ComponentInstanceType,
    EnumType,
    FuncType,
    ListType,
    ModuleType,
    OwnType,
    ResourceType,
    ResultType,
    String,
    ValType,
)

from harness.execute.core import CoreModule
from harness.execute.run import RunContext
from harness.execute.wrap import pseudo_name, wrap_scenario
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import MANIFEST, Scenario, discover, load_scenario
from harness.model.vocabulary import HandleModel
from harness.model.wit import Function, Interface, TypeRef, WitPackage, wasm_tools
from suites.unit.support import BASELINE, FIXTURE_GUESTS, MISFIT_WATS, run, write_scenario

OWN_TRANSFER = BUILTIN_GUESTS / "own-transfer"
WIT = BUILTIN_GUESTS / "wit"


def _text(ctx: RunContext, scenario: Scenario, model: HandleModel) -> str:
    cores = {spec.name: ctx.core(spec.wat)[0] for spec in scenario.components}
    return wrap_scenario(ctx.wit, model, scenario, cores)


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


# --- the same core module bytes under every backend ------------------------------------------


def test_module_hashes_are_equal_across_backends(ctx: RunContext) -> None:
    modules = [dict(run(ctx, backend, OWN_TRANSFER).modules) for backend in ("pseudo", "real", "pseudo-reuse")]
    assert modules[0] == modules[1] == modules[2]


@pytest.mark.parametrize("backend", ["pseudo", "real", "pseudo-reuse"])
def test_module_hashes_are_of_wat2wasm_of_the_wat_files(ctx: RunContext, backend: str) -> None:
    scenario = load_scenario(OWN_TRANSFER)
    expected = {
        spec.name: hashlib.sha256(wasmtime.wat2wasm(spec.wat.read_text(encoding="utf-8"))).hexdigest()
        for spec in scenario.components
    }
    assert dict(run(ctx, backend, OWN_TRANSFER).modules) == expected


def test_outer_component_imports_the_guest_core_module(ctx: RunContext, baseline: Scenario) -> None:
    # The core bytes reach the component through the linker, unchanged; the text only types them.
    assert re.search(r'\(import "core-a" \(core module \$m\.a ', _text(ctx, baseline, HandleModel.REAL))


# --- what differs between the models ---------------------------------------------------------


def test_real_wrapper_declares_resource_types(ctx: RunContext, baseline: Scenario) -> None:
    text = _text(ctx, baseline, HandleModel.REAL)
    assert re.search(r'\(export "input-stream" \(type \$t\d+ \(sub resource\)\)\)', text)


def test_real_wrapper_drops_with_canon_resource_drop(ctx: RunContext, baseline: Scenario) -> None:
    assert "(canon resource.drop $i.handle-compat:io/streams@0.1.0.input-stream)" in _text(
        ctx, baseline, HandleModel.REAL
    )


def test_real_wrapper_returns_own_handles(ctx: RunContext, baseline: Scenario) -> None:
    text = _text(ctx, baseline, HandleModel.REAL)
    assert re.search(r'"open-input" \(func \(param "contents" \(list u8\)\) \(result \(own \$\S+\)\)\)', text)


def test_pseudo_wrapper_has_no_resource_types(ctx: RunContext, baseline: Scenario) -> None:
    assert "resource" not in re.sub(r'"[^"]*"', '""', _text(ctx, baseline, HandleModel.PSEUDO))


def test_pseudo_wrapper_has_no_own_or_borrow(ctx: RunContext, baseline: Scenario) -> None:
    assert not re.search(r"\((own|borrow) ", _text(ctx, baseline, HandleModel.PSEUDO))


def test_pseudo_wrapper_returns_u32_handles(ctx: RunContext, baseline: Scenario) -> None:
    text = _text(ctx, baseline, HandleModel.PSEUDO)
    assert '"open-input" (func (param "contents" (list u8)) (result u32))' in text


def test_pseudo_wrapper_lowers_drop_from_the_global_table(ctx: RunContext, baseline: Scenario) -> None:
    text = _text(ctx, baseline, HandleModel.PSEUDO)
    assert '(canon lower (func $table "resource-drop-input-stream"))' in text


def test_real_wrapper_gives_a_guest_resource_the_destructor_its_module_exports(ctx: RunContext) -> None:
    text = _text(ctx, load_scenario(BUILTIN_GUESTS / "guest-dtor-last-own"), HandleModel.REAL)
    assert '(resource (rep i32) (dtor (core func $dtor "counter")))' in text


def test_real_wrapper_gives_no_destructor_to_a_guest_resource_without_one(ctx: RunContext) -> None:
    text = _text(ctx, load_scenario(BUILTIN_GUESTS / "guest-resource-shared"), HandleModel.REAL)
    assert "(dtor " not in text


def test_pseudo_wrapper_runs_the_providers_destructor_on_a_drop(ctx: RunContext) -> None:
    text = _text(ctx, load_scenario(BUILTIN_GUESTS / "guest-dtor-last-own"), HandleModel.PSEUDO)
    assert '(canon lower (func $i.handle-compat:io/counters@0.1.0 "dtor-counter"))' in text


def test_pseudo_names_replace_brackets_and_dots() -> None:
    assert pseudo_name("[method]input-stream.read") == "method-input-stream-read"


def test_pseudo_names_leave_plain_functions_alone() -> None:
    assert pseudo_name("open-input") == "open-input"


# --- every scenario wraps into a component whose signature is the WIT package's -----------------
#
# Compiling proves only that the text is well formed: the wrapper spells the types of both sides of
# every import and export, so a consistent mistake (``list<u8>`` spelled ``string``, an error case
# left out of a result, a driver left unexported, a parameter renamed) still compiles. These tests
# read the compiled component's type back from wasmtime and compare it with what the WIT package
# and the scenario declare, written out independently of the wrapper's type writer.

#: A described type: a string such as ``result<list<u8>, enum{ended,closed}>``.
Described = str
#: A described function: parameter (name, type) pairs and the result type.
Signature = tuple[tuple[tuple[str, Described], ...], Described | None]
#: What an import or export is: a core module, a function, or an instance's members.
Item = str | Signature | dict[str, "str | Signature"]

_PRIMITIVES: dict[type[ValType], str] = {
    Bool: "bool",
    U8: "u8",
    U16: "u16",
    U32: "u32",
    U64: "u64",
    S8: "s8",
    S16: "s16",
    S32: "s32",
    S64: "s64",
    String: "string",
}


def _described(valtype: ValType | None) -> Described | None:
    """A wasmtime component value type, spelled as WIT spells it."""
    if valtype is None:
        return None
    if type(valtype) in _PRIMITIVES:
        return _PRIMITIVES[type(valtype)]
    if isinstance(valtype, ListType):
        return f"list<{_described(valtype.element)}>"
    if isinstance(valtype, ResultType):
        return f"result<{_described(valtype.ok) or '_'}, {_described(valtype.err) or '_'}>"
    if isinstance(valtype, EnumType):
        return "enum{" + ",".join(str(valtype.name(n)) for n in range(valtype.names_count)) + "}"
    if isinstance(valtype, OwnType):
        return "own"
    if isinstance(valtype, BorrowType):
        return "borrow"
    return type(valtype).__name__


def _item(engine: wasmtime.Engine, ty: object) -> Item:
    if isinstance(ty, FuncType):
        return tuple((name, _described(v) or "") for name, v in ty.params), _described(ty.result)
    if isinstance(ty, ComponentInstanceType):
        members = {name: _item(engine, extern.ty) for name, extern in ty.exports(engine).items()}
        return {name: member for name, member in members.items() if not isinstance(member, dict)}
    if isinstance(ty, ResourceType):
        return "resource"
    if isinstance(ty, ModuleType):
        return "core module"
    if isinstance(ty, ValType):
        return _described(ty) or ""
    raise AssertionError(f"a component item these tests do not describe: {ty!r}")


def _compiled_signature(engine: wasmtime.Engine, component: Component) -> dict[str, Item]:
    """The component's imports and exports as wasmtime reads them from the compiled code."""
    ty = component.type
    imports = {f"import {name}": _item(engine, e.ty) for name, e in ty.imports(engine).items()}
    exports = {f"export {name}": _item(engine, e.ty) for name, e in ty.exports(engine).items()}
    return imports | exports


def _wit_type(wit: WitPackage, model: HandleModel, ref: TypeRef | None) -> Described | None:
    """A WIT type as the component must type it: handles are ``u32`` under the pseudo model."""
    if ref is None:
        return None
    if isinstance(ref, str):
        return ref
    kind = wit.types[ref]["kind"]
    if "type" in kind:
        return _wit_type(wit, model, kind["type"])
    if "handle" in kind:
        (flavour,) = kind["handle"]
        return "u32" if model is HandleModel.PSEUDO else str(flavour)
    if "list" in kind:
        return f"list<{_wit_type(wit, model, kind['list'])}>"
    if "result" in kind:
        ok, err = (_wit_type(wit, model, kind["result"].get(side)) for side in ("ok", "err"))
        return f"result<{ok or '_'}, {err or '_'}>"
    if "enum" in kind:
        return "enum{" + ",".join(case["name"] for case in kind["enum"]["cases"]) + "}"
    raise AssertionError(f"the WIT package uses a type these tests do not spell: {kind}")


def _wit_signature(wit: WitPackage, model: HandleModel, fn: Function) -> Signature:
    params = tuple((p.name, _wit_type(wit, model, p.type) or "") for p in fn.params)
    return params, _wit_type(wit, model, fn.result)


def _wit_instance(wit: WitPackage, model: HandleModel, iface: Interface) -> dict[str, str | Signature]:
    """An interface's members: functions (renamed under pseudo), its resources (real only), its enums."""
    members: dict[str, str | Signature] = {}
    for name, index in iface.types:
        kind = wit.types[wit.resolve_alias(index)]["kind"]
        if kind == "resource" and model is HandleModel.REAL:
            members[name] = "resource"
        elif kind != "resource":
            members[name] = _wit_type(wit, model, index) or ""
    for fn in iface.functions:
        name = fn.name if model is HandleModel.REAL else pseudo_name(fn.name)
        members[name] = _wit_signature(wit, model, fn)
    return members


def _pseudo_table(wit: WitPackage) -> dict[str, str | Signature]:
    """What the pseudo backend's global table serves each guest: the resource intrinsics, borrow scopes."""
    table: dict[str, str | Signature] = {}
    for _, resource in wit.resources():
        table[f"resource-new-{resource}"] = ((("rep", "u32"),), "u32")
        table[f"resource-rep-{resource}"] = ((("handle", "u32"),), "u32")
        table[f"resource-drop-{resource}"] = ((("handle", "u32"),), None)
        table[f"resource-take-{resource}"] = ((("handle", "u32"),), "s64")
    table["borrow-begin"] = ((("handle", "u32"),), None)
    table["borrow-end"] = ((), None)
    return table


def _declared_signature(
    wit: WitPackage, model: HandleModel, scenario: Scenario, cores: dict[str, CoreModule], imported: list[str]
) -> dict[str, Item]:
    """What the component must import and export, from the WIT package and the scenario's components.

    Each component's core module, its pseudo table under the pseudo model, the host instance its
    destructors report to when its core module exports any (``<name>-destructors``), and a driver export
    ``<name>-run`` typed as the WIT's ``driver.run`` for each component whose module exports it.
    Every other import must be one of the WIT's interfaces, under its own name (real handles,
    interfaces with resources) or ``<component>-<interface>``, typed as the WIT declares it.
    """
    driver = wit.interface("driver")
    run_export = f"{driver.qualified}#{driver.functions[0].name}"
    declared: dict[str, Item] = {}
    for spec in scenario.components:
        declared[f"import core-{spec.name}"] = "core module"
        if model is HandleModel.PSEUDO:
            declared[f"import {spec.name}-table"] = _pseudo_table(wit)
        if cores[spec.name].export(run_export) is not None:
            declared[f"export {spec.name}-run"] = _wit_signature(wit, model, driver.functions[0])
        dtors = [r for q, r in wit.resources() if cores[spec.name].export(f"{q}#[dtor]{r}") is not None]
        if dtors:
            declared[f"import {spec.name}-destructors"] = {f"destroyed-{r}": ((("rep", "u32"),), None) for r in dtors}
    prefixes = {f"{spec.name}-" for spec in scenario.components}
    for name in imported:
        if f"import {name}" in declared:
            continue
        short = next((name.removeprefix(p) for p in prefixes if name.startswith(p)), None)
        iface = wit.find_interface(name) or (wit.find_interface(short) if short else None)
        declared[f"import {name}"] = _wit_instance(wit, model, iface) if iface else "not in the WIT package"
    return declared


def _signatures(ctx: RunContext, folder: Path, model: HandleModel) -> tuple[dict[str, Item], dict[str, Item]]:
    """(compiled, declared) signatures of a scenario's wrapped component under ``model``."""
    scenario = load_scenario(folder)
    cores = {spec.name: ctx.core(spec.wat)[0] for spec in scenario.components}
    component = ctx.cache.component(wrap_scenario(ctx.wit, model, scenario, cores))
    imported = list(component.type.imports(ctx.engine))
    return _compiled_signature(ctx.engine, component), _declared_signature(ctx.wit, model, scenario, cores, imported)


@pytest.mark.parametrize("model", list(HandleModel), ids=lambda m: m.value)
@pytest.mark.parametrize("folder", discover(BUILTIN_GUESTS), ids=lambda p: p.name)
def test_builtin_scenario_wraps_into_the_signature_its_wit_and_components_declare(
    ctx: RunContext, folder: Path, model: HandleModel
) -> None:
    compiled, declared = _signatures(ctx, folder, model)
    assert compiled == declared


@pytest.mark.parametrize("model", list(HandleModel), ids=lambda m: m.value)
@pytest.mark.parametrize("folder", discover(FIXTURE_GUESTS), ids=lambda p: p.name)
def test_fixture_scenario_wraps_into_the_signature_its_wit_and_components_declare(
    ctx: RunContext, folder: Path, model: HandleModel
) -> None:
    compiled, declared = _signatures(ctx, folder, model)
    assert compiled == declared


def test_unwired_peer_import_is_refused_naming_the_manifest(ctx: RunContext, tmp_path: Path) -> None:
    source = FIXTURE_GUESTS / "give-own"
    manifest = (source / MANIFEST).read_text(encoding="utf-8").replace('imports = { peer = "b" }\n', "")
    folder = write_scenario(tmp_path, "s", manifest, {"a.wat": source / "a.wat", "b.wat": source / "b.wat"})
    with pytest.raises(InputError) as error:
        _text(ctx, load_scenario(folder), HandleModel.REAL)
    assert error.value.path == folder / MANIFEST


# --- the names follow wit-component's conventions ------------------------------------------------


def _component_new(core_wat: Path, world: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``wasm-tools component embed`` then ``component new`` on a core module."""
    core = tmp_path / "core.wasm"
    core.write_bytes(wasmtime.wat2wasm(core_wat.read_text(encoding="utf-8")))
    embedded = tmp_path / "embedded.wasm"
    embed = subprocess.run(
        [wasm_tools(), "component", "embed", str(WIT), "--world", world, str(core), "-o", str(embedded)],
        capture_output=True,
        text=True,
        check=False,
    )
    if embed.returncode != 0:
        return embed
    return subprocess.run(
        [wasm_tools(), "component", "new", str(embedded), "-o", str(tmp_path / "component.wasm")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_wit_component_accepts_a_guest_core_module(tmp_path: Path) -> None:
    completed = _component_new(BASELINE / "a.wat", "solo", tmp_path)
    assert completed.returncode == 0, completed.stderr


def test_wit_component_refuses_a_core_module_that_misnames_a_signature(tmp_path: Path) -> None:
    # The control for the test above: wit-component does check the names and types.
    completed = _component_new(MISFIT_WATS / "wrong-signature.wat", "solo", tmp_path)
    assert completed.returncode != 0
