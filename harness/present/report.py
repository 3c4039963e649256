"""The compatibility report: scenarios, every backend's traces and the gate, as one model.

``build`` assembles plain frozen dataclasses from what the other modules already
computed (manifests, traces, the differ's divergences, the gate's verdicts), so
the HTML page and ``compat.json`` show the same facts. ``to_json`` is
deterministic; the only nondeterministic value, the date the page was made, is
passed to ``render_html`` and appears in the HTML header alone.

Every string a guest or a trap produced is data: the page is rendered by Jinja2
with autoescaping on, and its Content-Security-Policy allows no script but the
page's own, by hash.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from harness.compare.deviations import DeviationCheck
from harness.compare.diff import EXPLANATIONS, Divergence
from harness.compare.expect import Mismatch
from harness.compare.gate import GateMatrix, GateResult, ScenarioVerdict, as_matrix
from harness.compare.protects import ProtectsRow, protects
from harness.model.scenario import Expectation, Scenario, Step
from harness.model.trace import Event, Outcome, Status, StepTrace, Trace, TraceSet
from harness.model.vocabulary import Category

REPORT_FORMAT = 1
#: Categories in the order the report lists them: the differ's enum order.
CATEGORY_ORDER: tuple[str, ...] = tuple(c.value for c in Category)
#: The value of the category filter for scenarios whose runs agree.
SAME = "same"
#: Events and emits shown per step and backend; the trace files keep the rest.
#: A scenario that creates a thousand resources would otherwise make the page heavy.
LOG_LIMIT = 40


@dataclass(frozen=True)
class EmitView:
    component: str
    tag: str
    value: int


@dataclass(frozen=True)
class EventView:
    kind: str
    resource: str
    rep: int
    detail: str


@dataclass(frozen=True)
class RunCell:
    """One backend's result of one step, next to what the manifest expected."""

    status: str
    outcome: str
    value: int | None
    trap: str | None
    message: str
    expected: str | None
    rule: str
    matches: bool
    emits: tuple[EmitView, ...]
    events: tuple[EventView, ...]
    #: How many emits and events the step had in all (more than shown past LOG_LIMIT).
    emits_total: int
    events_total: int
    #: Per kind of event left out, "<kind> <resource> x<count>", when events were left out.
    events_omitted: tuple[str, ...]
    #: Why the step departs from the manifest as the backend's known-deviation file lists ("" otherwise).
    known_deviation: str = ""


@dataclass(frozen=True)
class DivergenceView:
    #: 1-based step number, or None for teardown.
    step: int | None
    category: str
    left: str
    right: str
    detail: str
    consequence: bool
    #: The index use that makes the runs differ, in plain words, on each backend ("" when none).
    left_provenance: str = ""
    right_provenance: str = ""


@dataclass(frozen=True)
class StepRow:
    number: int
    component: str
    op: int
    arg: int
    does: str
    #: The first pair's two cells (``left`` the first compared backend, ``right`` the reference).
    left: RunCell
    right: RunCell
    #: The first pair's divergence at this step, if any.
    divergence: DivergenceView | None
    #: True on the first pair's first divergent step, the one a reader starts from.
    first: bool
    #: Every backend's cell, by name, in the report's column order.
    cells: Mapping[str, RunCell] = dataclasses.field(default_factory=dict)
    #: Compared backend -> its divergence from the reference at this step.
    marks: Mapping[str, DivergenceView] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class BackendRun:
    """One backend's whole run of a scenario: the matrix cell and the teardown facts."""

    #: ``ok``, ``trap <kind>`` (the first trap) or ``error``.
    outcome: str
    #: 1-based step of the first trap.
    trap_step: int | None
    #: What the matrix shows: ``outcome`` when the run met the manifest, else what went wrong first
    #: (``wrong value``, ``no trap``, ``wrong trap``, ``unexpected trap``, ``not run``, ``ran``,
    #: ``wrong live count``, ``no expectation``, ``error``), so a failing run never reads ``ok``.
    summary: str
    #: 1-based step ``summary`` is about (the first trap, or the first mismatching step), None for teardown.
    summary_step: int | None
    #: True when every step and the teardown matched the manifest.
    matches: bool
    mismatches: tuple[str, ...]
    #: Host resources live at teardown, as ``resource#rep`` (the first LOG_LIMIT of live_total).
    live: tuple[str, ...]
    live_total: int
    error: str | None
    #: True when the run departs from the manifest exactly as the backend's known-deviation file lists.
    known: bool = False
    #: The listed deviations' reasons (finding, why, rule, entry), one per line, for the reader of a known run.
    deviation: str = ""
    #: For a backend with a known-deviation file: deviations it does not list, and listed ones not seen.
    deviation_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class PairView:
    """One compared backend against the reference on one scenario."""

    passed: bool
    #: Categories declared for the pair, or None when the pair is not held to them.
    declared: tuple[str, ...] | None
    observed: tuple[str, ...]
    first_divergence: DivergenceView | None

    @property
    def divergence_ok(self) -> bool:
        return self.declared is None or self.declared == self.observed


