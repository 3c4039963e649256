"""The door for backends whose runtime is not wasmtime in this process.

An in-process backend defines host functions in a wasmtime linker (``base.Backend``).
An external backend names a *runner*: a program in the runtime's own language that
takes the wrapped component and the steps, runs them against its own copy of the host
(``handle-compat:io`` exactly as ``backends/host.py``), and answers with the trace's
facts (``harness.execute.runners.protocol``, README "External runners"). The harness
still wraps every scenario, so the guest's core bytes are the same as everywhere else.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

from wasmtime.component import Linker

from harness.execute.backends.base import Backend
from harness.execute.backends.host import StreamHost
from harness.execute.limits import Limits
from harness.model.errors import InputError
from harness.model.scenario import Scenario
from harness.model.wit import WitPackage


class ExternalBackend(Backend):
    """A backend run out of process by a runner speaking the runner protocol."""

    #: The runtime's name in messages (``jco``).
    runtime: ClassVar[str]

    @abstractmethod
    def runner_command(self, limits: Limits) -> list[str]:
        """The command that starts one runner process for a whole run, with ``limits`` that are per process."""

    @abstractmethod
    def unavailable(self) -> InputError | None:
        """Why the runner cannot start on this machine (runtime or its packages missing), or None."""

    @abstractmethod
    def runner_files(self) -> tuple[Path, ...]:
        """The runner's own files: what it makes of a component depends on them (part of the cache key)."""

    def trace_inputs(self) -> bytes:
        """The runtime's version and the runner's own files: a change to either can change a trace."""
        parts = [f"{self.runtime} {self.implementation_version()}".encode()]
        for path in self.runner_files():
            try:
                parts.append(path.name.encode() + b"\0" + path.read_bytes())
            except OSError:
                parts.append(path.name.encode() + b"\0missing")
        return b"\0".join(parts)

    def define_host(self, linker: Linker, wit: WitPackage, scenario: Scenario, host: StreamHost) -> None:
        """Never called: the runner serves the host in its own process."""
        raise TypeError(f"backend {self.name} runs out of process through its runner, not in a wasmtime linker")
