"""JSON-RPC 2.0 without I/O: parse and validate incoming text, build and encode replies.

Nothing here touches a socket or the event loop, so every rule of the
specification (https://www.jsonrpc.org/specification) is tested without one.

JSON is strict in both directions (RFC 8259): ``NaN``, ``Infinity`` and numbers
that do not fit a double are rejected when parsed, and never produced.

Two codecs give the same answers: the standard library's ``json``, and
orjson (in the ``speed`` extra), which is used whenever it can be imported.
``SIDEGEARS_JSON=stdlib`` in the environment when this module is first
imported keeps to ``json`` (``SIDEGEARS_JSON=orjson`` insists on orjson,
any other value is an error);
:func:`use_codec` switches at run time, for every kernel of the process, and
:data:`CODEC` names the one in use. Only :func:`decode`,
:func:`encode_bytes` and :func:`encode_reply_bytes` (what the kernel uses)
change with it; :func:`encode` and :func:`encode_reply` always give
``json``'s ASCII-only text. orjson's answers are ``json``'s: whatever orjson
would answer otherwise goes through ``json`` instead (text orjson refuses,
so the -32700 message is ``json``'s own; integers beyond 64 bits, which
orjson reads as floats and cannot write; ``NaN`` and ``Infinity``, which it
writes as ``null``; lone surrogates, keys that are not strings, subclasses
of the JSON types); values ``json`` hands to :func:`json_default` go to it
from orjson too (dataclasses and datetimes included, which orjson would
write its own way). orjson writes UTF-8, not ``\\u`` escapes.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import os
import re
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from dataclasses import dataclass, field
from typing import Any, Callable, Union

try:
    import orjson as _orjson
except ImportError:  # the speed extra is not installed
    _orjson = None  # type: ignore[assignment]

from .errors import InternalError, InvalidRequest, ParseError, RPCError

__all__ = [
    "NO_ID",
    "Request",
    "Response",
    "Incoming",
    "decode",
    "encode",
    "encode_bytes",
    "encode_reply_bytes",
    "CODEC",
    "use_codec",
    "parse_message",
    "parse_member",
    "parse_value",
    "success",
    "as_sent",
    "failure",
    "notification",
    "encode_notification_bytes",
    "sent_notification",
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


#: :attr:`Incoming.value` of text that is not JSON (or of an Incoming not made from text).
NOT_JSON: Any = object()


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
    #: The decoded JSON (NOT_JSON when the text was not JSON): what the log_message hook is given.
    value: Any = NOT_JSON


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


def _too_deep(text: str | bytes, value: Any) -> bool:
    # This runs for every message, so the cheap looks come first. Each level
    # takes two characters: short text needs no look. Walking the value costs
    # per item (a 1 MB string is one item), counting brackets costs per
    # character (1.5 ms a MB): walk while that is cheaper, else count first,
    # since fewer than MAX_NESTING + 1 brackets rule it out.
    if len(text) <= 2 * MAX_NESTING:
        return False
    depth = nesting_depth(value, budget=len(text) // 256)
    if depth is None:
        if isinstance(text, str):
            opened = text.count("[") + text.count("{")
        else:
            opened = text.count(b"[") + text.count(b"{")
        if opened <= MAX_NESTING:
            return False
        depth = nesting_depth(value)
    assert depth is not None
    return depth > MAX_NESTING


def _decode_json(text: str | bytes) -> Any:
    """Parse strict JSON text; raise :class:`ParseError` saying why it is not (nested deeper than :data:`MAX_NESTING` included)."""
    if not isinstance(text, str):
        try:
            data = bytes(text)  # bytes, bytearray or memoryview
            text = data.decode(json.detect_encoding(data))
        except ValueError as exc:  # UnicodeDecodeError
            raise ParseError(data=_describe_json_error(exc)) from None
    try:
        value, end = _scan(text, 0)
    except Exception:  # noqa: BLE001  (the full path below says what is wrong)
        pass
    else:
        if end == len(text):
            # Each level takes two characters: a short message (most are) needs no look, nor a call.
            if len(text) > 2 * MAX_NESTING and _too_deep(text, value):
                raise ParseError(data=_NESTED)
            return value
    try:
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


# -- orjson, with json's answers ------------------------------------------------------

if _orjson is not None:
    _orjson_loads = _orjson.loads
    _orjson_dumps = _orjson.dumps
    _ORJSON_OPTIONS = _orjson.OPT_PASSTHROUGH_SUBCLASS | _orjson.OPT_PASSTHROUGH_DATACLASS | _orjson.OPT_PASSTHROUGH_DATETIME

# Where orjson's answer could differ from json's, orjson's text is looked at:
# digit runs in what it read, nulls in what it wrote. Those looks cost per
# byte (0.5 ms a MB), so a long text of few values (a 1 MB string) has its
# values looked at instead, as _too_deep does.


def _any_item(value: Any, budget: int, test: Callable[[Any], bool]) -> bool | None:
    """Whether ``test`` holds for ``value`` or a value in it (None: more than ``budget`` values, not looked at)."""
    seen = 0
    level = [value]
    while level:
        for item in level:
            if test(item):
                return True
        level = [
            child
            for item in level
            if type(item) is list or type(item) is dict or type(item) is tuple
            for child in (item.values() if type(item) is dict else item)
        ]
        seen += len(level)
        if seen > budget:
            return None
    return False


# 19 digits in a row: the shortest integer beyond 64 bits. orjson keeps
# -2**63 to 2**64 - 1 exact and makes floats of the rest, floats of at least
# 2**63. Translating the text to zeros and spaces and looking for a run costs
# 0.6 ns a byte (a regex, ten times that).
_DIGIT_RUN = b"0" * 19
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))  # "0" for a digit, else " "


def _int64_float(item: Any) -> bool:
    return type(item) is float and (item >= 9.2e18 or item <= -9.2e18)


def _decode_orjson(text: str | bytes) -> Any:
    """Parse strict JSON text; raise :class:`ParseError` saying why it is not (nested deeper than :data:`MAX_NESTING` included)."""
    # Every message comes here: the checks are inline (a call costs 60 ns).
    if isinstance(text, str):
        if len(text) > 1024 and not text.isascii():
            # orjson would encode the str to UTF-8 and keep that copy with it:
            # dearer than json's whole parse.
            return _decode_json(text)
        try:
            data = text.encode()
        except UnicodeEncodeError:  # a lone surrogate (not from a socket): json reads it
            return _decode_json(text)
    else:
        data = bytes(text)  # bytes(bytes) is no copy
    try:
        value = _orjson_loads(data)
    except Exception:  # noqa: BLE001  (json says what is wrong, in its own words)
        return _decode_json(text)
    if len(data) >= 19:
        found = _any_item(value, len(data) // 256, _int64_float) if len(data) > 2048 else None
        if found or (found is None and data.translate(_DIGITS_AS_ZEROS).find(_DIGIT_RUN) >= 0):
            return _decode_json(text)  # an integer beyond 64 bits, maybe: json keeps it exact
        if len(data) > 2 * MAX_NESTING and _too_deep(data, value):
            raise ParseError(data=_NESTED)
    return value


# What json writes itself: a subclass of these (IntEnum and the like aside,
# which orjson writes as json does), and whatever orjson would call the
# default for on its own terms (dataclasses, datetimes), is json's business.
_JSON_TYPES = (str, int, float, list, tuple, dict)


def _orjson_default(value: Any) -> Any:
    if isinstance(value, _JSON_TYPES):
        raise TypeError("a subclass of a JSON type: json writes it")
    return json_default(value)


def _nones_written(message: Any) -> int:
    """How many ``null`` a message's top-level values (a batch's members' values) write: None values, not NaN."""
    if type(message) is dict:
        return sum(map(operator.is_, message.values(), _NONES))
    if type(message) is list:
        return sum(sum(map(operator.is_, item.values(), _NONES)) for item in message if type(item) is dict)
    return 0


