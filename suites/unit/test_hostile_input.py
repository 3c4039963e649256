"""Hostile or careless input, through the CLI: a manifest that names files outside its scenario
folder, or anything but regular files, and fields of the wrong type or out of the WIT's range;
trace files of the wrong shape; a ``--reports`` that cannot be written.

Each is refused with one line on stderr naming the file (and line), exit 2; the good scenario
beside a broken one still runs; nothing outside ``--reports`` and the cache is written, and a
file outside the scenario folder that a manifest points at is never read (its access time,
set back two days, stays as it was). ``test_bad_input.py`` holds the plainer mistakes (syntax,
unknown keys, missing files, non-UTF-8, oversized manifests); they are not repeated here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.model.paths import trace_path
from harness.model.scenario import MANIFEST
from harness.model.trace import Status, TraceSet
from harness.present.cli import EXIT_INPUT
from suites.unit.support import BASELINE, copy_scenario, edit_file, error_lines, line_of, run_cli, run_pytest

#: Where the error must point: a file and its line, or a file with no line to name.
Blame = tuple[Path, int | None]
TWO_DAYS = 2 * 86_400


def _manifest_edit(old: str, new: str, marker: str | None) -> Callable[[Path, Path], Blame]:
    """``old`` replaced by ``new`` in the broken scenario's manifest; the error is on the line holding ``marker``."""

    def make(folder: Path, _outside: Path) -> Blame:
        manifest = folder / MANIFEST
        edit_file(manifest, old, new)
        return manifest, line_of(manifest, marker) if marker else None

    return make


def _wat_named(name: Callable[[Path, Path], str]) -> Callable[[Path, Path], Blame]:
    """``wat = NAME``, where NAME may depend on the scenario folder and the folder of bait files outside it."""

    def make(folder: Path, outside: Path) -> Blame:
        manifest = folder / MANIFEST
        edit_file(manifest, 'wat = "a.wat"', f"wat = {json.dumps(name(folder, outside))}")
        return manifest, line_of(manifest, "wat = ")

    return make


def _wat_symlink(target: Callable[[Path], Path]) -> Callable[[Path, Path], Blame]:
    """``a.wat`` replaced by a symlink to a file outside the folder."""

    def make(folder: Path, outside: Path) -> Blame:
        (folder / "a.wat").unlink()
        (folder / "a.wat").symlink_to(target(outside))
        return folder / MANIFEST, line_of(folder / MANIFEST, "wat = ")

    return make


def _wat_through_symlinked_folder(folder: Path, outside: Path) -> Blame:
    (folder / "sub").symlink_to(outside, target_is_directory=True)
    return _wat_named(lambda _f, _o: "sub/bait.wat")(folder, outside)


def _wat_replaced(by: Callable[[Path], None]) -> Callable[[Path, Path], Blame]:
    """``a.wat`` replaced by something that is not a regular file, made by ``by``."""

    def make(folder: Path, _outside: Path) -> Blame:
        (folder / "a.wat").unlink()
        by(folder / "a.wat")
        return folder / MANIFEST, line_of(folder / MANIFEST, "wat = ")

    return make


def _manifest_replaced(by: Callable[[Path, Path], None]) -> Callable[[Path, Path], Blame]:
    """``scenario.toml`` replaced by something else (a pipe, a folder, a symlink leaving the folder)."""

    def make(folder: Path, outside: Path) -> Blame:
        (folder / MANIFEST).unlink()
        by(folder / MANIFEST, outside)
        return folder / MANIFEST, None

    return make


def _folder_symlinked_outside(folder: Path, outside: Path) -> Blame:
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    return folder / MANIFEST, None


def _steps_replaced(by: str, marker: str) -> Callable[[Path, Path], Blame]:
    def make(folder: Path, _outside: Path) -> Blame:
        manifest = folder / MANIFEST
        text = manifest.read_text(encoding="utf-8")
        steps = text[text.index("[[steps]]") : text.index("[teardown]")]
        manifest.write_text(text.replace(steps, "").replace("diverges = []", f"diverges = []\n{by}"), "utf-8")
        return manifest, line_of(manifest, marker)

    return make


@dataclass(frozen=True)
class Case:
    id: str
    #: Breaks the scenario copied into the folder; says which file and line the error must name.
    make: Callable[[Path, Path], Blame]
    #: What the one error line must say about the problem.
    says: str


FIRST_EXPECT = 'expect.all = { value = 3, rule = "read returns up to len bytes: 3 of 5" }'
TEARDOWN_EXPECT = 'expect.all = { live = 0, rule = "every handle was dropped, so every destructor ran" }'

