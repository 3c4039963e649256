"""Scenarios: a folder under ``guests/`` with a ``scenario.toml`` manifest and WAT files.

The manifest is data, so adding a scenario needs no Python. Loading checks it
strictly and names the file and line of anything it cannot use.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from harness.model.errors import InputError
from harness.model.vocabulary import Category, TrapKind

MANIFEST = "scenario.toml"
#: Interfaces a component may import from another component, by short name.
PEER_INTERFACES = ("peer", "counters")
_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
#: Largest manifest the loader reads; anything bigger is not a hand-written scenario.
MAX_MANIFEST_BYTES = 1 << 20
#: Longest per-step deadline a manifest may ask for (``step-timeout-ms``): a minute, so a
#: scenario from elsewhere cannot hold a CI machine for long with a guest that never returns.
MAX_STEP_TIMEOUT_MS = 60_000
#: The ``expect.<name>`` key that applies to every backend without its own.
ALL_BACKENDS = "all"
#: The backend every divergence declaration speaks against: ``diverges.<name>`` lists the
#: categories intended between backend ``name`` and this one.
DECLARED_AGAINST = "real"
#: The backend a plain ``diverges = [...]`` speaks of (the pair the project began with:
#: the 2023 pseudo table against real handles), so manifests written before per-backend
#: declarations load unchanged.
PLAIN_DIVERGES = "pseudo"
#: Bounds of ``run(op: u32, arg: s64) -> s64``, the driver export every step calls.
U32 = (0, (1 << 32) - 1, "u32")
S64 = (-(1 << 63), (1 << 63) - 1, "s64")


@dataclass(frozen=True)
class Expectation:
    """What one step must do on one backend, and the rule that says so."""

    rule: str
    value: int | None = None
    trap: str | None = None
    not_run: bool = False

    def short(self) -> str:
        """The expected outcome in the words ``Outcome.short`` uses for an observed one."""
        if self.not_run:
            return "not run"
        if self.trap is not None:
            return f"trap {self.trap}"
        return f"value {self.value}"


@dataclass(frozen=True)
class Step:
    component: str
    op: int
    arg: int
    does: str
    #: Backend name (or ``all``) -> expectation.
    expect: Mapping[str, Expectation]


@dataclass(frozen=True)
class TeardownExpectation:
    """How many host resources are still live when the scenario ends."""

    rule: str
    live: int


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    wat: Path
    #: Short interface name (``peer``, ``counters``) -> providing component.
    imports: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    title: str
    category: str
    description: str
    components: tuple[ComponentSpec, ...]
    steps: tuple[Step, ...]
    #: Divergence categories declared between ``pseudo`` and ``real`` (plain ``diverges`` or ``diverges.pseudo``).
    diverges: tuple[str, ...]
    teardown: Mapping[str, TeardownExpectation]
    #: Migration advice for guest authors, where behaviour must change.
    advice: str = ""
    spec_rule: str = ""
    #: Deadline of each guest call in this scenario; None: the run's default.
    step_timeout_ms: int | None = None
    #: ``diverges.<backend>`` for every backend but ``pseudo``: categories intended against ``real``.
    diverges_per_backend: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def declared_against_real(self, backend: str) -> tuple[str, ...] | None:
        """What the manifest itself declares between ``backend`` and ``real``; None when it says nothing.

        ``real`` is declared the same as itself; fallbacks between backends are the comparing layer's.
        """
        if backend == DECLARED_AGAINST:
            return ()
        if backend == PLAIN_DIVERGES:
            return self.diverges
        return self.diverges_per_backend.get(backend)

    def component(self, name: str) -> ComponentSpec:
        return next(c for c in self.components if c.name == name)

    def expectation(self, step: Step, backend: str, fallback: str | None = None) -> Expectation | None:
        """The step's expectation for ``backend``, its fallback backend, or ``all``."""
        return _for_backend(step.expect, backend, fallback)

    def teardown_expectation(self, backend: str, fallback: str | None = None) -> TeardownExpectation | None:
        return _for_backend(self.teardown, backend, fallback)


_E = TypeVar("_E")


def _for_backend(table: Mapping[str, _E], backend: str, fallback: str | None) -> _E | None:
    """``table``'s entry for ``backend``, else for its fallback backend, else for ``all``."""
    for key in (backend, fallback, "all"):
        if key is not None and key in table:
            return table[key]
    return None


