"""Every scenario on every selected backend must do what its manifest expects.

An implementation backend with a known-deviation file must instead depart from the
manifest exactly as the file lists: such a scenario is reported as an expected
failure (xfail, with the finding), and a deviation not listed or a listed one that no
longer happens fails it.
"""

from __future__ import annotations

import pytest

from harness.compare.deviations import check_deviations
from harness.compare.expect import check, explain
from harness.model.safe_text import for_terminal
from harness.present.pytest_plugin import ScenarioRun


def test_scenario(scenario_run: ScenarioRun) -> None:
    run = scenario_run
    mismatches = check(run.scenario, run.trace, run.backend, run.fallback)
    if run.deviations is None:
        assert not mismatches, explain(run.scenario, run.trace, run.backend, run.fallback)
        return
    listed = check_deviations(run.scenario.name, run.trace, mismatches, run.deviations)
    problems = "\n".join(for_terminal(line) for line in listed.lines())
    assert listed.ok, f"{problems}\n{explain(run.scenario, run.trace, run.backend, run.fallback)}"
    if listed.known:
        first = listed.known[0]
        pytest.xfail(for_terminal(f"known deviation {first.finding.name}, as listed at {first.where}"))
