"""Spells WIT types in component-model text, for one handle model."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.execute.wrap.names import pseudo_name, quote
from harness.model.errors import InputError
from harness.model.vocabulary import HandleModel
from harness.model.wit import Function, TypeRef, WitPackage


@dataclass
class Scope:
    """Maps WIT type indices to WAT identifiers within one component or instance type."""

    ids: dict[int, str] = field(default_factory=dict)


class TypeWriter:
    """WIT types as component-model text; under the pseudo model every handle is ``u32``."""

    def __init__(self, wit: WitPackage, model: HandleModel) -> None:
        self.wit = wit
        self.model = model

    def val(self, ref: TypeRef, scope: Scope) -> str:
        if isinstance(ref, str):
            return ref
        kind = self.wit.kind(ref)
        if ref in scope.ids:
            return scope.ids[ref]
        if isinstance(kind, dict):
            if "handle" in kind:
                if self.model is HandleModel.PSEUDO:
                    return "u32"
                ((mode, target),) = kind["handle"].items()
                return f"({mode} {self._named(target, scope)})"
            if "list" in kind:
                return f"(list {self.val(kind['list'], scope)})"
            if "option" in kind:
                return f"(option {self.val(kind['option'], scope)})"
            if "tuple" in kind:
                return "(tuple " + " ".join(self.val(t, scope) for t in kind["tuple"]["types"]) + ")"
            if "result" in kind:
                ok, err = kind["result"].get("ok"), kind["result"].get("err")
                parts = ["result"]
                if ok is not None:
                    parts.append(self.val(ok, scope))
                if err is not None:
                    parts.append(f"(error {self.val(err, scope)})")
                return "(" + " ".join(parts) + ")"
            if "type" in kind:
                return self.val(kind["type"], scope)
        raise InputError("WIT", f"type {self.wit.type_name(ref) or ref} is not supported by the wrapper")

    def _named(self, index: int, scope: Scope) -> str:
        if index in scope.ids:
            return scope.ids[index]
        resolved = self.wit.resolve_alias(index)
        if resolved in scope.ids:
            return scope.ids[resolved]
        raise InputError("WIT", f"type {self.wit.type_name(index)} is not in scope")

    def definition(self, index: int) -> str | None:
        """Text of a named value type (enum, record, ...), or None for resources/aliases."""
        kind = self.wit.kind(index)
        if isinstance(kind, dict) and "enum" in kind:
            return "(enum " + " ".join(quote(c["name"]) for c in kind["enum"]["cases"]) + ")"
        if isinstance(kind, dict) and "flags" in kind:
            return "(flags " + " ".join(quote(f["name"]) for f in kind["flags"]["flags"]) + ")"
        if isinstance(kind, dict) and "record" in kind:
            fields = " ".join(
                f"(field {quote(f['name'])} {self.val(f['type'], Scope())})" for f in kind["record"]["fields"]
            )
            return f"(record {fields})"
        return None

    def func(self, fn: Function, scope: Scope) -> str:
        params = " ".join(f"(param {quote(p.name)} {self.val(p.type, scope)})" for p in fn.params)
        result = f" (result {self.val(fn.result, scope)})" if fn.result is not None else ""
        return f"(func {params}{result})".replace("(func  ", "(func ")

    def func_name(self, fn: Function) -> str:
        return pseudo_name(fn.name) if self.model is HandleModel.PSEUDO else fn.name

    def flat_width(self, ref: TypeRef) -> int:
        """How many core parameters a WIT value flattens to (CanonicalABI.md ``flatten_type``)."""
        kind = self.wit.kind(ref)
        if kind == "string" or (isinstance(kind, dict) and "list" in kind):
            return 2
        if isinstance(kind, str) or (isinstance(kind, dict) and ("handle" in kind or "enum" in kind)):
            return 1
        if isinstance(kind, dict) and "type" in kind:
            return self.flat_width(kind["type"])
        raise InputError("WIT", f"a parameter of type {kind} before a borrow is not supported by the pseudo wrapper")