@dataclass(frozen=True)
class Advice:
    category: str
    summary: str
    guest_sees: str
    do_instead: str


@dataclass(frozen=True)
class ScenarioEntry:
    name: str
    title: str
    category: str
    description: str
    rule: str
    advice: str
    #: Component name -> sha256 of its core module (identical on both backends).
    modules: Mapping[str, str]
    passed: bool
    #: Categories declared for the pair, or None when the pair is not held to them.
    declared: tuple[str, ...] | None
    observed: tuple[str, ...]
    left: BackendRun
    right: BackendRun
    steps: tuple[StepRow, ...]
    divergences: tuple[DivergenceView, ...]
    first_divergence: DivergenceView | None
    explanations: tuple[Advice, ...]
    #: Every backend's whole run, by name, in the report's column order.
    runs: Mapping[str, BackendRun] = dataclasses.field(default_factory=dict)
    #: Each compared backend against the reference.
    pairs: Mapping[str, PairView] = dataclasses.field(default_factory=dict)

    @property
    def divergence_ok(self) -> bool:
        """The observed categories are the declared ones (or the pair is not held to any)."""
        return self.declared is None or self.declared == self.observed

    @property
    def all_observed(self) -> tuple[str, ...]:
        """Categories any compared backend shows against the reference, in CATEGORY_ORDER."""
        seen = {c for pair in self.pairs.values() for c in pair.observed} | set(self.observed)
        return tuple(c for c in CATEGORY_ORDER if c in seen)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def filter_categories(self) -> str:
        """Space-separated values the category filter matches: what any backend shows against the reference."""
        return " ".join(self.all_observed) or SAME


@dataclass(frozen=True)
class ChecklistEntry:
    """One migration task: a category that occurs, and the scenarios that show it."""

    advice: Advice
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    format: int
    left: str
    right: str
    wasmtime: str
    passed: bool
    #: scenarios, passed, failed, same, diverging.
    counts: Mapping[str, int]
    #: Category -> number of scenarios showing it, in CATEGORY_ORDER, occurring ones only.
    categories: Mapping[str, int]
    #: Outcome of whole runs (``ok``, ``trap <kind>``, ``error``) -> scenarios, per side (``left``, ``right``).
    outcomes: Mapping[str, Mapping[str, int]]
    scenarios: tuple[ScenarioEntry, ...]
    checklist: tuple[ChecklistEntry, ...]
    #: The backend every other is compared with (``right``).
    reference: str = ""
    #: Every backend, in column order (the reference among them).
    backends: tuple[str, ...] = ()
    #: Per backend: how whole runs end (as ``outcomes``).
    backend_outcomes: Mapping[str, Mapping[str, int]] = dataclasses.field(default_factory=dict)
    #: Per compared backend: ``passed``, ``failed``, ``same``, ``diverging`` against the reference.
    backend_counts: Mapping[str, Mapping[str, int]] = dataclasses.field(default_factory=dict)
    #: What each model protects: per category, each backend's scenarios like the reference.
    protects: tuple[ProtectsRow, ...] = ()


def _events(events: Sequence[Event]) -> tuple[EventView, ...]:
    return tuple(EventView(e.kind, e.resource, e.rep, e.detail) for e in events[:LOG_LIMIT])


def _omitted(events: Sequence[Event]) -> tuple[str, ...]:
    tally = Counter(" ".join(filter(None, (e.kind, e.resource, e.detail))) for e in events[LOG_LIMIT:])
    return tuple(f"{what} x{count}" for what, count in sorted(tally.items()))


