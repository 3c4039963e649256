"""Trace files: a lossless JSON round trip, and corrupt files refused naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.execute.run import RunContext
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.trace import TRACE_FORMAT, TraceSet, merge
from suites.unit.support import FIXTURE_GUESTS, MISFIT_WATS, run, write_scenario

#: Fixture scenarios whose traces hold values, traps, not-run steps, emits from two
#: components, host events and live resources.
TRACED = ("give-own", "unreachable", "use-after-drop", "child-alive")


@pytest.fixture(scope="module")
def trace_set(ctx: RunContext, tmp_path_factory: pytest.TempPathFactory) -> TraceSet:
    """Real traces of several fixture scenarios plus one scenario that could not run."""
    guests = tmp_path_factory.mktemp("guests")
    broken = write_scenario(
        guests,
        "broken",
        (BUILTIN_GUESTS / "baseline-roundtrip" / "scenario.toml").read_text(encoding="utf-8"),
        {"a.wat": MISFIT_WATS / "syntax-error.wat"},
    )
    traces = [run(ctx, "real", FIXTURE_GUESTS / name) for name in TRACED] + [run(ctx, "real", broken)]
    return merge("real", "50.0.1", traces, inputs="f" * 64)


@pytest.fixture
def trace_file(trace_set: TraceSet, tmp_path: Path) -> Path:
    path = tmp_path / "real.json"
    path.write_text(trace_set.to_json(), encoding="utf-8")
    return path


def _rewrite(path: Path, change: Any) -> Path:
    """Loads the trace file as JSON, lets ``change`` edit it, writes it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_json_round_trip_is_lossless(trace_set: TraceSet) -> None:
    assert TraceSet.from_json(trace_set.to_json(), Path("real.json")) == trace_set


def test_round_trip_fixture_has_what_it_is_meant_to_cover(trace_set: TraceSet) -> None:
    # Guards the round trip above against silently covering less.
    traces = trace_set.traces.values()
    covered = {
        "error": any(t.error for t in traces),
        "trap": any(s.outcome.trap for t in traces for s in t.steps),
        "not-run": any(s.outcome.status.value == "not-run" for t in traces for s in t.steps),
        "emits from two components": len({e.component for t in traces for s in t.steps for e in s.emits}) == 2,
        "events": any(s.events for t in traces for s in t.steps),
        "live": any(t.live for t in traces),
    }
    assert all(covered.values()), covered


def test_json_is_the_same_text_after_a_round_trip(trace_set: TraceSet) -> None:
    text = trace_set.to_json()
    assert TraceSet.from_json(text, Path("real.json")).to_json() == text


def test_json_keys_are_sorted(trace_set: TraceSet) -> None:
    orders: list[list[str]] = []

    def record(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        orders.append([key for key, _ in pairs])
        return dict(pairs)

    json.loads(trace_set.to_json(), object_pairs_hook=record)
    assert orders and all(keys == sorted(keys) for keys in orders)


def test_each_trace_is_on_a_line_of_its_own(trace_set: TraceSet) -> None:
    lines = trace_set.to_json().splitlines()
    assert [ln.split(":", 1)[0].strip('"') for ln in lines if ln.startswith('"') and '"scenario"' in ln] == sorted(
        trace_set.traces
    )


def test_read_reads_what_to_json_wrote(trace_set: TraceSet, trace_file: Path) -> None:
    assert TraceSet.read(trace_file) == trace_set


def test_truncated_file_names_the_file_and_the_line(trace_file: Path) -> None:
    kept = trace_file.read_text(encoding="utf-8").splitlines()[:6]
    trace_file.write_text("\n".join(kept), encoding="utf-8")
    with pytest.raises(InputError) as error:
        TraceSet.read(trace_file)
    assert (error.value.path, error.value.line) == (trace_file, 6)


def test_syntax_error_names_its_line(trace_file: Path) -> None:
    lines = trace_file.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5] + " oops"
    trace_file.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as error:
        TraceSet.read(trace_file)
    assert str(error.value).startswith(f"{trace_file}:6: corrupt trace file")


def test_wrong_format_number_is_refused_naming_it(trace_file: Path) -> None:
    _rewrite(trace_file, lambda data: data.update(format=TRACE_FORMAT + 1))
    with pytest.raises(InputError) as error:
        TraceSet.read(trace_file)
    assert str(error.value) == f"{trace_file}: trace format {TRACE_FORMAT + 1}, expected {TRACE_FORMAT}"


@pytest.mark.parametrize(
    ("field", "remove"),
    [
        ("backend", lambda data: data.pop("backend")),
        ("traces", lambda data: data.pop("traces")),
        ("steps", lambda data: data["traces"]["give-own"].pop("steps")),
        ("outcome", lambda data: data["traces"]["give-own"]["steps"][0].pop("outcome")),
    ],
)
def test_missing_field_is_refused_naming_the_file_and_field(trace_file: Path, field: str, remove: Any) -> None:
    _rewrite(trace_file, remove)
    with pytest.raises(InputError) as error:
        TraceSet.read(trace_file)
    assert error.value.path == trace_file
    assert f"'{field}'" in error.value.message


def test_unknown_trap_kind_is_refused(trace_file: Path) -> None:
    def change(data: Any) -> None:
        data["traces"]["unreachable"]["steps"][0]["outcome"]["trap"] = "exploded"

    _rewrite(trace_file, change)
    with pytest.raises(InputError) as error:
        TraceSet.read(trace_file)
    assert "exploded" in str(error.value)


@pytest.mark.parametrize("text", ["[]", "3", '"trace"', "null"])
def test_top_level_that_is_not_an_object_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "real.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        TraceSet.read(path)
    assert error.value.path == path


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "real.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(InputError) as error:
        TraceSet.read(path)
    assert error.value.path == path


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "real.json"
    path.write_bytes(b'{"format": 1, "backend": "r\xff"}')
    with pytest.raises(InputError) as error:
        TraceSet.read(path)
    assert error.value.path == path


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        TraceSet.read(tmp_path / "absent.json")
    assert error.value.path == tmp_path / "absent.json"
