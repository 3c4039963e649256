"""Adapts the harness to pytest: options, one test item per scenario, trace files.

Loaded by the project's ``conftest.py``. Holds no harness logic: running,
checking and writing traces are the harness's own functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from harness.execute.backends import Backend, available, get_backend
from harness.execute.cache import CACHE_DIR_ENV, cache_dir_option, resolve_cache_dir
from harness.execute.inputs import fingerprint
from harness.execute.limits import DEFAULT_MEMORY_BYTES, DEFAULT_STEP_TIMEOUT_S, Limits
from harness.execute.run import RunContext, run_scenario
from harness.model.deviations import DeviationFile, find_deviation_file, load_deviation_file
from harness.model.errors import InputError
from harness.model.files import check_writable_folder, write_atomic
from harness.model.paths import BUILTIN_GUESTS, reports_for, trace_path, wit_dir_for
from harness.model.safe_text import for_terminal
from harness.model.scenario import Scenario, load_all
from harness.model.trace import Trace, merge
from harness.present import limit_options
from harness.present.selection import parse_names

_TRACES = pytest.StashKey[dict[str, list[dict[str, Any]]]]()
_CONTEXT = pytest.StashKey[RunContext]()
#: Backends by name, looked up once per session (the entry-point scan costs milliseconds).
_BACKENDS = pytest.StashKey[dict[str, Backend]]()
#: Each selected implementation backend's known-deviation file, by backend name (None: a model backend).
_DEVIATIONS = pytest.StashKey[dict[str, DeviationFile | None]]()
_WORKER_KEY = "handle_compat_traces"
#: What a bare ``pytest`` runs: the pair the project began with; tox names every backend's env.
DEFAULT_BACKENDS = ("pseudo", "real")


@dataclass(frozen=True)
class ScenarioCase:
    """One collected item: a scenario on a backend, or a scenario that failed to load."""

    backend: str
    scenario: Scenario | None
    load_error: InputError | None = None


@dataclass(frozen=True)
class ScenarioRun:
    scenario: Scenario
    backend: str
    fallback: str | None
    trace: Trace
    #: The backend's known-deviation file, for an implementation backend that has one.
    deviations: DeviationFile | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("handle-compat")
    group.addoption(
        "--backend", action="append", default=None, help="backend to run (repeatable; default: pseudo, real)"
    )
    group.addoption(
        "--backends",
        type=parse_names,
        default=None,
        help="comma-separated backends to run, as many --backend (e.g. pseudo,pseudo-reuse,real)",
    )
    group.addoption("--guests", type=Path, default=BUILTIN_GUESTS, help="folder of scenario folders")
    group.addoption(
        "--reports",
        type=Path,
        default=None,
        help="where trace files go (default: <rootdir>/reports, or <rootdir>/reports/NAME for a --guests folder NAME)",
    )
    group.addoption(
        "--cache-dir",
        type=cache_dir_option,
        default=None,
        help=f"compiled-code cache (default: ${CACHE_DIR_ENV} or ~/.cache)",
    )
    group.addoption("--no-cache", action="store_true", default=False, help="compile everything; use no cache")
    group.addoption(
        "--step-timeout",
        type=limit_options.step_timeout,
        default=DEFAULT_STEP_TIMEOUT_S,
        metavar="SECONDS",
        help="deadline of a guest call unless the manifest sets step-timeout-ms",
    )
    group.addoption(
        "--memory-limit",
        type=limit_options.memory_limit,
        default=DEFAULT_MEMORY_BYTES >> 20,
        metavar="MIB",
        help="cap of a linear memory",
    )


def _backends(config: pytest.Config) -> list[str]:
    """``--backend`` and ``--backends`` together, in order, each once; neither: DEFAULT_BACKENDS."""
    named = [*(config.getoption("backend") or ()), *(config.getoption("backends") or ())]
    return list(dict.fromkeys(named)) or list(DEFAULT_BACKENDS)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TRACES] = {}
    if not hasattr(config, "workerinput"):
        # Checked before any scenario runs: found when the trace files are written, it would lose them all.
        # Exit 2, as the command line says unusable input.
        try:
            check_writable_folder(_reports(config), "--reports")
            _deviation_files(config)
        except InputError as error:
            pytest.exit(for_terminal(str(error)), returncode=2)


def _deviation_files(config: pytest.Config) -> dict[str, DeviationFile | None]:
    """The known-deviation file of each selected implementation backend, read and checked once per process.

    A missing or invalid file is an InputError: checked before any scenario runs, it
    stops the session with one line (exit 2), as the command line does.
    """
    if _DEVIATIONS in config.stash:
        return config.stash[_DEVIATIONS]
    guests: Path = config.getoption("guests")
    files: dict[str, DeviationFile | None] = {}
    registered = available()
    scenarios: list[Scenario] | None = None
    for name in _backends(config):
        backend = registered[name]() if name in registered else None
        version = None if backend is None else backend.implementation_version()
        if backend is None or version is None:
            files[name] = None
            continue
        path = find_deviation_file(guests, name, version)
        if scenarios is None:
            scenarios, _ = load_all(guests, set(registered))
        files[name] = load_deviation_file(path, name, version, scenarios, backend.expectations_from)
    config.stash[_DEVIATIONS] = files
    return files


def _reports(config: pytest.Config) -> Path:
    """Where the trace files go: ``--reports``, else the guests folder's place under ``<rootdir>/reports``."""
    reports: Path | None = config.getoption("reports")
    return reports or reports_for(config.getoption("guests"), config.rootpath / "reports")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    guests: Path = config.getoption("guests")
    try:
        scenarios, errors = load_all(guests, set(available()))
    except InputError as error:
        raise pytest.UsageError(for_terminal(str(error))) from error
    backends = _backends(config)
    params = []
    for backend in backends:
        prefix = "" if len(backends) == 1 else f"{backend}:"
        params += [pytest.param(ScenarioCase(backend, s), id=f"{prefix}{s.name}") for s in scenarios]
        params += [
            pytest.param(ScenarioCase(backend, None, e), id=f"{prefix}{Path(e.path).parent.name}") for e in errors
        ]
    metafunc.parametrize("scenario_case", params)


