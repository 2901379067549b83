"""A method's typed contract: params validated and converted from its type hints, and its JSON Schemas.

A method with annotated parameters gets a :class:`Contract` (built once per
function): each annotated parameter has a pydantic ``TypeAdapter``, so the
params a client sends are checked and converted (``{"name": "a", "price":
2}`` into an ``Item`` dataclass, ``"2026-01-31"`` into a ``date``) before the
method runs, in pydantic's lax mode. A mismatch is -32602 whose ``data``
lists every problem with its path inside the params::

    {"method": "order.add", "errors": [
        {"path": "params.items[2].price", "expected": "number", "got": "abc",
         "message": "params.items[2].price: expected number, got \\"abc\\""}]}

Parameters without annotations are passed as they come; a method with no
annotated parameter has no contract and costs nothing more. The same type
hints give the JSON Schemas that ``rpc.discover`` publishes.
"""

from __future__ import annotations

import inspect
import json
import typing
from dataclasses import dataclass
from typing import Any, Callable

from .errors import InvalidParams

__all__ = ["Contract", "contract_of", "mismatch", "schema_of", "problem", "type_hints"]

#: pydantic error types, said the way a JSON user says them.
_EXPECTED = {
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "float_parsing": "number",
    "string_type": "string",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "list_type": "array",
    "tuple_type": "array",
    "set_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
    "dataclass_type": "object",
    "typed_dict_type": "object",
    "none_required": "null",
    "date_type": "date (YYYY-MM-DD)",
    "date_parsing": "date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "date (YYYY-MM-DD)",
    "datetime_type": "date-time (ISO 8601)",
    "datetime_parsing": "date-time (ISO 8601)",
    "datetime_from_date_parsing": "date-time (ISO 8601)",
    "uuid_type": "UUID",
    "uuid_parsing": "UUID",
    "decimal_type": "decimal number",
    "decimal_parsing": "decimal number",
}


def _json(value: Any) -> str:
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def problem(path: str, expected: str, got: Any = None, *, missing: bool = False) -> dict[str, Any]:
    """One entry of an Invalid params error's ``data["errors"]``."""
    if missing:
        return {"path": path, "expected": expected, "message": f"{path}: missing ({expected})"}
    return {"path": path, "expected": expected, "got": got, "message": f"{path}: expected {expected}, got {_json(got)}"}


def _path(root: str, location: tuple[Any, ...]) -> str:
    path = root
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _at(value: Any, location: tuple[Any, ...]) -> Any:
    """The part of ``value`` at ``location`` (dict keys, list indexes), or a sentinel when it is not there."""
    for part in location:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return value


_MISSING = object()


def _problems(root: str, value: Any, exc: Any) -> list[dict[str, Any]]:
    """The entries for a pydantic ValidationError raised for the parameter ``value`` at ``root``.

    pydantic reports a union's failure once per member, with the member's
    name as an extra step of the location; those are merged into one entry
    that expects any of them.
    """
    entries: list[dict[str, Any]] = []
    unions: dict[tuple[Any, ...], dict[str, Any]] = {}
    for error in exc.errors(include_url=False):
        location = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing":
            entries.append(problem(_path(root, location), "a value", missing=True))
            continue
        expected = _EXPECTED.get(kind)
        if expected is None:
            if kind in ("literal_error", "enum"):
                expected = "one of " + error.get("ctx", {}).get("expected", "?")
            else:
                expected = error["msg"][0].lower() + error["msg"][1:]  # pydantic's own words
        parent = location[:-1]
        container = _at(value, parent)
        if location and isinstance(location[-1], str) and not (isinstance(container, dict) and location[-1] in container):
            # A union member's name, not a key of the input: one entry for the union.
            merged = unions.get(parent)
            if merged is None:
                merged = unions[parent] = problem(_path(root, parent), expected, error.get("input"))
                entries.append(merged)
            elif expected not in merged["expected"].split(" or "):
                merged["expected"] += " or " + expected
                merged["message"] = f"{merged['path']}: expected {merged['expected']}, got {_json(merged['got'])}"
            continue
        entries.append(problem(_path(root, location), expected, error.get("input")))
    return entries


def invalid(method: str, errors: list[dict[str, Any]]) -> InvalidParams:
    """The -32602 for ``errors``: the message names the first, ``data`` has them all."""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidParams(f"Invalid params: {errors[0]['message']}{more}", data={"method": method, "errors": errors})


def mismatch(method: str, signature: inspect.Signature, args: Any, kwargs: Any) -> InvalidParams | None:
    """The error for params that do not bind to ``signature``, naming every missing and unexpected one; None if they bind."""
    parameters = list(signature.parameters.values())
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var_positional = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in parameters)
    errors: list[dict[str, Any]] = []
    if args:
        if len(args) > len(positional) and not var_positional:
            for index in range(len(positional), len(args)):
                message = f"params[{index}]: unexpected (the method takes {len(positional)})"
                errors.append({"path": f"params[{index}]", "message": message, "got": args[index]})
        given = {p.name for p in positional[: len(args)]}
    else:
        given = set()
        named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        for key in kwargs:
            if key not in named and not var_keyword:
                errors.append({"path": f"params.{key}", "message": f"params.{key}: unexpected name", "got": kwargs[key]})
        given = set(kwargs)
    for parameter in parameters:
        optional = parameter.default is not parameter.empty
        if optional or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name not in given:
            place = f"params.{parameter.name}" if not args else f"params[{parameters.index(parameter)}] ({parameter.name})"
            errors.append({"path": place, "message": f"{place}: missing"})
    if not errors:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:  # a shape the checks above do not cover (positional-only given by name ...)
            errors.append({"path": "params", "message": f"params: {exc}"})
    return invalid(method, errors) if errors else None


