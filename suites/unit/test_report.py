"""The compatibility report's model, JSON and HTML, built from real runs of built-in scenarios."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.compare.gate import evaluate, evaluate_all
from harness.execute.backends import get_backend
from harness.execute.run import RunContext, run_scenario
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.scenario import Scenario, load_all, load_scenario
from harness.model.trace import Event, Outcome, Status, Trace, merge
from harness.model.vocabulary import TrapKind
from harness.present import report
from suites.unit.support import copy_scenario, run_cli

WHEN = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
#: The backends the report commands below run and compare.
THREE = ("--backends", "pseudo,pseudo-reuse,real")
PROBES = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    '</td></tr></table><b id="injected">injected</b>',
    "&lt;already-escaped&gt;",
)


def _report(names: Sequence[str], edit: dict[str, Trace] | None = None) -> report.Report:
    """Runs the named built-in scenarios on pseudo and real; ``edit`` replaces real's traces by name."""
    return _build([load_scenario(BUILTIN_GUESTS / name) for name in names], edit)


def _build(scenarios: Sequence[Scenario], edit: dict[str, Trace] | None = None) -> report.Report:
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    left, right = get_backend("pseudo"), get_backend("real")
    traces = {b.name: {s.name: run_scenario(ctx, b, s) for s in scenarios} for b in (left, right)}
    traces["real"].update(edit or {})
    sets = [merge(b.name, "50.0.1", traces[b.name].values()) for b in (left, right)]
    result = evaluate(scenarios, left, right, sets[0], sets[1], (Path("pseudo.json"), Path("real.json")))
    return report.build(scenarios, result, sets[0], sets[1], (left.expectations_from, right.expectations_from))


def _real_trace(name: str) -> tuple[Scenario, Trace]:
    scenario = load_scenario(BUILTIN_GUESTS / name)
    return scenario, run_scenario(RunContext(BUILTIN_GUESTS / "wit"), get_backend("real"), scenario)


@pytest.fixture(scope="module")
def pair() -> report.Report:
    return _report(["baseline-roundtrip", "own-transfer", "report-escaping"])


@pytest.fixture(scope="module")
def page(pair: report.Report) -> str:
    return report.render_html(pair, WHEN, Path("reports/traces"))


def test_guest_markup_appears_only_escaped(page: str) -> None:
    for probe in PROBES:
        assert probe not in page
        assert probe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in page


def test_page_has_exactly_one_script_element(page: str) -> None:
    assert len(re.findall(r"<script\b", page)) == 1


def test_trap_message_is_escaped() -> None:
    _, trace = _real_trace("own-transfer")
    step = trace.steps[1]
    markup = '<script>alert("trap")</script>'
    hostile = dataclasses.replace(step, outcome=Outcome(Status.TRAP, trap=TrapKind.UNKNOWN_HANDLE, message=markup))
    edited = dataclasses.replace(trace, steps=(trace.steps[0], hostile, *trace.steps[2:]))
    page = report.render_html(_report(["own-transfer"], {"own-transfer": edited}), WHEN, Path("reports/traces"))
    assert markup not in page
    assert "&lt;script&gt;alert(&#34;trap&#34;)&lt;/script&gt;" in page


def test_content_security_policy_allows_exactly_the_inline_style_and_script(page: str) -> None:
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = csp.group(1).replace("&#39;", "'")
    for tag in ("style", "script"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy


def test_page_loads_nothing_from_elsewhere(page: str) -> None:
    assert not re.search(r"\s(src|href)=\"(?!#)", page)
    assert "@import" not in page
    assert "url(" not in page


def test_json_has_no_date_and_is_byte_identical_across_builds(pair: report.Report) -> None:
    again = _report(["baseline-roundtrip", "own-transfer", "report-escaping"])
    assert report.to_json(pair) == report.to_json(again)
    assert str(WHEN.year) not in report.to_json(pair)


def test_html_is_byte_identical_for_the_same_date(pair: report.Report, page: str) -> None:
    assert report.render_html(pair, WHEN, Path("reports/traces")) == page


def test_source_date_epoch_sets_the_date() -> None:
    assert report.generated_at({"SOURCE_DATE_EPOCH": "1704164640"}) == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)


def test_counts_and_categories_follow_the_diff(pair: report.Report) -> None:
    assert dict(pair.counts) == {"scenarios": 3, "passed": 3, "failed": 0, "same": 2, "diverging": 1}
    assert dict(pair.categories) == {"ownership-transfer": 1}


