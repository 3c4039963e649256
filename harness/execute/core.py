"""Guest core modules: their bytes, their hash and their import/export signature.

The bytes are what every backend instantiates, unchanged; the signature is what
the wrapper needs to spell the module's type inside a component.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import wasmtime

from harness.model.errors import InputError


@dataclass(frozen=True)
class CoreFunc:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def wat(self) -> str:
        params = f" (param {' '.join(self.params)})" if self.params else ""
        results = f" (result {' '.join(self.results)})" if self.results else ""
        return f"(func{params}{results})"


@dataclass(frozen=True)
class CoreImport:
    module: str
    name: str
    func: CoreFunc


@dataclass(frozen=True)
class CoreExport:
    name: str
    #: The export's type in core-module-type text, e.g. ``(memory 1)``.
    type_wat: str
    func: CoreFunc | None


@dataclass(frozen=True)
class CoreModule:
    """One guest's core module: identical bytes under every backend."""

    path: Path
    wasm: bytes
    imports: tuple[CoreImport, ...]
    exports: tuple[CoreExport, ...]

    @cached_property
    def sha256(self) -> str:
        """Hashed once: every run of the scenario records it in its trace."""
        return hashlib.sha256(self.wasm).hexdigest()

    def export(self, name: str) -> CoreExport | None:
        return next((e for e in self.exports if e.name == name), None)

    def type_wat(self, ident: str) -> str:
        """The module's type as a component spells it when importing it as ``ident``."""
        lines = [f"(import {_quote(i.module)} {_quote(i.name)} {i.func.wat()})" for i in self.imports]
        lines += [f"(export {_quote(e.name)} {e.type_wat})" for e in self.exports]
        return f"(core module {ident} " + " ".join(lines) + ")"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _func(ty: wasmtime.FuncType) -> CoreFunc:
    return CoreFunc(tuple(str(p) for p in ty.params), tuple(str(r) for r in ty.results))


def _limits(limits: wasmtime.Limits) -> str:
    return f"{limits.min}" if limits.max is None else f"{limits.min} {limits.max}"


def _export_type(ty: object) -> tuple[str, CoreFunc | None]:
    if isinstance(ty, wasmtime.FuncType):
        func = _func(ty)
        return func.wat(), func
    if isinstance(ty, wasmtime.MemoryType):
        return f"(memory {_limits(ty.limits)})", None
    if isinstance(ty, wasmtime.TableType):
        return f"(table {_limits(ty.limits)} {ty.element})", None
    if isinstance(ty, wasmtime.GlobalType):
        content = f"(mut {ty.content})" if ty.mutable else str(ty.content)
        return f"(global {content})", None
    raise TypeError(f"unsupported core export type {ty!r}")


def compile_core(
    engine: wasmtime.Engine, path: Path, compile_wasm: Callable[[bytes], wasmtime.Module] | None = None
) -> tuple[CoreModule, wasmtime.Module]:
    """Reads a guest's WAT (or wasm) file and compiles it once for all backends.

    ``compile_wasm`` turns the wasm bytes into a module (a compile cache); by
    default they are compiled in ``engine``.
    """
    try:
        source = path.read_bytes()
    except OSError as err:
        raise InputError(path, f"cannot read core module: {err.strerror}") from err
    try:
        wasm = source if source.startswith(b"\0asm") else bytes(wasmtime.wat2wasm(source.decode("utf-8")))
        module = compile_wasm(wasm) if compile_wasm else wasmtime.Module(engine, wasm)
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (byte {err.start})") from err
    except wasmtime.WasmtimeError as err:
        raise InputError(path, *_wat_error(str(err))) from err
    imports = []
    for imp in module.imports:
        if not isinstance(imp.type, wasmtime.FuncType) or imp.name is None:
            raise InputError(path, f"imports {imp.module}.{imp.name}, which is not a function")
        imports.append(CoreImport(imp.module, imp.name, _func(imp.type)))
    exports = []
    for exp in module.exports:
        type_wat, func = _export_type(exp.type)
        exports.append(CoreExport(exp.name, type_wat, func))
    core = CoreModule(path, bytes(wasm), tuple(imports), tuple(exports))
    return core, module


def _wat_error(message: str) -> tuple[str, int | None]:
    """Turns wasmtime's multi-line WAT error into (first line, line number)."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    first = lines[0] if lines else "invalid module"
    line_no = None
    for ln in lines:
        if ln.startswith("--> "):
            parts = ln.removeprefix("--> ").rsplit(":", 2)
            if len(parts) == 3 and parts[1].isdigit():
                line_no = int(parts[1])
    return f"invalid core module: {first}", line_no
