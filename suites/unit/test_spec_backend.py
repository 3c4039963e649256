"""The ``spec`` backends (harness/execute/backends/spec.py) on real wasm runs of the built-in scenarios.

``spec`` is CanonicalABI.md written in Python; ``real`` is wasmtime's implementation of the
same rules. Where they differ, one of the two is wrong, so the first test holds them equal
on everything a trace records.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest

from harness.compare.expect import check
from harness.execute.backends import ENTRY_POINT_GROUP, get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.oplog import Action
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import load_all, load_scenario
from harness.model.trace import StepTrace, Trace

SCENARIOS, _ = load_all(BUILTIN_GUESTS)
NAMES = [s.name for s in SCENARIOS]


@pytest.fixture(scope="module")
def traces(ctx: RunContext) -> dict[str, dict[str, Trace]]:
    """Every built-in scenario on ``spec``, ``spec-per-type`` and ``real``, run once for the module."""
    return {
        backend: {s.name: run_scenario(ctx, get_backend(backend), s) for s in SCENARIOS}
        for backend in ("spec", "spec-per-type", "real")
    }


def _observed(step: StepTrace) -> dict[str, Any]:
    """What a step did, everything but the raw trap message (wasmtime's words are not the model's)."""
    outcome = step.outcome
    return {
        "outcome": (outcome.status, outcome.value, outcome.trap),
        "events": step.events,
        "emits": step.emits,
        "ops": [op.to_json() for op in step.ops],
        "ops_complete": step.ops_complete,
    }


@pytest.mark.parametrize("name", NAMES)
def test_spec_and_real_agree(traces: dict[str, dict[str, Trace]], name: str) -> None:
    spec, real = traces["spec"][name], traces["real"][name]
    assert (spec.error, spec.live) == (real.error, real.live)
    assert [_observed(s) for s in spec.steps] == [_observed(s) for s in real.steps]


@pytest.mark.parametrize("backend", ["spec", "spec-per-type"])
@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_meets_its_expectations(traces: dict[str, dict[str, Trace]], backend: str, name: str) -> None:
    scenario = next(s for s in SCENARIOS if s.name == name)
    assert check(scenario, traces[backend][name], backend, get_backend(backend).expectations_from) == []


def test_both_are_registered_as_entry_points() -> None:
    names = {point.name for point in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"spec", "spec-per-type"} <= names


def test_spec_takes_its_expectations_from_real() -> None:
    assert (get_backend("spec").expectations_from, get_backend("spec-per-type").expectations_from) == ("real", "real")


def _results_in(trace: Trace, step: int) -> list[int]:
    return [op.index for op in trace.steps[step].ops if op.action is Action.RESULT_IN]


def test_per_type_numbers_each_type_from_1(ctx: RunContext) -> None:
    """wrong-type-index step 1: a opens an input and an output stream; per type, both are index 1."""
    scenario = load_scenario(BUILTIN_GUESTS / "wrong-type-index")
    single, per_type = (run_scenario(ctx, get_backend(b), scenario) for b in ("spec", "spec-per-type"))
    assert (_results_in(single, 0), _results_in(per_type, 0)) == ([1, 2], [1, 1])
