"""Measures the harness against bare wasmtime-py, all figures from one run.

    python benchmarks/bench.py            # everything (tox -e bench)
    python benchmarks/bench.py --only a,c # some sections

a  the built-in suite per backend, cold compile cache, vs bare wasmtime-py   target <= 1.3x
b  the same suite, warm cache vs cold cache                                  target >= 5x
c  one pseudo-backend host call vs a bare host call with no table work       target <= 1.3x
d  100 and 1,000 synthetic scenarios x 2 backends (one process each)        target 1,000 <= 60 s, <= 500 MB
e  pytest -n 2 vs -n 0 on the conformance suite, and on 300 synthetic scenarios (speed-up)
f  the built-in suite per backend with the op log vs without it, cold and warm cache  target <= 1.10x

The ``runaway-*`` scenarios are left out of a and b: each spends its deadline
(100 ms) by design, which is not harness cost.

Each figure is the best of ``--repeat`` interleaved rounds. Ratios are taken on
this process's CPU time (all threads, compiler threads included), which other
load on the machine disturbs far less than wall time; the wall-time ratio is
shown next to it. Sections d and e time whole processes: wall time only.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import wasmtime

# Runnable as a script from a source checkout: the harness and the bare baseline sit next door.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_wasmtime import BareScenario, compile_all, instance_exports, prepare, run_bare
from wasmtime.component import Component, Linker

from harness.execute.backends import get_backend
from harness.execute.cache import CompileCache, EngineSettings
from harness.execute.limits import Limits
from harness.execute.run import RunContext, run_scenario
from harness.execute.wrap import core_import_name, driver_export_name
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.scenario import load_all, load_scenario
from harness.model.trace import Status, merge
from harness.model.vocabulary import HandleModel
from harness.present.cli import main as harness_main

BACKENDS = ("pseudo", "real")
MODELS = {"pseudo": HandleModel.PSEUDO, "real": HandleModel.REAL}


@dataclass
class Row:
    section: str
    what: str
    figure: str
    ratio: str = ""
    target: str = ""
    verdict: str = ""


@dataclass(frozen=True)
class Timing:
    """Best of several runs: wall seconds, and CPU seconds of this process (all its threads)."""

    wall: float
    cpu: float

    def __truediv__(self, other: Timing) -> Timing:
        return Timing(self.wall / other.wall, self.cpu / other.cpu)

    def __sub__(self, other: Timing) -> Timing:
        return Timing(self.wall - other.wall, self.cpu - other.cpu)

    def scaled(self, factor: float) -> Timing:
        return Timing(self.wall * factor, self.cpu * factor)


def _ms(timing: Timing) -> str:
    return f"{timing.wall * 1000:.0f} ms (CPU {timing.cpu * 1000:.0f})"


def _times(ratio: Timing, what: str) -> str:
    """A ratio on CPU time, the wall-time ratio after it."""
    return f"{ratio.cpu:.2f}x {what} (wall {ratio.wall:.2f}x)"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


@contextlib.contextmanager
def _suite_copy(skip: Callable[[str], bool]) -> Iterator[Path]:
    """A guests folder with a copy of every built-in scenario except the skipped ones.

    Copies, not links: the loader refuses a scenario folder that links outside its guests folder.
    """
    with tempfile.TemporaryDirectory(prefix="hc-bench-guests-") as tmp:
        root = Path(tmp)
        shutil.copytree(BUILTIN_GUESTS / "wit", root / "wit")
        for folder in sorted(BUILTIN_GUESTS.iterdir()):
            if (folder / "scenario.toml").is_file() and not skip(folder.name):
                shutil.copytree(folder, root / folder.name)
        yield root


def _harness_run(guests: Path, backend: str, cache: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="hc-bench-reports-") as reports:
        args = ["run", "--backend", backend, "--guests", str(guests), "--reports", reports]
        args += ["--no-cache"] if cache is None else ["--cache-dir", str(cache)]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = harness_main(args)
        if code != 0:
            raise SystemExit(f"harness run on {backend} exited {code}; the suite must pass before benchmarking")


def _cold(guests: Path, backend: str) -> None:
    with tempfile.TemporaryDirectory(prefix="hc-bench-cache-") as cache:
        _harness_run(guests, backend, Path(cache))


def _rounds(candidates: dict[str, Callable[[], object]], repeat: int) -> dict[str, Timing]:
    """Best times of each candidate, run in interleaved rounds so background load hits all alike."""
    wall = dict.fromkeys(candidates, float("inf"))
    cpu = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeat):
        for name, func in candidates.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            func()
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
            wall[name] = min(wall[name], time.perf_counter() - start)
    return {name: Timing(wall[name], cpu[name]) for name in candidates}


def _compile_stage(bare: list[BareScenario], cache: Path) -> None:
    """Only what the cache replaces: getting every core module and component compiled."""
    settings = EngineSettings()
    compiler = CompileCache(settings.engine(), settings, cache)
    for scenario in bare:
        for wasm in scenario.cores.values():
            compiler.module(wasm)
        compiler.component(scenario.text)


def _check_same_work(guests: Path, backend: str, bare: list[BareScenario]) -> None:
    """The baseline must do what the harness does: the same value (or a trap) at every step."""
    context = RunContext(guests / "wit")
    expected = {}
    for scenario in load_all(guests)[0]:
        trace = run_scenario(context, get_backend(backend), scenario)
        ran = [s.outcome for s in trace.steps if s.outcome.status is not Status.NOT_RUN]
        expected[scenario.name] = ["trap" if o.status is Status.TRAP else str(o.value) for o in ran]
    context.close()
    observed = run_bare(bare)
    differ = sorted(name for name in expected if expected[name] != observed.get(name))
    if differ:
        raise SystemExit(f"bare baseline does other work than the harness on {backend}: {', '.join(differ)}")


def _suite_figures(guests: Path, backend: str, repeat: int) -> dict[str, Timing]:
    bare = prepare(guests, guests / "wit", MODELS[backend], lambda _name: False)
    _check_same_work(guests, backend, bare)
    _cold(guests, backend)  # process-wide one-offs (WIT resolution, imports) stay out of the figures
    with tempfile.TemporaryDirectory(prefix="hc-bench-cache-") as scratch:
        warm = Path(scratch) / "warm"
        _harness_run(guests, backend, warm)
        _compile_stage(bare, warm)
        # Empty cache folders made up front: deleting a filled one is no part of a run.
        fresh = (Path(scratch) / f"cold-{n}" for n in range(4 * repeat))
        precompiled = compile_all(bare)

        return _rounds(
            {
                "bare": lambda: run_bare(bare),
                "bare-epoch": lambda: run_bare(bare, epoch_interruption=True),
                "bare-precompiled": lambda: run_bare(bare, compiled=precompiled),
                "cold": lambda: _harness_run(guests, backend, next(fresh)),
                "nocache": lambda: _harness_run(guests, backend, None),
                "warm": lambda: _harness_run(guests, backend, warm),
                "cold-stage": lambda: _compile_stage(bare, next(fresh)),
                "warm-stage": lambda: _compile_stage(bare, warm),
            },
            repeat,
        )


def section_a_b(repeat: int) -> list[Row]:
    rows = []
    with _suite_copy(lambda name: name.startswith("runaway-")) as guests:
        count = sum(1 for p in guests.iterdir() if p.name != "wit")
        for backend in BACKENDS:
            best = _suite_figures(guests, backend, repeat)
            ratio = best["cold"] / best["bare"]
            speedup = best["cold"] / best["warm"]
            rows += [
                Row("a", f"bare wasmtime-py, {count} scenarios, {backend}", _ms(best["bare"])),
                Row(
                    "a",
                    f"bare, compiled with epoch checks, {backend}",
                    _ms(best["bare-epoch"]),
                    _times(best["bare-epoch"] / best["bare"], "bare"),
                ),
                Row(
                    "a",
                    f"harness, cold cache, {backend}",
                    _ms(best["cold"]),
                    _times(ratio, "bare"),
                    "<= 1.3x",
                    _verdict(ratio.cpu <= 1.3),
                ),
                Row(
                    "a", f"harness, cold cache, {backend}", "", _times(best["cold"] / best["bare-epoch"], "bare+epoch")
                ),
                Row(
                    "a",
                    f"harness, --no-cache, {backend}",
                    _ms(best["nocache"]),
                    _times(best["nocache"] / best["bare"], "bare"),
                ),
                Row(
                    "b",
                    f"harness, warm cache, {backend}",
                    _ms(best["warm"]),
                    _times(speedup, "faster than cold"),
                    ">= 5x",
                    _verdict(speedup.cpu >= 5),
                ),
                Row(
                    "b",
                    f"bare, everything compiled ahead (floor of any warm run), {backend}",
                    _ms(best["bare-precompiled"]),
                    _times(best["cold"] / best["bare-precompiled"], "faster than harness cold"),
                ),
                Row(
                    "b",
                    f"compile stage only, warm cache, {backend}",
                    _ms(best["warm-stage"]),
                    _times(best["cold-stage"] / best["warm-stage"], f"faster than cold ({_ms(best['cold-stage'])})"),
                ),
            ]
    return rows


HOSTCALL_WAT = """
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.skip" (func $skip (param i32 i64 i32)))
  (memory (export "memory") 1)
  (global $h (mut i32) (i32.const 0))
  (data (i32.const 16) "hello")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $i i64)
    (if (i32.eq (local.get $op) (i32.const 1))
      (then (global.set $h (call $open_input (i32.const 16) (i32.const 5))) (return (i64.const 0))))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (local.get $arg)))
        (call $skip (global.get $h) (i64.const 0) (i32.const 64))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    (local.get $i))
)
"""


def _hostcall_scenario(root: Path, calls: int) -> Path:
    folder = root / f"hostcall-{calls}"
    folder.mkdir()
    (folder / "a.wat").write_text(HOSTCALL_WAT)
    (folder / "scenario.toml").write_text(
        f"""title = "host calls"
