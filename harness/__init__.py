"""handle-compat: one set of component-model guest scenarios, run against host
backends for each handle model, with every behavioural difference classified
and explained.

The package is laid out by its data flow, and imports only go downward:

- ``harness.model``: what a scenario, a trace and the WIT package are (pure data);
- ``harness.execute``: wrapping, backends, limits, the compile cache and the runner
  (the only layer that loads wasmtime);
- ``harness.compare``: expectations, the differ, the gate and the baseline (pure);
- ``harness.present``: the HTML report, the command line and the pytest plugin.

The names below are the public surface. They are loaded on first use, so that
importing a pure module (``harness.compare.diff``) does not load wasmtime.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "Backend": "harness.execute.backends",
    "available": "harness.execute.backends",
    "get_backend": "harness.execute.backends",
    "HostTrap": "harness.execute.host_trap",
    "StreamHost": "harness.execute.backends.host",
    "RunContext": "harness.execute.run",
    "run_scenario": "harness.execute.run",
    "EXPLANATIONS": "harness.compare.diff",
    "Divergence": "harness.compare.diff",
    "ScenarioDiff": "harness.compare.diff",
    "diff_traces": "harness.compare.diff",
    "GateResult": "harness.compare.gate",
    "evaluate": "harness.compare.gate",
    "InputError": "harness.model.errors",
    "Scenario": "harness.model.scenario",
    "load_all": "harness.model.scenario",
    "load_scenario": "harness.model.scenario",
    "Trace": "harness.model.trace",
    "TraceSet": "harness.model.trace",
    "Category": "harness.model.vocabulary",
    "HandleModel": "harness.model.vocabulary",
    "TrapKind": "harness.model.vocabulary",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
