"""The differ: lines two traces of a scenario up step by step and explains each difference.

Pure functions over Traces. A step diverges when its outcome, its host events or
its op log differ; handle values differ between the models by design, so ops are
compared by each handle's canonical name (``harness.compare.provenance``), not by
raw index. Each divergence gets a category from evidence the harness recorded
itself: the provenance of the index use that makes the runs differ, the trap
kinds, and the host's event log; never from what a guest emitted, and never from
a per-scenario table. The guest's probe emits are narration: shown, not used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.compare.provenance import Provenance, Seen, Standing, provenance
from harness.model.errors import InputError
from harness.model.oplog import Action, HandleKind
from harness.model.trace import Emit, Outcome, Status, StepTrace, Trace, TraceSet
from harness.model.vocabulary import Category, TrapKind


@dataclass(frozen=True)
class Explanation:
    """What a category means for guest code that relied on pseudo-handle behaviour."""

    summary: str
    guest_sees: str
    do_instead: str


EXPLANATIONS: Mapping[Category, Explanation] = {
    Category.NUMBERING: Explanation(
        "Index values differ: pseudo-handles are global keys from 3, real handles are per-component indices from 1.",
        "Guest code that prints, compares or computes with a handle's value sees other numbers.",
        "Treat handles as opaque: never hard-code, compare with 0 or derive meaning from an index.",
    ),
    Category.ISOLATION: Explanation(
        "An index that named another component's resource in the global table means nothing in this component's table.",
        "Guest code that receives a handle as a plain integer (in a u32, a record or a list) and uses it "
        "now traps (unknown-handle, or wrong-type where its own table holds another type at that index), "
        "or reaches one of its own resources.",
        "Pass handles as own<T> or borrow<T> in the WIT so the canonical ABI moves them between tables.",
    ),
    Category.FORGERY: Explanation(
        "Guessing an index no longer reaches other components' resources.",
        "Guest code that uses an index nobody gave it (or gave it as another resource type) now traps with "
        "unknown-handle or wrong-type, or silently reaches its own resource that happens to have that index.",
        "Only use handles received through the WIT; ask for access through an interface.",
    ),
    Category.OWNERSHIP_TRANSFER: Explanation(
        "Passing an own moves the handle out of the caller's table.",
        "Guest code that keeps using an index after passing it as own finds the slot empty or reused: it traps "
        "(unknown-handle, or wrong-type when a resource of another type took the slot) or silently reaches "
        "the resource that took it.",
        "Consider the handle gone once passed as own; pass borrow<T> to keep it, or get it back (hand-back).",
    ),
    Category.BORROW_RULES: Explanation(
        "Borrows are scoped to a call and block the owner from giving the resource away while lent.",
        "Callee code that keeps or never drops a borrow, or code that passes a lent handle or a received "
        "borrow on as own, now traps (borrow-outstanding, own-lent, borrow-as-own, unknown-handle).",
        "Drop every borrow before returning; never store it; do not pass a handle as own while it is lent.",
    ),
    Category.USE_AFTER_FREE: Explanation(
        "A freed index is reused within the component, or no longer exists.",
        "Guest code that uses an index after dropping it traps, or silently reaches a newer resource "
        "that took the freed slot.",
        "Forget an index when dropping it; never drop twice.",
    ),
    Category.DESTRUCTOR_TIMING: Explanation(
        "The host destructor runs at another point: when the last own is dropped, not when any holder drops.",
        "Guest code that relies on a resource being destroyed (or alive) at a given step sees it earlier or later.",
        "Drop exactly the owns you hold; do not rely on another component's drop to release yours.",
    ),
    Category.LEAK: Explanation(
        "Different host resources are still live when the scenario ends.",
        "Resources a guest expected to be released stay alive (or vice versa) until the store is dropped.",
        "Drop every own you hold; a borrow's drop does not release the resource.",
    ),
    Category.TRAP_KIND: Explanation(
        "Both models trap, for different reasons.",
        "Error handling keyed on the trap's message or kind sees another one.",
        "Do not depend on the exact trap; treat any trap as fatal for the instance.",
    ),
    Category.OTHER: Explanation(
        "A difference no rule explains.",
        "Unclassified: read the two runs side by side.",
        "Investigate: this may be a host bug rather than an intended change.",
    ),
}

#: Probe tags whose value a guest says is a handle index: shown renamed per component so
#: the narration of two backends lines up. No category is read from any tag.
HANDLE_TAGS = frozenset({"handle", "received", "gave-own", "lent", "kept-borrow", "dropped", "guessed", "raw", "zero"})
#: Trap kinds that only a borrow rule raises: their divergences are borrow-rules.
BORROW_TRAPS = frozenset({TrapKind.OWN_LENT, TrapKind.BORROW_OUTSTANDING, TrapKind.BORROW_AS_OWN})
#: Tags after which the component says it no longer holds the index it reported.
_RELEASING_TAGS = {"dropped", "gave-own"}
#: The category of an index use that is not legitimate, by how the index stood.
STANDING_CATEGORY: Mapping[Standing, Category] = {
    Standing.AFTER_DROP: Category.USE_AFTER_FREE,
    Standing.AFTER_GIVING: Category.OWNERSHIP_TRANSFER,
    Standing.BORROW_PAST_CALL: Category.BORROW_RULES,
    Standing.OWN_WHILE_LENT: Category.BORROW_RULES,
    Standing.BORROW_AS_OWN: Category.BORROW_RULES,
    Standing.RECEIVED_AS_DATA: Category.ISOLATION,
    Standing.NEVER_HELD: Category.FORGERY,
}


@dataclass(frozen=True)
class Divergence:
    """One place where two runs of a scenario differ."""

    #: 0-based step index, or None for teardown.
    step: int | None
    category: Category
    left: str
    right: str
    detail: str
    #: True when it only follows from an earlier divergence (a step not run after a trap).
    consequence: bool = False
    #: The index use that makes the runs differ, in plain words, on the left and the right
    #: backend: which component used which index and where it came from ("" when none).
    left_provenance: str = ""
    right_provenance: str = ""


@dataclass(frozen=True)
class ScenarioDiff:
    scenario: str
    left: str
    right: str
    divergences: tuple[Divergence, ...]

    @property
    def same(self) -> bool:
        return not self.divergences

    @property
    def first(self) -> Divergence | None:
        return self.divergences[0] if self.divergences else None

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories of the divergences that are not mere consequences, sorted."""
        return tuple(sorted({d.category.value for d in self.divergences if not d.consequence}))


