"""Host backends, found through the ``handle_compat.backends`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from harness.execute.backends.base import Backend
from harness.execute.backends.jco import JcoBackend
from harness.execute.backends.pseudo import PseudoBackend, PseudoReuseBackend
from harness.execute.backends.pseudo_tagged import PseudoTaggedBackend
from harness.execute.backends.real import RealBackend
from harness.execute.backends.spec import SpecBackend, SpecPerTypeBackend
from harness.model.errors import InputError

ENTRY_POINT_GROUP = "handle_compat.backends"
#: The shipped backends, also declared as entry points; listed here so the
#: harness works from a source checkout that was never installed.
BUILTIN: dict[str, type[Backend]] = {
    b.name: b
    for b in (
        PseudoBackend,
        PseudoReuseBackend,
        PseudoTaggedBackend,
        RealBackend,
        SpecBackend,
        SpecPerTypeBackend,
        JcoBackend,
    )
}


def available() -> dict[str, type[Backend]]:
    """Every registered backend by name."""
    found = dict(BUILTIN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name not in found:
            found[point.name] = point.load()
    return found


def get_backend(name: str) -> Backend:
    backends = available()
    if name not in backends:
        known = ", ".join(sorted(backends))
        raise InputError("--backend", f"unknown backend {name!r} (registered: {known})")
    return backends[name]()


__all__ = ["ENTRY_POINT_GROUP", "Backend", "available", "get_backend"]
