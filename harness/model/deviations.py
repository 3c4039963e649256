"""Known-deviation files: where one implementation, in one version, departs from the rules.

As web-platform-tests keeps each browser's known failures in reviewed expectation
files beside the tests, the manifests here keep what the rules say, and each
implementation backend (a runtime under test, such as ``jco``) has one reviewed file
per version, ``<guests>/deviations/<backend>-<version>.toml``, listing every place its
runs depart from the manifests' expectations and why:

```toml
[finding.unchecked-method-handle]
rule = "CanonicalABI.md HandleTable.get: trap_if(i >= len(self.array)); trap_if(self.array[i] is None)"
why = "host method calls read the rep from the caller's slot without checking it"
link = ""                                  # an upstream issue about it, or empty

[[deviation]]
scenario = "own-transfer"
finding = "unchecked-method-handle"
diverges = ["ownership-transfer"]          # the differ's categories against real
observed = [
  { step = 2, outcome = "value 1" },       # "value N", "trap KIND", "not run"
  { step = 3, outcome = "value 1" },
  { step = "teardown", outcome = "0 live" },
]
```

A finding says once what the implementation does wrong (the rule it breaks, why, a
link); each ``[[deviation]]`` is one scenario where it shows, with every step (or the
teardown) whose outcome differs from the manifest and the divergence categories the
differ finds against ``real`` there. The comparing layer holds the runs to exactly this.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model.errors import InputError
from harness.model.scenario import Scenario
from harness.model.vocabulary import Category, TrapKind

#: The folder of a guests folder that holds the known-deviation files.
DEVIATIONS_FOLDER = "deviations"
#: Where a teardown's observation says ``step = "teardown"``.
TEARDOWN = "teardown"
_FINDING_KEYS = {"rule", "why", "link"}
_DEVIATION_KEYS = {"scenario", "finding", "diverges", "observed", "note"}
_OBSERVED_KEYS = {"step", "outcome"}
_STEP_OUTCOME = re.compile(r"value -?\d+|trap [a-z-]+|not run")
_LIVE = re.compile(r"\d+ live")


@dataclass(frozen=True)
class Finding:
    """One way the implementation departs from the rules, shared by the scenarios that show it."""

    name: str
    #: The CanonicalABI.md function and check it breaks.
    rule: str
    why: str
    #: An upstream issue about it; "" when none is known.
    link: str
    line: int | None = None


@dataclass(frozen=True)
class Observed:
    """A step's (or the teardown's) outcome as the implementation gives it, in ``Outcome.short`` words."""

    #: 0-based step, or None for the teardown.
    step: int | None
    #: ``value N``, ``trap KIND``, ``not run``; for the teardown ``N live``.
    outcome: str
    line: int | None = None

    @property
    def where(self) -> str:
        return TEARDOWN if self.step is None else f"step {self.step + 1}"


@dataclass(frozen=True)
class Deviation:
    """One scenario where the implementation departs from the manifest."""

    scenario: str
    finding: Finding
    #: The divergence categories the differ finds between the implementation and ``real`` here.
    diverges: tuple[str, ...]
    observed: tuple[Observed, ...]
    #: What is particular to this scenario, beyond the finding's ``why``.
    note: str = ""
    line: int | None = None


@dataclass(frozen=True)
class DeviationFile:
    """One implementation's known deviations in one version."""

    path: Path
    backend: str
    version: str
    findings: Mapping[str, Finding]
    #: Scenario name -> its deviation.
    deviations: Mapping[str, Deviation]

    def declared(self, scenario: str) -> tuple[str, ...]:
        """The divergence categories against ``real`` the file declares for ``scenario`` (none when unlisted)."""
        deviation = self.deviations.get(scenario)
        return () if deviation is None else deviation.diverges

    @property
    def shown(self) -> str:
        """The path as messages and gate.json name it: relative to the working folder when inside it."""
        try:
            return str(self.path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(self.path)

    def where(self, line: int | None) -> str:
        return f"{self.shown}:{line}" if line else self.shown


def deviation_path(guests: Path, backend: str, version: str) -> Path:
    return guests / DEVIATIONS_FOLDER / f"{backend}-{version}.toml"


def find_deviation_file(guests: Path, backend: str, version: str) -> Path:
    """The file for ``backend`` at ``version``; an InputError saying which file is missing when there is none.

    A run of another version is never held to an older version's list: an upgrade's
    deviations are reviewed anew.
    """
    path = deviation_path(guests, backend, version)
    if path.is_file():
        return path
    others = sorted(p.name for p in path.parent.glob(f"{backend}-*.toml")) if path.parent.is_dir() else []
    found = f" (found: {', '.join(others)})" if others else ""
    message = f"no known-deviation file for {backend} {version}{found}: write one (an empty file lists none)"
    raise InputError(path, message)


class _Lines:
    """Finds the line of an entry's keys, so every error names the line a reviewer edits."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = {
            "finding": [i for i, line in enumerate(self.lines) if re.match(r"\s*\[finding\.", line)],
            "deviation": [i for i, line in enumerate(self.lines) if re.match(r"\s*\[\[deviation\]\]", line)],
        }

    def of_finding(self, name: str, key: str | None = None) -> int | None:
        """The line of ``[finding.NAME]``, or of ``key`` inside it."""
        starts = sorted(self.headers["finding"] + self.headers["deviation"])
        for index in self.headers["finding"]:
            if re.match(rf"\s*\[finding\.\"?{re.escape(name)}\"?\]", self.lines[index]):
                if key is None:
                    return index + 1
                end = next((i for i in starts if i > index), len(self.lines))
                pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
                return next((i + 1 for i in range(index, end) if pattern.search(self.lines[i])), index + 1)
        return None

    def key(self, table: str, number: int, key: str, value: str | None = None) -> int | None:
        """The line of ``key`` (holding ``value``, when given) in the ``number``-th ``[[table]]``, else its header."""
        headers = self.headers[table]
        if number >= len(headers):
            return None
        start = headers[number]
        end = headers[number + 1] if number + 1 < len(headers) else len(self.lines)
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(key)}\s*=\s*" + (re.escape(value) if value is not None else ""))
        for index in range(start, end):
            if pattern.search(self.lines[index]):
                return index + 1
        return start + 1


def _text(path: Path, table: Mapping[str, Any], key: str, where: str, line: int | None, required: bool) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(path, f"{where}: {key!r} must be a non-empty string", line)
    return value


def _keys(path: Path, table: Mapping[str, Any], allowed: set[str], where: str, line: int | None) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(
                path, f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})", line
            )


def _close(name: str, known: Collection[str]) -> str:
    match = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _findings(path: Path, raw: Any, lines: _Lines) -> dict[str, Finding]:
    if not isinstance(raw, dict):
        raise InputError(path, "'finding' must be tables: [finding.NAME] with rule, why and link")
    findings = {}
    for name, table in raw.items():
        line = lines.of_finding(name)
        where = f"finding {name}"
        if not isinstance(table, dict):
            raise InputError(path, f"{where}: must be a table with rule, why and link", line)
        for key in table:
            if key not in _FINDING_KEYS:
                _keys(path, {key: None}, _FINDING_KEYS, where, lines.of_finding(name, key))
        link = _text(path, table, "link", where, lines.of_finding(name, "link"), required=False)
        if link and not link.startswith("https://"):
            message = f"{where}: link must be an https:// address of the upstream issue, or empty"
            raise InputError(path, message, lines.of_finding(name, "link"))
        rule, why = (
            _text(path, table, key, where, lines.of_finding(name, key), required=True) for key in ("rule", "why")
        )
        findings[name] = Finding(name, rule, why, link, line)
    return findings


def _observed(
    path: Path, raw: Any, scenario: Scenario, number: int, lines: _Lines, backend: str, fallback: str | None
) -> tuple[Observed, ...]:
    where = f"deviation of {scenario.name}"
    if not isinstance(raw, list):
        line = lines.key("deviation", number, "observed")
        raise InputError(path, f"{where}: 'observed' must be a list of {{ step, outcome }}", line)
    seen: set[int | None] = set()
    found = []
    for item in raw:
        if not isinstance(item, dict):
            raise InputError(path, f"{where}: each observed entry is {{ step = N, outcome = ... }}")
        step = item.get("step")
        shown = f'"{step}"' if isinstance(step, str) else str(step)
        line = lines.key("deviation", number, "step", shown)
        _keys(path, item, _OBSERVED_KEYS, where, line)
        outcome = item.get("outcome")
        if not isinstance(outcome, str):
            raise InputError(path, f"{where}: observed {shown} needs an outcome string", line)
        index = _step_index(path, step, scenario, where, line)
        _check_outcome(path, outcome, index, where, line)
        if index in seen:
            raise InputError(path, f"{where}: {shown} is listed twice", line)
        seen.add(index)
        entry = Observed(index, outcome, line)
        _check_deviates(path, entry, scenario, backend, fallback, where)
        found.append(entry)
    return tuple(sorted(found, key=lambda o: len(scenario.steps) if o.step is None else o.step))


def _step_index(path: Path, step: Any, scenario: Scenario, where: str, line: int | None) -> int | None:
    if step == TEARDOWN:
        return None
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= len(scenario.steps):
        count = len(scenario.steps)
        message = f'{where}: unknown step {step!r} (the scenario has steps 1 to {count}, and "teardown")'
        raise InputError(path, message, line)
    return step - 1


def _check_outcome(path: Path, outcome: str, index: int | None, where: str, line: int | None) -> None:
    if index is None:
        if not _LIVE.fullmatch(outcome):
            raise InputError(path, f"{where}: the teardown's outcome is 'N live', not {outcome!r}", line)
        return
    if not _STEP_OUTCOME.fullmatch(outcome):
        message = f"{where}: outcome {outcome!r} is not 'value N', 'trap KIND' or 'not run'"
        raise InputError(path, message, line)
    if outcome.startswith("trap ") and outcome[5:] not in {k.value for k in TrapKind}:
        kind = outcome[5:]
        known = ", ".join(k.value for k in TrapKind)
        raise InputError(
            path, f"{where}: unknown trap kind {kind!r} (known: {known}){_close(kind, known.split(', '))}", line
        )


def _check_deviates(
    path: Path, entry: Observed, scenario: Scenario, backend: str, fallback: str | None, where: str
) -> None:
    """Refuses an entry that lists what the manifest expects: nothing deviates there."""
    if entry.step is None:
        teardown = scenario.teardown_expectation(backend, fallback)
        expected = None if teardown is None else f"{teardown.live} live"
    else:
        expectation = scenario.expectation(scenario.steps[entry.step], backend, fallback)
        expected = None if expectation is None else expectation.short()
    if expected == entry.outcome:
        message = (
            f"{where}: {entry.where} lists {entry.outcome!r}, which is what the manifest expects: nothing deviates"
        )
        raise InputError(path, message, entry.line)


def _categories(path: Path, raw: Any, where: str, line: int | None) -> tuple[str, ...]:
    known = [c.value for c in Category]
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise InputError(path, f"{where}: 'diverges' must be a list of categories ({', '.join(known)})", line)
    for category in raw:
        if category not in known:
            message = f"{where}: unknown category {category!r} (known: {', '.join(known)}){_close(category, known)}"
            raise InputError(path, message, line)
    return tuple(c for c in known if c in raw)


def load_deviation_file(
    path: Path, backend: str, version: str, scenarios: Sequence[Scenario], fallback: str | None = None
) -> DeviationFile:
    """Reads and checks one file against the loaded scenarios; InputError naming file and line.

    ``fallback``: the backend's ``expectations_from``, to tell an entry that lists
    what the manifest expects anyway.
    """
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as err:
        raise InputError(path, f"cannot read the known-deviation file: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise InputError(path, "the known-deviation file is not UTF-8") from err
    except tomllib.TOMLDecodeError as err:
        line = re.search(r"line (\d+)", str(err))
        raise InputError(path, f"TOML: {str(err).split(' (at')[0]}", int(line.group(1)) if line else None) from err
    lines = _Lines(text)
    for key in data:
        if key not in ("finding", "deviation"):
            raise InputError(path, f"unknown key {key!r} (expected [finding.NAME] tables and [[deviation]] entries)")
    findings = _findings(path, data.get("finding", {}), lines)
    raw = data.get("deviation", [])
    if not isinstance(raw, list):
        raise InputError(path, "'deviation' must be [[deviation]] entries")
    by_name = {s.name: s for s in scenarios}
    deviations: dict[str, Deviation] = {}
    for number, table in enumerate(raw):
        header = lines.key("deviation", number, "scenario")
        if not isinstance(table, dict):
            raise InputError(path, "each [[deviation]] is a table", header)
        for key in table:
            if key not in _DEVIATION_KEYS:
                _keys(path, {key: None}, _DEVIATION_KEYS, "[[deviation]]", lines.key("deviation", number, key))
        name = table.get("scenario")
        if not isinstance(name, str) or name not in by_name:
            message = f"unknown scenario {name!r}" + (_close(name, by_name) if isinstance(name, str) else "")
            raise InputError(path, message, header)
        where = f"deviation of {name}"
        if name in deviations:
            raise InputError(
                path, f"{where}: the scenario is listed twice (first at line {deviations[name].line})", header
            )
        finding_name = table.get("finding")
        finding_line = lines.key("deviation", number, "finding")
        if not isinstance(finding_name, str) or finding_name not in findings:
            hint = _close(finding_name, findings) if isinstance(finding_name, str) else ""
            raise InputError(path, f"{where}: unknown finding {finding_name!r}{hint}", finding_line)
        diverges = _categories(path, table.get("diverges"), where, lines.key("deviation", number, "diverges"))
        observed = _observed(path, table.get("observed", []), by_name[name], number, lines, backend, fallback)
        if not observed and not diverges:
            raise InputError(path, f"{where}: lists no observed outcome and no divergence: nothing deviates", header)
        note = _text(path, table, "note", where, header, required=False)
        deviations[name] = Deviation(name, findings[finding_name], diverges, observed, note, header)
    used = {d.finding.name for d in deviations.values()}
    for name, finding in findings.items():
        if name not in used:
            raise InputError(path, f"finding {name} is shown by no [[deviation]]: remove it", finding.line)
    return DeviationFile(path, backend, version, findings, deviations)
