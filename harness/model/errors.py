"""Errors the harness reports to its user as one line, naming the file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class InputError(Exception):
    """Input the harness cannot use: a manifest, a WAT file, a trace, an option.

    Rendered as ``path:line: message`` so an editor or CI log can jump to it.
    """

    path: Path | str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"