_NONES = itertools.repeat(None)


_PLAIN = frozenset({str, int, bool, type(None), list, dict, tuple})


def _may_write_nan(item: Any) -> bool:
    # A float, or a value the default or orjson's enum support turns into one.
    return type(item) not in _PLAIN and not (type(item) is float and math.isfinite(item))


def _orjson_nests_deeper() -> bool:
    """Does orjson write values nested deeper than :data:`MAX_NESTING` (orjson 3 stops at 254 levels)?"""
    value: Any = []
    for _ in range(MAX_NESTING):
        value = [value]
    try:
        _orjson.dumps(value)
    except _orjson.JSONEncodeError:
        return False
    return True


def _encode_orjson(message: Any) -> bytes | None:
    """orjson's UTF-8 text for ``message``, or None where json's answer could differ (or is an error)."""
    try:
        data = _orjson_dumps(message, _orjson_default, _ORJSON_OPTIONS)
    except Exception:  # noqa: BLE001  (json raises its own error, or encodes what orjson does not)
        return None
    # orjson writes NaN and Infinity as null: a null no None accounts for may
    # be one. Looking for nulls costs 0.5 ms a MB: a long text of few values
    # has its values looked at instead.
    if len(data) > 2048 and _any_item(message, len(data) // 256, _may_write_nan) is False:
        return data
    if b"null" in data and data.count(b"null") > _nones_written(message):
        return None
    return data


def _encode_bytes_json(message: Any) -> bytes:
    """:func:`encode`, as the UTF-8 bytes a websocket text frame carries."""
    return encode(message).encode()


def _encode_bytes_orjson(message: Any) -> bytes:
    """:func:`encode`'s answer as UTF-8 bytes (not ASCII-escaped), written by orjson where it gives json's answer."""
    data = _encode_orjson(message)
    return _encode_bytes_json(message) if data is None else data


def _encode_reply_bytes_json(reply: dict[str, Any] | list[dict[str, Any]]) -> bytes:
    """:func:`encode_reply`, as the UTF-8 bytes a websocket text frame carries."""
    if type(reply) is dict:
        text = _scalar_success_text(reply)
        if text is not None:
            return text.encode()
    return encode_reply(reply).encode()


_SUCCESS_KEYS = ("jsonrpc", "result", "id")

#: A str at least this long is looked at for what json escapes before it is escaped (see _json_string).
LONG_STRING = 4096
_SLICE = 16 * 1024  # small enough to come from memory already in use, not fresh pages
# 1 for what json's ASCII escaping leaves as it is (space to '~' but '"' and '\\'), 0 for the rest.
_KEPT_AS_IS = bytes(1 if 0x20 <= byte <= 0x7E and byte not in b'"\\' else 0 for byte in range(256))


def _json_string(text: str) -> str:
    """``encode_basestring_ascii(text)``: json's text for a str, written faster when a long one needs no escape.

    json's escaping looks at each character one by one: 1.3 ms a MB. A long
    ASCII text with nothing to escape (base64 data, a single line) is only
    quoted, once ``bytes.translate`` has shown that it needs nothing else,
    in 0.4 ms a MB. It looks at the text in slices, from the start: a text
    with something to escape (lines, quotes) mostly shows it in the first.
    """
    if len(text) >= LONG_STRING and text.isascii():
        for start in range(0, len(text), _SLICE):
            if text[start : start + _SLICE].encode().translate(_KEPT_AS_IS).find(0) >= 0:
                break
        else:
            return f'"{text}"'
    return encode_basestring_ascii(text)  # type: ignore[no-any-return]


def _scalar_success_text(reply: dict[str, Any]) -> str | None:
    """:func:`encode`'s text for a success whose result is null, a bool, an int, a str or a finite float and whose id is an int or a str, else None.

    Most replies are such: written here from the pieces json writes them
    with (``repr`` of an exact int or float, ``encode_basestring_ascii``),
    at less than half the C encoder's cost on so small a message (a call with
    keyword parsing, a list of parts and a join). Exact types only, as a
    subclass may write otherwise; anything else, or an error, takes the
    full path.
    """
    if tuple(reply) != _SUCCESS_KEYS or reply["jsonrpc"] != "2.0":
        return None
    result = reply["result"]
    msg_id = reply["id"]
    kind = type(result)
    try:
        if kind is int:
            value = repr(result)  # beyond sys.get_int_max_str_digits(), ValueError as in json
        elif kind is str:
            value = _json_string(result)
        elif result is None:
            value = "null"
        elif kind is bool:
            value = "true" if result else "false"
        elif kind is float and math.isfinite(result):
            value = repr(result)
        else:
            return None
        kind = type(msg_id)
        if kind is int:
            written_id = repr(msg_id)
        elif kind is str:
            written_id = encode_basestring_ascii(msg_id)
        else:
            return None
    except ValueError:
        return None
    return f'{{"jsonrpc":"2.0","result":{value},"id":{written_id}}}'


def _encode_reply_bytes_orjson(reply: dict[str, Any] | list[dict[str, Any]]) -> bytes:
    """:func:`encode_reply`'s answer as UTF-8 bytes (not ASCII-escaped), written by orjson where it gives json's answer."""
    data = _encode_orjson(reply)
    if data is None or (_ORJSON_NESTS_DEEPER and _too_deep(data, reply)):
        return _encode_reply_bytes_json(reply)
    return data


_ORJSON_NESTS_DEEPER = _orjson is not None and _orjson_nests_deeper()

#: The codec in use: ``"orjson"`` or ``"stdlib"`` (see the module's docstring and :func:`use_codec`).
CODEC = "stdlib"
#: Parse strict JSON text (str or UTF-8 bytes); raise :class:`ParseError` saying why it is not.
decode: Callable[[str | bytes], Any] = _decode_json
#: Encode a message as compact, strict JSON in UTF-8 bytes (raises ValueError or TypeError): what goes on the wire.
encode_bytes: Callable[[Any], bytes] = _encode_bytes_json
#: :func:`encode_reply` as UTF-8 bytes: what goes on the wire.
encode_reply_bytes: Callable[[Any], bytes] = _encode_reply_bytes_json


def use_codec(name: str) -> str:
    """Decode and encode with ``"orjson"`` or ``"stdlib"`` from now on, in the whole process; returns the codec used before.

    The answers are the same; only the speed differs. Raises ImportError
    for orjson when it is not installed, ValueError for another name.
    """
    global CODEC, decode, encode_bytes, encode_reply_bytes
    if name == "orjson":
        if _orjson is None:
            raise ImportError("orjson is not installed: pip install 'sidegears[speed]'")
        decode, encode_bytes, encode_reply_bytes = _decode_orjson, _encode_bytes_orjson, _encode_reply_bytes_orjson
    elif name == "stdlib":
        decode, encode_bytes, encode_reply_bytes = _decode_json, _encode_bytes_json, _encode_reply_bytes_json
    else:
        raise ValueError(f"unknown JSON codec {name!r}: 'orjson' or 'stdlib'")
    previous, CODEC = CODEC, name
    return previous


use_codec(os.environ.get("SIDEGEARS_JSON") or ("orjson" if _orjson is not None else "stdlib"))


def _valid_id(value: Any) -> bool:
    # The specification allows a string, a number or null; a boolean is not a number.
    return value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool)


