"""InputError renders as ``path:line: message`` so editors and CI logs can jump to it."""

from __future__ import annotations

from pathlib import Path

from harness.model.errors import InputError


def test_error_with_a_line_renders_path_line_message() -> None:
    assert str(InputError(Path("guests/x/scenario.toml"), "unknown key 'when'", 7)) == (
        "guests/x/scenario.toml:7: unknown key 'when'"
    )


def test_error_without_a_line_renders_path_message() -> None:
    assert str(InputError(Path("a.wat"), "cannot read core module")) == "a.wat: cannot read core module"
