"""The ``handle-compat`` command line.

Exit codes: 0 all good, 1 behaviour differs from what is expected, 2 unusable
input (bad manifest, WAT, trace, option). Errors are one line: ``file:line: what``.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path

from harness.compare.baseline import update_declared
from harness.compare.deviations import check_deviations
from harness.compare.diff import EXPLANATIONS, diff_sets
from harness.compare.expect import check, explain
from harness.compare.gate import (
    GateMatrix,
    check_trace_sets,
    declared_against_real,
    describe_failure,
    evaluate_all,
    junit_xml,
    summary_json,
    unloadable_scenario,
)
from harness.execute.backends import BUILTIN, Backend, available, get_backend
from harness.execute.cache import CACHE_DIR_ENV, cache_dir_option, resolve_cache_dir
from harness.execute.inputs import fingerprint
from harness.execute.limits import DEFAULT_MEMORY_BYTES, DEFAULT_STEP_TIMEOUT_S, Limits
from harness.execute.run import RunContext, run_scenario
from harness.model.catalog import load_rules, render_table, with_table
from harness.model.deviations import DeviationFile, find_deviation_file, load_deviation_file
from harness.model.errors import InputError
from harness.model.files import check_writable_folder, write_atomic
from harness.model.paths import BUILTIN_GUESTS, reports_for, trace_path, wit_dir_for
from harness.model.safe_text import for_terminal
from harness.model.scenario import DECLARED_AGAINST, Scenario, load_all
from harness.model.trace import TraceSet, merge
from harness.model.vocabulary import BackendFacts, Category
from harness.present import fuzz_command, limit_options, report
from harness.present.selection import Selection, parse_names, select

EXIT_OK, EXIT_DIFFERS, EXIT_INPUT = 0, 1, 2
#: What a shell reports for a process ended by SIGPIPE (128 + 13).
EXIT_PIPE_CLOSED = 141

DESCRIPTION = (
    "Runs WebAssembly component guest scenarios against pseudo-handle and real-handle hosts, "
    "shows where their behaviour differs, gates CI on it and writes the compatibility report."
)
EPILOG = "exit codes: 0 all good, 1 behaviour differs from what is expected, 2 unusable input"
#: What each subcommand's ``--help`` says first; REPORTS and GUESTS are the --reports and --guests folders.
DESCRIPTIONS = {
    "run": "Runs every scenario on each backend named (default: every shipped backend), prints one line per "
    "scenario (ok; FAIL with expected and observed; ERROR) and writes the traces to REPORTS/traces/BACKEND.json.",
    "diff": "Lines each backend's traces up with the reference's, step by step (run them first), and prints, per "
    "scenario, where they differ and why, what guest code sees and what to do instead, then the totals per category "
    "(default: every backend whose traces are in REPORTS, against real).",
    "gate": "Checks each backend's traces against the manifests: each step's expect.<backend> and each scenario's "
    "declared divergences from the reference (default: every shipped backend against real); writes "
    "REPORTS/gate.json and REPORTS/gate.xml.",
    "report": "Runs the scenarios on each backend where its traces are missing or stale (default: every shipped "
    "backend and any other whose traces are in REPORTS), then writes REPORTS/compat.html and REPORTS/compat.json; "
    "exits 0 once written, whatever the gate's verdict.",
    "catalog": "Prints the table of Canonical ABI handle rules with the scenarios that exercise each, from "
    "GUESTS/rules.toml; --write puts it into GUESTS/README.md.",
    "list": "Prints each scenario's name, the divergence categories it declares (or same) and its title.",
    "backends": "Prints each registered backend (entry-point group handle_compat.backends): its name, the handle "
    "model its guests are wrapped for, and what it is.",
}


def _say(line: str, *, err: bool = False) -> None:
    """Prints one line whose names, titles, tags and messages come from scenarios, guests or traces.

    Escaped (``harness.model.safe_text.for_terminal``): nothing in it can start another line or
    drive the terminal.
    """
    print(for_terminal(line), file=sys.stderr if err else sys.stdout)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--guests", type=Path, default=BUILTIN_GUESTS, help="folder of scenario folders")
    parser.add_argument(
        "--reports",
        type=Path,
        default=None,
        help="where traces and reports go (default: reports/, or reports/NAME/ for a guests folder NAME of your own)",
    )


def _load_scenarios(guests: Path) -> tuple[list[Scenario], list[InputError]]:
    """Every scenario in ``guests``; an ``expect.<name>`` must name a registered backend (or ``all``)."""
    return load_all(guests, set(available()))


def _cmd_run(args: argparse.Namespace) -> int:
    backends = [get_backend(name) for name in args.selection.backends]
    scenarios, errors = _load_scenarios(args.guests)
    for error in errors:
        _say(f"error: {error}", err=True)
    selected = [s for s in scenarios if not args.k or args.k in s.name]
    files = _deviation_files(args, scenarios, [b.name for b in backends], required=False)
    with _run_context(args) as ctx:
        statuses = [
            _refresh_traces(args, ctx, backend, selected, args.if_stale and not errors, files.get(backend.name))
            for backend in backends
        ]
    if errors:
        _say(f"{len(errors)} scenario(s) could not be loaded")
        return EXIT_INPUT
    return max(statuses)


def _registry() -> dict[str, BackendFacts]:
    """Every registered backend by name, so declaration fallbacks can pass through backends not compared."""
    return {name: backend() for name, backend in available().items()}


def _run_context(args: argparse.Namespace) -> RunContext:
    """One engine, compile cache and set of limits for everything a command runs."""
    limits = Limits.from_options(args.step_timeout, args.memory_limit)
    cache_dir = resolve_cache_dir(args.cache_dir, args.no_cache)
    return RunContext(wit_dir_for(args.guests), cache_dir=cache_dir, limits=limits)


def _refresh_traces(
    args: argparse.Namespace,
    ctx: RunContext,
    backend: Backend,
    scenarios: Sequence[Scenario],
    if_stale: bool,
    listed: DeviationFile | None = None,
) -> int:
    """Runs ``scenarios`` on ``backend`` and writes its trace file.

    ``listed``: the backend's known-deviation file; a scenario that departs from its
    manifest exactly as listed is ``known``, one that departs otherwise ``FAIL``.

    With ``if_stale``, a trace file made from the same inputs (guests, WIT,
    harness, wasmtime: ``harness.inputs.fingerprint``) is kept as it is, whoever
    wrote it: this command, or the pytest plugin merging every xdist worker's traces.
    """
    inputs = fingerprint(scenarios, ctx.wit_dir, ctx.limits, backend.trace_inputs())
    path = trace_path(args.reports, backend.name)
    if if_stale and _up_to_date(path, inputs):
        _say(f"{path} is up to date")
        return EXIT_OK
    traces, failed = [], 0
    for scenario in scenarios:
        trace = run_scenario(ctx, backend, scenario)
        traces.append(trace)
        mismatches = check(scenario, trace, backend.name, backend.expectations_from)
        outcomes = " ".join(s.outcome.short().replace(" ", ":") for s in trace.steps)
        deviations = None if listed is None else check_deviations(scenario.name, trace, mismatches, listed)
        if trace.error:
            _say(f"error: {trace.error}", err=True)
            _say(f"ERROR {scenario.name}")
        elif deviations is not None and deviations.ok and deviations.known:
            findings = ", ".join(dict.fromkeys(k.finding.name for k in deviations.known))
            _say(f"known {scenario.name}: {outcomes} (listed in {listed.shown if listed else ''}: {findings})")
        elif mismatches or (deviations is not None and not deviations.ok):
            _say(f"FAIL  {scenario.name}: {outcomes}")
            print(explain(scenario, trace, backend.name, backend.expectations_from))
            for line in deviations.lines() if deviations is not None else ():
                _say(f"  {line}")
        else:
            _say(f"ok    {scenario.name}: {outcomes}")
        failed += bool(trace.error) or (not deviations.ok if deviations is not None else bool(mismatches))
    write_atomic(path, merge(backend.name, version("wasmtime"), traces, inputs).to_json())
    _say(f"{len(traces) - failed} passed, {failed} failed on {backend.name}; traces in {path}")
    if any(t.error for t in traces):
        return EXIT_INPUT
    return EXIT_DIFFERS if failed else EXIT_OK


def _add_run_limits(parser: argparse.ArgumentParser) -> None:
    """Compile cache and limits of guest calls."""
    parser.add_argument(
        "--cache-dir",
        type=cache_dir_option,
        default=None,
        help=f"compiled-code cache (default: ${CACHE_DIR_ENV} or ~/.cache)",
    )
    parser.add_argument("--no-cache", action="store_true", help="compile everything; read and write no cache")
    _add_limits(
        parser,
        "deadline of a guest call unless the manifest sets step-timeout-ms",
        "largest size of a guest's linear memory",
    )


def _up_to_date(path: Path, inputs: str) -> bool:
    try:
        return TraceSet.read(path).inputs == inputs
    except InputError:
        return False


def _read_sets(args: argparse.Namespace, names: Sequence[str]) -> tuple[dict[str, TraceSet], dict[str, Path]]:
    """Each backend's trace set and its file, by name; a missing file says how to make it."""
    paths = {name: trace_path(args.reports, name) for name in names}
    for path in paths.values():
        if not path.is_file():
            raise InputError(path, f"trace file missing: run `handle-compat run --backend {path.stem}` first")
    return {name: TraceSet.read(path) for name, path in paths.items()}, paths