def _normalized_emits(trace: Trace) -> list[list[tuple[str, str, str]]]:
    """Per step, emits with handle values renamed h1, h2... per component.

    A name is retired once the component says it dropped or gave the handle away:
    real handles reuse freed slots, so the same index can later name a new
    resource, which must get a new name as it would under pseudo-handles.
    """
    names: dict[tuple[str, int], str] = {}
    counters: dict[str, int] = {}
    steps = []
    for step in trace.steps:
        row = []
        for emit in step.emits:
            if emit.tag in HANDLE_TAGS:
                key = (emit.component, emit.value)
                if key not in names:
                    counters[emit.component] = counters.get(emit.component, 0) + 1
                    names[key] = f"h{counters[emit.component]}"
                row.append((emit.component, emit.tag, names[key]))
                if emit.tag in _RELEASING_TAGS:
                    del names[key]
            else:
                row.append((emit.component, emit.tag, str(emit.value)))
        steps.append(row)
    return steps


def _same_outcome(left: Outcome, right: Outcome) -> bool:
    return (left.status, left.value, left.trap) == (right.status, right.value, right.trap)


_Resource = tuple[str, int]


def _moved_destroys(left: StepTrace, right: StepTrace) -> set[_Resource]:
    """Resources destroyed in this step by one run only, when that is all that differs here."""
    if not _same_outcome(left.outcome, right.outcome):
        return set()
    if [e for e in left.events if e.kind != "destroy"] != [e for e in right.events if e.kind != "destroy"]:
        return set()
    return {(e.resource, e.rep) for e in set(left.events) ^ set(right.events)}


def _destroyed(trace: Trace) -> set[_Resource]:
    return {(e.resource, e.rep) for step in trace.steps for e in step.events if e.kind == "destroy"}


