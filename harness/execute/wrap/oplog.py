"""The op log in the generated wrapper: a log component, and core adapters that append to it.

Every scenario's outer component holds one log component (``$oplog-c``): a core module
with its own memory that keeps fixed-size records ``(site, position, value)``, three
``u32`` each. Each guest's nested component imports its ``append`` and puts small core
adapters between the guest and what it reaches:

* its resource intrinsics (``canon resource.new/rep/drop`` under real handles, the
  host table's functions under pseudo-handles), instantiated before the guest;
* each lowered import whose signature carries a handle, a ``u32`` or a ``list<u32>``:
  the stub table is filled with the adapter instead of the lowered function, so the
  adapter is instantiated after the guest and can read lists from its memory;
* each such export, between the lift (and the pseudo borrow adapter) and the guest's
  function, so it records what the guest itself receives and returns.

Everything textual (component, function, peer, resource) is interned at wrap time
into a *site* number (``SiteTable``); a record costs one wasm-to-wasm call and no
host call. The host drains the log once per step through the outer component's
``oplog-drain`` export, as hex text: wasmtime-py lifts a ``string`` in one piece but
a ``list<u32>`` element by element.

The peer of an export's values is whoever called it. Calls between components are
bracketed by ``enter``/``exit`` marker records from the caller's adapter, so the
decoder knows the caller (an empty bracket stack means the host called).
"""

from __future__ import annotations

import array
import enum
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.execute.core import CoreFunc, CoreImport, CoreModule
from harness.model.oplog import HOST_PEER, Action, HandleKind, Op
from harness.model.wit import Function, TypeRef, WitPackage

#: The nested components' import of the log, and the outer component's export that drains it.
OPLOG_IMPORT = "oplog"
DRAIN_EXPORT = "oplog-drain"
#: The host function the log forwards each record to once ``oplog-verbose`` was called, and that export.
SINK_IMPORT = "oplog-sink"
VERBOSE_EXPORT = "oplog-verbose"
_INTRINSIC = re.compile(r"^\[resource-(new|rep|drop)\](.+)$")
_APPEND_TYPE = '(func (param "site" u32) (param "position" u32) (param "value" u32))'


class Marker(enum.StrEnum):
    """Records that bracket a call from one component into another."""

    ENTER = "enter"
    EXIT = "exit"


@dataclass(frozen=True)
class Site:
    """Everything a record says besides its position and value."""

    component: str
    kind: Action | Marker
    func: str = ""
    #: None for an export's values: the peer is the caller, known only when the call happens.
    peer: str | None = ""
    handle: HandleKind = HandleKind.DATA
    resource: str = ""
    #: The value is an element of a ``list<u32>``, and the record's position is its place.
    element: bool = False


@dataclass
class SiteTable:
    """Sites interned while a scenario is wrapped; decodes the records drained from its log."""

    sites: list[Site] = field(default_factory=list)
    _ids: dict[Site, int] = field(default_factory=dict)

    def id(self, site: Site) -> int:
        if site not in self._ids:
            self._ids[site] = len(self.sites)
            self.sites.append(site)
        return self._ids[site]

    def decode(self, words: Sequence[int], step: int) -> tuple[Op, ...]:
        """The ops of ``words`` (``site, position, value`` triples), in the order they happened."""
        ops: list[Op] = []
        callers: list[str] = []
        count = len(words) - len(words) % 3
        for number, position, value in zip(words[0:count:3], words[1:count:3], words[2:count:3], strict=True):
            site = self.sites[number]
            if site.kind is Marker.ENTER:
                callers.append(site.component)
                continue
            if site.kind is Marker.EXIT:
                if callers:
                    callers.pop()
                continue
            peer = site.peer if site.peer is not None else (callers[-1] if callers else HOST_PEER)
            ops.append(
                Op(
                    site.component,
                    step,
                    len(ops),
                    site.kind,
                    site.func,
                    peer,
                    value,
                    site.handle,
                    site.resource,
                    position if site.element else None,
                )
            )
        return tuple(ops)


