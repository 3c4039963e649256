"""The ``handle-compat`` command line.

Exit codes: 0 all good, 1 behaviour differs from what is expected, 2 unusable
input (bad manifest, WAT, trace, option). Errors are one line: ``file:line: what``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from harness.backends import available, get_backend
from harness.errors import InputError
from harness.expect import check, explain
from harness.files import write_atomic
from harness.paths import BUILTIN_GUESTS, DEFAULT_REPORTS, trace_path, wit_dir_for
from harness.run import RunContext, run_scenario
from harness.scenario import load_all
from harness.trace import merge

EXIT_OK, EXIT_DIFFERS, EXIT_INPUT = 0, 1, 2


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--guests", type=Path, default=BUILTIN_GUESTS, help="folder of scenario folders")
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="where traces and reports go")


def _cmd_run(args: argparse.Namespace) -> int:
    backend = get_backend(args.backend)
    scenarios, errors = load_all(args.guests)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    ctx = RunContext(wit_dir_for(args.guests))
    traces, failed = [], 0
    for scenario in scenarios:
        if args.k and args.k not in scenario.name:
            continue
        trace = run_scenario(ctx, backend, scenario)
        traces.append(trace)
        mismatches = check(scenario, trace, backend.name, backend.expectations_from)
        outcomes = " ".join(s.outcome.short().replace(" ", ":") for s in trace.steps)
        if trace.error:
            print(f"error: {trace.error}", file=sys.stderr)
            print(f"ERROR {scenario.name}")
        elif mismatches:
            print(f"FAIL  {scenario.name}: {outcomes}")
            print(explain(scenario, trace, backend.name, backend.expectations_from))
        else:
            print(f"ok    {scenario.name}: {outcomes}")
        failed += bool(mismatches) or bool(trace.error)
    path = trace_path(args.reports, backend.name)
    write_atomic(path, merge(backend.name, version("wasmtime"), traces).to_json())
    print(f"{len(traces) - failed} passed, {failed} failed on {backend.name}; traces in {path}")
    if errors or any(t.error for t in traces):
        return EXIT_INPUT
    return EXIT_DIFFERS if failed else EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    scenarios, errors = load_all(args.guests)
    for scenario in scenarios:
        declared = ", ".join(scenario.diverges) or "same"
        print(f"{scenario.name:40} {declared:30} {scenario.title}")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return EXIT_INPUT if errors else EXIT_OK


def _cmd_backends(_args: argparse.Namespace) -> int:
    for name, backend in sorted(available().items()):
        print(f"{name:14} {backend.model.value:7} {backend.summary}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handle-compat", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every scenario on one backend and write its traces")
    run.add_argument("--backend", required=True, help="backend name (see `handle-compat backends`)")
    run.add_argument("-k", default="", help="only scenarios whose name contains this")
    _add_common(run)
    run.set_defaults(func=_cmd_run)
    listing = commands.add_parser("list", help="list the scenarios")
    _add_common(listing)
    listing.set_defaults(func=_cmd_list)
    commands.add_parser("backends", help="list the registered backends").set_defaults(func=_cmd_backends)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT
