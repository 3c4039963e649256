"""Every scenario on every selected backend must do what its manifest expects."""

from __future__ import annotations

from harness.compare.expect import check, explain
from harness.present.pytest_plugin import ScenarioRun


def test_scenario(scenario_run: ScenarioRun) -> None:
    run = scenario_run
    mismatches = check(run.scenario, run.trace, run.backend, run.fallback)
    assert not mismatches, explain(run.scenario, run.trace, run.backend, run.fallback)
