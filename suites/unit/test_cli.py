"""The ``handle-compat`` command line, run as ``python -m harness`` in a fresh process."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.compare.diff import EXPLANATIONS
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT, trace_path
from harness.model.scenario import MANIFEST
from harness.model.trace import TraceSet
from harness.model.vocabulary import Category
from harness.present.cli import EXIT_DIFFERS, EXIT_INPUT, EXIT_OK, EXIT_PIPE_CLOSED, build_parser
from suites.unit.support import BASELINE, FIXTURE_GUESTS, copy_scenario, run_cli


def _run(guests: Path, reports: Path, *extra: str, backend: str = "real", cache: Path | None = None) -> tuple[int, str]:
    args = ("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports), *extra)
    completed = run_cli(*args, cache=cache or reports / "cache")
    return completed.returncode, completed.stdout


@pytest.fixture(scope="module")
def builtin_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in guests as they are now, so both runs below see the same files."""
    snapshot = tmp_path_factory.mktemp("snapshot") / "guests"
    shutil.copytree(BUILTIN_GUESTS, snapshot)
    return snapshot


def _twice(guests: Path, tmp_path: Path, backend: str) -> tuple[bytes, bytes]:
    """The trace file of two runs: the first compiles and fills the cache, the second loads from it.

    A generous deadline keeps wall-clock time (a loaded machine) out of what is compared.
    """
    cache, files = tmp_path / "cache", []
    for name in ("first", "second"):
        _run(guests, tmp_path / name, "--step-timeout", "60", backend=backend, cache=cache)
        files.append(trace_path(tmp_path / name, backend).read_bytes())
    return files[0], files[1]


def test_two_runs_of_the_builtin_guests_write_byte_identical_trace_files(
    builtin_snapshot: Path, tmp_path: Path
) -> None:
    first, second = _twice(builtin_snapshot, tmp_path, "real")
    assert first == second


def test_two_pseudo_runs_write_byte_identical_trace_files(tmp_path: Path) -> None:
    first, second = _twice(FIXTURE_GUESTS, tmp_path, "pseudo")
    assert first == second


def test_trace_file_holds_every_scenario_run(tmp_path: Path) -> None:
    _run(FIXTURE_GUESTS, tmp_path)
    names = sorted(p.name for p in FIXTURE_GUESTS.iterdir() if (p / MANIFEST).is_file())
    assert sorted(TraceSet.read(trace_path(tmp_path, "real")).traces) == names


def test_exit_0_when_every_expectation_holds(tmp_path: Path) -> None:
    assert _run(FIXTURE_GUESTS, tmp_path)[0] == EXIT_OK


@pytest.fixture
def wrong_expectation(tmp_path: Path) -> Path:
    """A guests folder whose only scenario expects 4 bytes where the guest reads 3."""
    guests = tmp_path / "guests"
    manifest = copy_scenario(BASELINE, guests) / MANIFEST
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("expect.all = { value = 3,", "expect.all = { value = 4,", 1), encoding="utf-8")
    return guests


def test_exit_1_when_a_behaviour_differs_from_its_expectation(wrong_expectation: Path, tmp_path: Path) -> None:
    assert _run(wrong_expectation, tmp_path / "reports")[0] == EXIT_DIFFERS


def test_differing_scenario_is_reported_with_expected_and_observed(wrong_expectation: Path, tmp_path: Path) -> None:
    stdout = _run(wrong_expectation, tmp_path / "reports")[1]
    assert re.search(r"^FAIL\s+baseline-roundtrip\b", stdout, re.MULTILINE)
    assert "expected value 4; observed value 3" in stdout


def test_k_runs_only_matching_scenarios(tmp_path: Path) -> None:
    _run(FIXTURE_GUESTS, tmp_path, "-k", "own")
    assert sorted(TraceSet.read(trace_path(tmp_path, "real")).traces) == ["give-own", "lent-and-owned"]


def test_list_names_each_scenario_with_its_declared_divergences(tmp_path: Path) -> None:
    completed = run_cli("list", "--guests", str(FIXTURE_GUESTS), cache=tmp_path)
    rows = {line.split()[0]: line.split()[1] for line in completed.stdout.splitlines()}
    assert (rows["borrow-kept"], rows["unreachable"]) == ("borrow-rules", "same")


