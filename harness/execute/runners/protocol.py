"""The runner protocol, version 1: what the harness sends a runner and what it must answer.

One runner process serves a whole run. The harness writes one JSON object per line on
its stdin, and the runner answers each with one JSON object per line on its stdout, in
order; EOF on stdin ends it. Integers a WIT ``s64`` can hold (step arguments and
values, emit values) travel as decimal strings, which JSON readers that use doubles keep
exact. README "External runners" documents every field; this module is its reference.

* ``{"type": "hello"}`` -> ``{"type": "hello", "protocol": 1, "runtime": NAME, "version": V}``
* ``{"type": "scenario", ...}`` (``scenario_request``) -> ``{"type": "trace", ...}`` (``parse_trace``)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.model.trace import Emit, Event, LiveResource, Outcome, Status
from harness.model.vocabulary import TrapKind

PROTOCOL_VERSION = 1
_S64 = (-(1 << 63), (1 << 63) - 1)


class RunnerError(Exception):
    """A runner that answered outside the protocol, or stopped answering; one line."""


@dataclass(frozen=True)
class RunnerStep:
    """One step as the runner saw it; ``oplog`` is the drained log's text (``oplog-drain``'s format)."""

    outcome: Outcome
    emits: tuple[Emit, ...]
    events: tuple[Event, ...]
    oplog: str | None
    ops_complete: bool


@dataclass(frozen=True)
class RunnerTrace:
    steps: tuple[RunnerStep, ...]
    live: tuple[LiveResource, ...]
    error: str | None
    #: The runner made new runtime artifacts in the scenario's folder (worth caching).
    transpiled: bool


def hello_request() -> dict[str, Any]:
    return {"type": "hello", "protocol": PROTOCOL_VERSION}


def check_hello(answer: Any, runtime: str) -> str:
    """The runtime version a runner announced; RunnerError unless it speaks this protocol for ``runtime``."""
    fields = _object(answer, "hello")
    if fields.get("type") != "hello" or fields.get("protocol") != PROTOCOL_VERSION:
        raise RunnerError(f"runner does not speak protocol {PROTOCOL_VERSION}: answered {_short(answer)}")
    if fields.get("runtime") != runtime:
        raise RunnerError(f"runner is for {fields.get('runtime')!r}, not {runtime!r}")
    return str(_typed(fields, "version", str, "hello"))


@dataclass(frozen=True)
class StepRequest:
    component: str
    op: int
    arg: int


def scenario_request(
    request_id: int,
    folder: str,
    component: bytes | None,
    steps: Sequence[StepRequest],
    timeout_ms: int,
    limits: Mapping[str, int],
    guest_resources: Sequence[str],
    oplog: bool,
) -> dict[str, Any]:
    """A scenario to run. ``component`` (base64) is left out when ``folder`` already holds the runtime's
    artifacts for it; ``limits`` has ``load_ms``, ``emits_per_step`` and ``emit_tag_bytes``."""
    request: dict[str, Any] = {
        "type": "scenario",
        "id": request_id,
        "dir": folder,
        "steps": [{"component": s.component, "op": s.op, "arg": str(s.arg)} for s in steps],
        "timeout_ms": timeout_ms,
        "load_ms": limits["load_ms"],
        "emits_per_step": limits["emits_per_step"],
        "emit_tag_bytes": limits["emit_tag_bytes"],
        "guest_resources": list(guest_resources),
        "oplog": oplog,
    }
    if component is not None:
        request["component"] = base64.b64encode(component).decode("ascii")
    return request


def parse_trace(answer: Any, request_id: int, step_count: int) -> RunnerTrace:
    """The runner's answer to scenario request ``request_id``; RunnerError naming the first field that is wrong."""
    fields = _object(answer, "answer")
    if fields.get("type") == "error":
        raise RunnerError(f"runner refused the request: {_short(fields.get('message'))}")
    if fields.get("type") != "trace" or fields.get("id") != request_id:
        raise RunnerError(f"expected the trace of request {request_id}, got {_short(answer)}")
    error = _typed(fields, "error", (str, type(None)), "trace")
    raw_steps = _typed(fields, "steps", list, "trace")
    if error is None and len(raw_steps) != step_count:
        raise RunnerError(f"trace has {len(raw_steps)} steps, the scenario {step_count}")
    steps = tuple(_step(raw, f"step {number + 1}") for number, raw in enumerate(raw_steps))
    live = tuple(_live(entry) for entry in _typed(fields, "live", list, "trace"))
    return RunnerTrace(steps, live, error, bool(fields.get("transpiled", False)))


