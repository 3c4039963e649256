"""Generated handle programs as data: a chain of interpreter components and the operations they run.

Every component runs ``interpreter.wat`` (the last of the chain its ``leaf`` variant, the
others its ``node`` variant, compiled once each): four handle registers, and one operation
per ``driver.run(op, arg)`` with ``arg = register | operand << 8``. A program is only the
chain's length and its steps, so it shrinks well and every program of a length shares one
wrapped component.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

#: Handle registers per component (the interpreter keeps four).
REGISTERS = 4
#: The inbox register until an ``INBOX`` op moves it (the interpreter's ``$inbox``).
DEFAULT_INBOX = 3
#: Component names, in chain order: each calls the next one's ``peer``; the last defines ``counter``.
NAMES = ("a", "b", "c")
INTERPRETER = Path(__file__).with_name("interpreter.wat")


class Code(enum.IntEnum):
    """The interpreter's operations (its ``driver.run`` ``op``)."""

    OPEN_IN = 1
    OPEN_OUT = 2
    READ = 3
    WRITE = 4
    DROP_IN = 5
    DROP_OUT = 6
    SUBSCRIBE = 7
    READY = 8
    DROP_POLL = 9
    GIVE = 10
    LEND = 11
    HAND_BACK = 12
    POKE = 13
    GUESS = 14
    COPY = 15
    SHOW = 16
    KEEP = 17
    INBOX = 18
    COUNTER_NEW = 19
    BUMP = 20
    CONSUME = 21
    DROP_COUNTER = 22


#: Operations that call the next component: never run by the last one.
PEER_CALLS = frozenset({Code.GIVE, Code.LEND, Code.HAND_BACK, Code.POKE})


@dataclass(frozen=True)
class Instruction:
    """One step: which component runs which operation on which register."""

    component: str
    code: Code
    register: int
    operand: int = 0

    @property
    def arg(self) -> int:
        return self.register | (self.operand << 8)

    def words(self) -> str:
        """The operation in a scenario's ``does`` words."""
        r = f"r{self.register}"
        texts = {
            Code.OPEN_IN: f"{r} := open-input over 4 bytes (#{self.operand})",
            Code.OPEN_OUT: f"{r} := open-output",
            Code.READ: f"read 1 byte from {r}",
            Code.WRITE: f"write 1 byte to {r}",
            Code.DROP_IN: f"drop {r} as input-stream",
            Code.DROP_OUT: f"drop {r} as output-stream",
            Code.SUBSCRIBE: f"r{self.operand} := subscribe to {r}",
            Code.READY: f"ready of pollable {r}",
            Code.DROP_POLL: f"drop {r} as pollable",
            Code.GIVE: f"give {r} to the next component as own (take)",
            Code.LEND: f"lend {r} to the next component as borrow (lend)",
            Code.HAND_BACK: f"{r} := what the next component hands back",
            Code.POKE: f"send {r}'s value to the next component as a u32 (poke)",
            Code.GUESS: f"{r} := {r} + {self.operand} (a guessed index)",
            Code.COPY: f"r{self.operand} := {r}",
            Code.SHOW: f"return {r}'s value",
            Code.KEEP: f"its lend export {'keeps' if self.operand else 'drops'} the borrow it gets",
            Code.INBOX: f"take, lend and poke now put what arrives into {r}",
            Code.COUNTER_NEW: f"{r} := a new counter starting at {self.operand}",
            Code.BUMP: f"bump counter {r} by 1",
            Code.CONSUME: f"give counter {r} to consume",
            Code.DROP_COUNTER: f"drop {r} as counter",
        }
        return f"{self.component}: {texts[self.code]}"


@dataclass(frozen=True)
class Program:
    """A chain of ``length`` components (``a`` calls ``b`` calls ``c``) and the steps they run."""

    length: int
    steps: tuple[Instruction, ...]

    @property
    def components(self) -> tuple[str, ...]:
        return NAMES[: self.length]

    @property
    def leaf(self) -> str:
        return self.components[-1]

    def next_of(self, component: str) -> str:
        """The component whose ``peer`` (and, for ``counter``, the leaf's ``counters``) ``component`` imports."""
        return self.components[self.components.index(component) + 1]

    def text(self) -> str:
        """One line per step, for messages and titles."""
        return "; ".join(f"{n + 1}. {s.words()}" for n, s in enumerate(self.steps))


def variant(kind: str) -> str:
    """The interpreter's text for a ``node`` or a ``leaf`` component (lines marked for the other removed)."""
    other = {"node": ";; leaf", "leaf": ";; node"}[kind]
    lines = INTERPRETER.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.rstrip().endswith(other)) + "\n"
