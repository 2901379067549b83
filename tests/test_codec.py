"""orjson (the speed extra) and the stdlib's json give the kernel the same answers: values, refusals, error messages.

Both codecs run in this one process: :func:`sidegears.protocol.use_codec`
switches between them. A value is compared through json's own encoding of
it, so 1 and 1.0, 0.0 and -0.0, and the order of keys all count.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from typing import Any

import orjson  # noqa: F401  (in the test extra: these tests must not be skipped)
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from sidegears import protocol, rpc_method
from sidegears.testing import running_kernel

from .strict_json import same_json

CODECS = ("stdlib", "orjson")


@contextmanager
def codec(name: str):
    previous = protocol.use_codec(name)
    try:
        yield
    finally:
        protocol.use_codec(previous)


def canonical(value: Any) -> str:
    """json's text for a decoded value: tells 1 from 1.0 and -0.0 from 0.0, keeps the order of keys."""
    return protocol.encode(value)


def decode_answer(text: str | bytes) -> tuple[str, Any]:
    try:
        return "value", canonical(protocol.decode(text))
    except protocol.ParseError as exc:
        return "error", exc.data


def decoded_by_both(text: str | bytes) -> None:
    answers = {}
    for name in CODECS:
        with codec(name):
            answers[name] = decode_answer(text)
    assert answers["orjson"] == answers["stdlib"], text


def encode_answer(encode: Any, value: Any) -> tuple[str, Any]:
    try:
        data = encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return "error", f"{type(exc).__name__}: {exc}"
    assert type(data) is bytes
    return "value", canonical(json.loads(data))


def encoded_by_both(value: Any) -> None:
    """encode_bytes and encode_reply_bytes: replies that decode to the same value, or the same error."""
    for encode in ("encode_bytes", "encode_reply_bytes"):
        message = value if encode == "encode_bytes" else protocol.success(7, value)
        answers = {}
        for name in CODECS:
            with codec(name):
                answers[name] = encode_answer(getattr(protocol, encode), message)
        assert answers["orjson"] == answers["stdlib"], (encode, value)


def test_both_codecs_are_there() -> None:
    """orjson is installed with the test extra, and is the codec unless SIDEGEARS_JSON says otherwise."""
    default = os.environ.get("SIDEGEARS_JSON") or "orjson"
    assert protocol.CODEC == default
    for name in CODECS:
        with codec(name):
            assert protocol.CODEC == name and protocol.decode("[1]") == [1]
    with pytest.raises(ValueError):
        protocol.use_codec("simplejson")
    assert protocol.CODEC == default


@pytest.mark.parametrize(("setting", "expected"), [("stdlib", "stdlib"), ("orjson", "orjson"), (None, "orjson")])
def test_environment_chooses_the_codec_at_import(setting, expected) -> None:
    """SIDEGEARS_JSON=stdlib keeps to json; unset, orjson is used where it is installed."""
    env = {k: v for k, v in os.environ.items() if k != "SIDEGEARS_JSON"}
    if setting is not None:
        env["SIDEGEARS_JSON"] = setting
    code = "from sidegears import protocol; print(protocol.CODEC, protocol.decode(b'[1]'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == [expected, "[1]"]


# -- decoding ------------------------------------------------------------------------

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
any_text = st.lists(st.characters() | surrogates, max_size=12).map("".join)
big_integers = st.integers() | st.integers(min_value=-(2**200), max_value=2**200) | st.sampled_from(
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**18, 10**19, -(10**19), 10**19 - 1]
)
json_values = st.recursive(
    st.none() | st.booleans() | big_integers | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(any_text, children, max_size=5),
    max_leaves=30,
)
number_literals = st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?", fullmatch=True)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from(["", " ", "\n\t\r "]), st.sampled_from(["", " x", ",", "]", " 1e400", "\ufeff", "\x00"]))
def test_json_text_decodes_the_same(value, space, tail) -> None:
    """Any JSON text, ASCII or not, as str or bytes, with or without junk after it: the same value or the same -32700 message."""
    for text in (
        json.dumps(value),
        space + json.dumps(value, ensure_ascii=False) + space,
        json.dumps(value) + tail,
        "[" + json.dumps(value) + "," + json.dumps(value, ensure_ascii=False) + "]",
    ):
        decoded_by_both(text)
        decoded_by_both(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(number_literals)
def test_numbers_decode_the_same(literal) -> None:
    """Integers of any size stay exact; floats round as float() does; overflow to infinity is -32700 in both."""
    decoded_by_both(literal)
    decoded_by_both('{"jsonrpc":"2.0","method":"m","params":[' + literal + "," + literal + '],"id":' + literal + "}")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60) | st.text(alphabet='[]{}",:0123456789.eE+-tfnaulrsIyNN \\u\t', max_size=60))
