"""Hypothesis strategies for handle programs over a chain of 2 or 3 interpreter components.

Each instruction is drawn independently of the others (no Python state outside the
strategy), so hypothesis shrinks a failing program by deleting and simplifying steps.
Creating operations are listed first and twice: programs mostly hold handles to misuse,
and a shrunk program starts from the simplest operation, opening a stream.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.fuzz.program import NAMES, PEER_CALLS, Code, Instruction, Program

#: Operation codes in the order hypothesis shrinks towards, the common ones repeated: programs mostly
#: create, use and drop handles, so that misuse meets handles that exist and freed slots get reused.
WEIGHTED = (
    Code.OPEN_IN,
    Code.OPEN_OUT,
    Code.COUNTER_NEW,
    Code.READ,
    Code.DROP_IN,
    Code.OPEN_IN,
    Code.READ,
    Code.DROP_IN,
    Code.GIVE,
    Code.SHOW,
    *Code,
)
MAX_STEPS = 16
#: Registers and components weighted towards the first: uses then often meet what was created.
REGISTER_CHOICES = (0, 0, 0, 1, 1, 1, 2, 3)


def _operand(draw: st.DrawFn, code: Code) -> int:
    if code is Code.OPEN_IN:
        return draw(st.integers(0, 15))
    if code in (Code.SUBSCRIBE, Code.COPY):
        return draw(st.sampled_from(REGISTER_CHOICES))
    if code is Code.GUESS:
        return draw(st.sampled_from((1, -1, 2, -2, 3)))
    if code is Code.KEEP:
        return draw(st.integers(0, 1))
    if code is Code.COUNTER_NEW:
        return draw(st.integers(0, 9))
    return 0


@st.composite
def instructions(draw: st.DrawFn, length: int) -> Instruction:
    """One operation by one of the chain's components; peer calls only where there is a next component."""
    component = draw(st.sampled_from((NAMES[0], *NAMES[:length])))
    leaf = component == NAMES[length - 1]
    code = draw(st.sampled_from([c for c in WEIGHTED if not (leaf and c in PEER_CALLS)]))
    register = draw(st.sampled_from(REGISTER_CHOICES))
    return Instruction(component, code, register, _operand(draw, code))


CREATORS = (Code.OPEN_IN, Code.OPEN_OUT, Code.COUNTER_NEW)
#: What a register holds after each creating operation, and the operation that uses or drops each kind.
MADE = {Code.OPEN_IN: "input", Code.OPEN_OUT: "output", Code.COUNTER_NEW: "counter", Code.HAND_BACK: "input"}
USE = {"input": Code.READ, "output": Code.WRITE, "pollable": Code.READY, "counter": Code.BUMP}
DROP = {"input": Code.DROP_IN, "output": Code.DROP_OUT, "pollable": Code.DROP_POLL, "counter": Code.DROP_COUNTER}
#: What each step means to do, in the order hypothesis shrinks towards: typed uses and drops find the
#: handle a register was last given, so drops free slots that creations then reuse; ``any`` is any operation.
INTENTS = ("create", "drop", "use", "create", "drop", "use", "any", "any")


@st.composite
def drafts(draw: st.DrawFn, length: int) -> Instruction | tuple[str, str, int, Code, int]:
    """One step before its kind is known: any instruction, or (intent, component, register, creator, operand)."""
    intent = draw(st.sampled_from(INTENTS))
    if intent == "any":
        return draw(instructions(length))
    component = draw(st.sampled_from((NAMES[0], *NAMES[:length])))
    register = draw(st.sampled_from(REGISTER_CHOICES))
    return intent, component, register, draw(st.sampled_from(CREATORS)), draw(st.integers(0, 15))


def typed(length: int, steps: list[Instruction | tuple[str, str, int, Code, int]]) -> Program:
    """The program the drafts describe: each use or drop picks the operation for what its register last got.

    The kinds are worked out here, after drawing, so the drafts stay independent of each other
    and hypothesis shrinks a program by deleting any of them.
    """
    kinds: dict[tuple[str, int], str] = {}
    program: list[Instruction] = []
    for draft in steps:
        if isinstance(draft, Instruction):
            step = draft
        else:
            intent, component, register, creator, operand = draft
            kind = kinds.get((component, register))
            if intent == "create" or kind is None:
                step = Instruction(
                    component, creator, register, operand % 10 if creator is Code.COUNTER_NEW else operand
                )
            else:
                step = Instruction(component, (USE if intent == "use" else DROP)[kind], register)
        if step.code in MADE:
            kinds[(step.component, step.register)] = MADE[step.code]
        elif step.code is Code.SUBSCRIBE:
            kinds[(step.component, step.operand & 3)] = "pollable"
        elif step.code is Code.COPY and (step.component, step.register) in kinds:
            kinds[(step.component, step.operand & 3)] = kinds[(step.component, step.register)]
        program.append(step)
    return Program(length, tuple(program))


@st.composite
def programs(draw: st.DrawFn, max_steps: int = MAX_STEPS) -> Program:
    """A program over 2 or 3 components of 4 to ``max_steps`` steps.

    A step meant as a use or a drop picks the operation for the kind of handle its register last
    got (``READ`` for an input stream, ...): otherwise most programs would trap on their second
    step, on a type mismatch, alike everywhere.
    """
    length = draw(st.integers(2, 3))
    return typed(length, draw(st.lists(drafts(length), min_size=4, max_size=max_steps)))
