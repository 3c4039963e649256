"""A program as an ordinary scenario: in memory for a campaign, as a folder for a finding.

Both forms have the same components (the chain ``a -> b -> c``, each importing the next
one's ``peer`` and the leaf's ``counters``), the same core modules (``node.wat`` and
``leaf.wat``, the two variants of ``interpreter.wat``) and the same steps, so what runs,
diffs, gates and renders scenarios works on either unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.fuzz.program import Program, variant
from harness.model.files import write_atomic
from harness.model.scenario import ComponentSpec, Expectation, Scenario, Step, TeardownExpectation

NODE_WAT, LEAF_WAT = "node.wat", "leaf.wat"


def write_cores(folder: Path) -> None:
    """Writes the interpreter's two variants into ``folder`` (unchanged files are left alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, kind in ((NODE_WAT, "node"), (LEAF_WAT, "leaf")):
        text = variant(kind)
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)


def components(program: Program, folder: Path) -> tuple[ComponentSpec, ...]:
    """The chain's components, providers first (the leaf, then back to ``a``)."""
    specs = []
    for name in reversed(program.components):
        if name == program.leaf:
            specs.append(ComponentSpec(name, folder / LEAF_WAT))
        else:
            imports = {"peer": program.next_of(name), "counters": program.leaf}
            specs.append(ComponentSpec(name, folder / NODE_WAT, imports))
    return tuple(specs)


def in_memory(program: Program, folder: Path, name: str = "fuzz") -> Scenario:
    """``program`` as a Scenario without expectations, its cores in ``folder`` (see ``write_cores``)."""
    steps = tuple(Step(s.component, int(s.code), s.arg, s.words(), {}) for s in program.steps)
    return Scenario(
        name=name,
        path=folder,
        title="generated program",
        category="baseline",
        description=program.text(),
        components=components(program, folder),
        steps=steps,
        diverges=(),
        teardown={},
    )


@dataclass(frozen=True)
class Kept:
    """What a finding's manifest says beyond the program: expectations per backend and step, and why."""

    title: str
    description: str
    rule: str
    category: str
    #: Per step: backend -> expectation (``expect.<backend>``).
    expect: tuple[dict[str, Expectation], ...]
    teardown: dict[str, TeardownExpectation]
    diverges: tuple[str, ...]


def _inline(expectation: Expectation) -> str:
    if expectation.not_run:
        what = "not-run = true"
    elif expectation.trap is not None:
        what = f"trap = {json.dumps(expectation.trap)}"
    else:
        what = f"value = {expectation.value}"
    return f"{{ {what}, rule = {json.dumps(expectation.rule)} }}"


def manifest(program: Program, kept: Kept) -> str:
    """The ``scenario.toml`` text of a kept finding."""
    lines = [
        f"title = {json.dumps(kept.title)}",
        f"category = {json.dumps(kept.category)}",
        f'description = """\n{kept.description}\n"""',
        f"rule = {json.dumps(kept.rule)}",
        f"diverges = {json.dumps(list(kept.diverges))}",
    ]
    for spec in components(program, Path()):
        lines += ["", f"[components.{spec.name}]", f"wat = {json.dumps(spec.wat.name)}"]
        if spec.imports:
            pairs = ", ".join(f"{key} = {json.dumps(value)}" for key, value in spec.imports.items())
            lines.append(f"imports = {{ {pairs} }}")
    for step, expect in zip(program.steps, kept.expect, strict=True):
        lines += ["", "[[steps]]", f"call = {json.dumps(step.component)}", f"op = {int(step.code)}"]
        lines += [f"arg = {step.arg}", f"does = {json.dumps(step.words())}"]
        lines += [f"expect.{backend} = {_inline(e)}" for backend, e in expect.items()]
    lines += ["", "[teardown]"]
    for backend, t in kept.teardown.items():
        lines.append(f"expect.{backend} = {{ live = {t.live}, rule = {json.dumps(t.rule)} }}")
    return "\n".join(lines) + "\n"


def write_folder(program: Program, kept: Kept, folder: Path) -> Path:
    """Writes the finding as a scenario folder (manifest and both cores), ready to copy into ``guests/``."""
    write_cores(folder)
    write_atomic(folder / "scenario.toml", manifest(program, kept))
    return folder
