"""Text from scenarios, guests and traces cannot forge or break what the harness writes.

A guests folder holds a scenario whose guest emits a tag full of control and bidi
characters and whose title, step texts and rule carry escape sequences and
newlines, and a scenario in a folder whose name holds a newline and a fake ``ok``
line. Every command's terminal output shows them as escapes, gate.xml parses,
and gate.json and compat.json keep them exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.model.paths import PROJECT_ROOT
from harness.model.safe_text import BIDI_CONTROLS, for_terminal, for_xml
from suites.unit.support import FIXTURE_GUESTS, write_scenario

#: What the guest emits: ESC sequences (colour, OSC title), BEL, NUL, CR LF and a fake
#: ``ok`` line, TAB, DEL, the C1 CSI (U+009B) and a right-to-left override.
TAG = "\x1b[31mRED\x1b]0;pwned\x07\x00nul\r\nok    fake\ttab\x7fdel\x9bcsi\u202ebidi"
HOSTILE_WAT = """(module
  (import "handle-compat:io/host@0.1.0" "open-input" (func $open_input (param i32 i32) (result i32)))
  (import "handle-compat:io/probe@0.1.0" "emit" (func $emit (param i32 i32 i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "@TAG@")
  (func (export "handle-compat:io/driver@0.1.0#run") (param $op i32) (param $arg i64) (result i64)
    (local $handle i32)
    (if (i32.ne (local.get $op) (i32.const 1)) (then (return (i64.const 0))))
    (local.set $handle (call $open_input (i32.const 0) (i32.const 0)))
    (call $emit (i32.const 16) (i32.const @LEN@) (i64.extend_i32_u (local.get $handle)))
    (i64.extend_i32_u (local.get $handle))))
"""
#: Step 1 returns the stream's index (3 under pseudo, 1 under real), so the runs diverge
#: there and the differ shows the tag; step 2's expectation is wrong, so its text is shown.
HOSTILE_MANIFEST = r"""title = "Hostile \u001b[31mtitle\nok    fake-title"
category = "baseline"
description = "A guest and a manifest whose texts try to drive the terminal."
diverges = []

[components.a]
wat = "a.wat"

[[steps]]
call = "a"
op = 1
does = "emits a tag full of controls \u001b]0;x\u0007"
expect.pseudo = { value = 3, rule = "pseudo keys start at 3" }
expect.real = { value = 1, rule = "a fresh real table starts at 1" }

[[steps]]
call = "a"
op = 2
does = "returns 0 \u202egnorw\nok    fake-step"
expect.all = { value = 1, rule = "a wrong expectation \u001b[2J so the step text is shown" }
"""
FORGED_FOLDER = "forged\nok    baseline-roundtrip: value:1"
#: Characters no terminal line of the harness may hold raw (LF only ends lines).
RAW = {*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), *BIDI_CONTROLS} - {"\n"}


@dataclass(frozen=True)
class Outputs:
    """stdout and stderr (bytes) of each command, and the reports folder."""

    streams: dict[str, tuple[bytes, bytes]]
    reports: Path


def _wat_bytes(text: str) -> str:
    return "".join(f"\\{byte:02x}" for byte in text.encode())


def _guests(root: Path) -> Path:
    guests = root / "guests"
    wat = HOSTILE_WAT.replace("@TAG@", _wat_bytes(TAG)).replace("@LEN@", str(len(TAG.encode())))
    write_scenario(guests, "hostile", HOSTILE_MANIFEST, {"a.wat": wat})
    shutil.copytree(FIXTURE_GUESTS / "unreachable", guests / FORGED_FOLDER)
    return guests


def _command(*args: str, root: Path) -> tuple[bytes, bytes]:
    env = {**os.environ, "HANDLE_COMPAT_CACHE_DIR": str(root / "cache"), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(args, capture_output=True, cwd=root, env=env, timeout=300, check=False)
    return done.stdout, done.stderr


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    root = tmp_path_factory.mktemp("hostile")
    guests, reports = _guests(root), root / "reports"
    cli = (sys.executable, "-m", "harness")
    common = ("--guests", str(guests), "--reports", str(reports))
    streams = {}
    for backend in ("pseudo", "real"):
        streams[f"run {backend}"] = _command(*cli, "run", "--backend", backend, *common, root=root)
    for command in ("diff", "gate", "list", "report"):
        pair = () if command == "list" else ("--backends", "pseudo,real")
        streams[command] = _command(*cli, command, *common, *pair, root=root)
    (root / "test_conformance.py").write_text(
        (PROJECT_ROOT / "suites" / "conformance" / "test_scenarios.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    plugin = ("-p", "harness.present.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:xdist", "-rA", "-v")
    streams["pytest"] = _command(
        sys.executable, "-m", "pytest", *plugin, "--rootdir", str(root), *common, "test_conformance.py", root=root
    )
    return Outputs(streams, reports)


@pytest.mark.parametrize("char", sorted(RAW | {"\n", "\u2028", "\u2029"}))
def test_for_terminal_shows_each_control_as_an_escape(char: str) -> None:
    shown = for_terminal(f"a{char}b")
    assert (shown[0], shown[-1], shown[1], any(c in RAW | {"\n"} for c in shown)) == ("a", "b", "\\", False)


def test_for_terminal_keeps_printable_text() -> None:
    text = "café 日本語 <b>&amp; C:\\path 'quoted' 🙂"
    assert for_terminal(text) == text


def test_for_xml_makes_every_character_storable() -> None:
    text = "".join(map(chr, range(0x3000))) + "\ud800\udfff\ufffe\uffff\U0001f642"
    parsed = ElementTree.fromstring(ElementTree.tostring(ElementTree.Element("t", v=for_xml(text))))
    assert parsed.get("v", "").startswith("\\x00\\x01")


@pytest.mark.parametrize("command", ["run pseudo", "run real", "diff", "gate", "list", "report", "pytest"])
def test_no_raw_control_character_reaches_the_terminal(outputs: Outputs, command: str) -> None:
    stdout, stderr = outputs.streams[command]
    raw = sorted({c for c in (stdout + stderr).decode("utf-8") if c in RAW})
    assert (raw, bool(stdout)) == ([], True)


@pytest.mark.parametrize("command", ["run pseudo", "run real", "list", "pytest"])
def test_a_folder_name_cannot_start_a_line(outputs: Outputs, command: str) -> None:
    lines = outputs.streams[command][0].decode("utf-8").splitlines()
    # The harness shows the newline as \x0a; pytest escapes test ids its own way (\n).
    forged = [line for line in lines if "ok    baseline-roundtrip" in line]
    assert [line.count("forged\\") for line in forged] == [1] * len(forged) != []


def test_run_prints_one_ok_line_for_the_one_passing_scenario(outputs: Outputs) -> None:
    lines = outputs.streams["run real"][0].decode("utf-8").splitlines()
    assert [line[:20] for line in lines if line.startswith("ok")] == ["ok    forged\\x0aok  "]


def test_titles_step_texts_and_rules_show_as_escapes(outputs: Outputs) -> None:
    stdout = outputs.streams["run real"][0].decode("utf-8")
    shown = ("Hostile \\x1b[31mtitle\\x0aok", "returns 0 \\u202egnorw\\x0aok", "wrong expectation \\x1b[2J")
    assert [text in stdout for text in shown] == [True, True, True]


@pytest.mark.parametrize("command", ["diff", "gate"])
def test_a_guest_tag_shows_as_escapes(outputs: Outputs, command: str) -> None:
    assert for_terminal(TAG).encode() in outputs.streams[command][0]


def test_gate_xml_parses_and_shows_the_tag(outputs: Outputs) -> None:
    suite = ElementTree.parse(outputs.reports / "gate.xml").getroot()
    failure = suite.find("testcase[@name='hostile']/failure")
    # An XML reader turns the CR LF that for_xml leaves into LF.
    assert failure is not None and for_xml(TAG).replace("\r\n", "\n") in (failure.text or "")


def test_gate_json_keeps_the_tag_exactly(outputs: Outputs) -> None:
    summary = json.loads((outputs.reports / "gate.json").read_text(encoding="utf-8"))
    hostile = next(s for s in summary["scenarios"] if s["name"] == "hostile")
    assert TAG in hostile["first_divergence"]["detail"]


def test_compat_json_and_html_hold_no_raw_markup_or_escape(outputs: Outputs) -> None:
    data = json.loads((outputs.reports / "compat.json").read_text(encoding="utf-8"))
    html = (outputs.reports / "compat.html").read_text(encoding="utf-8")
    names = sorted(s["name"] for s in data["scenarios"])
    assert (names, html.count("<script"), "\x1b" in (outputs.reports / "compat.json").read_text(encoding="utf-8")) == (
        sorted(["hostile", FORGED_FOLDER]),
        1,
        False,
    )
