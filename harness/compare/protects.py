"""What each handle model protects: per divergence category, how often a backend behaves like the reference.

Derived from the runs alone, never written by hand. A scenario belongs to a category
when the 2023 pseudo table and real handles diverge there in that category: observed
when both were run against each other, else as its manifest declares (plain
``diverges``). A backend "behaves like the reference" on a scenario when the differ
finds no divergence between their traces; it "traps too" when the only divergence is
the trap's kind (the hazard is stopped, by another check: ``bad-tag`` where real says
``unknown-handle``). For spec authors this answers, per kind of hazard real handles
remove, which other model removes it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.compare.gate import GateMatrix
from harness.model.scenario import DECLARED_AGAINST, PLAIN_DIVERGES, Scenario
from harness.model.vocabulary import Category

#: The rows of the table: every category a real-handle migration is about (``other`` is not one).
CATEGORIES: tuple[Category, ...] = (
    Category.ISOLATION,
    Category.FORGERY,
    Category.USE_AFTER_FREE,
    Category.OWNERSHIP_TRANSFER,
    Category.BORROW_RULES,
    Category.NUMBERING,
    Category.DESTRUCTOR_TIMING,
    Category.LEAK,
    Category.TRAP_KIND,
)


@dataclass(frozen=True)
class ProtectsCell:
    """One backend on the scenarios of one category."""

    backend: str
    #: Scenarios of the category on which the backend behaves like the reference.
    like: int
    total: int
    #: The scenarios of the category on which it does not, by name.
    differ: tuple[str, ...]
    #: Of ``differ``, those where it traps as the reference does, only with another trap kind.
    traps_too: int = 0
    #: True for the reference's own column (like it everywhere by definition).
    reference: bool = False

    @property
    def text(self) -> str:
        """``5/5``, or ``—`` when no scenario is of the category."""
        return f"{self.like}/{self.total}" if self.total else "—"

    @property
    def note(self) -> str:
        """``+2 trap too`` when some scenarios are stopped by another trap; empty otherwise."""
        return f"+{self.traps_too} trap too" if self.traps_too else ""

    @property
    def level(self) -> str:
        """``all``, ``some``, ``none`` or ``na``: how much of the category the backend covers."""
        if not self.total:
            return "na"
        if self.like == self.total:
            return "all"
        return "some" if self.like else "none"


@dataclass(frozen=True)
class ProtectsRow:
    category: str
    #: The scenarios of this category, by name.
    scenarios: tuple[str, ...]
    #: One per backend, in the report's column order.
    cells: tuple[ProtectsCell, ...]


def scenario_categories(scenarios: Sequence[Scenario], result: GateMatrix) -> dict[str, tuple[str, ...]]:
    """Each scenario's categories: pseudo vs real as observed in ``result`` if it holds that pair, else declared."""
    observed = next(
        (p for p in result.pairs if p.left == PLAIN_DIVERGES and p.right == DECLARED_AGAINST),
        None,
    )
    if observed is not None:
        return {v.scenario: v.observed for v in observed.verdicts}
    return {s.name: s.diverges for s in scenarios}


def protects(scenarios: Sequence[Scenario], result: GateMatrix, columns: Sequence[str]) -> tuple[ProtectsRow, ...]:
    """The table: one row per category of CATEGORIES, one cell per backend of ``columns``."""
    of_category = scenario_categories(scenarios, result)
    observed: Mapping[str, Mapping[str, tuple[str, ...]]] = {
        pair.left: {v.scenario: v.observed for v in pair.verdicts} for pair in result.pairs
    }
    rows = []
    for category in CATEGORIES:
        members = tuple(name for name, categories in of_category.items() if category.value in categories)
        cells = []
        for backend in columns:
            if backend == result.reference or backend not in observed:
                cells.append(ProtectsCell(backend, len(members), len(members), (), reference=True))
                continue
            against = observed[backend]
            differ = tuple(name for name in members if against.get(name, (Category.OTHER.value,)))
            traps_too = sum(1 for name in differ if against.get(name) == (Category.TRAP_KIND.value,))
            cells.append(ProtectsCell(backend, len(members) - len(differ), len(members), differ, traps_too))
        rows.append(ProtectsRow(category.value, members, tuple(cells)))
    return tuple(rows)