def _cmd_diff(args: argparse.Namespace) -> int:
    """Each backend against the reference: per scenario, same or each divergence and its advice; then the totals."""
    selection: Selection = args.selection
    sets, _ = _read_sets(args, selection.backends)
    for backend in selection.compared:
        if len(selection.compared) > 1:
            _say(f"== {backend} vs {selection.reference}")
        _diff_pair(sets[backend], sets[selection.reference])
    return EXIT_OK


def _diff_pair(left: TraceSet, right: TraceSet) -> None:
    diffs = diff_sets(left, right)
    for scenario_diff in diffs:
        if scenario_diff.same:
            _say(f"same      {scenario_diff.scenario}")
            continue
        _say(f"diverges  {scenario_diff.scenario}: {', '.join(scenario_diff.categories)}")
        for divergence in scenario_diff.divergences:
            where = "teardown" if divergence.step is None else f"step {divergence.step + 1}"
            tail = " (consequence)" if divergence.consequence else ""
            versus = f"{divergence.left} vs {divergence.right}"
            _say(f"    {where}: {versus} [{divergence.category}] {divergence.detail}{tail}")
        first = scenario_diff.first
        if first is not None:
            for words in (first.left_provenance, first.right_provenance):
                if words:
                    _say(f"    evidence: {words}")
        for category in scenario_diff.categories:
            explanation = EXPLANATIONS[Category(category)]
            print(f"    {category}: {explanation.guest_sees}")
            print(f"        do instead: {explanation.do_instead}")
    differ = sum(not d.same for d in diffs)
    pair = f"{left.backend} vs {right.backend}"
    _say(f"{len(diffs)} scenarios compared ({pair}): {len(diffs) - differ} the same, {differ} differ")
    seen = [c for d in diffs for c in d.categories]
    counts = ", ".join(f"{c.value} {seen.count(c.value)}" for c in Category if c.value in seen)
    _say(f"by category: {counts or 'none'}")


