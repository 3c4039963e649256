"""The pytest plugin: one item per scenario and backend, load errors as failing items, trace files.

Runs pytest in a fresh process on a guests folder holding the fixture scenarios
and one scenario whose manifest does not load, without ``--reports``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.model.paths import trace_path
from harness.model.trace import TraceSet
from suites.unit.support import BASELINE, FIXTURE_GUESTS, copy_scenario, run_pytest

TEST_FILE = """
from harness.compare.expect import check, explain
from harness.present.pytest_plugin import ScenarioRun


def test_scenario(scenario_run: ScenarioRun) -> None:
    run = scenario_run
    assert not check(run.scenario, run.trace, run.backend, run.fallback), explain(
        run.scenario, run.trace, run.backend, run.fallback
    )
"""


@dataclass(frozen=True)
class Session:
    outcomes: dict[str, str]
    reports: Path
    root: Path
    scenarios: list[str]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    root = tmp_path_factory.mktemp("plugin")
    guests = root / "guests"
    shutil.copytree(FIXTURE_GUESTS, guests)
    (copy_scenario(BASELINE, guests, "unloadable") / "scenario.toml").write_text("title = \n", encoding="utf-8")
    (root / "test_conformance.py").write_text(TEST_FILE, encoding="utf-8")
    args = ["-rA", "--guests", str(guests), "--backend", "pseudo", "--backend", "real"]
    completed = run_pytest(root, str(root / "test_conformance.py"), *args, cache=root / "cache")
    outcomes = {
        match[2]: match[1]
        for match in re.finditer(r"^(PASSED|FAILED|ERROR) \S+::test_scenario\[([^\]]+)\]", completed.stdout, re.M)
    }
    scenarios = sorted(p.name for p in FIXTURE_GUESTS.iterdir() if (p / "scenario.toml").is_file())
    return Session(outcomes, root / "reports" / "guests", root, scenarios)


def test_one_item_per_scenario_and_backend(session: Session) -> None:
    expected = {f"{b}:{s}" for b in ("pseudo", "real") for s in [*session.scenarios, "unloadable"]}
    assert set(session.outcomes) == expected


def test_scenarios_that_meet_their_manifests_pass(session: Session) -> None:
    failed = sorted(name for name, outcome in session.outcomes.items() if outcome != "PASSED")
    assert failed == ["pseudo:unloadable", "real:unloadable"]


@pytest.mark.parametrize("backend", ["pseudo", "real"])
def test_trace_file_per_backend_holds_every_scenario_that_ran(session: Session, backend: str) -> None:
    assert sorted(TraceSet.read(trace_path(session.reports, backend)).traces) == session.scenarios


def test_traces_of_a_guests_folder_of_ones_own_go_to_a_reports_folder_named_after_it(session: Session) -> None:
    written = sorted(str(p.relative_to(session.root)) for p in (session.root / "reports").rglob("*.json"))
    assert written == ["reports/guests/traces/pseudo.json", "reports/guests/traces/real.json"]


def test_backends_takes_a_list_and_writes_a_trace_file_each(tmp_path: Path) -> None:
    guests = tmp_path / "guests"
    copy_scenario(BASELINE, guests)
    (tmp_path / "test_conformance.py").write_text(TEST_FILE, encoding="utf-8")
    args = ["-rA", "--guests", str(guests), "--backends", "pseudo-reuse,real"]
    completed = run_pytest(tmp_path, str(tmp_path / "test_conformance.py"), *args, cache=tmp_path / "cache")
    passed = sorted(re.findall(r"^PASSED \S+::test_scenario\[([^\]]+)\]", completed.stdout, re.M))
    written = sorted(p.name for p in (tmp_path / "reports" / "guests" / "traces").iterdir())
    assert (passed, written) == (
        ["pseudo-reuse:baseline-roundtrip", "real:baseline-roundtrip"],
        ["pseudo-reuse.json", "real.json"],
    )
