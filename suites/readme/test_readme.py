"""README.md's first hour, run as written: its set-up, then every command of "Using it".

The commands are read from README.md itself, so the README and this test cannot
drift apart. They run on a copy of the project (the files a clone has) in a
temporary folder, in a virtual environment made by the README's own set-up line,
so nothing here touches the working tree, its tox envs or the user's caches.
The commands run in the README's order and share that folder: ``diff`` reads
the traces ``run`` wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.model.paths import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
SET_UP, USING_IT = "## Set-up on a fresh machine", "## Using it"


def sh_lines(markdown: str, heading: str) -> list[str]:
    """The non-empty lines of every ```sh block in the section under ``heading``."""
    section = markdown.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def install_line() -> str:
    """The set-up line that gets the ``handle-compat`` command (the others run tox)."""
    lines = [line for line in sh_lines(README.read_text(encoding="utf-8"), SET_UP) if "pip install -e ." in line]
    assert len(lines) == 1, f"{SET_UP} in README.md must have one line that runs `pip install -e .`"
    return lines[0]


def activate_step() -> str:
    """How the install line activates its environment; "Using it" runs in that environment."""
    (step,) = [part.strip() for part in install_line().split("&&") if part.strip().endswith("/bin/activate")]
    return step


def _clone_files() -> list[Path]:
    """The files a clone of the project has, plus new ones not yet committed nor ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
    )
    return [Path(name) for name in listed.stdout.split("\0") if name and (PROJECT_ROOT / name).is_file()]


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the project set up by the README's install line, and the environment to run commands in."""
    root = tmp_path_factory.mktemp("readme")
    folder = root / "handle-compat"
    for name in _clone_files():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, folder / name)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("PYTEST")}
    env["HANDLE_COMPAT_CACHE_DIR"] = str(root / "cache")
    done = _shell(install_line(), folder, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield folder, env
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    "command", sh_lines(README.read_text(encoding="utf-8"), USING_IT), ids=lambda line: line.split("#")[0].strip()
)
def test_using_it_command_runs_as_written(clone: tuple[Path, dict[str, str]], command: str) -> None:
    folder, env = clone
    done = _shell(f"{activate_step()} && {command}", folder, env)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
