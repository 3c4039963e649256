"""The compiled-code cache: hits skip compilation, bad entries are recompiled, writers do not clash."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from harness.execute.cache import (
    CACHE_DIR_ENV,
    HEADER_SIZE,
    ArtifactKind,
    CompileCache,
    EngineSettings,
    decode_entry,
    default_cache_dir,
    encode_entry,
    resolve_cache_dir,
    sweep_temporaries,
)
from suites.unit.support import BASELINE, run_cli

SETTINGS = EngineSettings()


def component_text(number: int) -> str:
    """A small component whose export returns ``number``: one text, one cache key."""
    return f"""(component
  (core module $m (func (export "f") (result i32) i32.const {number}))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f"))))"""


def module_wasm(number: int) -> bytes:
    return bytes(wasmtime.wat2wasm(f'(module (func (export "f") (result i32) i32.const {number}))'))


def new_cache(directory: Path | None, settings: EngineSettings = SETTINGS) -> CompileCache:
    """A cache as a fresh process has it: its own engine, nothing in memory."""
    return CompileCache(settings.engine(), settings, directory)


def call_component(cache: CompileCache, text: str) -> int:
    component = cache.component(text)
    store = wasmtime.Store(cache.engine)
    store.set_epoch_deadline(1)
    instance = wasmtime.component.Linker(cache.engine).instantiate(store, component)
    func = instance.get_func(store, "f")
    assert func is not None
    return int(func(store))


def entry_of(cache: CompileCache, text: str) -> Path:
    path = cache.entry_path(ArtifactKind.COMPONENT, text.encode())
    assert path is not None
    return path


def test_a_new_cache_object_loads_a_component_instead_of_compiling(tmp_path: Path) -> None:
    new_cache(tmp_path).component(component_text(1))
    second = new_cache(tmp_path)
    second.component(component_text(1))
    assert (second.stats.compiled, second.stats.loaded) == (0, 1)


def test_a_loaded_component_runs(tmp_path: Path) -> None:
    new_cache(tmp_path).component(component_text(7))
    assert call_component(new_cache(tmp_path), component_text(7)) == 7


def test_a_new_cache_object_loads_a_core_module_instead_of_compiling(tmp_path: Path) -> None:
    new_cache(tmp_path).module(module_wasm(2))
    second = new_cache(tmp_path)
    second.module(module_wasm(2))
    assert (second.stats.compiled, second.stats.loaded) == (0, 1)


def test_a_hit_leaves_the_entry_file_untouched(tmp_path: Path) -> None:
    first = new_cache(tmp_path)
    first.component(component_text(3))
    entry = entry_of(first, component_text(3))
    before = (entry.read_bytes(), entry.stat().st_mtime_ns, entry.stat().st_ino)
    new_cache(tmp_path).component(component_text(3))
    assert (entry.read_bytes(), entry.stat().st_mtime_ns, entry.stat().st_ino) == before


def test_one_object_compiles_each_artifact_once(tmp_path: Path) -> None:
    cache = new_cache(None)
    for _ in range(3):
        cache.component(component_text(4))
    assert cache.stats.compiled == 1


def test_without_a_directory_nothing_is_written_and_every_process_compiles(tmp_path: Path) -> None:
    for _ in range(2):
        cache = new_cache(None)
        cache.component(component_text(5))
        assert cache.stats.compiled == 1
    assert list(tmp_path.iterdir()) == []


def test_engine_settings_are_part_of_the_key() -> None:
    fuel = EngineSettings(epoch_interruption=True, consume_fuel=True)
    content = component_text(1).encode()
    paths = {new_cache(Path("c"), s).entry_path(ArtifactKind.COMPONENT, content) for s in (SETTINGS, fuel)}
    assert len(paths) == 2


def test_modules_and_components_of_the_same_bytes_have_different_keys() -> None:
    cache = new_cache(None)
    assert cache.key(ArtifactKind.MODULE, b"x") != cache.key(ArtifactKind.COMPONENT, b"x")


def _truncate_header(blob: bytes, _key: bytes) -> bytes:
    return blob[: HEADER_SIZE // 2]


def _truncate_payload(blob: bytes, _key: bytes) -> bytes:
    return blob[: HEADER_SIZE + (len(blob) - HEADER_SIZE) // 2]


def _flip_payload_byte(blob: bytes, _key: bytes) -> bytes:
    middle = HEADER_SIZE + (len(blob) - HEADER_SIZE) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0x40]) + blob[middle + 1 :]


def _flip_header_byte(blob: bytes, _key: bytes) -> bytes:
    return blob[:12] + bytes([blob[12] ^ 0x01]) + blob[13:]


def _foreign_key(blob: bytes, _key: bytes) -> bytes:
    # A complete, self-consistent entry written for another key (another wasmtime, other settings).
    return encode_entry(bytes(32), blob[HEADER_SIZE:])


def _garbage(blob: bytes, _key: bytes) -> bytes:
    return bytes(range(256)) * (len(blob) // 256 + 1)


def _empty(_blob: bytes, _key: bytes) -> bytes:
    return b""


def _foreign_payload(_blob: bytes, key: bytes) -> bytes:
    # The right header and checksum around bytes that are not a compiled component.
    return encode_entry(key, b"\x7fELF" + bytes(4096))


CORRUPTIONS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "truncated-header": _truncate_header,
    "truncated-payload": _truncate_payload,
    "flipped-payload-byte": _flip_payload_byte,
    "flipped-header-byte": _flip_header_byte,
    "foreign-key": _foreign_key,
    "garbage": _garbage,
    "empty": _empty,
    "checksummed-non-artifact": _foreign_payload,
}


def _corrupt_entry(tmp_path: Path, name: str) -> tuple[Path, CompileCache]:
    first = new_cache(tmp_path)
    first.component(component_text(6))
    entry = entry_of(first, component_text(6))
    key = first.key(ArtifactKind.COMPONENT, component_text(6).encode())
    entry.write_bytes(CORRUPTIONS[name](entry.read_bytes(), key))
    second = new_cache(tmp_path)
    second.component(component_text(6))
    return entry, second


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_a_bad_entry_is_rejected_and_recompiled(tmp_path: Path, name: str) -> None:
    _, second = _corrupt_entry(tmp_path, name)
    assert (second.stats.rejected, second.stats.compiled, second.stats.loaded) == (1, 1, 0)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_a_bad_entry_is_overwritten_with_a_good_one(tmp_path: Path, name: str) -> None:
    entry, second = _corrupt_entry(tmp_path, name)
    key = second.key(ArtifactKind.COMPONENT, component_text(6).encode())
    assert decode_entry(key, entry.read_bytes()) is not None


@pytest.mark.parametrize("name", sorted(set(CORRUPTIONS) - {"checksummed-non-artifact"}))
def test_a_bad_entry_is_refused_before_deserialize(tmp_path: Path, name: str) -> None:
    # decode_entry is the gate in front of deserialize: None means wasmtime never sees the bytes.
    cache = new_cache(tmp_path)
    cache.component(component_text(8))
    entry = entry_of(cache, component_text(8))
    key = cache.key(ArtifactKind.COMPONENT, component_text(8).encode())
    assert decode_entry(key, CORRUPTIONS[name](entry.read_bytes(), key)) is None


def test_a_recompiled_entry_then_hits(tmp_path: Path) -> None:
    _corrupt_entry(tmp_path, "flipped-payload-byte")
    third = new_cache(tmp_path)
    third.component(component_text(6))
    assert (third.stats.compiled, third.stats.loaded) == (0, 1)


def _race(directory: str, texts: list[str], barrier: multiprocessing.synchronize.Barrier) -> None:
    """One writer process: for each text, wait for the other writer, then compile and write."""
    for text in texts:
        cache = new_cache(Path(directory))
        barrier.wait(timeout=60)
        cache.component(text)


def _two_writers(directory: Path, texts: list[str]) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    writers = [context.Process(target=_race, args=(str(directory), texts, barrier)) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]


def test_concurrent_writers_leave_valid_entries(tmp_path: Path) -> None:
    texts = [component_text(100 + n) for n in range(6)]
    _two_writers(tmp_path, texts)
    reader = new_cache(tmp_path)
    for text in texts:
        reader.component(text)
    assert (reader.stats.loaded, reader.stats.rejected, reader.stats.compiled) == (len(texts), 0, 0)


def test_concurrent_writers_leave_no_temporary_files(tmp_path: Path) -> None:
    texts = [component_text(200 + n) for n in range(4)]
    _two_writers(tmp_path, texts)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".component"] * len(texts)


