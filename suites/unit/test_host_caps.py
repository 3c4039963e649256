"""What a guest can make the host hold is capped: emits per step, bytes per tag, table elements.

Past a cap the step ends with ``resource-limit`` and the trace keeps an
``emits-truncated`` mark; the trace stays small, the harness's memory stays
bounded, and the scenarios after it still run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.compare.expect import check
from harness.execute.backends import get_backend
from harness.execute.backends.host import EMITS_TRUNCATED_TAG
from harness.execute.limits import DEFAULT_EMIT_TAG_BYTES, DEFAULT_EMITS_PER_STEP, DEFAULT_TABLE_ELEMENTS
from harness.execute.run import RunContext
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT
from harness.model.scenario import load_scenario
from harness.model.trace import Status, Trace
from harness.model.vocabulary import TrapKind
from suites.unit.support import BASELINE, run, write_scenario

BACKENDS = ("pseudo", "pseudo-reuse", "real")
EMIT = '(import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))'
RUN = '(func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)'
#: Emits ``arg`` times a one-byte tag, then returns how many it emitted.
MANY_EMITS = f"""(module
  {EMIT}
  (memory (export "memory") 1)
  (data (i32.const 16) "e")
  {RUN}
    (local $n i64)
    (block $done (loop $more
      (br_if $done (i64.ge_u (local.get $n) (local.get $arg)))
      (call $emit (i32.const 16) (i32.const 1) (local.get $n))
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (br $more)))
    (local.get $n)))
"""
#: Emits one tag of ``arg`` bytes, every byte ``é``'s two (0xc3 0xa9) where ``op`` is 2, else ``x``.
TAG_OF_LENGTH = f"""(module
  {EMIT}
  (memory (export "memory") 600)
  {RUN}
    (local $at i32)
    (block $done (loop $fill
      (br_if $done (i64.ge_u (i64.extend_i32_u (local.get $at)) (local.get $arg)))
      (if (i32.eq (local.get $op) (i32.const 2))
        (then (i32.store16 (local.get $at) (i32.const 0xa9c3))
              (local.set $at (i32.add (local.get $at) (i32.const 2))))
        (else (i32.store8 (local.get $at) (i32.const 0x78))
              (local.set $at (i32.add (local.get $at) (i32.const 1)))))
      (br $fill)))
    (call $emit (i32.const 0) (i32.wrap_i64 (local.get $arg)) (i64.const 7))
    (local.get $arg)))
"""
#: Emits the whole of its 37 MiB memory as one tag, ``arg`` times.
HUGE_TAGS = f"""(module
  {EMIT}
  (memory (export "memory") 592)
  {RUN}
    (local $n i64)
    (block $done (loop $more
      (br_if $done (i64.ge_u (local.get $n) (local.get $arg)))
      (call $emit (i32.const 0) (i32.const 0x2500000) (local.get $n))
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (br $more)))
    (local.get $n)))
"""
#: ``table.grow`` by ``arg`` elements; returns what it returned (-1: refused).
TABLE_GROW = f"""(module
  (table $t 1 funcref)
  {RUN}
    (i64.extend_i32_s (table.grow $t (ref.null func) (i32.wrap_i64 (local.get $arg))))))
"""
#: Declares a table of 50M elements.
BIG_TABLE = f"""(module
  (table 50000000 funcref)
  {RUN}
    (i64.const 0)))
