"""A host bug is classified ``other``, never as a handle category (real wasm runs).

Each backend here is a shipped one with one host behaviour broken. Run against its
unmodified sibling, the handle model is the same on both sides, so no handle rule
can explain the difference: the differ must leave it to ``other``, the category that
says "investigate the host", even when the guest narrates drops or handles.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from harness.compare.diff import ScenarioDiff, diff_traces
from harness.execute.backends import Backend
from harness.execute.backends.host import StreamHost
from harness.execute.backends.pseudo import PseudoBackend
from harness.execute.backends.real import RealBackend
from harness.execute.run import RunContext, run_scenario
from harness.model.paths import BUILTIN_GUESTS
from harness.model.scenario import load_all, load_scenario
from harness.model.wit import Function, WitPackage

READ = "[method]input-stream.read"


class CorruptReadPseudoBackend(PseudoBackend):
    """Pseudo-handles from a host whose reads of the second input stream it opened come back with a bit flipped."""

    name: ClassVar[str] = "pseudo-corrupt-read"
    expectations_from: ClassVar[str | None] = "pseudo"

    def _adapt(self, impl: Any, wit: WitPackage, fn: Function, table: Any, caller: str, host: StreamHost) -> Any:
        if fn.name != READ:
            return super()._adapt(impl, wit, fn, table, caller, host)

        def read(rep: int, length: int) -> bytes | str:
            answer: bytes | str = impl(rep, length)
            opened = [e.rep for e in host.events if (e.kind, e.resource) == ("create", "input-stream")]
            if isinstance(answer, bytes) and answer and opened[1:2] == [rep]:
                return bytes([answer[0] ^ 0x20]) + answer[1:]
            return answer

        return super()._adapt(read, wit, fn, table, caller, host)


class DoubleDestructorRealBackend(RealBackend):
    """Real handles from a host whose resource destructor runs twice for every drop."""

    name: ClassVar[str] = "real-double-destructor"
    expectations_from: ClassVar[str | None] = "real"

    @staticmethod
    def _destructor(host: StreamHost, resource: str) -> Any:
        def destructor(_store: Any, rep: int) -> None:
            host.destroy(resource, rep)
            host.destroy(resource, rep)

        return destructor


def _diff(ctx: RunContext, scenario: str, faulty: Backend, sibling: Backend) -> ScenarioDiff:
    loaded = load_scenario(BUILTIN_GUESTS / scenario)
    return diff_traces(run_scenario(ctx, sibling, loaded), run_scenario(ctx, faulty, loaded))


def test_a_flipped_byte_in_one_stream_read_is_other(ctx: RunContext) -> None:
    result = _diff(ctx, "host-destructor-on-drop", CorruptReadPseudoBackend(), PseudoBackend())
    first = result.first
    assert first is not None
    # The read of the second stream (step 2) already differs: its call event digests the flipped
    # bytes the guest got back, although the value (2 bytes read) is the same on both sides.
    assert (first.step, first.left, first.right, result.categories) == (1, "value 2", "value 2", ("other",))
    assert first.detail.startswith("the host answered the same request differently")


def test_a_destructor_run_twice_is_other(ctx: RunContext) -> None:
    result = _diff(ctx, "host-destructor-on-drop", DoubleDestructorRealBackend(), RealBackend())
    first = result.first
    assert first is not None
    assert (first.step, first.right, result.categories) == (2, "trap host-error", ("other",))


@pytest.mark.parametrize(
    ("faulty", "sibling"),
    [(CorruptReadPseudoBackend, PseudoBackend), (DoubleDestructorRealBackend, RealBackend)],
    ids=["corrupt-read", "double-destructor"],
)
def test_every_scenario_a_faulty_host_changes_is_other(
    ctx: RunContext, faulty: type[Backend], sibling: type[Backend]
) -> None:
    scenarios, errors = load_all(BUILTIN_GUESTS)
    assert not errors
    changed: dict[str, tuple[str, ...]] = {}
    for scenario in scenarios:
        result = diff_traces(run_scenario(ctx, sibling(), scenario), run_scenario(ctx, faulty(), scenario))
        if not result.same:
            changed[scenario.name] = result.categories
    assert changed
    assert {name: categories for name, categories in changed.items() if categories != ("other",)} == {}