def test_checklist_names_the_scenarios_showing_each_category(pair: report.Report) -> None:
    assert [(c.advice.category, c.scenarios) for c in pair.checklist] == [("ownership-transfer", ("own-transfer",))]


def test_first_divergent_step_is_marked(pair: report.Report) -> None:
    entry = next(e for e in pair.scenarios if e.name == "own-transfer")
    assert [row.number for row in entry.steps if row.first] == [2]
    assert (entry.left.outcome, entry.right.outcome, entry.right.trap_step) == ("ok", "trap unknown-handle", 2)


def test_migration_advice_joins_the_category_and_the_manifest(pair: report.Report) -> None:
    entry = next(e for e in pair.scenarios if e.name == "own-transfer")
    assert [a.category for a in entry.explanations] == ["ownership-transfer"]
    assert "hand-back" in entry.advice


def test_undeclared_divergence_fails_the_scenario_in_the_report() -> None:
    undeclared = dataclasses.replace(load_scenario(BUILTIN_GUESTS / "own-transfer"), diverges=())
    model = _build([undeclared])
    assert (model.passed, model.scenarios[0].verdict) == (False, "fail")
    assert 'class="declared-off">declared: same<' in report.render_html(model, WHEN, Path("reports/traces"))


def test_long_event_logs_are_cut_and_tallied() -> None:
    _, trace = _real_trace("baseline-roundtrip")
    many = tuple(Event("create", "input-stream", rep) for rep in range(report.LOG_LIMIT + 25))
    edited = dataclasses.replace(trace, steps=(dataclasses.replace(trace.steps[0], events=many), *trace.steps[1:]))
    cell = _report(["baseline-roundtrip"], {"baseline-roundtrip": edited}).scenarios[0].steps[0].right
    assert (len(cell.events), cell.events_total, cell.events_omitted) == (
        report.LOG_LIMIT,
        report.LOG_LIMIT + 25,
        ("create input-stream x25",),
    )


def _with_real_step(name: str, index: int, outcome: Outcome) -> report.Report:
    """The report of built-in scenario ``name`` where real's step ``index`` ended with ``outcome``."""
    _, trace = _real_trace(name)
    steps = list(trace.steps)
    steps[index] = dataclasses.replace(steps[index], outcome=outcome)
    return _report([name], {name: dataclasses.replace(trace, steps=tuple(steps))})


def test_a_run_that_completes_with_a_wrong_value_says_so() -> None:
    run = _with_real_step("baseline-roundtrip", 0, Outcome(Status.VALUE, value=99)).scenarios[0].right
    assert (run.outcome, run.summary, run.summary_step) == ("ok", "wrong value", 1)


def test_a_run_without_the_expected_trap_says_so() -> None:
    run = _with_real_step("own-transfer", 1, Outcome(Status.VALUE, value=1)).scenarios[0].right
    assert (run.summary, run.summary_step) == ("no trap", 2)


def test_a_run_that_met_its_manifest_shows_how_it_ended(pair: report.Report) -> None:
    runs = {e.name: e.right for e in pair.scenarios}
    assert [(r.summary, r.summary_step) for r in runs.values()] == [(r.outcome, r.trap_step) for r in runs.values()]


def test_no_failing_matrix_cell_shows_ok() -> None:
    model = _with_real_step("baseline-roundtrip", 0, Outcome(Status.VALUE, value=99))
    page = report.render_html(model, WHEN, Path("reports/traces"))
    assert re.findall(r'<td class="run mismatch"><span class="pill">([^<]*)</span>', page) == ["wrong value"]


def test_footer_names_the_traces_folder_the_report_was_made_from(pair: report.Report) -> None:
    page = report.render_html(pair, WHEN, Path("/tmp/elsewhere/traces"))
    assert re.findall(r"<footer>.*</footer>", page)[0].count("<code>/tmp/elsewhere/traces/</code>") == 1


@pytest.fixture(scope="module")
def every_builtin() -> report.Report:
    """The report over every built-in scenario but the two that spend their deadlines on purpose."""
    scenarios, errors = load_all(BUILTIN_GUESTS)
    assert errors == []
    return _build([s for s in scenarios if not s.name.startswith("runaway-")])


