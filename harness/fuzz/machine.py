"""The interpreter's operations executed in Python, under a handle model, for oracles and labels.

``Machine`` runs a ``Program`` as the interpreter guest would (registers, inbox, keep mode,
stream contents, counter cells, the host's streams and reps) over a table model:

* ``PseudoMachine``: the 2023 global table, written here from its rules (wasmtime-wasi
  ``preview2/table.rs``, 2023: keys from 3, never reused, ``NotPresent``, ``WrongType``,
  ``HasChildren``, deletion checked in that order) and from the pseudo wrapper's documented
  borrow scope (indices lent into a call, whose drop ends the borrow). It is the oracle of
  check (b): what ``pseudo`` must do, independently of ``harness.execute.backends``' tables.
* ``RealMachine``: per-component tables as CanonicalABI.md defines them (``spec_table``), used
  for the labels: which index each component uses, and how that index stands in its history.

Both record, per step, every index use and its ``Standing`` in the using component's own
history (created, received as own or borrow, dropped, given away, scope ended, received as
data), the same facts the differ reads from op logs, here derived from the program itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.compare.provenance import Standing
from harness.execute.host_trap import HostTrap
from harness.execute.spec_table import HOST, Layout, ResourceType, SpecTables
from harness.fuzz.program import DEFAULT_INBOX, REGISTERS, Code, Instruction, Program
from harness.model.vocabulary import TrapKind

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: Where the leaf's counter cells start, and their size (the interpreter's ``$cells``).
FIRST_CELL, CELL_SIZE = 2048, 8
FIRST_KEY = 3
INPUT, OUTPUT, POLLABLE, COUNTER = "input-stream", "output-stream", "pollable", "counter"
U32 = (1 << 32) - 1


class Trapped(Exception):
    """The step traps with ``kind``."""

    def __init__(self, kind: TrapKind, why: str) -> None:
        super().__init__(why)
        self.kind = kind


@dataclass(frozen=True)
class Use:
    """One index use in a step: who used which index as what, and how it stood."""

    component: str
    index: int
    standing: Standing


@dataclass(frozen=True)
class StepResult:
    """What one step does under a model: a value or a trap kind (None: not run), destroys, uses."""

    value: int | None
    trap: TrapKind | None
    ran: bool
    destroyed: tuple[tuple[str, int], ...]
    uses: tuple[Use, ...]

    def short(self) -> str:
        if not self.ran:
            return "not run"
        return f"trap {self.trap}" if self.trap is not None else f"value {self.value}"


@dataclass(frozen=True)
class Run:
    steps: tuple[StepResult, ...]
    #: Host resources live at the end, as (resource, rep).
    live: tuple[tuple[str, int], ...]


@dataclass
class _Stream:
    resource: str
    data: bytearray
    parent: int | None = None


@dataclass
class _Host:
    """The host's streams by rep (reps from 1, in creation order), as ``backends/host.py`` serves them."""

    live: dict[int, _Stream] = field(default_factory=dict)
    next_rep: int = 1
    destroyed: list[tuple[str, int]] = field(default_factory=list)

    def create(self, stream: _Stream) -> int:
        rep, self.next_rep = self.next_rep, self.next_rep + 1
        self.live[rep] = stream
        return rep

    def read(self, rep: int) -> int:
        stream = self.live[rep]
        if not stream.data:
            return -1
        return stream.data.pop(0)

    def destroy(self, resource: str, rep: int) -> None:
        if any(s.parent == rep for s in self.live.values()):
            raise Trapped(TrapKind.HAS_CHILDREN, f"{resource} rep {rep} has a live pollable")
        del self.live[rep]
        self.destroyed.append((resource, rep))


