"""Generates the component text that wraps a scenario's core modules.

One outer component per scenario and backend (``compose.wrap_scenario``): it imports the host
interfaces and every guest's core module, and holds one nested component per
guest (``guest``), which turns the guest's canonical-ABI imports and exports into
component imports and exports.

Two handle models differ only here:

* ``REAL``: resources are resource types; handles are ``own``/``borrow``;
  ``resource.new/rep/drop`` are canonical built-ins, so wasmtime keeps one handle
  table per component instance (CanonicalABI.md, "Handle tables").
* ``PSEUDO``: every handle is a ``u32``; resource intrinsics are host functions
  over the store's one global table (wasmtime-wasi preview2 ``table.rs``, 2023).
"""

from __future__ import annotations

from harness.execute.wrap.compose import wrap_scenario
from harness.execute.wrap.names import (
    DRIVER_FUNC,
    PSEUDO_TABLE,
    core_import_name,
    driver_export_name,
    host_import_name,
    pseudo_name,
)
from harness.model.vocabulary import HandleModel

__all__ = [
    "DRIVER_FUNC",
    "PSEUDO_TABLE",
    "HandleModel",
    "core_import_name",
    "driver_export_name",
    "host_import_name",
    "pseudo_name",
    "wrap_scenario",
]
