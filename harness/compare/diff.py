"""The differ: lines two traces of a scenario up step by step and explains each difference.

Pure functions over Traces. Handle values differ between the models by design,
so values the guest reported as handle indices (the probe vocabulary's handle
tags) are normalized per component, in order of first appearance, before
comparing. Each divergence gets a category from rules over the trace contents
(trap kinds, what the guest said it was doing with a handle, the host's event
log), never from a per-scenario table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.model.errors import InputError
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
        "Guest code that uses an index nobody gave it now traps with unknown-handle, or silently reaches "
        "its own resource that happens to have that index.",
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

#: Probe tags whose value is a handle index, and the category each one's intent explains.
INTENT_TAGS: Mapping[str, Category | None] = {
    "handle": None,
    "received": None,
    "gave-own": Category.OWNERSHIP_TRANSFER,
    "lent": Category.BORROW_RULES,
    "kept-borrow": Category.BORROW_RULES,
    "dropped": Category.USE_AFTER_FREE,
    "guessed": Category.FORGERY,
    "raw": Category.ISOLATION,
    "zero": Category.NUMBERING,
}
_BORROW_TRAPS = {TrapKind.OWN_LENT, TrapKind.BORROW_OUTSTANDING, TrapKind.BORROW_AS_OWN}
#: Tags after which the component no longer holds the index it reported.
_RELEASING_TAGS = {"dropped", "gave-own"}


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
            if emit.tag in INTENT_TAGS:
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


def _intent(steps: Sequence[StepTrace], upto: int) -> Category | None:
    """The category named by the latest intent tag emitted up to step ``upto``.

    Tags of the component the diverging step called come first: it is the one whose
    use of an index diverged; other components' tags are consulted after it. A first
    ``dropped`` of an index in the diverging step itself is the diverging action,
    not its history (use after free needs an earlier release), so the tag before
    it, which says where the index came from, explains the divergence.
    """
    emits = [(index, emit) for index, step in enumerate(steps[: upto + 1]) for emit in step.emits]
    caller = steps[upto].component
    for only_caller in (True, False):
        for position in range(len(emits) - 1, -1, -1):
            index, emit = emits[position]
            category = INTENT_TAGS.get(emit.tag)
            if category is None or (only_caller and emit.component != caller):
                continue
            if emit.tag == "dropped" and index == upto and not _dropped_before(emits[:position], emit):
                continue
            return category
    return None


def _dropped_before(earlier: Sequence[tuple[int, Emit]], emit: Emit) -> bool:
    return any(e.tag == "dropped" and (e.component, e.value) == (emit.component, emit.value) for _, e in earlier)


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


def _classify(left: Trace, right: Trace, index: int, emits_equal: bool) -> tuple[Category, str]:
    """Category and reason for a difference at step ``index``."""
    lo, ro = left.steps[index].outcome, right.steps[index].outcome
    traps = {o.trap for o in (lo, ro) if o.status is Status.TRAP}
    if traps & _BORROW_TRAPS:
        return Category.BORROW_RULES, "a borrow rule trapped"
    if lo.status is Status.TRAP and ro.status is Status.TRAP and lo.trap != ro.trap:
        return Category.TRAP_KIND, "both trap, for different reasons"
    intent = _intent(left.steps, index) or _intent(right.steps, index)
    events_equal = left.steps[index].events == right.steps[index].events
    both_values = lo.status is Status.VALUE and ro.status is Status.VALUE
    if both_values and events_equal and (not emits_equal or lo.value != ro.value):
        return Category.NUMBERING, "same host operations, different values: the guest computed with an index"
    moved = _moved_destroys(left.steps[index], right.steps[index])
    if moved and moved <= _destroyed(left) and moved <= _destroyed(right):
        return Category.DESTRUCTOR_TIMING, "the host destructor ran in another step"
    if moved and moved <= {(r.resource, r.rep) for trace in (left, right) for r in trace.live}:
        return Category.LEAK, "destroyed in one run, still live at the other's teardown"
    if intent is not None:
        return intent, "explained by what the guest said it did with the handle"
    return Category.OTHER, "no rule explains this difference"


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
    divergences: list[Divergence] = []
    first_trap: int | None = None
    for index, (ls, rs) in enumerate(zip(left.steps, right.steps, strict=False)):
        emits_equal = left_emits[index] == right_emits[index]
        if _same_outcome(ls.outcome, rs.outcome) and emits_equal and ls.events == rs.events:
            continue
        consequence = Status.NOT_RUN in (ls.outcome.status, rs.outcome.status) and first_trap is not None
        if first_trap is not None and consequence and divergences:
            category, reason = divergences[0].category, f"not run after step {first_trap + 1} trapped"
        else:
            category, reason = _classify(left, right, index, emits_equal)
        if not emits_equal:
            reason += f"; emits differ: {_emit_text(left_emits[index])} vs {_emit_text(right_emits[index])}"
        divergences.append(Divergence(index, category, ls.outcome.short(), rs.outcome.short(), reason, consequence))
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