def test_an_unwritable_directory_is_a_miss_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = new_cache(blocker / "cache")
    cache.component(component_text(9))
    assert (cache.stats.compiled, cache.stats.write_failures) == (1, 1)


def test_stale_temporaries_of_killed_writers_are_swept(tmp_path: Path) -> None:
    stale = tmp_path / ".abc.component.x1.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    new_cache(tmp_path)
    assert not stale.exists()


def test_recent_temporaries_of_live_writers_are_kept(tmp_path: Path) -> None:
    live = tmp_path / ".abc.component.x2.tmp"
    live.write_bytes(b"half")
    assert (sweep_temporaries(tmp_path, older_than=0), live.exists()) == (0, True)


def test_env_var_names_the_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


def test_xdg_cache_home_is_the_default_base(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "handle-compat"


def test_home_cache_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "handle-compat"


def test_no_cache_wins_over_an_explicit_dir(tmp_path: Path) -> None:
    assert resolve_cache_dir(tmp_path, disabled=True) is None


def _one_scenario_guests(tmp_path: Path) -> Path:
    guests = tmp_path / "guests"
    guests.mkdir()
    (guests / BASELINE.name).symlink_to(BASELINE)
    return guests


def test_cli_no_cache_writes_no_entries(tmp_path: Path) -> None:
    guests = _one_scenario_guests(tmp_path)
    cache = tmp_path / "cache"
    args = ("run", "--backend", "real", "--guests", str(guests), "--reports", str(tmp_path / "r"), "--no-cache")
    completed = run_cli(*args, cache=cache)
    assert (completed.returncode, cache.exists()) == (0, False)


def test_cli_cache_dir_holds_one_entry_per_module_and_component(tmp_path: Path) -> None:
    guests = _one_scenario_guests(tmp_path)
    cache, env_cache = tmp_path / "cache", tmp_path / "from-env"
    args = ("run", "--backend", "real", "--guests", str(guests), "--reports", str(tmp_path / "r"))
    run_cli(*args, "--cache-dir", str(cache), cache=env_cache)
    assert (sorted(p.suffix for p in cache.iterdir()), env_cache.exists()) == ([".component", ".module"], False)


def test_cli_uses_the_env_cache_dir(tmp_path: Path) -> None:
    guests = _one_scenario_guests(tmp_path)
    env_cache = tmp_path / "from-env"
    run_cli("run", "--backend", "real", "--guests", str(guests), "--reports", str(tmp_path / "r"), cache=env_cache)
    assert sorted(p.suffix for p in env_cache.iterdir()) == [".component", ".module"]
