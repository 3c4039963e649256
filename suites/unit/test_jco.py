"""The jco backend and the external-runner door: real runs on Node, and runners that misbehave."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from wasmtime.component import Component

from harness.execute.backends import get_backend
from harness.execute.backends.jco import JcoBackend
from harness.execute.inputs import fingerprint
from harness.execute.limits import Limits
from harness.execute.run import RunContext, run_scenario
from harness.execute.wrap import wrap_scenario
from harness.execute.wrap.inline import with_core_modules
from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import load_all, load_scenario
from harness.model.trace import Status, Trace
from harness.model.vocabulary import HandleModel, TrapKind
from suites.unit.support import run_cli

#: Scenarios the built-in set has whose outcomes and op logs agree on jco and wasmtime
#: (the same indices, so the same handle tables); the host equivalence is checked on each.
_AGREEING_AT_LEAST = 30


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[dict[str, Trace], dict[str, Trace]]]:
    """Every built-in scenario on jco and on real."""
    scenarios, _ = load_all(BUILTIN_GUESTS)
    with RunContext(BUILTIN_GUESTS / "wit") as ctx:
        jco, real = get_backend("jco"), get_backend("real")
        yield (
            {s.name: run_scenario(ctx, jco, s) for s in scenarios},
            {s.name: run_scenario(ctx, real, s) for s in scenarios},
        )


def _same_tables(left: Trace, right: Trace) -> bool:
    """Same outcome kinds and the same op logs (raw indices included): both tables did the same thing."""
    shape = [(s.outcome.status, s.outcome.value, s.outcome.trap) for s in left.steps]
    return shape == [(s.outcome.status, s.outcome.value, s.outcome.trap) for s in right.steps] and [
        s.ops for s in left.steps
    ] == [s.ops for s in right.steps]


def test_every_built_in_scenario_runs_on_jco(both: tuple[dict[str, Trace], dict[str, Trace]]) -> None:
    jco, _ = both
    assert {name: trace.error for name, trace in jco.items() if trace.error} == {}


def test_the_js_host_logs_what_the_python_host_logs_where_the_tables_agree(
    both: tuple[dict[str, Trace], dict[str, Trace]],
) -> None:
    jco, real = both
    agreeing = [name for name in jco if _same_tables(jco[name], real[name])]
    assert len(agreeing) >= _AGREEING_AT_LEAST
    differing = {
        name: (jco[name].to_dict(), real[name].to_dict())
        for name in agreeing
        if [(s.events, s.emits) for s in jco[name].steps] != [(s.events, s.emits) for s in real[name].steps]
        or jco[name].live != real[name].live
    }
    assert differing == {}


def test_jco_trap_messages_name_the_handle_index_as_wasmtime_does(
    both: tuple[dict[str, Trace], dict[str, Trace]],
) -> None:
    jco, real = both
    pairs = [
        (j.outcome.message, r.outcome.message)
        for name in jco
        for j, r in zip(jco[name].steps, real[name].steps, strict=True)
        if j.outcome.trap is r.outcome.trap is TrapKind.UNKNOWN_HANDLE
    ]
    assert pairs
    assert all(j == r for j, r in pairs)


def test_a_step_past_its_deadline_is_stopped_and_keeps_the_hosts_state(
    both: tuple[dict[str, Trace], dict[str, Trace]],
) -> None:
    jco, real = both
    trace = jco["runaway-infinite-loop"]
    assert [s.outcome.trap for s in trace.steps] == [None, TrapKind.TIMEOUT, None]
    assert trace.live == real["runaway-infinite-loop"].live != ()


def test_inlined_core_modules_are_the_guests_bytes() -> None:
    scenario = load_scenario(BUILTIN_GUESTS / "own-transfer")
    with RunContext(BUILTIN_GUESTS / "wit", cache_dir=None) as ctx:
        cores = {spec.name: ctx.core(spec.wat)[0] for spec in scenario.components}
        text = wrap_scenario(ctx.wit, HandleModel.REAL, scenario, cores, inline_cores=True)
        component = with_core_modules(text, [cores[spec.name].wasm for spec in scenario.components])
        Component(ctx.engine, component)
    for core in cores.values():
        assert component.count(core.wasm) == 1


# --- runners that misbehave --------------------------------------------------------

_FAKE_RUNNER = r"""
import json, sys
mode = sys.argv[1]
served = 0
for line in sys.stdin:
    request = json.loads(line)
    if request["type"] == "hello":
        protocol = 0 if mode == "old-protocol" else 1
        print(json.dumps({"type": "hello", "protocol": protocol, "runtime": "jco", "version": "fake"}), flush=True)
        continue
    served += 1
    if mode == "junk" and served == 2:
        print("this is not json", flush=True)
        continue
    if mode == "crash-second" and served == 2:
        print("runner blew up on purpose", file=sys.stderr, flush=True)
        sys.exit(3)
    step = {"outcome": {"status": "value", "value": "7"}, "emits": [], "events": [], "oplog": None,
            "ops_complete": False}
    answer = {"type": "trace", "id": request["id"], "steps": [step] * len(request["steps"]), "live": [],
              "error": None}
    print(json.dumps(answer), flush=True)
