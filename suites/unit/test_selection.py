"""Which backends each command works on when it is told, and when it is not."""

from __future__ import annotations

import pytest

from harness.model.errors import InputError
from harness.present.selection import Selection, select

REGISTERED = ("pseudo", "pseudo-reuse", "real", "theirs", "runtime")
SHIPPED = ("pseudo", "pseudo-reuse", "real", "runtime")
NOT_HERE = {"runtime": "runtime is not installed"}


def _select(
    command: str,
    traced: tuple[str, ...] = (),
    backends: list[str] | None = None,
    left: str | None = None,
    right: str | None = None,
) -> Selection:
    return select(
        command,
        registered=REGISTERED,
        shipped=SHIPPED,
        traced=traced,
        unavailable=NOT_HERE,
        backends=backends,
        left=left,
        right=right,
    )


def test_gate_with_no_option_judges_every_shipped_backend_that_runs_here_against_real() -> None:
    selection = _select("gate")
    assert (selection.compared, selection.reference, selection.skipped) == (
        ("pseudo", "pseudo-reuse"),
        "real",
        (("runtime", "runtime is not installed"),),
    )


def test_report_with_no_option_adds_any_backend_whose_traces_are_there() -> None:
    assert _select("report", traced=("theirs", "runtime")).backends == (
        "pseudo",
        "pseudo-reuse",
        "real",
        "runtime",
        "theirs",
    )


def test_diff_with_no_option_takes_the_traced_backends() -> None:
    assert _select("diff", traced=("pseudo-reuse", "real")).compared == ("pseudo-reuse",)


def test_left_and_right_mean_one_backend_and_the_reference() -> None:
    selection = _select("gate", left="pseudo-reuse", right="pseudo")
    assert (selection.backends, selection.reference) == (("pseudo-reuse", "pseudo"), "pseudo")


def test_the_reference_joins_the_list_when_it_is_not_named() -> None:
    assert _select("gate", backends=["pseudo-reuse"]).backends == ("pseudo-reuse", "real")


def test_a_list_of_only_the_reference_is_refused() -> None:
    with pytest.raises(InputError, match="at least one backend besides the reference 'real'"):
        _select("gate", backends=["real"])


def test_run_with_no_option_runs_every_shipped_backend_that_runs_here() -> None:
    assert _select("run").backends == ("pseudo", "pseudo-reuse", "real")