def _cell(
    scenario: Scenario,
    step: Step,
    trace: StepTrace,
    backend: str,
    fallback: str | None,
    bad: bool,
    known_deviation: str = "",
) -> RunCell:
    expectation = scenario.expectation(step, backend, fallback)
    outcome: Outcome = trace.outcome
    return RunCell(
        status=outcome.status.value,
        outcome=outcome.short(),
        value=outcome.value,
        trap=outcome.trap.value if outcome.trap else None,
        message=outcome.message,
        expected=expectation.short() if expectation else None,
        rule=expectation.rule if expectation else "",
        matches=not bad,
        emits=tuple(EmitView(e.component, e.tag, e.value) for e in trace.emits[:LOG_LIMIT]),
        events=_events(trace.events),
        emits_total=len(trace.emits),
        events_total=len(trace.events),
        events_omitted=_omitted(trace.events),
        known_deviation=known_deviation,
    )


def _divergence(d: Divergence) -> DivergenceView:
    return DivergenceView(
        None if d.step is None else d.step + 1,
        d.category.value,
        d.left,
        d.right,
        d.detail,
        d.consequence,
        d.left_provenance,
        d.right_provenance,
    )


def _what_went_wrong(expected: Expectation | None, observed: Outcome) -> str:
    """A step's mismatch in two words: what the run did instead of what the manifest expects."""
    if expected is None:
        return "no expectation"
    if observed.status is Status.NOT_RUN:
        return "not run"
    if expected.not_run:
        return "ran"
    if observed.status is Status.TRAP:
        return "wrong trap" if expected.trap is not None else "unexpected trap"
    return "no trap" if expected.trap is not None else "wrong value"


def _backend_run(
    scenario: Scenario,
    trace: Trace,
    mismatches: Sequence[Mismatch],
    fallback: str | None,
    listed: DeviationCheck | None = None,
) -> BackendRun:
    """One backend's whole run; ``listed``: its run against its known-deviation file, when it has one."""
    trapped = next((s for s in trace.steps if s.outcome.status is Status.TRAP), None)
    trap_step = None if trapped is None else trapped.index + 1
    if trace.error:
        outcome = "error"
    elif trapped is not None:
        outcome = trapped.outcome.short()
    else:
        outcome = "ok"
    summary, summary_step = outcome, trap_step
    first = min(mismatches, key=lambda m: len(trace.steps) if m.step is None else m.step, default=None)
    if first is not None and not trace.error:
        if first.step is None:
            summary, summary_step = "wrong live count", None
        else:
            step = scenario.steps[first.step]
            expected = scenario.expectation(step, trace.backend, fallback)
            summary, summary_step = _what_went_wrong(expected, trace.steps[first.step].outcome), first.step + 1
    known = listed is not None and listed.ok and bool(listed.known)
    if known:
        summary = "known deviation"
    elif listed is not None and listed.gone and not mismatches:
        summary, summary_step = "deviation gone", None
    return BackendRun(
        outcome=outcome,
        trap_step=trap_step,
        summary=summary,
        summary_step=summary_step,
        matches=not mismatches and (listed is None or listed.ok),
        mismatches=tuple(m.line() for m in mismatches),
        live=tuple(f"{r.resource}#{r.rep}" for r in trace.live[:LOG_LIMIT]),
        live_total=len(trace.live),
        error=trace.error,
        known=known,
        deviation="\n".join(dict.fromkeys(f"{k.reason} ({k.where})" for k in listed.known)) if listed else "",
        deviation_problems=tuple(listed.lines()) if listed else (),
    )


def _advice(category: str) -> Advice:
    explanation = EXPLANATIONS[Category(category)]
    return Advice(category, explanation.summary, explanation.guest_sees, explanation.do_instead)


def _by_step(verdict: ScenarioVerdict) -> dict[int, Divergence]:
    """Each step's first divergence (not teardown)."""
    return {d.step: d for d in reversed(verdict.diff.divergences) if d.step is not None}