@dataclass(frozen=True)
class _Sides:
    """Both runs of one step with their provenance."""

    left: Trace
    right: Trace
    left_seen: tuple[Seen, ...]
    right_seen: tuple[Seen, ...]


def _lined_up(left: Sequence[Seen], right: Sequence[Seen]) -> int | None:
    """The position of the first op that differs between two runs of a step (None: every op lines up)."""
    for position, (a, b) in enumerate(zip(left, right, strict=False)):
        if not a.lines_up_with(b):
            return position
    return None if len(left) == len(right) else min(len(left), len(right))


def _same_shape(a: Seen, b: Seen) -> bool:
    x, y = a.op, b.op
    return (x.component, x.action, x.func, x.handle) == (y.component, y.action, y.func, y.handle)


def _divergent_uses(sides: _Sides, index: int) -> list[Seen]:
    """The index use that makes the runs differ, on each run where there is one; the deciding run's first.

    When one run traps, it is the last index use of that run's step (the op the
    canonical ABI or the host refused), with the op at the same place in the other
    run; otherwise the first op that differs. A use that is not legitimate comes
    first: the run where the index is not held is the one that explains the step.
    """
    runs = (sides.left_seen, sides.right_seen)
    outcomes = (sides.left.steps[index].outcome, sides.right.steps[index].outcome)
    trapped = [side for side in (0, 1) if outcomes[side].status is Status.TRAP]
    first = _lined_up(*runs)
    found: list[Seen] = []
    if len(trapped) == 1:
        mine, other = runs[trapped[0]], runs[1 - trapped[0]]
        position = next((at for at in range(len(mine) - 1, -1, -1) if mine[at].use is not None), None)
        if position is not None:
            found.append(mine[position])
            aligned = first is None or position <= first
            if position < len(other) and aligned and _same_shape(mine[position], other[position]):
                found.append(other[position])
    if not found and first is not None:
        found = [run[first] for run in runs if first < len(run)]
    return sorted(found, key=lambda seen: seen.use is None or seen.use.legitimate)


def _raw_values_differ(sides: _Sides, left_p: Provenance, right_p: Provenance, upto: int) -> bool:
    """Whether the runs saw a handle (by name the same) under different raw numbers, up to step ``upto``."""
    for step in range(upto + 1):
        for a, b in zip(left_p.steps[step], right_p.steps[step], strict=False):
            handle = a.op.handle not in (HandleKind.DATA, HandleKind.REP) and a.op.action is not Action.RETURN
            if (handle or a.name is not None) and a.lines_up_with(b) and a.op.index != b.op.index:
                return True
    return False


def _host_answered_alike(left: Trace, right: Trace, upto: int) -> bool:
    """False when the host answered the same request differently in the two runs: a host fault.

    A ``call`` event's detail is ``<method> -> <digest of what the guest got>``. Calls are
    compared in order until the runs ask something different (their control flow parted).
    """
    for step in range(upto + 1):
        calls = [[e for e in trace.steps[step].events if e.kind == "call"] for trace in (left, right)]
        for a, b in zip(*calls, strict=False):
            a_method, _, a_answer = a.detail.partition(" -> ")
            b_method, _, b_answer = b.detail.partition(" -> ")
            if (a.resource, a.rep, a_method) != (b.resource, b.rep, b_method):
                break
            if a_answer != b_answer:
                return False
    return True


def _numbering(sides: _Sides, left_p: Provenance, right_p: Provenance, index: int) -> bool:
    """Legitimate uses under different raw numbers, the same host answers, and a different outcome.

    The outcome differs in the value, or in the ops (control flow that branched on an
    index), or by the guest trapping on one side only; a handle trap on a legitimate
    use, or any other difference, is not explained by the value of an index.
    """
    if any(seen.use is not None and not seen.use.legitimate for seen in sides.left_seen + sides.right_seen):
        return False
    if not _raw_values_differ(sides, left_p, right_p, index):
        return False
    if not _host_answered_alike(sides.left, sides.right, index):
        return False
    lo, ro = sides.left.steps[index].outcome, sides.right.steps[index].outcome
    if lo.status is Status.VALUE and ro.status is Status.VALUE:
        return lo.value != ro.value or _lined_up(sides.left_seen, sides.right_seen) is not None
    guest_trap = {lo.status, ro.status} == {Status.VALUE, Status.TRAP} and TrapKind.GUEST_TRAP in (lo.trap, ro.trap)
    return guest_trap


