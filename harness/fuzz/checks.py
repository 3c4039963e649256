"""The three checks on one program's traces.

(a) every implementation under test behaves exactly as ``spec`` (CanonicalABI.md in Python):
    each step's value or trap kind, its host events (creates, calls with their answers,
    destructor runs), and what is live at the end;
(b) ``pseudo`` behaves as the 2023 table rules say: each step's value or trap kind, its
    destructor runs and what is live at the end equal ``machine.PseudoMachine``'s;
(c) the differ's first divergence between ``pseudo`` and ``real`` (its step and category)
    equals the one the program's labels predict (``labels.label``).

Only the first divergence is held to a label: after it the two runs' states differ, and
what follows is a consequence the differ is not asked to explain step by step.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.compare.diff import diff_traces
from harness.fuzz.labels import Labelled
from harness.fuzz.machine import StepResult
from harness.model.trace import Status, Trace

REFERENCE = "spec"
PSEUDO, REAL = "pseudo", "real"


class Check(enum.StrEnum):
    """Which of the three checks failed."""

    SPEC = "a"
    PSEUDO_RULES = "b"
    DIFFER = "c"


@dataclass(frozen=True)
class Failure:
    """A failed check: which, between which backends, at which step (None: teardown), and what differed."""

    check: Check
    backends: tuple[str, str]
    step: int | None
    detail: str
    #: A short stable key: failures of one key are the same finding (shrinking keeps it).
    key: str

    def line(self) -> str:
        where = "teardown" if self.step is None else f"step {self.step + 1}"
        return f"check {self.check} ({' vs '.join(self.backends)}) at {where}: {self.detail}"


def _kind(short: str) -> str:
    """An outcome without its value (``value``, ``trap unknown-handle``, ``not run``): what a finding keeps."""
    return "value" if short.startswith("value") else short


def _outcome(trace: Trace, index: int) -> str:
    step = trace.steps[index]
    return step.outcome.short()


def check_spec(implementation: Trace, spec: Trace) -> Failure | None:
    """(a): ``implementation`` against ``spec``, step by step, then at teardown."""
    pair = (implementation.backend, spec.backend)
    if implementation.error or spec.error:
        return Failure(Check.SPEC, pair, None, f"{implementation.error} / {spec.error}", "error")
    for index, (i, s) in enumerate(zip(implementation.steps, spec.steps, strict=True)):
        if i.outcome.short() != s.outcome.short():
            detail = f"{i.outcome.short()} ({i.outcome.message}) vs {s.outcome.short()} ({s.outcome.message})"
            return Failure(
                Check.SPEC, pair, index, detail, f"outcome:{_kind(i.outcome.short())}:{_kind(s.outcome.short())}"
            )
        if i.events != s.events:
            detail = f"events {[e.kind for e in i.events]} vs {[e.kind for e in s.events]}"
            return Failure(Check.SPEC, pair, index, detail, "events")
    if implementation.live != spec.live:
        return Failure(Check.SPEC, pair, None, f"live {implementation.live} vs {spec.live}", "live")
    return None


def _destroyed(trace: Trace, index: int) -> tuple[tuple[str, int], ...]:
    return tuple((e.resource, e.rep) for e in trace.steps[index].events if e.kind == "destroy")


def check_pseudo(pseudo: Trace, oracle: Sequence[StepResult], live: Sequence[tuple[str, int]]) -> Failure | None:
    """(b): the ``pseudo`` trace against the 2023 table rules run in Python."""
    pair = (pseudo.backend, "2023 table rules")
    if pseudo.error:
        return Failure(Check.PSEUDO_RULES, pair, None, pseudo.error, "error")
    for index, expected in enumerate(oracle):
        got = _outcome(pseudo, index)
        if got != expected.short():
            step = pseudo.steps[index]
            detail = f"{got} ({step.outcome.message}), the rules say {expected.short()}"
            return Failure(Check.PSEUDO_RULES, pair, index, detail, f"outcome:{_kind(got)}:{_kind(expected.short())}")
        if pseudo.steps[index].outcome.status is not Status.NOT_RUN and _destroyed(pseudo, index) != expected.destroyed:
            detail = f"destroyed {_destroyed(pseudo, index)}, the rules say {expected.destroyed}"
            return Failure(Check.PSEUDO_RULES, pair, index, detail, "destroyed")
    observed = tuple((r.resource, r.rep) for r in pseudo.live)
    if observed != tuple(live):
        return Failure(Check.PSEUDO_RULES, pair, None, f"live {observed}, the rules say {tuple(live)}", "live")
    return None


def check_differ(pseudo: Trace, real: Trace, labelled: Labelled) -> Failure | None:
    """(c): the differ's first divergence between ``pseudo`` and ``real`` against the labels' prediction."""
    diff = diff_traces(pseudo, real)
    first = next((d for d in diff.divergences if not d.consequence), None)
    expected = labelled.expected
    got_step = None if first is None else first.step
    got = None if first is None else first.category
    if got == expected.category and (got is None or got_step == expected.step):
        return None
    pair = (pseudo.backend, real.backend)
    where = expected.step if first is None else first.step
    shown = "no divergence" if first is None else f"{got} at {_at(got_step)} ({first.detail})"
    wanted = "none" if expected.category is None else f"{expected.category} at {_at(expected.step)}"
    key = f"{got or 'none'}:{expected.category or 'none'}"
    return Failure(Check.DIFFER, pair, where, f"the differ says {shown}; the labels say {wanted}: {expected.why}", key)


def _at(step: int | None) -> str:
    return "teardown" if step is None else f"step {step + 1}"


def check_all(traces: Mapping[str, Trace], labelled: Labelled, implementations: Sequence[str]) -> list[Failure]:
    """Every check the traces allow: (a) for each implementation run beside ``spec``, (b) and (c) where run."""
    failures = []
    if REFERENCE in traces:
        for name in implementations:
            if name in traces:
                found = check_spec(traces[name], traces[REFERENCE])
                failures.extend([found] if found else [])
    if PSEUDO in traces:
        found = check_pseudo(traces[PSEUDO], labelled.pseudo.steps, labelled.pseudo.live)
        failures.extend([found] if found else [])
        if REAL in traces:
            found = check_differ(traces[PSEUDO], traces[REAL], labelled)
            failures.extend([found] if found else [])
    return failures