@dataclass
class _History:
    """One component's account of the handles it came to hold, per (index, resource type), as provenance keeps it.

    An index used as a type it is not held as was never held as that type (``never-held``),
    unless it once was and was released; the latest account of an index wins.
    """

    held: set[tuple[int, str]] = field(default_factory=set)
    released: dict[tuple[int, str], tuple[int, Standing]] = field(default_factory=dict)
    latest: dict[int, str] = field(default_factory=dict)
    data: dict[int, int] = field(default_factory=dict)
    #: ``own`` or ``borrow``, per held handle.
    kinds: dict[tuple[int, str], str] = field(default_factory=dict)
    clock: int = 0

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def hold(self, index: int, resource: str, kind: str = "own") -> None:
        self.held.add((index, resource))
        self.latest[index] = resource
        self.released.pop((index, resource), None)
        self.kinds[(index, resource)] = kind

    def kind(self, index: int, resource: str) -> str | None:
        return self.kinds.get((index, resource)) if (index, resource) in self.held else None

    def release(self, index: int, resource: str, how: Standing) -> None:
        if (index, resource) in self.held:
            self.held.discard((index, resource))
            self.released[(index, resource)] = (self._tick(), how)

    def receive(self, value: int) -> None:
        self.data[value] = self._tick()

    def standing(self, index: int, resource: str) -> Standing:
        if (index, resource) in self.held:
            return Standing.HELD
        former = self.released.get((index, resource))
        other = former is None and any(i == index for i, _ in self.held)
        if former is None and not other and index in self.latest:
            former = self.released.get((index, self.latest[index]))
        receipt = self.data.get(index)
        if receipt is not None and (former is None or receipt > former[0]):
            return Standing.RECEIVED_AS_DATA
        return Standing.NEVER_HELD if former is None else former[1]


class Machine:
    """The interpreter's semantics; subclasses keep the handle tables."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.regs = {c: [0] * REGISTERS for c in program.components}
        self.inbox = dict.fromkeys(program.components, DEFAULT_INBOX)
        self.keep = dict.fromkeys(program.components, 0)
        self.history = {c: _History() for c in program.components}
        self.host = _Host()
        self.cells: dict[int, int] = {}
        self.next_cell = FIRST_CELL
        self.uses: list[Use] = []

    # --- what a table model provides -------------------------------------------

    def new_handle(self, component: str, resource: str, rep: int, parent: int | None = None) -> int:
        raise NotImplementedError

    def host_use(self, component: str, index: int, resource: str) -> int:
        """The rep behind ``index`` used as ``resource`` by a host method call."""
        raise NotImplementedError

    def drop(self, component: str, index: int, resource: str) -> None:
        raise NotImplementedError

    def give(self, caller: str, callee: str, index: int, resource: str, used: bool = True) -> int:
        """An own passed from ``caller`` to ``callee`` (``used``: an index the caller chose): what the callee gets."""
        raise NotImplementedError

    def lend(self, caller: str, callee: str, index: int) -> int:
        """Runs the callee's ``lend`` export on a borrow of ``index``; its value."""
        raise NotImplementedError

    def counter_rep(self, component: str, index: int) -> int:
        raise NotImplementedError

    # --- running --------------------------------------------------------------

    def used(self, component: str, index: int, resource: str) -> None:
        self.uses.append(Use(component, index, self.history[component].standing(index, resource)))

    def run(self) -> Run:
        steps: list[StepResult] = []
        trapped = False
        for step in self.program.steps:
            if trapped:
                steps.append(StepResult(None, None, False, (), ()))
                continue
            self.uses, self.host.destroyed = [], []
            try:
                value: int | None = self.execute(step)
                trap = None
            except Trapped as err:
                value, trap, trapped = None, err.kind, True
            steps.append(StepResult(value, trap, True, tuple(self.host.destroyed), tuple(self.uses)))
        live = tuple((s.resource, rep) for rep, s in sorted(self.host.live.items()))
        return Run(tuple(steps), live)

    def execute(self, step: Instruction) -> int:
        c, r, x = step.component, step.register, step.operand
        regs = self.regs[c]
        code = step.code
        if code is Code.OPEN_IN:
            data = bytearray(ALPHABET[(x & 15) * 4 : (x & 15) * 4 + 4])
            regs[r] = self.new_handle(c, INPUT, self.host.create(_Stream(INPUT, data)))
        elif code is Code.OPEN_OUT:
            regs[r] = self.new_handle(c, OUTPUT, self.host.create(_Stream(OUTPUT, bytearray())))
        elif code is Code.READ:
            return self.host.read(self.host_use(c, regs[r], INPUT))
        elif code is Code.WRITE:
            self.host_use(c, regs[r], OUTPUT)
            return 1
        elif code in (Code.DROP_IN, Code.DROP_OUT, Code.DROP_POLL, Code.DROP_COUNTER):
            resource = {Code.DROP_IN: INPUT, Code.DROP_OUT: OUTPUT, Code.DROP_POLL: POLLABLE}.get(code, COUNTER)
            self.drop(c, regs[r], resource)
        elif code is Code.SUBSCRIBE:
            parent = regs[r]
            rep = self.host_use(c, parent, INPUT)
            regs[x & 3] = self.new_handle(c, POLLABLE, self.host.create(_Stream(POLLABLE, bytearray(), rep)), parent)
        elif code is Code.READY:
            self.host_use(c, regs[r], POLLABLE)
            return 1
        elif code is Code.GIVE:
            callee = self.program.next_of(c)
            self.regs[callee][self.inbox[callee]] = self.give(c, callee, regs[r], INPUT)
        elif code is Code.LEND:
            return self.lend(c, self.program.next_of(c), regs[r])
        elif code is Code.HAND_BACK:
            callee = self.program.next_of(c)
            regs[r] = self.give(callee, c, self.regs[callee][self.inbox[callee]], INPUT)
        elif code is Code.POKE:
            callee = self.program.next_of(c)
            self.regs[callee][self.inbox[callee]] = regs[r]
            self.received_data(callee, regs[r])
        elif code is Code.GUESS:
            regs[r] = (regs[r] + x) & U32
        elif code is Code.COPY:
            regs[x & 3] = regs[r]
        elif code is Code.SHOW:
            return regs[r]
        elif code is Code.KEEP:
            self.keep[c] = x
        elif code is Code.INBOX:
            self.inbox[c] = r
        elif code is Code.COUNTER_NEW:
            cell, self.next_cell = self.next_cell, self.next_cell + CELL_SIZE
            self.cells[cell] = x
            regs[r] = self.new_counter(c, cell)
        elif code is Code.BUMP:
            cell = self.counter_rep(c, regs[r])
            self.cells[cell] += 1
            return self.cells[cell]
        elif code is Code.CONSUME:
            return self.consume(c, regs[r])
        return 0

    def received_data(self, component: str, value: int) -> None:
        self.history[component].receive(value)

    def new_counter(self, component: str, cell: int) -> int:
        leaf = self.program.leaf
        index = self.new_handle(leaf, COUNTER, cell)
        if component == leaf:
            return index
        # The constructor's own result: moved from the leaf to the caller.
        return self.give(leaf, component, index, COUNTER, used=False)

    def consume(self, component: str, index: int) -> int:
        leaf = self.program.leaf
        if component != leaf:
            index = self.give(component, leaf, index, COUNTER)
        cell = self.counter_rep(leaf, index)
        value = self.cells[cell]
        self.drop(leaf, index, COUNTER)
        return value