def test_any_text_decodes_the_same(text) -> None:
    """Random text (mostly not JSON): the same value or the same error message."""
    decoded_by_both(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=60))
def test_any_bytes_decode_the_same(data) -> None:
    """Random bytes (invalid UTF-8, UTF-16, BOMs): the same value or the same error message."""
    decoded_by_both(data)


def nested(depth: int, value: Any = 1) -> Any:
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": 2, "a": 3}',  # duplicate keys: the last wins, at the first one's place
        '{"a": {"x": 1}, "a": [2]}',
        "NaN", "[Infinity]", "[-Infinity]", "[1e400]", "[-1e400]", "[1e-400]", "[-0]", "[-0.0]", "[0.1e1]",
        "[123456789012345678]", "[-9223372036854775808]", "[-9223372036854775809]",
        "[18446744073709551615]", "[18446744073709551616]", "[1" + "0" * 400 + "]",
        "[0.30000000000000000000000000000000001]", "[2.2250738585072011e-308]", "[4.9e-324]", "[1.7976931348623157e308]",
        "[1.7976931348623159e308]", '"\\ud800"', '"\\udc00\\ud800"', '"\\ud83d\\ude00"', '"\\u0000"', '"\x7f"',
        '"\x01"', "\ufeff[1]", "[1,]", "{}", "[]", "", " ", "1 2", "[01]", "[.5]", "[+1]", "[1.]", "\x0c[1]",
        '"\\x"', "tru", "nul", '{"a" 1}', "[" * 256 + "]" * 256, "[" * 257 + "]" * 257,
        "[" * 1024 + "]" * 1024, "[" * 1025 + "]" * 1025, "[" * 50_000 + "]" * 50_000,
    ],
)
def test_edge_cases_decode_the_same(text) -> None:
    decoded_by_both(text)
    decoded_by_both(type("Sub", (str,), {})(text))
    decoded_by_both(text.encode("utf-8", "surrogatepass"))
    decoded_by_both(b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass"))  # bytes may start with a BOM, text may not


def test_big_integers_in_long_messages_stay_exact() -> None:
    """Long text: a few values are looked at (a big string), or the digits are (many values); both find the integer."""
    big = 2**80 + 1
    few_values = json.dumps({"jsonrpc": "2.0", "method": "m", "params": ["x" * 100_000, [[big]], -big], "id": 1})
    many_values = json.dumps([{"jsonrpc": "2.0", "method": "m", "params": [i, big if i == 77 else i], "id": i} for i in range(100)])
    deep_values = json.dumps({"params": ["x" * 100_000, nested(200, big)]})
    float_values = json.dumps({"params": ["x" * 10_000, 1e19, -1.5e300]})
    for text in (few_values, many_values, deep_values, float_values):
        decoded_by_both(text)
        decoded_by_both(text.encode())
    assert protocol.decode(few_values)["params"][1:] == [[[big]], -big]
    assert protocol.decode(many_values)[77]["params"][1] == big


def test_long_non_ascii_text_decodes_the_same() -> None:
    """A long str that is not ASCII goes to json (orjson would encode it to UTF-8 first): the same answers."""
    for text in (
        json.dumps({"params": ["é" * 5000, 2**90]}, ensure_ascii=False),
        json.dumps({"params": ["中" * 5000, [1.5, -(2**70)]]}, ensure_ascii=False) + " x",
    ):
        decoded_by_both(text)
        decoded_by_both(text.encode())


def test_orjson_parse_error_is_json_own() -> None:
    """Text orjson refuses gets json's message, word for word."""
    with codec("orjson"):
        with pytest.raises(protocol.ParseError) as caught:
            protocol.decode('{"jsonrpc": "2.0", "method": 1,}')
        assert caught.value.data == "Expecting property name enclosed in double quotes: line 1 column 32 (char 31)"
        incoming = protocol.parse_message("[NaN]")
    assert incoming.error is not None and incoming.error["error"] == {
        "code": -32700, "message": "Parse error", "data": "NaN is not valid JSON"
    }


# -- encoding ------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    PAIR = (1, 2)
    WHEN = datetime.date(2024, 2, 29)


class Number(enum.IntEnum):
    ONE = 1


class Word(str, enum.Enum):
    HI = "hi"


class Text(str):
    def __str__(self) -> str:
        return "not this"


class Whole(int):
    pass


class Real(float):
    pass


class Items(dict):
    def items(self):  # json writes what items() gives, not what the dict holds
        return [("from", "items")]


Pair = collections.namedtuple("Pair", "left right")


@dataclasses.dataclass
class Point:
    x: float
    y: Any = None
    when: datetime.datetime = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)


