"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.paths import BUILTIN_GUESTS
from harness.run import RunContext


@pytest.fixture(scope="session")
def ctx() -> Iterator[RunContext]:
    """One engine and compile cache for every in-process run of a test session."""
    context = RunContext(BUILTIN_GUESTS / "wit")
    yield context
    context.close()