category = "baseline"
description = "a calls input-stream.skip {calls} times"
diverges = []
[components.a]
wat = "a.wat"
[[steps]]
call = "a"
op = 1
does = "open"
expect.all = {{ value = 0, rule = "r" }}
[[steps]]
call = "a"
op = 2
arg = {calls}
does = "skip"
expect.all = {{ value = {calls}, rule = "r" }}
"""
    )
    return folder


def _null_pseudo_host(engine: wasmtime.Engine, text: str, wasm: bytes) -> Callable[[int], object]:
    """The hostcall guest on the pseudo wrapper, linked to host functions that do nothing.

    Returns a function that instantiates it, opens the stream and makes ``calls`` host calls.
    """
    component = Component(engine, text)
    module = wasmtime.Module(engine, wasm)
    linker = Linker(engine)
    with linker.root() as root:
        root.add_module(core_import_name("a"), module)
        for name, extern in component.type.imports(engine).items():
            if name.startswith("core-"):
                continue
            with root.add_instance(name) as inst:
                for item in instance_exports(engine, extern):
                    if item == "stream-error":
                        continue
                    if item == "method-input-stream-skip":
                        inst.add_func(item, lambda _store, _handle, _len: 0)
                    elif item.endswith(("open-input", "open-output", "subscribe")) or "resource-new" in item:
                        inst.add_func(item, lambda _store, *_args: 3)
                    elif "resource-rep" in item:
                        inst.add_func(item, lambda _store, index: index)
                    elif item.endswith("ready"):
                        inst.add_func(item, lambda _store, *_args: True)
                    else:
                        inst.add_func(item, lambda _store, *_args: None)

    def run(calls: int) -> object:
        store = wasmtime.Store(engine)
        instance = linker.instantiate(store, component)
        func = instance.get_func(store, driver_export_name("a"))
        assert func is not None
        func(store, 1, 0)
        return func(store, 2, calls)

    return run


CALLS = 2_000


def section_c(repeat: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="hc-bench-hostcall-") as tmp:
        root = Path(tmp)
        (root / "wit").symlink_to(BUILTIN_GUESTS / "wit")
        many = load_scenario(_hostcall_scenario(root, CALLS))
        none = load_scenario(_hostcall_scenario(root, 0))
        # A long deadline: this step is long on purpose.
        ctx = RunContext(root / "wit", limits=Limits(step_timeout_s=600))
        backend = get_backend("pseudo")
        for scenario in (many, none):
            trace = run_scenario(ctx, backend, scenario)
            if trace.steps[-1].outcome.value != int(scenario.name.split("-")[1]):
                raise SystemExit(f"hostcall guest did not run through: {trace.steps[-1].outcome.short()}")
        (prepared,) = prepare(root, root / "wit", HandleModel.PSEUDO, lambda name: name != many.name)
        bare = _null_pseudo_host(wasmtime.Engine(), prepared.text, prepared.cores["a"])
        if bare(CALLS) != CALLS:
            raise SystemExit("bare hostcall guest did not run through")
        best = _rounds(
            {
                "harness-many": lambda: run_scenario(ctx, backend, many),
                "harness-none": lambda: run_scenario(ctx, backend, none),
                "bare-many": lambda: bare(CALLS),
                "bare-none": lambda: bare(0),
            },
            repeat,
        )
        ctx.close()
    harness_call = (best["harness-many"] - best["harness-none"]).scaled(1 / CALLS)
    bare_call = (best["bare-many"] - best["bare-none"]).scaled(1 / CALLS)
    ratio = harness_call / bare_call
    return [
        Row("c", "bare host call (no table work)", _us(bare_call)),
        Row(
            "c",
            "pseudo-backend host call",
            _us(harness_call),
            _times(ratio, "bare"),
            "<= 1.3x",
            _verdict(ratio.cpu <= 1.3),
        ),
    ]


def _us(timing: Timing) -> str:
    return f"{timing.wall * 1e6:.1f} µs (CPU {timing.cpu * 1e6:.1f})"


SYNTHETIC_WAT = """;; Synthetic scenario {index}: opens a stream, reads, writes, drops.
(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/host@0.1.0" "open-output" (func $open_output (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop_input (param i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]output-stream" (func $drop_output (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "hello")
  (data (i32.const 32) "seed")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
    (local.get $ptr))
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32) (local $n i64)
    (call $emit (i32.const 32) (i32.const 4) (i64.const {index}))
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (local.set $h (call $open_input (i32.const 16) (i32.const 5)))
        (call $read (local.get $h) (local.get $arg) (i32.const 64))
        (local.set $n (i64.extend_i32_u (i32.load (i32.const 72))))
        (call $drop_input (local.get $h))
        (return (local.get $n))))
    (local.set $h (call $open_output))
    (call $write (local.get $h) (i32.const 16) (i32.const 5) (i32.const 64))
    (local.set $n (i64.load (i32.const 72)))
    (call $drop_output (local.get $h))
    (local.get $n))
)
"""

SYNTHETIC_TOML = """title = "Synthetic scenario {index}"
category = "baseline"
description = "Generated for the scale benchmark."
diverges = []