PATH_CASES = [
    Case("wat-absolute-path", _wat_named(lambda _f, outside: str(outside / "bait.wat")), "absolute path"),
    Case("wat-dot-dot", _wat_named(lambda _f, _o: "../../outside/bait.wat"), "'..'"),
    Case("wat-dot-dot-after-a-folder", _wat_named(lambda _f, _o: "a/../../../outside/bait.wat"), "'..'"),
    Case("wat-dot-dot-staying-inside", _wat_named(lambda f, _o: f"../{f.name}/a.wat"), "'..'"),
    Case("wat-with-nul", _wat_named(lambda _f, _o: "a.wat\0.txt"), "not a usable file name"),
    Case("wat-empty-name", _wat_named(lambda _f, _o: ""), "not a usable file name"),
    Case("wat-names-the-folder", _wat_named(lambda _f, _o: "."), "not a folder"),
    Case("wat-symlink-to-file-outside", _wat_symlink(lambda outside: outside / "bait.wat"), "leading outside"),
    Case("wat-symlink-to-dev-zero", _wat_symlink(lambda _o: Path("/dev/zero")), "leading outside"),
    Case("wat-in-symlinked-folder", _wat_through_symlinked_folder, "leading outside"),
    Case("wat-is-a-named-pipe", _wat_replaced(os.mkfifo), "not a named pipe"),
    Case("wat-is-a-folder", _wat_replaced(lambda path: path.mkdir()), "not a folder"),
    Case("manifest-is-a-named-pipe", _manifest_replaced(lambda path, _o: os.mkfifo(path)), "not a named pipe"),
    Case("manifest-is-a-folder", _manifest_replaced(lambda path, _o: path.mkdir()), "not a folder"),
    Case(
        "manifest-symlink-outside",
        _manifest_replaced(lambda path, outside: path.symlink_to(outside / MANIFEST)),
        "leading outside",
    ),
    Case("scenario-folder-symlink-outside", _folder_symlinked_outside, "leading outside"),
]

SCHEMA_CASES = [
    Case(
        "imports-a-table",
        _manifest_edit('wat = "a.wat"', 'wat = "a.wat"\nimports = { peer = {} }', "imports"),
        "must name a component",
    ),
    Case(
        "component-not-a-table",
        _manifest_edit('[components.a]\nwat = "a.wat"', "[components]\na = 5", "a = 5"),
        "must be a table",
    ),
    Case("expect-all-an-integer", _manifest_edit(FIRST_EXPECT, "expect.all = 5", "expect.all = 5"), "must be a table"),
    Case("steps-an-integer", _steps_replaced("steps = 3", "steps = 3"), "'steps' must be list, not int"),
    Case("step-not-a-table", _steps_replaced("steps = [1, 2]", "steps = [1, 2]"), "must be a [[steps]] table"),
    Case("op-a-boolean", _manifest_edit("op = 1", "op = true", "op = true"), "'op' must be int, not bool"),
    Case("op-minus-one", _manifest_edit("op = 1", "op = -1", "op = -1"), "(a u32), not -1"),
    Case("op-two-to-the-32", _manifest_edit("op = 1", f"op = {1 << 32}", "op = 4294967296"), "(a u32)"),
    Case("arg-two-to-the-63", _manifest_edit("arg = 3", f"arg = {1 << 63}", "arg = 9223372036854775808"), "(a s64)"),
    Case(
        "arg-below-s64", _manifest_edit("arg = 3", f"arg = {-(1 << 63) - 1}", "arg = -9223372036854775809"), "(a s64)"
    ),
    Case("expected-value-beyond-s64", _manifest_edit("value = 3,", f"value = {1 << 64},", "value = 1844"), "(a s64)"),
    Case("arg-a-float", _manifest_edit("arg = 3", "arg = 3.0", "arg = 3.0"), "'arg' must be int, not float"),
    Case(
        "timeout-a-boolean",
        _manifest_edit("diverges = []", "diverges = []\nstep-timeout-ms = true", "step-timeout-ms"),
        "must be int, not bool",
    ),
    Case(
        "diverges-a-string",
        _manifest_edit("diverges = []", 'diverges = "isolation"', "diverges ="),
        "'diverges' must be list",
    ),
    Case(
        "teardown-unknown-key",
        _manifest_edit("[teardown]", "[teardown]\ncolour = 1", "colour"),
        "'colour' in [teardown]",
    ),
    Case(
        "teardown-expect-an-integer",
        _manifest_edit(TEARDOWN_EXPECT, "expect.all = 5", "expect.all = 5"),
        "must be a table",
    ),
    Case("teardown-live-negative", _manifest_edit("live = 0", "live = -1", "live = -1"), "cannot be -1"),
    Case(
        "teardown-live-a-string", _manifest_edit("live = 0", 'live = "0"', 'live = "0"'), "'live' must be int, not str"
    ),
    Case("teardown-unknown-nested-key", _manifest_edit("live = 0,", "live = 0, colour = 1,", "colour"), "'colour'"),
    Case("expect-unknown-nested-key", _manifest_edit("value = 3,", "value = 3, colour = 1,", "colour"), "'colour'"),
    Case("duplicate-key", _manifest_edit("op = 1", "op = 1\nop = 2", "op = 2"), "TOML syntax"),
    Case("duplicate-table", _manifest_edit("[teardown]", "[teardown]\n[teardown]  # again", "# again"), "TOML syntax"),
]

