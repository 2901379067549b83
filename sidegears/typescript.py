"""``sidegears types``: TypeScript declarations of a kernel's contract, from its ``rpc.discover`` document.

::

    sidegears types app.py -o src/kernel-api.d.ts
    sidegears types --url 'ws://127.0.0.1:5678/?token=...' -o src/kernel-api.d.ts

The file written declares, with no import (it compiles on its own):

- ``KernelApi``: every method a client may call by position (``paramStructure``
  ``either`` or ``by-position``), as a function of its params in declared
  order (optional ones optional) returning its result; dotted names nest
  (``files.list`` is ``files: { list(...) }``), as the client's requester
  proxy walks them. ``createClient<KernelApi>()`` types ``requester`` with it.
- ``KernelMethods``: every method by name, ``{ params, result }``, where
  ``params`` is the positional tuple and/or the named-params object: the
  only typed way to call a by-name method (``sendRequest`` with an object),
  since the requester always sends positional params.
- ``KernelNotifications``: each ``x-notifications`` entry's params by name
  (``createClient<KernelApi, KernelNotifications>()`` types ``onNotify``).
- ``KernelClientMethods``: each ``x-client-methods`` entry as the handler
  ``register`` takes.
- an interface (or type alias) per ``components.schemas`` entry.

JSON Schema to TypeScript covers what pydantic writes: the scalar types,
``const``/``enum`` (literal unions), ``anyOf``/``oneOf`` (unions),
``allOf`` (intersections), arrays, tuples (``prefixItems``), objects
(``properties``/``required``, ``additionalProperties``) and ``$ref``;
anything else is ``unknown``, which claims nothing.

An app file is loaded in a child process (see :func:`document_of_app`), a
running kernel is asked over its websocket (:func:`document_of_url`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "declarations",
    "ts_type",
    "document_of_app",
    "document_of_url",
    "add_types_command",
    "TypesError",
]

# Names TypeScript refuses as a parameter or type name (``this`` would declare a this-parameter).
_RESERVED = frozenset(
    "break case catch class const continue debugger default delete do else enum export extends false finally "
    "for function if import in instanceof new null return super switch this throw true try typeof var void "
    "while with implements interface let package private protected public static yield arguments eval "
    "any unknown never number string boolean object symbol bigint undefined await".split()
)
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SIMPLE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]*$")  # a name or keyword: `T[]` needs no parentheses
# Property names the client's requester proxy does not turn into calls (see client/src/client.js).
_NOT_PROXIED = frozenset({"then", "toJSON", "toString", "valueOf", "constructor"})
#: The names of the declarations the file always has; a schema of the same name gets another one.
TOP_NAMES = ("KernelApi", "KernelMethods", "KernelNotifications", "KernelClientMethods")


class TypesError(Exception):
    """Why no declarations could be written (said to the user as ``sidegears types: ...``)."""


# -- JSON Schema -> TypeScript ------------------------------------------------------------


def _key(name: str) -> str:
    """A property key: bare when it is an identifier, else a string literal."""
    return name if _IDENTIFIER.match(name) else json.dumps(name)


def _literal(value: Any) -> str:
    if isinstance(value, (str, bool, int, float)) or value is None:
        return json.dumps(value)  # JSON's literals are TypeScript's (json.dumps escapes non-ASCII)
    return "unknown"  # an array or object constant: not worth a literal type


def _union(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    if "unknown" in unique:
        return "unknown"  # unknown absorbs every other member
    if len(unique) > 1 and "never" in unique:
        unique.remove("never")
    return " | ".join(unique) if unique else "never"


def _array_of(element: str) -> str:
    return f"{element}[]" if _SIMPLE.match(element) else f"Array<{element}>"


def _comment(text: str | None, indent: str = "") -> list[str]:
    """A JSDoc comment of ``text`` (none for no text), ``*/`` escaped."""
    if not text or not text.strip():
        return []
    lines = text.strip().replace("*/", "*\\/").splitlines()
    if len(lines) == 1:
        return [f"{indent}/** {lines[0]} */"]
    return [f"{indent}/**", *(f"{indent} * {line}".rstrip() for line in lines), f"{indent} */"]


class _Types:
    """Turns schemas into TypeScript, ``$ref`` names into the file's names for them."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = dict(schemas)  # root() adds to it
        self.names: dict[str, str] = {}
        self._taken = set(TOP_NAMES)
        for name in schemas:
            self._name(name)

    def _name(self, name: str) -> str:
        """The file's name for the schema ``name``: an identifier, unique, not one of TOP_NAMES."""
        base = re.sub(r"[^A-Za-z0-9_$]", "_", name) or "Schema"
        if base[0].isdigit() or base in _RESERVED:
            base = "_" + base
        candidate, n = base, 2
        while candidate in self._taken:
            candidate, n = f"{base}{n}", n + 1
        self._taken.add(candidate)
        self.names[name] = candidate
        return candidate

    def root(self, schema: Any) -> str:
        """The type of a param's or result's schema, naming a class given whole.

        pydantic writes a model, dataclass, TypedDict or enum given as the
        type itself inline, titled with the class's name (only the types
        inside are ``$ref``): it is named here too, as a declaration of
        its own, rather than repeated in every method that takes it.
        """
        title = schema.get("title") if isinstance(schema, dict) else None
        if not isinstance(title, str) or not ("properties" in schema or "enum" in schema) or "$ref" in schema:
            return self.type(schema)
        if title not in self.schemas:
            self.schemas[title] = schema
            self._name(title)
        elif self.schemas[title] != schema:
            return self.type(schema)  # another type of the same name: inline
        return self.names[title]

    def ref(self, ref: str) -> str:
        prefix = "#/components/schemas/"
        name = ref[len(prefix) :] if ref.startswith(prefix) else None
        return self.names.get(name, "unknown") if name is not None else "unknown"

    def type(self, schema: Any) -> str:
        """The TypeScript type of ``schema`` (one line)."""
        if schema is False:
            return "never"
        if not isinstance(schema, dict):
            return "unknown"
        if isinstance(schema.get("$ref"), str):
            return self.ref(schema["$ref"])
        if "const" in schema:
            return _literal(schema["const"])
        if isinstance(schema.get("enum"), list):
            return _union([_literal(value) for value in schema["enum"]])
        for combinator in ("anyOf", "oneOf"):
            if isinstance(schema.get(combinator), list):
                return _union([self.type(member) for member in schema[combinator]])
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            parts = [self.type(member) for member in schema["allOf"]]
            parts = [p for p in dict.fromkeys(parts) if p != "unknown"] or ["unknown"]
            return " & ".join(f"({p})" if " | " in p else p for p in parts)
        kind = schema.get("type")
        if isinstance(kind, list):
            return _union([self.type({**schema, "type": k}) for k in kind])
        if kind in ("integer", "number"):
            return "number"
        if kind in ("string", "boolean", "null"):
            return str(kind)  # the same word in TypeScript
        if kind == "array" or (kind is None and ("items" in schema or "prefixItems" in schema)):
            return self._array(schema)
        if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
            return self._object(schema)
        return "unknown"

    def _array(self, schema: dict[str, Any]) -> str:
        prefix, rest = schema.get("prefixItems"), schema.get("items")
        if isinstance(rest, list):  # draft 7's tuple form: items is the list, additionalItems the rest
            prefix, rest = rest, schema.get("additionalItems")
        if not isinstance(prefix, list):
            return _array_of(self.type(rest if rest is not None else {}))
        required = schema.get("minItems", len(prefix))
        elements = []
        for index, item in enumerate(prefix):
            element = self.type(item)
            if index >= required:  # a tuple shorter than its prefix may leave the last ones out
                element = (f"({element})" if " | " in element or " & " in element else element) + "?"
            elements.append(element)
        if rest is not False and schema.get("maxItems") != len(prefix):
            elements.append("..." + _array_of(self.type(rest if rest is not None else {})))
        return "[" + ", ".join(elements) + "]"

    def members(self, schema: dict[str, Any], indent: str) -> list[str]:
        """The property lines of an object schema (with their descriptions as comments)."""
        properties = schema.get("properties")
        required = set(schema.get("required") or ())
        lines: list[str] = []
        for name, sub in (properties if isinstance(properties, dict) else {}).items():
            if isinstance(sub, dict):
                lines += _comment(sub.get("description"), indent)
            optional = "" if name in required else "?"
            lines.append(f"{indent}{_key(name)}{optional}: {self.type(sub)};")
        return lines

    def _index(self, schema: dict[str, Any]) -> str | None:
        """The type of the keys not listed in ``properties``, or None when there are none."""
        extra = schema.get("additionalProperties")
        if extra is False:
            return None
        if isinstance(extra, dict):
            return self.type(extra)
        # Not said: a model's fields are all there is; a bare object (dict) may hold anything.
        return "unknown" if extra is True or not schema.get("properties") else None

    def _object(self, schema: dict[str, Any]) -> str:
        members = " ".join(self.members(schema, "")).rstrip(";")
        index = self._index(schema)
        index_type = f"{{ [key: string]: {index} }}" if index is not None else None
        if not members:
            return index_type or "{}"
        listed = "{ " + members + " }"
        # Both: an intersection, since an index signature must also fit every listed property.
        return f"{listed} & {index_type}" if index_type else listed

    def declaration(self, name: str, schema: Any) -> list[str]:
        """``export interface`` for a plain object schema, else ``export type``."""
        lines = _comment(schema.get("description") if isinstance(schema, dict) else None)
        if (
            isinstance(schema, dict)
            and schema.get("type") == "object"
            and isinstance(schema.get("properties"), dict)
            and self._index(schema) is None
            and not any(key in schema for key in ("anyOf", "oneOf", "allOf", "enum", "const", "$ref"))
        ):
            return [*lines, f"export interface {name} {{", *self.members(schema, "  "), "}"]
        return [*lines, f"export type {name} = {self.type(schema)};"]