def parse_member(value: Any) -> Request | Response | dict[str, Any]:
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
        return Incoming([parse_member(value)])
    if isinstance(value, list):
        if not value:
            return Incoming(error=failure(None, InvalidRequest(data="empty batch")))
        if max_batch is not None and len(value) > max_batch:
            return Incoming(error=failure(None, InvalidRequest(data=f"batch of {len(value)} exceeds the limit of {max_batch}")))
        return Incoming([parse_member(member) for member in value], is_batch=True)
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
    incoming = parse_value(value, max_batch)
    incoming.value = value
    return incoming


def success(msg_id: Any, result: Any) -> dict[str, Any]:
    """The reply to a request that succeeded."""
    return {"jsonrpc": "2.0", "result": result, "id": msg_id}


def as_sent(reply: Any) -> Any:
    """``reply`` itself when its encoding decodes back to it unchanged, else :data:`NOT_JSON`.

    True of a success whose id is an int or a str and whose result is
    JSON made of dicts with str keys, lists, str, ints, bools, None and
    finite floats, all of exactly those types (a subclass may encode
    differently, a tuple decodes as a list, a non-finite float is replaced
    by -32603), and of a batch (a list) of such replies only. What the
    ``log_message`` hook gets for a reply is the JSON as sent: for these
    replies the object already is that, with no decoding.
    """
    if type(reply) is list:
        for member in reply:
            if _as_sent_one(member) is NOT_JSON:
                return NOT_JSON
        return reply
    return _as_sent_one(reply)