CASES = PATH_CASES + SCHEMA_CASES


def _snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple[int, int, int]]:
    """(mode, size, mtime) of every entry under ``root`` outside ``skip``, symlinks not followed."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) not in skip]
        for name in dirs + files:
            info = Path(folder, name).lstat()
            found[str(Path(folder, name).relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def _bait(outside: Path) -> None:
    """A complete copy of the good scenario outside the guests folder, plus ``bait.wat``.

    Run, it would pass as the broken scenario's own; each file's access time is set
    two days before its modification time, so any read of it moves the access time.
    """
    shutil.copytree(BASELINE, outside)
    shutil.copyfile(BASELINE / "a.wat", outside / "bait.wat")
    for path in outside.iterdir():
        info = path.stat()
        os.utime(path, ns=(info.st_mtime_ns - TWO_DAYS * 10**9, info.st_mtime_ns))


@dataclass(frozen=True)
class Outcome:
    case: Case
    returncode: int
    stdout: str
    errors: list[str]
    blame: Blame
    traces: Path
    #: Files outside the guests folder whose access time moved.
    read_outside: list[str]
    #: Entries outside --reports and the cache that appeared, went or changed.
    written_outside: list[str]


@pytest.fixture(scope="module", params=CASES, ids=[case.id for case in CASES])
def outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One CLI run per case, shared by the tests below."""
    case: Case = request.param
    root = tmp_path_factory.mktemp(case.id)
    guests, outside, reports, cache = root / "guests", root / "outside", root / "reports", root / "cache"
    copy_scenario(BASELINE, guests)
    _bait(outside)
    blame = case.make(copy_scenario(BASELINE, guests, "broken"), outside)
    atimes = {p.name: p.stat().st_atime_ns for p in outside.iterdir()}
    before = _snapshot(root, (reports, cache))
    completed = run_cli("run", "--backend", "real", "--guests", str(guests), "--reports", str(reports), cache=cache)
    read_outside = sorted(name for name, atime in atimes.items() if (outside / name).stat().st_atime_ns != atime)
    after = _snapshot(root, (reports, cache))
    written = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return Outcome(
        case,
        completed.returncode,
        completed.stdout,
        error_lines(completed),
        blame,
        trace_path(reports, "real"),
        read_outside,
        written,
    )


def test_exit_code_says_unusable_input(outcome: Outcome) -> None:
    assert outcome.returncode == EXIT_INPUT


def test_one_error_line_naming_the_file_and_line(outcome: Outcome) -> None:
    path, line = outcome.blame
    where = f"{path}:{line}: " if line else f"{path}: "
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith(f"error: {where}"), outcome.errors


def test_error_line_says_what_is_wrong(outcome: Outcome) -> None:
    assert outcome.case.says in outcome.errors[0]


def test_good_scenario_still_runs_and_the_broken_one_does_not(outcome: Outcome) -> None:
    assert re.search(r"^ok\s+baseline-roundtrip\b", outcome.stdout, re.MULTILINE), outcome.stdout
    assert sorted(TraceSet.read(outcome.traces).traces) == ["baseline-roundtrip"]


def test_good_scenario_trace_is_written(outcome: Outcome) -> None:
    trace = TraceSet.read(outcome.traces).traces["baseline-roundtrip"]
    assert [s.outcome.status for s in trace.steps] == [Status.VALUE, Status.VALUE]


def test_no_file_outside_the_scenario_folder_is_read(outcome: Outcome) -> None:
    assert outcome.read_outside == []


def test_nothing_outside_reports_and_cache_is_written(outcome: Outcome) -> None:
    assert outcome.written_outside == []


def test_reading_moves_the_bait_access_time(tmp_path: Path) -> None:
    """The access-time check above can see a read on this file system (it is not mounted noatime)."""
    _bait(tmp_path / "outside")
    bait = tmp_path / "outside" / "bait.wat"
    before = bait.stat().st_atime_ns
    bait.read_bytes()
    assert bait.stat().st_atime_ns != before