@dataclass(frozen=True)
class _Parameter:
    name: str
    kind: Any
    hint: Any  # the annotation, or Any
    adapter: Any  # a pydantic TypeAdapter, or None for an unannotated parameter


class Contract:
    """The params check and conversion of one annotated method."""

    def __init__(self, signature: inspect.Signature, hints: dict[str, Any]) -> None:
        from pydantic import TypeAdapter  # imported when the first typed method is called

        self.signature = signature
        self.parameters = [
            _Parameter(p.name, p.kind, hints.get(p.name, Any), TypeAdapter(hints[p.name]) if p.name in hints else None)
            for p in signature.parameters.values()
        ]
        self._by_name = {p.name: p for p in self.parameters if p.kind is not inspect.Parameter.VAR_KEYWORD}
        self._var_keyword = next((p for p in self.parameters if p.kind is inspect.Parameter.VAR_KEYWORD), None)
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self._positional = [p for p in self.parameters if p.kind in kinds]
        self._var_positional = next((p for p in self.parameters if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
        self._by_count: dict[int, Any] = {}
        # Named params validated at once, as a TypedDict of the parameters (none required: the shape
        # check before it names missing ones); not with **kwargs, whose names are open.
        self._named: Any = None
        if self._var_keyword is None:
            from typing_extensions import TypedDict

            fields = {p.name: p.hint for p in self.parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL}
            self._named = TypeAdapter(TypedDict("Params", fields, total=False))  # type: ignore[operator]

    def convert(self, method: str, params: Any, fits: Callable[[Any, Any], bool] | None = None) -> Any:
        """``params`` converted to the parameters' types (same shape: list or dict); raises InvalidParams.

        ``fits`` (the session's quick shape check) spares the full mismatch
        analysis for params that certainly bind.
        """
        from pydantic import ValidationError

        args: Any = params if type(params) is list else ()
        kwargs: Any = params if type(params) is dict else {}
        if fits is None or not fits(args, kwargs):
            wrong = mismatch(method, self.signature, args, kwargs)
            if wrong is not None:
                raise wrong
        try:
            if args:
                return list(self._positional_adapter(len(args)).validate_python(args))
            if self._named is not None:
                return self._named.validate_python(kwargs)
        except ValidationError as exc:
            raise invalid(method, _problems("params", params, exc)) from None
        return self._convert_one_by_one(method, args, kwargs)

    def prepare(self) -> None:
        """Build now the validators of positional params that calls build on first use, one per count of params."""
        required = sum(1 for p in self._positional if self.signature.parameters[p.name].default is inspect.Parameter.empty)
        for count in range(max(required, 1), len(self._positional) + 1):
            self._positional_adapter(count)

    def _positional_adapter(self, count: int) -> Any:
        """One validator for ``count`` positional params at once (a tuple type): one call into pydantic per call."""
        adapter = self._by_count.get(count)
        if adapter is None:
            from pydantic import TypeAdapter

            hints = [p.hint for p in self._positional[:count]]
            if count > len(self._positional):  # the rest go to *args
                rest = self._var_positional.hint if self._var_positional is not None else Any
                hints += [rest] * (count - len(self._positional))
            tuple_type: Any = tuple  # subscripted at run time with the hints: no static type to give
            adapter = self._by_count[count] = TypeAdapter(tuple_type[tuple(hints)] if hints else tuple_type[()])
        return adapter

    def _convert_one_by_one(self, method: str, args: Any, kwargs: Any) -> Any:
        """Named params with ``**kwargs``: each value through its parameter's validator."""
        from pydantic import ValidationError

        errors: list[dict[str, Any]] = []
        converted: dict[str, Any] = dict(kwargs)
        for name, value in kwargs.items():
            parameter = self._by_name.get(name, self._var_keyword)
            if parameter is None or parameter.adapter is None:
                continue
            try:
                converted[name] = parameter.adapter.validate_python(value)
            except ValidationError as exc:
                errors.extend(_problems(f"params.{name}", value, exc))
        if errors:
            raise invalid(method, errors)
        return converted


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """``func``'s resolved annotations ({} when they do not resolve: it is then treated as untyped)."""
    target = func if inspect.isfunction(func) or inspect.ismethod(func) else getattr(func, "__call__", func)  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # noqa: BLE001  (a hint that does not resolve: the method stays untyped)
        return {}


def contract_of(func: Callable[..., Any], signature: inspect.Signature | None) -> Contract | None:
    """The contract of ``func``, or None when no parameter is annotated (it is then called as before)."""
    if signature is None:
        return None
    hints = {name: hint for name, hint in type_hints(func).items() if name in signature.parameters}
    if not hints:
        return None
    return Contract(signature, hints)


def schema_of(hint: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of ``hint``, its named parts moved to ``definitions`` (OpenRPC's components.schemas)."""
    from pydantic import TypeAdapter

    try:
        schema = TypeAdapter(hint).json_schema(ref_template="#/components/schemas/{model}")
    except Exception:  # noqa: BLE001  (a type pydantic cannot describe: say nothing rather than fail discovery)
        return {}
    definitions.update(schema.pop("$defs", {}))
    return schema
