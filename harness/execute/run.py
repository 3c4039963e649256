"""Runs a scenario on a backend and records its Trace.

All components of a scenario live in one store and one outer component. A trap
poisons the component instance (wasmtime refuses to enter it again), so every
step after a trap is recorded as ``not-run`` on every backend alike.

Every guest call (instantiation included) runs under the context's limits: a
deadline (``timeout``) and a cap on each linear memory (``resource-limit``), so a
runaway guest ends its own scenario and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Protocol

import wasmtime
from wasmtime.component import Component, Linker

from harness.execute.backends.base import Backend
from harness.execute.backends.external import ExternalBackend
from harness.execute.backends.host import StreamHost
from harness.execute.cache import CompileCache, EngineSettings
from harness.execute.core import CoreModule, compile_core
from harness.execute.limits import Limits, Watchdog
from harness.execute.oplog import drain
from harness.execute.traps import OUT_OF_MEMORY_TAG, cause_of, classify, reported_out_of_memory
from harness.execute.wrap import core_import_name, driver_export_name, wrap_scenario
from harness.execute.wrap.oplog import SINK_IMPORT, VERBOSE_EXPORT, SiteTable
from harness.model.errors import InputError
from harness.model.oplog import Op
from harness.model.scenario import MANIFEST, Scenario
from harness.model.trace import Emit, Outcome, Status, StepTrace, Trace
from harness.model.vocabulary import TrapKind
from harness.model.wit import WitPackage, load_wit


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class RunContext:
    """What one process shares across runs: the engine, compiled code, limits.

    ``cache_dir`` is where compiled code is kept between processes (None: no
    disk cache). Call ``close`` when done to stop the deadline watchdog.
    ``oplog`` False leaves the op log out of the wrapper and the traces: only the
    benchmark that measures the log's cost wants that.
    """

    wit_dir: Path
    cache_dir: Path | None = None
    limits: Limits = field(default_factory=Limits)
    oplog: bool = True
    settings: EngineSettings = field(init=False, default_factory=EngineSettings)
    engine: wasmtime.Engine = field(init=False)
    cache: CompileCache = field(init=False)
    watchdog: Watchdog = field(init=False)
    _cores: dict[Path, tuple[CoreModule, wasmtime.Module]] = field(default_factory=dict)
    #: Wrapper text and op-log sites per shape (see ``wrapped``): generated programs share a few shapes.
    _wrapped: dict[tuple[object, ...], tuple[str, SiteTable | None]] = field(default_factory=dict)
    #: External backends' runners (one process each for the whole run), by backend name; see ``runners``.
    runners: dict[str, Closable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.engine = self.settings.engine()
        self.cache = CompileCache(self.engine, self.settings, self.cache_dir)
        self.watchdog = Watchdog(self.engine)

    def close(self) -> None:
        self.watchdog.close()
        for runner in self.runners.values():
            runner.close()
        self.runners.clear()

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @cached_property
    def wit(self) -> WitPackage:
        """Resolved on first use, so a broken WIT package fails the scenarios, not the context."""
        return load_wit(self.wit_dir.resolve())

    def core(self, path: Path) -> tuple[CoreModule, wasmtime.Module]:
        key = path.resolve()
        if key not in self._cores:
            self._cores[key] = compile_core(self.engine, path, self.cache.module)
        return self._cores[key]

    def wrapped(
        self, backend: Backend, scenario: Scenario, cores: dict[str, CoreModule]
    ) -> tuple[str, SiteTable | None]:
        """The outer component text of ``scenario`` on ``backend``, and its op-log sites.

        The text depends on the components, their core modules and wiring, never on the
        steps, so scenarios of one shape (the fuzzer's programs) share it; the sites are
        only read once wrapping is done.
        """
        shape = tuple((s.name, cores[s.name].sha256, tuple(sorted(s.imports.items()))) for s in scenario.components)
        key = (backend.model, backend.routes_peer_handles, self.oplog, shape)
        if key not in self._wrapped:
            sites = SiteTable() if self.oplog else None
            text = wrap_scenario(self.wit, backend.model, scenario, cores, sites, backend.routes_peer_handles)
            self._wrapped[key] = (text, sites)
        return self._wrapped[key]

    def component(self, text: str, blame: Path) -> Component:
        try:
            return self.cache.component(text)
        except wasmtime.WasmtimeError as err:
            raise InputError(blame, f"guest does not fit the WIT package: {cause_of(str(err))}") from err

    def step_timeout_s(self, scenario: Scenario) -> float:
        """The scenario's own ``step-timeout-ms``, else the context's default."""
        if scenario.step_timeout_ms is not None:
            return scenario.step_timeout_ms / 1000
        return self.limits.step_timeout_s


def _blame(scenario: Scenario) -> Path:
    """The file to name when the wrapped component does not link."""
    if len(scenario.components) == 1:
        return scenario.components[0].wat
    return scenario.path / MANIFEST


def run_scenario(ctx: RunContext, backend: Backend, scenario: Scenario) -> Trace:
    """Runs every step of ``scenario`` on ``backend``; never raises for bad guests."""
    if isinstance(backend, ExternalBackend):
        # Imported here: the external run builds on this module's context and limits.
        from harness.execute.runners.external_run import run_external

        return run_external(ctx, backend, scenario)
    modules: dict[str, str] = {}
    timeout = ctx.step_timeout_s(scenario)
    try:
        compiled = {spec.name: ctx.core(spec.wat) for spec in scenario.components}
        cores = {name: core for name, (core, _) in compiled.items()}
        modules.update((name, core.sha256) for name, core in cores.items())
        text, sites = ctx.wrapped(backend, scenario, cores)
        component = ctx.component(text, _blame(scenario))
        run = _Instance(ctx, backend, scenario, compiled, component, sites is not None)
        host, store, instance = run.host, run.store, run.instance
    except InputError as err:
        return Trace(scenario.name, backend.name, modules, error=str(err))
    except wasmtime.WasmtimeError as err:
        message = f"{scenario.path / MANIFEST}: cannot instantiate: {cause_of(str(err))}"
        return Trace(scenario.name, backend.name, modules, error=message)

    steps = []
    trapped = False
    for index, step in enumerate(scenario.steps):
        events_before, emits_before = len(host.events), len(host.emits)
        ops: tuple[Op, ...] = ()
        complete = True
        if trapped:
            outcome = Outcome(Status.NOT_RUN)
        else:
            host.begin_step()
            with ctx.watchdog.armed(store, timeout):
                outcome = _call(store, instance, step.component, step.op, step.arg)
            if sites is not None and outcome.status is Status.VALUE:
                with ctx.watchdog.armed(store, timeout):
                    ops, lost = drain(store, instance, sites, index)
                complete = lost == 0
            elif sites is not None:
                ops, complete = _replayed_ops(run, sites, index, outcome)
            outcome = _limited(outcome, host.emits[emits_before:], timeout, ctx.limits)
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
                ops=ops,
                ops_complete=complete,
            )
        )
    run.close()
    return Trace(scenario.name, backend.name, modules, steps=tuple(steps), live=host.live())


class _Instance:
    """A scenario's outer component instantiated in a fresh store, with a fresh host."""

    def __init__(
        self,
        ctx: RunContext,
        backend: Backend,
        scenario: Scenario,
        compiled: dict[str, tuple[CoreModule, wasmtime.Module]],
        component: Component,
        oplog: bool,
    ) -> None:
        self.ctx, self.backend, self.scenario, self.compiled, self.component = (
            ctx,
            backend,
            scenario,
            compiled,
            component,
        )
        self.timeout = ctx.step_timeout_s(scenario)
        self.host = StreamHost(ctx.limits.emits_per_step, ctx.limits.emit_tag_bytes)
        self.sink: list[int] = []
        self.store = wasmtime.Store(ctx.engine)
        self.store.set_limits(memory_size=ctx.limits.memory_bytes, table_elements=ctx.limits.table_elements)
        linker = Linker(ctx.engine)
        with linker.root() as root:
            for name, (_, module) in compiled.items():
                root.add_module(core_import_name(name), module)
            if oplog:
                with root.add_instance(SINK_IMPORT) as sink:
                    sink.add_func("append", self._append)
        backend.define_host(linker, ctx.wit, scenario, self.host)
        try:
            with ctx.watchdog.armed(self.store, self.timeout):
                self.instance = linker.instantiate(self.store, component)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Frees the store now. Its host functions refer back to this object through wasmtime's
        registry, a cycle Python's collector cannot see: a store left to it is never freed, and each
        keeps gigabytes of address space reserved for its memories (thousands of runs exhaust it)."""
        self.store.close()

    def _append(self, _store: object, site: int, position: int, value: int) -> None:
        self.sink.extend((site, position, value))

    def fresh(self) -> _Instance:
        return _Instance(self.ctx, self.backend, self.scenario, self.compiled, self.component, True)


def _replayed_ops(run: _Instance, sites: SiteTable, upto: int, outcome: Outcome) -> tuple[tuple[Op, ...], bool]:
    """The ops of step ``upto``, which ended in ``outcome`` without a value, from a replay.

    The trap poisoned the instance and its log with it; the scenario is deterministic,
    so a fresh instance runs the earlier steps again and then step ``upto`` with every
    record handed to the host as it is made. The ops count as complete when the replay
    ends exactly as the run did. A step that ran out of time or into a host cap is not
    replayed (it would spend its deadline, or make the host hold what it refused, again).
    """
    if outcome.trap in (TrapKind.TIMEOUT, TrapKind.RESOURCE_LIMIT) or outcome.status is not Status.TRAP:
        return (), False
    replay: _Instance | None = None
    try:
        replay = run.fresh()
        for step in run.scenario.steps[:upto]:
            replay.host.begin_step()
            with run.ctx.watchdog.armed(replay.store, replay.timeout):
                _call(replay.store, replay.instance, step.component, step.op, step.arg)
        with run.ctx.watchdog.armed(replay.store, replay.timeout):
            drain(replay.store, replay.instance, sites, upto)
            verbose = replay.instance.get_func(replay.store, VERBOSE_EXPORT)
            assert verbose is not None
            verbose(replay.store)
        step = run.scenario.steps[upto]
        replay.host.begin_step()
        with run.ctx.watchdog.armed(replay.store, replay.timeout):
            again = _call(replay.store, replay.instance, step.component, step.op, step.arg)
    except wasmtime.WasmtimeError:
        return (), False
    finally:
        if replay is not None:
            replay.close()
    return sites.decode(replay.sink, upto), again == outcome


def _limited(outcome: Outcome, emits: Sequence[Emit], timeout: float, limits: Limits) -> Outcome:
    """Names the deadline a timed-out step ran into, and a guest's abort after a refused grow."""
    if outcome.trap is TrapKind.TIMEOUT:
        return replace(outcome, message=f"{outcome.message} (deadline {timeout * 1000:g} ms)")
    if outcome.trap is TrapKind.GUEST_TRAP and reported_out_of_memory(emits):
        cap = f"{limits.memory_bytes / (1 << 20):g} MiB"
        message = f"guest reported {OUT_OF_MEMORY_TAG} (memory cap {cap}), then: {outcome.message}"
        return replace(outcome, trap=TrapKind.RESOURCE_LIMIT, message=message)
    return outcome


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
