"""A wrapped scenario as component bytes with every guest's core module inside it.

Some runtimes cannot take core modules as component imports (jco's transpiler stops with
``not implemented``), and component text has no way to embed a core module's bytes as
they are. So ``wrap_scenario(..., inline_cores=True)`` writes an empty
``(core module $m.<name>)`` where the import would be, and ``with_core_modules`` puts
each guest's bytes, unchanged, into that module's section of the encoded component:
the guest runs the same bytes as under every other backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import wasmtime

#: Binary component preamble: magic, version 0x0d, layer 1.
_PREAMBLE = b"\0asm\x0d\x00\x01\x00"
#: Section id of a core module (one module per section) in the component binary format.
_CORE_MODULE_SECTION = 1
_EMPTY_CORE_MODULE = b"\0asm\x01\x00\x00\x00"


def _read_leb(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def _is_placeholder(module: bytes) -> bool:
    """Whether ``module`` is an empty core module: only custom sections (the text's ``$name``) after the preamble."""
    if not module.startswith(_EMPTY_CORE_MODULE):
        return False
    at = len(_EMPTY_CORE_MODULE)
    while at < len(module):
        if module[at] != 0:
            return False
        size, start = _read_leb(module, at + 1)
        at = start + size
    return True


def with_core_modules(text: str, modules: Sequence[bytes]) -> bytes:
    """Encodes component ``text`` and fills its top-level core module sections with ``modules``, in order.

    ``text`` must define exactly ``len(modules)`` top-level core modules, all empty
    placeholders (nested components hold their own modules in component sections,
    which are left alone). Raises ValueError when the placeholders do not match.
    """
    encoded = bytes(wasmtime.wat2wasm(text))
    if not encoded.startswith(_PREAMBLE):
        raise ValueError("not a component")
    out = bytearray(_PREAMBLE)
    at, filled = len(_PREAMBLE), 0
    while at < len(encoded):
        section = encoded[at]
        size, start = _read_leb(encoded, at + 1)
        payload = encoded[start : start + size]
        if section == _CORE_MODULE_SECTION:
            if filled >= len(modules) or not _is_placeholder(payload):
                raise ValueError("the component's core modules are not the empty placeholders of inline_cores")
            payload = modules[filled]
            filled += 1
        out += bytes([section]) + _leb(len(payload)) + payload
        at = start + size
    if filled != len(modules):
        raise ValueError(f"{len(modules)} core modules to inline, {filled} placeholders")
    return bytes(out)
