"""The compiled-code cache: hits skip compilation, bad entries are recompiled, writers do not clash.

And it trusts nothing it did not write: another user's directory, key or entry
is refused and the scenario runs from source.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.synchronize
import os
import secrets
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from harness.execute.cache import (
    CACHE_DIR_ENV,
    HEADER_SIZE,
    MAGIC,
    ArtifactKind,
    CompileCache,
    EngineSettings,
    decode_entry,
    default_cache_dir,
    encode_entry,
    resolve_cache_dir,
)
from harness.execute.cache_trust import KEY_FILE, sweep_temporaries
from harness.model.paths import PROJECT_ROOT, trace_path
from harness.model.trace import TraceSet
from suites.unit.support import BASELINE, copy_scenario, error_lines, run_cli, run_pytest

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


def secret_of(directory: Path) -> bytes:
    return (directory / KEY_FILE).read_bytes()


def entry_suffixes(directory: Path) -> list[str]:
    """The suffix of every file in a cache directory but its key file."""
    return sorted(p.suffix for p in directory.iterdir() if p.name != KEY_FILE)


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


def test_engine_settings_are_part_of_the_key(tmp_path: Path) -> None:
    fuel = EngineSettings(epoch_interruption=True, consume_fuel=True)
    content = component_text(1).encode()
    paths = {new_cache(tmp_path, s).entry_path(ArtifactKind.COMPONENT, content) for s in (SETTINGS, fuel)}
    assert len(paths) == 2


def test_modules_and_components_of_the_same_bytes_have_different_keys() -> None:
    cache = new_cache(None)
    assert cache.key(ArtifactKind.MODULE, b"x") != cache.key(ArtifactKind.COMPONENT, b"x")


def _truncate_header(blob: bytes, _key: bytes, _secret: bytes) -> bytes:
    return blob[: HEADER_SIZE // 2]


def _truncate_payload(blob: bytes, _key: bytes, _secret: bytes) -> bytes:
    return blob[: HEADER_SIZE + (len(blob) - HEADER_SIZE) // 2]


def _flip_payload_byte(blob: bytes, _key: bytes, _secret: bytes) -> bytes:
    middle = HEADER_SIZE + (len(blob) - HEADER_SIZE) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0x40]) + blob[middle + 1 :]


def _flip_header_byte(blob: bytes, _key: bytes, _secret: bytes) -> bytes:
    return blob[:12] + bytes([blob[12] ^ 0x01]) + blob[13:]


def _foreign_key(blob: bytes, _key: bytes, secret: bytes) -> bytes:
    # A complete, signed entry written for another key (another wasmtime, other settings).
    return encode_entry(secret, bytes(32), blob[HEADER_SIZE:])


def _garbage(blob: bytes, _key: bytes, _secret: bytes) -> bytes:
    return bytes(range(256)) * (len(blob) // 256 + 1)


def _empty(_blob: bytes, _key: bytes, _secret: bytes) -> bytes:
    return b""


def _foreign_payload(_blob: bytes, key: bytes, secret: bytes) -> bytes:
    # The right header and MAC around bytes that are not a compiled component.
    return encode_entry(secret, key, b"\x7fELF" + bytes(4096))


def public_checksum_entry(key: bytes, payload: bytes) -> bytes:
    """What anyone could write: format 1, whose header carried a plain sha256 of the payload."""
    header = struct.pack("<8sH32sQ32s", MAGIC, 1, key, len(payload), hashlib.sha256(payload).digest())
    return header + payload


def _public_checksum(blob: bytes, key: bytes, _secret: bytes) -> bytes:
    return public_checksum_entry(key, blob[HEADER_SIZE:])


def _wrong_secret(blob: bytes, key: bytes, _secret: bytes) -> bytes:
    # The current format, signed by someone who does not know this user's secret.
    return encode_entry(secrets.token_bytes(32), key, blob[HEADER_SIZE:])


CORRUPTIONS: dict[str, Callable[[bytes, bytes, bytes], bytes]] = {
    "truncated-header": _truncate_header,
    "truncated-payload": _truncate_payload,
    "flipped-payload-byte": _flip_payload_byte,
    "flipped-header-byte": _flip_header_byte,
    "foreign-key": _foreign_key,
    "garbage": _garbage,
    "empty": _empty,
    "signed-non-artifact": _foreign_payload,
    "public-checksum": _public_checksum,
    "wrong-secret": _wrong_secret,
}


def _corrupt_entry(tmp_path: Path, name: str) -> tuple[Path, CompileCache]:
    first = new_cache(tmp_path)
    first.component(component_text(6))
    entry = entry_of(first, component_text(6))
    key = first.key(ArtifactKind.COMPONENT, component_text(6).encode())
    entry.write_bytes(CORRUPTIONS[name](entry.read_bytes(), key, secret_of(tmp_path)))
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
    assert decode_entry(secret_of(tmp_path), key, entry.read_bytes()) is not None


@pytest.mark.parametrize("name", sorted(set(CORRUPTIONS) - {"signed-non-artifact"}))
def test_a_bad_entry_is_refused_before_deserialize(tmp_path: Path, name: str) -> None:
    # decode_entry is the gate in front of deserialize: None means wasmtime never sees the bytes.
    cache = new_cache(tmp_path)
    cache.component(component_text(8))
    entry = entry_of(cache, component_text(8))
    key, secret = cache.key(ArtifactKind.COMPONENT, component_text(8).encode()), secret_of(tmp_path)
    assert decode_entry(secret, key, CORRUPTIONS[name](entry.read_bytes(), key, secret)) is None


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
    assert entry_suffixes(tmp_path) == [".component"] * len(texts)


def test_a_directory_that_cannot_be_made_is_refused_and_the_run_compiles(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = new_cache(blocker / "cache")
    cache.component(component_text(9))
    assert (cache.stats.compiled, cache.directory, cache.refusal is not None) == (1, None, True)


#: A name the cache's own writer gives a temporary of an entry.
OWN_TEMPORARY = "." + "ab" * 32 + ".component.k3x9_q2z.tmp"


def test_stale_temporaries_of_killed_writers_are_swept(tmp_path: Path) -> None:
    stale = tmp_path / OWN_TEMPORARY
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    new_cache(tmp_path)
    assert not stale.exists()


def test_recent_temporaries_of_live_writers_are_kept(tmp_path: Path) -> None:
    live = tmp_path / OWN_TEMPORARY
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
    copy_scenario(BASELINE, guests)
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
    assert (entry_suffixes(cache), env_cache.exists()) == ([".component", ".module"], False)


def test_cli_uses_the_env_cache_dir(tmp_path: Path) -> None:
    guests = _one_scenario_guests(tmp_path)
    env_cache = tmp_path / "from-env"
    run_cli("run", "--backend", "real", "--guests", str(guests), "--reports", str(tmp_path / "r"), cache=env_cache)
    assert entry_suffixes(env_cache) == [".component", ".module"]


# The planted-entry attack: someone who can write to the cache directory puts
# compiled code of their own where the cache looks for a known guest's module.

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
#: The impostor differs from the baseline guest in what op 2 returns: 666 instead of the bytes written.
IMPOSTOR_CHANGE = ("(local.set $n (i64.load (i32.const 72)))", "(local.set $n (i64.const 666))")


def baseline_wasm() -> bytes:
    return bytes(wasmtime.wat2wasm((BASELINE / "a.wat").read_text(encoding="utf-8")))


def impostor_wasm() -> bytes:
    text = (BASELINE / "a.wat").read_text(encoding="utf-8")
    assert IMPOSTOR_CHANGE[0] in text
    return bytes(wasmtime.wat2wasm(text.replace(*IMPOSTOR_CHANGE)))


def plant(directory: Path, forge: Callable[[Path, bytes, bytes], bytes]) -> Path:
    """Puts the impostor's compiled code, wrapped by ``forge``, where the cache looks for the baseline module."""
    cache = new_cache(directory)
    entry = cache.entry_path(ArtifactKind.MODULE, baseline_wasm())
    assert entry is not None
    payload = bytes(wasmtime.Module(cache.engine, impostor_wasm()).serialize())
    entry.write_bytes(forge(directory, cache.key(ArtifactKind.MODULE, baseline_wasm()), payload))
    return entry


