"""``--update-baseline``: rewrites each manifest's ``diverges`` line from what was observed.

Only the one line changes, so the review of the resulting diff is the review of
the new baseline. CI never runs it. It never writes ``other``: that category
means the differ could not explain a divergence, so it cannot be intended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.model.files import write_atomic
from harness.model.scenario import MANIFEST, Scenario
from harness.model.vocabulary import Category

_DIVERGES = re.compile(r"^diverges\s*=\s*\[[^\]]*\]\s*$", re.MULTILINE)


def _line(categories: Sequence[str]) -> str:
    return "diverges = [" + ", ".join(f'"{c}"' for c in categories) + "]"


@dataclass(frozen=True)
class Update:
    """What ``--update-baseline`` did to one manifest: a line for the user, and whether it was written."""

    message: str
    written: bool


def update_declared(scenario: Scenario, observed: Sequence[str]) -> Update | None:
    """Rewrites the manifest's declaration; None when it already says what was observed."""
    if tuple(observed) == scenario.diverges:
        return None
    path = scenario.path / MANIFEST
    if Category.OTHER in observed:
        reason = "observed 'other' (a divergence the differ cannot explain), which is never declared as intended"
        return Update(f"{path}: left unchanged: {reason}; find its cause", written=False)
    text = path.read_text(encoding="utf-8")
    if not _DIVERGES.search(text):
        return Update(
            f"{path}: no single-line `diverges = [...]` to rewrite; edit it by hand to {_line(observed)}", False
        )
    write_atomic(path, _DIVERGES.sub(_line(observed), text, count=1))
    return Update(f"{path}: {_line(scenario.diverges)} -> {_line(observed)}", written=True)
