"""The gate fails for the right reason when a host's behaviour changes (real wasm runs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.compare.gate import GateResult, evaluate
from harness.execute.backends import Backend, get_backend
from harness.execute.backends.host import StreamHost
from harness.execute.backends.pseudo import PseudoBackend
from harness.execute.backends.pseudo_table import Entry, PseudoTable
from harness.execute.backends.real import RealBackend
from harness.execute.host_trap import HostTrap
from harness.execute.run import RunContext, run_scenario
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import Scenario, load_all, load_scenario
from harness.model.trace import TraceSet, merge
from harness.model.vocabulary import TrapKind

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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=ROOT, check=False
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