def _steps(
    scenario: Scenario,
    verdicts: Mapping[str, ScenarioVerdict],
    traces: Mapping[str, Trace],
    fallbacks: Mapping[str, str | None],
) -> tuple[StepRow, ...]:
    """Every step with every backend's cell; ``verdicts``: compared backend -> its verdict, the first pair first."""
    if any(t.error for t in traces.values()):
        return ()
    verdict = next(iter(verdicts.values()))
    left = next(iter(verdicts))
    right = _reference_of(verdict, left)
    first = verdict.diff.first
    bad = {b: {m.step for m in ms} for v in verdicts.values() for b, ms in v.mismatches.items()}
    known = {
        b: {k.observed.step: k.reason for k in c.known} for v in verdicts.values() for b, c in v.deviations.items()
    }
    divergences = {backend: _by_step(v) for backend, v in verdicts.items()}
    rows = []
    for index, step in enumerate(scenario.steps):
        cells = {
            backend: _cell(
                scenario,
                step,
                trace.steps[index],
                backend,
                fallbacks.get(backend),
                index in bad[backend],
                known.get(backend, {}).get(index, ""),
            )
            for backend, trace in traces.items()
            if index < len(trace.steps)
        }
        if left not in cells or right not in cells:
            break
        marks = {b: _divergence(d[index]) for b, d in divergences.items() if index in d}
        rows.append(
            StepRow(
                number=index + 1,
                component=step.component,
                op=step.op,
                arg=step.arg,
                does=step.does,
                left=cells[left],
                right=cells[right],
                divergence=marks.get(left),
                first=first is not None and first.step == index,
                cells=cells,
                marks=marks,
            )
        )
    return tuple(rows)


def _pair_view(verdict: ScenarioVerdict) -> PairView:
    first = verdict.diff.first
    return PairView(verdict.passed, verdict.declared, verdict.observed, None if first is None else _divergence(first))


def _entry(
    scenario: Scenario,
    verdicts: Mapping[str, ScenarioVerdict],
    traces: Mapping[str, Trace],
    fallbacks: Mapping[str, str | None],
) -> ScenarioEntry:
    """One scenario over every backend; the first of ``verdicts`` (the first pair) fills the pair fields."""
    verdict = next(iter(verdicts.values()))
    left, right = next(iter(verdicts)), _reference_of(verdict, next(iter(verdicts)))
    lt, rt = traces[left], traces[right]
    first = verdict.diff.first
    mismatches = {b: ms for v in verdicts.values() for b, ms in v.mismatches.items()}
    listed = {b: c for v in verdicts.values() for b, c in v.deviations.items()}
    runs = {
        b: _backend_run(scenario, t, mismatches.get(b, ()), fallbacks.get(b), listed.get(b)) for b, t in traces.items()
    }
    return ScenarioEntry(
        name=scenario.name,
        title=scenario.title,
        category=scenario.category,
        description=scenario.description,
        rule=scenario.spec_rule,
        advice=scenario.advice,
        modules=dict(sorted((lt.modules or rt.modules).items())),
        passed=all(v.passed for v in verdicts.values()),
        declared=verdict.declared,
        observed=verdict.observed,
        left=runs[left],
        right=runs[right],
        steps=_steps(scenario, verdicts, traces, fallbacks),
        divergences=tuple(_divergence(d) for d in verdict.diff.divergences),
        first_divergence=None if first is None else _divergence(first),
        explanations=tuple(_advice(c) for c in verdict.observed),
        runs=runs,
        pairs={backend: _pair_view(v) for backend, v in verdicts.items()},
    )


def _reference_of(verdict: ScenarioVerdict, backend: str) -> str:
    """The other backend of a pair's verdict (the reference)."""
    return next((b for b in verdict.mismatches if b != backend), backend)


def build(
    scenarios: Sequence[Scenario],
    result: GateResult,
    left_set: TraceSet,
    right_set: TraceSet,
    fallbacks: tuple[str | None, str | None] = (None, None),
) -> Report:
    """The report over one pair's verdicts; ``fallbacks`` are the backends' ``expectations_from``."""
    sets = {result.left: left_set, result.right: right_set}
    return build_matrix(scenarios, as_matrix(result), sets, dict(zip(sets, fallbacks, strict=True)))