def ts_type(schema: Any, schemas: dict[str, Any] | None = None) -> str:
    """The TypeScript type of a JSON Schema (``$ref`` names as :func:`declarations` names them)."""
    return _Types(schemas or {}).type(schema)


# -- the document -> declarations ---------------------------------------------------------


def _parameter_name(name: Any, index: int) -> str:
    text = re.sub(r"[^A-Za-z0-9_$]", "_", str(name)) or f"arg{index}"
    return text + "_" if text in _RESERVED or text[0].isdigit() else text


def _positional(types: _Types, params: list[dict[str, Any]]) -> list[str]:
    """``name: T`` / ``name?: T`` in declared order, usable as parameters and as labelled tuple elements."""
    last_required = max((i for i, p in enumerate(params) if p.get("required", False)), default=-1)
    parts = []
    for index, param in enumerate(params):
        name = _parameter_name(param.get("name"), index)
        type_ = types.root(param.get("schema", {}))
        if param.get("required", False) or index < last_required:
            # An optional one before a required one (not possible in Python) must still be given.
            parts.append(f"{name}: {type_ if param.get('required', False) else _union([type_, 'undefined'])}")
        else:
            parts.append(f"{name}?: {type_}")
    return parts


def _named(types: _Types, params: list[dict[str, Any]]) -> str:
    members = [
        f"{_key(str(p.get('name')))}{'' if p.get('required', False) else '?'}: {types.root(p.get('schema', {}))}"
        for p in params
    ]
    return "{ " + "; ".join(members) + " }" if members else "Record<string, never>"


