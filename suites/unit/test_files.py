"""Atomic writes: the target holds the old content or the new, no temporary file is left, and what a
killed write left is swept by the next write to the folder; output folders checked before use."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from harness.model.errors import InputError
from harness.model.files import STALE_TEMP_SECONDS, check_writable_folder, write_atomic


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


# --- temporaries a killed write left behind ----------------------------------------------------


def _left_behind(folder: Path, name: str, age_s: float) -> Path:
    """A temporary as ``write_atomic`` names it (``mkstemp``, same prefix and suffix), last modified ``age_s`` ago."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    when = time.time() - age_s
    os.utime(temp, (when, when))
    return Path(temp)


def test_next_write_to_the_folder_removes_a_stale_temporary(tmp_path: Path) -> None:
    stale = _left_behind(tmp_path, "gate.json", STALE_TEMP_SECONDS + 60)
    write_atomic(tmp_path / "gate.xml", "x")
    assert not stale.exists()


def test_a_recent_temporary_is_a_write_in_progress_and_stays(tmp_path: Path) -> None:
    recent = _left_behind(tmp_path, "gate.json", 5)
    write_atomic(tmp_path / "gate.xml", "x")
    assert recent.exists()


@pytest.mark.parametrize("name", [".notes.tmp", "gate.json.tmp", ".gate.json.abc.tmp", ".gate.json.abcdefgh.txt"])
def test_files_of_another_naming_stay(tmp_path: Path, name: str) -> None:
    other = tmp_path / name
    other.write_text("mine", encoding="utf-8")
    old = time.time() - STALE_TEMP_SECONDS * 2
    os.utime(other, (old, old))
    write_atomic(tmp_path / "gate.xml", "x")
    assert other.read_text(encoding="utf-8") == "mine"


def test_a_symlink_named_like_a_temporary_stays_and_so_does_its_target(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "precious"
    target.parent.mkdir()
    target.write_text("keep", encoding="utf-8")
    link = tmp_path / ".gate.json.abcd1234.tmp"
    link.symlink_to(target)
    old = time.time() - STALE_TEMP_SECONDS * 2
    os.utime(link, (old, old), follow_symlinks=False)
    write_atomic(tmp_path / "gate.xml", "x")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "keep"


def test_another_users_temporary_stays(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can make a file another user owns")
    theirs = _left_behind(tmp_path, "gate.json", STALE_TEMP_SECONDS * 2)
    os.chown(theirs, 65534, 65534)
    write_atomic(tmp_path / "gate.xml", "x")
    assert theirs.exists()


# --- folders outputs go to ---------------------------------------------------------------------


def test_a_missing_output_folder_is_created(tmp_path: Path) -> None:
    check_writable_folder(tmp_path / "a" / "b", "--reports")
    assert (tmp_path / "a" / "b").is_dir() and list((tmp_path / "a" / "b").iterdir()) == []


def test_an_output_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="--reports: not a folder"):
        check_writable_folder(tmp_path / "f", "--reports")