GATE_EXIT_CODES = "\n".join(
    (
        "exit codes:",
        "  0  every scenario met its expectations on every backend and its declared divergences from the reference",
        "  1  some scenario did not; each is listed with expected, observed and the first divergent step;"
        " an implementation backend with a known-deviation file (guests/deviations/NAME-VERSION.toml) fails on a"
        " deviation the file does not list and on a listed one that no longer happens"
        " (with --update-baseline: a scenario still fails its expectations, or a manifest was left unchanged)",
        "  2  unusable input: a manifest that does not load (the other scenarios are still judged and listed),"
        " missing, corrupt or stale trace files, traces of another scenario set, an unknown backend, a missing or"
        " invalid known-deviation file",
    )
)


class _LineKeepingHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of a description or epilog (a list stays a list) and wraps each long line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            margin = len(line) - len(line.lstrip())
            hanging = indent + " " * (margin + 3 if margin else 0)
            lines.append(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=hanging) or indent)
        return "\n".join(lines)


def _add_gate_options(gate: argparse.ArgumentParser) -> None:
    gate.formatter_class = _LineKeepingHelpFormatter
    gate.epilog = GATE_EXIT_CODES
    gate.add_argument(
        "--update-baseline",
        action="store_true",
        help="rewrite manifests' diverges (diverges.<backend> for each backend but pseudo) from what was observed",
    )
    _add_limits(gate, "the --step-timeout the traces were made with", "the --memory-limit the traces were made with")


def _remake_command(args: argparse.Namespace, backend: str) -> str:
    command = f"handle-compat run --backend {backend} --if-stale"
    if args.guests.resolve() != BUILTIN_GUESTS.resolve():
        command += f" --guests {args.guests}"
    if args.reports != reports_for(args.guests):
        command += f" --reports {args.reports}"
    return command