def _result(types: _Types, method: dict[str, Any]) -> str:
    result = method.get("result")
    return types.root(result.get("schema", {})) if isinstance(result, dict) else "unknown"


def _method_comment(method: dict[str, Any], indent: str) -> list[str]:
    text = "\n\n".join(part for part in (method.get("summary"), method.get("description")) if part)
    errors = [f"@throws {e.get('code')}: {e.get('message')}" for e in method.get("errors") or () if isinstance(e, dict)]
    return _comment("\n".join(filter(None, [text, *errors])), indent)


def _proxy_path(name: str) -> list[str] | None:
    """The property path the requester proxy follows for ``name``; None when it cannot call it."""
    parts = name.split(".")
    if any(not part or part in _NOT_PROXIED or part.startswith("__") for part in parts):
        return None
    return parts


def _render_tree(node: dict[str, Any], indent: str) -> list[str]:
    lines: list[str] = []
    for segment, child in node.items():
        call, children = child.get(""), {k: v for k, v in child.items() if k != ""}
        if call is not None:
            method, signature = call
            lines += _method_comment(method, indent)
            if not children:
                lines.append(f"{indent}{_key(segment)}{signature};")
                continue
        # A namespace (files.list); with a call too, an object that is also callable.
        lines.append(f"{indent}{_key(segment)}: {{")
        if call is not None:
            lines.append(f"{indent}  {signature};")
        lines += _render_tree(children, indent + "  ")
        lines.append(f"{indent}}};")
    return lines


