"""Deadlines and memory caps for guest calls, so a runaway guest ends one step, not the run.

The deadline uses wasmtime's epoch interruption: compiled code checks the
engine's epoch at function entries and loop back-edges and traps with
``interrupt`` once it passes the store's deadline. One watchdog thread per
engine bumps the epoch when the running call's deadline expires; it sleeps while
no call is armed. Epochs cost far less than fuel (no counting in every block) but
measure wall time, so a step that legitimately runs close to its deadline may end
either way: keep real work far below it.

The memory cap is wasmtime's store limiter: past ``memory_bytes`` a linear
memory cannot grow, and ``memory.grow`` returns -1 to the guest (the C API has no
``trap_on_grow_failure``; a guest reports the failure, see ``harness.traps``).
The same limiter caps each table at ``table_elements``: ``table.grow`` past it
returns -1, and a module declaring a larger table does not instantiate.

What a guest hands the host is capped too: ``emits_per_step`` probe emits per
step and ``emit_tag_bytes`` per tag (``harness.execute.backends.host``); past
either, the step ends with ``resource-limit``. Without these a guest with a few
MiB of memory can make the harness hold gigabytes of tags and write them to the
trace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import wasmtime

from harness.model.scenario import MAX_STEP_TIMEOUT_MS

DEFAULT_STEP_TIMEOUT_S = 1.0
#: The longest deadline, from a manifest or an option: a step that needs more is not a test of handles.
MAX_STEP_TIMEOUT_S = MAX_STEP_TIMEOUT_MS / 1000
DEFAULT_MEMORY_BYTES = 64 << 20
#: A wasm32 linear memory cannot be larger than 4 GiB.
MAX_MEMORY_BYTES = 4 << 30
#: The built-in scenarios emit at most a few dozen times per step; a thousand tags of
#: the largest size are 4 MiB, far below what a trace reader should have to load.
DEFAULT_EMITS_PER_STEP = 1000
#: A tag is a short label (``dropped``, ``handle``, ``out-of-memory``); 4 KiB leaves
#: room for any readable one and keeps the emit cap's worst case at 4 MiB per step.
DEFAULT_EMIT_TAG_BYTES = 4096
#: Guests' and wrappers' tables hold tens of functions; 65,536 elements are under
#: 1 MiB of host memory, where an uncapped ``table.grow`` reaches hundreds of MiB.
DEFAULT_TABLE_ELEMENTS = 1 << 16


@dataclass(frozen=True)
class Limits:
    """What every guest call may use: seconds of execution, bytes per linear memory, elements per
    table, and what it may hand the host: emits per step, bytes per emit tag."""

    step_timeout_s: float = DEFAULT_STEP_TIMEOUT_S
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    table_elements: int = DEFAULT_TABLE_ELEMENTS
    emits_per_step: int = DEFAULT_EMITS_PER_STEP
    emit_tag_bytes: int = DEFAULT_EMIT_TAG_BYTES

    @classmethod
    def from_options(cls, step_timeout_s: float, memory_mib: int) -> Limits:
        """The limits the ``--step-timeout`` and ``--memory-limit`` (MiB) options ask for."""
        return cls(step_timeout_s=step_timeout_s, memory_bytes=memory_mib << 20)

    def __post_init__(self) -> None:
        # ``not 0 < x <= max`` also refuses NaN, which compares false with everything.
        if not 0 < self.step_timeout_s <= MAX_STEP_TIMEOUT_S:
            limit = f"{MAX_STEP_TIMEOUT_S:g} s"
            raise ValueError(f"step timeout must be positive and at most {limit}, not {self.step_timeout_s}")
        if not 0 < self.memory_bytes <= MAX_MEMORY_BYTES:
            most = f"{MAX_MEMORY_BYTES >> 20} MiB"
            raise ValueError(f"memory limit must be positive and at most {most}, not {self.memory_bytes} bytes")
        for name in ("table_elements", "emits_per_step", "emit_tag_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")


#: How often the watchdog thread checks the armed deadline.
WATCHDOG_POLL_S = 0.02


class Watchdog:
    """Interrupts the wasm running in ``engine``'s stores once the armed deadline passes."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        self._wakeup = threading.Condition()
        self._deadline: float | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        # The thread looks at the deadline every ``WATCHDOG_POLL_S`` rather than being woken
        # on each arm: waking it costs a thread switch per guest call (about 80 µs here),
        # more than most calls; a deadline is then kept to within the poll interval.
        with self._wakeup:
            while not self._closed:
                if self._deadline is None:
                    self._wakeup.wait(WATCHDOG_POLL_S)
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._wakeup.wait(min(remaining, WATCHDOG_POLL_S))
                    continue
                self._deadline = None
                self._engine.increment_epoch()

    @contextmanager
    def armed(self, store: wasmtime.Store, seconds: float) -> Iterator[None]:
        """Wasm entered in ``store`` inside this block traps with ``interrupt`` after ``seconds``.

        The store's deadline is one epoch ahead, and the watchdog adds that epoch
        only while this block is armed; an epoch added just as a call returns
        is harmless, because the next block sets the deadline afresh.
        """
        if self._closed:
            raise RuntimeError("the watchdog is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="handle-compat-watchdog", daemon=True)
            self._thread.start()
        store.set_epoch_deadline(1)
        # Under the lock (uncontended while the thread waits, and nobody is woken): the
        # thread reads the deadline and adds the epoch as one step, so it can neither
        # read a deadline being cleared nor clear, and interrupt, the next call's.
        with self._wakeup:
            self._deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            with self._wakeup:
                self._deadline = None

    def close(self) -> None:
        """Stops the thread; arming afterwards is an error."""
        with self._wakeup:
            self._closed = True
            self._wakeup.notify()
        if self._thread is not None:
            self._thread.join()
