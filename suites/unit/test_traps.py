"""Failed guest calls normalize to a trap kind and a one-line cause.

The errors are wasmtime's own, raised by running small hand-written components;
the end-to-end cases run fixture scenarios through the harness on each backend.
"""

from __future__ import annotations

import pytest
import wasmtime
from wasmtime.component import Component, Linker

from harness.execute.host_trap import HostTrap
from harness.execute.run import RunContext
from harness.execute.traps import cause_of, classify
from harness.model.trace import Status
from harness.model.vocabulary import TrapKind
from suites.unit.support import FIXTURE_GUESTS, run

#: Drops index 5 of a resource table that has never held anything.
UNKNOWN_HANDLE = """
(component
  (type $r (resource (rep i32)))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "" "drop" (func $drop (param i32)))
    (func (export "run") (result i32) (call $drop (i32.const 5)) (i32.const 0)))
  (core instance $i (instantiate $m (with "" (instance (export "drop" (func $drop))))))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))
"""

#: Creates a resource and drops its handle as another resource type.
WRONG_TYPE = """
(component
  (type $r (resource (rep i32)))
  (type $s (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $s))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "run") (result i32) (call $drop (call $new (i32.const 7))) (i32.const 0)))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new)) (export "drop" (func $drop))))))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))
"""

#: Lends a handle to a nested component that returns without dropping the borrow.
BORROW_OUTSTANDING = """
(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (component $keeper
    (import "r" (type $r (sub resource)))
    (core module $m (func (export "keep") (param i32)))
    (core instance $i (instantiate $m))
    (func (export "keep") (param "x" (borrow $r)) (canon lift (core func $i "keep"))))
  (instance $k (instantiate $keeper (with "r" (type $r))))
  (alias export $k "keep" (func $keep))
  (core func $keep-lowered (canon lower (func $keep)))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "keep" (func $keep (param i32)))
    (func (export "run") (result i32) (call $keep (call $new (i32.const 42))) (i32.const 0)))
  (core instance $i (instantiate $m
    (with "" (instance (export "new" (func $new)) (export "keep" (func $keep-lowered))))))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))
"""

UNREACHABLE = """
(component
  (core module $m (func (export "run") (result i32) unreachable))
  (core instance $i (instantiate $m))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))
"""

SPIN = """
(component
  (core module $m (func (export "run") (result i32) (loop $l (br $l)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))
"""

#: Two core modules whose import and export types disagree: a link error.
MISLINKED = """
(component
  (core module $a (func (export "f") (param i32)))
  (core module $b (import "" "f" (func (param i64))))
  (core instance $ia (instantiate $a))
  (core instance (instantiate $b (with "" (instance $ia)))))
"""


def _failure(text: str, fuel: int | None = None) -> BaseException:
    """The exception calling the component's ``run`` export raises."""
    config = wasmtime.Config()
    config.consume_fuel = fuel is not None
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    if fuel is not None:
        store.set_fuel(fuel)
    instance = Linker(engine).instantiate(store, Component(engine, text))
    func = instance.get_func(store, "run")
    assert func is not None
    try:
        func(store)
    except Exception as error:  # noqa: BLE001 - whatever the call raised is what is under test
        return error
    raise AssertionError("the call did not fail")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param(UNKNOWN_HANDLE, TrapKind.UNKNOWN_HANDLE, id="unknown-handle"),
        pytest.param(WRONG_TYPE, TrapKind.WRONG_TYPE, id="wrong-type"),
        pytest.param(BORROW_OUTSTANDING, TrapKind.BORROW_OUTSTANDING, id="borrow-outstanding"),
        pytest.param(UNREACHABLE, TrapKind.GUEST_TRAP, id="unreachable"),
    ],
)
def test_wasmtime_error_classifies_to_its_kind(text: str, kind: TrapKind) -> None:
    assert classify(_failure(text))[0] is kind


def test_fuel_exhaustion_classifies_as_timeout() -> None:
    assert classify(_failure(SPIN, fuel=10_000))[0] is TrapKind.TIMEOUT


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        pytest.param(UNKNOWN_HANDLE, "unknown handle index 5", id="unknown-handle"),
        pytest.param(BORROW_OUTSTANDING, "borrow handles still remain at the end of the call", id="borrow-outstanding"),
    ],
)
def test_cause_is_the_caused_by_line_without_backtrace(text: str, cause: str) -> None:
    assert classify(_failure(text))[1] == cause


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(UNKNOWN_HANDLE, id="unknown-handle"),
        pytest.param(WRONG_TYPE, id="wrong-type"),
        pytest.param(BORROW_OUTSTANDING, id="borrow-outstanding"),
        pytest.param(UNREACHABLE, id="unreachable"),
    ],
)
def test_cause_is_one_line(text: str) -> None:
    error = _failure(text)
    assert "\n" in str(error)
    assert "\n" not in classify(error)[1]


def test_multi_line_link_error_becomes_one_line_with_both_types() -> None:
    with pytest.raises(wasmtime.WasmtimeError) as raised:
        Component(wasmtime.Engine(), MISLINKED)
    cause = cause_of(str(raised.value))
    assert "\n" not in cause
    assert "expected: (func (param i64)); found: (func (param i32))" in cause


def test_host_trap_keeps_its_kind() -> None:
    assert classify(HostTrap(TrapKind.HAS_CHILDREN, "HasChildren: 1 live child")) == (
        TrapKind.HAS_CHILDREN,
        "HasChildren: 1 live child",
    )


def test_plain_python_exception_is_a_host_error_naming_its_type() -> None:
    assert classify(KeyError("rep 9")) == (TrapKind.HOST_ERROR, "KeyError: 'rep 9'")


# --- end to end: a fixture scenario's first step on each backend -----------------------


@pytest.mark.parametrize(
    ("scenario", "backend", "kind"),
    [
        ("use-after-drop", "real", TrapKind.UNKNOWN_HANDLE),
        ("use-after-drop", "pseudo", TrapKind.UNKNOWN_HANDLE),
        ("wrong-type", "real", TrapKind.WRONG_TYPE),
        ("wrong-type", "pseudo", TrapKind.WRONG_TYPE),
        ("borrow-kept", "real", TrapKind.BORROW_OUTSTANDING),
        ("lent-and-owned", "real", TrapKind.OWN_LENT),
        ("unreachable", "real", TrapKind.GUEST_TRAP),
        ("unreachable", "pseudo", TrapKind.GUEST_TRAP),
        # A HostTrap raised in a host destructor that wasmtime called keeps its kind.
        ("child-alive", "real", TrapKind.HAS_CHILDREN),
        ("child-alive", "pseudo", TrapKind.HAS_CHILDREN),
    ],
)
def test_run_records_the_trap_kind(ctx: RunContext, scenario: str, backend: str, kind: TrapKind) -> None:
    outcome = run(ctx, backend, FIXTURE_GUESTS / scenario).steps[0].outcome
    assert (outcome.status, outcome.trap) == (Status.TRAP, kind)


@pytest.mark.parametrize("scenario", ["borrow-kept", "lent-and-owned"])
def test_pseudo_has_no_borrow_rules_to_break(ctx: RunContext, scenario: str) -> None:
    assert run(ctx, "pseudo", FIXTURE_GUESTS / scenario).steps[0].outcome.status is Status.VALUE