def build_matrix(
    scenarios: Sequence[Scenario],
    result: GateMatrix,
    sets: Mapping[str, TraceSet],
    fallbacks: Mapping[str, str | None] | None = None,
) -> Report:
    """The report over every backend judged against the reference.

    ``sets``: each backend's traces by name, in column order (the reference among them);
    ``fallbacks``: each backend's ``expectations_from``. The first pair (first compared
    backend against the reference) fills the fields a two-backend report has.
    """
    by_name = {s.name: s for s in scenarios}
    fallbacks = fallbacks or {}
    columns = tuple(sets)
    entries = tuple(
        _entry(
            by_name[verdict.scenario],
            {pair.left: pair.verdicts[index] for pair in result.pairs},
            {backend: sets[backend].traces[verdict.scenario] for backend in columns},
            fallbacks,
        )
        for index, verdict in enumerate(result.pairs[0].verdicts)
    )
    seen = Counter(c for e in entries for c in e.observed)
    categories = {c: seen[c] for c in CATEGORY_ORDER if seen[c]}
    checklist = tuple(ChecklistEntry(_advice(c), tuple(e.name for e in entries if c in e.observed)) for c in categories)
    outcomes = {
        side: dict(sorted(Counter(getattr(e, side).outcome for e in entries).items())) for side in ("left", "right")
    }
    backend_outcomes = {b: dict(sorted(Counter(e.runs[b].outcome for e in entries).items())) for b in columns}
    backend_counts = {
        pair.left: {
            "passed": len(pair.verdicts) - len(pair.failures),
            "failed": len(pair.failures),
            "same": sum(not v.observed for v in pair.verdicts),
            "diverging": sum(bool(v.observed) for v in pair.verdicts),
        }
        for pair in result.pairs
    }
    failed = sum(not e.passed for e in entries)
    diverging = sum(bool(e.observed) for e in entries)
    counts = {
        "scenarios": len(entries),
        "passed": len(entries) - failed,
        "failed": failed,
        "same": len(entries) - diverging,
        "diverging": diverging,
    }
    first = result.pairs[0]
    return Report(
        format=REPORT_FORMAT,
        left=first.left,
        right=first.right,
        wasmtime=sets[first.left].wasmtime,
        passed=result.passed,
        counts=counts,
        categories=categories,
        outcomes=outcomes,
        scenarios=entries,
        checklist=checklist,
        reference=result.reference,
        backends=columns,
        backend_outcomes=backend_outcomes,
        backend_counts=backend_counts,
        protects=protects(scenarios, result, columns),
    )


def _plain(value: Any) -> Any:
    """Dataclasses, mappings and tuples as JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_dict(report: Report) -> dict[str, Any]:
    """The report's data as ``compat.json`` holds it (schema in reports/README.md)."""
    data: dict[str, Any] = _plain(report)
    for entry, raw in zip(report.scenarios, data["scenarios"], strict=True):
        raw["verdict"] = entry.verdict
    return data


def to_json(report: Report) -> str:
    """Deterministic: sorted keys, no date, the same bytes for the same inputs."""
    return json.dumps(to_dict(report), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def generated_at(environ: Mapping[str, str] = os.environ) -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set, so a page can be rebuilt byte for byte."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC)


def _asset(name: str) -> str:
    return (files("harness.present") / "templates" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    """A CSP source expression allowing exactly this inline block (CSP Level 2 hash)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(style: str, script: str) -> str:
    """Nothing loads from anywhere; only the page's own style and script blocks run."""
    return (
        "default-src 'none'; "
        f"style-src {_csp_hash(style)}; "
        f"script-src {_csp_hash(script)}; "
        "base-uri 'none'; form-action 'none'"
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("harness.present", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: Report, generated: datetime, traces: Path) -> str:
    """The self-contained page: inline CSS and script, no request to anywhere.

    ``traces`` is the folder of the trace files the report was made from, named in the footer.
    """
    style, script = _asset("report.css"), _asset("report.js")
    for name, text, closing in (("report.css", style, "</style"), ("report.js", script, "</script")):
        if closing in text.lower():
            raise ValueError(f"harness/present/templates/{name} must not contain {closing!r}: it is inlined")
    template = _environment().get_template("compat.html")
    page = template.render(
        report=report,
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"),
        traces=f"{traces.as_posix().rstrip('/')}/",
        csp=content_security_policy(style, script),
        # The package's own CSS and script, inlined verbatim so their CSP hashes hold.
        style=Markup(style),
        script=Markup(script),
        category_order=CATEGORY_ORDER,
        same=SAME,
    )
    # Each scenario's detail sits in a <noscript>; only the template's own tags may close one.
    if page.lower().count("</noscript") != len(report.scenarios):
        raise ValueError("a scenario's detail closes its <noscript> early")
    return page
