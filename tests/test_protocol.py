"""The JSON-RPC 2.0 layer, without sockets."""

from __future__ import annotations

import json

import pytest

from sidegears import protocol
from sidegears.errors import ErrorCode, InternalError, RPCError
from sidegears.protocol import NO_ID, Request, Response

from .spec_examples import EXAMPLES


def error_code(reply: dict) -> int:
    return reply["error"]["code"]


def test_request_with_positional_params() -> None:
    """A request with an array of params parses into a Request with that id."""
    incoming = protocol.parse_message('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}')
    assert incoming.error is None and not incoming.is_batch
    assert incoming.items == [Request("subtract", [42, 23], 1)]


def test_notification_has_no_id() -> None:
    """A message without an id is a notification, unlike one with "id": null."""
    (note,) = protocol.parse_message('{"jsonrpc": "2.0", "method": "update"}').items
    (null_id,) = protocol.parse_message('{"jsonrpc": "2.0", "method": "update", "id": null}').items
    assert note.is_notification and note.id is NO_ID
    assert not null_id.is_notification and null_id.id is None


@pytest.mark.parametrize(
    "msg_id", ["abc", "", 0, -1, 2**70, -(2**70), 1.5, None, "ünïcödé"], ids=repr
)
def test_ids_are_echoed_exactly(msg_id) -> None:
    """Strings, numbers of any size and null come back as the same JSON value."""
    text = json.dumps({"jsonrpc": "2.0", "method": "m", "id": msg_id})
    (request,) = protocol.parse_message(text).items
    reply = json.loads(protocol.encode_reply(protocol.success(request.id, 1)))
    assert reply["id"] == msg_id and type(reply["id"]) is type(msg_id)


@pytest.mark.parametrize(
    "text, data_part",
    [
        ('{"method": "m", "id": 1}', "jsonrpc"),
        ('{"jsonrpc": "1.0", "method": "m", "id": 1}', "jsonrpc"),
        ('{"jsonrpc": "2.0", "id": 1}', "method"),
        ('{"jsonrpc": "2.0", "method": 5, "id": 1}', "method"),
        ('{"jsonrpc": "2.0", "method": "m", "params": 3, "id": 1}', "params"),
        ('{"jsonrpc": "2.0", "method": "m", "params": "x", "id": 1}', "params"),
        ('{"jsonrpc": "2.0", "method": "m", "params": null, "id": 1}', "params"),
        ('{"jsonrpc": "2.0", "method": "m", "id": true}', "id"),
        ('{"jsonrpc": "2.0", "method": "m", "id": [1]}', "id"),
        ('{"jsonrpc": "2.0", "method": "m", "id": {"a": 1}}', "id"),
        ('"a string"', "object"),
        ("42", "object"),
        ("null", "object"),
    ],
)
def test_invalid_requests_get_32600_saying_why(text, data_part) -> None:
    """Each malformed request is answered -32600 with data naming the faulty member."""
    incoming = protocol.parse_message(text)
    reply = incoming.error if incoming.error is not None else incoming.items[0]
    assert error_code(reply) == ErrorCode.INVALID_REQUEST
    assert data_part in reply["error"]["data"]


def test_invalid_request_keeps_a_valid_id() -> None:
    """When the id itself is valid, the -32600 reply carries it."""
    (reply,) = protocol.parse_message('{"jsonrpc": "2.0", "method": 5, "id": 7}').items
    assert reply["id"] == 7


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "[-Infinity]", '{"x": 1e400}', "{", "", "\ufeff{}"])
def test_non_json_is_a_parse_error(text) -> None:
    """NaN, Infinity, overflowing numbers and broken text are -32700, as RFC 8259 requires."""
    incoming = protocol.parse_message(text)
    assert incoming.error is not None and error_code(incoming.error) == ErrorCode.PARSE_ERROR


def test_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    """JSON nested deeper than the interpreter can follow is -32700, not a RecursionError."""
    incoming = protocol.parse_message("[" * 100_000 + "]" * 100_000)
    assert incoming.error is not None and error_code(incoming.error) == ErrorCode.PARSE_ERROR


def test_batch_limit() -> None:
    """A batch longer than the limit is one -32600 reply."""
    text = json.dumps([{"jsonrpc": "2.0", "method": "m", "id": i} for i in range(11)])
    incoming = protocol.parse_message(text, max_batch=10)
    assert incoming.error is not None and "limit" in incoming.error["error"]["data"]


def test_responses_from_the_client_are_recognised() -> None:
    """Replies to kernel->client calls parse as Response, with errors as RPCError."""
    ok, err = protocol.parse_message(
        '[{"jsonrpc": "2.0", "result": 5, "id": 1},'
        ' {"jsonrpc": "2.0", "error": {"code": -1, "message": "no"}, "id": 2}]'
    ).items
    assert ok == Response(1, 5)
    assert isinstance(err, Response) and isinstance(err.error, RPCError) and err.error.code == -1


def test_response_with_result_and_error_is_invalid() -> None:
    """A client reply with both result and error is refused."""
    (reply,) = protocol.parse_message('{"jsonrpc": "2.0", "result": 1, "error": {"code": 1, "message": "x"}, "id": 1}').items
    assert error_code(reply) == ErrorCode.INVALID_REQUEST


