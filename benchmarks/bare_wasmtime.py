"""The baseline: the built-in scenarios' wrapped components run with wasmtime-py alone.

``prepare`` uses the harness once, untimed, to produce what the harness would
compile: each scenario's component text per handle model and its core wasm
bytes. ``run_bare`` then does only wasmtime work plus the smallest host that
keeps the guests on their normal path: compile every core module and component,
instantiate each scenario in a fresh store, call its driver steps with the
manifest's arguments. No traces, no event log, no expectations, no cache.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime.component import Component, Linker, LinkerInstance, ResourceHost, ResourceType

from harness.execute.core import compile_core
from harness.execute.wrap import core_import_name, driver_export_name, wrap_scenario
from harness.model.scenario import MANIFEST, discover
from harness.model.vocabulary import HandleModel
from harness.model.wit import load_wit

HOST_RESOURCE_IDS = {"pollable": 1, "input-stream": 2, "output-stream": 3}


@dataclass(frozen=True)
class BareScenario:
    name: str
    model: HandleModel
    text: str
    #: Component name -> core wasm bytes.
    cores: dict[str, bytes]
    #: (component, op, arg) per step.
    steps: tuple[tuple[str, int, int], ...]


def prepare(guests: Path, wit_dir: Path, model: HandleModel, skip: Callable[[str], bool]) -> list[BareScenario]:
    """Component text and core bytes of every scenario, as the harness wraps them (untimed)."""
    from harness.model.scenario import load_scenario

    wit = load_wit(wit_dir.resolve())
    engine = wasmtime.Engine()
    prepared = []
    for directory in discover(guests):
        if skip(directory.name):
            continue
        scenario = load_scenario(directory)
        cores = {spec.name: compile_core(engine, spec.wat)[0] for spec in scenario.components}
        text = wrap_scenario(wit, model, scenario, cores)
        manifest = tomllib.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        steps = tuple((s["call"], s["op"], s.get("arg", 0)) for s in manifest["steps"])
        prepared.append(
            BareScenario(scenario.name, model, text, {name: core.wasm for name, core in cores.items()}, steps)
        )
    return prepared


@dataclass
class _Stream:
    kind: str
    data: bytearray = field(default_factory=bytearray)
    closed: bool = False
    parent: int | None = None


class BareHost:
    """Streams by rep: just enough for the guests to take their normal path."""

    def __init__(self) -> None:
        self.streams: dict[int, _Stream] = {}
        self.next_rep = 1
        self.emits: list[tuple[str, int]] = []

    def new(self, stream: _Stream) -> int:
        rep = self.next_rep
        self.next_rep += 1
        self.streams[rep] = stream
        return rep

    def destroy(self, rep: int) -> None:
        if any(s.parent == rep for s in self.streams.values()):
            raise RuntimeError("HasChildren")
        del self.streams[rep]

    def call(self, name: str, rep: int | None, *args: Any) -> Any:
        """The host function ``name`` (WIT method or function name) on the stream ``rep``."""
        if name == "open-input":
            return self.new(_Stream("input-stream", bytearray(args[0])))
        if name == "open-output":
            return self.new(_Stream("output-stream"))
        if name == "emit":
            self.emits.append((args[0], args[1]))
            return None
        assert rep is not None
        stream = self.streams[rep]
        method = name.rsplit(".", 1)[1]
        if method == "ready":
            return True
        if method == "subscribe":
            return self.new(_Stream("pollable", parent=rep))
        if method == "close":
            stream.closed = True
            return None
        if method == "flush":
            return "closed" if stream.closed else None
        if method == "write":
            if stream.closed:
                return "closed"
            stream.data.extend(args[0])
            return len(args[0])
        if stream.closed:
            return "closed"
        if not stream.data:
            return "ended"
        taken = bytes(stream.data[: args[0]])
        del stream.data[: args[0]]
        return taken if method == "read" else len(taken)


#: WIT name -> whether it returns a new handle.
_HANDLE_RESULT = ("open-input", "open-output", "subscribe")


def instance_exports(engine: wasmtime.Engine, extern: Any) -> dict[str, Any]:
    """The items an imported instance must export, by name."""
    ty = extern.ty
    return dict(ty.exports(engine)) if hasattr(ty, "exports") else {}


def _define_real(linker: Linker, engine: wasmtime.Engine, component: Component, host: BareHost) -> None:
    def func(name: str) -> Callable[..., Any]:
        returns_handle = name.endswith(_HANDLE_RESULT)
        kind = "pollable" if name.endswith("subscribe") else name.removeprefix("open-") + "-stream"

        def call(store: Any, *args: Any) -> Any:
            rep = None
            if name.startswith("[method]"):
                rep = args[0].to_host(store).rep
                args = args[1:]
            result = host.call(name, rep, *args)
            return ResourceHost.own(result, HOST_RESOURCE_IDS[kind]) if returns_handle else result

        return call

    with linker.root() as root:
        for import_name, extern in component.type.imports(engine).items():
            if import_name.startswith("core-"):
                continue
            with root.add_instance(import_name) as inst:
                for name, item in instance_exports(engine, extern).items():
                    item_ty = item.ty if hasattr(item, "ty") else item
                    if isinstance(item_ty, ResourceType):
                        inst.add_resource(name, ResourceType.host(HOST_RESOURCE_IDS[name]), _dtor(host))
                    elif name in HOST_RESOURCE_IDS or name == "stream-error":
                        continue
                    else:
                        inst.add_func(name, func(name))


def _dtor(host: BareHost) -> Callable[[Any, int], None]:
    def destructor(_store: Any, rep: int) -> None:
        host.destroy(rep)

    return destructor


def _wit_name(pseudo: str) -> str:
    """``method-input-stream-read`` -> ``[method]input-stream.read``."""
    if not pseudo.startswith("method-"):
        return pseudo
    rest = pseudo.removeprefix("method-")
    resource, method = rest.rsplit("-", 1)
    return f"[method]{resource}.{method}"


def _define_pseudo(linker: Linker, engine: wasmtime.Engine, component: Component, host: BareHost) -> None:
    table: dict[int, tuple[str, int]] = {}
    next_key = [3]

    def insert(kind: str, rep: int) -> int:
        key = next_key[0]
        next_key[0] += 1
        table[key] = (kind, rep)
        return key

    def func(pseudo: str) -> Callable[..., Any]:
        name = _wit_name(pseudo)
        returns_handle = name.endswith(_HANDLE_RESULT)
        kind = "pollable" if name.endswith("subscribe") else name.removeprefix("open-") + "-stream"

        def call(_store: Any, *args: Any) -> Any:
            rep = None
            if name.startswith("[method]"):
                rep = _entry(table, args[0], name.removeprefix("[method]").split(".")[0])
                args = args[1:]
            result = host.call(name, rep, *args)
            return insert(kind, result) if returns_handle else result

        return call

    def intrinsics(inst: LinkerInstance, names: Iterable[str]) -> None:
        lent: set[int] = set()
        for name in names:
            if name == "borrow-begin":
                inst.add_func(name, lambda _s, index: lent.add(index))
            elif name == "borrow-end":
                inst.add_func(name, lambda _s: lent.clear())
            elif name.startswith("resource-new-"):
                kind = name.removeprefix("resource-new-")
                inst.add_func(name, lambda _s, rep, kind=kind: insert(kind, rep))
            elif name.startswith("resource-rep-"):
                kind = name.removeprefix("resource-rep-")
                inst.add_func(name, lambda _s, index, kind=kind: _entry(table, index, kind))
            elif name.startswith("resource-drop-"):
                inst.add_func(name, _pseudo_drop(table, lent, host, name.removeprefix("resource-drop-")))

    with linker.root() as root:
        for import_name, extern in component.type.imports(engine).items():
            if import_name.startswith("core-"):
                continue
            names = [n for n in instance_exports(engine, extern) if n != "stream-error"]
            with root.add_instance(import_name) as inst:
                if import_name.endswith("-table"):
                    intrinsics(inst, names)
                else:
                    for name in names:
                        inst.add_func(name, func(name))


def _entry(table: dict[int, tuple[str, int]], index: int, kind: str) -> int:
    """The rep at ``index``; like the 2023 table, refuses an absent key or another type."""
    found, rep = table[index]
    if found != kind:
        raise RuntimeError(f"WrongType: {index} is a {found}, not a {kind}")
    return rep


def _pseudo_drop(
    table: dict[int, tuple[str, int]], lent: set[int], host: BareHost, kind: str
) -> Callable[[Any, int], None]:
    def drop(_store: Any, index: int) -> None:
        rep = _entry(table, index, kind)
        if index in lent:
            lent.discard(index)
            return
        if kind in HOST_RESOURCE_IDS:
            host.destroy(rep)
        del table[index]

    return drop


@dataclass
class Compiled:
    """Every artifact of a scenario list, compiled ahead: what a perfect cache would hand over."""

    engine: wasmtime.Engine
    components: dict[str, Component] = field(default_factory=dict)
    modules: dict[bytes, wasmtime.Module] = field(default_factory=dict)


def compile_all(scenarios: list[BareScenario], epoch_interruption: bool = False) -> Compiled:
    config = wasmtime.Config()
    config.epoch_interruption = epoch_interruption
    compiled = Compiled(wasmtime.Engine(config))
    for scenario in scenarios:
        compiled.components[scenario.text] = Component(compiled.engine, scenario.text)
        for wasm in scenario.cores.values():
            compiled.modules.setdefault(wasm, wasmtime.Module(compiled.engine, wasm))
    return compiled


def run_bare(
    scenarios: list[BareScenario], epoch_interruption: bool = False, compiled: Compiled | None = None
) -> dict[str, list[str]]:
    """Compiles, instantiates and drives every scenario; returns each one's step values (``trap``: it trapped).

    ``epoch_interruption`` compiles with the epoch checks the harness needs for
    its deadlines (and sets a deadline no call reaches), to separate the cost of
    that code generation from the cost of the harness's own Python.
    ``compiled`` skips compilation: the floor under any warm-cache run.
    """
    if compiled is None:
        config = wasmtime.Config()
        config.epoch_interruption = epoch_interruption
        compiled = Compiled(wasmtime.Engine(config))
    engine = compiled.engine
    outcomes: dict[str, list[str]] = {}
    for scenario in scenarios:
        if scenario.text not in compiled.components:
            compiled.components[scenario.text] = Component(engine, scenario.text)
        component = compiled.components[scenario.text]
        linker = Linker(engine)
        host = BareHost()
        with linker.root() as root:
            for name, wasm in scenario.cores.items():
                if wasm not in compiled.modules:
                    compiled.modules[wasm] = wasmtime.Module(engine, wasm)
                root.add_module(core_import_name(name), compiled.modules[wasm])
        if scenario.model is HandleModel.REAL:
            _define_real(linker, engine, component, host)
        else:
            _define_pseudo(linker, engine, component, host)
        store = wasmtime.Store(engine)
        if epoch_interruption:
            store.set_epoch_deadline(1 << 62)
        instance = linker.instantiate(store, component)
        values = outcomes[scenario.name] = []
        for component_name, op, arg in scenario.steps:
            func = instance.get_func(store, driver_export_name(component_name))
            assert func is not None
            try:
                values.append(str(func(store, op, arg)))
            except Exception:  # noqa: BLE001 - a trapped instance cannot be entered again
                values.append("trap")
                break
    return outcomes