class PseudoMachine(Machine):
    """The 2023 global table: one ``u32`` key space for every component, keys from 3, never reused."""

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        self.entries: dict[int, tuple[str, int]] = {}
        self.children: dict[int, set[int]] = {}
        self.parent: dict[int, int] = {}
        self.next_key = FIRST_KEY
        #: Per component: the indices lent into the call it is serving (the pseudo wrapper's borrow scope).
        self.lent: dict[str, set[int]] = {c: set() for c in program.components}

    def _get(self, index: int, resource: str) -> tuple[str, int]:
        entry = self.entries.get(index)
        if entry is None:
            raise Trapped(TrapKind.UNKNOWN_HANDLE, f"NotPresent: {index}")
        if entry[0] != resource:
            raise Trapped(TrapKind.WRONG_TYPE, f"WrongType: {index} is a {entry[0]}")
        return entry

    def new_handle(self, component: str, resource: str, rep: int, parent: int | None = None) -> int:
        key, self.next_key = self.next_key, self.next_key + 1
        self.entries[key] = (resource, rep)
        if parent is not None:
            self.parent[key] = parent
            self.children.setdefault(parent, set()).add(key)
        self.history[component].hold(key, resource)
        return key

    def host_use(self, component: str, index: int, resource: str) -> int:
        self.used(component, index, resource)
        return self._get(index, resource)[1]

    def drop(self, component: str, index: int, resource: str) -> None:
        self.used(component, index, resource)
        if index in self.lent[component]:
            self._get(index, resource)
            self.lent[component].discard(index)
            self.history[component].release(index, resource, Standing.AFTER_DROP)
            return
        # Table::delete: NotPresent, then HasChildren, then WrongType (table.rs, 2023).
        if index not in self.entries:
            raise Trapped(TrapKind.UNKNOWN_HANDLE, f"NotPresent: {index}")
        if self.children.get(index):
            raise Trapped(TrapKind.HAS_CHILDREN, f"HasChildren: {index}")
        _, rep = self._get(index, resource)
        if resource == COUNTER:
            self.host.destroyed.append((COUNTER, rep))
        else:
            self.host.destroy(resource, rep)
        del self.entries[index]
        parent = self.parent.pop(index, None)
        if parent is not None:
            self.children[parent].discard(index)
        self.history[component].release(index, resource, Standing.AFTER_DROP)

    def give(self, caller: str, callee: str, index: int, resource: str, used: bool = True) -> int:
        """The ``u32`` crosses unchanged and unchecked; each side's account moves it."""
        if used:
            self.used(caller, index, resource)
        self.history[caller].release(index, resource, Standing.AFTER_GIVING)
        self.history[callee].hold(index, resource)
        return index

    def lend(self, caller: str, callee: str, index: int) -> int:
        self.used(caller, index, INPUT)
        self.lent[callee].add(index)
        self.history[callee].hold(index, INPUT, "borrow")
        value = self.host.read(self.host_use(callee, index, INPUT))
        if self.keep[callee]:
            self.regs[callee][self.inbox[callee]] = index
        else:
            self.drop(callee, index, INPUT)
        self.lent[callee].clear()
        if self.history[callee].kind(index, INPUT) == "borrow":
            self.history[callee].release(index, INPUT, Standing.BORROW_PAST_CALL)
        return value

    def counter_rep(self, component: str, index: int) -> int:
        self.used(component, index, COUNTER)
        return self._get(index, COUNTER)[1]


