"""A run killed with SIGKILL leaves, for every file it writes, the old complete file, a new complete one, or none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import Component

from harness.execute.cache import ArtifactKind, EngineSettings, decode_entry
from harness.execute.cache_trust import KEY_FILE
from harness.model.paths import BUILTIN_GUESTS, PROJECT_ROOT, trace_path
from harness.model.trace import TraceSet

COUNT = 80
#: Each scenario emits EMITS tags of TAG_BYTES (the per-tag cap); with COUNT scenarios the
#: trace file is about 30 MB.
TAG_BYTES = 4096
EMITS = 16
GUEST = """(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open (param i32 i32) (result i32)))
  (import "handle-compat:io/streams@0.1.0" "[method]input-stream.read" (func $read (param i32 i64 i32)))
  (import "handle-compat:io/streams@0.1.0" "[resource-drop]input-stream" (func $drop (param i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "hello")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get 3) (i32.const 8))))
    (local.get $ptr))
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $h i32)
    (local $i i32)
    (local.set $h (call $open (i32.const 16) (i32.const 5)))
    (call $read (local.get $h) (local.get $arg) (i32.const 64))
    (call $drop (local.get $h))
    ;; {emits} tags of {tag_bytes} NUL bytes (the zeroed second page), six bytes each in JSON: slow to write.
    (loop $more
      (call $emit (i32.const 65536) (i32.const {tag_bytes}) (local.get $arg))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const {emits}))))
    (i64.add (i64.extend_i32_u (i32.load (i32.const 72))) (i64.const {number}))))
"""
MANIFEST = """title = "Synthetic scenario {number}"
category = "baseline"
description = "Reads from a stream; generated so a run takes a while."
diverges = []

[components.a]
wat = "a.wat"

[[steps]]
call = "a"
op = 1
arg = 3
does = "reads 3 bytes of 'hello' and adds its number"
expect.all = {{ value = {value}, rule = "read returns up to len bytes" }}
"""


def _guests(root: Path) -> Path:
    guests = root / "guests"
    guests.mkdir()
    (guests / "wit").symlink_to(BUILTIN_GUESTS / "wit")
    for number in range(COUNT):
        folder = guests / f"synthetic-{number:04d}"
        folder.mkdir()
        (folder / "a.wat").write_text(GUEST.format(number=number, tag_bytes=TAG_BYTES, emits=EMITS), encoding="utf-8")
        (folder / "scenario.toml").write_text(MANIFEST.format(number=number, value=3 + number), encoding="utf-8")
    return guests


def _command(guests: Path, reports: Path, cache: Path, *extra: str) -> list[str]:
    return [
        *(sys.executable, "-m", "harness", "run", "--backend", "pseudo", "--guests", str(guests)),
        *("--reports", str(reports), "--cache-dir", str(cache), *extra),
    ]


def _visible(path: Path) -> bool:
    """Whether a reader ever opens ``path``: write_atomic's temporaries (``.name.*.tmp``) are never read."""
    return not (path.name.startswith(".") and path.name.endswith(".tmp"))


def _cache_entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if _visible(p) and p.name != KEY_FILE) if cache.is_dir() else []


def _trace_temporaries(reports: Path) -> list[Path]:
    folder = trace_path(reports, "pseudo").parent
    return [p for p in folder.iterdir() if not _visible(p)] if folder.is_dir() else []


def _is_complete_entry(entry: Path, engine: wasmtime.Engine) -> bool:
    kind = ArtifactKind(entry.suffix.removeprefix("."))
    payload = decode_entry((entry.parent / KEY_FILE).read_bytes(), bytes.fromhex(entry.stem), entry.read_bytes())
    if payload is None:
        return False
    if kind is ArtifactKind.MODULE:
        wasmtime.Module.deserialize(engine, payload)
    else:
        Component.deserialize(engine, payload)
    return True


KILL_POINTS: dict[str, Callable[[Path, Path, int], bool]] = {
    # Several new cache entries are written: the run is compiling, mid-way through the scenarios.
    "while-compiling": lambda reports, cache, old: len(_cache_entries(cache)) >= old + 5,
    # The trace file's temporary exists: the run is writing its traces.
    "while-writing-traces": lambda reports, cache, old: bool(_trace_temporaries(reports)),
}


@dataclass(frozen=True)
class Killed:
    reports: Path
    cache: Path
    #: The trace file an earlier, complete run left.
    old_trace: bytes
    returncode: int


@pytest.fixture(scope="module")
def killed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Killed:
    """A run killed at the requested point, after an earlier complete run of a few scenarios."""
    root = tmp_path_factory.mktemp(request.param)
    guests, reports, cache = _guests(root), root / "reports", root / "cache"
    # The earlier run: scenarios synthetic-0000 to -0009 only.
    subprocess.run(
        _command(guests, reports, cache, "-k", "synthetic-000"), cwd=PROJECT_ROOT, check=True, capture_output=True
    )
    old_trace = trace_path(reports, "pseudo").read_bytes()
    old_entries = len(_cache_entries(cache))
    should_kill = KILL_POINTS[request.param]
    process = subprocess.Popen(
        _command(guests, reports, cache), cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while process.poll() is None and not should_kill(reports, cache, old_entries):
            time.sleep(0.001)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    return Killed(reports, cache, old_trace, process.returncode)


@pytest.mark.parametrize("killed", sorted(KILL_POINTS), indirect=True)
def test_the_run_was_killed_mid_way(killed: Killed) -> None:
    assert killed.returncode == -signal.SIGKILL


@pytest.mark.parametrize("killed", ["while-writing-traces"], indirect=True)
def test_the_kill_landed_between_creating_the_trace_temporary_and_renaming_it(killed: Killed) -> None:
    # A SIGKILL runs no clean-up, so the temporary is still there only if the kill came mid-write.
    assert len(_trace_temporaries(killed.reports)) == 1


@pytest.mark.parametrize("killed", sorted(KILL_POINTS), indirect=True)
def test_the_trace_file_is_the_old_one_or_a_complete_new_one(killed: Killed) -> None:
    path = trace_path(killed.reports, "pseudo")
    assert path.read_bytes() == killed.old_trace or len(TraceSet.read(path).traces) == COUNT


@pytest.mark.parametrize("killed", sorted(KILL_POINTS), indirect=True)
def test_every_report_file_a_reader_opens_parses(killed: Killed) -> None:
    files = [p for p in killed.reports.rglob("*") if p.is_file() and _visible(p)]
    assert [p.name for p in files if TraceSet.read(p).backend != "pseudo"] == []


@pytest.mark.parametrize("killed", sorted(KILL_POINTS), indirect=True)
def test_every_cache_entry_is_complete(killed: Killed) -> None:
    engine = EngineSettings().engine()
    assert [e.name for e in _cache_entries(killed.cache) if not _is_complete_entry(e, engine)] == []


@pytest.mark.parametrize("killed", ["while-compiling"], indirect=True)
def test_the_next_run_completes_from_what_the_killed_one_left(killed: Killed) -> None:
    guests = killed.reports.parent / "guests"
    command = _command(guests, killed.reports, killed.cache)
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert (completed.returncode, len(TraceSet.read(trace_path(killed.reports, "pseudo")).traces)) == (0, COUNT)