def _evidence(seen: Seen | None, trace: Trace, prov: Provenance, index: int) -> str:
    """One run's side of the divergent use, in plain words, with how its step ended.

    Without a divergent use, the raw numbers of the called component's handles say
    what a guest computing with an index saw.
    """
    outcome = trace.steps[index].outcome
    ended = outcome.short() + (f" ({outcome.message})" if outcome.status is Status.TRAP and outcome.message else "")
    if seen is not None and seen.use is not None:
        return f"{seen.use.describe(seen.op)}; on {trace.backend}: {ended}"
    component = trace.steps[index].component
    numbers = [f"{h.name}={h.index}" for h in prov.holdings if h.component == component and h.step <= index]
    if not numbers:
        return f"on {trace.backend}: {ended}"
    shown = ", ".join(numbers[:5]) + (", ..." if len(numbers) > 5 else "")
    return f"no index use differs; {component}'s handles by raw number: {shown}; on {trace.backend}: {ended}"


def _classify(left: Trace, right: Trace, left_p: Provenance, right_p: Provenance, index: int) -> _Verdict:
    """Category, reason and each run's provenance of the divergent use at step ``index``."""
    sides = _Sides(left, right, left_p.steps[index], right_p.steps[index])
    uses = _divergent_uses(sides, index)
    by_run = {id(run): seen for seen in uses for run in (sides.left_seen, sides.right_seen) if seen in run}
    words = (
        _evidence(by_run.get(id(sides.left_seen)), left, left_p, index),
        _evidence(by_run.get(id(sides.right_seen)), right, right_p, index),
    )
    lo, ro = left.steps[index].outcome, right.steps[index].outcome
    traps = {o.trap for o in (lo, ro) if o.status is Status.TRAP}
    if traps & BORROW_TRAPS:
        return _Verdict(Category.BORROW_RULES, "a borrow rule trapped", words)
    if lo.status is Status.TRAP and ro.status is Status.TRAP and lo.trap != ro.trap:
        return _Verdict(Category.TRAP_KIND, "both trap, for different reasons", words)
    for seen in uses:
        if seen.use is not None and not seen.use.legitimate:
            reason = f"{seen.op.component} used an index it does not hold ({seen.use.standing})"
            return _Verdict(STANDING_CATEGORY[seen.use.standing], reason, words)
    moved = _moved_destroys(left.steps[index], right.steps[index])
    if moved and moved <= _destroyed(left) and moved <= _destroyed(right):
        return _Verdict(Category.DESTRUCTOR_TIMING, "the host destructor ran in another step", words)
    if moved and moved <= {(r.resource, r.rep) for trace in (left, right) for r in trace.live}:
        return _Verdict(Category.LEAK, "destroyed in one run, still live at the other's teardown", words)
    if _numbering(sides, left_p, right_p, index):
        reason = "legitimate index uses under different numbers, same host answers: the guest computed with an index"
        return _Verdict(Category.NUMBERING, reason, words)
    if not _host_answered_alike(left, right, index):
        return _Verdict(Category.OTHER, "the host answered the same request differently: look at the host", words)
    return _Verdict(Category.OTHER, "no rule explains this difference", words)


@dataclass(frozen=True)
class _Verdict:
    category: Category
    reason: str
    provenance: tuple[str, str]


def _emit_text(emits: Sequence[tuple[str, str, str]]) -> str:
    return ", ".join(f"{c}:{t}={v}" for c, t, v in emits) or "none"


