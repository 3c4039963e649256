"""On-disk cache of compiled core modules and components.

Compilation dominates a run (about 1 ms per small component against 35 µs to
deserialize), so compiled code is kept per user, keyed by what decides it: the
content (core wasm bytes or component text), the wasmtime version, the machine
and the engine settings that change generated code.

``deserialize`` trusts its input: wasmtime maps the bytes as executable code.
The key is computable from public data, so anyone who can write to the directory
could plant an entry for it. Hence the directory must be this user's alone (see
``cache_trust``), and an entry is only handed to wasmtime when its header names
this exact key and carries an HMAC of header and payload under this user's
secret; anything else (truncated, flipped, written by another wasmtime, for
another key or by someone without the secret) is recompiled and overwritten.
Entries are written atomically, so concurrent writers (``pytest -n auto``) and a
killed process leave the old entry, a new one, or none.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import hmac
import os
import platform
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import wasmtime
from wasmtime.component import Component

from harness.execute.cache_trust import Refusal, open_cache_dir, sweep_temporaries, write_private

CACHE_DIR_ENV = "HANDLE_COMPAT_CACHE_DIR"
MAGIC = b"hc-cache"
#: 1 carried a plain sha256 of the payload, which anyone can compute; 2 carries an HMAC.
FORMAT_VERSION = 2
#: magic, format version, key (sha256), payload length; the HMAC-SHA256 follows.
_FIELDS = struct.Struct("<8sH32sQ")
MAC_SIZE = hashlib.sha256().digest_size
HEADER_SIZE = _FIELDS.size + MAC_SIZE

#: A writer's temporary file older than this was left by a killed process.
STALE_TEMP_SECONDS = 3600

_T = TypeVar("_T", wasmtime.Module, Component)


class ArtifactKind(enum.StrEnum):
    MODULE = "module"
    COMPONENT = "component"


def default_cache_dir() -> Path:
    """``$HANDLE_COMPAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/handle-compat``, else ``~/.cache/handle-compat``."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "handle-compat"


def cache_dir_option(text: str) -> Path:
    """The ``--cache-dir`` value of the CLI and the pytest plugin.

    An empty value would mean the current directory; that is never what was meant.
    """
    if not text:
        raise argparse.ArgumentTypeError("is empty: name a directory, or use --no-cache")
    return Path(text)


def resolve_cache_dir(explicit: Path | None, disabled: bool) -> Path | None:
    """The cache directory a run uses: None when disabled, the explicit one, else the default."""
    if disabled:
        return None
    return explicit if explicit is not None else default_cache_dir()


@dataclass(frozen=True)
class EngineSettings:
    """The engine configuration that changes compiled code, hence part of every cache key."""

    epoch_interruption: bool = True
    consume_fuel: bool = False

    def config(self) -> wasmtime.Config:
        config = wasmtime.Config()
        config.epoch_interruption = self.epoch_interruption
        config.consume_fuel = self.consume_fuel
        return config

    def engine(self) -> wasmtime.Engine:
        return wasmtime.Engine(self.config())

    def fingerprint(self) -> str:
        """Everything besides the content that a compiled artifact depends on."""
        return (
            f"wasmtime={version('wasmtime')};machine={platform.machine()};system={platform.system()};"
            f"epoch-interruption={int(self.epoch_interruption)};consume-fuel={int(self.consume_fuel)}"
        )


@dataclass
class CacheStats:
    #: Artifacts compiled from source in this process (cache misses and bypasses).
    compiled: int = 0
    #: Artifacts deserialized from a verified entry.
    loaded: int = 0
    #: Entries found but refused (bad header, wrong key, MAC mismatch, refused by wasmtime).
    rejected: int = 0
    #: Entries that could not be written (read-only or full disk); the run goes on without them.
    write_failures: int = 0


def _mac(secret: bytes, fields: bytes, payload: bytes) -> bytes:
    mac = hmac.new(secret, fields, hashlib.sha256)
    mac.update(payload)
    return mac.digest()


def encode_entry(secret: bytes, key: bytes, payload: bytes) -> bytes:
    """An entry's bytes: the header (naming ``key``, signed with ``secret`` together with the payload), the payload."""
    fields = _FIELDS.pack(MAGIC, FORMAT_VERSION, key, len(payload))
    return fields + _mac(secret, fields, payload) + payload


