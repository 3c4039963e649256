"""Guest core modules: their bytes, hash and import/export signature, and bad files refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import Component, Linker

from harness.execute.core import CoreFunc, CoreModule, compile_core
from harness.model.errors import InputError
from suites.unit.support import BASELINE, MISFIT_WATS, line_of

A_WAT = BASELINE / "a.wat"


@pytest.fixture(scope="module")
def engine() -> wasmtime.Engine:
    return wasmtime.Engine()


@pytest.fixture(scope="module")
def baseline(engine: wasmtime.Engine) -> CoreModule:
    return compile_core(engine, A_WAT)[0]


def _refusal(engine: wasmtime.Engine, path: Path) -> InputError:
    with pytest.raises(InputError) as error:
        compile_core(engine, path)
    return error.value


def test_bytes_are_wat2wasm_of_the_file(baseline: CoreModule) -> None:
    assert baseline.wasm == bytes(wasmtime.wat2wasm(A_WAT.read_text(encoding="utf-8")))


def test_sha256_is_of_the_bytes(baseline: CoreModule) -> None:
    assert baseline.sha256 == hashlib.sha256(baseline.wasm).hexdigest()


def test_wasm_binary_is_taken_as_is(engine: wasmtime.Engine, baseline: CoreModule, tmp_path: Path) -> None:
    binary = tmp_path / "a.wasm"
    binary.write_bytes(baseline.wasm)
    assert compile_core(engine, binary)[0].sha256 == baseline.sha256


def test_imports_are_listed_in_module_order(baseline: CoreModule) -> None:
    assert [(i.module.split("/")[1], i.name) for i in baseline.imports][:3] == [
        ("host@0.1.0", "open-input"),
        ("host@0.1.0", "open-output"),
        ("streams@0.1.0", "[method]input-stream.read"),
    ]


def test_import_keeps_its_core_signature(baseline: CoreModule) -> None:
    read = next(i for i in baseline.imports if i.name == "[method]input-stream.read")
    assert read.func == CoreFunc(("i32", "i64", "i32"), ())


def test_function_export_has_its_signature(baseline: CoreModule) -> None:
    run = baseline.export("handle-compat:io/driver@0.1.0#run")
    assert run is not None and run.func == CoreFunc(("i32", "i64"), ("i64",))


def test_memory_export_is_typed_by_its_limits(baseline: CoreModule) -> None:
    memory = baseline.export("memory")
    assert memory is not None and (memory.type_wat, memory.func) == ("(memory 1)", None)


def test_core_func_spells_its_type() -> None:
    assert CoreFunc(("i32", "i64"), ("i64",)).wat() == "(func (param i32 i64) (result i64))"


def test_module_type_matches_the_compiled_module(engine: wasmtime.Engine) -> None:
    # The wrapper imports each guest under this type; linking checks it against the module.
    core, module = compile_core(engine, A_WAT)
    linker = Linker(engine)
    with linker.root() as root:
        root.add_module("core", module)
    component = Component(engine, f'(component (import "core" {core.type_wat("$m")}))')
    assert linker.instantiate(wasmtime.Store(engine), component) is not None


def test_syntax_error_names_the_file_and_line(engine: wasmtime.Engine) -> None:
    path = MISFIT_WATS / "syntax-error.wat"
    error = _refusal(engine, path)
    assert (error.path, error.line) == (path, line_of(path, "i32.const oops"))


def test_invalid_module_is_refused(engine: wasmtime.Engine, tmp_path: Path) -> None:
    path = tmp_path / "a.wat"
    path.write_text("(module (func (result i32) (i64.const 1)))", encoding="utf-8")
    assert _refusal(engine, path).message.startswith("invalid core module")


def test_non_utf8_text_is_refused(engine: wasmtime.Engine, tmp_path: Path) -> None:
    path = tmp_path / "a.wat"
    path.write_bytes(b"(module) ;; caf\xe9\n")
    assert "not UTF-8" in _refusal(engine, path).message


def test_missing_file_is_refused(engine: wasmtime.Engine, tmp_path: Path) -> None:
    assert _refusal(engine, tmp_path / "absent.wat").path == tmp_path / "absent.wat"


def test_import_that_is_not_a_function_is_refused(engine: wasmtime.Engine, tmp_path: Path) -> None:
    path = tmp_path / "a.wat"
    path.write_text('(module (import "env" "memory" (memory 1)))', encoding="utf-8")
    assert "env.memory, which is not a function" in _refusal(engine, path).message
