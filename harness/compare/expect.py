"""Checks a trace against the expectations written in its scenario's manifest."""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.safe_text import for_terminal
from harness.model.scenario import Expectation, Scenario
from harness.model.trace import Outcome, Status, Trace


@dataclass(frozen=True)
class Mismatch:
    step: int | None
    expected: str
    observed: str
    rule: str

    def line(self) -> str:
        where = "teardown" if self.step is None else f"step {self.step + 1}"
        return f"{where}: expected {self.expected}, observed {self.observed} (rule: {self.rule})"


def _matches(expectation: Expectation, outcome: Outcome) -> bool:
    if expectation.not_run:
        return outcome.status is Status.NOT_RUN
    if expectation.trap is not None:
        return outcome.status is Status.TRAP and outcome.trap is not None and outcome.trap.value == expectation.trap
    return outcome.status is Status.VALUE and outcome.value == expectation.value


def check(scenario: Scenario, trace: Trace, backend: str, fallback: str | None = None) -> list[Mismatch]:
    """Every place where ``trace`` differs from what the manifest expects on ``backend``."""
    if trace.error:
        return [Mismatch(None, "a run", f"no run: {trace.error}", "the scenario must load and link")]
    mismatches = []
    for index, (step, observed) in enumerate(zip(scenario.steps, trace.steps, strict=True)):
        expectation = scenario.expectation(step, backend, fallback)
        if expectation is None:
            mismatches.append(Mismatch(index, "an expectation", observed.outcome.short(), f"no expect.{backend}"))
        elif not _matches(expectation, observed.outcome):
            shown = observed.outcome.short()
            if observed.outcome.message:
                shown += f" ({observed.outcome.message})"
            mismatches.append(Mismatch(index, expectation.short(), shown, expectation.rule))
    teardown = scenario.teardown_expectation(backend, fallback)
    if teardown is not None and teardown.live != len(trace.live):
        live = ", ".join(f"{r.resource}#{r.rep}" for r in trace.live) or "none"
        mismatches.append(Mismatch(None, f"{teardown.live} live", f"{len(trace.live)} live ({live})", teardown.rule))
    return mismatches


def explain(scenario: Scenario, trace: Trace, backend: str, fallback: str | None = None) -> str:
    """Expected vs observed, step by step, for a failure message shown on a terminal.

    Each line is escaped (``for_terminal``): a title, step text or trap message cannot start a line of its own.
    """
    rows = [f"{scenario.name} on {backend}: {scenario.title}"]
    if trace.error:
        return "\n".join(map(for_terminal, [*rows, f"  did not run: {trace.error}"]))
    mismatches = check(scenario, trace, backend, fallback)
    bad = {m.step for m in mismatches}
    for index, (step, observed) in enumerate(zip(scenario.steps, trace.steps, strict=True)):
        expectation = scenario.expectation(step, backend, fallback)
        expected = expectation.short() if expectation else "?"
        mark = "!!" if index in bad else "ok"
        rows.append(f"  {mark} step {index + 1} {step.component}.run({step.op}, {step.arg}): {step.does}")
        rows.append(
            f"       expected {expected}; observed {observed.outcome.short()} {observed.outcome.message}".rstrip()
        )
        if expectation and index in bad:
            rows.append(f"       rule: {expectation.rule}")
    for mismatch in mismatches:
        if mismatch.step is None:
            rows.append(f"  !! {mismatch.line()}")
    return "\n".join(map(for_terminal, rows))
