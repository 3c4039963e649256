"""The gate fails for the right reason when a host's behaviour changes (real wasm runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from xml.etree import ElementTree

import pytest
from wasmtime.component import Linker

from harness.compare.baseline import update_declared
from harness.compare.gate import GateResult, declared_against_real, declared_divergences, evaluate
from harness.execute.backends import Backend, get_backend
from harness.execute.backends.host import StreamHost
from harness.execute.backends.pseudo import PseudoBackend
from harness.execute.backends.pseudo_table import Entry, PseudoTable
from harness.execute.backends.real import RealBackend
from harness.execute.host_trap import HostTrap
from harness.execute.run import RunContext, run_scenario
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import MANIFEST, Scenario, load_all, load_scenario
from harness.model.trace import TraceSet, merge
from harness.model.vocabulary import Category, HandleModel, TrapKind
from harness.model.wit import WitPackage
from suites.unit.support import FIXTURE_GUESTS, edit_file

ROOT = Path(__file__).resolve().parents[2]
#: The two backends these tests trace and gate (``gate`` alone would ask for every shipped one).
PAIR = ("--backends", "pseudo,real")


class IsolatingPseudoBackend(PseudoBackend):
    """The pseudo table, but a component may only use entries it created itself."""

    name: ClassVar[str] = "pseudo-isolating"
    expectations_from: ClassVar[str | None] = "pseudo"

    def lookup(self, table: PseudoTable, caller: str, index: int, resource: str) -> Entry:
        entry = table.get(index, resource)
        if entry.creator != caller:
            raise HostTrap(TrapKind.UNKNOWN_HANDLE, f"{caller} may not use {entry.creator}'s index {index}")
        return entry


class NoDestructorRealBackend(RealBackend):
    """Real handles whose host destructors never run."""

    name: ClassVar[str] = "real-no-destructor"
    expectations_from: ClassVar[str | None] = "real"

    @staticmethod
    def _destructor(host: StreamHost, resource: str) -> Any:
        def destructor(_store: Any, rep: int) -> None:
            return None

        return destructor


class UnlinkableRealBackend(RealBackend):
    """Real handles from a host that refuses to provide the WIT package, so nothing runs."""

    name: ClassVar[str] = "real-unlinkable"
    expectations_from: ClassVar[str | None] = "real"

    def define_host(self, linker: Linker, wit: WitPackage, scenario: Scenario, host: StreamHost) -> None:
        raise InputError(scenario.path / MANIFEST, "this host provides no interfaces")


def _scenarios(*names: str) -> list[Scenario]:
    return [load_scenario(BUILTIN_GUESTS / name) for name in names]


def _gate(left: Backend, right: Backend, scenarios: list[Scenario]) -> GateResult:
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    sets = [merge(b.name, "test", [run_scenario(ctx, b, s) for s in scenarios]) for b in (left, right)]
    return evaluate(scenarios, left, right, sets[0], sets[1], (Path("left.json"), Path("right.json")))


@pytest.mark.parametrize("backend", ["pseudo", "pseudo-reuse"])
def test_shipped_backend_passes_the_gate_against_real_on_builtin_scenarios(backend: str) -> None:
    # pseudo-reuse is held to its own declarations where its reused keys behave like real's table.
    scenarios, errors = load_all(BUILTIN_GUESTS)
    assert not errors
    result = _gate(get_backend(backend), get_backend("real"), scenarios)
    assert result.passed, [v.scenario for v in result.failures]


def test_isolating_pseudo_host_fails_the_gate_on_the_ownership_scenario() -> None:
    result = _gate(IsolatingPseudoBackend(), get_backend("real"), _scenarios("own-transfer", "baseline-roundtrip"))
    failed = {v.scenario: v for v in result.failures}
    assert set(failed) == {"own-transfer"}
    verdict = failed["own-transfer"]
    (mismatch, *_) = verdict.mismatches["pseudo-isolating"]
    assert mismatch.step == 0
    assert "unknown-handle" in mismatch.observed


def test_isolating_pseudo_host_diverges_from_real_one_step_earlier_than_pseudo() -> None:
    result = _gate(IsolatingPseudoBackend(), get_backend("real"), _scenarios("own-transfer"))
    (verdict,) = result.verdicts
    first = verdict.diff.first
    assert first is not None
    assert (first.step, first.left, first.right) == (0, "trap unknown-handle", "value 2")


def test_missing_real_destructor_is_caught_as_leak() -> None:
    result = _gate(get_backend("pseudo"), NoDestructorRealBackend(), _scenarios("baseline-roundtrip"))
    (verdict,) = result.failures
    assert "leak" in verdict.observed
    assert any("live" in m.line() for m in verdict.mismatches["real-no-destructor"])


def _copy_guests(tmp_path: Path, *names: str) -> Path:
    guests = tmp_path / "guests"
    shutil.copytree(BUILTIN_GUESTS / "wit", guests / "wit")
    for name in names:
        shutil.copytree(BUILTIN_GUESTS / name, guests / name)
    return guests


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )


@pytest.fixture
def traced_guests(tmp_path: Path) -> tuple[Path, Path]:
    guests = _copy_guests(tmp_path, "own-transfer", "baseline-roundtrip")
    reports = tmp_path / "reports"
    for backend in ("pseudo", "real"):
        assert _cli("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports)).returncode == 0
    return guests, reports


def test_gate_exits_0_and_writes_json_and_junit(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"passed": true' in (reports / "gate.json").read_text()
    assert 'failures="0"' in (reports / "gate.xml").read_text()


def test_undeclared_divergence_exits_1_naming_scenario_and_categories(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    manifest = guests / "own-transfer" / "scenario.toml"
    manifest.write_text(manifest.read_text().replace('diverges = ["ownership-transfer"]', "diverges = []"))
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 1
    assert "FAIL own-transfer" in done.stdout
    assert "declared [same], observed [ownership-transfer]" in done.stdout
    assert "first divergent step 2" in done.stdout


def test_corrupt_trace_exits_2_naming_the_file(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    real = reports / "traces" / "real.json"
    real.write_text(real.read_text()[:200])
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 2
    assert str(real) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_traces_of_another_scenario_set_exit_2(traced_guests: tuple[Path, Path], tmp_path: Path) -> None:
    guests, reports = traced_guests
    other = _copy_guests(tmp_path / "other", "baseline-roundtrip")
    assert _cli("run", "--backend", "real", "--guests", str(other), "--reports", str(reports)).returncode == 0
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 2
    assert "different scenario set" in done.stderr


def test_update_baseline_rewrites_the_declaration(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    manifest = guests / "own-transfer" / "scenario.toml"
    manifest.write_text(manifest.read_text().replace('diverges = ["ownership-transfer"]', 'diverges = ["leak"]'))
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports), "--update-baseline")
    assert done.returncode == 0
    assert 'diverges = ["leak"] -> diverges = ["ownership-transfer"]' in done.stdout
    assert 'diverges = ["ownership-transfer"]' in manifest.read_text()


def test_trace_set_round_trips_through_gate_inputs(traced_guests: tuple[Path, Path]) -> None:
    _, reports = traced_guests
    trace_set = TraceSet.read(reports / "traces" / "pseudo.json")
    assert set(trace_set.traces) == {"own-transfer", "baseline-roundtrip"}
    assert trace_set.inputs


def test_stale_traces_exit_2_naming_the_file_and_how_to_remake_them(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    wat = guests / "own-transfer" / "b.wat"
    wat.write_text(wat.read_text(encoding="utf-8") + ";; edited after the traces were made\n", encoding="utf-8")
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert f"{reports / 'traces' / 'pseudo.json'}: stale traces" in done.stderr
    assert f"`handle-compat run --backend pseudo --if-stale --guests {guests} --reports {reports}`" in done.stderr


def test_traces_made_with_other_limits_are_stale_unless_the_gate_is_told(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    for backend in ("pseudo", "real"):
        args = ("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports), "--step-timeout", "5")
        assert _cli(*args).returncode == 0
    codes = [
        _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports), *extra).returncode
        for extra in ((), ("--step-timeout", "5"))
    ]
    assert codes == [2, 0]


def test_editing_what_a_scenario_expects_keeps_its_traces_current(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    manifest = guests / "baseline-roundtrip" / MANIFEST
    edit_file(manifest, 'title = "', 'title = "Renamed: ')
    edit_file(manifest, "expect.all = { value = 3,", "expect.all = { value = 4,")
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, "pseudo step 1: expected value 4, observed value 3" in done.stdout) == (
        1,
        True,
    )


def test_trace_with_fewer_steps_than_its_manifest_exits_2_naming_file_and_scenario(
    traced_guests: tuple[Path, Path],
) -> None:
    guests, reports = traced_guests
    real = reports / "traces" / "real.json"
    data = json.loads(real.read_text(encoding="utf-8"))
    data["traces"]["own-transfer"]["steps"].pop()
    real.write_text(json.dumps(data), encoding="utf-8")
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert f"{real}: scenario own-transfer: the trace has 2 steps, the manifest 3" in done.stderr


def test_declared_but_not_observed_divergence_exits_1(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    edit_file(guests / "baseline-roundtrip" / MANIFEST, "diverges = []", 'diverges = ["isolation"]')
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 1
    assert "FAIL baseline-roundtrip\n  divergences: declared [isolation], observed [same]" in done.stdout


def test_broken_manifest_is_reported_and_the_other_scenarios_still_judged(tmp_path: Path) -> None:
    guests = _copy_guests(tmp_path, "own-transfer", "baseline-roundtrip")
    reports = tmp_path / "reports"
    broken = guests / "baseline-roundtrip" / MANIFEST
    edit_file(broken, "expect.all = { value = 3,", "expect.psuedo = { value = 3,")
    for backend in ("pseudo", "real"):
        assert _cli("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports)).returncode == 2
    edit_file(guests / "own-transfer" / MANIFEST, 'diverges = ["ownership-transfer"]', "diverges = []")
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 2
    assert f"{broken}:18: step 1: unknown backend 'psuedo'" in done.stderr
    assert "did you mean 'pseudo'?" in done.stderr
    assert "FAIL own-transfer" in done.stdout


def test_broken_manifest_is_in_the_gate_summary(tmp_path: Path) -> None:
    guests = _copy_guests(tmp_path, "baseline-roundtrip")
    reports = tmp_path / "reports"
    (guests / "unloadable").mkdir()
    (guests / "unloadable" / MANIFEST).write_text("title = \n", encoding="utf-8")
    for backend in ("pseudo", "real"):
        _cli("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports))
    _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    summary = json.loads((reports / "gate.json").read_text(encoding="utf-8"))
    assert (summary["passed"], [u["name"] for u in summary["unloadable"]]) == (False, ["unloadable"])


def test_traces_of_another_set_are_named_by_count_and_first_few(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    assert _cli("run", "--backend", "real", "--guests", str(FIXTURE_GUESTS), "--reports", str(reports)).returncode == 0
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert "8 (borrow-kept, child-alive, give-own, lent-and-owned, reopen, and 3 more) only here" in done.stderr


def test_update_baseline_exits_1_while_an_expectation_still_fails(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    edit_file(guests / "own-transfer" / MANIFEST, 'diverges = ["ownership-transfer"]', "diverges = []")
    edit_file(guests / "baseline-roundtrip" / MANIFEST, "expect.all = { value = 3,", "expect.all = { value = 4,")
    done = _cli("gate", *PAIR, "--guests", str(guests), "--reports", str(reports), "--update-baseline")
    assert done.returncode == 1
    assert 'diverges = [] -> diverges = ["ownership-transfer"]' in done.stdout
    assert "step 1: expected value 4, observed value 3" in done.stdout


def test_update_baseline_never_writes_other(tmp_path: Path) -> None:
    guests = _copy_guests(tmp_path, "baseline-roundtrip")
    scenarios = load_all(guests)[0]
    (verdict,) = _gate(get_backend("pseudo"), UnlinkableRealBackend(), scenarios).verdicts
    before = (guests / "baseline-roundtrip" / MANIFEST).read_bytes()
    update = update_declared(scenarios[0], verdict.observed)
    assert (Category.OTHER in verdict.observed, update is not None and update.written) == (True, False)
    assert (guests / "baseline-roundtrip" / MANIFEST).read_bytes() == before


def test_gate_help_lists_the_exit_codes() -> None:
    help_text = _cli("gate", *PAIR, "--help").stdout
    listed = help_text.partition("exit codes:")[2].splitlines()
    assert [line.split()[0] for line in listed if line[:4].strip().isdigit()] == ["0", "1", "2"]


def test_run_and_gate_on_another_guests_folder_keep_to_its_own_reports_folder(tmp_path: Path) -> None:
    guests = _copy_guests(tmp_path, "baseline-roundtrip")
    for backend in ("pseudo", "real"):
        assert _cli("run", "--backend", backend, "--guests", str(guests), cwd=tmp_path).returncode == 0
    done = _cli("gate", *PAIR, "--guests", str(guests), cwd=tmp_path)
    assert (done.returncode, (tmp_path / "reports" / "traces").exists()) == (0, False)
    assert (tmp_path / "reports" / "guests" / "gate.json").is_file()


# --- several backends, each against a reference -------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the gate knows of a backend, for declaration fallbacks."""

    name: str
    model: HandleModel = HandleModel.PSEUDO
    expectations_from: str | None = None
    diverges_from: str | None = None


