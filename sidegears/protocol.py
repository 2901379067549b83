"""JSON-RPC 2.0 without I/O: parse and validate incoming text, build and encode replies.

Nothing here touches a socket or the event loop, so every rule of the
specification (https://www.jsonrpc.org/specification) is tested without one.

JSON is strict in both directions (RFC 8259): ``NaN``, ``Infinity`` and numbers
that do not fit a double are rejected when parsed, and never produced.
"""

from __future__ import annotations

import json
import math
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from dataclasses import dataclass, field
from typing import Any, Union

from .errors import InternalError, InvalidRequest, ParseError, RPCError

__all__ = [
    "NO_ID",
    "Request",
    "Response",
    "Incoming",
    "decode",
    "encode",
    "parse_message",
    "parse_value",
    "success",
    "failure",
    "notification",
    "request",
    "encode_reply",
    "MAX_NESTING",
    "nesting_depth",
]


class _NoId:
    """The id of a notification: absent, which differs from ``"id": null``."""

    _instance: _NoId | None = None

    def __new__(cls) -> _NoId:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_ID"

    def __bool__(self) -> bool:
        return False


NO_ID: Any = _NoId()

Params = Union[list, dict, None]


@dataclass(slots=True)
class Request:
    """A request or, when ``id`` is :data:`NO_ID`, a notification.

    ``params`` is a list, a dict, or None when the message had none. Plugins may
    change ``method`` and ``params`` in ``before_dispatch``.
    """

    method: str
    params: Params = None
    id: Any = NO_ID

    @property
    def is_notification(self) -> bool:
        return self.id is NO_ID

    def to_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": self.method}
        if self.params is not None:
            message["params"] = self.params
        if self.id is not NO_ID:
            message["id"] = self.id
        return message


@dataclass(slots=True)
class Response:
    """A response sent by the client to a kernel->client request."""

    id: Any
    result: Any = None
    error: RPCError | None = None


@dataclass(slots=True)
class Incoming:
    """One parsed websocket message.

    ``items`` holds, in order, a :class:`Request`, a :class:`Response`, or a
    ready error reply (a dict) for each member; ``is_batch`` says whether the
    replies must be sent back as an array. ``error`` is set instead when the
    whole message fails (not JSON, an empty batch): send it alone.
    """

    items: list[Request | Response | dict[str, Any]] = field(default_factory=list)
    is_batch: bool = False
    error: dict[str, Any] | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


# Built once: json.loads and json.dumps with options build a new codec per call.
_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_parse_float)
# Output is ASCII, as json.dumps' is by default: escaping for ASCII is about
# 20 % faster than ensure_ascii=False on ASCII text (the usual case; measured
# on a 1 MB string), encoding it to UTF-8 is a copy, and a lone surrogate
# (valid in JSON text, not in UTF-8) goes out as an escape instead of failing.
# Other non-ASCII characters travel as \u escapes: up to 6 bytes each
# instead of 2 to 4, which loopback does not notice.
def json_default(value: Any) -> Any:
    """The one rule for result values JSON has no type for: pydantic's JSON mode.

    Dataclasses, pydantic models and TypedDicts become objects; enums their
    values; ``datetime``, ``date`` and ``time`` ISO 8601 strings; ``UUID``,
    ``Decimal`` and ``Path`` strings; sets, frozensets and tuples arrays.
    Called only for such values, so plain results cost nothing more.
    """
    from pydantic_core import PydanticSerializationError, to_jsonable_python

    try:
        return to_jsonable_python(value)
    except PydanticSerializationError as exc:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable") from exc


_encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"), default=json_default)


# The C scanner and encoder that json.loads and json.dumps end in, called
# directly: their Python wrappers (whitespace regexes, a new C encoder per
# call) cost more than the C work on a small message: 1.35 -> 0.69 µs to
# decode a request, 1.9 -> 0.7 µs to encode a reply. Anything they do not take
# at once (whitespace around the text, an error) goes through the full path,
# so results and error messages are json's own.
_scan = _decoder.scan_once  # type: ignore[attr-defined]
_encode_at_once = (
    c_make_encoder(None, _encoder.default, encode_basestring_ascii, None, ":", ",", False, False, False)
    if c_make_encoder is not None
    else None
)


