"""Which backends a command works on: named ones, or the defaults a user expects.

Every comparing command judges each backend against one reference (``real`` unless
told otherwise), so the choice is a list of backends and the reference. The old
pair options (``--left X --right Y``) still mean ``--backends X --reference Y``.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.model.errors import InputError
from harness.model.scenario import DECLARED_AGAINST, PLAIN_DIVERGES


@dataclass(frozen=True)
class Selection:
    """The backends a command works on, the reference among them (``""`` for ``run``, which compares nothing)."""

    backends: tuple[str, ...]
    reference: str = ""
    #: Backends a default would have taken but that cannot run here: (name, why).
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def compared(self) -> tuple[str, ...]:
        """The backends judged against the reference, in the order given."""
        return tuple(name for name in self.backends if name != self.reference)


def parse_names(text: str) -> list[str]:
    """``a,b, c`` as a list without blanks or repeats, in order (an argparse ``type``)."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise argparse.ArgumentTypeError("name at least one backend, e.g. pseudo,real")
    return names


def _check_registered(names: Sequence[str], registered: Sequence[str], option: str) -> None:
    for name in names:
        if name not in registered:
            close = difflib.get_close_matches(name, registered, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"unknown backend {name!r} (registered: {', '.join(sorted(registered))}){hint}"
            raise InputError(option, message)


def select(
    command: str,
    *,
    registered: Sequence[str],
    shipped: Sequence[str],
    traced: Sequence[str],
    unavailable: Mapping[str, str] | None = None,
    backends: Sequence[str] | None = None,
    backend: str | None = None,
    reference: str | None = None,
    left: str | None = None,
    right: str | None = None,
) -> Selection:
    """The selection for ``command`` (``run``, ``diff``, ``gate`` or ``report``).

    Defaults: ``run`` every shipped backend; ``gate`` every shipped backend against
    ``real`` (CI covers all of them, and a missing trace file is an error); ``report``
    every shipped backend and any other whose traces are in the reports folder (the
    report makes missing traces); ``diff`` every backend whose traces are there. A
    shipped backend that cannot run here (``unavailable``: name -> why) is left out of
    a default unless its traces are there, and listed in ``skipped``; one named is kept.
    """
    unavailable = unavailable or {}
    skipped = tuple((name, unavailable[name]) for name in shipped if name in unavailable and name not in traced)
    runnable = [name for name in shipped if name not in dict(skipped)]
    if command == "run":
        names = [backend] if backend else list(backends or runnable)
        _check_registered(names, registered, "--backend" if backend else "--backends")
        return Selection(tuple(names), skipped=() if backend or backends else skipped)
    defaulted = False
    if (left or right) and (backends or reference):
        raise InputError("--left", "use either --left/--right or --backends/--reference, not both")
    if left or right:
        names, reference = [left or PLAIN_DIVERGES], right or DECLARED_AGAINST
        _check_registered(names, registered, "--left")
        _check_registered([reference], registered, "--right")
    else:
        reference = reference or DECLARED_AGAINST
        _check_registered([reference], registered, "--reference")
        if backends:
            names = list(backends)
        elif command == "gate":
            names, defaulted = list(runnable), True
        elif command == "report":
            names, defaulted = [*runnable, *(name for name in traced if name not in runnable)], True
        else:
            names = [name for name in traced if name != reference] or [PLAIN_DIVERGES]
        _check_registered(names, registered, "--backends")
    if reference not in names:
        names.append(reference)
    if len(names) < 2:
        raise InputError("--backends", f"name at least one backend besides the reference {reference!r}")
    return Selection(tuple(names), reference, skipped if defaulted else ())
