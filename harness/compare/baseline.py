"""``--update-baseline``: rewrites each manifest's ``diverges`` declaration from what was observed.

Only the declaration's line changes (or, for a backend's first declaration of its own,
one line is added beside the others), so the review of the resulting diff is the review
of the new baseline. CI never runs it. It never writes ``other``: that category means
the differ could not explain a divergence, so it cannot be intended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.model.files import write_atomic
from harness.model.scenario import MANIFEST, PLAIN_DIVERGES, Scenario
from harness.model.vocabulary import Category

_PLAIN = re.compile(r"^diverges\s*=\s*\[[^\]]*\]\s*$", re.MULTILINE)


def _keyed(backend: str) -> re.Pattern[str]:
    """The single-line ``diverges.<backend> = [...]`` of one backend."""
    return re.compile(rf'^diverges\s*\.\s*("{re.escape(backend)}"|{re.escape(backend)})\s*=\s*\[[^\]]*\]\s*$', re.M)


#: Any single-line per-backend declaration, to place a new one after the last of them.
_ANY_KEYED = re.compile(r'^diverges\s*\.\s*("[^"]*"|[A-Za-z0-9_-]+)\s*=\s*\[[^\]]*\]\s*$', re.MULTILINE)


def _line(categories: Sequence[str], backend: str | None = None) -> str:
    key = "diverges" if backend is None else f"diverges.{backend}"
    return f"{key} = [" + ", ".join(f'"{c}"' for c in categories) + "]"


@dataclass(frozen=True)
class Update:
    """What ``--update-baseline`` did to one manifest: a line for the user, and whether it was written."""

    message: str
    written: bool


def update_declared(
    scenario: Scenario,
    observed: Sequence[str],
    backend: str = PLAIN_DIVERGES,
    declared: Sequence[str] | None = None,
) -> Update | None:
    """Rewrites the declaration of ``backend`` against ``real``; None when it already says what was observed.

    ``declared`` is what the gate held the backend to (its own declaration or its
    fallback's; default: the plain ``diverges``). A backend without a line of its own
    gets ``diverges.<backend> = [...]``; a plain ``diverges = [...]`` then becomes
    ``diverges.pseudo = [...]``, since TOML cannot hold both.
    """
    current = tuple(scenario.diverges if declared is None else declared)
    if tuple(observed) == current:
        return None
    path = scenario.path / MANIFEST
    if Category.OTHER in observed:
        reason = "observed 'other' (a divergence the differ cannot explain), which is never declared as intended"
        return Update(f"{path}: {backend}: left unchanged: {reason}; find its cause", written=False)
    text = path.read_text(encoding="utf-8")
    rewritten = _rewrite(text, backend, observed)
    if rewritten is None:
        wanted = _line(observed, None if backend == PLAIN_DIVERGES else backend)
        return Update(f"{path}: no single-line `diverges` declaration to rewrite; edit it by hand to {wanted}", False)
    write_atomic(path, rewritten)
    key = None if backend == PLAIN_DIVERGES and _PLAIN.search(text) else backend
    return Update(f"{path}: {_line(current, key)} -> {_line(observed, key)}", written=True)


def _rewrite(text: str, backend: str, observed: Sequence[str]) -> str | None:
    """``text`` with ``backend``'s declaration set to ``observed``; None when no line can hold it."""
    plain = _PLAIN.search(text)
    if backend == PLAIN_DIVERGES and plain:
        return text[: plain.start()] + _line(observed) + text[plain.end() :]
    own = _keyed(backend).search(text)
    if own:
        return text[: own.start()] + _line(observed, backend) + text[own.end() :]
    if plain:
        pseudo = _line(_categories(plain.group(0)), PLAIN_DIVERGES)
        return text[: plain.start()] + pseudo + "\n" + _line(observed, backend) + text[plain.end() :]
    keyed = list(_ANY_KEYED.finditer(text))
    if keyed:
        end = keyed[-1].end()
        return text[:end] + "\n" + _line(observed, backend) + text[end:]
    return None


def _categories(line: str) -> list[str]:
    return re.findall(r'"([^"]*)"', line.partition("=")[2])
