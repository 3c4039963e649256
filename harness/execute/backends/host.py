"""The host side of the WIT package, written once over resource *reps*.

Backends differ only in how a guest's handle becomes a rep (a global pseudo table,
or wasmtime's per-component tables); the streams, their parent/child rule and the
event log are the same code for every backend, so any difference in a trace comes
from the handle model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NoReturn

from harness.execute.host_trap import HostTrap
from harness.execute.limits import DEFAULT_EMIT_TAG_BYTES, DEFAULT_EMITS_PER_STEP
from harness.model.trace import Emit, Event, LiveResource
from harness.model.vocabulary import TrapKind


def _digest(result: Any) -> str:
    """What a host function gave back, in a few characters: bytes by length and sha256 prefix."""
    if isinstance(result, bytes):
        return f"{len(result)} bytes {hashlib.sha256(result).hexdigest()[:8]}"
    if result is None:
        return "ok"
    if isinstance(result, bool):
        return str(result).lower()
    return str(result)


#: Host-defined resources, by WIT name.
HOST_RESOURCES = ("pollable", "input-stream", "output-stream")
#: The emit the host adds in place of a refused one: its value is how many emits
#: the step made that the trace does not keep (1: the guest stops at the refusal).
EMITS_TRUNCATED_TAG = "emits-truncated"


@dataclass
class _Stream:
    resource: str
    data: bytearray = field(default_factory=bytearray)
    closed: bool = False
    parent: int | None = None


class StreamHost:
    """Streams, pollables and the probe, keyed by rep, with an event log.

    The probe is capped: ``emits_per_step`` emits per step (``begin_step`` starts one)
    and ``emit_tag_bytes`` UTF-8 bytes per tag. The emit past a cap is refused with
    ``resource-limit``, which ends the step, and the trace keeps what came before it
    and an ``emits-truncated`` mark: the same guest is cut at the same emit every run.
    """

    def __init__(
        self, emits_per_step: int = DEFAULT_EMITS_PER_STEP, emit_tag_bytes: int = DEFAULT_EMIT_TAG_BYTES
    ) -> None:
        self._next_rep = 1
        self._live: dict[int, _Stream] = {}
        self.events: list[Event] = []
        self.emits: list[Emit] = []
        #: The call event whose answer ``answered`` will add.
        self._unanswered: int | None = None
        self._emits_per_step = emits_per_step
        self._emit_tag_bytes = emit_tag_bytes
        self._step_start = 0

    def begin_step(self) -> None:
        """Starts counting a new step's emits against ``emits_per_step``."""
        self._step_start = len(self.emits)

    # --- bookkeeping -----------------------------------------------------

    def _create(self, resource: str, stream: _Stream) -> int:
        rep = self._next_rep
        self._next_rep += 1
        stream.resource = resource
        self._live[rep] = stream
        self.events.append(Event("create", resource, rep))
        return rep

    def _get(self, rep: int, resource: str, method: str) -> _Stream:
        stream = self._live.get(rep)
        if stream is None or stream.resource != resource:
            # Unreachable through a correct handle table; a broken one is a host bug.
            raise HostTrap(TrapKind.HOST_ERROR, f"host has no live {resource} with rep {rep}")
        self._unanswered = len(self.events)
        self.events.append(Event("call", resource, rep, method))
        return stream

    def answered(self, result: Any) -> None:
        """Adds to the call being served a short digest of what the guest gets back (``read -> 3 bytes 1a2b3c4d``).

        The backends call it with the value that leaves for the guest, so the same request
        answered differently in two runs shows as different events: a host fault, never
        the guest computing with an index.
        """
        at, self._unanswered = self._unanswered, None
        if at is not None and at < len(self.events):
            event = self.events[at]
            self.events[at] = Event(event.kind, event.resource, event.rep, f"{event.detail} -> {_digest(result)}")

    def destroy(self, resource: str, rep: int) -> None:
        """Runs the destructor; refuses while children live (``HasChildren``)."""
        children = [r for r, s in self._live.items() if s.parent == rep]
        if children:
            raise HostTrap(
                TrapKind.HAS_CHILDREN, f"HasChildren: {resource} rep {rep} still has {len(children)} live child(ren)"
            )
        if self._live.pop(rep, None) is None:
            raise HostTrap(TrapKind.HOST_ERROR, f"destructor ran twice for {resource} rep {rep}")
        self.events.append(Event("destroy", resource, rep))

    def guest_destroyed(self, resource: str) -> Callable[[int], None]:
        """Records that a guest-defined resource's destructor is about to run.

        The host cannot see guests' tables; the generated wrapper routes every guest
        destructor through this call, on every backend, so the event log shows it in
        the same shape as a host resource's destruction.
        """

        def destroyed(rep: int) -> None:
            self.events.append(Event("destroy", resource, rep))

        return destroyed

    def parent_of(self, rep: int) -> int | None:
        """The rep of the resource a live child (a pollable) was subscribed from."""
        stream = self._live.get(rep)
        return None if stream is None else stream.parent

    def live(self) -> tuple[LiveResource, ...]:
        return tuple(LiveResource(s.resource, rep) for rep, s in sorted(self._live.items()))

    # --- handle-compat:io/host -----------------------------------------------

    def open_input(self, contents: bytes) -> int:
        return self._create("input-stream", _Stream("input-stream", bytearray(contents)))

    def open_output(self) -> int:
        return self._create("output-stream", _Stream("output-stream"))

    # --- handle-compat:io/streams ----------------------------------------------

    def read(self, rep: int, length: int) -> bytes | str:
        return self._take(rep, length, "read")

    def _take(self, rep: int, length: int, method: str) -> bytes | str:
        stream = self._get(rep, "input-stream", method)
        if stream.closed:
            return "closed"
        if not stream.data:
            return "ended"
        taken = bytes(stream.data[:length])
        del stream.data[:length]
        return taken

    def skip(self, rep: int, length: int) -> int | str:
        taken = self._take(rep, length, "skip")
        return taken if isinstance(taken, str) else len(taken)

    def write(self, rep: int, contents: bytes) -> int | str:
        stream = self._get(rep, "output-stream", "write")
        if stream.closed:
            return "closed"
        stream.data.extend(contents)
        return len(contents)

    def flush(self, rep: int) -> str | None:
        stream = self._get(rep, "output-stream", "flush")
        return "closed" if stream.closed else None

    def close(self, resource: str) -> Callable[[int], None]:
        def close(rep: int) -> None:
            self._get(rep, resource, "close").closed = True

        return close

    def subscribe(self, resource: str) -> Callable[[int], int]:
        def subscribe(rep: int) -> int:
            self._get(rep, resource, "subscribe")
            return self._create("pollable", _Stream("pollable", parent=rep))

        return subscribe

    def ready(self, rep: int) -> bool:
        self._get(rep, "pollable", "ready")
        return True

    # --- handle-compat:io/probe --------------------------------------------------

    def emitter(self, component: str) -> Callable[[str, int], None]:
        def emit(tag: str, value: int) -> None:
            if len(self.emits) - self._step_start >= self._emits_per_step:
                self._refuse(component, f"more than {self._emits_per_step} emits in one step")
            # A character is at least one UTF-8 byte: a long tag is refused without encoding it.
            if len(tag) > self._emit_tag_bytes or len(tag.encode()) > self._emit_tag_bytes:
                self._refuse(component, f"an emit tag of more than {self._emit_tag_bytes} bytes")
            self.emits.append(Emit(component, tag, value))

        return emit

    def _refuse(self, component: str, what: str) -> NoReturn:
        self.emits.append(Emit(component, EMITS_TRUNCATED_TAG, 1))
        raise HostTrap(TrapKind.RESOURCE_LIMIT, f"emit cap: component {component} made {what}; the step ends here")

    def implementation(self, interface: str, function: str, caller: str) -> Callable[..., Any]:
        """The rep-level implementation of a WIT function of a host interface.

        ``caller`` names the calling component where the backend knows it (every
        interface without resource types is instantiated once per component); only
        the probe uses it.
        """
        if (interface, function) == ("probe", "emit"):
            return self.emitter(caller)
        return self._implementations[(interface, function)]

    @cached_property
    def _implementations(self) -> dict[tuple[str, str], Callable[..., Any]]:
        """The streams and host functions, built once per host rather than once per lookup."""
        return {
            ("host", "open-input"): self.open_input,
            ("host", "open-output"): self.open_output,
            ("streams", "[method]input-stream.read"): self.read,
            ("streams", "[method]input-stream.skip"): self.skip,
            ("streams", "[method]input-stream.subscribe"): self.subscribe("input-stream"),
            ("streams", "[method]input-stream.close"): self.close("input-stream"),
            ("streams", "[method]output-stream.write"): self.write,
            ("streams", "[method]output-stream.flush"): self.flush,
            ("streams", "[method]output-stream.subscribe"): self.subscribe("output-stream"),
            ("streams", "[method]output-stream.close"): self.close("output-stream"),
            ("streams", "[method]pollable.ready"): self.ready,
        }


#: Interfaces the host serves (short names); the rest come from guests.
HOST_INTERFACES = ("streams", "host", "probe")
