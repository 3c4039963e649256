"""handle-compat: one set of component-model guest scenarios, run against a
pseudo-handle host and a real-handle host, with every behavioural difference
classified and explained.

The public surface: load scenarios, pick a backend (or write one), run, diff, gate.
"""

from harness.backends import Backend, available, get_backend
from harness.backends.host import HostTrap, StreamHost
from harness.diff import EXPLANATIONS, Category, Divergence, ScenarioDiff, diff_traces
from harness.errors import InputError
from harness.gate import GateResult, evaluate
from harness.run import RunContext, run_scenario
from harness.scenario import Scenario, load_all, load_scenario
from harness.trace import Trace, TraceSet, TrapKind
from harness.wrap import HandleModel

__all__ = [
    "EXPLANATIONS",
    "Backend",
    "Category",
    "Divergence",
    "GateResult",
    "HandleModel",
    "HostTrap",
    "InputError",
    "RunContext",
    "Scenario",
    "ScenarioDiff",
    "StreamHost",
    "Trace",
    "TraceSet",
    "TrapKind",
    "available",
    "diff_traces",
    "evaluate",
    "get_backend",
    "load_all",
    "load_scenario",
    "run_scenario",
]
