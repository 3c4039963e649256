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
        """A trace from its JSON form; ValueError says which field is missing or of the wrong type."""
        modules = _field(data, "modules", dict, "trace")
        for component, digest in modules.items():
            _is(digest, str, f"modules.{component}")
        steps = _field(data, "steps", list, "trace")
        return cls(
            scenario=_field(data, "scenario", str, "trace"),
            backend=_field(data, "backend", str, "trace"),
            modules=dict(modules),
            error=_field(data, "error", (str, None), "trace"),
            steps=tuple(_step_from(s, number) for number, s in enumerate(steps)),
            live=tuple(
                LiveResource(_field(r, "resource", str, "live"), _field(r, "rep", int, "live"))
                for r in _field(data, "live", list, "trace")
            ),
        )


#: A JSON value's kind as a message names it.
_JSON_KINDS: dict[type | None, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "an array",
    dict: "an object",
    None: "null",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_KINDS.items() if kind is type(value)), type(value).__name__)


def _is(value: Any, kind: type | tuple[type | None, ...], where: str) -> Any:
    """``value`` when it is of ``kind`` (None in a tuple: null allowed); ValueError otherwise.

    JSON's true and false are not integers here, nor integers booleans: either
    would be read as something the trace never said.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for allowed in kinds:
        if allowed is None and value is None:
            return value
        if allowed is not None and type(value) is allowed:
            return value
    expected = " or ".join(_JSON_KINDS.get(k, getattr(k, "__name__", "?")) for k in kinds)
    raise ValueError(f"{where} must be {expected}, not {_kind_of(value)}")


def _within(value: int, low: int, high: int, where: str) -> int:
    """``value`` when the WIT type of ``run(op: u32, arg: s64) -> s64`` can hold it; ValueError otherwise."""
    if not low <= value <= high:
        raise ValueError(f"{where} must be from {low} to {high}, not {value}")
    return value


def _field(data: Any, key: str, kind: type | tuple[type | None, ...], where: str) -> Any:
    """``data[key]``, checked to be of ``kind``; ValueError naming ``where`` and the key otherwise."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object, not {_kind_of(data)}")
    if key not in data:
        raise ValueError(f"{where}: missing field {key!r}")
    return _is(data[key], kind, f"{where}: {key!r}")


def _event_dict(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, "resource": event.resource, "rep": event.rep, "detail": event.detail}


def _event_from(data: Any, where: str) -> Event:
    return Event(
        _field(data, "kind", str, where),
        _field(data, "resource", str, where),
        _field(data, "rep", int, where),
        _field(data, "detail", str, where),
    )


def _emit_from(data: Any, where: str) -> Emit:
    if not isinstance(data, list) or len(data) != 3:
        raise ValueError(f"{where} must be [component, tag, value], not {_kind_of(data)}")
    component, tag, value = data
    return Emit(_is(component, str, f"{where}: component"), _is(tag, str, f"{where}: tag"), _is(value, int, where))


def _outcome_from(raw: Any, where: str) -> Outcome:
    """The outcome, refused unless its fields agree with its status (a value, a trap, or neither)."""
    status_text = _field(raw, "status", str, where)
    if status_text not in set(Status):
        raise ValueError(f"{where}: unknown status {status_text!r} (expected one of: {', '.join(Status)})")
    status = Status(status_text)
    value = _field(raw, "value", (int, None), where)
    trap_text = _field(raw, "trap", (str, None), where)
    if trap_text is not None and trap_text not in set(TrapKind):
        raise ValueError(f"{where}: unknown trap kind {trap_text!r}")
    # A trap may lack a kind (a component that exports no driver), but only a trap has one.
    if (value is not None) != (status is Status.VALUE) or (trap_text is not None and status is not Status.TRAP):
        raise ValueError(f"{where}: status {status_text!r} with value {value!r} and trap {trap_text!r}")
    if value is not None:
        _within(value, -(1 << 63), (1 << 63) - 1, f"{where}: 'value'")
    trap = TrapKind(trap_text) if trap_text is not None else None
    return Outcome(status=status, value=value, trap=trap, message=_field(raw, "message", str, where))


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


def _step_from(data: Any, position: int) -> StepTrace:
    where = f"step {position + 1}"
    index = _field(data, "index", int, where)
    if index != position:
        raise ValueError(f"{where}: 'index' is {index}, not {position}")
    return StepTrace(
        index=index,
        component=_field(data, "component", str, where),
        op=_within(_field(data, "op", int, where), 0, (1 << 32) - 1, f"{where}: 'op'"),
        arg=_within(_field(data, "arg", int, where), -(1 << 63), (1 << 63) - 1, f"{where}: 'arg'"),
        outcome=_outcome_from(_field(data, "outcome", dict, where), f"{where} outcome"),
        emits=tuple(_emit_from(e, f"{where} emit") for e in _field(data, "emits", list, where)),
        events=tuple(_event_from(e, f"{where} event") for e in _field(data, "events", list, where)),
        ops=ops_from_json(_field(data, "ops", list, where), index),
        ops_complete=_field(data, "ops_complete", bool, where),
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
        if not isinstance(data, dict):
            raise InputError(path, f"corrupt trace file: an object was expected, not {_kind_of(data)}")
        if data.get("format") != TRACE_FORMAT:
            raise InputError(path, f"trace format {data.get('format')!r}, expected {TRACE_FORMAT}")
        try:
            backend = _field(data, "backend", str, "trace file")
            head = (_field(data, "wasmtime", str, "trace file"), _field(data, "inputs", str, "trace file"))
            raw_traces = _field(data, "traces", dict, "trace file")
        except ValueError as err:
            raise InputError(path, f"corrupt trace file: {err}") from err
        traces = {}
        for name, raw in raw_traces.items():
            try:
                trace = Trace.from_dict(raw)
                if (trace.scenario, trace.backend) != (name, backend):
                    raise ValueError(f"trace of {trace.scenario!r} on {trace.backend!r} filed under {name!r}")
            except ValueError as err:
                line = _line_of_trace(text, name)
                raise InputError(path, f"corrupt trace file: scenario {name}: {err}", line) from err
            traces[name] = trace
        return cls(backend=backend, wasmtime=head[0], traces=traces, inputs=head[1])

    @classmethod
    def read(cls, path: Path) -> TraceSet:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(path, f"cannot read trace file: {err}") from err
        return cls.from_json(text, path)


def _line_of_trace(text: str, name: str) -> int | None:
    """The line holding scenario ``name``'s trace (``to_json`` writes one per line), when there is one."""
    start = json.dumps(name) + ":"
    return next((number for number, line in enumerate(text.splitlines(), 1) if line.startswith(start)), None)


def merge(backend: str, wasmtime_version: str, traces: Iterable[Trace], inputs: str = "") -> TraceSet:
    return TraceSet(backend=backend, wasmtime=wasmtime_version, traces={t.scenario: t for t in traces}, inputs=inputs)