def _step(raw: Any, where: str) -> RunnerStep:
    fields = _object(raw, where)
    emits = tuple(_emit(e, where) for e in _typed(fields, "emits", list, where))
    events = tuple(_event(e, where) for e in _typed(fields, "events", list, where))
    return RunnerStep(
        _outcome(_typed(fields, "outcome", dict, where), where),
        emits,
        events,
        _typed(fields, "oplog", (str, type(None)), where),
        _typed(fields, "ops_complete", bool, where),
    )


def _outcome(fields: dict[str, Any], where: str) -> Outcome:
    status = fields.get("status")
    if status == Status.VALUE:
        return Outcome(Status.VALUE, value=_s64(fields.get("value"), f"{where} value"))
    if status == Status.NOT_RUN:
        return Outcome(Status.NOT_RUN)
    if status != Status.TRAP:
        raise RunnerError(f"{where}: unknown status {_short(status)}")
    trap = fields.get("trap")
    if trap is not None and trap not in set(TrapKind):
        raise RunnerError(f"{where}: unknown trap kind {_short(trap)}")
    message = _typed(fields, "message", str, where)
    return Outcome(Status.TRAP, trap=None if trap is None else TrapKind(trap), message=" ".join(message.split()))


def _emit(raw: Any, where: str) -> Emit:
    if not isinstance(raw, list) or len(raw) != 3 or not all(isinstance(x, str) for x in raw):
        raise RunnerError(f"{where}: an emit must be [component, tag, value as a string], not {_short(raw)}")
    return Emit(raw[0], raw[1], _s64(raw[2], f"{where} emit"))


def _event(raw: Any, where: str) -> Event:
    shape = [str, str, int, str]
    if not isinstance(raw, list) or len(raw) != 4 or not all(type(x) is t for x, t in zip(raw, shape, strict=True)):
        raise RunnerError(f"{where}: an event must be [kind, resource, rep, detail], not {_short(raw)}")
    return Event(raw[0], raw[1], raw[2], raw[3])


def _live(raw: Any) -> LiveResource:
    if not isinstance(raw, list) or len(raw) != 2 or type(raw[0]) is not str or type(raw[1]) is not int:
        raise RunnerError(f"live: an entry must be [resource, rep], not {_short(raw)}")
    return LiveResource(raw[0], raw[1])


def _s64(raw: Any, where: str) -> int:
    if not isinstance(raw, str) or not raw.lstrip("-").isdigit():
        raise RunnerError(f"{where} must be a decimal string, not {_short(raw)}")
    value = int(raw)
    if not _S64[0] <= value <= _S64[1]:
        raise RunnerError(f"{where} {value} is beyond s64")
    return value


def _object(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RunnerError(f"{where} must be a JSON object, not {_short(raw)}")
    return raw


def _typed(fields: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in fields:
        raise RunnerError(f"{where}: missing field {key!r}")
    value = fields[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if type(value) not in kinds:
        raise RunnerError(f"{where}: field {key!r} has the wrong type: {_short(value)}")
    return value


def _short(value: Any) -> str:
    """At most 80 characters of ``value``, on one line, for a message."""
    text = json.dumps(value)[:80] if not isinstance(value, str) else value[:80]
    return " ".join(text.split())