def _trace_inputs(backend: str) -> bytes:
    """A registered backend's ``trace_inputs``; nothing for traces of a backend not registered here."""
    registered = available()
    return registered[backend]().trace_inputs() if backend in registered else b""


def _check_current(args: argparse.Namespace, scenarios: Sequence[Scenario], sets: Mapping[str, TraceSet]) -> None:
    """Refuses trace files made from other inputs than the current ones (``harness.execute.inputs``)."""
    limits = Limits.from_options(args.step_timeout, args.memory_limit)
    wit_dir = wit_dir_for(args.guests)
    for backend, trace_set in sets.items():
        inputs = fingerprint(scenarios, wit_dir, limits, _trace_inputs(backend))
        if trace_set.inputs != inputs:
            made = "made from other guests, WIT files, limits, harness or wasmtime than the current ones"
            path = trace_path(args.reports, backend)
            raise InputError(path, f"stale traces ({made}): remake them with `{_remake_command(args, backend)}`")


def _update_baseline(scenarios: Sequence[Scenario], result: GateMatrix, registry: Mapping[str, BackendFacts]) -> int:
    """Rewrites the declarations against real; exit 1 while anything still fails or a manifest was left unchanged.

    Each backend's declaration is written only where what it is held to (its own or its
    fallback's) differs from what was observed.
    """
    if result.reference != DECLARED_AGAINST:
        raise InputError(
            "--update-baseline",
            f"manifests declare divergences from {DECLARED_AGAINST}: pass --reference {DECLARED_AGAINST}",
        )
    by_name = {s.name: s for s in scenarios}
    unchanged = 0
    for pair in result.pairs:
        listed = next((v.deviations[pair.left].file for v in pair.verdicts if pair.left in v.deviations), None)
        if listed is not None:
            _say(f"{pair.left}: its divergences are declared in {listed}, reviewed by hand; no manifest changed for it")
            continue
        for verdict in pair.verdicts:
            scenario = by_name[verdict.scenario]
            declared = declared_against_real(scenario, pair.left, registry)
            update = update_declared(scenario, verdict.observed, pair.left, declared)
            if update:
                _say(update.message)
                unchanged += not update.written
    several = len(result.pairs) > 1
    failing = [(p, v) for p in result.pairs for v in p.verdicts if not v.backend_ok(p.left)]
    if result.pairs:
        first = result.pairs[0]
        failing += [(first, v) for v in first.verdicts if v.mismatches.get(first.right)]
    for pair, verdict in failing:
        for line in describe_failure(verdict, f"{pair.left} vs {pair.right}" if several else ""):
            if not line.startswith("  divergences"):
                _say(line)
    if failing or unchanged:
        print(f"still failing after the update: {len(failing)} on expectations, {unchanged} manifest(s) left unchanged")
        return EXIT_DIFFERS
    return EXIT_OK


def _deviation_files(
    args: argparse.Namespace, scenarios: Sequence[Scenario], names: Sequence[str], *, required: bool
) -> dict[str, DeviationFile]:
    """The known-deviation file of each implementation backend among ``names``, checked against the scenarios.

    ``required``: a missing file for the version under test is an InputError (the gate);
    otherwise the backend is judged against the manifests alone, with one line saying so.
    """
    files = {}
    for name in names:
        backend = get_backend(name)
        version = backend.implementation_version()
        if version is None:
            continue
        try:
            path = find_deviation_file(args.guests, name, version)
        except InputError as error:
            if required:
                raise
            _say(f"note: {error}; {name} is judged against the manifests alone", err=True)
            continue
        files[name] = load_deviation_file(path, name, version, scenarios, backend.expectations_from)
    return files


def _evaluate(
    args: argparse.Namespace,
    scenarios: Sequence[Scenario],
    errors: Sequence[InputError],
    check_current: bool,
    deviations_required: bool = True,
) -> tuple[GateMatrix, dict[str, TraceSet], dict[str, Path], dict[str, BackendFacts]]:
    """Every selected backend judged against the reference, from the trace files in --reports."""
    selection: Selection = args.selection
    registry = _registry()
    sets, paths = _read_sets(args, selection.backends)
    unloaded = {unloadable_scenario(e).scenario for e in errors}
    reference = selection.reference
    for backend in selection.compared:
        check_trace_sets(scenarios, sets[backend], sets[reference], (paths[backend], paths[reference]), unloaded)
    if check_current:
        _check_current(args, scenarios, sets)
    compared = [registry[name] for name in selection.compared]
    files = _deviation_files(args, scenarios, selection.backends, required=deviations_required)
    result = evaluate_all(scenarios, compared, registry[reference], sets, paths, errors, registry, files)
    return result, sets, paths, registry