[components.a]
wat = "a.wat"

[[steps]]
call = "a"
op = 1
arg = 3
does = "reads 3 bytes"
expect.all = {{ value = 3, rule = "read returns up to len bytes" }}

[[steps]]
call = "a"
op = 2
does = "writes 5 bytes"
expect.all = {{ value = 5, rule = "write takes all bytes" }}

[teardown]
expect.all = {{ live = 0, rule = "everything was dropped" }}
"""


def generate_synthetic(root: Path, count: int) -> Path:
    """``count`` scenario folders, each with its own core module, under ``root``."""
    (root / "wit").symlink_to(BUILTIN_GUESTS / "wit")
    for index in range(count):
        folder = root / f"synthetic-{index:05d}"
        folder.mkdir()
        (folder / "a.wat").write_text(SYNTHETIC_WAT.format(index=index))
        (folder / "scenario.toml").write_text(SYNTHETIC_TOML.format(index=index))
    return root


_CHILD = (
    "import resource, sys\n"
    "from harness.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('maxrss-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _parallel_runs(guests: Path, cache: Path) -> tuple[float, list[int]]:
    """Both backends at once, one process each: wall seconds and the peak RSS of each process (KiB)."""
    with tempfile.TemporaryDirectory(prefix="hc-bench-reports-") as reports:
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    *(sys.executable, "-c", _CHILD, "run", "--backend", backend, "--guests", str(guests)),
                    *("--reports", reports, "--cache-dir", str(cache)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                cwd=PROJECT_ROOT,
            )
            for backend in BACKENDS
        ]
        outputs = [proc.communicate() for proc in procs]
        wall = time.perf_counter() - start
    peaks = []
    for proc, (_, err) in zip(procs, outputs, strict=True):
        if proc.returncode != 0:
            raise SystemExit(f"synthetic run failed ({proc.returncode}): {err[-2000:]}")
        peaks.append(int(err.rsplit("maxrss-kib", 1)[1].split()[0]))
    return wall, peaks


def _rss(peaks_kib: list[int]) -> str:
    """Peak RSS of the largest process and of all of them together."""
    return f"{max(peaks_kib) / 1024:.0f} MB/process, {sum(peaks_kib) / 1024:.0f} MB both"


def section_d(sizes: list[int]) -> list[Row]:
    rows = []
    cold_at: dict[int, float] = {}
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix="hc-bench-scale-") as tmp:
            (Path(tmp) / "guests").mkdir()
            guests = generate_synthetic(Path(tmp) / "guests", count)
            cache = Path(tmp) / "cache"
            cold, cold_rss = _parallel_runs(guests, cache)
            warm, warm_rss = _parallel_runs(guests, cache)
        cold_at[count] = cold
        target = count >= 1000
        rows += [
            Row(
                "d",
                f"{count} scenarios x 2 backends, cold cache",
                f"{cold:.1f} s, {_rss(cold_rss)}",
                f"{cold / count * 1000:.1f} ms/scenario",
                "<= 60 s, <= 500 MB" if target else "",
                _verdict(cold <= 60 and sum(cold_rss) / 1024 <= 500) if target else "",
            ),
            Row(
                "d",
                f"{count} scenarios x 2 backends, warm cache",
                f"{warm:.1f} s, {_rss(warm_rss)}",
                f"{warm / count * 1000:.1f} ms/scenario",
            ),
        ]
    if len(sizes) >= 3:
        # Marginal cost per scenario between consecutive sizes: equal when time grows linearly.
        small, middle, large = sorted(sizes)[:3]
        low = (cold_at[middle] - cold_at[small]) / (middle - small)
        high = (cold_at[large] - cold_at[middle]) / (large - middle)
        rows.append(
            Row(
                "d",
                f"marginal cost per scenario, {middle}->{large} vs {small}->{middle}",
                f"{high * 1000:.1f} vs {low * 1000:.1f} ms",
                f"{high / low:.2f}x",
                "~1x (linear)",
                _verdict(high / low < 1.5),
            )
        )
    return rows


def _pytest(workers: int, cache: Path, guests: Path | None) -> float:
    """Wall seconds of ``pytest suites/conformance -n workers`` on ``guests`` (default: the built-in ones)."""
    with tempfile.TemporaryDirectory(prefix="hc-bench-reports-") as reports:
        start = time.perf_counter()
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "suites/conformance", "-q", "-p", "no:cacheprovider"),
                *("-n", str(workers), "--reports", reports, "--cache-dir", str(cache)),
                *(("--guests", str(guests)) if guests else ()),
            ],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"pytest -n {workers} failed:\n{completed.stdout[-3000:]}")
    return wall


def _pytest_pair(cache: Path, guests: Path | None, repeat: int) -> dict[str, Timing]:
    def with_workers(workers: int) -> Callable[[], float]:
        return lambda: _pytest(workers, cache, guests)

    _pytest(0, cache, guests)  # fills the compile cache: both figures are warm
    return _rounds({str(n): with_workers(n) for n in (0, 2)}, repeat)


SYNTHETIC_FOR_XDIST = 300


def section_e(repeat: int) -> list[Row]:
    """The conformance suite, and a larger synthetic one, under pytest -n 0 and -n 2 (warm cache)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="hc-bench-xdist-") as tmp:
        (Path(tmp) / "guests").mkdir()
        synthetic = generate_synthetic(Path(tmp) / "guests", SYNTHETIC_FOR_XDIST)
        for label, guests in (("built-in scenarios", None), (f"{SYNTHETIC_FOR_XDIST} synthetic scenarios", synthetic)):
            best = _pytest_pair(Path(tmp) / "cache", guests, repeat)
            rows += [
                Row("e", f"pytest -n 0, {label} x 2 backends", f"{best['0'].wall:.2f} s"),
                Row(
                    "e",
                    f"pytest -n 2, {label} x 2 backends",
                    f"{best['2'].wall:.2f} s",
                    f"{best['0'].wall / best['2'].wall:.2f}x speed-up",
                ),
            ]
    return rows


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, wasmtime {version('wasmtime')}, {time.strftime('%Y-%m-%d')}"
    )