#: Levels of arrays and objects a message may have, in and out. Deeper input
#: is -32700; a deeper result is -32603. Fixed well below what the
#: interpreter's recursion can follow, so whatever is read can be answered.
MAX_NESTING = 256


def nesting_depth(value: Any, limit: int = MAX_NESTING, budget: int | None = None) -> int | None:
    """Levels of arrays and objects in ``value`` (a scalar is 0), counting no further than ``limit + 1``.

    With ``budget``, gives up (None) once more than that many items were looked at.
    """
    depth = 0
    seen = 0
    level = [value]
    while level and depth <= limit:
        containers = [item for item in level if type(item) is list or type(item) is dict]
        if not containers:
            break
        depth += 1
        level = [child for item in containers for child in (item.values() if type(item) is dict else item)]
        seen += len(level)
        if budget is not None and seen > budget:
            return None
    return depth


def _too_deep(text: str, value: Any) -> bool:
    # This runs for every message, so the cheap looks come first. Each level
    # takes two characters: short text needs no look. Walking the value costs
    # per item (a 1 MB string is one item), counting brackets costs per
    # character (1.5 ms a MB): walk while that is cheaper, else count first,
    # since fewer than MAX_NESTING + 1 brackets rule it out.
    if len(text) <= 2 * MAX_NESTING:
        return False
    depth = nesting_depth(value, budget=len(text) // 256)
    if depth is None:
        if text.count("[") + text.count("{") <= MAX_NESTING:
            return False
        depth = nesting_depth(value)
    assert depth is not None
    return depth > MAX_NESTING


def decode(text: str | bytes) -> Any:
    """Parse strict JSON text; raise :class:`ParseError` saying why it is not (nested deeper than :data:`MAX_NESTING` included)."""
    if type(text) is str:
        try:
            value, end = _scan(text, 0)
        except Exception:  # noqa: BLE001  (the full path below says what is wrong)
            pass
        else:
            if end == len(text):
                if _too_deep(text, value):
                    raise ParseError(data=_NESTED)
                return value
    try:
        if not isinstance(text, str):
            text = bytes(text).decode(json.detect_encoding(text))
        if text.startswith("\ufeff"):
            raise ValueError("Unexpected UTF-8 BOM (decode using utf-8-sig)")
        value = _decoder.decode(text)
    except (ValueError, RecursionError) as exc:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors; RecursionError
        # comes from deeply nested arrays.
        raise ParseError(data=_describe_json_error(exc)) from None
    if _too_deep(text, value):
        raise ParseError(data=_NESTED)
    return value


_NESTED = f"JSON nested deeper than {MAX_NESTING} levels"


def _describe_json_error(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return _NESTED
    return str(exc)[:200]


def encode(message: Any) -> str:
    """Encode a message as compact, strict, ASCII-only JSON (raises ValueError or TypeError)."""
    if _encode_at_once is not None:
        try:
            return "".join(_encode_at_once(message, 0))
        except Exception:  # noqa: BLE001  (not JSON, or circular: the full path raises json's own error)
            pass
    return _encoder.encode(message)


def _valid_id(value: Any) -> bool:
    # The specification allows a string, a number or null; a boolean is not a number.
    return value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _parse_member(value: Any) -> Request | Response | dict[str, Any]:
    """Validate one decoded message object; an invalid one becomes its error reply."""
    if type(value) is dict:
        # Fast path for the usual well-formed request; anything else is checked in full below.
        method = value.get("method")
        params = value.get("params")
        msg_id = value.get("id", NO_ID)
        id_type = type(msg_id)
        if (
            type(method) is str
            and value.get("jsonrpc") == "2.0"
            and (id_type is int or id_type is str or msg_id is NO_ID)
            and (type(params) is list or type(params) is dict or "params" not in value)
        ):
            return Request(method, params, msg_id)
    return _parse_member_in_full(value)


def _parse_member_in_full(value: Any) -> Request | Response | dict[str, Any]:
    if not isinstance(value, dict):
        return failure(None, InvalidRequest(data="a JSON-RPC message must be an object"))
    msg_id = value.get("id", NO_ID)
    reply_id = msg_id if msg_id is not NO_ID and _valid_id(msg_id) else None
    if value.get("jsonrpc") != "2.0":
        return failure(reply_id, InvalidRequest(data='"jsonrpc" must be exactly "2.0"'))
    if msg_id is not NO_ID and not _valid_id(msg_id):
        return failure(None, InvalidRequest(data='"id" must be a string, a number or null'))
    if "method" not in value and ("result" in value or "error" in value):
        return _parse_response(value, msg_id)
    method = value.get("method")
    if not isinstance(method, str):
        return failure(reply_id, InvalidRequest(data='"method" must be a string'))
    params = value.get("params")
    if params is not None and not isinstance(params, (list, dict)):
        return failure(reply_id, InvalidRequest(data='"params" must be an array or an object'))
    if "params" in value and params is None:
        return failure(reply_id, InvalidRequest(data='"params" must be an array or an object'))
    return Request(method, params, msg_id)


def _parse_response(value: dict[str, Any], msg_id: Any) -> Response | dict[str, Any]:
    if msg_id is NO_ID or ("result" in value) == ("error" in value):
        return failure(None, InvalidRequest(data="a response needs an id and exactly one of result, error"))
    error = value.get("error")
    if "error" in value:
        if not (isinstance(error, dict) and isinstance(error.get("code"), int) and isinstance(error.get("message"), str)):
            return failure(None, InvalidRequest(data="a response error needs an integer code and a string message"))
        return Response(msg_id, None, RPCError(error["code"], error["message"], error.get("data")))
    return Response(msg_id, value["result"])


def parse_value(value: Any, max_batch: int | None = None) -> Incoming:
    """Turn decoded JSON into an :class:`Incoming` (see :func:`parse_message`)."""
    if isinstance(value, dict):
        return Incoming([_parse_member(value)])
    if isinstance(value, list):
        if not value:
            return Incoming(error=failure(None, InvalidRequest(data="empty batch")))
        if max_batch is not None and len(value) > max_batch:
            return Incoming(error=failure(None, InvalidRequest(data=f"batch of {len(value)} exceeds the limit of {max_batch}")))
        return Incoming([_parse_member(member) for member in value], is_batch=True)
    return Incoming(error=failure(None, InvalidRequest(data="a JSON-RPC message must be an object or an array")))


def parse_message(text: str | bytes, max_batch: int | None = None) -> Incoming:
    """Parse one websocket text message into requests, responses and error replies.

    Never raises: text that is not JSON gives an ``Incoming`` whose ``error``
    is the -32700 reply.
    """
    try:
        value = decode(text)
    except ParseError as exc:
        return Incoming(error=failure(None, exc))
    return parse_value(value, max_batch)


def success(msg_id: Any, result: Any) -> dict[str, Any]:
    """The reply to a request that succeeded."""
    return {"jsonrpc": "2.0", "result": result, "id": msg_id}


def failure(msg_id: Any, error: RPCError) -> dict[str, Any]:
    """The reply to a request that failed (``msg_id`` None when it is unknown)."""
    return {"jsonrpc": "2.0", "error": error.to_dict(), "id": msg_id}


def notification(method: str, params: Params = None) -> dict[str, Any]:
    """A notification message (no id, no reply)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def request(msg_id: Any, method: str, params: Params = None) -> dict[str, Any]:
    """A request message expecting a reply with the same id."""
    message = notification(method, params)
    message["id"] = msg_id
    return message


def encode_reply(reply: dict[str, Any] | list[dict[str, Any]]) -> str:
    """Encode a reply (or batch of replies); a result that is not JSON, or nested too deeply, becomes -32603.

    The method already ran, so the client must still get an answer for its
    id: it gets an Internal error naming the reason instead of the result.
    In a batch only the members that cannot be encoded are replaced.
    """
    try:
        text = encode(reply)
    except (TypeError, ValueError, RecursionError):
        pass
    else:
        if not _too_deep(text, reply):
            return text
    if isinstance(reply, list):
        return "[" + ",".join(encode_reply(item) for item in reply) + "]"
    return encode(failure(reply.get("id"), _unencodable(reply)))


def _unencodable(reply: dict[str, Any]) -> RPCError:
    part = "result" if "result" in reply else "error data"
    try:
        text = encode(reply.get("result"))
    except (TypeError, ValueError) as exc:
        return InternalError(data=f"result is not JSON: {exc}"[:300])
    except RecursionError:
        return InternalError(data=f"result nested deeper than {MAX_NESTING} levels")
    if part == "result" and _too_deep(text, reply.get("result")):
        return InternalError(data=f"result nested deeper than {MAX_NESTING} levels")
    return InternalError(data="error data is not JSON")
