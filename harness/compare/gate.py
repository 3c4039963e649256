"""The conformance gate: expected outcomes per backend, declared divergences per pair.

The baseline is the manifests themselves: each step's ``expect.<backend>`` and
the scenario's ``diverges`` list (the categories intended between a pseudo-handle
backend and a real-handle one). A reviewed change to a manifest is a reviewed
change to the baseline. The gate passes when every backend matched its
expectations and the observed divergences equal the declared ones.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from harness.compare.diff import ScenarioDiff, check_comparable, diff_traces, some_names
from harness.compare.expect import Mismatch, check
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

    @property
    def observed(self) -> tuple[str, ...]:
        return self.diff.categories

    @property
    def divergence_ok(self) -> bool:
        return self.declared is None or self.declared == self.observed

    @property
    def passed(self) -> bool:
        return self.divergence_ok and not any(self.mismatches.values())


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


def declared_divergences(scenario: Scenario, left: BackendFacts, right: BackendFacts) -> tuple[str, ...] | None:
    """What the manifest declares for this pair.

    ``diverges`` speaks of a pseudo-handle backend against a real-handle one; two
    backends of the same model are held to their per-backend expectations only.
    """
    if left.model is right.model:
        return None
    return scenario.diverges


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
) -> GateResult:
    """Checks both trace sets against the manifests; raises InputError on unusable input.

    ``load_errors`` are the manifests that did not load: the others are still
    judged, and the result does not pass.
    """
    unloadable = tuple(unloadable_scenario(error) for error in load_errors)
    check_trace_sets(scenarios, left_set, right_set, paths, {u.scenario for u in unloadable})
    verdicts = []
    for scenario in scenarios:
        lt, rt = left_set.traces[scenario.name], right_set.traces[scenario.name]
        _check_steps(scenario, lt, paths[0])
        _check_steps(scenario, rt, paths[1])
        mismatches = {
            left.name: tuple(check(scenario, lt, left.name, left.expectations_from)),
            right.name: tuple(check(scenario, rt, right.name, right.expectations_from)),
        }
        declared = declared_divergences(scenario, left, right)
        verdicts.append(ScenarioVerdict(scenario.name, mismatches, diff_traces(lt, rt), declared))
    return GateResult(left.name, right.name, tuple(verdicts), unloadable)


def describe_failure(verdict: ScenarioVerdict) -> list[str]:
    """Readable lines for one failing scenario: expected, observed, first divergent step."""
    lines = [f"FAIL {verdict.scenario}"]
    if not verdict.divergence_ok:
        declared = ", ".join(verdict.declared or ()) or "same"
        observed = ", ".join(verdict.observed) or "same"
        lines.append(f"  divergences: declared [{declared}], observed [{observed}]")
        first = verdict.diff.first
        if first is not None:
            where = "teardown" if first.step is None else f"step {first.step + 1}"
            lines.append(f"  first divergent {where}: {first.left} vs {first.right} ({first.category}: {first.detail})")
    for backend, mismatches in verdict.mismatches.items():
        lines.extend(f"  {backend} {m.line()}" for m in mismatches)
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


def summary(result: GateResult) -> dict[str, Any]:
    """The gate's machine-readable summary (schema in reports/README.md)."""
    scenarios = [
        {
            "name": verdict.scenario,
            "passed": verdict.passed,
            "declared": None if verdict.declared is None else list(verdict.declared),
            "observed": list(verdict.observed),
            "first_divergence": _first_divergence(verdict.diff),
            "mismatches": {b: [m.line() for m in ms] for b, ms in sorted(verdict.mismatches.items())},
        }
        for verdict in result.verdicts
    ]
    return {
        "format": SUMMARY_FORMAT,
        "left": result.left,
        "right": result.right,
        "passed": result.passed,
        "counts": {
            "scenarios": len(result.verdicts),
            "failed": len(result.failures),
            "unloadable": len(result.unloadable),
        },
        "scenarios": scenarios,
        "unloadable": [{"name": u.scenario, "error": u.error} for u in result.unloadable],
    }


def summary_json(result: GateResult) -> str:
    return json.dumps(summary(result), sort_keys=True, indent=1) + "\n"


def junit_xml(result: GateResult) -> str:
    """JUnit XML: one test case per scenario, so any CI system can show the gate.

    Names, messages and trap causes pass through ``for_xml``: a character XML cannot hold
    (a guest can emit one in a tag) would make the whole file unreadable to the CI system.
    """
    suite = ElementTree.Element(
        "testsuite",
        name=for_xml(f"handle-compat gate {result.left} vs {result.right}"),
        tests=str(len(result.verdicts) + len(result.unloadable)),
        failures=str(len(result.failures)),
        errors=str(len(result.unloadable)),
    )
    for verdict in result.verdicts:
        case = ElementTree.SubElement(suite, "testcase", classname="handle-compat.gate", name=for_xml(verdict.scenario))
        if not verdict.passed:
            lines = [for_xml(line) for line in describe_failure(verdict)]
            failure = ElementTree.SubElement(case, "failure", message=lines[1].strip() if len(lines) > 1 else "failed")
            failure.text = "\n".join(lines)
    for unloadable in result.unloadable:
        name, error = for_xml(unloadable.scenario), for_xml(unloadable.error)
        case = ElementTree.SubElement(suite, "testcase", classname="handle-compat.gate", name=name)
        ElementTree.SubElement(case, "error", message=error).text = error
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