def render(rows: list[Row]) -> str:
    header = Row("", "measurement", "figure", "ratio", "target", "verdict")
    table = [header, *rows]
    widths = [
        max(len(getattr(r, f)) for r in table) for f in ("section", "what", "figure", "ratio", "target", "verdict")
    ]
    lines = []
    for index, row in enumerate(table):
        cells = [row.section, row.what, row.figure, row.ratio, row.target, row.verdict]
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _suite_in_process(guests: Path, backend: str, cache: Path | None, oplog: bool) -> None:
    """Runs every scenario and encodes the trace file, as ``handle-compat run`` does, in this process."""
    scenarios, errors = load_all(guests)
    if errors or not scenarios:
        raise SystemExit(f"the suite does not load: {errors[0] if errors else 'no scenarios'}")
    with RunContext(guests / "wit", cache_dir=cache, oplog=oplog) as context:
        traces = [run_scenario(context, get_backend(backend), scenario) for scenario in scenarios]
    merge(backend, version("wasmtime"), traces).to_json()


def section_f(repeat: int) -> list[Row]:
    """The op log's cost: the same suite with ``RunContext(oplog=False)``, the only switch that leaves it out."""
    rows = []
    with _suite_copy(lambda name: name.startswith("runaway-")) as guests, tempfile.TemporaryDirectory() as scratch:
        for backend in BACKENDS:
            warm = {flag: Path(scratch) / f"warm-{backend}-{flag}" for flag in (True, False)}
            for flag, folder in warm.items():
                _suite_in_process(guests, backend, folder, flag)
            candidates: dict[str, Callable[[], object]] = {}
            for flag in (True, False):
                caches: tuple[tuple[str, Path | None], ...] = (("warm", warm[flag]), ("nocache", None))
                for label, cache in caches:
                    candidates[f"{label}-{flag}"] = functools.partial(_suite_in_process, guests, backend, cache, flag)
            best = _rounds(candidates, repeat)
            for label in ("warm", "nocache"):
                ratio = best[f"{label}-True"] / best[f"{label}-False"]
                rows.append(
                    Row(
                        "f",
                        f"op log on vs off, {'warm cache' if label == 'warm' else 'no cache'}, {backend}",
                        f"{_ms(best[f'{label}-True'])} vs {_ms(best[f'{label}-False'])}",
                        _times(ratio, "without"),
                        "<= 1.10x",
                        _verdict(ratio.cpu <= 1.10),
                    )
                )
    return rows