def test_category_advice_names_every_trap_its_scenarios_show(every_builtin: report.Report) -> None:
    """Advice that names trap kinds names each one a divergence of its category ends in."""
    kinds = [kind.value for kind in TrapKind]
    unnamed = []
    for entry in every_builtin.scenarios:
        advice = {a.category: a.guest_sees for a in entry.explanations}
        for divergence in entry.divergences:
            text = advice.get(divergence.category, "")
            traps = [side.split()[1] for side in (divergence.left, divergence.right) if side.startswith("trap ")]
            if any(kind in text for kind in kinds):
                unnamed += [(entry.name, divergence.category, t) for t in traps if t not in text]
    assert unnamed == []


# The command line: real runs in fresh processes.


@pytest.fixture
def guests(tmp_path: Path) -> Path:
    folder = tmp_path / "guests"
    for name in ("baseline-roundtrip", "own-transfer", "report-escaping"):
        copy_scenario(BUILTIN_GUESTS / name, folder)
    return folder


def test_report_command_writes_html_and_json(guests: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    data = json.loads((reports / "compat.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in data["scenarios"]] == ["baseline-roundtrip", "own-transfer", "report-escaping"]
    assert "Gate passed" in (reports / "compat.html").read_text(encoding="utf-8")


def test_report_command_footer_names_its_reports_folder(guests: Path, tmp_path: Path) -> None:
    reports = tmp_path / "elsewhere"
    done = run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    footer = re.findall(r"<footer>.*</footer>", (reports / "compat.html").read_text(encoding="utf-8"))
    assert f"<code>{(reports / 'traces').as_posix()}/</code>" in footer[0]


def test_report_command_reuses_up_to_date_traces(guests: Path, tmp_path: Path) -> None:
    reports, cache = tmp_path / "reports", tmp_path / "cache"
    assert run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=cache).returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in (reports / "traces").iterdir()}
    again = run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=cache)
    assert again.returncode == 0
    assert again.stdout.count("is up to date") == 3
    assert {p.name: p.stat().st_mtime_ns for p in (reports / "traces").iterdir()} == before


def test_report_command_reruns_stale_traces(guests: Path, tmp_path: Path) -> None:
    reports, cache = tmp_path / "reports", tmp_path / "cache"
    assert run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=cache).returncode == 0
    manifest = guests / "own-transfer" / "scenario.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("Use of a handle", "Reuse of a handle"))
    wat = guests / "own-transfer" / "b.wat"
    wat.write_text(wat.read_text(encoding="utf-8") + ";; edited after the traces were made\n", encoding="utf-8")
    again = run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=cache)
    assert "is up to date" not in again.stdout
    assert "Reuse of a handle" in (reports / "compat.html").read_text(encoding="utf-8")


def test_failed_report_leaves_the_previous_one_whole(guests: Path, tmp_path: Path) -> None:
    reports, cache = tmp_path / "reports", tmp_path / "cache"
    assert run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=cache).returncode == 0
    before = {p.name: p.read_bytes() for p in reports.iterdir() if p.is_file()}
    (guests / "own-transfer" / "scenario.toml").write_text("title = [", encoding="utf-8")
    done = run_cli("report", *THREE, "--guests", str(guests), "--reports", str(reports), cache=cache)
    assert done.returncode == 2
    assert {p.name: p.read_bytes() for p in reports.iterdir() if p.is_file()} == before