def _line_of(text: str, needle: str, start: int = 0) -> int | None:
    """1-based line of the first occurrence of ``needle`` at or after line ``start``.

    A bare key (``op``, ``rule``) matches only where it is assigned (``op =``), so
    it is not found inside another word or a description.
    """
    bare_key = re.fullmatch(r"[A-Za-z0-9_-]+", needle)
    pattern = re.compile(rf"(^|[\s{{,.]){re.escape(needle)}\s*=" if bare_key else re.escape(needle))
    lines = text.splitlines()
    for number, line in enumerate(lines[start:], start=start + 1):
        if pattern.search(line):
            return number
    return None


class _Reader:
    """Checks one manifest's tables, raising InputError with file and line.

    ``start`` is the line (0-based) where the table being checked begins, so a
    key is looked up in that table rather than the first one that has it.
    """

    def __init__(self, path: Path, text: str, start: int = 0, backends: Collection[str] | None = None) -> None:
        self.path = path
        self.text = text
        self.start = start
        #: Registered backend names an ``expect.<name>`` may use; None: not checked.
        self.backends = backends

    def scoped(self, start: int) -> _Reader:
        return _Reader(self.path, self.text, start, self.backends)

    def backend_key(self, name: str, where: str) -> None:
        """Refuses ``expect.<name>`` unless ``name`` is ``all`` or a registered backend: a typo would match nothing."""
        if self.backends is None or name == ALL_BACKENDS or name in self.backends:
            return
        known = sorted({ALL_BACKENDS, *self.backends})
        message = f"{where}: unknown backend {name!r} (known: {', '.join(known)})" + _did_you_mean(name, known)
        error = self.fail(message, f"expect.{name}")
        error.line = error.line or _line_of(self.text, name, self.start)
        raise error

    def fail(self, message: str, near: str | None = None) -> InputError:
        return InputError(self.path, message, _line_of(self.text, near, self.start) if near else None)

    def keys(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(f"unknown key {key!r} in {where} (expected one of: {hint})", key)

    def get(self, table: Mapping[str, Any], key: str, kind: type, where: str, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                error = self.fail(f"{where} needs {key!r}", where.split(" ")[0])
                # Nothing to point at in the table itself: name the line where the table starts.
                error.line = error.line or (self.start + 1 if self.start else None)
                raise error
            return default
        value = table[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise self.fail(f"{where}: {key!r} must be {kind.__name__}, not {type(value).__name__}", key)
        return value


def _did_you_mean(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _expectation(reader: _Reader, raw: Any, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise reader.fail(f'{where} must be a table like {{ value = 1, rule = "..." }}', where.rsplit(" ", 1)[-1])
    reader.keys(raw, {"value", "trap", "not-run", "rule"}, where)
    rule = reader.get(raw, "rule", str, where)
    value = reader.get(raw, "value", int, where, None)
    if value is not None:
        _in_range(reader, value, "value", S64, where)
    trap = reader.get(raw, "trap", str, where, None)
    not_run = reader.get(raw, "not-run", bool, where, False)
    if sum((value is not None, trap is not None, not_run)) != 1:
        raise reader.fail(f"{where} needs exactly one of value, trap, not-run", where.rsplit(" ", 1)[-1])
    if trap is not None and trap not in set(TrapKind):
        kinds = ", ".join(TrapKind)
        raise reader.fail(f"{where}: unknown trap kind {trap!r} (expected one of: {kinds})", f'"{trap}"')
    return Expectation(rule=rule, value=value, trap=trap, not_run=not_run)


def _expectations(reader: _Reader, raw: Any, where: str) -> dict[str, Expectation]:
    if not isinstance(raw, dict) or not raw:
        raise reader.fail(f"{where} needs an expect table: expect.all, expect.pseudo, expect.real, ...")
    for backend in raw:
        reader.backend_key(backend, where)
    return {backend: _expectation(reader, value, f"{where} expect.{backend}") for backend, value in raw.items()}


def load_scenario(directory: Path, backends: Collection[str] | None = None) -> Scenario:
    """Reads and checks ``directory/scenario.toml``.

    ``backends`` are the registered backend names (the execute layer knows them,
    this one does not): each ``expect.<name>`` must be one of them or ``all``.
    """
    path = directory / MANIFEST
    raw_bytes = _read_manifest(directory, path)
    if len(raw_bytes) > MAX_MANIFEST_BYTES:
        raise InputError(path, f"manifest is over the limit of {MAX_MANIFEST_BYTES} bytes")
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw_bytes[: err.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 (byte {err.start})", line) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"\(at line (\d+), column \d+\)", str(err))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        raise InputError(path, f"TOML syntax: {message}", int(match.group(1)) if match else None) from err
    except RecursionError as err:
        raise InputError(path, "TOML nests arrays or tables too deeply to read") from err
    reader = _Reader(path, text, backends=backends)
    top_keys = {
        *("title", "category", "description", "rule", "advice", "diverges"),
        *("components", "steps", "teardown", "step-timeout-ms"),
    }
    reader.keys(data, top_keys, "the manifest")
    components = _components(reader, directory, data)
    steps = _steps(reader, data, {c.name for c in components})
    diverges = _declarations(reader, data)
    teardown = _teardown(reader, data)
    return Scenario(
        name=directory.name,
        path=directory,
        title=reader.get(data, "title", str, "the manifest"),
        category=reader.get(data, "category", str, "the manifest"),
        description=reader.get(data, "description", str, "the manifest").strip(),
        spec_rule=reader.get(data, "rule", str, "the manifest", ""),
        advice=reader.get(data, "advice", str, "the manifest", "").strip(),
        step_timeout_ms=_step_timeout(reader, data),
        components=components,
        steps=steps,
        diverges=diverges.pop(PLAIN_DIVERGES),
        diverges_per_backend=diverges,
        teardown=teardown,
    )


def _teardown(reader: _Reader, data: Mapping[str, Any]) -> dict[str, TeardownExpectation]:
    """``[teardown]``: only ``expect.<backend> = { live = N, rule = "..." }`` entries."""
    table = reader.get(data, "teardown", dict, "the manifest", {})
    header = _line_of(reader.text, "[teardown]")
    reader = reader.scoped(header - 1) if header else reader
    reader.keys(table, {"expect"}, "[teardown]")
    expectations = reader.get(table, "expect", dict, "[teardown]", {})
    teardown = {}
    for backend, raw in expectations.items():
        where = f"teardown.expect.{backend}"
        reader.backend_key(backend, "teardown")
        if not isinstance(raw, dict):
            raise reader.fail(f'{where} must be a table like {{ live = 0, rule = "..." }}', backend)
        reader.keys(raw, {"live", "rule"}, where)
        live = reader.get(raw, "live", int, where)
        if live < 0:
            raise reader.fail(f"{where}: 'live' counts resources, so it cannot be {live}", "live")
        teardown[backend] = TeardownExpectation(rule=reader.get(raw, "rule", str, where), live=live)
    return teardown


def _in_range(reader: _Reader, value: int, key: str, bounds: tuple[int, int, str], where: str) -> int:
    """Refuses a number the WIT's type cannot hold: passing it on would wrap it silently."""
    low, high, wit_type = bounds
    if not low <= value <= high:
        raise reader.fail(f"{where}: {key!r} must be from {low} to {high} (a {wit_type}), not {value}", key)
    return value


def _toml_type(value: Any) -> str:
    """A value's kind as TOML calls it, for messages."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array"}
    return "a table" if isinstance(value, dict) else names.get(type(value), type(value).__name__)


def _declarations(reader: _Reader, data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """``diverges``: backend -> the categories intended between it and ``real``.

    Either a list, which speaks of ``pseudo`` (as every manifest did before there were
    more backends), or a table ``diverges.<backend> = [...]`` that must name ``pseudo``
    too: that pair is the one every scenario is classified by. A table key must be a
    registered backend (a typo would declare nothing), never ``real`` itself or ``all``.
    """
    if "diverges" not in data:
        raise reader.fail("the manifest needs 'diverges' (a list, or diverges.<backend> = [...])", "the manifest")
    raw = data["diverges"]
    if isinstance(raw, list):
        return {PLAIN_DIVERGES: _categories(reader, raw, "diverges", "diverges")}
    if not isinstance(raw, dict):
        message = f"the manifest: 'diverges' must be list (or diverges.<backend> = [...]), not {type(raw).__name__}"
        raise reader.fail(message, "diverges")
    declared = {}
    for backend, categories in raw.items():
        where, near = f"diverges.{backend}", _declaration_line(reader.text, backend)
        if backend in (DECLARED_AGAINST, ALL_BACKENDS):
            why = "the backend the declarations speak against" if backend == DECLARED_AGAINST else "not a backend"
            raise InputError(reader.path, f"{where}: {backend!r} is {why}; name another backend", near)
        if reader.backends is not None and backend not in reader.backends:
            known = sorted(set(reader.backends) - {DECLARED_AGAINST})
            message = f"{where}: unknown backend {backend!r} (known: {', '.join(known)})"
            raise InputError(reader.path, message + _did_you_mean(backend, known), near)
        if not isinstance(categories, list):
            raise InputError(reader.path, f"{where} must be a list of category names", near)
        declared[backend] = _categories(reader, categories, where, f"diverges.{backend}")
    if PLAIN_DIVERGES not in declared:
        message = f"diverges.{PLAIN_DIVERGES} is missing: every scenario declares what {PLAIN_DIVERGES} vs real shows"
        raise reader.fail(f"{message} ([] for the same)", "diverges")
    return declared


def _declaration_line(text: str, backend: str) -> int | None:
    """1-based line of ``diverges.<backend> =`` (or of ``<backend> =`` in a ``[diverges]`` table)."""
    key = re.escape(backend)
    pattern = re.compile(rf'^\s*(diverges\s*\.\s*)?("{key}"|{key})\s*=')
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return _line_of(text, "diverges")


def _categories(reader: _Reader, entries: list[Any], where: str, near: str) -> tuple[str, ...]:
    """The declared categories: each one the differ can report, and never ``other``.

    ``other`` means the differ could not explain a divergence; declaring it as
    intended would let every unexplained difference pass the gate.
    """
    line = _declaration_line(reader.text, near.partition(".")[2]) if "." in near else _line_of(reader.text, near)
    known = [c.value for c in Category if c is not Category.OTHER]
    for entry in entries:
        if not isinstance(entry, str):
            raise InputError(reader.path, f"{where} must be a list of category names", line)
        if entry == Category.OTHER:
            message = f"{where}: 'other' cannot be declared (it means the differ could not explain a divergence)"
            raise InputError(reader.path, f"{message}; find the cause, or declare the category it belongs to", line)
        if entry not in known:
            message = f"{where}: unknown category {entry!r} (expected one of: {', '.join(known)})"
            raise InputError(reader.path, message + _did_you_mean(entry, known), line)
    return tuple(sorted(entries))


def _step_timeout(reader: _Reader, data: Mapping[str, Any]) -> int | None:
    timeout: int | None = reader.get(data, "step-timeout-ms", int, "the manifest", None)
    if timeout is not None and not 0 < timeout <= MAX_STEP_TIMEOUT_MS:
        message = f"step-timeout-ms must be between 1 and {MAX_STEP_TIMEOUT_MS}, not {timeout}"
        raise reader.fail(message, "step-timeout-ms")
    return timeout


def _components(reader: _Reader, directory: Path, data: Mapping[str, Any]) -> tuple[ComponentSpec, ...]:
    raw = reader.get(data, "components", dict, "the manifest")
    if not raw:
        raise reader.fail("the manifest needs at least one [components.NAME] table", "components")
    specs = []
    for name, table in raw.items():
        where = f"[components.{name}]"
        if not _KEBAB.match(name):
            raise reader.fail(f"component name {name!r} must be kebab-case (like 'reader-a')", name)
        if not isinstance(table, dict):
            raise reader.fail(f'{where} must be a table like {{ wat = "a.wat" }}', name)
        reader.keys(table, {"wat", "imports"}, where)
        wat = _confined(reader, directory, reader.get(table, "wat", str, where), where)
        imports = reader.get(table, "imports", dict, where, {})
        for iface, provider in imports.items():
            if not isinstance(provider, str):
                raise reader.fail(f"{where}: imports.{iface} must name a component, not {_toml_type(provider)}", iface)
            if iface not in PEER_INTERFACES:
                raise reader.fail(f"{where}: cannot import {iface!r} from a component (only {PEER_INTERFACES})", iface)
            if provider not in raw or provider == name:
                raise reader.fail(f"{where}: {iface} comes from unknown component {provider!r}", iface)
        specs.append(ComponentSpec(name=name, wat=wat, imports=dict(imports)))
    return tuple(_instantiation_order(reader, specs))


def _instantiation_order(reader: _Reader, specs: list[ComponentSpec]) -> list[ComponentSpec]:
    """Providers before consumers; a cycle cannot be instantiated."""
    ordered: list[ComponentSpec] = []
    pending = list(specs)
    while pending:
        ready = [s for s in pending if all(p in {o.name for o in ordered} for p in s.imports.values())]
        if not ready:
            names = ", ".join(s.name for s in pending)
            raise reader.fail(f"components import from each other in a cycle: {names}", "imports")
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered


def _steps(reader: _Reader, data: Mapping[str, Any], components: set[str]) -> tuple[Step, ...]:
    raw = reader.get(data, "steps", list, "the manifest")
    if not raw:
        raise reader.fail("the manifest needs at least one [[steps]] entry", "steps")
    header = re.compile(r"^\s*\[\[\s*steps\s*\]\]\s*(#.*)?$")
    headers = [index for index, line in enumerate(reader.text.splitlines()) if header.match(line)]
    steps = []
    for number, table in enumerate(raw, start=1):
        where = f"step {number}"
        if len(headers) == len(raw):
            reader = reader.scoped(headers[number - 1])
        if not isinstance(table, dict):
            raise reader.fail(f"{where} must be a [[steps]] table, not {_toml_type(table)}", "steps")
        reader.keys(table, {"call", "op", "arg", "does", "expect"}, where)
        component = reader.get(table, "call", str, where)
        if component not in components:
            raise reader.fail(f"{where} calls unknown component {component!r}", f'call = "{component}"')
        steps.append(
            Step(
                component=component,
                op=_in_range(reader, reader.get(table, "op", int, where), "op", U32, where),
                arg=_in_range(reader, reader.get(table, "arg", int, where, 0), "arg", S64, where),
                does=reader.get(table, "does", str, where),
                expect=_expectations(reader, table.get("expect"), where),
            )
        )
    return tuple(steps)


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in a user's words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_manifest(directory: Path, path: Path) -> bytes:
    """The manifest's bytes (one past the limit at most), from a regular file inside ``directory``.

    Checked with ``stat`` before it is opened, so a named pipe or device called
    ``scenario.toml`` is never opened (a pipe would block every command); opened
    without blocking and checked again, so a file swapped in between is refused too.
    """
    try:
        if not path.resolve().is_relative_to(directory.resolve()):
            raise InputError(path, f"{MANIFEST} is a symlink leading outside its scenario folder {directory}")
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise InputError(path, f"{MANIFEST} must be a regular file, not {_kind(mode)}")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InputError(path, f"{MANIFEST} changed into something other than a regular file")
            # One byte past the limit, so an oversized file is refused without reading it all.
            return handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as err:
        raise InputError(path, f"cannot read manifest: {err.strerror}") from err


def _confined(reader: _Reader, directory: Path, name: str, where: str) -> Path:
    """``directory / name``, refused unless it is a regular file inside ``directory``.

    A manifest from someone else must not make the harness read, or run and report
    as the scenario's own, a file elsewhere on the machine: no absolute path, no
    ``..``, no symlink whose target lies outside the (resolved) scenario folder.
    """

    def refuse(why: str) -> InputError:
        header = _line_of(reader.text, where)
        return InputError(reader.path, f"{where}: wat {name!r} {why}", _line_of(reader.text, "wat", (header or 1) - 1))

    relative = PurePosixPath(name)
    if not name or "\0" in name:
        raise refuse("is not a usable file name")
    if relative.is_absolute() or Path(name).is_absolute():
        raise refuse("is an absolute path; name a file inside the scenario folder")
    if ".." in relative.parts:
        raise refuse("goes up with '..'; name a file inside the scenario folder")
    path = directory / name
    try:
        if not path.resolve().is_relative_to(directory.resolve()):
            raise refuse("is a symlink leading outside the scenario folder")
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise refuse(f"not found in {directory}") from None
    except OSError as err:
        raise refuse(f"cannot be read: {err.strerror}") from err
    if not stat.S_ISREG(mode):
        raise refuse(f"must be a regular file, not {_kind(mode)}")
    return path


def discover(root: Path) -> list[Path]:
    """Every scenario folder below ``root``, sorted by name."""
    return sorted(p.parent for p in root.glob(f"*/{MANIFEST}"))


def load_all(root: Path, backends: Collection[str] | None = None) -> tuple[list[Scenario], list[InputError]]:
    """Loads every scenario; a broken one is reported and the others still load.

    A scenario is named after its folder, so names are unique within ``root``.
    ``backends``: the registered backend names, as for ``load_scenario``.
    """
    if not root.is_dir():
        raise InputError(root, "guests folder not found")
    scenarios: list[Scenario] = []
    errors: list[InputError] = []
    for directory in discover(root):
        try:
            if not directory.resolve().is_relative_to(root.resolve()):
                raise InputError(directory / MANIFEST, f"the scenario folder is a symlink leading outside {root}")
            scenarios.append(load_scenario(directory, backends))
        except InputError as err:
            errors.append(err)
    return scenarios, errors