def log_component() -> list[str]:
    """The log component, its instance ``$oplog``, and the outer ``oplog-drain`` and ``oplog-verbose`` exports.

    Memory layout: bytes 0-7 the drain's return area, 8-11 unused, 12-15 how many
    records were lost (memory could not grow), records from 16. ``append`` keeps room
    for the hex text of every record after them, so ``drain`` never has to grow.

    A trap poisons the whole scenario instance, the log with it, so the records of a
    step that traps cannot be drained. The runner replays such a step in a fresh
    instance after calling ``oplog-verbose``, which makes ``append`` hand each record
    to the host at once (a host call per record: only for that one step).
    """
    module = """(core module $oplog-m
  (import "" "sink" (func $sink (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $used (mut i32) (i32.const 0))
  (global $verbose (mut i32) (i32.const 0))
  (func (export "verbose") (global.set $verbose (i32.const 1)))
  (func (export "append") (param $site i32) (param $position i32) (param $value i32)
    (local $at i32)
    (if (global.get $verbose)
      (then (call $sink (local.get $site) (local.get $position) (local.get $value)) (return)))
    (if (i32.gt_u (i32.add (i32.const 64) (i32.mul (i32.add (global.get $used) (i32.const 12)) (i32.const 3)))
                  (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
          (then (i32.store (i32.const 12) (i32.add (i32.load (i32.const 12)) (i32.const 1))) (return)))))
    (local.set $at (i32.add (i32.const 16) (global.get $used)))
    (i32.store (local.get $at) (local.get $site))
    (i32.store offset=4 (local.get $at) (local.get $position))
    (i32.store offset=8 (local.get $at) (local.get $value))
    (global.set $used (i32.add (global.get $used) (i32.const 12))))
  (func $digit (param $nibble i32) (result i32)
    (i32.add (local.get $nibble)
      (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $nibble) (i32.const 10)))))
  (func (export "drain") (result i32)
    (local $from i32) (local $end i32) (local $to i32) (local $byte i32)
    (local.set $from (i32.const 12))
    (local.set $end (i32.add (i32.const 16) (global.get $used)))
    (local.set $to (local.get $end))
    (i32.store (i32.const 0) (local.get $end))
    (i32.store (i32.const 4) (i32.shl (i32.sub (local.get $end) (local.get $from)) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $from) (local.get $end)))
        (local.set $byte (i32.load8_u (local.get $from)))
        (i32.store8 (local.get $to) (call $digit (i32.shr_u (local.get $byte) (i32.const 4))))
        (i32.store8 offset=1 (local.get $to) (call $digit (i32.and (local.get $byte) (i32.const 15))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $to (i32.add (local.get $to) (i32.const 2)))
        (br $next)))
    (i32.store (i32.const 12) (i32.const 0))
    (global.set $used (i32.const 0))
    (i32.const 0)))"""
    signature = _APPEND_TYPE[len("(func ") : -1]
    return [
        '(alias export $oplog-sink "append" (func $oplog-sink.append))',
        "(component $oplog-c",
        f'(import "sink" (func $sink {signature}))',
        "(core func $sink (canon lower (func $sink)))",
        module,
        '(core instance $oplog-i (instantiate $oplog-m (with "" (instance (export "sink" (func $sink))))))',
        f'(func (export "append") {signature} (canon lift (core func $oplog-i "append")))',
        '(func (export "drain") (result string)'
        ' (canon lift (core func $oplog-i "drain") (memory (core memory $oplog-i "memory")) string-encoding=utf8))',
        '(func (export "verbose") (canon lift (core func $oplog-i "verbose")))',
        ")",
        '(instance $oplog (instantiate $oplog-c (with "sink" (func $oplog-sink.append))))',
        '(alias export $oplog "drain" (func $oplog.drain))',
        '(alias export $oplog "verbose" (func $oplog.verbose))',
        f'(export "{DRAIN_EXPORT}" (func $oplog.drain))',
        f'(export "{VERBOSE_EXPORT}" (func $oplog.verbose))',
    ]


def sink_import() -> list[str]:
    """The outer component's import of the host's record sink (``log_component`` uses it)."""
    return [f'(import "{SINK_IMPORT}" (instance $oplog-sink (export "append" {_APPEND_TYPE})))']