def _as_sent_one(reply: Any) -> Any:
    # Written out rather than calls of _is_plain: a call costs as much as the checks of a scalar reply.
    if type(reply) is dict and len(reply) == 3 and "result" in reply:
        msg_id = reply["id"]
        kind = type(msg_id)
        if not (kind is int or kind is str and (msg_id.isascii() or _SURROGATE.search(msg_id) is None)):
            return NOT_JSON
        result = reply["result"]
        kind = type(result)
        if (kind is str and (result.isascii() or _SURROGATE.search(result) is None) or result is None
                or kind is bool or kind is int and _PLAIN_INT_MIN < result < _PLAIN_INT
                or kind is float and math.isfinite(result)):
            return reply
        if (kind is dict or kind is list) and _is_plain(result):
            return reply
    return NOT_JSON


def sent_notification(method: str, params: Params = None) -> Any:
    """``notification(method, params)`` when ``encode_notification_bytes`` of them decodes back to it, else :data:`NOT_JSON`.

    What the ``log_message`` hook gets for a notification the kernel
    sends, with no decoding, as :func:`as_sent` for a reply.
    """
    if (type(method) is str and (method.isascii() or _SURROGATE.search(method) is None)
            and (params is None or (type(params) is dict or type(params) is list) and _is_plain(params))):
        return notification(method, params)
    return NOT_JSON


