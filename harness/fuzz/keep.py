"""A finding kept as a scenario folder, with every expectation written from the rules.

``expect.real`` (which ``spec`` and every implementation of the Canonical ABI are held to)
comes from the ``spec`` backend's run: CanonicalABI.md's tables in Python. ``expect.pseudo``
comes from the 2023 table rules run in Python (``machine.PseudoMachine``). Each rule text says
which, and what the step means for its handle (the program's label). ``diverges`` is the
category the labels predict for pseudo against real. Copied into ``guests/``, the folder is a
regression scenario: the gate holds every backend to it.
"""

from __future__ import annotations

from pathlib import Path

from harness.fuzz.campaign import Fuzzer
from harness.fuzz.checks import REFERENCE, Failure
from harness.fuzz.labels import label
from harness.fuzz.machine import StepResult
from harness.fuzz.program import Program
from harness.fuzz.scenario import Kept, write_folder
from harness.model.scenario import Expectation, TeardownExpectation
from harness.model.trace import Outcome, Status
from harness.model.vocabulary import Category

SPEC_RULE = "CanonicalABI.md (the spec backend's tables)"
PSEUDO_RULE = (
    "2023 pseudo table (wasmtime-wasi table.rs: keys from 3, never reused; NotPresent, WrongType, HasChildren)"
)


def _from_outcome(outcome: Outcome, meaning: str) -> Expectation:
    if outcome.status is Status.NOT_RUN:
        return Expectation(f"{SPEC_RULE}: an earlier step trapped", not_run=True)
    if outcome.status is Status.TRAP:
        return Expectation(f"{SPEC_RULE}: {meaning}: {outcome.message}", trap=outcome.trap)
    return Expectation(f"{SPEC_RULE}: {meaning}", value=outcome.value)


def _from_oracle(result: StepResult, meaning: str) -> Expectation:
    if not result.ran:
        return Expectation(f"{PSEUDO_RULE}: an earlier step trapped", not_run=True)
    if result.trap is not None:
        return Expectation(f"{PSEUDO_RULE}: {meaning}", trap=result.trap)
    return Expectation(f"{PSEUDO_RULE}: {meaning}", value=result.value)


def keep(fuzzer: Fuzzer, program: Program, failure: Failure, folder: Path) -> Path:
    """Writes ``program`` as a scenario folder named after what ``failure`` found."""
    labelled = label(program)
    traces = fuzzer.traces(program)
    spec = traces.get(REFERENCE)
    expect = []
    for index, (lab, pseudo) in enumerate(zip(labelled.labels, labelled.pseudo.steps, strict=True)):
        per_backend = {"pseudo": _from_oracle(pseudo, lab.meaning)}
        if spec is not None and not spec.error:
            per_backend["real"] = _from_outcome(spec.steps[index].outcome, lab.meaning)
        expect.append(per_backend)
    teardown = {
        "pseudo": TeardownExpectation(f"{PSEUDO_RULE}: host resources never dropped", len(labelled.pseudo.live))
    }
    if spec is not None and not spec.error:
        teardown["real"] = TeardownExpectation(f"{SPEC_RULE}: host resources never dropped", len(spec.live))
    category = labelled.expected.category
    declared = () if category in (None, Category.OTHER) else (str(category),)
    where = "teardown" if failure.step is None else f"step {failure.step + 1}"
    title = f"Generated program: check {failure.check} fails ({' vs '.join(failure.backends)}) at {where}"
    description = f"{failure.line()}\n\nThe program: {program.text()}"
    rule = "the three fuzz checks: implementations as spec; pseudo as the 2023 table; the differ as the labels"
    kept = Kept(title, description, rule, declared[0] if declared else "baseline", tuple(expect), teardown, declared)
    return write_folder(program, kept, folder)
