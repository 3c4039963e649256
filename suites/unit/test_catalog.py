"""The rule catalog's coverage claims hold on real runs, and the README table matches it."""

from __future__ import annotations

import pytest

from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.catalog import Coverage, load_rules, render_table, with_table
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import load_all, load_scenario
from harness.model.trace import Status

RULES = load_rules(BUILTIN_GUESTS)
TRAP_CLAIMS = [(r.id, c) for r in RULES for c in r.covered if c.trap]


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
    kinds = {s.outcome.trap.value for s in trace.steps if s.outcome.status is Status.TRAP and s.outcome.trap}
    assert claim.trap in kinds, f"{rule}: {claim.scenario} on {claim.backend} trapped with {kinds or 'nothing'}"


def test_readme_table_is_rendered_from_the_rules() -> None:
    readme = (BUILTIN_GUESTS / "README.md").read_text(encoding="utf-8")
    assert with_table(readme, render_table(RULES)) == readme, "run `handle-compat catalog --write`"
