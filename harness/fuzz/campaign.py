"""A fuzzing campaign: generated programs run on every backend asked for, checked, failures shrunk.

The campaign is cut into chunks of ``CHUNK`` programs; chunk ``k`` is searched by hypothesis
with the seed ``seed * 1_000_003 + k`` and belongs to shard ``k % shards``, so several
processes or machines split one campaign (``--shard i/N``) and together run exactly the
programs one process would. Within a chunk, the first program that fails a check is shrunk
by hypothesis (keeping the same check and the same kind of failure) and the chunk ends
there. Each shard writes ``shard-<i>-of-<N>.json``; ``merge`` keeps, per kind of failure,
the smallest program any shard found and writes it as a scenario folder.
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from harness.compare.diff import diff_traces
from harness.execute.backends.base import Backend
from harness.execute.run import RunContext, run_scenario
from harness.fuzz.checks import PSEUDO, REAL, Failure, check_all
from harness.fuzz.generate import programs
from harness.fuzz.labels import Labelled, label
from harness.fuzz.program import Code, Instruction, Program
from harness.fuzz.scenario import in_memory, write_cores
from harness.model.files import write_atomic
from harness.model.trace import Trace

CHUNK = 100
#: Runs between garbage collections: a finished run's store sits in reference cycles, and each keeps
#: gigabytes of address space reserved for its memories until collected (``Cannot allocate memory``).
COLLECT_EVERY = 64
#: Backends that are models (checked by (b) or used as the reference), not implementations under test.
MODELS = frozenset({"spec", "spec-per-type", "pseudo", "pseudo-reuse", "pseudo-tagged"})


@dataclass
class Stats:
    """What a campaign did: programs, time per backend, first divergences between pseudo and real."""

    programs: int = 0
    shrink_runs: int = 0
    seconds: float = 0.0
    backend_seconds: dict[str, float] = field(default_factory=dict)
    divergences: Counter[str] = field(default_factory=Counter)

    def rate(self) -> float:
        return self.programs / self.seconds if self.seconds else 0.0

    def line(self, findings: int) -> str:
        cats = ", ".join(f"{c} {n}" for c, n in sorted(self.divergences.items())) or "none"
        return f"{self.programs} programs, {self.rate():.0f}/s; first divergences: {cats}; findings: {findings}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "programs": self.programs,
            "shrink_runs": self.shrink_runs,
            "divergences": dict(sorted(self.divergences.items())),
        }


@dataclass(frozen=True)
class Finding:
    """A failed check and the shrunk program that shows it."""

    failure: Failure
    program: Program

    @property
    def key(self) -> str:
        return f"{self.failure.check}:{'-'.join(self.failure.backends)}:{self.failure.key}"

    def to_dict(self) -> dict[str, Any]:
        f = self.failure
        return {
            "key": self.key,
            "check": f.check.value,
            "backends": list(f.backends),
            "step": f.step,
            "detail": f.detail,
            "failure_key": f.key,
            "program": program_dict(self.program),
        }


def program_dict(program: Program) -> dict[str, Any]:
    return {
        "length": program.length,
        "steps": [[s.component, int(s.code), s.register, s.operand] for s in program.steps],
    }


def program_from(data: Mapping[str, Any]) -> Program:
    steps = tuple(Instruction(c, Code(code), r, x) for c, code, r, x in data["steps"])
    return Program(int(data["length"]), steps)


class Fuzzer:
    """Runs programs on a set of backends in one run context and checks them."""

    def __init__(self, ctx: RunContext, backends: Mapping[str, Backend], workspace: Path) -> None:
        self.ctx = ctx
        self.backends = dict(backends)
        self.workspace = workspace
        self.implementations = tuple(name for name in self.backends if name not in MODELS)
        self.stats = Stats()
        self.runs = 0
        write_cores(workspace)

    def traces(self, program: Program) -> dict[str, Trace]:
        self.runs += 1
        if self.runs % COLLECT_EVERY == 0:
            gc.collect()
        scenario = in_memory(program, self.workspace)
        traces = {}
        for name, backend in self.backends.items():
            start = time.perf_counter()
            traces[name] = run_scenario(self.ctx, backend, scenario)
            spent = time.perf_counter() - start
            self.stats.backend_seconds[name] = self.stats.backend_seconds.get(name, 0.0) + spent
        return traces

    def check(self, program: Program) -> tuple[list[Failure], Labelled, dict[str, Trace]]:
        labelled = label(program)
        traces = self.traces(program)
        return check_all(traces, labelled, self.implementations), labelled, traces

    def count_divergence(self, traces: Mapping[str, Trace]) -> None:
        if PSEUDO in traces and REAL in traces:
            first = diff_traces(traces[PSEUDO], traces[REAL]).first
            self.stats.divergences[first.category.value if first else "same"] += 1


class _Found(Exception):
    """Raised inside the hypothesis search; its class stands for one kind of failure."""

    def __init__(self, failure: Failure, program: Program) -> None:
        super().__init__(failure.line())
        self.failure, self.program = failure, program


_KINDS: dict[str, type[_Found]] = {}


def _kind(failure: Failure) -> type[_Found]:
    """One exception class per kind of failure, so shrinking keeps the check and the kind."""
    key = f"{failure.check}|{'|'.join(failure.backends)}|{failure.key}"
    if key not in _KINDS:
        _KINDS[key] = type(f"Found_{len(_KINDS)}", (_Found,), {})
    return _KINDS[key]


def search_chunk(fuzzer: Fuzzer, size: int, chunk_seed: int, max_steps: int | None = None) -> Finding | None:
    """Runs ``size`` generated programs; the first failing one is shrunk and returned."""
    shrinking = False

    @settings(
        max_examples=size,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )
    @hypothesis_seed(chunk_seed)
    @given(programs() if max_steps is None else programs(max_steps))
    def search(program: Program) -> None:
        nonlocal shrinking
        if shrinking:
            fuzzer.stats.shrink_runs += 1
        else:
            fuzzer.stats.programs += 1
        failures, _, traces = fuzzer.check(program)
        if not shrinking:
            fuzzer.count_divergence(traces)
        if failures:
            shrinking = True
            raise _kind(failures[0])(failures[0], program)

    try:
        search()
    except _Found as found:
        return minimal(fuzzer, Finding(found.failure, found.program))
    return None


def minimal(fuzzer: Fuzzer, finding: Finding) -> Finding:
    """``finding`` with every step removed whose removal keeps the same kind of failure.

    Hypothesis shrinks by the choices it drew; a pass over the steps themselves then makes the
    program 1-minimal: no single step can go.
    """
    kind = _kind(finding.failure)
    program, failure = finding.program, finding.failure
    index = 0
    while index < len(program.steps):
        shorter = Program(program.length, program.steps[:index] + program.steps[index + 1 :])
        fuzzer.stats.shrink_runs += 1
        failures = fuzzer.check(shorter)[0] if shorter.steps else []
        if failures and _kind(failures[0]) is kind:
            program, failure = shorter, failures[0]
        else:
            index += 1
    return Finding(failure, program)


def shard_of(text: str) -> tuple[int, int]:
    """``i/N`` (1-based) as (i, N); ValueError says what is wrong."""
    index, _, count = text.partition("/")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise ValueError(f"shard {text!r}: expected i/N with 1 <= i <= N")
    return i, n


def run_campaign(
    fuzzer: Fuzzer,
    total: int,
    seed: int,
    shard: tuple[int, int] = (1, 1),
    progress: Callable[[str], None] | None = None,
) -> list[Finding]:
    """Searches this shard's chunks of a ``total``-program campaign; the findings, one per kind."""
    index, count = shard
    start = time.perf_counter()
    findings: dict[str, Finding] = {}
    chunks = (total + CHUNK - 1) // CHUNK
    for chunk in range(chunks):
        if chunk % count != index - 1:
            continue
        size = min(CHUNK, total - chunk * CHUNK)
        found = search_chunk(fuzzer, size, seed * 1_000_003 + chunk)
        if found is not None:
            findings[found.key] = _smaller(findings.get(found.key), found)
        fuzzer.stats.seconds = time.perf_counter() - start
        if progress is not None:
            progress(f"shard {index}/{count}, chunk {chunk + 1}/{chunks}: {fuzzer.stats.line(len(findings))}")
    fuzzer.stats.seconds = time.perf_counter() - start
    return [findings[k] for k in sorted(findings)]


def _smaller(old: Finding | None, new: Finding) -> Finding:
    """The finding with the shorter program (then the smaller text): merging does not depend on order."""
    if old is None:
        return new
    return min(old, new, key=lambda f: (len(f.program.steps), json.dumps(program_dict(f.program))))


def write_shard(
    folder: Path, shard: tuple[int, int], seed: int, total: int, stats: Stats, found: Sequence[Finding]
) -> Path:
    """This shard's findings and figures, as deterministic JSON (no times)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"shard-{shard[0]}-of-{shard[1]}.json"
    data = {
        "backends": sorted(stats.backend_seconds),
        "seed": seed,
        "programs": total,
        "shard": list(shard),
        "stats": stats.to_dict(),
        "findings": [f.to_dict() for f in found],
    }
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
