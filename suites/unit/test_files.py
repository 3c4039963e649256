"""Atomic writes: the target holds the old content or the new, and no temporary file is left."""

from __future__ import annotations

from pathlib import Path

from harness.model.files import write_atomic


def test_write_creates_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "traces" / "real.json"
    write_atomic(target, "{}\n")
    assert target.read_text(encoding="utf-8") == "{}\n"


def test_write_replaces_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old, and longer than the new content", encoding="utf-8")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"


def test_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_atomic(tmp_path / "real.json", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["real.json"]


def test_written_files_get_the_mode_a_plain_open_would(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    atomic = tmp_path / "atomic"
    write_atomic(atomic, "x")
    assert atomic.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