def decode_entry(secret: bytes, key: bytes, blob: bytes) -> bytes | None:
    """The payload of an entry written for ``key`` by a holder of ``secret``, or None if it is not exactly that."""
    if len(blob) < HEADER_SIZE:
        return None
    fields = blob[: _FIELDS.size]
    magic, fmt, entry_key, length = _FIELDS.unpack(fields)
    payload = blob[HEADER_SIZE:]
    if magic != MAGIC or fmt != FORMAT_VERSION or entry_key != key or length != len(payload):
        return None
    if not hmac.compare_digest(_mac(secret, fields, payload), blob[_FIELDS.size : HEADER_SIZE]):
        return None
    return payload


@dataclass
class CompileCache:
    """Compiles through ``directory`` (None: compile every time, in-process reuse only).

    Every artifact is also kept in memory for the life of the object, so a
    process compiles or loads each one once. A directory that is not this user's
    alone is refused: ``refusal`` says why (also printed as one line to stderr)
    and ``directory`` becomes None, so the run goes on uncached.
    """

    engine: wasmtime.Engine
    settings: EngineSettings
    directory: Path | None
    stats: CacheStats = field(default_factory=CacheStats)
    refusal: Refusal | None = field(init=False, default=None)
    _memory: dict[bytes, wasmtime.Module | Component] = field(default_factory=dict)
    _fingerprint: str = field(init=False)
    _secret: bytes = field(init=False, default=b"", repr=False)

    def __post_init__(self) -> None:
        self._fingerprint = self.settings.fingerprint()
        if self.directory is None:
            return
        opened = open_cache_dir(self.directory)
        if isinstance(opened, Refusal):
            print(opened, file=sys.stderr)
            self.refusal, self.directory = opened, None
            return
        self._secret = opened.secret
        sweep_temporaries(self.directory, time.time() - STALE_TEMP_SECONDS)

    def key(self, kind: ArtifactKind, content: bytes) -> bytes:
        seed = f"handle-compat-cache\0{kind.value}\0{self._fingerprint}\0".encode()
        return hashlib.sha256(seed + hashlib.sha256(content).digest()).digest()

    def entry_path(self, kind: ArtifactKind, content: bytes) -> Path | None:
        """Where the entry for ``content`` lives, or None without a cache directory."""
        return self._path(kind, self.key(kind, content))

    def _path(self, kind: ArtifactKind, key: bytes) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{key.hex()}.{kind.value}"

    def module(self, wasm: bytes) -> wasmtime.Module:
        """The compiled core module for ``wasm``; raises WasmtimeError if it does not validate."""
        return self._get(
            ArtifactKind.MODULE,
            wasm,
            lambda: wasmtime.Module(self.engine, wasm),
            lambda payload: wasmtime.Module.deserialize(self.engine, payload),
            wasmtime.Module,
        )

    def component(self, text: str) -> Component:
        """The compiled component for component-model ``text``; raises WasmtimeError if it does not link."""
        return self._get(
            ArtifactKind.COMPONENT,
            text.encode("utf-8"),
            lambda: Component(self.engine, text),
            lambda payload: Component.deserialize(self.engine, payload),
            Component,
        )

    def _get(
        self,
        kind: ArtifactKind,
        content: bytes,
        compile_it: Callable[[], _T],
        load: Callable[[bytes], _T],
        expected: type[_T],
    ) -> _T:
        key = self.key(kind, content)
        cached = self._memory.get(key)
        if isinstance(cached, expected):
            return cached
        path = self._path(kind, key)
        artifact = self._load(path, key, load) if path is not None else None
        if artifact is None:
            artifact = compile_it()
            self.stats.compiled += 1
            if path is not None:
                self._store(path, key, artifact.serialize())
        self._memory[key] = artifact
        return artifact

    def _load(self, path: Path, key: bytes, load: Callable[[bytes], _T]) -> _T | None:
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        payload = decode_entry(self._secret, key, blob)
        if payload is None:
            self.stats.rejected += 1
            return None
        try:
            artifact = load(payload)
        except wasmtime.WasmtimeError:
            # Verified bytes this engine still refuses (a setting outside the key).
            self.stats.rejected += 1
            return None
        self.stats.loaded += 1
        return artifact

    def _store(self, path: Path, key: bytes, payload: bytes | bytearray) -> None:
        try:
            write_private(path, encode_entry(self._secret, key, bytes(payload)))
        except OSError:
            self.stats.write_failures += 1