FORGERIES: dict[str, Callable[[Path, bytes, bytes], bytes]] = {
    # All an attacker without the secret can compute: the old format's public checksum...
    "public-checksum": lambda _directory, key, payload: public_checksum_entry(key, payload),
    # ...or the current format signed with a key of their own.
    "attackers-secret": lambda _directory, key, payload: encode_entry(secrets.token_bytes(32), key, payload),
}


def signed_by_the_user(directory: Path, key: bytes, payload: bytes) -> bytes:
    return encode_entry(secret_of(directory), key, payload)


def run_baseline(tmp_path: Path, *cache_args: str) -> tuple[subprocess.CompletedProcess[str], TraceSet]:
    """The baseline scenario run on real by the CLI, in a folder of its own under ``tmp_path``."""
    work = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    guests, reports = _one_scenario_guests(work), work / "reports"
    args = ("run", "--backend", "real", "--guests", str(guests), "--reports", str(reports), *cache_args)
    completed = run_cli(*args, cache=tmp_path / "env-cache")
    return completed, TraceSet.read(trace_path(reports, "real"))


def outcomes(traces: TraceSet) -> list[str]:
    return [step.outcome.short() for step in traces.traces[BASELINE.name].steps]


def test_the_planted_code_runs_when_it_carries_the_users_signature(tmp_path: Path) -> None:
    # What the attack does when it gets through: the run reports the impostor's 666.
    plant(tmp_path / "cache", signed_by_the_user)
    _, planted = run_baseline(tmp_path, "--cache-dir", str(tmp_path / "cache"))
    _, source = run_baseline(tmp_path, "--no-cache")
    assert (outcomes(planted)[1], outcomes(source)[1]) == ("value 666", "value 5")


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_planted_entry_is_refused_and_the_scenario_runs_from_source(tmp_path: Path, forgery: str) -> None:
    plant(tmp_path / "cache", FORGERIES[forgery])
    completed, planted = run_baseline(tmp_path, "--cache-dir", str(tmp_path / "cache"))
    _, source = run_baseline(tmp_path, "--no-cache")
    assert (completed.returncode, outcomes(planted)) == (0, outcomes(source))


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_the_trace_records_the_module_that_ran_when_a_planted_entry_is_refused(tmp_path: Path, forgery: str) -> None:
    plant(tmp_path / "cache", FORGERIES[forgery])
    _, planted = run_baseline(tmp_path, "--cache-dir", str(tmp_path / "cache"))
    assert planted.traces[BASELINE.name].modules == {"a": hashlib.sha256(baseline_wasm()).hexdigest()}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_planted_entry_is_overwritten_with_the_users_own(tmp_path: Path, forgery: str) -> None:
    entry = plant(tmp_path / "cache", FORGERIES[forgery])
    run_baseline(tmp_path, "--cache-dir", str(tmp_path / "cache"))
    key = new_cache(None).key(ArtifactKind.MODULE, baseline_wasm())
    payload = decode_entry(secret_of(tmp_path / "cache"), key, entry.read_bytes())
    assert payload is not None and payload != bytes(wasmtime.Module(SETTINGS.engine(), impostor_wasm()).serialize())


