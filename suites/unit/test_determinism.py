"""Trace files are byte-identical however and however often they are made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.model.paths import PROJECT_ROOT, trace_path

BACKENDS = ("pseudo", "real")


def _cli_trace(backend: str, reports: Path, cache: Path, hash_seed: int) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "--backend",
            backend,
            "--reports",
            str(reports),
            "--cache-dir",
            str(cache),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return trace_path(reports, backend).read_bytes()


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """Each backend's trace file from three CLI runs: a cold cache, then a warm one, each with its own hash seed."""
    root = tmp_path_factory.mktemp("three-runs")
    return {
        backend: [_cli_trace(backend, root / f"reports-{n}", root / "cache", hash_seed=n + 1) for n in range(3)]
        for backend in BACKENDS
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_runs_write_byte_identical_traces(three_runs: dict[str, list[bytes]], backend: str) -> None:
    first, *others = three_runs[backend]
    assert [other == first for other in others] == [True, True]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_identical_traces_carry_the_op_log_of_every_step_that_ran(
    three_runs: dict[str, list[bytes]], backend: str
) -> None:
    """So the byte comparisons above cover the op log (harness/model/oplog.py) too."""
    traces = json.loads(three_runs[backend][0])["traces"]
    ran = [step for trace in traces.values() for step in trace["steps"] if step["outcome"]["status"] != "not-run"]
    assert ran
    assert [step["index"] for step in ran if not step["ops"] and step["ops_complete"]] == []


def _pytest_reports(reports: Path, cache: Path, workers: int) -> dict[str, bytes]:
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "suites/conformance", "-q", "-p", "no:cacheprovider"),
            *("-n", str(workers), "--reports", str(reports), "--cache-dir", str(cache)),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    return {backend: trace_path(reports, backend).read_bytes() for backend in BACKENDS}


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The conformance suite's trace files from ``pytest -n 0`` and from ``pytest -n 2``."""
    root = tmp_path_factory.mktemp("xdist")
    serial = _pytest_reports(root / "n0", root / "cache", 0)
    parallel = _pytest_reports(root / "n2", root / "cache", 2)
    return serial, parallel


@pytest.mark.parametrize("backend", BACKENDS)
def test_pytest_n0_and_n2_write_byte_identical_traces(
    serial_and_parallel: tuple[dict[str, bytes], dict[str, bytes]], backend: str
) -> None:
    serial, parallel = serial_and_parallel
    assert serial[backend] == parallel[backend]