def _limits(config: pytest.Config) -> Limits:
    try:
        return Limits.from_options(config.getoption("step_timeout"), config.getoption("memory_limit"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from error


@pytest.fixture(scope="session")
def run_context(pytestconfig: pytest.Config) -> RunContext:
    if _CONTEXT not in pytestconfig.stash:
        pytestconfig.stash[_CONTEXT] = RunContext(
            wit_dir_for(pytestconfig.getoption("guests")),
            cache_dir=resolve_cache_dir(pytestconfig.getoption("cache_dir"), pytestconfig.getoption("no_cache")),
            limits=_limits(pytestconfig),
        )
    return pytestconfig.stash[_CONTEXT]


@pytest.fixture
def scenario_run(scenario_case: ScenarioCase, run_context: RunContext, pytestconfig: pytest.Config) -> ScenarioRun:
    """Runs the collected scenario on its backend and records the trace for the trace file."""
    if scenario_case.scenario is None:
        pytest.fail(for_terminal(str(scenario_case.load_error)), pytrace=False)
    backends = pytestconfig.stash.setdefault(_BACKENDS, {})
    if scenario_case.backend not in backends:
        try:
            backends[scenario_case.backend] = get_backend(scenario_case.backend)
        except InputError as error:
            raise pytest.UsageError(str(error)) from error
    backend = backends[scenario_case.backend]
    trace = run_scenario(run_context, backend, scenario_case.scenario)
    pytestconfig.stash[_TRACES].setdefault(backend.name, []).append(trace.to_dict())
    try:
        listed = _deviation_files(pytestconfig).get(backend.name)
    except InputError as error:
        pytest.fail(for_terminal(str(error)), pytrace=False)
    return ScenarioRun(scenario_case.scenario, backend.name, backend.expectations_from, trace, listed)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: collect the traces a worker recorded."""
    raw = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if raw:
        traces = node.config.stash[_TRACES]
        for backend, items in json.loads(raw).items():
            traces.setdefault(backend, []).extend(items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _CONTEXT in config.stash:
        config.stash[_CONTEXT].close()
    traces = config.stash[_TRACES]
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_KEY] = json.dumps(traces)
        return
    if not traces:
        return
    # The xdist controller collects nothing itself: the scenarios are read here once.
    guests: Path = config.getoption("guests")
    reports = _reports(config)
    scenarios, _ = load_all(guests, set(available()))
    for backend, items in traces.items():
        ran = {t["scenario"] for t in items}
        backend_inputs = get_backend(backend).trace_inputs()
        inputs = fingerprint(
            [s for s in scenarios if s.name in ran], wit_dir_for(guests), _limits(config), backend_inputs
        )
        trace_set = merge(backend, version("wasmtime"), (Trace.from_dict(t) for t in items), inputs)
        write_atomic(trace_path(reports, backend), trace_set.to_json())