def _cmd_gate(args: argparse.Namespace) -> int:
    """Judges every selected backend's traces; a broken manifest is reported and the others still judged."""
    scenarios, errors = _load_scenarios(args.guests)
    for error in errors:
        _say(f"error: {error}", err=True)
    result, _, _, registry = _evaluate(args, scenarios, errors, check_current=True)
    if args.update_baseline:
        status = _update_baseline(scenarios, result, registry)
        return EXIT_INPUT if errors else status
    write_atomic(args.reports / "gate.json", summary_json(result))
    write_atomic(args.reports / "gate.xml", junit_xml(result))
    several = len(result.pairs) > 1
    for pair in result.pairs:
        for verdict in pair.failures:
            for line in describe_failure(verdict, f"{pair.left} vs {pair.right}" if several else ""):
                _say(line)
    unloaded = f", {len(errors)} could not be loaded" if errors else ""
    for pair in result.pairs:
        passed = len(pair.verdicts) - len(pair.failures)
        _say(f"{passed} passed, {len(pair.failures)} failed{unloaded}: gate {pair.left} vs {pair.right}")
    if errors:
        return EXIT_INPUT
    return EXIT_OK if result.passed else EXIT_DIFFERS


def _cmd_report(args: argparse.Namespace) -> int:
    """Traces remade where missing or stale, then the gate's verdicts as compat.html and compat.json.

    Exits 0 once the report is written, whatever the gate's verdict (the page
    shows it; ``gate`` is the command that fails on it). Both files are rendered
    before either is written, and each is written atomically.
    """
    scenarios, errors = _load_scenarios(args.guests)
    if errors:
        for error in errors:
            _say(f"error: {error}", err=True)
        return EXIT_INPUT
    backends = [get_backend(name) for name in args.selection.backends]
    files = _deviation_files(args, scenarios, [b.name for b in backends], required=False)
    with _run_context(args) as ctx:
        statuses = [_refresh_traces(args, ctx, b, scenarios, True, files.get(b.name)) for b in backends]
    result, sets, paths, registry = _evaluate(args, scenarios, (), check_current=False, deviations_required=False)
    fallbacks = {name: registry[name].expectations_from for name in sets}
    model = report.build_matrix(scenarios, result, sets, fallbacks)
    traces = paths[args.selection.reference].parent
    html, data = report.render_html(model, report.generated_at(), traces), report.to_json(model)
    write_atomic(args.reports / "compat.json", data)
    write_atomic(args.reports / "compat.html", html)
    verdict = "passed" if result.passed else "failed"
    _say(f"report: {args.reports / 'compat.html'} (gate {verdict}), data in {args.reports / 'compat.json'}")
    return EXIT_INPUT if EXIT_INPUT in statuses else EXIT_OK