def decode_hex(text: str) -> tuple[int, Sequence[int]]:
    """(records lost, the record words) from the drained hex text (little-endian u32 words), decoded in bulk."""
    raw = bytes.fromhex(text)
    words = array.array("I", raw[: len(raw) - len(raw) % 4])
    if sys.byteorder == "big":
        words.byteswap()
    return (words[0], words[1:]) if words else (0, words)


#: The position of the slot that records an export's return (``Action.RETURN``) after the call.
_RETURNED = -2


@dataclass(frozen=True)
class _Slot:
    """A logged value in a core signature: a parameter (``position``), the result (-1) or the return (-2)."""

    position: int
    site: int
    #: A ``list<u32>``: ``position`` is its pointer, ``position + 1`` its length.
    element: bool = False


def _flat_width(wit: WitPackage, ref: TypeRef) -> int | None:
    """Core values a WIT value flattens to (CanonicalABI.md ``flatten_type``); None if unknown here."""
    kind = wit.kind(ref)
    if isinstance(kind, str):
        return 2 if kind == "string" else 1
    if not isinstance(kind, dict):
        return None
    if "handle" in kind or "enum" in kind:
        return 1
    if "list" in kind:
        return 2
    if "type" in kind:
        return _flat_width(wit, kind["type"])
    if "flags" in kind:
        return (len(kind["flags"]["flags"]) + 31) // 32
    parts: list[TypeRef | None] = []
    if "record" in kind:
        widths = [_flat_width(wit, f["type"]) for f in kind["record"]["fields"]]
        return None if None in widths else sum(w for w in widths if w is not None)
    if "tuple" in kind:
        widths = [_flat_width(wit, t) for t in kind["tuple"]["types"]]
        return None if None in widths else sum(w for w in widths if w is not None)
    if "option" in kind:
        parts = [kind["option"]]
    elif "result" in kind:
        parts = [kind["result"].get("ok"), kind["result"].get("err")]
    elif "variant" in kind:
        parts = [case.get("type") for case in kind["variant"]["cases"]]
    else:
        return None
    widths = [0 if part is None else _flat_width(wit, part) for part in parts]
    return None if None in widths else 1 + max((w for w in widths if w is not None), default=0)


def _value_kind(wit: WitPackage, ref: TypeRef, incoming_own_types: set[str]) -> tuple[HandleKind, str, bool] | None:
    """(handle kind, resource, is a list element) for a loggable value type, else None."""
    kind = wit.kind(ref)
    if kind == "u32":
        return HandleKind.DATA, "", False
    if isinstance(kind, dict) and "list" in kind and wit.kind(kind["list"]) == "u32":
        return HandleKind.DATA, "", True
    if isinstance(kind, dict) and "type" in kind and isinstance(kind["type"], (int, str)):
        return _value_kind(wit, kind["type"], incoming_own_types)
    if isinstance(kind, dict) and "handle" in kind:
        ((mode, target),) = kind["handle"].items()
        resource = wit.type_name(wit.resolve_alias(target)) or ""
        if mode == "own":
            return HandleKind.OWN, resource, False
        return (HandleKind.REP if resource in incoming_own_types else HandleKind.BORROW), resource, False
    return None