def diff_traces(left: Trace, right: Trace) -> ScenarioDiff:
    """Every divergence between two traces of one scenario, first one first."""
    if left.error or right.error:
        detail = f"left: {left.error or 'ran'}; right: {right.error or 'ran'}"
        divergence = Divergence(
            None, Category.OTHER, "error" if left.error else "ran", "error" if right.error else "ran", detail
        )
        return ScenarioDiff(left.scenario, left.backend, right.backend, (divergence,))
    left_emits, right_emits = _normalized_emits(left), _normalized_emits(right)
    left_p, right_p = provenance(left), provenance(right)
    divergences: list[Divergence] = []
    first_trap: int | None = None
    for index, (ls, rs) in enumerate(zip(left.steps, right.steps, strict=False)):
        # Where a trap stops a step is the model's business; the ops of steps that both
        # finished show whether the guest's own control flow parted.
        finished = ls.outcome.status is Status.VALUE and rs.outcome.status is Status.VALUE
        ops_equal = not finished or _lined_up(left_p.steps[index], right_p.steps[index]) is None
        if _same_outcome(ls.outcome, rs.outcome) and ops_equal and ls.events == rs.events:
            continue
        consequence = Status.NOT_RUN in (ls.outcome.status, rs.outcome.status) and first_trap is not None
        if first_trap is not None and consequence and divergences:
            verdict = _Verdict(divergences[0].category, f"not run after step {first_trap + 1} trapped", ("", ""))
        else:
            verdict = _classify(left, right, left_p, right_p, index)
        reason = verdict.reason
        if left_emits[index] != right_emits[index]:
            reason += f"; emits differ: {_emit_text(left_emits[index])} vs {_emit_text(right_emits[index])}"
        divergences.append(
            Divergence(
                index,
                verdict.category,
                ls.outcome.short(),
                rs.outcome.short(),
                reason,
                consequence,
                *verdict.provenance,
            )
        )
        if first_trap is None and Status.TRAP in (ls.outcome.status, rs.outcome.status):
            first_trap = index
    if len(left.steps) != len(right.steps):
        detail = f"{len(left.steps)} steps vs {len(right.steps)} steps"
        divergences.append(Divergence(None, Category.OTHER, str(len(left.steps)), str(len(right.steps)), detail))
    divergences.extend(_teardown(left, right, first_trap is not None))
    return ScenarioDiff(left.scenario, left.backend, right.backend, tuple(divergences))


def _teardown(left: Trace, right: Trace, after_trap: bool) -> list[Divergence]:
    lives = [sorted(f"{r.resource}#{r.rep}" for r in t.live) for t in (left, right)]
    if lives[0] == lives[1]:
        return []
    shown = [", ".join(live) or "none" for live in lives]
    detail = f"live at teardown: {shown[0]} vs {shown[1]}"
    if after_trap:
        detail += " (one run stopped at a trap)"
    return [Divergence(None, Category.LEAK, f"{len(lives[0])} live", f"{len(lives[1])} live", detail, after_trap)]


def some_names(names: Sequence[str], shown: int = 5) -> str:
    """``names`` for a one-line message: how many, and the first few (a set of 50 stays readable)."""
    head = ", ".join(names[:shown])
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return f"{len(names)} ({head}{more})"


def check_comparable(left: TraceSet, right: TraceSet, left_path: str, right_path: str) -> None:
    """Refuses trace sets that do not describe the same scenarios and core modules."""
    if set(left.traces) != set(right.traces):
        only_left = sorted(set(left.traces) - set(right.traces))
        only_right = sorted(set(right.traces) - set(left.traces))
        raise InputError(
            right_path,
            f"traces from a different scenario set than {left_path}: "
            f"{some_names(only_left)} only there, {some_names(only_right)} only here",
        )
    for name in sorted(left.traces):
        lm, rm = dict(left.traces[name].modules), dict(right.traces[name].modules)
        if lm and rm and lm != rm:
            raise InputError(right_path, f"scenario {name} ran different core modules than in {left_path}")


def diff_sets(left: TraceSet, right: TraceSet) -> list[ScenarioDiff]:
    """Diffs every scenario present in both trace sets, by name."""
    return [diff_traces(left.traces[name], right.traces[name]) for name in sorted(left.traces) if name in right.traces]


__all__ = [
    "EXPLANATIONS",
    "Category",
    "Divergence",
    "Emit",
    "ScenarioDiff",
    "check_comparable",
    "diff_sets",
    "diff_traces",
    "some_names",
]
