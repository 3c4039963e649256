"""The gate fails for the right reason when a host's behaviour changes (real wasm runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from wasmtime.component import Linker

from harness.compare.baseline import update_declared
from harness.compare.gate import GateResult, evaluate
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
from harness.model.vocabulary import Category, TrapKind
from harness.model.wit import WitPackage
from suites.unit.support import FIXTURE_GUESTS

ROOT = Path(__file__).resolve().parents[2]


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


def test_shipped_pair_passes_on_builtin_scenarios() -> None:
    scenarios, errors = load_all(BUILTIN_GUESTS)
    assert not errors
    result = _gate(get_backend("pseudo"), get_backend("real"), scenarios)
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


def _edit(manifest: Path, old: str, new: str) -> None:
    text = manifest.read_text(encoding="utf-8")
    assert old in text
    manifest.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def traced_guests(tmp_path: Path) -> tuple[Path, Path]:
    guests = _copy_guests(tmp_path, "own-transfer", "baseline-roundtrip")
    reports = tmp_path / "reports"
    for backend in ("pseudo", "real"):
        assert _cli("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports)).returncode == 0
    return guests, reports


def test_gate_exits_0_and_writes_json_and_junit(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"passed": true' in (reports / "gate.json").read_text()
    assert 'failures="0"' in (reports / "gate.xml").read_text()


def test_undeclared_divergence_exits_1_naming_scenario_and_categories(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    manifest = guests / "own-transfer" / "scenario.toml"
    manifest.write_text(manifest.read_text().replace('diverges = ["ownership-transfer"]', "diverges = []"))
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 1
    assert "FAIL own-transfer" in done.stdout
    assert "declared [same], observed [ownership-transfer]" in done.stdout
    assert "first divergent step 2" in done.stdout


def test_corrupt_trace_exits_2_naming_the_file(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    real = reports / "traces" / "real.json"
    real.write_text(real.read_text()[:200])
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 2
    assert str(real) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_traces_of_another_scenario_set_exit_2(traced_guests: tuple[Path, Path], tmp_path: Path) -> None:
    guests, reports = traced_guests
    other = _copy_guests(tmp_path / "other", "baseline-roundtrip")
    assert _cli("run", "--backend", "real", "--guests", str(other), "--reports", str(reports)).returncode == 0
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 2
    assert "different scenario set" in done.stderr


def test_update_baseline_rewrites_the_declaration(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    manifest = guests / "own-transfer" / "scenario.toml"
    manifest.write_text(manifest.read_text().replace('diverges = ["ownership-transfer"]', 'diverges = ["leak"]'))
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports), "--update-baseline")
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
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert f"{reports / 'traces' / 'pseudo.json'}: stale traces" in done.stderr
    assert f"`handle-compat run --backend pseudo --if-stale --guests {guests} --reports {reports}`" in done.stderr


def test_traces_made_with_other_limits_are_stale_unless_the_gate_is_told(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    for backend in ("pseudo", "real"):
        args = ("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports), "--step-timeout", "5")
        assert _cli(*args).returncode == 0
    codes = [
        _cli("gate", "--guests", str(guests), "--reports", str(reports), *extra).returncode
        for extra in ((), ("--step-timeout", "5"))
    ]
    assert codes == [2, 0]


def test_editing_what_a_scenario_expects_keeps_its_traces_current(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    manifest = guests / "baseline-roundtrip" / MANIFEST
    _edit(manifest, 'title = "', 'title = "Renamed: ')
    _edit(manifest, "expect.all = { value = 3,", "expect.all = { value = 4,")
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
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
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert f"{real}: scenario own-transfer: the trace has 2 steps, the manifest 3" in done.stderr


def test_declared_but_not_observed_divergence_exits_1(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    _edit(guests / "baseline-roundtrip" / MANIFEST, "diverges = []", 'diverges = ["isolation"]')
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert done.returncode == 1
    assert "FAIL baseline-roundtrip\n  divergences: declared [isolation], observed [same]" in done.stdout


def test_broken_manifest_is_reported_and_the_other_scenarios_still_judged(tmp_path: Path) -> None:
    guests = _copy_guests(tmp_path, "own-transfer", "baseline-roundtrip")
    reports = tmp_path / "reports"
    broken = guests / "baseline-roundtrip" / MANIFEST
    _edit(broken, "expect.all = { value = 3,", "expect.psuedo = { value = 3,")
    for backend in ("pseudo", "real"):
        assert _cli("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports)).returncode == 2
    _edit(guests / "own-transfer" / MANIFEST, 'diverges = ["ownership-transfer"]', "diverges = []")
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
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
    _cli("gate", "--guests", str(guests), "--reports", str(reports))
    summary = json.loads((reports / "gate.json").read_text(encoding="utf-8"))
    assert (summary["passed"], [u["name"] for u in summary["unloadable"]]) == (False, ["unloadable"])


def test_traces_of_another_set_are_named_by_count_and_first_few(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    assert _cli("run", "--backend", "real", "--guests", str(FIXTURE_GUESTS), "--reports", str(reports)).returncode == 0
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert "8 (borrow-kept, child-alive, give-own, lent-and-owned, reopen, and 3 more) only here" in done.stderr


def test_update_baseline_exits_1_while_an_expectation_still_fails(traced_guests: tuple[Path, Path]) -> None:
    guests, reports = traced_guests
    _edit(guests / "own-transfer" / MANIFEST, 'diverges = ["ownership-transfer"]', "diverges = []")
    _edit(guests / "baseline-roundtrip" / MANIFEST, "expect.all = { value = 3,", "expect.all = { value = 4,")
    done = _cli("gate", "--guests", str(guests), "--reports", str(reports), "--update-baseline")
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
    help_text = _cli("gate", "--help").stdout
    listed = help_text.partition("exit codes:")[2].splitlines()
    assert [line.split()[0] for line in listed if line[:4].strip().isdigit()] == ["0", "1", "2"]


def test_run_and_gate_on_another_guests_folder_keep_to_its_own_reports_folder(tmp_path: Path) -> None:
    guests = _copy_guests(tmp_path, "baseline-roundtrip")
    for backend in ("pseudo", "real"):
        assert _cli("run", "--backend", backend, "--guests", str(guests), cwd=tmp_path).returncode == 0
    done = _cli("gate", "--guests", str(guests), cwd=tmp_path)
    assert (done.returncode, (tmp_path / "reports" / "traces").exists()) == (0, False)
    assert (tmp_path / "reports" / "guests" / "gate.json").is_file()