# --- trace files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A guests folder with two scenarios and both backends' traces of it."""
    root = tmp_path_factory.mktemp("traced")
    guests, reports = root / "guests", root / "reports"
    copy_scenario(BASELINE, guests)
    copy_scenario(BASELINE.parent / "own-transfer", guests)
    for backend in ("pseudo", "real"):
        args = ("run", "--backend", backend, "--guests", str(guests), "--reports", str(reports))
        assert run_cli(*args, cache=root / "cache").returncode == 0
    return guests, reports


def _step(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def tamper(trace: dict[str, object]) -> None:
        steps = trace["steps"]
        assert isinstance(steps, list)
        steps[0][key] = value

    return tamper


def _outcome(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def tamper(trace: dict[str, object]) -> None:
        steps = trace["steps"]
        assert isinstance(steps, list)
        steps[0]["outcome"][key] = value

    return tamper


def _without(key: str) -> Callable[[dict[str, object]], None]:
    def tamper(trace: dict[str, object]) -> None:
        steps = trace["steps"]
        assert isinstance(steps, list)
        del steps[0][key]

    return tamper


def _extra_step(trace: dict[str, object]) -> None:
    steps = trace["steps"]
    assert isinstance(steps, list)
    steps.append({**steps[-1], "index": len(steps)})


def _set(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def tamper(trace: dict[str, object]) -> None:
        trace[key] = value

    return tamper


@dataclass(frozen=True)
class TraceCase:
    id: str
    #: Changes baseline-roundtrip's trace (its JSON object) in real.json.
    tamper: Callable[[dict[str, object]], None]
    says: str


TRACE_CASES = [
    TraceCase("value-a-string", _outcome("value", "3"), "'value' must be an integer or null, not a string"),
    TraceCase("value-a-boolean", _outcome("value", True), "'value' must be an integer or null, not true or false"),
    TraceCase("value-beyond-s64", _outcome("value", 1 << 63), "'value' must be from"),
    TraceCase("unknown-status", _outcome("status", "exploded"), "unknown status 'exploded'"),
    TraceCase("status-disagrees-with-value", _outcome("status", "not-run"), "status 'not-run' with value 3"),
    TraceCase("unknown-trap-kind", _outcome("trap", "gremlins"), "unknown trap kind 'gremlins'"),
    TraceCase("ops-complete-a-string", _step("ops_complete", "false"), "'ops_complete' must be true or false"),
    TraceCase("op-beyond-u32", _step("op", 1 << 32), "'op' must be from 0 to 4294967295"),
    TraceCase("op-a-boolean", _step("op", True), "'op' must be an integer, not true or false"),
    TraceCase("emit-not-a-triple", _step("emits", [["a", "tag"]]), "emit must be [component, tag, value]"),
    TraceCase("index-out-of-order", _step("index", 5), "'index' is 5, not 0"),
    TraceCase("missing-outcome", _without("outcome"), "missing field 'outcome'"),
    TraceCase("steps-an-object", _set("steps", {}), "'steps' must be an array, not an object"),
    TraceCase("live-rep-a-string", _set("live", [{"resource": "r", "rep": "1"}]), "'rep' must be an integer"),
    TraceCase("filed-under-another-name", _set("scenario", "own-transfer"), "filed under 'baseline-roundtrip'"),
]
#: Well-formed, but not what the manifest says: refused wherever traces are judged against manifests.
EXTRA_STEP = TraceCase("extra-step", _extra_step, "scenario baseline-roundtrip: the trace has 3 steps, the manifest 2")


def _tamper(real: Path, case: TraceCase) -> int:
    """Applies ``case`` to baseline-roundtrip's line of ``real``; returns that line's number."""
    lines = real.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines) if line.startswith('"baseline-roundtrip":'))
    body = lines[number].removeprefix('"baseline-roundtrip":')
    comma = "," if body.endswith(",") else ""
    trace = json.loads(body.removesuffix(","))
    case.tamper(trace)
    lines[number] = '"baseline-roundtrip":' + json.dumps(trace, sort_keys=True, separators=(",", ":")) + comma
    real.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number + 1


@pytest.fixture(params=TRACE_CASES, ids=[case.id for case in TRACE_CASES])
def tampered(
    request: pytest.FixtureRequest, traced: tuple[Path, Path], tmp_path: Path
) -> tuple[TraceCase, Path, Path, int]:
    guests, reports = traced
    copy = tmp_path / "reports"
    shutil.copytree(reports, copy)
    line = _tamper(copy / "traces" / "real.json", request.param)
    return request.param, guests, copy, line


@pytest.mark.parametrize("command", ["gate", "diff"])
def test_a_malformed_trace_is_one_line_naming_file_line_and_scenario(
    tampered: tuple[TraceCase, Path, Path, int], command: str, tmp_path: Path
) -> None:
    case, guests, reports, line = tampered
    real = reports / "traces" / "real.json"
    args = ("--guests", str(guests), "--reports", str(reports), "--backends", "pseudo,real")
    completed = run_cli(command, *args, cache=tmp_path / "cache")
    errors = error_lines(completed)
    where = f"{real}:{line}: corrupt trace file: scenario baseline-roundtrip: "
    assert (completed.returncode, len(errors)) == (EXIT_INPUT, 1), completed.stderr
    assert errors[0].startswith(f"error: {where}") and case.says in errors[0], errors[0]
    assert not (reports / "gate.json").exists()


@pytest.mark.parametrize(("command", "output"), [("gate", "gate.json"), ("report", "compat.html")])
def test_traces_whose_steps_are_not_the_manifests_are_refused(
    traced: tuple[Path, Path], tmp_path: Path, command: str, output: str
) -> None:
    guests, reports = traced
    copy = tmp_path / "reports"
    shutil.copytree(reports, copy)
    _tamper(copy / "traces" / "real.json", EXTRA_STEP)
    args = ("--guests", str(guests), "--reports", str(copy), "--backends", "pseudo,real")
    completed = run_cli(command, *args, cache=tmp_path / "cache")
    errors = error_lines(completed)
    assert (completed.returncode, len(errors)) == (EXIT_INPUT, 1), completed.stderr
    assert errors[0].startswith(f"error: {copy / 'traces' / 'real.json'}: {EXTRA_STEP.says}"), errors[0]
    assert not (copy / output).exists()


# --- --reports ---------------------------------------------------------------------------------


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    return tmp_path / "file"


def _under_a_file(tmp_path: Path) -> Path:
    return _a_file(tmp_path) / "reports"


def _read_only(tmp_path: Path) -> Path:
    """A folder no file can be created in: mode 0555, or for root (whom modes do not stop) sysfs."""
    if os.geteuid() == 0:
        return Path("/sys/kernel")
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder


def _cannot_be_created(_tmp_path: Path) -> Path:
    return Path("/proc/handle-compat-reports")


REPORTS_CASES = {
    "a-file": (_a_file, "--reports: not a folder"),
    "under-a-file": (_under_a_file, "--reports: cannot create the folder: Not a directory"),
    "read-only": (_read_only, "--reports: cannot write files in the folder"),
    "cannot-be-created": (_cannot_be_created, "--reports: cannot create the folder"),
}


@pytest.mark.parametrize("command", ["run", "gate", "report"])
@pytest.mark.parametrize("case", REPORTS_CASES, ids=list(REPORTS_CASES))
def test_unusable_reports_is_refused_before_any_work(case: str, command: str, tmp_path: Path) -> None:
    make, says = REPORTS_CASES[case]
    reports = make(tmp_path)
    guests = tmp_path / "guests"
    copy_scenario(BASELINE, guests)
    args = [command, "--guests", str(guests), "--reports", str(reports)]
    args += ["--backend", "real"] if command == "run" else []
    completed = run_cli(*args, cache=tmp_path / "cache")
    errors = error_lines(completed)
    assert (completed.returncode, len(errors)) == (EXIT_INPUT, 1), completed.stderr
    assert errors[0].startswith(f"error: {reports}: {says}"), errors[0]
    assert completed.stdout == "" and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("case", REPORTS_CASES, ids=list(REPORTS_CASES))
def test_pytest_plugin_refuses_unusable_reports_before_any_work(case: str, tmp_path: Path) -> None:
    make, says = REPORTS_CASES[case]
    reports = make(tmp_path)
    guests = tmp_path / "guests"
    copy_scenario(BASELINE, guests)
    (tmp_path / "test_conformance.py").write_text("def test_scenario(scenario_run):\n    pass\n", encoding="utf-8")
    args = ["--guests", str(guests), "--reports", str(reports)]
    completed = run_pytest(tmp_path, str(tmp_path / "test_conformance.py"), *args, cache=tmp_path / "cache")
    errors = error_lines(completed)
    assert (completed.returncode, len(errors)) == (EXIT_INPUT, 1), completed.stderr
    assert errors[0].startswith(f"Exit: {reports}: ") and says in errors[0]
    assert "passed" not in completed.stdout and not (tmp_path / "cache").exists()
