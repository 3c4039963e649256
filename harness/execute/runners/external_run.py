"""Runs a scenario on an external backend: wrap in Python, run in the runner, trace in Python.

The component is the ``real`` model's wrapper with every guest's core module inside it
(``wrap.inline``); the runner answers with each step's outcome, emits, host events and
the op log's drained text, which is decoded here with the same site table as in-process
runs. What the runtime makes of a component (jco: JavaScript) is kept in the compile
cache, signed like every other entry (``cache``), and restored into a private folder
before the runner sees it: code from the cache is run only when this user wrote it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import wasmtime

from harness.execute.backends.external import ExternalBackend
from harness.execute.backends.host import HOST_RESOURCES
from harness.execute.cache import decode_entry, encode_entry
from harness.execute.cache_trust import TrustedDirectory, open_cache_dir, write_private
from harness.execute.run import RunContext, _limited
from harness.execute.runners.protocol import (
    RunnerError,
    RunnerTrace,
    StepRequest,
    parse_trace,
    scenario_request,
)
from harness.execute.runners.session import RunnerSession, runner_folder
from harness.execute.wrap import wrap_scenario
from harness.execute.wrap.inline import with_core_modules
from harness.execute.wrap.oplog import SiteTable, decode_hex
from harness.model.errors import InputError
from harness.model.oplog import Op
from harness.model.scenario import MANIFEST, Scenario
from harness.model.trace import Outcome, Status, StepTrace, Trace
from harness.model.vocabulary import TrapKind

#: What a runner may spend besides the steps' deadlines: starting a worker, loading and
#: instantiating the component, making it (jco: transpiling, about 0.1-0.5 s).
LOAD_SECONDS = 20.0
_ARTIFACT_SUFFIX = "runner"


class ExternalRunner:
    """One external backend's runner in one run context: its process, its private folder, its cache."""

    def __init__(self, backend: ExternalBackend, ctx: RunContext) -> None:
        self.backend, self.ctx = backend, ctx
        self.folder = runner_folder()
        self.session: RunnerSession | None = None
        self.requests = 0
        self.cache: TrustedDirectory | None = None
        if ctx.cache.directory is not None:
            opened = open_cache_dir(ctx.cache.directory)
            self.cache = opened if isinstance(opened, TrustedDirectory) else None
        self._start()
        self._runner_digest = hashlib.sha256()
        for path in backend.runner_files():
            self._runner_digest.update(path.read_bytes())

    def _start(self) -> RunnerSession:
        """The live session, started (or restarted after a crash); InputError when the runner cannot start."""
        if self.session is None or not self.session.alive:
            if self.session is not None:
                self.session.close()
            try:
                self.session = RunnerSession(self.backend.runner_command(self.ctx.limits), self.backend.runtime)
            except RunnerError as error:
                self.session = None
                raise InputError(self.backend.runner_command(self.ctx.limits)[-1], str(error)) from error
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def _key(self, component: bytes) -> bytes:
        assert self.session is not None
        seed = f"handle-compat-runner\0{self.backend.name}\0{self.session.version}\0".encode()
        return hashlib.sha256(seed + self._runner_digest.digest() + hashlib.sha256(component).digest()).digest()

    def _entry(self, key: bytes) -> Path | None:
        return None if self.cache is None else self.cache.path / f"{key.hex()}.{_ARTIFACT_SUFFIX}"

    def _restore(self, key: bytes, folder: Path) -> bool:
        """Writes the runtime's artifacts for ``key`` into ``folder`` from a verified cache entry."""
        entry = self._entry(key)
        if entry is None or self.cache is None:
            return False
        try:
            payload = decode_entry(self.cache.secret, key, entry.read_bytes())
            if payload is None:
                return False
            files = json.loads(payload)
            folder.mkdir(mode=0o700)
            for name, content in files.items():
                if "/" in name or name.startswith("."):
                    return False
                write_private(folder / name, base64.b64decode(content))
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)
            return False
        return True

    def _store(self, key: bytes, folder: Path) -> None:
        entry = self._entry(key)
        if entry is None or self.cache is None:
            return
        try:
            files = {p.name: base64.b64encode(p.read_bytes()).decode("ascii") for p in sorted(folder.iterdir())}
            payload = json.dumps(files, sort_keys=True).encode()
            write_private(entry, encode_entry(self.cache.secret, key, payload))
        except OSError:
            return

    def run(self, scenario: Scenario, component: bytes, timeout_s: float) -> RunnerTrace:
        """The runner's account of ``scenario``; RunnerError (one line) when the runner failed at it."""
        session = self._start()
        self.requests += 1
        folder = self.folder / str(self.requests)
        key = self._key(component)
        restored = self._restore(key, folder)
        guest_resources = [name for _, name in self.ctx.wit.resources() if name not in HOST_RESOURCES]
        limits = self.ctx.limits
        request = scenario_request(
            self.requests,
            str(folder),
            None if restored else component,
            [StepRequest(s.component, s.op, s.arg) for s in scenario.steps],
            max(1, round(timeout_s * 1000)),
            {
                "load_ms": round(LOAD_SECONDS * 1000),
                "emits_per_step": limits.emits_per_step,
                "emit_tag_bytes": limits.emit_tag_bytes,
            },
            guest_resources,
            self.ctx.oplog,
        )
        # A trapped step is replayed from the start, so the worst case is twice every deadline.
        backstop = 2 * LOAD_SECONDS + 2 * (len(scenario.steps) + 1) * timeout_s
        try:
            answer = parse_trace(session.ask(request, backstop), self.requests, len(scenario.steps))
        except RunnerError:
            session.close()
            self.session = None
            raise
        if answer.transpiled:
            self._store(key, folder)
        return answer


