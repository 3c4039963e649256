"""``handle-compat fuzz``: a campaign of generated handle programs, checked on every backend named.

Exit codes as every command's: 0 no finding, 1 findings (each written as a scenario folder),
2 unusable options. Hypothesis is a test dependency: without it the command says how to get it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from harness.execute.backends import get_backend
from harness.execute.run import RunContext
from harness.model.errors import InputError
from harness.model.files import check_writable_folder, write_atomic
from harness.model.paths import BUILTIN_GUESTS, reports_for
from harness.present.selection import parse_names

DESCRIPTION = (
    "Generates handle programs over 2-3 interpreter components, runs each on every backend named and checks: "
    "(a) each implementation (real, jco) behaves as spec, (b) pseudo as the 2023 table rules, (c) the differ's "
    "category of the first pseudo-vs-real divergence equals the program's labels. A failing program is shrunk "
    "and written to OUT/findings/NAME as a scenario folder; OUT/shard-I-of-N.json holds each shard's figures, "
    "OUT/summary.json the merge of every shard file there."
)
DEFAULT_BACKENDS = ("pseudo", "spec", "real")


def add_parser(commands: Any) -> None:
    """Registers ``fuzz`` among the CLI's subcommands."""
    fuzz = commands.add_parser("fuzz", help="differential fuzzing with generated handle programs")
    fuzz.description = DESCRIPTION
    fuzz.add_argument("--programs", type=int, default=1000, help="programs in the whole campaign (default 1000)")
    fuzz.add_argument("--seed", type=int, default=0, help="the campaign's seed (default 0): same seed, same programs")
    fuzz.add_argument(
        "--backends",
        type=parse_names,
        default=list(DEFAULT_BACKENDS),
        help="comma-separated (default pseudo,spec,real; add jco to check it too, about 80 ms a program)",
    )
    fuzz.add_argument("--shard", default="1/1", help="run shard I of N (1-based) of the campaign (default 1/1)")
    fuzz.add_argument("--jobs", type=int, default=1, help="run this many shards of --shard's split in parallel")
    fuzz.add_argument("--out", type=Path, default=None, help="where findings go (default REPORTS/fuzz)")
    fuzz.add_argument("--reports", type=Path, default=None, help="reports folder (default reports/)")
    fuzz.set_defaults(func=run, guests=BUILTIN_GUESTS)


def _shard_job(options: dict[str, Any]) -> dict[str, Any]:
    """One shard in this process or a worker: its findings and figures."""
    from harness.fuzz.campaign import Fuzzer, run_campaign, write_shard

    with RunContext(BUILTIN_GUESTS / "wit", cache_dir=None) as ctx, tempfile.TemporaryDirectory() as work:
        backends = {name: get_backend(name) for name in options["backends"]}
        fuzzer = Fuzzer(ctx, backends, Path(work))

        def progress(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

        shard = tuple(options["shard"])
        found = run_campaign(fuzzer, options["programs"], options["seed"], (shard[0], shard[1]), progress)
        write_shard(
            Path(options["out"]), (shard[0], shard[1]), options["seed"], options["programs"], fuzzer.stats, found
        )
        seconds = {name: round(s, 3) for name, s in fuzzer.stats.backend_seconds.items()}
        return {"programs": fuzzer.stats.programs, "seconds": fuzzer.stats.seconds, "backend_seconds": seconds}


def run(args: argparse.Namespace) -> int:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise InputError("fuzz", "needs hypothesis: pip install 'handle-compat[test]'") from None
    from harness.fuzz.campaign import shard_of
    from harness.fuzz.merge import merge

    try:
        index, count = shard_of(args.shard)
    except ValueError as err:
        raise InputError("--shard", str(err)) from None
    if args.programs < 1 or args.jobs < 1:
        raise InputError("--programs" if args.programs < 1 else "--jobs", "must be at least 1")
    for name in args.backends:
        get_backend(name)
    out = args.out or (args.reports or reports_for(BUILTIN_GUESTS)) / "fuzz"
    check_writable_folder(out, "--out")
    base = {"programs": args.programs, "seed": args.seed, "backends": list(args.backends), "out": str(out)}
    if args.jobs == 1:
        results = [_shard_job({**base, "shard": [index, count]})]
    else:
        # --jobs J splits shard I of N further, into J shards of a campaign cut J*N ways.
        jobs = [{**base, "shard": [(index - 1) * args.jobs + j + 1, count * args.jobs]} for j in range(args.jobs)]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(_shard_job, jobs))
    programs = sum(r["programs"] for r in results)
    seconds = max(r["seconds"] for r in results)
    summary = merge(out, args.backends)
    write_atomic(out / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(f"{programs} programs in {seconds:.1f} s ({programs / seconds:.0f}/s) on {','.join(args.backends)}")
    print(f"first pseudo-vs-real divergences: {summary['divergences']}")
    for finding in summary["findings"]:
        print(f"finding {finding['folder']}: {finding['line']}")
    return 1 if summary["findings"] else 0