"""


class _FakeRunnerBackend(JcoBackend):
    """jco's door with a runner script that misbehaves in a chosen way."""

    name: ClassVar[str] = "fake-runner"
    script: ClassVar[Path]
    mode: ClassVar[str]

    def runner_command(self, limits: Limits) -> list[str]:
        return [sys.executable, str(self.script), self.mode]

    def unavailable(self) -> InputError | None:
        return None

    def runner_files(self) -> tuple[Path, ...]:
        return (self.script,)


def _fake(tmp_path: Path, mode: str) -> _FakeRunnerBackend:
    script = tmp_path / "runner.py"
    script.write_text(_FAKE_RUNNER, encoding="utf-8")
    backend_class: type[_FakeRunnerBackend] = type("Fake", (_FakeRunnerBackend,), {"script": script, "mode": mode})
    return backend_class()


_THREE = ("baseline-roundtrip", "own-transfer", "hand-back")


def _run_three(backend: _FakeRunnerBackend) -> list[Trace]:
    with RunContext(BUILTIN_GUESTS / "wit", cache_dir=None) as ctx:
        return [run_scenario(ctx, backend, load_scenario(BUILTIN_GUESTS / name)) for name in _THREE]


def test_a_runner_that_answers_junk_costs_that_scenario_one_line_and_the_others_run(tmp_path: Path) -> None:
    first, second, third = _run_three(_fake(tmp_path, "junk"))
    assert second.error is not None
    assert "\n" not in second.error
    assert "not JSON" in second.error
    assert [first.error, third.error] == [None, None]
    assert {s.outcome.status for s in first.steps + third.steps} == {Status.VALUE}


def test_a_runner_that_crashes_costs_that_scenario_an_error_trace_and_the_others_run(tmp_path: Path) -> None:
    first, second, third = _run_three(_fake(tmp_path, "crash-second"))
    assert second.error is not None
    assert "exited with code 3: runner blew up on purpose" in second.error
    assert [first.error, third.error] == [None, None]


def test_a_runner_of_another_protocol_version_stops_the_run_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not speak protocol 1") as raised:
        _run_three(_fake(tmp_path, "old-protocol"))
    assert "\n" not in str(raised.value)


def test_without_node_the_jco_backend_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    python_only = tmp_path / "bin"
    python_only.mkdir()
    (python_only / "python").symlink_to(sys.executable)
    env_path = os.environ["PATH"]
    os.environ["PATH"] = str(python_only)
    try:
        completed = run_cli("run", "--backend", "jco", "--reports", str(tmp_path / "r"), cache=tmp_path / "c")
    finally:
        os.environ["PATH"] = env_path
    errors = [line for line in completed.stderr.splitlines() if line.strip()]
    assert (completed.returncode, len(errors)) == (2, 1)
    assert "`node` is not on PATH" in errors[0]


def test_a_change_to_the_runner_makes_its_traces_stale(tmp_path: Path) -> None:
    """The inputs fingerprint covers an external runner's files: traces from another runner are not current."""
    backend = _fake(tmp_path, "junk")
    scenarios = [load_scenario(BUILTIN_GUESTS / name) for name in _THREE]
    before = fingerprint(scenarios, BUILTIN_GUESTS / "wit", Limits(), backend.trace_inputs())
    backend.script.write_text(_FAKE_RUNNER + "\n# another runner version\n", encoding="utf-8")
    after = fingerprint(scenarios, BUILTIN_GUESTS / "wit", Limits(), backend.trace_inputs())
    assert before != after