class RealMachine(Machine):
    """Per-component tables (CanonicalABI.md, one typed table per instance), for labels."""

    def __init__(self, program: Program) -> None:
        super().__init__(program)
        self.tables = SpecTables(Layout.SINGLE, list(program.components))
        self.counter_type = ResourceType(COUNTER, program.leaf)

    def _type(self, resource: str) -> ResourceType:
        return self.counter_type if resource == COUNTER else ResourceType(resource, HOST)

    def _trap(self, err: HostTrap) -> Trapped:
        return Trapped(err.kind, str(err))

    def new_handle(self, component: str, resource: str, rep: int, parent: int | None = None) -> int:
        index = self.tables.lower_own(component, self._type(resource), rep)
        self.history[component].hold(index, resource)
        return index

    def host_use(self, component: str, index: int, resource: str) -> int:
        self.used(component, index, resource)
        self.tables.begin_call(component, HOST)
        try:
            rep = self.tables.lift_borrow(component, self._type(resource), index)
        except HostTrap as err:
            raise self._trap(err) from err
        self.tables.end_call()
        return rep

    def drop(self, component: str, index: int, resource: str) -> None:
        self.used(component, index, resource)
        try:
            dropped = self.tables.resource_drop(component, self._type(resource), index)
        except HostTrap as err:
            raise self._trap(err) from err
        self.history[component].release(index, resource, Standing.AFTER_DROP)
        if dropped.destroy:
            if resource == COUNTER:
                self.host.destroyed.append((COUNTER, dropped.rep))
            else:
                self.host.destroy(resource, dropped.rep)

    def give(self, caller: str, callee: str, index: int, resource: str, used: bool = True) -> int:
        if used:
            self.used(caller, index, resource)
        try:
            rep = self.tables.lift_own(caller, self._type(resource), index)
        except HostTrap as err:
            raise self._trap(err) from err
        self.history[caller].release(index, resource, Standing.AFTER_GIVING)
        received = self.tables.lower_own(callee, self._type(resource), rep)
        self.history[callee].hold(received, resource)
        return received

    def lend(self, caller: str, callee: str, index: int) -> int:
        self.used(caller, index, INPUT)
        input_type = self._type(INPUT)
        try:
            self.tables.begin_call(caller, callee)
            borrowed = self.tables.lower_borrow(callee, input_type, self.tables.lift_borrow(caller, input_type, index))
            self.history[callee].hold(borrowed, INPUT, "borrow")
            value = self.host.read(self.host_use(callee, borrowed, INPUT))
            if self.keep[callee]:
                self.regs[callee][self.inbox[callee]] = borrowed
            else:
                self.drop(callee, borrowed, INPUT)
            self.tables.end_call()
        except HostTrap as err:
            raise self._trap(err) from err
        return value

    def counter_rep(self, component: str, index: int) -> int:
        self.used(component, index, COUNTER)
        try:
            if component == self.program.leaf:
                return self.tables.resource_rep(component, self.counter_type, index)
            self.tables.begin_call(component, self.program.leaf)
            rep = self.tables.lift_borrow(component, self.counter_type, index)
            self.tables.end_call()
            return rep
        except HostTrap as err:
            raise self._trap(err) from err
