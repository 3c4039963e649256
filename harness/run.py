"""Runs a scenario on a backend and records its Trace.

All components of a scenario live in one store and one outer component. A trap
poisons the component instance (wasmtime refuses to enter it again), so every
step after a trap is recorded as ``not-run`` on every backend alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import wasmtime
from wasmtime.component import Component, Linker

from harness.backends.base import Backend
from harness.backends.host import StreamHost
from harness.core import CoreModule, compile_core
from harness.errors import InputError
from harness.scenario import MANIFEST, Scenario
from harness.trace import Outcome, Status, StepTrace, Trace
from harness.traps import cause_of, classify
from harness.wit import WitPackage, load_wit
from harness.wrap import core_import_name, driver_export_name, wrap_scenario


@dataclass
class RunContext:
    """What one process shares across runs: the engine and compiled modules."""

    wit_dir: Path
    engine: wasmtime.Engine = field(default_factory=wasmtime.Engine)
    _cores: dict[Path, tuple[CoreModule, wasmtime.Module]] = field(default_factory=dict)
    _components: dict[str, Component] = field(default_factory=dict)

    @property
    def wit(self) -> WitPackage:
        return load_wit(self.wit_dir.resolve())

    def core(self, path: Path) -> tuple[CoreModule, wasmtime.Module]:
        key = path.resolve()
        if key not in self._cores:
            self._cores[key] = compile_core(self.engine, path)
        return self._cores[key]

    def component(self, text: str, blame: Path) -> Component:
        if text not in self._components:
            try:
                self._components[text] = Component(self.engine, text)
            except wasmtime.WasmtimeError as err:
                raise InputError(blame, f"guest does not fit the WIT package: {cause_of(str(err))}") from err
        return self._components[text]


def _blame(scenario: Scenario) -> Path:
    """The file to name when the wrapped component does not link."""
    if len(scenario.components) == 1:
        return scenario.components[0].wat
    return scenario.path / MANIFEST


def run_scenario(ctx: RunContext, backend: Backend, scenario: Scenario) -> Trace:
    """Runs every step of ``scenario`` on ``backend``; never raises for bad guests."""
    modules: dict[str, str] = {}
    try:
        cores = {}
        for spec in scenario.components:
            core, _ = ctx.core(spec.wat)
            cores[spec.name] = core
            modules[spec.name] = core.sha256
        text = wrap_scenario(ctx.wit, backend.model, scenario, cores)
        component = ctx.component(text, _blame(scenario))
        host = StreamHost()
        store = wasmtime.Store(ctx.engine)
        linker = Linker(ctx.engine)
        with linker.root() as root:
            for spec in scenario.components:
                root.add_module(core_import_name(spec.name), ctx.core(spec.wat)[1])
        backend.define_host(linker, ctx.wit, scenario, host)
        instance = linker.instantiate(store, component)
    except InputError as err:
        return Trace(scenario.name, backend.name, modules, error=str(err))
    except wasmtime.WasmtimeError as err:
        message = f"{scenario.path / MANIFEST}: cannot instantiate: {cause_of(str(err))}"
        return Trace(scenario.name, backend.name, modules, error=message)

    steps = []
    trapped = False
    for index, step in enumerate(scenario.steps):
        events_before, emits_before = len(host.events), len(host.emits)
        if trapped:
            outcome = Outcome(Status.NOT_RUN)
        else:
            outcome = _call(store, instance, step.component, step.op, step.arg)
            trapped = outcome.status is Status.TRAP
        steps.append(
            StepTrace(
                index=index,
                component=step.component,
                op=step.op,
                arg=step.arg,
                outcome=outcome,
                emits=tuple(host.emits[emits_before:]),
                events=tuple(host.events[events_before:]),
            )
        )
    return Trace(scenario.name, backend.name, modules, steps=tuple(steps), live=host.live())


def _call(store: wasmtime.Store, instance: wasmtime.component.Instance, component: str, op: int, arg: int) -> Outcome:
    func = instance.get_func(store, driver_export_name(component))
    if func is None:
        return Outcome(Status.TRAP, trap=None, message=f"component {component} exports no driver")
    try:
        value = func(store, op, arg)
    except Exception as error:  # noqa: BLE001 - every failure of a guest call is a trace fact
        kind, message = classify(error)
        return Outcome(Status.TRAP, trap=kind, message=message)
    return Outcome(Status.VALUE, value=int(value))