@dataclass
class GuestLog:
    """Writes the adapters of one guest component; ``providers`` maps an imported interface to its component."""

    wit: WitPackage
    sites: SiteTable
    component: str
    providers: dict[str, str]

    def import_line(self) -> str:
        """The log's import into the nested component (imports come before any definition)."""
        return f'(import "{OPLOG_IMPORT}" (instance $oplog (export "append" {_APPEND_TYPE})))'

    @staticmethod
    def append_func() -> str:
        """``$oplog.append``, the core function every adapter calls."""
        return '(core func $oplog.append (canon lower (func $oplog "append")))'

    def _site(self, kind: Action | Marker, func: str = "", peer: str | None = "", **rest: object) -> int:
        return self.sites.id(Site(self.component, kind, func, peer, **rest))  # type: ignore[arg-type]

    def _slots(
        self, fn: Function, core_func: CoreFunc, func: str, peer: str | None, outgoing: bool, own_types: set[str]
    ) -> list[_Slot] | None:
        """The logged values of ``fn`` as the guest's core function sees them; None when nothing is logged."""
        widths = [_flat_width(self.wit, p.type) for p in fn.params]
        result_width = 0 if fn.result is None else _flat_width(self.wit, fn.result)
        if None in widths or result_width is None:
            return None
        expected = sum(w for w in widths if w is not None) + (1 if outgoing and result_width > 1 else 0)
        if len(core_func.params) != expected:
            return None
        param_action, result_action = (
            (Action.CALL_OUT, Action.RESULT_IN) if outgoing else (Action.CALL_IN, Action.RESULT_OUT)
        )
        slots, position = [], 0
        for param, width in zip(fn.params, widths, strict=True):
            found = _value_kind(self.wit, param.type, set() if outgoing else own_types)
            if found is not None:
                handle, resource, element = found
                site = self._site(param_action, func, peer, handle=handle, resource=resource, element=element)
                slots.append(_Slot(position, site, element))
            position += width or 0
        found = None if fn.result is None else _value_kind(self.wit, fn.result, set())
        if found is not None and not found[2] and core_func.results == ("i32",):
            handle, resource, _ = found
            slots.append(_Slot(-1, self._site(result_action, func, peer, handle=handle, resource=resource)))
        return slots or None

    def intrinsics(self, entries: Sequence[tuple[int, CoreImport]]) -> tuple[list[str], dict[str, str]]:
        """Adapters for the intrinsic imports ``$k<number>``; returns the lines and the idents to use instead."""
        adapted = []
        for number, imp in entries:
            match = _INTRINSIC.match(imp.name)
            if match is None:
                continue
            action, resource = Action(match.group(1)), match.group(2)
            handle = HandleKind.OWN if action is Action.NEW else HandleKind.ANY
            func = f"{imp.module.removeprefix('[export]')}#{imp.name}"
            site = self._site(action, func, "", handle=handle, resource=resource)
            adapted.append((number, imp.func, [_Slot(-1 if action is Action.NEW else 0, site)], None, None))
        if not adapted:
            return [], {}
        return self._adapter_module("$kl", "k", adapted, None), {f"$k{n}": f"$kl{n}" for n, *_ in adapted}

    def lowered(
        self, entries: Sequence[tuple[int, CoreImport, Function]], memory: str | None
    ) -> tuple[list[str], dict[str, str]]:
        """Adapters for the lowered imports ``$l<number>`` that carry loggable values."""
        adapted = []
        for number, imp, fn in entries:
            provider = self.providers.get(imp.module)
            peer = provider if provider is not None else HOST_PEER
            slots = self._slots(fn, imp.func, f"{imp.module}#{imp.name}", peer, True, set())
            if slots is None:
                continue
            markers = None
            if provider is not None:
                markers = (self._site(Marker.ENTER), self._site(Marker.EXIT))
            adapted.append((number, imp.func, slots, markers, None))
        if not adapted:
            return [], {}
        return self._adapter_module("$lo", "l", adapted, memory), {f"$l{n}": f"$lo{n}" for n, *_ in adapted}

    def exports(
        self, core: CoreModule, entries: Sequence[tuple[str, Function]], own_types: set[str]
    ) -> tuple[list[str], dict[str, str]]:
        """One adapter module before the guest's exports ``(core name, function)`` that carry loggable values.

        Returns its lines and, by core name, what to lift (or hand to the pseudo borrow
        adapter) instead of the guest's own function. One module for all of a guest's
        exports keeps the wrapper small: each core module costs compile and instantiate time.
        """
        adapted: list[tuple[int, CoreFunc, list[_Slot], tuple[int, int] | None, str | None]] = []
        instead: dict[str, str] = {}
        for core_name, fn in entries:
            export = core.export(core_name)
            if export is None or export.func is None:
                continue
            slots = self._slots(fn, export.func, core_name, None, False, own_types)
            if slots is not None:
                if any(self.sites.sites[s.site].handle in (HandleKind.BORROW, HandleKind.REP) for s in slots):
                    slots.append(_Slot(_RETURNED, self._site(Action.RETURN, core_name, None)))
                instead[core_name] = f'$xl-i "x{len(adapted)}"'
                adapted.append((len(adapted), export.func, slots, None, f'$g "{core_name}"'))
        if not adapted:
            return [], {}
        memory = '$g "memory"' if core.export("memory") else None
        return self._adapter_module("$xl", "x", adapted, memory), instead

    def _adapter_module(
        self,
        ident: str,
        prefix: str,
        adapted: Sequence[tuple[int, CoreFunc, list[_Slot], tuple[int, int] | None, str | None]],
        memory: str | None,
    ) -> list[str]:
        """One core module of adapters ``<prefix><number>``, each calling its target and appending records.

        A target is the core func ``$<prefix><number>`` of the nested component, or ``inner``
        when given. Lists are read from ``memory`` when the guest has one (a guest without
        memory cannot pass lists); the list reader is left out when no value is a list.
        """
        imports = ['(import "" "append" (func $append (param i32 i32 i32)))']
        funcs = []
        withs = ['(export "append" (func $oplog.append))']
        lists = memory is not None and any(slot.element for _, _, slots, _, _ in adapted for slot in slots)
        if lists:
            imports.append('(import "" "memory" (memory 0))')
            funcs.append(_LIST_LOGGER)
            withs.append(f'(export "memory" (memory {memory}))')
        aliases = []
        for number, func, slots, markers, inner in adapted:
            name = f"{prefix}{number}"
            imports.insert(0, f"(type $t{number} {func.wat()})")
            imports.append(f'(import "" "{name}" (func $f{number} (type $t{number})))')
            withs.append(f'(export "{name}" (func {inner if inner is not None else "$" + name}))')
            funcs.append(_adapter_func(name, number, len(func.params), slots, markers, lists))
            aliases.append(f'(alias core export {ident}-i "{name}" (core func {ident}{number}))')
        decls = imports + funcs
        return [
            f"(core module {ident}-m {' '.join(decls)})",
            f'(core instance {ident}-i (instantiate {ident}-m (with "" (instance {" ".join(withs)}))))',
            *aliases,
        ]