#: Values :func:`_is_plain` looks at, at most: past that, json's C decoder
#: of the text sent is the quicker way to the JSON as sent.
_PLAIN_LIMIT = 64
#: Ints of fewer than 2,000 bits encode under any ``sys.set_int_max_str_digits``
#: limit (640 digits at the least); a longer one may be refused, and is left to decoding.
_PLAIN_INT = 1 << 2000
_PLAIN_INT_MIN = -_PLAIN_INT
#: A str with a surrogate is left to decoding: escaped, a high one then a low one decode as one character.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_plain(value: Any) -> bool:
    """True when ``value`` encodes as JSON that decodes back to it, exactly (see :func:`as_sent`), in at most _PLAIN_LIMIT values."""
    todo = [value]
    left = _PLAIN_LIMIT
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and _SURROGATE.search(item) is not None:
                return False
        elif kind is int:
            if not _PLAIN_INT_MIN < item < _PLAIN_INT:
                return False
        elif kind is dict:
            left -= len(item)
            if left < 0:
                return False
            for key in item:
                if type(key) is not str or not key.isascii() and _SURROGATE.search(key) is not None:
                    return False
            todo.extend(item.values())
        elif kind is list:
            left -= len(item)
            if left < 0:
                return False
            todo.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif item is not None and kind is not bool:
            return False
    return True


def failure(msg_id: Any, error: RPCError) -> dict[str, Any]:
    """The reply to a request that failed (``msg_id`` None when it is unknown)."""
    return {"jsonrpc": "2.0", "error": error.to_dict(), "id": msg_id}


def notification(method: str, params: Params = None) -> dict[str, Any]:
    """A notification message (no id, no reply)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def encode_notification_bytes(method: str, params: Params = None) -> bytes:
    """``encode_bytes(notification(method, params))``: the same bytes, or the same error.

    With the stdlib codec the envelope is written here and json encodes
    the params alone: the C encoder's list of parts for the envelope cost
    as much as a small params' own (1.1 µs against 0.6 for ``{"i": 5}``),
    and a kernel sends every notification it broadcasts through here.
    """
    if CODEC == "stdlib" and type(method) is str and (type(params) is dict or type(params) is list):
        return f'{{"jsonrpc":"2.0","method":{encode_basestring_ascii(method)},"params":{encode(params)}}}'.encode()
    return encode_bytes(notification(method, params))


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