def test_a_backend_without_a_declaration_follows_its_fallbacks_to_real() -> None:
    scenario = load_scenario(BUILTIN_GUESTS / "use-after-drop")
    registry = {
        "spec": Facts("spec", HandleModel.REAL),
        "spec-per-type": Facts("spec-per-type", diverges_from="spec"),
        "tagged": Facts("tagged", expectations_from="pseudo"),
        "loop-a": Facts("loop-a", diverges_from="loop-b"),
        "loop-b": Facts("loop-b", diverges_from="loop-a"),
    }
    declared = [declared_against_real(scenario, name, registry) for name in (*registry, "pseudo-reuse", "pseudo")]
    assert declared == [(), (), ("use-after-free",), (), (), (), ("use-after-free",)]


def test_two_backends_that_both_diverge_from_real_are_held_to_expectations_only() -> None:
    scenario = load_scenario(BUILTIN_GUESTS / "own-transfer")
    pseudo, reuse = Facts("pseudo"), Facts("pseudo-reuse", expectations_from="pseudo")
    assert declared_divergences(scenario, pseudo, reuse) is None


@pytest.fixture(scope="module")
def three_traced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """use-after-drop and own-transfer traced on pseudo, pseudo-reuse and real."""
    root = tmp_path_factory.mktemp("three")
    guests = _copy_guests(root, "use-after-drop", "own-transfer")
    reports = root / "reports"
    done = _cli("run", "--backends", "pseudo,pseudo-reuse,real", "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    return guests, reports


def test_gate_judges_each_backend_against_real(three_traced: tuple[Path, Path]) -> None:
    guests, reports = three_traced
    done = _cli("gate", "--backends", "pseudo,pseudo-reuse,real", "--guests", str(guests), "--reports", str(reports))
    summary = json.loads((reports / "gate.json").read_text(encoding="utf-8"))
    entry = next(s for s in summary["scenarios"] if s["name"] == "use-after-drop")
    observed = {backend: pair["observed"] for backend, pair in entry["pairs"].items()}
    assert (done.returncode, summary["backends"], summary["reference"]) == (0, ["pseudo", "pseudo-reuse"], "real")
    assert observed == {"pseudo": ["use-after-free"], "pseudo-reuse": []}


def test_gate_xml_has_a_test_case_per_scenario_and_backend(three_traced: tuple[Path, Path]) -> None:
    guests, reports = three_traced
    _cli("gate", "--backends", "pseudo,pseudo-reuse,real", "--guests", str(guests), "--reports", str(reports))
    suite = ElementTree.parse(reports / "gate.xml").getroot()
    cases = sorted((c.get("classname"), c.get("name")) for c in suite.iter("testcase"))
    assert cases == [
        (f"handle-compat.gate.{backend}", name)
        for backend in ("pseudo", "pseudo-reuse")
        for name in ("own-transfer", "use-after-drop")
    ]


def test_left_and_right_still_name_one_pair(three_traced: tuple[Path, Path]) -> None:
    guests, reports = three_traced
    done = _cli("gate", "--left", "pseudo-reuse", "--right", "real", "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stdout.splitlines()[-1]) == (0, "2 passed, 0 failed: gate pseudo-reuse vs real")


def test_a_failing_pair_is_named_in_the_failure(three_traced: tuple[Path, Path], tmp_path: Path) -> None:
    guests, reports = three_traced
    edited = tmp_path / "guests"
    shutil.copytree(guests, edited)
    edit_file(edited / "use-after-drop" / MANIFEST, "diverges.pseudo-reuse = []", 'diverges.pseudo-reuse = ["leak"]')
    done = _cli("gate", "--backends", "pseudo,pseudo-reuse,real", "--guests", str(edited), "--reports", str(reports))
    assert (done.returncode, "FAIL use-after-drop (pseudo-reuse vs real)" in done.stdout) == (1, True)


def test_update_baseline_writes_a_declaration_of_the_backends_own(
    three_traced: tuple[Path, Path], tmp_path: Path
) -> None:
    guests, reports = three_traced
    edited = tmp_path / "guests"
    shutil.copytree(guests, edited)
    manifest = edited / "use-after-drop" / MANIFEST
    edit_file(manifest, "diverges.pseudo-reuse = []\n", "")
    args = ("--backends", "pseudo,pseudo-reuse,real", "--guests", str(edited), "--reports", str(reports))
    done = _cli("gate", *args, "--update-baseline")
    assert done.returncode == 0, done.stdout + done.stderr
    assert load_scenario(edited / "use-after-drop").declared_against_real("pseudo-reuse") == ()
    assert _cli("gate", *args).returncode == 0


def test_update_baseline_turns_a_plain_declaration_into_per_backend_ones(
    three_traced: tuple[Path, Path], tmp_path: Path
) -> None:
    guests, reports = three_traced
    edited = tmp_path / "guests"
    shutil.copytree(guests, edited)
    manifest = edited / "use-after-drop" / MANIFEST
    text = manifest.read_text(encoding="utf-8")
    start = text.index("diverges.pseudo =")
    end = text.index("diverges.pseudo-reuse = []\n") + len("diverges.pseudo-reuse = []\n")
    manifest.write_text(text[:start] + 'diverges = ["use-after-free"]\n' + text[end:], encoding="utf-8")
    args = ("--backends", "pseudo-reuse,real", "--guests", str(edited), "--reports", str(reports))
    done = _cli("gate", *args, "--update-baseline")
    scenario = load_scenario(edited / "use-after-drop")
    assert (done.returncode, scenario.diverges, scenario.declared_against_real("pseudo-reuse")) == (
        0,
        ("use-after-free",),
        (),
    )
