"""The fuzzer: generated programs on real backends, the three checks, shrinking, kept findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings

from harness.execute.backends import get_backend
from harness.execute.backends.spec import SpecBackend
from harness.execute.run import RunContext
from harness.execute.spec_table import HandleElem, Layout, ResourceType, SpecTables, Table
from harness.fuzz.campaign import Fuzzer, search_chunk
from harness.fuzz.checks import Check
from harness.fuzz.generate import programs
from harness.fuzz.program import Code, Instruction, Program
from harness.model.paths import PROJECT_ROOT
from harness.model.scenario import load_scenario
from suites.unit.support import error_lines, run_cli

WIT = PROJECT_ROOT / "guests" / "wit"


@pytest.fixture(scope="module")
def ctx() -> Iterator[RunContext]:
    with RunContext(WIT, cache_dir=None) as context:
        yield context


@pytest.fixture(scope="module")
def fuzzer(ctx: RunContext, tmp_path_factory: pytest.TempPathFactory) -> Fuzzer:
    backends = {name: get_backend(name) for name in ("pseudo", "spec", "real")}
    return Fuzzer(ctx, backends, tmp_path_factory.mktemp("fuzz"))


@settings(derandomize=True, max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(program=programs())
def test_generated_programs_pass_the_three_checks(fuzzer: Fuzzer, program: Program) -> None:
    failures, _, _ = fuzzer.check(program)
    assert [f.line() for f in failures] == []


class _FifoTable(Table):
    """Hands out the slot freed first instead of the one freed last (CanonicalABI.md: last freed first)."""

    def add(self, element: HandleElem) -> int:
        if self.free:
            i = self.free.pop(0)
            self.array[i] = element
            return i
        return super().add(element)


class _FifoTables(SpecTables):
    def table(self, inst: str, rt: ResourceType) -> Table:
        found = super().table(inst, rt)
        found.__class__ = _FifoTable
        return found


class _FifoSpec(SpecBackend):
    """``spec`` with its free list turned from LIFO into FIFO: a deliberately wrong implementation."""

    name: ClassVar[str] = "spec-fifo"

    def new_tables(self, components: list[str]) -> SpecTables:
        return _FifoTables(Layout.SINGLE, components)


def test_a_wrong_backend_is_caught_and_shrunk_to_a_few_operations(ctx: RunContext, tmp_path: Path) -> None:
    fuzzer = Fuzzer(ctx, {"spec": get_backend("spec"), "spec-fifo": _FifoSpec()}, tmp_path)
    found = search_chunk(fuzzer, 400, 1)
    assert found is not None
    assert (found.failure.check, found.failure.backends, len(found.program.steps) <= 6) == (
        Check.SPEC,
        ("spec-fifo", "spec"),
        True,
    )


def test_a_kept_finding_loads_as_a_scenario(ctx: RunContext, tmp_path: Path) -> None:
    from harness.fuzz.keep import keep

    fuzzer = Fuzzer(ctx, {"spec": get_backend("spec"), "spec-fifo": _FifoSpec()}, tmp_path / "work")
    program = Program(
        2,
        (
            Instruction("a", Code.OPEN_IN, 0),
            Instruction("a", Code.OPEN_IN, 1),
            Instruction("a", Code.DROP_IN, 0),
            Instruction("a", Code.DROP_IN, 1),
            Instruction("a", Code.OPEN_IN, 2),
            Instruction("a", Code.SHOW, 2),
        ),
    )
    failures, _, _ = fuzzer.check(program)
    scenario = load_scenario(keep(fuzzer, program, failures[0], tmp_path / "kept"))
    last = scenario.steps[-1]
    # real: slots 1 and 2 freed, 2 last, so LIFO reuses 2; pseudo: keys 3 and 4 freed, the next key is 5.
    expected = [scenario.expectation(last, backend) for backend in ("real", "pseudo")]
    assert [e.short() if e else None for e in expected] == ["value 2", "value 5"]


def test_fuzz_refuses_a_shard_outside_the_split(tmp_path: Path) -> None:
    completed = run_cli("fuzz", "--programs", "10", "--shard", "3/2", "--reports", str(tmp_path), cache=tmp_path)
    assert (completed.returncode, error_lines(completed)) == (
        2,
        ["error: --shard: shard '3/2': expected i/N with 1 <= i <= N"],
    )
