"""The ``pseudo-tagged`` backend: the 2023 global table, each handle carrying a checked tag."""

from __future__ import annotations

from typing import ClassVar

from harness.execute.backends.pseudo import PseudoBackend
from harness.execute.backends.pseudo_table import AllocationPolicy, PseudoTable
from harness.execute.backends.pseudo_tagged_table import DEFAULT_SEED, TaggedTable, TagSource
from harness.model.scenario import Scenario


class PseudoTaggedBackend(PseudoBackend):
    """Pseudo-handles with tags in their high bits, as the 2023 discussion proposed instead of real handles.

    Everything but the table is the pseudo backend's: no isolation, no own/borrow,
    a handle crosses components as the same ``u32``. The tag only makes a number
    that is not the one the table handed out for a live entry trap (``bad-tag``).
    """

    name: ClassVar[str] = "pseudo-tagged"
    policy: ClassVar[AllocationPolicy] = AllocationPolicy.REUSE
    expectations_from: ClassVar[str | None] = "pseudo"
    summary: ClassVar[str] = (
        "one u32 table per store, keys reused last-freed-first, a 15-bit seeded tag per entry checked on every use"
    )
    seed: ClassVar[str] = DEFAULT_SEED

    def new_table(self, scenario: Scenario) -> PseudoTable:
        """Tags seeded per scenario, so a scenario's trace is the same on every run."""
        return TaggedTable(TagSource(scenario.name, self.seed), self.policy)
