"""Loading scenario manifests: expectations, instantiation order, strict checking."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model.errors import InputError
from harness.model.scenario import MANIFEST, Scenario, discover, load_all, load_scenario
from harness.model.vocabulary import Category
from suites.unit.support import BASELINE, FIXTURE_GUESTS, copy_scenario, line_of, write_scenario

A_WAT = BASELINE / "a.wat"

HEAD = """\
title = "t"
category = "baseline"
description = "d"
diverges = []
"""

ONE_COMPONENT = (
    HEAD
    + """
[components.a]
wat = "a.wat"
"""
)


def _scenario(tmp_path: Path, body: str, components: tuple[str, ...] = ("a",)) -> Path:
    return write_scenario(tmp_path, "s", body, {f"{name}.wat": A_WAT for name in components})


def _step(expect: str) -> str:
    return f"""
[[steps]]
call = "a"
op = 1
does = "x"
{expect}
"""


def _load_error(folder: Path) -> InputError:
    with pytest.raises(InputError) as error:
        load_scenario(folder)
    return error.value


# --- expectations -------------------------------------------------------------------


@pytest.fixture
def layered(tmp_path: Path) -> Scenario:
    """Step 1 expects per pseudo and all; step 2 only all; step 3 pseudo-reuse, pseudo and all."""
    steps = (
        _step('expect.pseudo = { value = 1, rule = "p" }\nexpect.all = { value = 9, rule = "all" }')
        + _step('expect.all = { trap = "unknown-handle", rule = "all" }')
        + _step(
            'expect.pseudo-reuse = { value = 3, rule = "pr" }\n'
            'expect.pseudo = { value = 2, rule = "p" }\n'
            'expect.all = { not-run = true, rule = "all" }'
        )
    )
    teardown = '\n[teardown]\nexpect.pseudo = { live = 2, rule = "p" }\nexpect.all = { live = 0, rule = "all" }\n'
    return load_scenario(_scenario(tmp_path, ONE_COMPONENT + steps + teardown))


def test_pseudo_reuse_falls_back_to_pseudo(layered: Scenario) -> None:
    expectation = layered.expectation(layered.steps[0], "pseudo-reuse", "pseudo")
    assert expectation is not None and expectation.rule == "p"


def test_pseudo_reuse_falls_back_to_all_when_pseudo_has_none(layered: Scenario) -> None:
    expectation = layered.expectation(layered.steps[1], "pseudo-reuse", "pseudo")
    assert expectation is not None and expectation.rule == "all"


def test_own_expectation_wins_over_the_fallback(layered: Scenario) -> None:
    expectation = layered.expectation(layered.steps[2], "pseudo-reuse", "pseudo")
    assert expectation is not None and expectation.value == 3


def test_backend_without_its_own_expectation_gets_all(layered: Scenario) -> None:
    expectation = layered.expectation(layered.steps[0], "real")
    assert expectation is not None and expectation.rule == "all"


def test_no_expectation_without_own_fallback_or_all(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, ONE_COMPONENT + _step('expect.pseudo = { value = 1, rule = "p" }')))
    assert scenario.expectation(scenario.steps[0], "real") is None


def test_trap_expectation_is_read(layered: Scenario) -> None:
    trap = layered.expectation(layered.steps[1], "real")
    assert trap is not None and trap.trap == "unknown-handle"


def test_not_run_expectation_is_read(layered: Scenario) -> None:
    not_run = layered.expectation(layered.steps[2], "real")
    assert not_run is not None and not_run.not_run


def test_teardown_expectation_falls_back_to_pseudo(layered: Scenario) -> None:
    teardown = layered.teardown_expectation("pseudo-reuse", "pseudo")
    assert teardown is not None and teardown.live == 2


def test_teardown_expectation_falls_back_to_all(layered: Scenario) -> None:
    teardown = layered.teardown_expectation("real")
    assert teardown is not None and teardown.live == 0


def test_no_teardown_table_means_no_teardown_expectation(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, ONE_COMPONENT + _step('expect.all = { value = 1, rule = "r" }')))
    assert scenario.teardown_expectation("real") is None


def test_expectation_with_two_outcomes_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, ONE_COMPONENT + _step('expect.all = { value = 1, trap = "wrong-type", rule = "r" }'))
    error = _load_error(folder)
    assert error.line == line_of(folder / MANIFEST, "expect.all")
    assert "exactly one of" in error.message


def test_unknown_trap_kind_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, ONE_COMPONENT + _step('expect.all = { trap = "unknown-handel", rule = "r" }'))
    assert _load_error(folder).line == line_of(folder / MANIFEST, "unknown-handel")


def test_step_op_of_the_wrong_type_is_refused_at_its_line(tmp_path: Path) -> None:
    body = ONE_COMPONENT + _step('expect.all = { value = 1, rule = "r" }').replace("op = 1", 'op = "one"')
    folder = _scenario(tmp_path, body)
    assert _load_error(folder).line == line_of(folder / MANIFEST, 'op = "one"')


def test_step_error_names_the_line_in_that_step_not_an_earlier_one(tmp_path: Path) -> None:
    good = _step('expect.all = { value = 1, rule = "r" }')
    folder = _scenario(tmp_path, ONE_COMPONENT + good + good.replace("op = 1", 'op = "two"'))
    assert _load_error(folder).line == line_of(folder / MANIFEST, 'op = "two"')


def test_missing_step_key_names_the_line_of_that_step(tmp_path: Path) -> None:
    good = _step('expect.all = { value = 1, rule = "r" }')
    folder = _scenario(
        tmp_path, ONE_COMPONENT + good + good.replace("[[steps]]", "[[steps]]  # second").replace("op = 1\n", "")
    )
    assert _load_error(folder).line == line_of(folder / MANIFEST, "# second")


def test_key_inside_a_description_does_not_attract_the_line(tmp_path: Path) -> None:
    body = ONE_COMPONENT.replace('description = "d"', 'description = "drops the stream"')
    folder = _scenario(tmp_path, body + _step('expect.all = { value = 1, rule = "r" }').replace("op = 1", "op = 1.5"))
    assert _load_error(folder).line == line_of(folder / MANIFEST, "op = 1.5")


def test_two_outcomes_names_the_line_of_that_expectation(tmp_path: Path) -> None:
    expect = 'expect.pseudo = { value = 1, rule = "p" }\nexpect.real = { value = 1, not-run = true, rule = "r" }'
    folder = _scenario(tmp_path, ONE_COMPONENT + _step(expect))
    assert _load_error(folder).line == line_of(folder / MANIFEST, "expect.real")


BACKENDS = {"pseudo", "pseudo-reuse", "real"}


def test_misspelt_backend_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, ONE_COMPONENT + _step('expect.psuedo = { value = 1, rule = "p" }'))
    with pytest.raises(InputError) as error:
        load_scenario(folder, BACKENDS)
    assert error.value.line == line_of(folder / MANIFEST, "expect.psuedo")


def test_misspelt_backend_error_lists_the_known_names_and_the_closest(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, ONE_COMPONENT + _step('expect.psuedo = { value = 1, rule = "p" }'))
    with pytest.raises(InputError) as error:
        load_scenario(folder, BACKENDS)
    assert "(known: all, pseudo, pseudo-reuse, real); did you mean 'pseudo'?" in error.value.message


def test_misspelt_backend_in_teardown_is_refused(tmp_path: Path) -> None:
    teardown = '\n[teardown]\nexpect.reel = { live = 0, rule = "r" }\n'
    folder = _scenario(tmp_path, ONE_COMPONENT + _step('expect.all = { value = 1, rule = "a" }') + teardown)
    with pytest.raises(InputError) as error:
        load_scenario(folder, BACKENDS)
    assert (error.value.line, "did you mean 'real'?" in error.value.message) == (
        line_of(folder / MANIFEST, "expect.reel"),
        True,
    )


def _declaring(tmp_path: Path, diverges: str) -> Path:
    body = ONE_COMPONENT.replace("diverges = []", f"diverges = {diverges}")
    return _scenario(tmp_path, body + _step('expect.all = { value = 1, rule = "a" }'))


def test_declared_other_is_refused_at_the_diverges_line(tmp_path: Path) -> None:
    folder = _declaring(tmp_path, '["isolation", "other"]')
    error = _load_error(folder)
    assert (error.line, "'other' cannot be declared" in error.message) == (line_of(folder / MANIFEST, "diverges"), True)


def test_misspelt_category_is_refused_with_the_closest_one(tmp_path: Path) -> None:
    folder = _declaring(tmp_path, '["isolaton"]')
    error = _load_error(folder)
    assert (error.line, "did you mean 'isolation'?" in error.message) == (line_of(folder / MANIFEST, "diverges"), True)


def test_every_category_but_other_can_be_declared(tmp_path: Path) -> None:
    declarable = sorted(c.value for c in Category if c is not Category.OTHER)
    folder = _declaring(tmp_path, "[" + ", ".join(f'"{c}"' for c in declarable) + "]")
    assert list(load_scenario(folder).diverges) == declarable


# --- components ------------------------------------------------------------------------


def _chain(tmp_path: Path, order: tuple[str, ...], imports: dict[str, str]) -> Path:
    """Components declared in ``order``; ``imports`` maps a consumer to its peer provider."""
    tables = ""
    for name in order:
        tables += f'\n[components.{name}]\nwat = "{name}.wat"\n'
        if name in imports:
            tables += f'imports = {{ peer = "{imports[name]}" }}\n'
    body = HEAD + tables + _step('expect.all = { value = 1, rule = "r" }')
    return _scenario(tmp_path, body, order)


def test_providers_are_instantiated_before_their_consumers(tmp_path: Path) -> None:
    folder = _chain(tmp_path, ("a", "b", "c"), {"a": "b", "b": "c"})
    assert [c.name for c in load_scenario(folder).components] == ["c", "b", "a"]


def test_independent_components_keep_manifest_order(tmp_path: Path) -> None:
    folder = _chain(tmp_path, ("b", "a", "c"), {})
    assert [c.name for c in load_scenario(folder).components] == ["b", "a", "c"]


def test_import_cycle_is_refused_naming_the_manifest(tmp_path: Path) -> None:
    folder = _chain(tmp_path, ("a", "b"), {"a": "b", "b": "a"})
    error = _load_error(folder)
    assert error.path == folder / MANIFEST
    assert "cycle" in error.message


def test_import_cycle_names_the_line_of_an_import(tmp_path: Path) -> None:
    folder = _chain(tmp_path, ("a", "b"), {"a": "b", "b": "a"})
    assert _load_error(folder).line == line_of(folder / MANIFEST, "imports")


def test_self_import_is_refused(tmp_path: Path) -> None:
    folder = _chain(tmp_path, ("a",), {"a": "a"})
    assert "unknown component 'a'" in _load_error(folder).message


def test_only_peer_interfaces_can_come_from_a_component(tmp_path: Path) -> None:
    body = HEAD + '\n[components.a]\nwat = "a.wat"\nimports = { streams = "b" }\n'
    body += '\n[components.b]\nwat = "b.wat"\n' + _step('expect.all = { value = 1, rule = "r" }')
    folder = _scenario(tmp_path, body, ("a", "b"))
    assert "cannot import 'streams'" in _load_error(folder).message


def test_component_name_must_be_kebab_case(tmp_path: Path) -> None:
    body = HEAD + '\n[components.Reader_A]\nwat = "a.wat"\n' + _step('expect.all = { value = 1, rule = "r" }')
    assert "kebab-case" in _load_error(_scenario(tmp_path, body)).message


def test_missing_wat_file_is_named_at_its_manifest_line(tmp_path: Path) -> None:
    folder = write_scenario(tmp_path, "s", ONE_COMPONENT + _step('expect.all = { value = 1, rule = "r" }'), {})
    error = _load_error(folder)
    assert (error.path, error.line) == (folder / MANIFEST, line_of(folder / MANIFEST, 'wat = "a.wat"'))


# --- size, encoding, nesting ---------------------------------------------------------------


def test_oversized_manifest_is_refused_by_size(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, ONE_COMPONENT + _step('expect.all = { value = 1, rule = "r" }'))
    with (folder / MANIFEST).open("a", encoding="utf-8") as manifest:
        manifest.write("#" + "x" * (2 << 20) + "\n")
    assert "over the limit" in _load_error(folder).message


def test_deeply_nested_manifest_is_refused(tmp_path: Path) -> None:
    folder = _scenario(tmp_path, "a = " + "[" * 100_000)
    assert _load_error(folder).path == folder / MANIFEST


# --- folders --------------------------------------------------------------------------------


def test_discover_lists_scenario_folders_sorted_and_skips_others(tmp_path: Path) -> None:
    for name in ("zeta", "alpha"):
        copy_scenario(BASELINE, tmp_path, name)
    (tmp_path / "wit").mkdir()
    assert [p.name for p in discover(tmp_path)] == ["alpha", "zeta"]


def test_load_all_reports_a_broken_scenario_and_loads_the_others(tmp_path: Path) -> None:
    copy_scenario(BASELINE, tmp_path)
    broken = _scenario(tmp_path, "title = ")
    scenarios, errors = load_all(tmp_path)
    assert ([s.name for s in scenarios], [e.path for e in errors]) == (["baseline-roundtrip"], [broken / MANIFEST])


def test_load_all_refuses_a_missing_guests_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        load_all(tmp_path / "absent")
    assert error.value.path == tmp_path / "absent"


def test_every_fixture_scenario_loads() -> None:
    _, errors = load_all(FIXTURE_GUESTS)
    assert errors == []


# --- divergence declarations per backend ---------------------------------------------------


def _per_backend(tmp_path: Path, declarations: str) -> Path:
    body = ONE_COMPONENT.replace("diverges = []\n", declarations)
    return _scenario(tmp_path, body + _step('expect.all = { value = 1, rule = "a" }'))


def test_plain_diverges_is_what_pseudo_declares_against_real(tmp_path: Path) -> None:
    scenario = load_scenario(_declaring(tmp_path, '["isolation"]'), BACKENDS)
    declared = [scenario.declared_against_real(b) for b in ("pseudo", "real", "pseudo-reuse")]
    assert declared == [("isolation",), (), None]


def test_each_backend_declares_its_own_divergences_from_real(tmp_path: Path) -> None:
    folder = _per_backend(tmp_path, 'diverges.pseudo = ["use-after-free"]\ndiverges.pseudo-reuse = []\n')
    scenario = load_scenario(folder, BACKENDS)
    assert (scenario.diverges, dict(scenario.diverges_per_backend)) == (("use-after-free",), {"pseudo-reuse": ()})


def test_a_misspelt_backend_in_diverges_is_refused_at_its_line_with_the_closest_name(tmp_path: Path) -> None:
    folder = _per_backend(tmp_path, "diverges.pseudo = []\ndiverges.pseudo-reuze = []\n")
    with pytest.raises(InputError) as error:
        load_scenario(folder, BACKENDS)
    assert (error.value.line, "did you mean 'pseudo-reuse'?" in error.value.message) == (
        line_of(folder / MANIFEST, "diverges.pseudo-reuze"),
        True,
    )


def test_a_declaration_table_without_pseudo_is_refused(tmp_path: Path) -> None:
    error = _load_error(_per_backend(tmp_path, "diverges.pseudo-reuse = []\n"))
    assert "diverges.pseudo is missing" in error.message


def test_real_cannot_declare_divergences_from_itself(tmp_path: Path) -> None:
    error = _load_error(_per_backend(tmp_path, "diverges.pseudo = []\ndiverges.real = []\n"))
    assert (error.line, "'real' is the backend the declarations speak against" in error.message) == (
        line_of(Path(error.path), "diverges.real"),
        True,
    )


def test_other_is_refused_under_a_backend_too(tmp_path: Path) -> None:
    folder = _per_backend(tmp_path, 'diverges.pseudo = []\ndiverges.pseudo-reuse = ["other"]\n')
    error = _load_error(folder)
    assert (error.line, "diverges.pseudo-reuse: 'other' cannot be declared" in error.message) == (
        line_of(folder / MANIFEST, "diverges.pseudo-reuse"),
        True,
    )