def section_g(repeat: int) -> list[Row]:
    """jco next to wasmtime: wall time per scenario of a whole run (jco works in its own Node process,
    so this process's CPU time says nothing), warm cache and without one (jco then transpiles each component)."""
    rows = []
    with _suite_copy(lambda name: name.startswith("runaway-")) as guests, tempfile.TemporaryDirectory() as scratch:
        count = len(load_all(guests)[0])
        candidates: dict[str, Callable[[], object]] = {}
        for backend in ("real", "jco"):
            warm = Path(scratch) / f"warm-{backend}"
            _suite_in_process(guests, backend, warm, True)
            candidates[f"warm-{backend}"] = functools.partial(_suite_in_process, guests, backend, warm, True)
            candidates[f"nocache-{backend}"] = functools.partial(_suite_in_process, guests, backend, None, True)
        best = _rounds(candidates, repeat)
        for label in ("warm", "nocache"):
            jco, real = best[f"{label}-jco"], best[f"{label}-real"]
            rows.append(
                Row(
                    "g",
                    f"jco vs real, per scenario, {'warm cache' if label == 'warm' else 'no cache'} ({count} scenarios)",
                    f"{jco.wall / count * 1000:.1f} ms vs {real.wall / count * 1000:.1f} ms",
                    f"{jco.wall / real.wall:.1f}x (wall)",
                )
            )
    return rows


