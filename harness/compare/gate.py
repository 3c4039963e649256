"""The conformance gate: expected outcomes per backend, declared divergences per pair.

The baseline is the manifests themselves: each step's ``expect.<backend>`` and
the scenario's ``diverges`` declarations (the categories intended between each
backend and ``real``). A reviewed change to a manifest is a reviewed change to the
baseline. Any number of backends are judged at once, each against one reference
backend; the gate passes when every backend matched its expectations and, for each
pair, the observed divergences equal the declared ones.

An implementation backend with a known-deviation file (``harness.model.deviations``)
is held to the file where it departs: it passes when its runs depart from the
manifests' expectations exactly as listed, and diverge from ``real`` in exactly the
categories the file lists per scenario (none where a scenario is not listed); the
file, not the manifests, is where an implementation's divergences are declared.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from harness.compare.deviations import DeviationCheck, check_deviations
from harness.compare.diff import ScenarioDiff, check_comparable, diff_traces, some_names
from harness.compare.expect import Mismatch, check
from harness.model.deviations import DeviationFile
from harness.model.errors import InputError
from harness.model.safe_text import for_xml
from harness.model.scenario import Scenario
from harness.model.trace import Trace, TraceSet
from harness.model.vocabulary import BackendFacts

SUMMARY_FORMAT = 1


@dataclass(frozen=True)
class ScenarioVerdict:
    scenario: str
    #: Backend name -> mismatches against the manifest's expectations.
    mismatches: Mapping[str, tuple[Mismatch, ...]]
    diff: ScenarioDiff
    #: Declared categories for this pair, or None when the pair is not held to them.
    declared: tuple[str, ...] | None
    #: Backend name -> its run against its known-deviation file, for backends that have one.
    deviations: Mapping[str, DeviationCheck] = field(default_factory=dict)
    #: Where ``declared`` comes from when not the manifest: the backend's known-deviation file.
    declared_in: str = ""

    @property
    def observed(self) -> tuple[str, ...]:
        return self.diff.categories

    @property
    def divergence_ok(self) -> bool:
        return self.declared is None or self.declared == self.observed

    def backend_ok(self, backend: str) -> bool:
        """The backend met its expectations, or departed from them exactly as its known-deviation file lists."""
        listed = self.deviations.get(backend)
        return listed.ok if listed is not None else not self.mismatches.get(backend)

    @property
    def passed(self) -> bool:
        return self.divergence_ok and all(self.backend_ok(backend) for backend in self.mismatches)


@dataclass(frozen=True)
class Unloadable:
    """A scenario whose manifest could not be loaded, so it could not be judged."""

    scenario: str
    error: str


@dataclass(frozen=True)
class GateResult:
    left: str
    right: str
    verdicts: tuple[ScenarioVerdict, ...] = field(default=())
    #: Manifests that did not load; the gate judges the others and does not pass.
    unloadable: tuple[Unloadable, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.unloadable and all(v.passed for v in self.verdicts)

    @property
    def failures(self) -> list[ScenarioVerdict]:
        return [v for v in self.verdicts if not v.passed]


@dataclass(frozen=True)
class GateMatrix:
    """Several backends, each judged against one reference: one GateResult per backend."""

    reference: str
    #: One per compared backend, in the order given: ``left`` the backend, ``right`` the reference.
    pairs: tuple[GateResult, ...]
    unloadable: tuple[Unloadable, ...] = field(default=())

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(pair.left for pair in self.pairs)

    @property
    def passed(self) -> bool:
        return not self.unloadable and all(pair.passed for pair in self.pairs)

    @property
    def failed_scenarios(self) -> list[str]:
        """Scenarios that fail on at least one pair, in the order they were judged."""
        failed = {v.scenario for pair in self.pairs for v in pair.failures}
        return [v.scenario for v in self.pairs[0].verdicts if v.scenario in failed] if self.pairs else []


def declared_against_real(scenario: Scenario, backend: str, registry: Mapping[str, BackendFacts]) -> tuple[str, ...]:
    """The categories intended between ``backend`` and ``real``, following each backend's fallback.

    The manifest's ``diverges.<backend>`` (plain ``diverges`` for ``pseudo``; ``real`` is the
    same as itself); where it names none, the declaration of the backend's ``diverges_from``,
    else of its ``expectations_from`` (a backend expected to behave like another diverges like
    it), chained; a backend with neither, or a chain that loops, is held to "no divergence
    from real".
    """
    seen: set[str] = set()
    name: str | None = backend
    while name is not None and name not in seen:
        declared = scenario.declared_against_real(name)
        if declared is not None:
            return declared
        seen.add(name)
        facts = registry.get(name)
        name = None if facts is None else (facts.diverges_from or facts.expectations_from)
    return ()


def declared_divergences(
    scenario: Scenario,
    left: BackendFacts,
    right: BackendFacts,
    registry: Mapping[str, BackendFacts] | None = None,
    deviation_files: Mapping[str, DeviationFile] | None = None,
) -> tuple[str, ...] | None:
    """What the manifest (or a side's known-deviation file) declares for this pair; None when it cannot say.

    Declarations speak against ``real``. When one side is declared the same as ``real``,
    the pair is declared what the other side is; when both are declared to diverge from
    ``real`` (two pseudo-handle tables, say), nothing follows for the pair, and the two
    are held to their per-backend expectations only. A side with a known-deviation file
    is declared what the file lists for the scenario, and the same as ``real`` elsewhere.
    """
    known = {left.name: left, right.name: right, **(registry or {})}
    files = deviation_files or {}
    ours, theirs = (
        files[side.name].declared(scenario.name)
        if side.name in files
        else declared_against_real(scenario, side.name, known)
        for side in (left, right)
    )
    if not theirs:
        return ours
    if not ours:
        return theirs
    return None


def _declared_in(scenario: str, backend: str, reference: str, files: Mapping[str, DeviationFile]) -> str:
    """The known-deviation entry (``FILE:LINE``, or the file) a pair's declaration comes from; "" for manifests."""
    for name in (backend, reference):
        if name in files:
            entry = files[name].deviations.get(scenario)
            return files[name].where(entry.line if entry else None)
    return ""


def unloadable_scenario(error: InputError) -> Unloadable:
    """A load error as the gate reports it: the scenario is the folder of the manifest named."""
    return Unloadable(Path(error.path).parent.name, str(error))


def check_trace_sets(
    scenarios: Sequence[Scenario],
    left_set: TraceSet,
    right_set: TraceSet,
    paths: tuple[Path, Path],
    unloadable: Collection[str] = (),
) -> None:
    """Refuses trace files that do not describe these scenarios (InputError naming the file).

    Traces of the ``unloadable`` scenarios (manifests that did not load) are
    neither required nor refused.
    """
    check_comparable(left_set, right_set, str(paths[0]), str(paths[1]))
    known = {s.name for s in scenarios}
    for trace_set, path in zip((left_set, right_set), paths, strict=True):
        unknown = sorted(set(trace_set.traces) - known - set(unloadable))
        if unknown:
            message = f"traces of another scenario set: {some_names(unknown)} have no manifest here"
            raise InputError(path, f"{message}; pass the --guests they were made from, or remake them")
        missing = sorted(known - set(trace_set.traces))
        if missing:
            raise InputError(path, f"no trace for {some_names(missing)}: run `tox -e {trace_set.backend}`")


def _check_steps(scenario: Scenario, trace: Trace, path: Path) -> None:
    """Refuses a trace whose steps are not the manifest's: it was made from another version of it."""
    if trace.error:
        return
    where = f"scenario {scenario.name}"
    if len(trace.steps) != len(scenario.steps):
        message = f"{where}: the trace has {len(trace.steps)} steps, the manifest {len(scenario.steps)}"
        raise InputError(path, f"{message}; the traces are stale, remake them")
    for number, (step, traced) in enumerate(zip(scenario.steps, trace.steps, strict=True), start=1):
        if (traced.component, traced.op, traced.arg) != (step.component, step.op, step.arg):
            ran, says = (
                f"{traced.component}.run({traced.op}, {traced.arg})",
                f"{step.component}.run({step.op}, {step.arg})",
            )
            raise InputError(path, f"{where} step {number}: the trace ran {ran}, the manifest says {says}; remake them")


def evaluate(
    scenarios: Sequence[Scenario],
    left: BackendFacts,
    right: BackendFacts,
    left_set: TraceSet,
    right_set: TraceSet,
    paths: tuple[Path, Path],
    load_errors: Sequence[InputError] = (),
    registry: Mapping[str, BackendFacts] | None = None,
) -> GateResult:
    """Checks both trace sets against the manifests; raises InputError on unusable input.

    ``load_errors`` are the manifests that did not load: the others are still
    judged, and the result does not pass. ``registry``: every registered backend by
    name, to follow declaration fallbacks through backends not in the pair.
    """
    matrix = evaluate_all(
        scenarios,
        (left,),
        right,
        {left.name: left_set, right.name: right_set},
        {left.name: paths[0], right.name: paths[1]},
        load_errors,
        registry,
    )
    return matrix.pairs[0]


def evaluate_all(
    scenarios: Sequence[Scenario],
    backends: Sequence[BackendFacts],
    reference: BackendFacts,
    sets: Mapping[str, TraceSet],
    paths: Mapping[str, Path],
    load_errors: Sequence[InputError] = (),
    registry: Mapping[str, BackendFacts] | None = None,
    deviation_files: Mapping[str, DeviationFile] | None = None,
) -> GateMatrix:
    """Checks every backend's trace set against the manifests and each against ``reference``'s.

    ``sets`` and ``paths`` hold each backend's traces and their file by name (the
    reference's too). ``deviation_files``: the known-deviation file of each implementation
    backend that has one. Raises InputError on unusable input, naming the file.
    """
    listed = deviation_files or {}
    unloadable = tuple(unloadable_scenario(error) for error in load_errors)
    skipped = {u.scenario for u in unloadable}
    known: dict[str, BackendFacts] = {**(registry or {}), reference.name: reference}
    known.update((b.name, b) for b in backends)
    names = [reference.name, *(b.name for b in backends if b.name != reference.name)]
    for name in names[1:]:
        check_trace_sets(scenarios, sets[name], sets[reference.name], (paths[name], paths[reference.name]), skipped)
    mismatches: dict[str, dict[str, tuple[Mismatch, ...]]] = {}
    checks: dict[str, dict[str, DeviationCheck]] = {}
    for name in names:
        facts = known[name]
        for scenario in scenarios:
            trace = sets[name].traces[scenario.name]
            _check_steps(scenario, trace, paths[name])
            found = check(scenario, trace, name, facts.expectations_from)
            mismatches.setdefault(scenario.name, {})[name] = tuple(found)
            if name in listed:
                checks.setdefault(scenario.name, {})[name] = check_deviations(scenario.name, trace, found, listed[name])
    pairs = []
    for backend in (known[name] for name in names[1:]):
        verdicts = []
        for scenario in scenarios:
            lt, rt = sets[backend.name].traces[scenario.name], sets[reference.name].traces[scenario.name]
            by_backend = mismatches[scenario.name]
            pair_mismatches = {backend.name: by_backend[backend.name], reference.name: by_backend[reference.name]}
            declared = declared_divergences(scenario, backend, reference, known, listed)
            pair_checks = {b: c for b, c in checks.get(scenario.name, {}).items() if b in pair_mismatches}
            declared_in = _declared_in(scenario.name, backend.name, reference.name, listed)
            diff = diff_traces(lt, rt)
            verdicts.append(ScenarioVerdict(scenario.name, pair_mismatches, diff, declared, pair_checks, declared_in))
        pairs.append(GateResult(backend.name, reference.name, tuple(verdicts), unloadable))
    return GateMatrix(reference.name, tuple(pairs), unloadable)


def describe_failure(verdict: ScenarioVerdict, pair: str = "") -> list[str]:
    """Readable lines for one failing scenario: expected, observed, first divergent step.

    ``pair`` (``pseudo-reuse vs real``) names the pair when several were judged.
    """
    lines = [f"FAIL {verdict.scenario}" + (f" ({pair})" if pair else "")]
    if not verdict.divergence_ok:
        declared = ", ".join(verdict.declared or ()) or "same"
        observed = ", ".join(verdict.observed) or "same"
        source = f" in {verdict.declared_in}" if verdict.declared_in else ""
        lines.append(f"  divergences: declared [{declared}]{source}, observed [{observed}]")
        first = verdict.diff.first
        if first is not None:
            where = "teardown" if first.step is None else f"step {first.step + 1}"
            lines.append(f"  first divergent {where}: {first.left} vs {first.right} ({first.category}: {first.detail})")
    for backend, mismatches in verdict.mismatches.items():
        listed = verdict.deviations.get(backend)
        if listed is None:
            lines.extend(f"  {backend} {m.line()}" for m in mismatches)
        else:
            lines.extend(f"  {backend} {line}" for line in listed.lines())
    return lines


def _first_divergence(diff: ScenarioDiff) -> dict[str, Any] | None:
    first = diff.first
    if first is None:
        return None
    return {
        "step": first.step,
        "category": first.category.value,
        "left": first.left,
        "right": first.right,
        "detail": first.detail,
    }


def as_matrix(result: GateResult | GateMatrix) -> GateMatrix:
    """A single pair's result as a matrix of one backend against its right-hand side."""
    if isinstance(result, GateMatrix):
        return result
    return GateMatrix(result.right, (result,), result.unloadable)


def _pair_entry(verdict: ScenarioVerdict) -> dict[str, Any]:
    entry = {
        "passed": verdict.passed,
        "declared": None if verdict.declared is None else list(verdict.declared),
        "observed": list(verdict.observed),
        "first_divergence": _first_divergence(verdict.diff),
    }
    if verdict.deviations:
        entry["deviations"] = {backend: _deviation_entry(c) for backend, c in sorted(verdict.deviations.items())}
    return entry


def _deviation_entry(listed: DeviationCheck) -> dict[str, Any]:
    """One backend's run against its known-deviation file (gate.json ``deviations``)."""
    return {
        "file": listed.file,
        "known": [
            {"step": k.observed.where, "observed": k.observed.outcome, "finding": k.finding.name, "entry": k.where}
            for k in listed.known
        ],
        "unexpected": list(listed.unexpected),
        "gone": list(listed.gone),
    }


def _pair_summary(pair: GateResult) -> dict[str, Any]:
    """A pair's totals; for a backend held to a known-deviation file, the file and how many listed steps held."""
    entry: dict[str, Any] = {"passed": pair.passed, "failed": len(pair.failures)}
    checks = [v.deviations[pair.left] for v in pair.verdicts if pair.left in v.deviations]
    if checks:
        entry["deviation_file"] = checks[0].file
        entry["known_deviations"] = sum(len(c.known) for c in checks)
        entry["unexpected"] = sum(len(c.unexpected) for c in checks)
        entry["gone"] = sum(len(c.gone) for c in checks)
    return entry


def summary(result: GateResult | GateMatrix) -> dict[str, Any]:
    """The gate's machine-readable summary (schema in reports/README.md).

    ``pairs`` holds each backend against the reference; the keys of the first pair
    (``left``, ``declared``, ``observed``, ``first_divergence``) stay where a
    single-pair summary has them.
    """
    matrix = as_matrix(result)
    first = matrix.pairs[0]
    failed = set(matrix.failed_scenarios)
    scenarios = []
    for index, verdict in enumerate(first.verdicts):
        per_pair = {pair.left: pair.verdicts[index] for pair in matrix.pairs}
        mismatches = {b: ms for v in per_pair.values() for b, ms in v.mismatches.items()}
        scenarios.append(
            {
                "name": verdict.scenario,
                **_pair_entry(verdict),
                "passed": verdict.scenario not in failed,
                "mismatches": {b: [m.line() for m in ms] for b, ms in sorted(mismatches.items())},
                "pairs": {backend: _pair_entry(v) for backend, v in per_pair.items()},
            }
        )
    return {
        "format": SUMMARY_FORMAT,
        "left": first.left,
        "right": matrix.reference,
        "reference": matrix.reference,
        "backends": list(matrix.backends),
        "passed": matrix.passed,
        "counts": {
            "scenarios": len(first.verdicts),
            "failed": len(failed),
            "unloadable": len(matrix.unloadable),
        },
        "pairs": {pair.left: _pair_summary(pair) for pair in matrix.pairs},
        "scenarios": scenarios,
        "unloadable": [{"name": u.scenario, "error": u.error} for u in matrix.unloadable],
    }


def summary_json(result: GateResult | GateMatrix) -> str:
    return json.dumps(summary(result), sort_keys=True, indent=1) + "\n"


def _test_case(suite: ElementTree.Element, pair: GateResult, verdict: ScenarioVerdict) -> None:
    classname = for_xml(f"handle-compat.gate.{pair.left}")
    case = ElementTree.SubElement(suite, "testcase", classname=classname, name=for_xml(verdict.scenario))
    if not verdict.passed:
        lines = [for_xml(line) for line in describe_failure(verdict, f"{pair.left} vs {pair.right}")]
        failure = ElementTree.SubElement(case, "failure", message=lines[1].strip() if len(lines) > 1 else "failed")
        failure.text = "\n".join(lines)
        return
    listed = verdict.deviations.get(pair.left)
    if listed is not None and listed.known:
        # Passing as listed: a known deviation, shown as CI systems show an expected failure.
        message = for_xml(f"known deviation, as listed in {listed.known[0].where}")
        skipped = ElementTree.SubElement(case, "skipped", type="known-deviation", message=message)
        skipped.text = "\n".join(for_xml(f"{k.observed.where}: {k.observed.outcome}; {k.reason}") for k in listed.known)


def junit_xml(result: GateResult | GateMatrix) -> str:
    """JUnit XML: one test case per scenario and backend (class ``handle-compat.gate.<backend>``).

    Names, messages and trap causes pass through ``for_xml``: a character XML cannot hold
    (a guest can emit one in a tag) would make the whole file unreadable to the CI system.
    """
    matrix = as_matrix(result)
    compared = ", ".join(matrix.backends)
    suite = ElementTree.Element(
        "testsuite",
        name=for_xml(f"handle-compat gate {compared} vs {matrix.reference}"),
        tests=str(sum(len(pair.verdicts) for pair in matrix.pairs) + len(matrix.unloadable)),
        failures=str(sum(len(pair.failures) for pair in matrix.pairs)),
        errors=str(len(matrix.unloadable)),
    )
    for pair in matrix.pairs:
        for verdict in pair.verdicts:
            _test_case(suite, pair, verdict)
    for unloadable in matrix.unloadable:
        name, error = for_xml(unloadable.scenario), for_xml(unloadable.error)
        case = ElementTree.SubElement(suite, "testcase", classname="handle-compat.gate", name=name)
        ElementTree.SubElement(case, "error", message=error).text = error
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