def test_list_into_a_closed_pipe_stops_quietly() -> None:
    """``handle-compat list | head -1``: no traceback when the reader has gone away."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "harness", "list"], stdout=write_end, stderr=subprocess.PIPE, cwd=PROJECT_ROOT
        )
    finally:
        os.close(write_end)
    assert (completed.returncode, completed.stderr.decode()) == (EXIT_PIPE_CLOSED, "")


def test_backends_lists_the_shipped_backends(tmp_path: Path) -> None:
    completed = run_cli("backends", cache=tmp_path)
    assert {"pseudo", "pseudo-reuse", "real"} <= {line.split()[0] for line in completed.stdout.splitlines()}


def test_help_shows_no_markup() -> None:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    texts = [parser.format_help(), *(sub.format_help() for sub in action.choices.values())]
    assert [text for text in texts if "``" in text] == []


def test_every_subcommand_has_a_one_line_help_and_a_description() -> None:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: str(choice.help or "") for choice in action._choices_actions}
    lacking = [
        name
        for name, sub in action.choices.items()
        if not helps.get(name) or "\n" in helps[name] or not sub.description
    ]
    assert lacking == []


@pytest.fixture(scope="module")
def diffed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``diff`` of a scenario that behaves the same and one that diverges, after running both backends."""
    root = tmp_path_factory.mktemp("diff")
    guests, reports = root / "guests", root / "reports"
    for name in ("baseline-roundtrip", "own-transfer"):
        copy_scenario(BUILTIN_GUESTS / name, guests)
    for backend in ("pseudo", "real"):
        assert _run(guests, reports, backend=backend, cache=root / "cache")[0] == EXIT_OK
    completed = run_cli("diff", "--guests", str(guests), "--reports", str(reports), cache=root / "cache")
    assert completed.returncode == EXIT_OK, completed.stderr
    return completed.stdout


def test_diff_ends_with_totals_per_category(diffed: str) -> None:
    assert diffed.splitlines()[-2:] == [
        "2 scenarios compared (pseudo vs real): 1 the same, 1 differ",
        "by category: ownership-transfer 1",
    ]


def test_diff_says_what_to_do_instead_for_each_category(diffed: str) -> None:
    assert f"do instead: {EXPLANATIONS[Category.OWNERSHIP_TRANSFER].do_instead}" in diffed


def test_list_starts_with_a_header_naming_its_columns(tmp_path: Path) -> None:
    completed = run_cli("list", "--guests", str(FIXTURE_GUESTS), cache=tmp_path)
    assert completed.stdout.splitlines()[0].split() == ["scenario", "diverges", "title"]


# --- lists of backends ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """use-after-drop run on three backends by one ``run --backends``, then ``diff`` with no option."""
    root = tmp_path_factory.mktemp("three")
    guests, reports = root / "guests", root / "reports"
    copy_scenario(BUILTIN_GUESTS / "use-after-drop", guests)
    completed = run_cli(
        "run",
        "--backends",
        "pseudo,pseudo-reuse,real",
        "--guests",
        str(guests),
        "--reports",
        str(reports),
        cache=root / "cache",
    )
    assert completed.returncode == EXIT_OK, completed.stdout + completed.stderr
    diffed = run_cli("diff", "--guests", str(guests), "--reports", str(reports), cache=root / "cache")
    assert diffed.returncode == EXIT_OK, diffed.stderr
    return guests, reports, diffed.stdout


def test_run_with_a_list_writes_a_trace_file_per_backend(three_runs: tuple[Path, Path, str]) -> None:
    _, reports, _ = three_runs
    assert sorted(p.name for p in (reports / "traces").iterdir()) == ["pseudo-reuse.json", "pseudo.json", "real.json"]


def test_diff_with_no_option_compares_every_traced_backend_with_real(three_runs: tuple[Path, Path, str]) -> None:
    _, _, diffed = three_runs
    pairs = [line for line in diffed.splitlines() if line.startswith(("==", "diverges", "same"))]
    assert pairs == [
        "== pseudo vs real",
        "diverges  use-after-drop: use-after-free",
        "== pseudo-reuse vs real",
        "same      use-after-drop",
    ]


def test_an_unknown_backend_in_a_list_is_one_line_with_the_closest_name(tmp_path: Path) -> None:
    completed = run_cli("gate", "--backends", "pseudo,pseudo-reuze", "--reports", str(tmp_path), cache=tmp_path)
    assert (completed.returncode, completed.stderr.count("\n")) == (EXIT_INPUT, 1)
    assert "unknown backend 'pseudo-reuze'" in completed.stderr and "did you mean 'pseudo-reuse'?" in completed.stderr


def test_left_right_and_backends_together_are_refused(tmp_path: Path) -> None:
    completed = run_cli("gate", "--left", "pseudo", "--backends", "real", "--reports", str(tmp_path), cache=tmp_path)
    assert (completed.returncode, "either --left/--right or --backends/--reference" in completed.stderr) == (
        EXIT_INPUT,
        True,
    )