def _fuzz_rate(backends: tuple[str, ...], programs: int, seed: int) -> tuple[float, dict[str, float]]:
    """Generated programs per second of one process (generation, labels, runs, checks), and seconds per backend."""
    from harness.fuzz.campaign import Fuzzer, run_campaign

    with RunContext(BUILTIN_GUESTS / "wit", cache_dir=None) as ctx, tempfile.TemporaryDirectory() as work:
        fuzzer = Fuzzer(ctx, {name: get_backend(name) for name in backends}, Path(work))
        run_campaign(fuzzer, programs, seed)
        return fuzzer.stats.rate(), dict(fuzzer.stats.backend_seconds)


def section_h(programs: int) -> list[Row]:
    """Fuzzing throughput: generated programs per second, each backend alone and the campaign's three together.

    One process (the campaign's --jobs 2 runs two). The interpreter and each chain's wrapped
    component are compiled once; what a program costs is its host calls and instantiation.
    """
    rows = []
    for backend in ("pseudo", "spec", "real"):
        rate, _ = _fuzz_rate((backend,), programs, 11)
        rows.append(Row("h", f"fuzz programs/s on {backend} alone, one process", f"{rate:.0f}/s"))
    rate, seconds = _fuzz_rate(("pseudo", "spec", "real"), programs, 11)
    per_backend = ", ".join(f"{name} {seconds[name] / programs * 1000:.2f} ms" for name in sorted(seconds))
    projected = 10_000 / (2 * rate)
    rows.append(
        Row(
            "h",
            f"fuzz programs/s on pseudo+spec+real, one process ({programs} programs; per program: {per_backend})",
            f"{rate:.0f}/s",
            f"10,000 with --jobs 2: ~{projected:.0f} s",
            "10,000 in <= 60 s",
            _verdict(projected <= 60),
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", default="a,c,d,e,f,g,h", help="sections to run (a includes b)")
    parser.add_argument("--fuzz-programs", type=int, default=1000, help="programs per figure of section h")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds per figure (best of)")
    parser.add_argument("--sizes", default="10,100,1000", help="synthetic suite sizes for d (three: linearity check)")
    args = parser.parse_args(argv)
    sections = set(args.only.split(","))
    print(machine(), flush=True)
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    rows: list[Row] = []
    if sections & {"a", "b"}:
        rows += section_a_b(args.repeat)
    if "c" in sections:
        rows += section_c(args.repeat)
    if "d" in sections:
        rows += section_d([int(n) for n in args.sizes.split(",")])
    if "e" in sections:
        rows += section_e(max(1, args.repeat // 2))
    if "f" in sections:
        rows += section_f(args.repeat)
    if "g" in sections:
        rows += section_g(args.repeat)
    if "h" in sections:
        rows += section_h(args.fuzz_programs)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(render(rows))
    print(f"benchmark process peak RSS: {peak_kib / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
