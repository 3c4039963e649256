"""Known-deviation files: checked on load, and the gate holds jco's real runs to exactly what they list."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.compare.deviations import check_deviations
from harness.compare.expect import check
from harness.execute.backends import get_backend
from harness.execute.backends.jco import pinned_version
from harness.execute.run import RunContext, run_scenario
from harness.model.deviations import deviation_path, load_deviation_file
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import Scenario, load_all
from suites.unit.support import copy_scenario, error_lines, line_of, run_cli

SHIPPED = deviation_path(BUILTIN_GUESTS, "jco", pinned_version())

#: own-transfer deviates on jco (a method call through a given-away index is not checked);
#: baseline-roundtrip does not.
_LISTED = """\
[finding.unchecked-method-handle]
rule = "CanonicalABI.md HandleTable.get: trap_if(self.array[i] is None)"
why = "host method calls read the slot without checking it"
link = ""

[[deviation]]
scenario = "own-transfer"
finding = "unchecked-method-handle"
diverges = ["ownership-transfer"]
observed = [
  { step = 2, outcome = "value 1" },
  { step = 3, outcome = "value 1" },
]
"""


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """A guests folder of two built-in scenarios, run on jco and real; yields (guests, reports, cache)."""
    root = tmp_path_factory.mktemp("deviations")
    guests, reports, cache = root / "guests", root / "reports", root / "cache"
    for name in ("own-transfer", "baseline-roundtrip"):
        copy_scenario(BUILTIN_GUESTS / name, guests)
    ran = run_cli("run", "--backends", "jco,real", "--guests", str(guests), "--reports", str(reports), cache=cache)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    yield guests, reports, cache


def _gate(traced: tuple[Path, Path, Path], listed: str | None) -> subprocess.CompletedProcess[str]:
    guests, reports, cache = traced
    path = deviation_path(guests, "jco", pinned_version())
    shutil.rmtree(path.parent, ignore_errors=True)
    if listed is not None:
        path.parent.mkdir()
        path.write_text(listed, encoding="utf-8")
    return run_cli("gate", "--backends", "jco", "--guests", str(guests), "--reports", str(reports), cache=cache)


def test_the_gate_passes_when_jco_deviates_exactly_as_listed(traced: tuple[Path, Path, Path]) -> None:
    gated = _gate(traced, _LISTED)
    summary = json.loads((traced[1] / "gate.json").read_text(encoding="utf-8"))
    assert (gated.returncode, summary["pairs"]["jco"]["known_deviations"]) == (0, 2), gated.stdout + gated.stderr


def test_a_deviation_the_file_does_not_list_fails_the_gate(traced: tuple[Path, Path, Path]) -> None:
    unlisted = _LISTED.replace('  { step = 3, outcome = "value 1" },\n', "")
    gated = _gate(traced, unlisted)
    assert gated.returncode == 1
    assert "jco new deviation, not in " in gated.stdout and "step 3: expected not run, observed value 1" in gated.stdout


def test_a_listed_deviation_that_no_longer_happens_fails_the_gate_naming_the_line_to_remove(
    traced: tuple[Path, Path, Path],
) -> None:
    gone = _LISTED + (
        '\n[[deviation]]\nscenario = "baseline-roundtrip"\nfinding = "unchecked-method-handle"\n'
        'diverges = []\nobserved = [{ step = 1, outcome = "trap unknown-handle" }]\n'
    )
    gated = _gate(traced, gone)
    path = deviation_path(traced[0], "jco", pinned_version())
    line = line_of(path, "step = 1")
    assert gated.returncode == 1
    assert f"listed deviation no longer happens: remove it from {path}:{line}" in gated.stdout


def test_a_missing_file_for_the_installed_version_is_one_line_and_exit_2(traced: tuple[Path, Path, Path]) -> None:
    gated = _gate(traced, None)
    assert (gated.returncode, len(error_lines(gated))) == (2, 1)
    assert f"jco-{pinned_version()}.toml: no known-deviation file for jco {pinned_version()}" in gated.stderr


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ('scenario = "own-transfer"', 'scenario = "own-transfr"', "own-transfr", "unknown scenario 'own-transfr'"),
        ("step = 2,", "step = 7,", "step = 7", "unknown step 7 (the scenario has steps 1 to 3"),
        ('"value 1" },\n]', '"trap unknown-handel" },\n]', "handel", "unknown trap kind 'unknown-handel'"),
        ('"ownership-transfer"]', '"ownership"]', "ownership", "unknown category 'ownership'"),
        ('finding = "unchecked', 'finding = "unchecke', 'finding = "unchecke-', "unknown finding"),
        ("step = 2,", 'step = "teardown",', "teardown", "the teardown's outcome is 'N live'"),
        (
            'outcome = "value 1" },\n  { step = 3',
            'outcome = "trap unknown-handle" },\n  { step = 3',
            "step = 2",
            "nothing deviates",
        ),
        ('link = ""', 'link = "see the tracker"', "link", "link must be an https:// address"),
        (
            'diverges = ["ownership-transfer"]',
            'diverges = ["ownership-transfer"]\nwhen = 1',
            "when",
            "unknown key 'when'",
        ),
    ],
)
def test_a_broken_file_is_one_error_naming_its_file_and_line(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    scenarios, _ = load_all(BUILTIN_GUESTS)
    path = tmp_path / "jco-1.35.0.toml"
    assert old in _LISTED
    path.write_text(_LISTED.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_deviation_file(path, "jco", "1.35.0", scenarios, "real")
    assert (raised.value.path, raised.value.line) == (path, line_of(path, needle))
    assert message in raised.value.message


@pytest.fixture(scope="module")
def shipped_runs() -> Iterator[tuple[list[Scenario], dict[str, list[str]]]]:
    """Every built-in scenario on jco, checked against the shipped file: per scenario, what does not hold."""
    scenarios, _ = load_all(BUILTIN_GUESTS)
    listed = load_deviation_file(SHIPPED, "jco", pinned_version(), scenarios, "real")
    with RunContext(BUILTIN_GUESTS / "wit") as ctx:
        jco = get_backend("jco")
        problems = {}
        for scenario in scenarios:
            trace = run_scenario(ctx, jco, scenario)
            found = check_deviations(scenario.name, trace, check(scenario, trace, "jco", "real"), listed)
            problems[scenario.name] = found.lines()
    yield scenarios, problems


def test_jco_deviates_from_the_built_in_manifests_exactly_as_the_shipped_file_lists(
    shipped_runs: tuple[list[Scenario], dict[str, list[str]]],
) -> None:
    _, problems = shipped_runs
    assert {name: lines for name, lines in problems.items() if lines} == {}


def test_the_shipped_file_is_named_for_the_pinned_jco_and_explains_every_other_divergence() -> None:
    scenarios, _ = load_all(BUILTIN_GUESTS)
    listed = load_deviation_file(SHIPPED, "jco", pinned_version(), scenarios, "real")
    unexplained = [d.scenario for d in listed.deviations.values() if "other" in d.diverges and not d.note]
    assert (SHIPPED.is_file(), unexplained) == (True, [])
