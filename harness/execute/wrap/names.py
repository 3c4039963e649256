"""Names shared by the wrapper and the backends: the handle models and import/export names."""

from __future__ import annotations

import re

from harness.model.vocabulary import HandleModel

#: The instance that serves resource intrinsics under the pseudo model.
PSEUDO_TABLE = "handle-compat:pseudo/table"
#: The host instance a guest's destructors report to before they run (every model).
DESTRUCTORS = "handle-compat:harness/destructors"
DRIVER_FUNC = "run"


def dtor_export_name(qualified: str, resource: str) -> str:
    """Core export of a guest resource's destructor, as wit-component names it (optional)."""
    return f"{qualified}#[dtor]{resource}"


def destroyed_name(resource: str) -> str:
    """Host function of the destructors instance that records a guest resource's destructor run."""
    return f"destroyed-{resource}"


def pseudo_dtor_name(resource: str) -> str:
    """Under the pseudo model, the extra export of a defining guest's interface that runs the destructor."""
    return f"dtor-{resource}"


def destructors_import_name(component: str) -> str:
    return f"{component}-destructors"


def pseudo_name(wit_name: str) -> str:
    """Component-level name of a function once its handles are plain ``u32``.

    Names like ``[method]r.f`` are only valid on resource types, so under the
    pseudo model they become ``method-r-f``; the core import names do not change.
    """
    match = re.match(r"^\[(constructor|method|static|resource-new|resource-rep|resource-drop)\](.+)$", wit_name)
    if not match:
        return wit_name
    kind, rest = match.groups()
    return f"{kind}-{rest.replace('.', '-')}"


def host_import_name(model: HandleModel, component: str, qualified: str, has_resources: bool) -> str:
    """Import name of a host interface in the outer component.

    Each guest gets its own copy of a host instance so the host knows which
    component called, except under the real model for interfaces that mention
    resource types: those are shared, because a handle can only cross between
    components whose resource types are the same.
    """
    if model is HandleModel.REAL and has_resources:
        return qualified
    short = qualified.split("/")[1].split("@")[0]
    return f"{component}-{short}"


def core_import_name(component: str) -> str:
    return f"core-{component}"


def driver_export_name(component: str) -> str:
    return f"{component}-{DRIVER_FUNC}"


def quote(text: str) -> str:
    return '"' + text + '"'
