"""The catalog of handle rules (``guests/rules.toml``) and the scenarios covering each.

Coverage is a claim that can be checked: a ``covered`` entry with a ``trap``
says that scenario traps with that kind on that backend; one without says which
``step`` returns a value there. The unit suite runs each to make sure. The
Markdown table in ``guests/README.md`` is rendered from the same file, so the
two cannot drift apart.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.model.errors import InputError

RULES_FILE = "rules.toml"
TABLE_START = "<!-- catalog:start -->"
TABLE_END = "<!-- catalog:end -->"
REACH = ("guest", "host", "unreachable")


@dataclass(frozen=True)
class Coverage:
    """A scenario that exercises a rule on a backend, and what it does there."""

    scenario: str
    backend: str
    #: The kind a step traps with; None: the claim is that ``step`` returns a value.
    trap: str | None
    #: The step the claim is about, counted from 1 as in the manifest; a value claim must name it.
    step: int | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    spec: str
    condition: str
    real: str
    pseudo: str
    reach: str
    why: str
    covered: tuple[Coverage, ...]


def load_rules(guests: Path) -> list[Rule]:
    """Reads and checks ``guests/rules.toml``."""
    path = guests / RULES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"cannot read rules: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise InputError(path, f"TOML syntax: {err}") from err
    rules = []
    for raw in data.get("rule", []):
        try:
            covered = tuple(
                Coverage(c["scenario"], c["backend"], c.get("trap"), c.get("step")) for c in raw.get("covered", [])
            )
            rule = Rule(
                id=raw["id"],
                spec=raw["spec"],
                condition=raw["condition"],
                real=raw["real"],
                pseudo=raw["pseudo"],
                reach=raw["reach"],
                why=raw.get("why", ""),
                covered=covered,
            )
        except KeyError as err:
            raise InputError(path, f"rule {raw.get('id', '?')!r} needs {err.args[0]!r}") from err
        if rule.reach not in REACH:
            raise InputError(path, f"rule {rule.id!r}: reach must be one of {REACH}")
        if rule.reach == "unreachable" and not rule.why:
            raise InputError(path, f"rule {rule.id!r} is unreachable but says not why")
        if rule.reach != "unreachable" and not rule.covered:
            raise InputError(path, f"rule {rule.id!r} is covered by no scenario")
        for claim in rule.covered:
            _check_claim(path, rule.id, claim)
        rules.append(rule)
    return rules


def _check_claim(path: Path, rule: str, claim: Coverage) -> None:
    """Refuses a claim that cannot be checked: a value claim must say which step returns the value."""
    where = f"rule {rule!r}: {claim.scenario} on {claim.backend}"
    if claim.step is not None and (isinstance(claim.step, bool) or not isinstance(claim.step, int) or claim.step < 1):
        raise InputError(path, f"{where}: step must be a step number counted from 1, not {claim.step!r}")
    if claim.trap is None and claim.step is None:
        raise InputError(path, f"{where} claims a value: say which step returns it (step = N)")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(rules: list[Rule]) -> str:
    """The coverage table as Markdown."""
    lines = [
        "| rule | Canonical ABI / table definition | real | pseudo | scenarios (backend: outcome) |",
        "|------|----------------------------------|------|--------|------------------------------|",
    ]
    for rule in rules:
        if rule.covered:
            shown = "<br>".join(f"`{c.scenario}` ({c.backend}: {c.trap or 'value'})" for c in rule.covered)
        else:
            shown = ""
        if rule.reach != "guest":
            shown = (shown + "<br>" if shown else "") + f"*{rule.reach}*: {rule.why}"
        lines.append(
            f"| `{rule.id}` | {_cell(rule.spec)}: {_cell(rule.condition)} | {_cell(rule.real)} "
            f"| {_cell(rule.pseudo)} | {_cell(shown)} |"
        )
    return "\n".join(lines)


def with_table(readme: str, table: str) -> str:
    """``readme`` with the text between the catalog markers replaced by ``table``."""
    if TABLE_START not in readme or TABLE_END not in readme:
        raise ValueError(f"guests/README.md has no {TABLE_START} ... {TABLE_END} markers")
    head, rest = readme.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    return f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}"
