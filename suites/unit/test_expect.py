"""Checking real traces against the expectations their manifests declare."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.compare.expect import check, explain
from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import MANIFEST, Scenario, discover, load_scenario
from harness.model.trace import Trace
from suites.unit.support import BASELINE, FIXTURE_GUESTS, MISFIT_WATS, copy_scenario, write_scenario


def _run(ctx: RunContext, backend: str, folder: Path) -> tuple[Scenario, Trace]:
    scenario = load_scenario(folder)
    return scenario, run_scenario(ctx, get_backend(backend), scenario)


def _edited_baseline(tmp_path: Path, old: str, new: str) -> Path:
    manifest = copy_scenario(BASELINE, tmp_path) / MANIFEST
    text = manifest.read_text(encoding="utf-8")
    assert old in text
    manifest.write_text(text.replace(old, new, 1), encoding="utf-8")
    return manifest.parent


@pytest.mark.parametrize("backend", ["pseudo", "pseudo-reuse", "real"])
@pytest.mark.parametrize("folder", discover(FIXTURE_GUESTS), ids=lambda p: p.name)
def test_fixture_scenario_meets_its_manifest(ctx: RunContext, folder: Path, backend: str) -> None:
    scenario, trace = _run(ctx, backend, folder)
    fallback = get_backend(backend).expectations_from
    assert check(scenario, trace, backend, fallback) == [], explain(scenario, trace, backend, fallback)


def test_pseudo_reuse_is_checked_against_pseudo_expectations(ctx: RunContext) -> None:
    # own-transfer declares expect.pseudo and expect.real only, for the step where they differ.
    scenario, trace = _run(ctx, "pseudo-reuse", BUILTIN_GUESTS / "own-transfer")
    assert check(scenario, trace, "pseudo-reuse", "pseudo") == []


def test_without_its_fallback_pseudo_reuse_has_no_expectation(ctx: RunContext) -> None:
    scenario, trace = _run(ctx, "pseudo-reuse", FIXTURE_GUESTS / "borrow-kept")
    assert [m.expected for m in check(scenario, trace, "pseudo-reuse")] == ["an expectation"]


def test_value_that_differs_is_a_mismatch_with_its_rule(ctx: RunContext, tmp_path: Path) -> None:
    folder = _edited_baseline(tmp_path, "value = 3,", "value = 4,")
    scenario, trace = _run(ctx, "real", folder)
    (mismatch,) = check(scenario, trace, "real")
    rule = scenario.steps[0].expect["all"].rule
    assert mismatch.line() == f"step 1: expected value 4, observed value 3 (rule: {rule})"


def test_trap_expected_but_value_observed_is_a_mismatch(ctx: RunContext, tmp_path: Path) -> None:
    folder = _edited_baseline(tmp_path, "value = 5,", 'trap = "wrong-type",')
    scenario, trace = _run(ctx, "real", folder)
    assert [(m.step, m.expected) for m in check(scenario, trace, "real")] == [(1, "trap wrong-type")]


def test_live_count_that_differs_is_a_teardown_mismatch(ctx: RunContext, tmp_path: Path) -> None:
    folder = _edited_baseline(tmp_path, "live = 0,", "live = 2,")
    scenario, trace = _run(ctx, "real", folder)
    assert [(m.step, m.expected, m.observed) for m in check(scenario, trace, "real")] == [
        (None, "2 live", "0 live (none)")
    ]


def test_scenario_that_could_not_run_is_one_mismatch(ctx: RunContext, tmp_path: Path) -> None:
    manifest = (BASELINE / MANIFEST).read_text(encoding="utf-8")
    folder = write_scenario(tmp_path, "broken", manifest, {"a.wat": MISFIT_WATS / "syntax-error.wat"})
    scenario, trace = _run(ctx, "real", folder)
    assert [m.expected for m in check(scenario, trace, "real")] == ["a run"]


def test_explain_marks_the_failing_step(ctx: RunContext, tmp_path: Path) -> None:
    folder = _edited_baseline(tmp_path, "value = 5,", "value = 6,")
    scenario, trace = _run(ctx, "real", folder)
    marks = [line.split()[0] for line in explain(scenario, trace, "real").splitlines() if "step" in line.split()[1:2]]
    assert marks == ["ok", "!!"]
