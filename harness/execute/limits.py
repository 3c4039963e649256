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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import wasmtime

DEFAULT_STEP_TIMEOUT_S = 1.0
DEFAULT_MEMORY_BYTES = 64 << 20


@dataclass(frozen=True)
class Limits:
    """What every guest call may use: seconds of execution, bytes per linear memory."""

    step_timeout_s: float = DEFAULT_STEP_TIMEOUT_S
    memory_bytes: int = DEFAULT_MEMORY_BYTES

    @classmethod
    def from_options(cls, step_timeout_s: float, memory_mib: int) -> Limits:
        """The limits the ``--step-timeout`` and ``--memory-limit`` (MiB) options ask for."""
        return cls(step_timeout_s=step_timeout_s, memory_bytes=memory_mib << 20)

    def __post_init__(self) -> None:
        if not self.step_timeout_s > 0:
            raise ValueError(f"step timeout must be positive, not {self.step_timeout_s}")
        if self.memory_bytes <= 0:
            raise ValueError(f"memory limit must be positive, not {self.memory_bytes}")


class Watchdog:
    """Interrupts the wasm running in ``engine``'s stores once the armed deadline passes."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        self._wakeup = threading.Condition()
        self._deadline: float | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        with self._wakeup:
            while not self._closed:
                if self._deadline is None:
                    self._wakeup.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._wakeup.wait(remaining)
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
        with self._wakeup:
            self._deadline = time.monotonic() + seconds
            self._wakeup.notify()
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
