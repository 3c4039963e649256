"""Holds an implementation's runs to its known-deviation file: exactly the listed deviations, no more, no fewer.

A listed deviation that no longer happens is reported as loudly as a new one: an
upgrade that fixes a bug must be noticed, and its entry removed, or the file stops
describing the implementation (web-platform-tests reports an unexpected pass the same way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.compare.expect import Mismatch
from harness.model.deviations import DeviationFile, Finding, Observed
from harness.model.trace import Trace


@dataclass(frozen=True)
class KnownDeviation:
    """A listed deviation the run showed as listed."""

    observed: Observed
    finding: Finding
    note: str
    #: ``FILE:LINE`` of the entry.
    where: str

    @property
    def reason(self) -> str:
        """The finding's why and rule (and the entry's note, and the link) in one line, for a reader of the report."""
        parts = [self.finding.why, f"rule: {self.finding.rule}"]
        if self.note:
            parts.insert(1, self.note)
        if self.finding.link:
            parts.append(self.finding.link)
        return f"known deviation ({self.finding.name}): " + "; ".join(parts)


@dataclass(frozen=True)
class DeviationCheck:
    """One scenario's run against its entry in the file."""

    file: str
    known: tuple[KnownDeviation, ...]
    #: Deviations the file does not list (or lists with another outcome), one line each.
    unexpected: tuple[str, ...]
    #: Listed deviations the run no longer shows, one line each.
    gone: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.gone

    def lines(self) -> list[str]:
        return [*self.unexpected, *self.gone]


def observed_outcome(trace: Trace, step: int | None) -> str:
    """A step's outcome (or the teardown's live count) in the words a deviation file uses."""
    if step is None:
        return f"{len(trace.live)} live"
    return trace.steps[step].outcome.short()


def check_deviations(
    scenario: str, trace: Trace, mismatches: Sequence[Mismatch], listed: DeviationFile
) -> DeviationCheck:
    """Each mismatch against the manifest is listed with this outcome, and each listed one still happens."""
    entry = listed.deviations.get(scenario)
    expected = {o.step: o for o in entry.observed} if entry is not None else {}
    known, unexpected, matched = [], [], set()
    for mismatch in mismatches:
        if trace.error:
            unexpected.append(f"{mismatch.line()}: not a deviation {listed.shown} can list")
            continue
        outcome = observed_outcome(trace, mismatch.step)
        item = expected.get(mismatch.step)
        if item is None:
            unexpected.append(f"new deviation, not in {listed.shown}: {mismatch.line()}")
        elif item.outcome != outcome:
            matched.add(item.step)
            lists = f"{listed.where(item.line)} lists {item.outcome}"
            unexpected.append(f"deviates otherwise than listed: {item.where} observed {outcome}, {lists}")
        else:
            matched.add(item.step)
            assert entry is not None
            known.append(KnownDeviation(item, entry.finding, entry.note, listed.where(item.line)))
    gone = [
        f"listed deviation no longer happens: remove it from {listed.where(item.line)}"
        f" ({item.where}: listed {item.outcome}, now {observed_outcome(trace, item.step)} as the manifest expects)"
        for step, item in expected.items()
        if step not in matched and not trace.error
    ]
    return DeviationCheck(listed.shown, tuple(known), tuple(unexpected), tuple(gone))
