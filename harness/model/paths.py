"""Where the built-in guests, their WIT package and generated reports live."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILTIN_GUESTS = PROJECT_ROOT / "guests"
DEFAULT_REPORTS = Path("reports")


def wit_dir_for(guests: Path) -> Path:
    """A guests folder's own ``wit/`` package, else the built-in one."""
    own = guests / "wit"
    return own if own.is_dir() else BUILTIN_GUESTS / "wit"


def trace_path(reports: Path, backend: str) -> Path:
    return reports / "traces" / f"{backend}.json"
