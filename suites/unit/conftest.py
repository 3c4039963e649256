"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.execute.run import RunContext
from harness.model.paths import BUILTIN_GUESTS


@pytest.fixture(scope="session")
def ctx() -> Iterator[RunContext]:
    """One engine and compile cache for every in-process run of a test session."""
    context = RunContext(BUILTIN_GUESTS / "wit")
    yield context
    context.close()
