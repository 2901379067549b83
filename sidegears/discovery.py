"""``rpc.discover``: the kernel's OpenRPC 1.3 document, built from the methods' signatures and docstrings.

Every method a client may call is listed (``@rpc_method`` functions and the
methods plugins serve, through the ``list_methods`` hook) with its summary and
description (the docstring), its params with JSON Schemas from the type hints,
its result schema, and the errors it documents (``@rpc_method(errors=...)``).
What the kernel sends the client is listed under extensions, since OpenRPC
describes one direction only: ``x-notifications`` (declared with
:meth:`RPCKernel.declare_notification`) and ``x-client-methods`` (requests
the kernel makes, :meth:`RPCKernel.declare_client_method`), as method objects.
Plugins change the document in the ``discover`` hook (e.g. to hide methods).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable

from .contract import schema_of, type_hints

if TYPE_CHECKING:
    from .kernel import RPCKernel

__all__ = ["OPENRPC_VERSION", "document", "method_object", "declared_object", "DISCOVER"]

#: The OpenRPC specification version the document follows.
OPENRPC_VERSION = "1.3.2"
#: The reserved method name that answers with the document (JSON-RPC reserves ``rpc.``).
DISCOVER = "rpc.discover"


def _doc_parts(func: Any) -> tuple[str | None, str | None]:
    doc = inspect.getdoc(func)
    if not doc:
        return None, None
    summary, _, rest = doc.partition("\n")
    return summary.strip() or None, rest.strip() or None


def method_object(name: str, func: Callable[..., Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The OpenRPC method object of ``func`` served as ``name``."""
    hints = type_hints(func)
    method: dict[str, Any] = {"name": name}
    summary, description = _doc_parts(func)
    if summary:
        method["summary"] = summary
    if description:
        method["description"] = description
    params = []
    structure = "either"
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    for parameter in parameters:
        if parameter.kind is parameter.POSITIONAL_ONLY:
            structure = "by-position"
        elif parameter.kind is parameter.KEYWORD_ONLY:
            structure = "by-name"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        descriptor: dict[str, Any] = {"name": parameter.name, "schema": {}}
        if parameter.name in hints:
            descriptor["schema"] = schema_of(hints[parameter.name], schemas)
        descriptor["required"] = parameter.default is parameter.empty
        params.append(descriptor)
    method["params"] = params
    method["paramStructure"] = structure
    if "return" in hints:
        method["result"] = {"name": "result", "schema": schema_of(hints["return"], schemas)}
    else:
        method["result"] = {"name": "result", "schema": {}}
    errors = getattr(func, "__rpc_errors__", ())
    if errors:
        method["errors"] = [{"code": int(code), "message": str(message)} for code, message in errors]
    return method


def declared_object(name: str, params: Any, result: Any, description: str | None, schemas: dict[str, Any]) -> dict[str, Any]:
    """A method object for a declared kernel->client notification (``result`` None) or request."""
    method: dict[str, Any] = {"name": name}
    if description:
        method["summary"], _, rest = description.partition("\n")
        if rest.strip():
            method["description"] = rest.strip()
    if params is None:
        method["params"] = []
    else:
        schema = schema_of(params, schemas)
        target = schemas.get(schema.get("$ref", "").rpartition("/")[2], schema)
        properties = target.get("properties")
        if isinstance(properties, dict):  # an object: its fields are the named params
            required = set(target.get("required", ()))
            method["params"] = [
                {"name": key, "schema": value, "required": key in required} for key, value in properties.items()
            ]
            method["paramStructure"] = "by-name"
        else:
            method["params"] = [{"name": "value", "schema": schema, "required": True}]
            method["paramStructure"] = "by-position"
    if result is not None:
        method["result"] = {"name": "result", "schema": schema_of(result, schemas)}
    return method


def document(kernel: RPCKernel) -> dict[str, Any]:
    """The kernel's OpenRPC document, after the ``discover`` hook's changes."""
    from . import __version__

    schemas: dict[str, Any] = {}
    methods = [method_object(name, func, schemas) for name, func in sorted(kernel.methods().items())]
    methods.insert(0, {
        "name": DISCOVER,
        "summary": "This document: the methods a client may call, and what the kernel sends.",
        "params": [],
        "result": {"name": "document", "schema": {"type": "object"}},
    })  # fmt: skip
    doc: dict[str, Any] = {
        "openrpc": OPENRPC_VERSION,
        "info": {"title": kernel.app_id or "SideGears app", "version": __version__},
        "methods": methods,
        "components": {"schemas": schemas},
        "x-notifications": [
            declared_object(name, params, None, description, schemas)
            for name, (params, description) in sorted(kernel.declared_notifications.items())
        ],
        "x-client-methods": [
            declared_object(name, params, result, description, schemas)
            for name, (params, result, description) in sorted(kernel.declared_client_methods.items())
        ],
    }
    kernel.plugin_manager.hook.discover(kernel=kernel, document=doc)
    return doc