def declarations(document: dict[str, Any], source: str = "rpc.discover") -> str:
    """The TypeScript declarations (a ``.d.ts`` module) of an OpenRPC document from ``rpc.discover``."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    types = _Types(schemas)
    out = [
        "// TypeScript declarations of a SideGears kernel's methods, notifications and types.",
        f"// Generated by `sidegears types` from {source}: do not edit; run it again after changing the kernel.",
        "// Use: createClient<KernelApi, KernelNotifications>() (see the client's README, TypeScript).",
        "",
    ]
    tree: dict[str, Any] = {}
    by_name: list[str] = []
    skipped: list[str] = []
    methods = [m for m in document.get("methods") or () if isinstance(m, dict) and isinstance(m.get("name"), str)]
    for method in methods:
        name, params = method["name"], [p for p in method.get("params") or () if isinstance(p, dict)]
        structure = method.get("paramStructure", "either")
        result = _result(types, method)
        comment = _method_comment(method, "  ")
        shapes = []
        if structure != "by-name":
            shapes.append("[" + ", ".join(_positional(types, params)) + "]")
        if structure != "by-position" and params:
            shapes.append(_named(types, params))
        by_name += [*comment, f"  {json.dumps(name)}: {{ params: {' | '.join(shapes) or '[]'}; result: {result} }};"]
        path = _proxy_path(name)
        if structure == "by-name" or path is None:
            skipped.append(name)
            continue
        node = tree
        for segment in path:
            node = node.setdefault(segment, {})
        signature = "(" + ", ".join(_positional(types, params)) + f"): {result}"
        node[""] = (method, signature)

    out += ["/** The methods the client's requester can call: `createClient<KernelApi>().requester.files.list(dir)`. */"]
    if skipped:
        out += ["// Not here (call them with sendRequest, see KernelMethods): " + ", ".join(skipped)]
    out += ["export interface KernelApi {", *_render_tree(tree, "  "), "}", ""]
    out += [
        "/** Every method: its params (positional tuple and/or named object) and result, for sendRequest. */",
        "export interface KernelMethods {",
        *by_name,
        "}",
        "",
    ]

    notifications = []
    for note in document.get("x-notifications") or ():
        if not isinstance(note, dict) or not isinstance(note.get("name"), str):
            continue
        params = [p for p in note.get("params") or () if isinstance(p, dict)]
        if not params:
            shape = "undefined"  # the kernel sends it without params
        elif note.get("paramStructure") == "by-name":
            shape = _named(types, params)
        else:
            shape = "[" + ", ".join(_positional(types, params)) + "]"
        notifications += [*_method_comment(note, "  "), f"  {json.dumps(note['name'])}: {shape};"]
    out += [
        "/** The notifications the kernel sends, name -> params: createClient<KernelApi, KernelNotifications>(). */",
        "export interface KernelNotifications {",
        *notifications,
        "}",
        "",
    ]

    client_methods = []
    for call in document.get("x-client-methods") or ():
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            continue
        params = [p for p in call.get("params") or () if isinstance(p, dict)]
        # As register() calls the handler: array params spread, named params as one object.
        if call.get("paramStructure") == "by-name" and params:
            arguments = f"params: {_named(types, params)}"
        else:
            arguments = ", ".join(_positional(types, params))
        result = _result(types, call) if "result" in call else "unknown"
        returns = result if result == "unknown" else f"{result} | Promise<{result}>"
        client_methods += [*_method_comment(call, "  "), f"  {json.dumps(call['name'])}({arguments}): {returns};"]
    out += [
        "/** The methods the kernel calls on the client, as `register(name, handler)` handlers. */",
        "export interface KernelClientMethods {",
        *client_methods,
        "}",
    ]

    for name, schema in types.schemas.items():  # the document's, then those root() named
        out += ["", *types.declaration(types.names[name], schema)]
    return "\n".join(out) + "\n"


# -- where the document comes from ------------------------------------------------------


def _shown(url: str) -> str:
    """``url`` with its token hidden, for messages and the file's header."""
    return re.sub(r"([?&]token=)[^&#]*", r"\1...", url)