@needs_root
def test_another_users_cache_directory_is_refused_with_one_line(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    entry = plant(shared, signed_by_the_user)
    for path in (shared, shared / KEY_FILE, entry):
        os.chown(path, NOBODY, NOBODY)
    completed, _ = run_baseline(tmp_path, "--cache-dir", str(shared))
    uid = os.geteuid()
    expected = f"cache: {shared} is owned by uid {NOBODY}, not by this user (uid {uid}); running without a cache"
    assert error_lines(completed) == [expected]


@needs_root
def test_another_users_cache_directory_is_neither_run_nor_written(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    entry = plant(shared, signed_by_the_user)
    for path in (shared, shared / KEY_FILE, entry):
        os.chown(path, NOBODY, NOBODY)
    before = {p.name: p.read_bytes() for p in shared.iterdir()}
    _, planted = run_baseline(tmp_path, "--cache-dir", str(shared))
    _, source = run_baseline(tmp_path, "--no-cache")
    assert (outcomes(planted), {p.name: p.read_bytes() for p in shared.iterdir()}) == (outcomes(source), before)


def test_a_world_writable_cache_directory_is_refused_with_one_line(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    completed, _ = run_baseline(tmp_path, "--cache-dir", str(shared))
    expected = f"cache: {shared} is writable by others; running without a cache"
    assert (completed.returncode, error_lines(completed), list(shared.iterdir())) == (0, [expected], [])


@pytest.mark.parametrize(("mode", "reason"), [(0o777, "others"), (0o703, "others"), (0o770, "its group")])
def test_a_cache_directory_others_can_write_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int, reason: str
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    cache = new_cache(shared)
    cache.component(component_text(10))
    expected = f"cache: {shared} is writable by {reason}; running without a cache"
    assert (capsys.readouterr().err.splitlines(), cache.stats.compiled, list(shared.iterdir())) == ([expected], 1, [])


def test_a_cache_directory_inside_a_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    # Whoever can write to the parent can rename the cache away and put their own in its place.
    (tmp_path / "open").mkdir()
    (tmp_path / "open").chmod(0o777)
    cache = new_cache(tmp_path / "open" / "cache")
    assert str(cache.refusal) == (
        f"cache: {tmp_path / 'open' / 'cache'} is inside {tmp_path / 'open'}, which is writable by others; "
        "running without a cache"
    )


def test_a_cache_directory_inside_a_sticky_shared_folder_is_used(tmp_path: Path) -> None:
    # As in /tmp: the sticky bit keeps others from renaming what they do not own.
    (tmp_path / "sticky").mkdir()
    (tmp_path / "sticky").chmod(0o1777)
    cache = new_cache(tmp_path / "sticky" / "cache")
    cache.component(component_text(11))
    assert (cache.refusal, entry_suffixes(tmp_path / "sticky" / "cache")) == (None, [".component"])


@needs_root
def test_a_cache_directory_inside_another_users_folder_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    cache = new_cache(theirs / "cache")
    assert cache.refusal is not None and cache.refusal.reason == f"is inside {theirs}, which is owned by uid {NOBODY}"


@needs_root
def test_a_cache_directory_reached_through_another_users_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "mine")
    os.lchown(link, NOBODY, NOBODY)
    cache = new_cache(link)
    assert (
        cache.refusal is not None and cache.refusal.reason == f"is reached through {link}, a link owned by uid {NOBODY}"
    )


@needs_root
def test_a_key_file_of_another_user_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new_cache(tmp_path)
    os.chown(tmp_path / KEY_FILE, NOBODY, NOBODY)
    cache = new_cache(tmp_path)
    uid = os.geteuid()
    expected = (
        f"cache: {tmp_path / KEY_FILE} is owned by uid {NOBODY}, not by this user (uid {uid}); running without a cache"
    )
    assert (capsys.readouterr().err.splitlines(), cache.directory) == ([expected], None)


@pytest.mark.parametrize("mode", [0o644, 0o660, 0o602])
def test_a_key_file_others_may_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    new_cache(tmp_path)
    (tmp_path / KEY_FILE).chmod(mode)
    cache = new_cache(tmp_path)
    assert cache.refusal is not None and cache.refusal.reason.startswith(f"has mode {mode:04o}")


def test_a_key_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(bytes(32))
    (tmp_path / "elsewhere").chmod(0o600)
    (tmp_path / "cache").mkdir(mode=0o700)
    (tmp_path / "cache" / KEY_FILE).symlink_to(tmp_path / "elsewhere")
    cache = new_cache(tmp_path / "cache")
    assert cache.refusal is not None and cache.refusal.reason == "is a symbolic link"


def test_the_key_is_made_once_and_kept(tmp_path: Path) -> None:
    new_cache(tmp_path)
    first = secret_of(tmp_path)
    new_cache(tmp_path)
    assert (len(first), secret_of(tmp_path)) == (32, first)


#: The CLI in a process whose umask takes away nothing.
UMASK_000_CLI = "import os, sys; os.umask(0); from harness.present.cli import main; sys.exit(main(sys.argv[1:]))"


def test_a_umask_of_000_still_gives_a_private_cache(tmp_path: Path) -> None:
    guests, cache = _one_scenario_guests(tmp_path), tmp_path / "made" / "cache"
    args = ["run", "--backend", "real", "--guests", str(guests), "--reports", str(tmp_path / "r"), "--cache-dir"]
    command = [sys.executable, "-c", UMASK_000_CLI, *args, str(cache)]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    modes = {p.relative_to(tmp_path).as_posix(): oct(p.stat().st_mode & 0o7777) for p in (cache.parent, cache)}
    file_modes = sorted(oct(p.stat().st_mode & 0o7777) for p in cache.iterdir())
    assert (completed.returncode, modes, file_modes) == (
        0,
        {"made": "0o700", "made/cache": "0o700"},
        ["0o600"] * 3,
    )


def test_the_sweep_leaves_files_it_did_not_write(tmp_path: Path) -> None:
    new_cache(tmp_path)
    foreign = [".notes.tmp", ".abc.component.x1.tmp", f".{KEY_FILE}.tmp", "." + "ab" * 32 + ".component.tmp"]
    for name in foreign:
        (tmp_path / name).write_bytes(b"not the cache's")
        os.utime(tmp_path / name, (0, 0))
    new_cache(tmp_path)
    assert [name for name in foreign if not (tmp_path / name).exists()] == []


@needs_root
def test_the_sweep_leaves_another_users_file_of_its_own_naming(tmp_path: Path) -> None:
    new_cache(tmp_path)
    theirs = tmp_path / OWN_TEMPORARY
    theirs.write_bytes(b"half")
    os.chown(theirs, NOBODY, NOBODY)
    os.utime(theirs, (0, 0))
    assert (sweep_temporaries(tmp_path, older_than=1), theirs.exists()) == (0, True)


@pytest.mark.parametrize("command", [("run", "--backend", "real"), ("report",)])
def test_cli_an_empty_cache_dir_is_refused_before_any_work(tmp_path: Path, command: tuple[str, ...]) -> None:
    reports = tmp_path / "r"
    completed = run_cli(*command, "--reports", str(reports), "--cache-dir", "", cache=tmp_path / "c")
    last = error_lines(completed)[-1]
    assert (completed.returncode, last.split(": error: ")[-1], reports.exists()) == (
        2,
        "argument --cache-dir: is empty: name a directory, or use --no-cache",
        False,
    )


def test_pytest_plugin_refuses_an_empty_cache_dir(tmp_path: Path) -> None:
    completed = run_pytest(tmp_path, "--cache-dir", "", "--collect-only", str(tmp_path))
    assert (completed.returncode, "argument --cache-dir: is empty" in completed.stderr) == (
        pytest.ExitCode.USAGE_ERROR,
        True,
    )
