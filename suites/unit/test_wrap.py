"""The generated component text around guests' core modules, for each handle model."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import Component

from harness.execute.run import RunContext
from harness.execute.wrap import pseudo_name, wrap_scenario
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import MANIFEST, Scenario, discover, load_scenario
from harness.model.vocabulary import HandleModel
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


def test_pseudo_names_replace_brackets_and_dots() -> None:
    assert pseudo_name("[method]input-stream.read") == "method-input-stream-read"


def test_pseudo_names_leave_plain_functions_alone() -> None:
    assert pseudo_name("open-input") == "open-input"


# --- every scenario compiles ---------------------------------------------------------------


@pytest.mark.parametrize("model", list(HandleModel), ids=lambda m: m.value)
@pytest.mark.parametrize("folder", discover(BUILTIN_GUESTS), ids=lambda p: p.name)
def test_builtin_scenario_wraps_into_a_component_wasmtime_compiles(
    ctx: RunContext, folder: Path, model: HandleModel
) -> None:
    assert isinstance(Component(ctx.engine, _text(ctx, load_scenario(folder), model)), Component)


@pytest.mark.parametrize("model", list(HandleModel), ids=lambda m: m.value)
@pytest.mark.parametrize("folder", discover(FIXTURE_GUESTS), ids=lambda p: p.name)
def test_fixture_scenario_wraps_into_a_component_wasmtime_compiles(
    ctx: RunContext, folder: Path, model: HandleModel
) -> None:
    assert isinstance(Component(ctx.engine, _text(ctx, load_scenario(folder), model)), Component)


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
        ["wasm-tools", "component", "embed", str(WIT), "--world", world, str(core), "-o", str(embedded)],
        capture_output=True,
        text=True,
        check=False,
    )
    if embed.returncode != 0:
        return embed
    return subprocess.run(
        ["wasm-tools", "component", "new", str(embedded), "-o", str(tmp_path / "component.wasm")],
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