def document_of_url(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The ``rpc.discover`` document of the kernel running at ``url`` (token in its query)."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI, InvalidStatus
    from websockets.sync.client import connect

    shown = _shown(url)
    try:
        # The document of a big app may pass websockets' 1 MiB default.
        with connect(url, open_timeout=timeout, max_size=64 * 2**20) as websocket:
            websocket.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}))
            while True:  # notifications may come first
                reply = json.loads(websocket.recv(timeout=timeout))
                if isinstance(reply, dict) and reply.get("id") == 1:
                    break
    except InvalidURI as exc:
        raise TypesError(f"not a websocket URL: {shown} ({exc})") from None
    except InvalidStatus as exc:
        # The kernel says why in the body (nothing secret in it): a wrong token, a foreign Host ...
        why = exc.response.body.decode("utf-8", "replace").strip()[:200] if exc.response.body else ""
        hint = "; give the URL the app printed, with its ?token=..." if exc.response.status_code == 403 else ""
        raise TypesError(f"{shown} refused the connection ({why or f'HTTP {exc.response.status_code}'}){hint}") from None
    except ConnectionClosed as exc:
        if exc.rcvd is not None and exc.rcvd.code == 4001:
            raise TypesError(f"{shown} refused the token: give the URL the app printed, with ?token=...") from None
        raise TypesError(f"{shown} closed the connection before answering rpc.discover ({exc})") from None
    except TimeoutError:
        raise TypesError(f"{shown} did not answer rpc.discover within {timeout:g} s") from None
    except (OSError, InvalidHandshake) as exc:
        raise TypesError(f"cannot connect to {shown}: {exc}. Is the app running?") from None
    if "error" in reply:
        raise TypesError(f"{shown} answered rpc.discover with an error: {reply['error'].get('message')}")
    document = reply.get("result")
    if not isinstance(document, dict):
        raise TypesError(f"{shown} answered rpc.discover with no document")
    return document


class _Found(BaseException):
    pass


def _discover_child() -> int:
    """In the child process of :func:`document_of_app`: run the app until it starts a kernel.

    ``RPCKernel.start`` and ``astart`` are replaced by a function that
    writes that kernel's document and ends the process at once: nothing
    listens, no window opens, and neither the app's exception handlers nor
    its threads can keep it going.
    """
    path, out = sys.argv[1], sys.argv[2]
    from sidegears.discovery import document
    from sidegears.kernel import RPCKernel

    def found(kernel: RPCKernel, *args: Any, **kwargs: Any) -> Any:
        Path(out).write_text(json.dumps(document(kernel)), encoding="utf-8")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    async def afound(kernel: RPCKernel, *args: Any, **kwargs: Any) -> Any:
        found(kernel)

    RPCKernel.start = found  # type: ignore[method-assign, assignment]
    RPCKernel.astart = afound  # type: ignore[method-assign, assignment]
    import runpy

    sys.argv = [path]
    sys.path.insert(0, str(Path(path).resolve().parent))
    runpy.run_path(path, run_name="__main__")
    return 3  # it ended without starting a kernel