"""


def _manifest(*steps: tuple[int, int, str]) -> str:
    """A one-component manifest: (op, arg, expectation) per step."""
    head = 'title = "caps"\ncategory = "baseline"\ndescription = "host caps"\ndiverges = []\n'
    head += '\n[components.a]\nwat = "a.wat"\n'
    body = "".join(
        f'\n[[steps]]\ncall = "a"\nop = {op}\narg = {arg}\ndoes = "step"\nexpect.all = {{ {expect}, rule = "cap" }}\n'
        for op, arg, expect in steps
    )
    return head + body


def _scenario(tmp_path: Path, name: str, wat: str, *steps: tuple[int, int, str]) -> Path:
    return write_scenario(tmp_path, name, _manifest(*steps), {"a.wat": wat})


def _emit_count(trace: Trace, step: int) -> int:
    return len(trace.steps[step].emits)


@pytest.fixture
def flood(tmp_path: Path) -> Path:
    limit = 'trap = "resource-limit"'
    return _scenario(tmp_path, "flood", MANY_EMITS, (1, 100_000, limit), (1, 1, "not-run = true"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hundred_thousand_emits_end_the_step_with_resource_limit(ctx: RunContext, flood: Path, backend: str) -> None:
    outcome = run(ctx, backend, flood).steps[0].outcome
    assert (outcome.trap, f"more than {DEFAULT_EMITS_PER_STEP} emits" in outcome.message) == (
        TrapKind.RESOURCE_LIMIT,
        True,
    )


def test_the_trace_keeps_the_emits_below_the_cap_and_a_truncation_mark(ctx: RunContext, flood: Path) -> None:
    emits = run(ctx, "real", flood).steps[0].emits
    kept = [e.value for e in emits[:-1]]
    assert (kept, emits[-1].tag, emits[-1].value) == (list(range(DEFAULT_EMITS_PER_STEP)), EMITS_TRUNCATED_TAG, 1)


def test_a_flooding_guest_makes_a_small_and_deterministic_trace(ctx: RunContext, flood: Path) -> None:
    first, second = (json.dumps(run(ctx, "real", flood).to_dict(), sort_keys=True) for _ in range(2))
    assert (first == second, len(first) < 100_000) == (True, True)


def test_the_emit_cap_counts_each_step_afresh(ctx: RunContext, tmp_path: Path) -> None:
    cap = DEFAULT_EMITS_PER_STEP
    folder = _scenario(tmp_path, "each-step", MANY_EMITS, (1, cap, f"value = {cap}"), (1, cap, f"value = {cap}"))
    trace = run(ctx, "pseudo", folder)
    assert [s.outcome.value for s in trace.steps] == [cap, cap]


@pytest.mark.parametrize(
    ("op", "length", "kept"),
    [
        (1, DEFAULT_EMIT_TAG_BYTES, True),
        (1, DEFAULT_EMIT_TAG_BYTES + 1, False),
        (2, DEFAULT_EMIT_TAG_BYTES, True),
        # 2,049 characters but 4,098 UTF-8 bytes: the cap counts bytes.
        (2, DEFAULT_EMIT_TAG_BYTES + 2, False),
    ],
)
def test_a_tag_is_kept_up_to_the_byte_cap(ctx: RunContext, tmp_path: Path, op: int, length: int, kept: bool) -> None:
    expect = f"value = {length}" if kept else 'trap = "resource-limit"'
    trace = run(ctx, "real", _scenario(tmp_path, "tag", TAG_OF_LENGTH, (op, length, expect)))
    step = trace.steps[0]
    tags = [len(e.tag.encode()) if e.tag != EMITS_TRUNCATED_TAG else 0 for e in step.emits]
    assert (step.outcome.status is Status.VALUE, tags) == (kept, [length] if kept else [0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_scenarios_after_a_huge_tag_still_meet_their_manifests(ctx: RunContext, tmp_path: Path, backend: str) -> None:
    huge = _scenario(
        tmp_path, "huge", TAG_OF_LENGTH, (1, 37 << 20, 'trap = "resource-limit"'), (1, 1, "not-run = true")
    )
    trace = run(ctx, backend, huge)
    fallback = get_backend(backend).expectations_from
    after = [BASELINE, BUILTIN_GUESTS / "own-transfer"]
    mismatches = [
        m for folder in after for m in check(load_scenario(folder), run(ctx, backend, folder), backend, fallback)
    ]
    assert (check(load_scenario(huge), trace, backend, fallback), mismatches) == ([], [])


#: Runs a scenario on ``real`` in a fresh process and writes its trace as the CLI would;
#: prints the first step's trap, the trace's size and the process's peak RSS in KiB
#: (``VmHWM``: ``ru_maxrss`` would keep the peak of the process that forked it).
RSS_PROBE = """
import json, re, sys
from pathlib import Path
from harness.execute.run import RunContext
from suites.unit.support import run
with RunContext(Path(sys.argv[1]) / "wit") as ctx:
    trace = run(ctx, "real", Path(sys.argv[2]))
size = len(json.dumps(trace.to_dict()))
peak = re.search(r"VmHWM:\\s*(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print(trace.steps[0].outcome.trap, size, peak)
"""


def test_twenty_37_mib_tags_leave_the_trace_small_and_peak_memory_bounded(tmp_path: Path) -> None:
    # Uncapped, every tag is kept until the deadline ends the step: a trace of over a gigabyte and
    # peak memory of several. Capped, the first is refused once wasmtime has lifted it (a few copies
    # of 37 MiB, freed at once) and the step is not replayed.
    huge = _scenario(tmp_path, "huge", HUGE_TAGS, (1, 20, 'trap = "resource-limit"'))
    probe = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(BUILTIN_GUESTS), str(huge)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=True,
    )
    trap, size, peak_kib = probe.stdout.split()
    assert (trap, int(size) < 10_000, int(peak_kib) < 300 << 10) == (TrapKind.RESOURCE_LIMIT.value, True, True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_table_grow_past_the_cap_is_refused(ctx: RunContext, tmp_path: Path, backend: str) -> None:
    folder = _scenario(
        tmp_path, "grow", TABLE_GROW, (1, 50_000_000, "value = -1"), (1, DEFAULT_TABLE_ELEMENTS - 1, "value = 1")
    )
    assert [s.outcome.value for s in run(ctx, backend, folder).steps] == [-1, 1]


def test_a_table_declared_past_the_cap_does_not_instantiate(ctx: RunContext, tmp_path: Path) -> None:
    trace = run(ctx, "real", _scenario(tmp_path, "big-table", BIG_TABLE, (1, 0, "value = 0")))
    assert (trace.steps, "cannot instantiate" in (trace.error or "")) == ((), True)
