"""``--update-baseline``: rewrites each manifest's ``diverges`` line from what was observed.

Only the one line changes, so the review of the resulting diff is the review of
the new baseline. CI never runs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.model.files import write_atomic
from harness.model.scenario import MANIFEST, Scenario

_DIVERGES = re.compile(r"^diverges\s*=\s*\[[^\]]*\]\s*$", re.MULTILINE)


def _line(categories: Sequence[str]) -> str:
    return "diverges = [" + ", ".join(f'"{c}"' for c in categories) + "]"


def update_declared(scenario: Scenario, observed: Sequence[str]) -> str | None:
    """Rewrites the manifest's declaration; returns a one-line description of the change."""
    if tuple(observed) == scenario.diverges:
        return None
    path = scenario.path / MANIFEST
    text = path.read_text(encoding="utf-8")
    if not _DIVERGES.search(text):
        return f"{path}: no single-line `diverges = [...]` to rewrite; edit it by hand to {_line(observed)}"
    write_atomic(path, _DIVERGES.sub(_line(observed), text, count=1))
    return f"{path}: {_line(scenario.diverges)} -> {_line(observed)}"