def document_of_app(path: Path, timeout: float = 60.0) -> dict[str, Any]:
    """The ``rpc.discover`` document of the kernel the app file ``path`` starts, without serving it.

    The app runs as ``sidegears run`` runs it (as ``__main__``, its folder
    first on ``sys.path``), in a child process, until it starts its kernel
    (``run_app``, ``serve``, ``kernel.start()``, ``astart``, ``async with``):
    the document is built from that kernel, and the child ends. A child,
    because an app's ``@rpc_method`` functions join a process-wide table
    and its imports stay: this process (a test run, say) keeps its own.
    What the app prints goes to standard error, keeping standard output
    for the declarations.
    """
    if not path.is_file():
        raise TypesError(f"no such file: {path}")
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    # The child imports this same sidegears, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="sidegears-types-") as folder:
        out = Path(folder) / "document.json"
        code = "import sys; from sidegears.typescript import _discover_child; sys.exit(_discover_child())"
        try:
            child = subprocess.run(
                [sys.executable, "-c", code, str(path), str(out)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                env=env,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise TypesError(f"{path} did not start its kernel within {timeout:g} s") from None
        sys.stderr.write(child.stdout + child.stderr)
        if out.is_file():
            return json.loads(out.read_text(encoding="utf-8"))
    if child.returncode == 3 or child.returncode == 0:
        raise TypesError(
            f"{path} started no kernel. `sidegears types` runs the app until it starts one: end it with "
            '`if __name__ == "__main__": sys.exit(run_app(create_kernel))`, or call kernel.start()'
        )
    raise TypesError(f"{path} failed before starting its kernel (exit status {child.returncode}); see above")


# -- the command ----------------------------------------------------------------------------


def add_types_command(subparsers: Any) -> None:
    """Add ``sidegears types`` to the ``sidegears`` command's subparsers."""
    types = subparsers.add_parser(
        "types",
        help="write TypeScript declarations of an app's methods and notifications (from rpc.discover)",
        description=run_types.__doc__,
    )
    types.add_argument("path", type=Path, nargs="?", help="the app's Python file, e.g. app.py")
    types.add_argument("--url", help="ask the kernel running at this websocket URL instead: ws://127.0.0.1:PORT/?token=...")
    types.add_argument("-o", "--output", type=Path, help="the file to write, e.g. src/kernel-api.d.ts (default: standard output)")
    types.set_defaults(command="types", handler=run_types)


def run_types(args: argparse.Namespace) -> int:
    """Write TypeScript declarations of a kernel's methods, notifications and types, from its rpc.discover.

    Give the app's file (it runs until it starts its kernel, which then
    ends without serving) or --url, the address of a running kernel. The
    file declares KernelApi and KernelNotifications for
    createClient<KernelApi, KernelNotifications>().
    """
    if (args.path is None) == (args.url is None):
        print("usage: sidegears types (path/to/app.py | --url ws://HOST:PORT/?token=...) [-o FILE]", file=sys.stderr)
        print("sidegears types: give the app's Python file or --url, one of them", file=sys.stderr)
        return 2
    try:
        if args.url is not None:
            document, source = document_of_url(args.url), _shown(args.url)
        else:
            document, source = document_of_app(args.path), args.path.name
    except TypesError as exc:
        print(f"sidegears types: {exc}", file=sys.stderr)
        return 1
    text = declarations(document, source)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    count = sum(1 for m in document.get("methods") or () if isinstance(m, dict))
    print(f"wrote {args.output}: {count} methods, {len(document.get('x-notifications') or ())} notifications", file=sys.stderr)
    return 0
