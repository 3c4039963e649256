"""One runner process: started once per run, asked one request at a time, stopped at the end.

A runner that dies, hangs past the harness's own backstop deadline or answers outside
the protocol costs the scenario it was running (an error trace naming why, in one
line); the session is then restarted for the next scenario, so the others still run.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from harness.execute.runners.protocol import RunnerError, check_hello, hello_request

#: How long a runner may take to start and say hello (Node loads jco's bindings lazily).
START_SECONDS = 30.0
#: Lines of the runner's stderr kept to explain a crash.
_STDERR_TAIL = 4096


class RunnerSession:
    """A running runner; ``ask`` sends a request and waits for its one-line answer."""

    def __init__(self, command: list[str], runtime: str) -> None:
        self.command, self.runtime = command, runtime
        # Kept open for the life of the process, to explain its end; closed by ``close``.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env={**os.environ, "NODE_NO_WARNINGS": "1"},
            )
        except OSError as error:
            self._stderr.close()
            raise RunnerError(f"cannot start the {runtime} runner ({command[0]}): {error.strerror or error}") from error
        self._buffer = b""
        self.version = check_hello(self.ask(hello_request(), START_SECONDS), runtime)

    def ask(self, request: dict[str, Any], seconds: float) -> Any:
        """The decoded answer line; RunnerError if the runner dies, stays silent ``seconds`` or answers junk."""
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except OSError as error:
            raise RunnerError(self._ended(f"cannot be written to ({error.strerror or error})")) from error
        line = self._line(seconds)
        try:
            return json.loads(line)
        except (ValueError, RecursionError) as error:
            raise RunnerError(f"{self.runtime} runner answered what is not JSON: {line[:80]!r}") from error

    def _line(self, seconds: float) -> bytes:
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.close()
                    raise RunnerError(f"{self.runtime} runner gave no answer within {seconds:g} s; stopped")
                chunk = os.read(stdout.fileno(), 1 << 16)
                if not chunk:
                    raise RunnerError(self._ended("exited"))
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _ended(self, what: str) -> str:
        """The runner's end in one line: its exit code and the last line it wrote to stderr."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        code = self._process.poll()
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - _STDERR_TAIL))
        lines = [ln.strip() for ln in self._stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        said = f": {lines[-1][:200]}" if lines else ""
        status = f" with code {code}" if code is not None else ""
        return f"{self.runtime} runner {what}{status}{said}"

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """Ends the runner: EOF on its stdin, then a kill if it does not go."""
        stdin: IO[bytes] | None = self._process.stdin
        with contextlib.suppress(OSError):
            if stdin is not None:
                stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()


def runner_folder(parent: Path | None = None) -> Path:
    """A new private folder (0700) for what one session's scenarios are made into."""
    return Path(tempfile.mkdtemp(prefix="handle-compat-runner-", dir=parent))
