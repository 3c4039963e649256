"""What each step of a program means for its handles, and the divergence that meaning predicts.

The label of a step comes from the program run in Python under both models
(``machine.PseudoMachine``, ``machine.RealMachine``): the outcome each model gives and
how every index the step uses stands in its component's history (legitimate, after drop,
after giving away, never received, received as data, borrow past its call). From those the
expected category of the first pseudo-vs-real divergence follows by the rules the differ
documents (README "The differential gate"), without reading any op log: check (c) holds the
differ's verdict on the recorded runs to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.compare.diff import BORROW_TRAPS, STANDING_CATEGORY
from harness.compare.provenance import Standing
from harness.fuzz.machine import PseudoMachine, RealMachine, Run, StepResult
from harness.fuzz.program import Code, Program
from harness.model.vocabulary import Category


@dataclass(frozen=True)
class Label:
    """A step's meaning: the standing of its first doubtful index use, in words."""

    step: int
    meaning: str


@dataclass(frozen=True)
class Expected:
    """The first pseudo-vs-real divergence the labels predict (step None: teardown; category None: none)."""

    step: int | None
    category: Category | None
    why: str


@dataclass(frozen=True)
class Labelled:
    program: Program
    pseudo: Run
    real: Run
    labels: tuple[Label, ...]
    expected: Expected


def _meaning(pseudo: StepResult, real: StepResult) -> str:
    for side, result in (("real", real), ("pseudo", pseudo)):
        for use in result.uses:
            if use.standing is not Standing.HELD:
                return f"{use.component} uses {use.index} ({use.standing}, on {side})"
    return "legitimate"


def _differs(pseudo: StepResult, real: StepResult) -> bool:
    return pseudo.short() != real.short() or pseudo.destroyed != real.destroyed


def _category(program: Program, pseudo: Run, real: Run, index: int) -> tuple[Category, str]:
    p, r = pseudo.steps[index], real.steps[index]
    traps = {s.trap for s in (p, r) if s.trap is not None}
    if traps & BORROW_TRAPS:
        return Category.BORROW_RULES, f"a borrow rule traps ({', '.join(sorted(traps))})"
    if p.trap is not None and r.trap is not None and p.trap != r.trap:
        return Category.TRAP_KIND, f"both trap: {p.trap} vs {r.trap}"
    for side, result in (("real", r), ("pseudo", p)):
        for use in result.uses:
            if use.standing is not Standing.HELD:
                why = f"{use.component} uses index {use.index} ({use.standing}, on {side})"
                return STANDING_CATEGORY[use.standing], why
    if p.destroyed != r.destroyed:
        everywhere = {d for s in pseudo.steps for d in s.destroyed} & {d for s in real.steps for d in s.destroyed}
        moved = set(p.destroyed) ^ set(r.destroyed)
        if moved <= everywhere:
            return Category.DESTRUCTOR_TIMING, "a destructor runs in another step"
        return Category.LEAK, "a destructor runs in one model only"
    if program.steps[index].code is Code.SHOW:
        return Category.NUMBERING, "the step returns an index's value"
    return Category.OTHER, "no label explains it"


def label(program: Program) -> Labelled:
    """Runs ``program`` under both models and predicts its first pseudo-vs-real divergence."""
    pseudo, real = PseudoMachine(program).run(), RealMachine(program).run()
    labels = tuple(Label(n, _meaning(p, r)) for n, (p, r) in enumerate(zip(pseudo.steps, real.steps, strict=True)))
    expected = Expected(None, None, "the models agree")
    for index, (p, r) in enumerate(zip(pseudo.steps, real.steps, strict=True)):
        if _differs(p, r):
            category, why = _category(program, pseudo, real, index)
            expected = Expected(index, category, why)
            break
    else:
        if pseudo.live != real.live:
            expected = Expected(None, Category.LEAK, "different host resources live at the end")
    return Labelled(program, pseudo, real, labels, expected)