special = st.sampled_from(
    [
        Colour.RED, Colour.PAIR, Colour.WHEN, Number.ONE, Word.HI, Text("text"), Whole(5), Real(1.5), Real("nan"),
        Items(a=1), collections.OrderedDict(b=2), collections.defaultdict(int, c=3), Pair(1, "2"),
        uuid.UUID(int=12345), datetime.datetime(2020, 1, 1, 12, 0), datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
        datetime.date(2020, 1, 1), datetime.time(1, 2, 3, 4), datetime.timedelta(seconds=90), decimal.Decimal("1.50"),
        decimal.Decimal("NaN"), frozenset({1}), {2}, b"bytes", object(), Point(1.0), Point(float("nan")), Point(2**70, [None]),
        Point(1.0, Point(2.0)), (1, None, "t"), (), float("nan"), float("inf"), -float("inf"), -0.0, 5e-324, 1e16,
    ]
)
python_values = st.recursive(
    st.none() | st.booleans() | big_integers | st.floats() | any_text | special,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(any_text, children, max_size=4)
        | st.dictionaries(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(python_values)
def test_results_encode_the_same(value) -> None:
    """Any result, JSON or not: replies that decode to the same value, or the same error (-32603 with the same data)."""
    encoded_by_both(value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(python_values, min_size=1, max_size=5))
def test_batch_replies_encode_the_same(results) -> None:
    """A batch of replies: only the members that cannot be encoded become -32603, in both."""
    batch = [protocol.success(i, result) for i, result in enumerate(results)]
    answers = {}
    for name in CODECS:
        with codec(name):
            answers[name] = encode_answer(protocol.encode_reply_bytes, batch)
    assert answers["orjson"] == answers["stdlib"]


scalar_results = st.none() | st.booleans() | big_integers | st.floats() | any_text | st.sampled_from(
    [Whole(5), Real(1.5), Real("nan"), Text("text"), Number.ONE, Word.HI, 10**5000, -(10**5000), -0.0, 5e-324]
)
reply_ids = big_integers | any_text | st.none() | st.booleans() | st.floats() | st.sampled_from([Whole(3), Text("id"), 10**5000])


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(scalar_results, reply_ids, st.permutations(["jsonrpc", "result", "id"]), st.sampled_from(["2.0", "1.0"]))
def test_scalar_successes_are_written_as_the_encoder_writes_them(result, msg_id, order, version) -> None:
    """The stdlib codec writes a success with a scalar result itself: byte for byte the C encoder's text, or its error."""
    values = {"jsonrpc": version, "result": result, "id": msg_id}
    reply = {key: values[key] for key in order}
    with codec("stdlib"):
        assert written(protocol.encode_reply_bytes, reply) == written(lambda r: protocol.encode_reply(r).encode(), reply)


def written(encode: Any, reply: Any) -> Any:
    try:
        return encode(reply)
    except ValueError as exc:  # an id beyond sys.get_int_max_str_digits(): the session logs it as a last resort
        return f"ValueError: {exc}"


def test_usual_replies_take_the_short_way() -> None:
    """What the property test above compares is the short way, for the replies most calls get."""
    for result in (None, True, False, 0, -7, 2**70, 1.5, "text", "été \ud800"):
        for msg_id in (1, 2**64, "a-b", "\u00e9"):
            reply = protocol.success(msg_id, result)
            assert protocol._scalar_success_text(reply) == protocol.encode_reply(reply), (result, msg_id)
    for not_scalar in ([1], {"a": 1}, Whole(5), float("nan"), 10**5000):
        assert protocol._scalar_success_text(protocol.success(1, not_scalar)) is None
    assert protocol._scalar_success_text(protocol.success(None, 1)) is None
    assert protocol._scalar_success_text({"id": 1, "result": 1, "jsonrpc": "2.0"}) is None


# What json's ASCII escaping treats apart: the ends of the range it leaves alone, what it escapes, beyond ASCII.
edge_characters = st.sampled_from([" ", "~", "\x7f", '"', "\\", "\x00", "\x1f", "\n", "/", "\x80", "é", "😀", "\ud800"])


@settings(max_examples=300)
@given(
    st.lists(edge_characters | st.characters() | surrogates, max_size=3),
    st.integers(min_value=0, max_value=2 * protocol.LONG_STRING),
    st.sampled_from([protocol.LONG_STRING - 1, protocol.LONG_STRING, 3 * protocol.LONG_STRING]),
)
def test_long_strings_are_written_as_json_writes_them(inserted, at, length) -> None:
    """A long str result, with or without something to escape somewhere in it: the C encoder's text exactly."""
    plain = ("base64+/= text, plain ASCII! " * (length // 29 + 1))[: max(0, length - len(inserted))]
    text = plain[:at] + "".join(inserted) + plain[at:]
    assert protocol._json_string(text) == json.encoder.encode_basestring_ascii(text)
    with codec("stdlib"):
        reply = protocol.success(1, text)
        assert protocol.encode_reply_bytes(reply) == protocol.encode_reply(reply).encode()


async def test_long_strings_reach_the_client_as_json_writes_them() -> None:
    """From a running kernel on the stdlib codec, a long str result is the bytes json.dumps writes, escapes and all."""
    long = "x" * (4 * protocol.LONG_STRING)
    texts = [long, long + '"', long + "\x7f", long + "\x1f", "é" + long, long + "\\"]
    with codec("stdlib"):
        async with running_kernel() as kernel:
            async with connect(kernel.url, max_size=None) as ws:
                for i, text in enumerate(texts):
                    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "codec.echo", "params": [text], "id": i}))
                    expected = json.dumps({"jsonrpc": "2.0", "result": text, "id": i}, separators=(",", ":"))
                    assert await ws.recv() == expected


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(python_values, big_integers | any_text | st.sampled_from([Whole(3), Text("id"), None]))
def test_replies_logged_as_sent_are_what_the_client_decodes(result, msg_id) -> None:
    """as_sent gives a reply itself only when the client decodes exactly that from what was sent, with either codec."""
    reply = protocol.success(msg_id, result)
    for name in CODECS:
        with codec(name):
            logged = protocol.as_sent(reply)
            if logged is not protocol.NOT_JSON:
                assert logged is reply
                assert same_json(json.loads(protocol.encode_reply_bytes(reply)), reply), (name, reply)
            logged = protocol.as_sent([reply, protocol.success(1, 2)])
            if logged is not protocol.NOT_JSON:
                assert same_json(json.loads(protocol.encode_reply_bytes(logged)), logged), (name, reply)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(any_text | st.sampled_from([Text("m"), 5]), python_values | st.none())
def test_notifications_logged_as_sent_are_what_the_client_decodes(method, params) -> None:
    """sent_notification gives the notification only when the client decodes exactly that from its bytes."""
    for name in CODECS:
        with codec(name):
            logged = protocol.sent_notification(method, params)
            if logged is not protocol.NOT_JSON:
                assert same_json(json.loads(protocol.encode_notification_bytes(method, params)), logged), (name, params)


def test_plain_replies_and_notifications_are_logged_without_decoding() -> None:
    """What the property tests above accept is the usual case: small JSON results and params need no decoding."""
    for value in ({"a": [1, 2.5, None, "é", True, {"b": []}]}, [], {}, ["x"] * 40, 2**70):
        reply = protocol.success(7, value)
        assert protocol.as_sent(reply) is reply and protocol.as_sent([reply, reply]) == [reply, reply]
        if type(value) is not int:
            assert protocol.sent_notification("m", value) == protocol.notification("m", value)
    assert protocol.sent_notification("m") == {"jsonrpc": "2.0", "method": "m"}
    pair = "\ud800\udc00"  # two code points that decode as one, once escaped
    not_as_sent = ([1] * 65, {"a": (1,)}, [{1: "a"}], [float("nan")], [Whole(5)], {"k": Text("t")}, [2**3000], 2**3000,
                   pair, [pair], {pair: 1})
    for value in not_as_sent:
        assert protocol.as_sent(protocol.success(7, value)) is protocol.NOT_JSON, value
        assert protocol.sent_notification("m", value) is protocol.NOT_JSON, value
    assert protocol.as_sent(protocol.success(Whole(3), {})) is protocol.NOT_JSON
    assert protocol.as_sent(protocol.success(pair, 1)) is protocol.NOT_JSON


def encoded_or_error(encode: Any) -> Any:
    try:
        return encode()
    except (TypeError, ValueError, RecursionError) as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(any_text | st.sampled_from([Text("m"), 5, None]), python_values | st.sampled_from([(1, 2), Items(a=1), [float("nan")]]))
def test_notifications_are_written_as_the_full_path_writes_them(method, params) -> None:
    """encode_notification_bytes gives encode_bytes(notification(...))'s bytes, or its error, with either codec."""
    for name in CODECS:
        with codec(name):
            short = encoded_or_error(lambda: protocol.encode_notification_bytes(method, params))
            full = encoded_or_error(lambda: protocol.encode_bytes(protocol.notification(method, params)))
            assert short == full, (name, method, params)


def test_refusals_are_the_same() -> None:
    """NaN and Infinity, circular data, objects, keys json refuses, nesting past MAX_NESTING: -32603 alike."""
    loop: list = []
    loop.append(loop)
    deep_set: Any = frozenset()
    for _ in range(300):
        deep_set = frozenset({deep_set})
    for value in (
        float("nan"), [1, {"a": float("inf")}], {"x": None, "y": float("nan")}, loop, object(), {(1, 2): 3},
        nested(protocol.MAX_NESTING - 2), nested(protocol.MAX_NESTING - 1), nested(protocol.MAX_NESTING),
        nested(protocol.MAX_NESTING + 1), [nested(protocol.MAX_NESTING)], deep_set, "\ud800", {"\udfff": 1},
    ):
        encoded_by_both(value)
    for name in CODECS:
        with codec(name):
            reply = json.loads(protocol.encode_reply_bytes(protocol.success("x", [None, float("nan")])))
            assert reply == {
                "jsonrpc": "2.0", "id": "x",
                "error": {"code": -32603, "message": "Internal error",
                          "data": "result is not JSON: Out of range float values are not JSON compliant"},
            }
            with pytest.raises(ValueError, match="Out of range float values"):
                protocol.encode_bytes({"result": float("inf")})


class Ratio(float, enum.Enum):
    NOT_A_NUMBER = float("nan")
    HALF = 0.5


def test_long_replies_refuse_nan_alike() -> None:
    """A long reply has its values looked at, not its text, where they are few: a NaN anywhere is still -32603."""
    pad = "x" * 10_000
    for value in (
        {"pad": pad, "v": [1.0, [float("nan")]]},
        {"pad": pad, "v": (1, float("inf"))},
        {"pad": pad, "v": Point(float("nan"))},
        {"pad": pad, "v": Ratio.NOT_A_NUMBER},
        {"pad": pad, "v": [Ratio.HALF, None, decimal.Decimal("1.5")]},
        {"pad": pad, "v": [None, 1.5, {"w": None}]},
        [float(i) for i in range(2000)] + [float("nan")],
        [float(i) for i in range(2000)] + [None],
        [{"k": pad}, {"k": -float("inf")}],
    ):
        encoded_by_both(value)


def test_orjson_writes_utf8_and_exact_integers() -> None:
    """orjson's bytes: UTF-8 rather than escapes, integers beyond 64 bits exact, nulls that are None kept."""
    with codec("orjson"):
        assert protocol.encode_bytes({"a": "é 中 😀", "b": None}) == '{"a":"é 中 😀","b":null}'.encode()
        assert protocol.encode_reply_bytes(protocol.success(None, None)) == b'{"jsonrpc":"2.0","result":null,"id":null}'
        assert protocol.encode_reply_bytes(protocol.success(1, [2**64, -(2**100)])) == (
            b'{"jsonrpc":"2.0","result":[18446744073709551616,-1267650600228229401496703205376],"id":1}'
        )
        assert protocol.encode_bytes("\ud800") == b'"\\ud800"'  # a lone surrogate: json's escape, as on the stdlib path
    with codec("stdlib"):
        assert protocol.encode_bytes({"a": "é"}) == b'{"a":"\\u00e9"}'


# -- through the kernel ----------------------------------------------------------------


@rpc_method(name="codec.echo")
async def codec_echo(value=None):
    return value


@rpc_method(name="codec.result")
def codec_result(which: str):
    return {
        "nan": float("nan"),
        "big": [2**100, -(2**64)],
        "point": Point(1.5, [Colour.PAIR, Number.ONE]),
        "deep": nested(protocol.MAX_NESTING + 1),
        "surrogate": "\ud800",
        "none": None,
        "text": Text("t"),
    }[which]


KERNEL_MESSAGES = [
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": [[12345678901234567890123, -9223372036854775809, 1e308]], "id": 1}',
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": [["é 中 😀 \\ud800", -0.0, 0.1]], "id": "é"}',
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": {"value": {"a": 1, "a": 2}}, "id": 3}',
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": [[1e400]], "id": 4}',
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": [[NaN]], "id": 5}',
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": [' + "[" * 300 + "]" * 300 + "], " + '"id": 6}',
    "\ufeff[]",
    "[]",
    '[{"jsonrpc": "2.0", "method": "codec.result", "params": ["nan"], "id": 7}, '
    '{"jsonrpc": "2.0", "method": "codec.result", "params": ["big"], "id": 8}, 5, '
    '{"jsonrpc": "2.0", "method": "codec.echo", "params": [null], "id": 99999999999999999999999}]',
] + [
    '{"jsonrpc": "2.0", "method": "codec.result", "params": ["%s"], "id": "%s"}' % (which, which)
    for which in ("nan", "big", "point", "deep", "surrogate", "none", "text")
]


async def test_kernel_replies_are_the_same_with_both_codecs() -> None:
    """The same messages to a running kernel get replies that decode to the same values with either codec."""
    replies: dict[str, list[str]] = {}
    async with running_kernel() as kernel:
        async with connect(kernel.url, max_size=None) as ws:
            for name in CODECS:
                with codec(name):
                    replies[name] = []
                    for message in KERNEL_MESSAGES:
                        await ws.send(message)
                        replies[name].append(canonical(json.loads(await ws.recv())))
    assert replies["orjson"] == replies["stdlib"]
    assert '"result":[12345678901234567890123,-9223372036854775809,1e+308]' in replies["orjson"][0]