def _cmd_catalog(args: argparse.Namespace) -> int:
    table = render_table(load_rules(args.guests))
    if not args.write:
        print(table)
        return EXIT_OK
    readme = args.guests / "README.md"
    write_atomic(readme, with_table(readme.read_text(encoding="utf-8"), table))
    _say(f"wrote the coverage table to {readme}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    scenarios, errors = _load_scenarios(args.guests)
    print(f"{'scenario':40} {'diverges':30} title")
    for scenario in scenarios:
        declared = ", ".join(scenario.diverges) or "same"
        _say(f"{scenario.name:40} {declared:30} {scenario.title}")
    for error in errors:
        _say(f"error: {error}", err=True)
    return EXIT_INPUT if errors else EXIT_OK


def _cmd_backends(_args: argparse.Namespace) -> int:
    for name, backend in sorted(available().items()):
        _say(f"{name:14} {backend.model.value:7} {backend.summary}")
    return EXIT_OK


def _add_limits(parser: argparse.ArgumentParser, step_timeout: str, memory_limit: str) -> None:
    """``--step-timeout`` and ``--memory-limit``, checked by ``limit_options``; the help says what each means here."""
    parser.add_argument(
        "--step-timeout",
        type=limit_options.step_timeout,
        default=DEFAULT_STEP_TIMEOUT_S,
        metavar="SECONDS",
        help=f"{step_timeout} (default {DEFAULT_STEP_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--memory-limit",
        type=limit_options.memory_limit,
        default=DEFAULT_MEMORY_BYTES >> 20,
        metavar="MIB",
        help=f"{memory_limit} (default {DEFAULT_MEMORY_BYTES >> 20})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handle-compat", description=DESCRIPTION, epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every scenario on some backends (default: every shipped one)")
    run_backends = run.add_mutually_exclusive_group()
    run_backends.add_argument("--backend", help="backend name (see `handle-compat backends`)")
    run_backends.add_argument("--backends", type=parse_names, help="comma-separated backend names")
    run.add_argument("-k", default="", help="only scenarios whose name contains this")
    run.add_argument("--if-stale", action="store_true", help="skip when the trace file matches the current inputs")
    _add_common(run)
    _add_run_limits(run)
    run.set_defaults(func=_cmd_run)
    for name, help_text, func in (
        ("diff", "show where two backends' traces differ, classified", _cmd_diff),
        ("gate", "exit 1 unless every expectation and declared divergence holds", _cmd_gate),
        ("report", "write reports/compat.html and compat.json (traces remade where stale)", _cmd_report),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--backends",
            type=parse_names,
            help="comma-separated backends, each compared with the reference (e.g. pseudo,pseudo-reuse,real)",
        )
        command.add_argument(
            "--reference", default=None, help=f"backend the others are compared with (default: {DECLARED_AGAINST})"
        )
        command.add_argument("--left", default=None, help="one backend to compare (as --backends LEFT)")
        command.add_argument("--right", default=None, help="the backend it is compared with (as --reference RIGHT)")
        _add_common(command)
        command.set_defaults(func=func)
        if name == "report":
            _add_run_limits(command)
        if name == "gate":
            _add_gate_options(command)
    catalog = commands.add_parser("catalog", help="print (or --write) the rule coverage table of guests/README.md")
    catalog.add_argument("--write", action="store_true", help="rewrite the table in guests/README.md")
    _add_common(catalog)
    catalog.set_defaults(func=_cmd_catalog)
    listing = commands.add_parser("list", help="list the scenarios")
    _add_common(listing)
    listing.set_defaults(func=_cmd_list)
    commands.add_parser("backends", help="list the registered backends").set_defaults(func=_cmd_backends)
    fuzz_command.add_parser(commands)
    for name, command in commands.choices.items():
        command.description = command.description or DESCRIPTIONS[name]
    return parser


#: Commands that write into --reports, and whether they write the selected backends' trace files.
_WRITES_REPORTS = {"run": True, "gate": False, "report": True}


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuses an unusable --reports before any scenario runs, rather than losing the run when it ends."""
    if args.command not in _WRITES_REPORTS or getattr(args, "update_baseline", False):
        return
    check_writable_folder(args.reports, "--reports")
    if _WRITES_REPORTS[args.command]:
        for name in args.selection.backends:
            check_writable_folder(trace_path(args.reports, name).parent, "--reports")


def _select(args: argparse.Namespace) -> Selection:
    """The backends a command works on, from its options and what is registered, shipped and traced."""
    registered = list(available())
    traced = [name for name in registered if trace_path(args.reports, name).is_file()]
    reasons = {name: backend().unavailable() for name, backend in BUILTIN.items()}
    unavailable = {name: str(why) for name, why in reasons.items() if why is not None}
    selection = select(
        args.command,
        registered=registered,
        shipped=list(BUILTIN),
        traced=traced,
        unavailable=unavailable,
        backends=getattr(args, "backends", None),
        backend=getattr(args, "backend", None),
        reference=getattr(args, "reference", None),
        left=getattr(args, "left", None),
        right=getattr(args, "right", None),
    )
    for name, why in selection.skipped:
        _say(f"note: {name} left out: it cannot run here ({why})", err=True)
    return selection


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "reports", False) is None:
        args.reports = reports_for(args.guests)
    try:
        if args.command in ("run", "diff", "gate", "report"):
            args.selection = _select(args)
        _check_outputs(args)
        status = int(args.func(args))
        # Output still buffered would otherwise meet a closed pipe at exit, outside this handler.
        sys.stdout.flush()
        return status
    except InputError as error:
        _say(f"error: {error}", err=True)
        return EXIT_INPUT
    except BrokenPipeError:
        # The reader went away (``handle-compat list | head``): stop quietly, as
        # other command-line tools do, instead of printing a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
