"""The WIT package, resolved by wasm-tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.model.errors import InputError
from harness.model.paths import BUILTIN_GUESTS
from harness.model.wit import load_wit


def test_builtin_package_has_its_interfaces() -> None:
    names = {iface.name for iface in load_wit(BUILTIN_GUESTS / "wit").interfaces}
    assert {"streams", "host", "probe", "driver", "peer", "counters"} <= names


def test_interfaces_are_qualified_with_package_and_version() -> None:
    assert load_wit(BUILTIN_GUESTS / "wit").interface("streams").qualified == "handle-compat:io/streams@0.1.0"


def test_resources_are_listed_with_their_interface() -> None:
    assert ("handle-compat:io/counters@0.1.0", "counter") in load_wit(BUILTIN_GUESTS / "wit").resources()


def test_method_names_keep_the_component_model_prefix() -> None:
    names = [fn.name for fn in load_wit(BUILTIN_GUESTS / "wit").interface("streams").functions]
    assert "[method]input-stream.read" in names


def test_wit_that_does_not_resolve_is_an_input_error_naming_the_folder(tmp_path: Path) -> None:
    (tmp_path / "io.wit").write_text("package a:b;\ninterface i { f: func() -> nope; }\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_wit(tmp_path)
    assert (error.value.path, error.value.message.startswith("WIT does not resolve")) == (tmp_path, True)


def test_wasm_tools_is_found_next_to_the_interpreter_without_it_on_path(tmp_path: Path) -> None:
    """``<venv>/bin/handle-compat`` works without activating the venv (its bin folder off PATH)."""
    bin_dir = Path(sys.executable).parent
    command = bin_dir / "handle-compat"
    assert command.is_file(), f"{command} is missing: install the project into this interpreter's environment"
    elsewhere = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "wasm-tools").exists()]
    env = {**os.environ, "PATH": os.pathsep.join(elsewhere), "HANDLE_COMPAT_CACHE_DIR": str(tmp_path / "cache")}
    args = ["run", "--backend", "pseudo", "-k", "baseline-roundtrip", "--reports", str(tmp_path / "reports")]
    done = subprocess.run([str(command), *args], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (0, "")