def test_report_includes_every_scenario_traced_by_xdist_workers(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HANDLE_COMPAT_"))}
    env["HANDLE_COMPAT_CACHE_DIR"] = str(tmp_path / "cache")
    pytest_args = ["suites/conformance", "-n", "2", "-v", "-p", "no:cacheprovider", "--reports", str(reports)]
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    # Every built-in scenario meets its manifest on both backends, so the suite passes: exit 1 would
    # mean a scenario failed, and a report built from a failing run proves nothing about the merge.
    assert suite.returncode == pytest.ExitCode.OK, suite.stdout[-2000:] + suite.stderr[-2000:]
    workers = set(re.findall(r"^\[(gw\d+)\] .*suites/conformance", suite.stdout, re.M))
    assert workers == {"gw0", "gw1"}
    done = run_cli("report", "--backends", "pseudo,real", "--reports", str(reports), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("is up to date") == 2
    names = {s.name for s in load_all(BUILTIN_GUESTS)[0]}
    data = json.loads((reports / "compat.json").read_text(encoding="utf-8"))
    assert {s["name"] for s in data["scenarios"]} == names


# --- one column per backend, and what each model protects ------------------------------------


@pytest.fixture(scope="module")
def matrix() -> report.Report:
    """Built-in scenarios run on pseudo, pseudo-reuse and real; each judged against real."""
    names = ("baseline-roundtrip", "use-after-drop", "double-drop", "handle-as-u32")
    scenarios = [load_scenario(BUILTIN_GUESTS / name) for name in names]
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    backends = [get_backend(name) for name in ("pseudo", "pseudo-reuse", "real")]
    sets = {b.name: merge(b.name, "50.0.1", [run_scenario(ctx, b, s) for s in scenarios]) for b in backends}
    paths = {name: Path(f"{name}.json") for name in sets}
    result = evaluate_all(scenarios, backends[:2], backends[2], sets, paths)
    return report.build_matrix(scenarios, result, sets, {b.name: b.expectations_from for b in backends})


def test_every_scenario_has_a_run_per_backend(matrix: report.Report) -> None:
    assert {tuple(entry.runs) for entry in matrix.scenarios} == {("pseudo", "pseudo-reuse", "real")}


def test_every_step_has_a_cell_per_backend(matrix: report.Report) -> None:
    entry = next(e for e in matrix.scenarios if e.name == "use-after-drop")
    outcomes = [{b: c.outcome for b, c in row.cells.items()} for row in entry.steps][2]
    assert outcomes == {"pseudo": "trap unknown-handle", "pseudo-reuse": "value 2", "real": "value 2"}


def test_the_matrix_page_has_a_sortable_column_per_backend(matrix: report.Report) -> None:
    page = report.render_html(matrix, WHEN, Path("reports/traces"))
    assert re.findall(r'<th data-sort="run-([a-z-]+)"', page) == ["pseudo", "pseudo-reuse", "real"]


def test_protects_counts_each_backend_like_real_on_the_categories_pseudo_shows(matrix: report.Report) -> None:
    # Scenarios are of a category by pseudo vs real: use-after-drop and double-drop use-after-free
    # (pseudo keys never reused), handle-as-u32 isolation (one table for every component).
    rows = {row.category: {c.backend: c.text for c in row.cells} for row in matrix.protects}
    assert rows["use-after-free"] == {"pseudo": "0/2", "pseudo-reuse": "2/2", "real": "2/2"}
    assert rows["isolation"] == {"pseudo": "0/1", "pseudo-reuse": "0/1", "real": "1/1"}
    assert rows["leak"] == {"pseudo": "—", "pseudo-reuse": "—", "real": "—"}


def test_protects_rows_are_every_migration_category(matrix: report.Report) -> None:
    assert [row.category for row in matrix.protects] == [
        "isolation",
        "forgery",
        "use-after-free",
        "ownership-transfer",
        "borrow-rules",
        "numbering",
        "destructor-timing",
        "leak",
        "trap-kind",
    ]


def test_compat_json_has_the_backends_and_the_protects_table(matrix: report.Report) -> None:
    data = json.loads(report.to_json(matrix))
    cell = data["protects"][2]["cells"][1]
    assert (data["backends"], data["reference"], data["protects"][2]["category"]) == (
        ["pseudo", "pseudo-reuse", "real"],
        "real",
        "use-after-free",
    )
    assert (cell["backend"], cell["like"], cell["total"], cell["differ"]) == ("pseudo-reuse", 2, 2, [])


def test_protects_counts_a_hazard_stopped_by_another_trap_apart_from_behaving_like_real() -> None:
    # forge-guess-foreign is forgery (pseudo lets b read a's stream); pseudo-tagged's tag check
    # stops the guess with bad-tag where real says unknown-handle: not like real, but it traps too.
    scenarios = [load_scenario(BUILTIN_GUESTS / "forge-guess-foreign")]
    ctx = RunContext(BUILTIN_GUESTS / "wit")
    backends = [get_backend(name) for name in ("pseudo", "pseudo-tagged", "real")]
    sets = {b.name: merge(b.name, "50.0.1", [run_scenario(ctx, b, s) for s in scenarios]) for b in backends}
    result = evaluate_all(scenarios, backends[:2], backends[2], sets, {n: Path(f"{n}.json") for n in sets})
    built = report.build_matrix(scenarios, result, sets, {b.name: b.expectations_from for b in backends})
    forgery = next(row for row in built.protects if row.category == "forgery")
    cells = {c.backend: (c.text, c.note) for c in forgery.cells}
    assert (cells["pseudo"], cells["pseudo-tagged"]) == (("0/1", ""), ("0/1", "+1 trap too"))
