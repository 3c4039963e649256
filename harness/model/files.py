"""Atomic file writes: a reader sees the old complete file or the new one, never half."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from pathlib import Path

from harness.model.errors import InputError

#: Age after which a ``write_atomic`` temporary is taken as left by a killed process; a
#: write in progress (another worker writing the same file) holds its own for milliseconds.
STALE_TEMP_SECONDS = 3600
#: ``.<name>.<8 random characters>.tmp``: the names ``write_atomic`` gives its temporaries.
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def write_atomic(path: Path, data: str | bytes, durable: bool = True) -> None:
    """Writes to a temporary file in the same folder, syncs it, then renames it over ``path``.

    ``durable=False`` skips the sync: a killed process still leaves the old file
    or the new one, but after a power loss the new one may be empty or torn, so
    only data that is verified on read (a checksummed cache entry) may skip it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open would.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    sweep_stale_temporaries(path.parent, time.time() - STALE_TEMP_SECONDS)


def sweep_stale_temporaries(folder: Path, older_than: float) -> int:
    """Deletes what a killed ``write_atomic`` left in ``folder``; returns how many files went.

    Only files of its own naming, owned by this user and last modified before
    ``older_than`` (epoch seconds): someone else's files, and a write in progress, stay.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        if not _TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and info.st_mtime < older_than:
                Path(entry.path).unlink()
                removed += 1
        except OSError:
            continue
    return removed


def check_writable_folder(folder: Path, option: str) -> None:
    """Refuses, before any work is done, a folder that outputs cannot be written to.

    Found only when the first file is written, a path that is a file, a folder that
    cannot be created or a read-only one would lose a whole run. ``option`` names
    where the folder came from (``--reports``). Creates the folder when it is missing.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, f"{option}: not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(folder, f"{option}: cannot create the folder: {err.strerror}") from err
    try:
        # Trying is the only sure test: permission bits say nothing to root or on a read-only mount.
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.", suffix=".tmp")
        os.close(fd)
        Path(probe).unlink()
    except OSError as err:
        raise InputError(folder, f"{option}: cannot write files in the folder: {err.strerror}") from err


def _umask() -> int:
    """The process umask (reading it means setting it, so set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
