"""The rule catalog's coverage claims hold on real runs, and the README table matches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.catalog import RULES_FILE, Coverage, load_rules, render_table, with_table
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import load_all, load_scenario
from harness.model.trace import Status, StepTrace, Trace

RULES = load_rules(BUILTIN_GUESTS)
TRAP_CLAIMS = [(r.id, c) for r in RULES for c in r.covered if c.trap]
VALUE_CLAIMS = [(r.id, c) for r in RULES for c in r.covered if not c.trap]


def _claimed_step(rule: str, claim: Coverage, trace: Trace) -> StepTrace:
    """The step a claim names, or a failure saying the scenario has no such step."""
    assert claim.step is not None
    if not 1 <= claim.step <= len(trace.steps):
        pytest.fail(
            f"{rule}: {claim.scenario} on {claim.backend} has no step {claim.step} ({trace.error or 'no error'})"
        )
    return trace.steps[claim.step - 1]


def test_every_covering_scenario_exists() -> None:
    scenarios, _ = load_all(BUILTIN_GUESTS)
    names = {s.name for s in scenarios}
    missing = sorted({c.scenario for r in RULES for c in r.covered} - names)
    assert not missing


def test_every_rule_is_covered_or_says_why_not() -> None:
    assert all(r.covered or (r.reach == "unreachable" and r.why) for r in RULES)


@pytest.mark.parametrize(("rule", "claim"), TRAP_CLAIMS, ids=[f"{r}:{c.scenario}:{c.backend}" for r, c in TRAP_CLAIMS])
def test_covering_scenario_traps_as_claimed(rule: str, claim: Coverage, run_context: RunContext) -> None:
    trace = run_scenario(run_context, get_backend(claim.backend), load_scenario(BUILTIN_GUESTS / claim.scenario))
    steps = trace.steps if claim.step is None else (_claimed_step(rule, claim, trace),)
    kinds = {s.outcome.trap.value for s in steps if s.outcome.status is Status.TRAP and s.outcome.trap}
    assert claim.trap in kinds, f"{rule}: {claim.scenario} on {claim.backend} trapped with {kinds or 'nothing'}"


@pytest.mark.parametrize(
    ("rule", "claim"), VALUE_CLAIMS, ids=[f"{r}:{c.scenario}:{c.backend}:{c.step}" for r, c in VALUE_CLAIMS]
)
def test_covering_scenario_step_returns_the_value_its_manifest_expects(
    rule: str, claim: Coverage, run_context: RunContext
) -> None:
    scenario, backend = load_scenario(BUILTIN_GUESTS / claim.scenario), get_backend(claim.backend)
    step = _claimed_step(rule, claim, run_scenario(run_context, backend, scenario))
    observed = step.outcome
    expected = scenario.expectation(scenario.steps[step.index], backend.name, backend.expectations_from)
    where = f"{rule}: {claim.scenario} step {claim.step} on {claim.backend}"
    assert observed.status is Status.VALUE and expected is not None and expected.value == observed.value, (
        f"{where} gave {observed.short()}; the manifest expects {expected.short() if expected else 'nothing'}"
    )


def test_a_value_claim_without_a_step_is_refused_naming_the_rules_file(tmp_path: Path) -> None:
    rules = (BUILTIN_GUESTS / RULES_FILE).read_text(encoding="utf-8")
    claim = '{ scenario = "use-after-drop", backend = "real", step = 3 }'
    (tmp_path / RULES_FILE).write_text(rules.replace(claim, claim.replace(", step = 3", "")), encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_rules(tmp_path)
    assert (error.value.path, "say which step" in str(error.value)) == (tmp_path / RULES_FILE, True)


def test_readme_table_is_rendered_from_the_rules() -> None:
    readme = (BUILTIN_GUESTS / "README.md").read_text(encoding="utf-8")
    assert with_table(readme, render_table(RULES)) == readme, "run `handle-compat catalog --write`"