def run_external(ctx: RunContext, backend: ExternalBackend, scenario: Scenario) -> Trace:
    """Runs every step of ``scenario`` through ``backend``'s runner; never raises for bad guests.

    Raises InputError only when the runner cannot run at all (its runtime or packages are
    missing, or it does not speak the protocol): one line, for every scenario alike.
    """
    runner = ctx.runners.get(backend.name)
    if not isinstance(runner, ExternalRunner):
        problem = backend.unavailable()
        if problem is not None:
            raise problem
        runner = ExternalRunner(backend, ctx)
        ctx.runners[backend.name] = runner
    modules: dict[str, str] = {}
    timeout = ctx.step_timeout_s(scenario)
    try:
        cores = {spec.name: ctx.core(spec.wat)[0] for spec in scenario.components}
        modules.update((name, core.sha256) for name, core in cores.items())
        sites = SiteTable() if ctx.oplog else None
        text = wrap_scenario(ctx.wit, backend.model, scenario, cores, sites, inline_cores=True)
        component = with_core_modules(text, [cores[spec.name].wasm for spec in scenario.components])
    except InputError as error:
        return Trace(scenario.name, backend.name, modules, error=str(error))
    except (ValueError, wasmtime.WasmtimeError) as error:
        message = f"{scenario.path / MANIFEST}: cannot wrap for {backend.runtime}: {str(error).splitlines()[0]}"
        return Trace(scenario.name, backend.name, modules, error=message)
    try:
        answer = runner.run(scenario, component, timeout)
    except RunnerError as error:
        return Trace(scenario.name, backend.name, modules, error=f"{scenario.path / MANIFEST}: {error}")
    if answer.error is not None:
        return Trace(scenario.name, backend.name, modules, error=f"{scenario.path / MANIFEST}: {answer.error}")
    steps = []
    for index, (step, seen) in enumerate(zip(scenario.steps, answer.steps, strict=True)):
        outcome = _limited(seen.outcome, seen.emits, timeout, ctx.limits)
        ops, complete = _ops(sites, seen.oplog, seen.ops_complete, index, seen.outcome)
        steps.append(
            StepTrace(
                index=index,
                component=step.component,
                op=step.op,
                arg=step.arg,
                outcome=outcome,
                emits=seen.emits,
                events=seen.events,
                ops=ops,
                ops_complete=complete,
            )
        )
    return Trace(scenario.name, backend.name, modules, steps=tuple(steps), live=answer.live)


def _ops(
    sites: SiteTable | None, text: str | None, complete: bool, step: int, outcome: Outcome
) -> tuple[tuple[Op, ...], bool]:
    """The step's ops decoded from the runner's drained text, and whether they are all there.

    As in-process: a step that ran out of time or into a host cap has no ops (not replayed).
    """
    if sites is None or outcome.status is Status.NOT_RUN:
        return (), True
    if outcome.trap in (TrapKind.TIMEOUT, TrapKind.RESOURCE_LIMIT) or text is None:
        return (), False
    try:
        lost, words = decode_hex(text)
    except ValueError:
        return (), False
    return sites.decode(words, step), complete and lost == 0
