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


def reports_for(guests: Path, base: Path = DEFAULT_REPORTS) -> Path:
    """Where a guests folder's traces and reports go unless told otherwise.

    ``base`` for the built-in guests, ``base/<folder name>`` for any other, so
    running another scenario set never replaces the built-in set's traces.
    """
    if guests.resolve() == BUILTIN_GUESTS.resolve():
        return base
    return base / guests.resolve().name


def trace_path(reports: Path, backend: str) -> Path:
    return reports / "traces" / f"{backend}.json"
