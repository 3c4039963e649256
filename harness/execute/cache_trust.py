"""Whether a compile-cache directory may be trusted, and the per-user secret that signs its entries.

Loading a cache entry is running native code, so the cache uses only a directory
that no other user can write to (nor swap out through a parent or a link) and
only entries signed with a secret no other user can read. A directory that fails
is refused with one line and the run goes on without a cache: slower, never wrong.
Modes are set explicitly (directories 0700, files 0600), so a permissive umask
cannot open the cache to others.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: The file in the cache directory holding this user's secret.
KEY_FILE = "hmac-key"
SECRET_BYTES = 32
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH
_READABLE_OR_WRITABLE_BY_OTHERS = 0o066
#: The temporaries this module writes: ``.<entry or key file name>.<mkstemp suffix>.tmp``.
_OWN_TEMPORARY = re.compile(r"\.(?:[0-9a-f]{64}\.[a-z]+|" + re.escape(KEY_FILE) + r")\.[a-z0-9_]+\.tmp")


@dataclass(frozen=True)
class Refusal:
    """Why a cache directory is not used; shown as one line, then the run goes on uncached."""

    directory: Path
    reason: str

    def __str__(self) -> str:
        return f"cache: {self.directory} {self.reason}; running without a cache"


@dataclass(frozen=True)
class TrustedDirectory:
    """A cache directory only this user can change, and this user's secret kept in it."""

    path: Path
    secret: bytes = field(repr=False)


class _Untrusted(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def open_cache_dir(directory: Path) -> TrustedDirectory | Refusal:
    """Creates ``directory`` if missing, checks that only this user controls it, and loads (or makes) the secret."""
    uid = os.geteuid()
    try:
        _make_private(directory)
        _check_directory(directory, uid)
        secret = _load_secret(directory / KEY_FILE, uid)
    except _Untrusted as untrusted:
        return Refusal(untrusted.path, untrusted.reason)
    except OSError as error:
        return Refusal(directory, f"cannot be used ({error.strerror or error})")
    return TrustedDirectory(directory, secret)


def _make_private(directory: Path) -> None:
    """Creates ``directory`` and its missing parents as 0700 whatever the umask; existing ones stay as they are."""
    missing = []
    current = directory.absolute()
    while not os.path.lexists(current) and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(DIRECTORY_MODE)
        except FileExistsError:
            continue
        path.chmod(DIRECTORY_MODE)


def _writers(mode: int) -> str:
    return "others" if mode & stat.S_IWOTH else "its group"


def _check_directory(directory: Path, uid: int) -> None:
    """Raises _Untrusted unless only ``uid`` (and root) can change what ``directory`` holds.

    A parent anyone else can write to (without the sticky bit) lets them rename the
    directory away and put their own in its place; so does a link they own.
    """
    absolute = directory.absolute()
    for component in (absolute, *absolute.parents):
        info = component.lstat()
        if stat.S_ISLNK(info.st_mode) and info.st_uid not in (uid, 0):
            raise _Untrusted(directory, f"is reached through {component}, a link owned by uid {info.st_uid}")
    real = absolute.resolve(strict=True)
    info = real.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise _Untrusted(directory, "is not a directory")
    if info.st_uid != uid:
        raise _Untrusted(directory, f"is owned by uid {info.st_uid}, not by this user (uid {uid})")
    if info.st_mode & _WRITABLE_BY_OTHERS:
        raise _Untrusted(directory, f"is writable by {_writers(info.st_mode)}")
    for parent in real.parents:
        info = parent.stat()
        if info.st_uid not in (uid, 0):
            raise _Untrusted(directory, f"is inside {parent}, which is owned by uid {info.st_uid}")
        if info.st_mode & _WRITABLE_BY_OTHERS and not info.st_mode & stat.S_ISVTX:
            raise _Untrusted(directory, f"is inside {parent}, which is writable by {_writers(info.st_mode)}")


def _load_secret(path: Path, uid: int) -> bytes:
    """This user's secret: read from ``path``, or made and stored there when there is none yet."""
    secret = _read_secret(path, uid)
    if secret is None:
        _create_secret(path)
        secret = _read_secret(path, uid)
    if secret is None:
        raise _Untrusted(path, "vanished while being created")
    return secret


def _read_secret(path: Path, uid: int) -> bytes | None:
    """The secret in ``path`` (None if there is no such file) once the file is known to be this user's alone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Untrusted(path, "is a symbolic link") from error
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Untrusted(path, "is not a regular file")
        if info.st_uid != uid:
            raise _Untrusted(path, f"is owned by uid {info.st_uid}, not by this user (uid {uid})")
        if info.st_mode & _READABLE_OR_WRITABLE_BY_OTHERS:
            mode = stat.S_IMODE(info.st_mode)
            raise _Untrusted(path, f"has mode {mode:04o}, so others may know it (delete it to make a new one)")
        secret = handle.read(SECRET_BYTES + 1)
    if len(secret) != SECRET_BYTES:
        raise _Untrusted(path, f"is not a {SECRET_BYTES}-byte key (delete it to make a new one)")
    return secret


def _create_secret(path: Path) -> None:
    """Stores a new secret at ``path`` unless another process just did; never replaces one.

    The key is written whole to a temporary file, then linked to its name: linking
    fails if the name exists, so concurrent first runs agree on one key and no
    reader ever sees half of it.
    """
    temp = _private_temp(path, secrets.token_bytes(SECRET_BYTES), durable=True)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _private_temp(path: Path, data: bytes, durable: bool) -> Path:
    """A new file beside ``path`` holding ``data``, mode 0600 whatever the umask, named as the sweep expects."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink()
        raise
    return Path(name)


def write_private(path: Path, data: bytes) -> None:
    """Replaces ``path`` atomically with ``data``, readable and writable by this user only.

    Not synced: an entry is verified before use, so one torn by a power loss is only a miss.
    """
    temp = _private_temp(path, data, durable=False)
    try:
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def sweep_temporaries(directory: Path, older_than: float) -> int:
    """Deletes this user's cache temporaries last modified before ``older_than`` (epoch seconds).

    A killed writer leaves one behind; a live writer's is recent, so it is left alone.
    Only files of the cache's own naming and owned by this user are touched.
    """
    uid = os.geteuid()
    removed = 0
    try:
        temps = [path for path in directory.iterdir() if _OWN_TEMPORARY.fullmatch(path.name)]
    except OSError:
        return 0
    for temp in temps:
        with contextlib.suppress(OSError):
            info = temp.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_uid == uid and info.st_mtime < older_than:
                temp.unlink()
                removed += 1
    return removed