#: Appends one record per element of a ``list<u32>`` when the whole list lies in memory
#: (otherwise the canonical ABI traps on it, and the log must not trap first).
_LIST_LOGGER = """(func $list (param $site i32) (param $ptr i32) (param $len i32) (local $i i32)
    (if (i64.gt_u (i64.add (i64.extend_i32_u (local.get $ptr))
                           (i64.shl (i64.extend_i32_u (local.get $len)) (i64.const 2)))
                  (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then (return)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $append (local.get $site) (local.get $i)
          (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))"""


def _adapter_func(
    name: str, number: int, arity: int, slots: list[_Slot], markers: tuple[int, int] | None, has_memory: bool
) -> str:
    """Records the parameters, calls the target, records the result; the guest sees no difference."""
    body = []
    result = next((s for s in slots if s.position == -1), None)
    returned = next((s for s in slots if s.position == _RETURNED), None)
    for slot in slots:
        if slot.position < 0:
            continue
        if slot.element:
            if has_memory:
                body.append(
                    f"(call $list (i32.const {slot.site}) (local.get {slot.position}) (local.get {slot.position + 1}))"
                )
            continue
        body.append(f"(call $append (i32.const {slot.site}) (i32.const 0) (local.get {slot.position}))")
    if markers is not None:
        body.append(f"(call $append (i32.const {markers[0]}) (i32.const 0) (i32.const 0))")
    body.append(f"(call $f{number} {' '.join(f'(local.get {i})' for i in range(arity))})")
    if result is not None:
        body.append("(local.set $r)")
    if markers is not None:
        body.append(f"(call $append (i32.const {markers[1]}) (i32.const 0) (i32.const 0))")
    if result is not None:
        body.append(f"(call $append (i32.const {result.site}) (i32.const 0) (local.get $r))")
    if returned is not None:
        body.append(f"(call $append (i32.const {returned.site}) (i32.const 0) (i32.const 0))")
    if result is not None:
        body.append("(local.get $r)")
    local = " (local $r i32)" if result is not None else ""
    return f'(func (export "{name}") (type $t{number}){local} {" ".join(body)})'
