"""Traces: what one scenario did on one backend, as deterministic JSON.

A trace holds facts only (frozen dataclasses): per step the value or the trap,
what the guest emitted through ``probe``, the host's event log, the op log the
wrapper recorded at every component's boundary (``harness.model.oplog``), and the
host resources still live at teardown. Serialized with sorted keys and no
timestamps, so two runs of the same scenario are byte-identical.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model.errors import InputError
from harness.model.oplog import Op, ops_from_json, ops_to_json
from harness.model.vocabulary import TrapKind

TRACE_FORMAT = 2


class Status(enum.StrEnum):
    VALUE = "value"
    TRAP = "trap"
    #: An earlier step trapped; the component instance cannot be entered again.
    NOT_RUN = "not-run"


@dataclass(frozen=True)
class Outcome:
    status: Status
    value: int | None = None
    trap: TrapKind | None = None
    #: The trap's cause as the engine or host said it (no backtrace).
    message: str = ""

    def short(self) -> str:
        if self.status is Status.VALUE:
            return f"value {self.value}"
        if self.status is Status.TRAP:
            return f"trap {self.trap.value if self.trap else '?'}"
        return "not run"


@dataclass(frozen=True)
class Event:
    """Something the host saw: ``create``, ``call``, ``destroy`` of a resource."""

    kind: str
    resource: str
    rep: int
    detail: str = ""


@dataclass(frozen=True)
class Emit:
    """A ``probe.emit`` call: which component reported what."""

    component: str
    tag: str
    value: int


@dataclass(frozen=True)
class StepTrace:
    index: int
    component: str
    op: int
    arg: int
    outcome: Outcome
    emits: tuple[Emit, ...] = ()
    events: tuple[Event, ...] = ()
    #: What crossed every component's boundary in this step, in order.
    ops: tuple[Op, ...] = ()
    #: False when ``ops`` may miss some: the log's memory hit the cap, or the step ran
    #: out of time (its log is lost with the instance), or its replay ended otherwise.
    ops_complete: bool = True


@dataclass(frozen=True)
class LiveResource:
    resource: str
    rep: int


@dataclass(frozen=True)
class Trace:
    scenario: str
    backend: str
    #: Component name -> sha256 of its core module bytes.
    modules: Mapping[str, str]
    steps: tuple[StepTrace, ...] = ()
    live: tuple[LiveResource, ...] = ()
    #: Set when the scenario could not run at all (bad input, link error).
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "backend": self.backend,
            "modules": dict(sorted(self.modules.items())),
            "error": self.error,
            "steps": [_step_dict(s) for s in self.steps],
            "live": [{"resource": r.resource, "rep": r.rep} for r in self.live],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        return cls(
            scenario=data["scenario"],
            backend=data["backend"],
            modules=dict(data["modules"]),
            error=data["error"],
            steps=tuple(_step_from(s) for s in data["steps"]),
            live=tuple(LiveResource(r["resource"], r["rep"]) for r in data["live"]),
        )


def _event_dict(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, "resource": event.resource, "rep": event.rep, "detail": event.detail}


def _event_from(data: Mapping[str, Any]) -> Event:
    return Event(data["kind"], data["resource"], data["rep"], data["detail"])


def _step_dict(step: StepTrace) -> dict[str, Any]:
    outcome = step.outcome
    return {
        "index": step.index,
        "component": step.component,
        "op": step.op,
        "arg": step.arg,
        "outcome": {
            "status": outcome.status.value,
            "value": outcome.value,
            "trap": outcome.trap.value if outcome.trap else None,
            "message": outcome.message,
        },
        "emits": [[e.component, e.tag, e.value] for e in step.emits],
        "events": [_event_dict(e) for e in step.events],
        "ops": ops_to_json(step.ops),
        "ops_complete": step.ops_complete,
    }


def _step_from(data: Mapping[str, Any]) -> StepTrace:
    raw = data["outcome"]
    outcome = Outcome(
        status=Status(raw["status"]),
        value=raw["value"],
        trap=TrapKind(raw["trap"]) if raw["trap"] else None,
        message=raw["message"],
    )
    return StepTrace(
        index=data["index"],
        component=data["component"],
        op=data["op"],
        arg=data["arg"],
        outcome=outcome,
        emits=tuple(Emit(component, tag, value) for component, tag, value in data["emits"]),
        events=tuple(_event_from(e) for e in data["events"]),
        ops=ops_from_json(data["ops"], data["index"]),
        ops_complete=bool(data["ops_complete"]),
    )


@dataclass(frozen=True)
class TraceSet:
    """Every scenario's trace on one backend: the content of one trace file."""

    backend: str
    wasmtime: str
    traces: Mapping[str, Trace]
    #: Fingerprint of the inputs (harness.inputs), to tell when the traces are stale.
    inputs: str = ""

    def to_json(self) -> str:
        """Sorted keys, one scenario's trace per line.

        Compact lines keep to the C JSON encoder (pretty-printing forces the slow
        pure-Python one, a large share of a run); a line per trace keeps a corrupt
        file's error line pointing at one scenario.
        """
        head = {"backend": self.backend, "format": TRACE_FORMAT, "inputs": self.inputs}
        lines = ["{"] + [f"{json.dumps(key)}:{json.dumps(value)}," for key, value in head.items()]
        lines.append('"traces":{')
        names = sorted(self.traces)
        for number, name in enumerate(names):
            body = json.dumps(self.traces[name].to_dict(), sort_keys=True, separators=(",", ":"))
            lines.append(f"{json.dumps(name)}:{body}" + ("," if number < len(names) - 1 else ""))
        lines.append("},")
        lines.append(f'"wasmtime":{json.dumps(self.wasmtime)}')
        lines.append("}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_json(cls, text: str, path: Path) -> TraceSet:
        """Parses a trace file; anything malformed is an InputError naming the file."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(path, f"corrupt trace file: {err.msg}", err.lineno) from err
        except RecursionError as err:
            raise InputError(path, "corrupt trace file: nested too deeply to read") from err
        try:
            if data.get("format") != TRACE_FORMAT:
                raise InputError(path, f"trace format {data.get('format')!r}, expected {TRACE_FORMAT}")
            traces = {name: Trace.from_dict(raw) for name, raw in data["traces"].items()}
            return cls(backend=data["backend"], wasmtime=data["wasmtime"], traces=traces, inputs=data["inputs"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InputError(path, f"corrupt trace file: missing or malformed field ({err})") from err

    @classmethod
    def read(cls, path: Path) -> TraceSet:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(path, f"cannot read trace file: {err}") from err
        return cls.from_json(text, path)


def merge(backend: str, wasmtime_version: str, traces: Iterable[Trace], inputs: str = "") -> TraceSet:
    return TraceSet(backend=backend, wasmtime=wasmtime_version, traces={t.scenario: t for t in traces}, inputs=inputs)
