"""Reads a running scenario's op log: once per step, through the outer component's drain export."""

from __future__ import annotations

import wasmtime
from wasmtime.component import Instance

from harness.execute.wrap.oplog import DRAIN_EXPORT, SiteTable, decode_hex
from harness.model.oplog import Op


def drain(store: wasmtime.Store, instance: Instance, sites: SiteTable, step: int) -> tuple[tuple[Op, ...], int]:
    """(the ops recorded since the last drain, how many records were lost), and empties the log.

    Only after a step that returned: a trap poisons the whole scenario instance, the
    log with it (the runner replays such a step to recover its ops).
    """
    func = instance.get_func(store, DRAIN_EXPORT)
    if func is None:
        raise RuntimeError(f"the wrapped scenario exports no {DRAIN_EXPORT}")
    lost, words = decode_hex(str(func(store)))
    return sites.decode(words, step), lost