def test_replies_never_hold_result_and_error() -> None:
    """success() and failure() build one member each, and failure omits absent data."""
    assert set(protocol.success(1, None)) == {"jsonrpc", "result", "id"}
    assert protocol.failure(1, RPCError(5, "five")) == {"jsonrpc": "2.0", "error": {"code": 5, "message": "five"}, "id": 1}


def test_unencodable_result_becomes_internal_error() -> None:
    """A NaN or an object no rule encodes, as result, gives -32603 for the same id, not an exception."""
    for bad in (float("nan"), object(), {1: [object()]}):
        reply = json.loads(protocol.encode_reply(protocol.success("x", bad)))
        assert reply["id"] == "x" and error_code(reply) == ErrorCode.INTERNAL_ERROR


def test_unencodable_member_of_batch_reply_spoils_only_itself() -> None:
    """In a batch reply, only the member whose result is not JSON becomes an error."""
    text = protocol.encode_reply([protocol.success(1, 1), protocol.success(2, float("inf"))])
    first, second = json.loads(text)
    assert first == {"jsonrpc": "2.0", "result": 1, "id": 1}
    assert error_code(second) == ErrorCode.INTERNAL_ERROR


def test_encode_is_strict_and_compact() -> None:
    """encode() refuses NaN, writes no spaces and only ASCII (so a lone surrogate cannot fail on the wire)."""
    value = {"a": [1, "é 中 😀 \ud800"]}
    text = protocol.encode(value)
    assert text == '{"a":[1,"\\u00e9 \\u4e2d \\ud83d\\ude00 \\ud800"]}'
    assert text.isascii() and protocol.decode(text) == value
    with pytest.raises(ValueError):
        protocol.encode(float("nan"))


def test_error_tree() -> None:
    """Standard errors carry their codes and subclass RPCError."""
    assert InternalError().to_dict() == {"code": -32603, "message": "Internal error"}
    assert RPCError(-32000, "custom", {"k": 1}).to_dict() == {"code": -32000, "message": "custom", "data": {"k": 1}}


def _expected_kinds(expected):
    """What parsing (not dispatching) must already decide for a spec example."""
    if expected is None or isinstance(expected, list):
        return None
    return expected["error"]["code"] if "error" in expected else None


@pytest.mark.parametrize("name, text, expected", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_specification_examples_parse(name, text, expected) -> None:
    """Every example of the specification parses to what its reply needs."""
    incoming = protocol.parse_message(text)
    code = _expected_kinds(expected)
    if code in (ErrorCode.PARSE_ERROR,) or name == "empty array":
        assert incoming.error is not None and error_code(incoming.error) == code
        return
    assert incoming.error is None
    if isinstance(expected, list):
        assert incoming.is_batch
        invalid = [item for item in incoming.items if isinstance(item, dict)]
        assert len(invalid) == sum(1 for e in expected if e.get("error", {}).get("code") == -32600)
    elif code == ErrorCode.INVALID_REQUEST:
        assert error_code(incoming.items[0]) == code
    else:
        assert isinstance(incoming.items[0], Request)
        assert incoming.items[0].is_notification == (expected is None)


def test_nesting_limit_is_explicit_on_input() -> None:
    """Valid JSON nested deeper than MAX_NESTING is -32700 saying so; MAX_NESTING levels parse."""
    deepest = "[" * protocol.MAX_NESTING + "]" * protocol.MAX_NESTING
    assert protocol.nesting_depth(protocol.decode(deepest)) == protocol.MAX_NESTING
    for text in ("[" * 980 + "]" * 980, '{"a":' * 300 + "1" + "}" * 300):
        incoming = protocol.parse_message(text)
        assert incoming.error is not None and error_code(incoming.error) == ErrorCode.PARSE_ERROR
        assert str(protocol.MAX_NESTING) in incoming.error["error"]["data"]


def test_reply_nested_too_deeply_is_an_internal_error_for_that_member_only() -> None:
    """A result deeper than MAX_NESTING (even one json cannot encode at all) is -32603 for its id; others stay."""
    deep: list = []
    for _ in range(2000):  # deeper than the encoder can recurse
        deep = [deep]
    batch = [protocol.success(1, deep), protocol.success(2, "fine"), protocol.success(3, [[[]]] * 2)]
    replies = json.loads(protocol.encode_reply(batch))
    assert [reply["id"] for reply in replies] == [1, 2, 3]
    assert replies[0]["error"]["code"] == ErrorCode.INTERNAL_ERROR and "nested" in replies[0]["error"]["data"]
    assert replies[1]["result"] == "fine" and replies[2]["result"] == [[[]]] * 2
    shallow_enough: list = []
    for _ in range(protocol.MAX_NESTING + 1):
        shallow_enough = [shallow_enough]
    reply = json.loads(protocol.encode_reply(protocol.success(7, shallow_enough)))
    assert reply["error"]["code"] == ErrorCode.INTERNAL_ERROR  # the same limit as on input
