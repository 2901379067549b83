"""RFC 6455 conformance of the kernel's websocket frames, after the Autobahn testsuite's sections 1-7 and 9.

A raw client (``tests/rawws.py``) sends hand-built frames to a live kernel
and checks what comes back: replies, pongs, close codes, the end of the TCP
connection, and that every frame of the kernel is itself valid. The cases
are Autobahn's, adapted to a JSON-RPC server: "echo" is a request to
``frames.echo`` whose reply carries the payload back; a binary message is
refused with 1003 (the kernel speaks text only), where Autobahn expects an
echo.

What is asserted is behaviour, whatever frame layer the kernel uses: close
codes, whether a connection stays usable, and that a refused client does
not stop the kernel serving the others; never reason texts, log lines or
internals. Where RFC 6455 leaves a choice (failing fast on invalid UTF-8,
a close frame inside a fragmented message) both answers are accepted.

Sections: 1 framing, 2 pings and pongs, 3 reserved bits, 4 opcodes,
5 fragmentation, 6 UTF-8, 7 close, plus masking, 9 sizes and limits.
"""

from __future__ import annotations

import asyncio
import json
import string
from typing import Any

import pytest
import pytest_asyncio

from sidegears import rpc_method
from sidegears.testing import running_kernel

from .rawws import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RSV1,
    RSV2,
    RSV3,
    RawWebSocket,
    _Stream,
    build_frame,
    mask,
    text_frames,
)

KiB, MiB = 1024, 1024 * 1024
PROTOCOL_ERROR, UNSUPPORTED_DATA, INVALID_DATA, MESSAGE_TOO_BIG = 1002, 1003, 1007, 1009
#: max_message_size of the ``small_kernel``.
SMALL_LIMIT = 64 * KiB


@rpc_method(name="frames.echo")
async def echo(value: Any = None) -> Any:
    return value


@pytest_asyncio.fixture
async def kernel():
    """A kernel with a per-launch token (in its url) and the default limits (16 MiB messages)."""
    async with running_kernel(token=True) as running:
        yield running


@pytest_asyncio.fixture
async def small_kernel():
    async with running_kernel(token=True, max_message_size=SMALL_LIMIT) as running:
        yield running


# -- helpers ------------------------------------------------------------------------


def request(value: Any, msg_id: int = 1) -> bytes:
    """A request to frames.echo, compact, in UTF-8 (not \\u-escaped)."""
    message = {"jsonrpc": "2.0", "method": "frames.echo", "params": [value], "id": msg_id}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


PATTERN = (string.ascii_letters + string.digits) * 16


def sized_request(size: int, msg_id: int = 1) -> tuple[bytes, str]:
    """A request of exactly ``size`` bytes, and the value its reply must carry back."""
    pad = size - len(request("", msg_id))
    assert pad >= 0, size
    value = (PATTERN * (pad // len(PATTERN) + 1))[:pad]
    data = request(value, msg_id)
    assert len(data) == size
    return data, value


async def expect_echo(ws: RawWebSocket, value: Any, msg_id: int = 1) -> None:
    reply = json.loads(await ws.recv_text())
    assert reply == {"jsonrpc": "2.0", "result": value, "id": msg_id}


async def assert_usable(ws: RawWebSocket, msg_id: int = 99) -> None:
    """The connection still serves a call."""
    ws.send_text(request(f"still here {msg_id}", msg_id))
    await expect_echo(ws, f"still here {msg_id}", msg_id)


async def assert_serving(kernel: Any) -> None:
    """A new connection is served: one bad client does not stop the kernel."""
    async with RawWebSocket.connect(kernel.url) as ws:
        await assert_usable(ws, 7)


async def assert_refused(ws: RawWebSocket, kernel: Any, code: int) -> None:
    """The kernel closes ``ws`` with ``code`` (nothing else before), ends TCP, and still serves a new client."""
    close = await ws.expect_close()
    assert close.code == code
    await ws.expect_eof()
    await assert_serving(kernel)


async def answered_first(ws: RawWebSocket) -> None:
    """A call answered before the bad frame (Autobahn's "after a valid message" variants)."""
    ws.send_text(request("first", 1))
    await expect_echo(ws, "first", 1)


async def write(ws: RawWebSocket, data: bytes, delivery: str) -> None:
    """Write ``data`` in one write, or byte by byte with the kernel running between bytes."""
    if delivery == "one write":
        ws.write(data)
    else:
        assert delivery == "byte by byte"
        await ws.write_in_pieces(data, 1)


# -- 1. framing ------------------------------------------------------------------------


async def test_frames_sent_with_the_handshake_request_are_served_after_it(kernel) -> None:
    """A client may send frames right behind its request, before the 101: they are served, in order, after it."""
    early = text_frames(request("first", 1)) + text_frames(request("second", 2), fragments=3)
    async with RawWebSocket.connect(kernel.url, with_request=early) as ws:
        await expect_echo(ws, "first", 1)
        await expect_echo(ws, "second", 2)
        await assert_usable(ws)


@pytest.mark.parametrize("delivery", ["one write", "in pieces"])
@pytest.mark.parametrize("length", [125, 126, 127, 128, 65535, 65536, MiB])
async def test_text_message_of_length(kernel, length, delivery) -> None:
    """Payload lengths around the 7-bit, 16-bit and 64-bit length encodings (Autobahn 1.1).

    In pieces: the header byte by byte, then the payload byte by byte
    (small messages) or in pieces of 1021 bytes.
    """
    data, value = sized_request(length)
    frame = build_frame(OP_TEXT, data)
    async with RawWebSocket.connect(kernel.url) as ws:
        if delivery == "one write":
            ws.write(frame)
        else:
            await ws.write_in_pieces(frame[:14], 1)
            await ws.write_in_pieces(frame[14:], 1 if length <= 128 else 1021)
        await expect_echo(ws, value)
        await assert_usable(ws)


@pytest.mark.parametrize("large", [65535, 65536, MiB])
async def test_large_reply_between_small_ones_in_one_read(kernel, large) -> None:
    """Small requests before and after a large one, all in one write, are answered whole and in order.

    From 64 KiB on, a payload is unmasked from a view of the buffer the frames after it are read from.
    """
    small_before, small_after = request("before", 1), request("after", 3)
    data, value = sized_request(large, 2)
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(build_frame(OP_TEXT, small_before) + build_frame(OP_TEXT, data) + build_frame(OP_TEXT, small_after))
        await expect_echo(ws, "before", 1)
        await expect_echo(ws, value, 2)
        await expect_echo(ws, "after", 3)
        await assert_usable(ws)


async def test_partial_frames_of_several_connections_do_not_mix(kernel) -> None:
    """Connections read into one shared buffer: what one keeps of a partial frame is its own.

    Three clients each send a message in pieces, interleaved with the
    others' pieces and whole messages, each piece read on its own.
    """
    messages = {n: sized_request(3000 + n, n) for n in (1, 2, 3)}
    frames = {n: text_frames(data, fragments=1000) for n, (data, _) in messages.items()}
    async with RawWebSocket.connect(kernel.url) as a, RawWebSocket.connect(kernel.url) as b, \
            RawWebSocket.connect(kernel.url) as c, RawWebSocket.connect(kernel.url) as d:
        clients = {1: a, 2: b, 3: c}
        cuts = {n: [0, 3, 900, len(frames[n]) // 2, len(frames[n]) - 5, len(frames[n])] for n in clients}
        for piece in range(5):
            for n, ws in clients.items():
                ws.write(frames[n][cuts[n][piece]:cuts[n][piece + 1]])
                await asyncio.sleep(0.005)  # read by the kernel before the next client writes
            d.send_text(request(f"whole {piece}", 10 + piece))
            await expect_echo(d, f"whole {piece}", 10 + piece)
        for n, ws in clients.items():
            await expect_echo(ws, messages[n][1], n)


@pytest.mark.parametrize("fragments", [1, 3])
async def test_empty_text_message_is_a_parse_error_not_a_close(kernel, fragments) -> None:
    """An empty text message (Autobahn 1.1.1, 6.1.1-6.1.3: one frame, or three empty fragments) is valid
    websocket but not JSON: the kernel answers -32700 with a null id, and the connection stays open."""
    async with RawWebSocket.connect(kernel.url) as ws:
        if fragments == 1:
            ws.send(OP_TEXT, b"")
        else:
            ws.write(build_frame(OP_TEXT, b"", fin=False) + build_frame(OP_CONT, b"", fin=False)
                     + build_frame(OP_CONT, b""))
        reply = json.loads(await ws.recv_text())
        assert reply["id"] is None and reply["error"]["code"] == -32700
        await assert_usable(ws)


@pytest.mark.parametrize("frames", ["empty", "125 bytes", "65536 bytes", "fragmented"])
async def test_binary_message_is_refused_with_1003(kernel, frames) -> None:
    """Binary messages (Autobahn 1.2) are refused: 1003, "a type of data it cannot accept" (RFC 6455 7.4.1)."""
    payloads = {"empty": b"", "125 bytes": bytes(range(125)), "65536 bytes": bytes(256) * 256}
    async with RawWebSocket.connect(kernel.url) as ws:
        if frames == "fragmented":
            ws.write(build_frame(OP_BINARY, b"\x00\x01", fin=False) + build_frame(OP_CONT, b"\x02"))
        else:
            ws.send(OP_BINARY, payloads[frames])
        await assert_refused(ws, kernel, UNSUPPORTED_DATA)


# -- 2. pings and pongs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, delivery",
    [
        (b"", "one write"),  # Autobahn 2.1
        (b"Hello, world!", "one write"),  # 2.2
        (b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", "one write"),  # 2.3: binary, not UTF-8
        (bytes(range(125)), "one write"),  # 2.4
        (bytes(range(125)), "byte by byte"),  # 2.6
    ],
    ids=["empty", "text", "binary", "125 bytes", "125 bytes byte by byte"],
)
async def test_ping_gets_a_pong_with_the_same_payload(kernel, payload, delivery) -> None:
    async with RawWebSocket.connect(kernel.url) as ws:
        await write(ws, build_frame(OP_PING, payload), delivery)
        await ws.expect_pong(payload)
        await assert_usable(ws)


async def test_ping_over_125_bytes_is_a_protocol_error(kernel) -> None:
    """Control frames carry at most 125 bytes (RFC 6455 5.5; Autobahn 2.5): 1002, and no pong."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_PING, b"x" * 126)
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


@pytest.mark.parametrize("payload", [b"", b"unsolicited" * 11], ids=["empty", "121 bytes"])
async def test_unsolicited_pong_is_ignored(kernel, payload) -> None:
    """A pong nobody asked for gets no answer, and the connection stays usable (RFC 6455 5.5.3; Autobahn 2.7-2.9)."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(build_frame(OP_PONG, payload) + build_frame(OP_PING, b"after the pong"))
        await ws.expect_pong(b"after the pong")  # the very next frame: nothing answered the pong
        await assert_usable(ws)


async def test_keep_alive_pings_answered_keep_the_connection() -> None:
    """The kernel's own pings, answered with their payload, keep the connection open past the ping timeout."""
    async with running_kernel(token=True, ping_interval=0.2, ping_timeout=1.0) as kernel:
        async with RawWebSocket.connect(kernel.url) as ws:
            for i in range(24):  # 1.2 s, reading every 0.05 s: each ping is answered as it is read
                ws.send_text(request("still here", i))
                await expect_echo(ws, "still here", i)
                await asyncio.sleep(0.05)
            assert len(ws.pings_received) >= 3  # pinged, answered, and never closed


async def test_an_unanswered_keep_alive_ping_closes_with_1011() -> None:
    """A client that never answers the kernel's ping is closed with 1011 and TCP ends; the kernel serves others."""
    async with running_kernel(token=True, ping_interval=0.1, ping_timeout=0.3) as kernel:
        async with RawWebSocket.connect(kernel.url) as ws:
            await asyncio.sleep(1.0)  # reads nothing, so answers nothing
            ping = await ws.read_frame()
            assert ping is not None and ping.opcode == OP_PING
            close = await ws.expect_close()
            assert close.code == 1011
            await ws.expect_eof()
        await assert_serving(kernel)


@pytest.mark.parametrize("delivery", ["one write", "byte by byte"])
async def test_ten_pings_get_ten_pongs_in_order(kernel, delivery) -> None:
    """Autobahn 2.10, 2.11."""
    payloads = [f"ping {i}".encode() for i in range(10)]
    async with RawWebSocket.connect(kernel.url) as ws:
        await write(ws, b"".join(build_frame(OP_PING, p) for p in payloads), delivery)
        for payload in payloads:
            await ws.expect_pong(payload)
        await assert_usable(ws)


# -- 3. reserved bits --------------------------------------------------------------------


@pytest.mark.parametrize("rsv", [RSV1, RSV2, RSV3, RSV1 | RSV2 | RSV3], ids=["RSV1", "RSV2", "RSV3", "RSV1-3"])
@pytest.mark.parametrize("kind", ["text", "continuation", "ping", "close"])
async def test_reserved_bits_are_a_protocol_error(kernel, kind, rsv) -> None:
    """No extension was negotiated, so a reserved bit set is a protocol error (RFC 6455 5.2; Autobahn 3.1-3.7).

    As in Autobahn 3.2-3.4: a call is answered first, and a ping after the
    bad frame gets no pong (nothing may follow the close frame).
    """
    bad = {
        "text": build_frame(OP_TEXT, request("reserved", 2), rsv=rsv),
        "continuation": build_frame(OP_TEXT, b'{"jsonrpc":', fin=False) + build_frame(OP_CONT, b'"2.0"}', rsv=rsv),
        "ping": build_frame(OP_PING, b"reserved", rsv=rsv),
        "close": build_frame(OP_CLOSE, (1000).to_bytes(2, "big"), rsv=rsv),
    }[kind]
    async with RawWebSocket.connect(kernel.url) as ws:
        await answered_first(ws)
        ws.write(bad + build_frame(OP_PING, b"after"))
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


# -- 4. opcodes --------------------------------------------------------------------------


#: Autobahn 4.1.1-4.1.5 (non-control 3-7) and 4.2.1-4.2.5 (control 0xB-0xF): alone or after an answered
#: call, with and without a payload.
OPCODE_CASES = [
    (3, b"", False), (4, b"reserved opcode", False), (5, b"", True), (6, b"reserved opcode", True),
    (7, b"reserved opcode", True),
    (0xB, b"", False), (0xC, b"reserved opcode", False), (0xD, b"", True), (0xE, b"reserved opcode", True),
    (0xF, b"reserved opcode", True),
]


@pytest.mark.parametrize(
    "opcode, payload, after_a_call",
    OPCODE_CASES,
    ids=[f"{op:#x}{' payload' if p else ''}{' after a call' if after else ''}" for op, p, after in OPCODE_CASES],
)
async def test_reserved_opcode_is_a_protocol_error(kernel, opcode, payload, after_a_call) -> None:
    async with RawWebSocket.connect(kernel.url) as ws:
        if after_a_call:
            await answered_first(ws)
        ws.write(build_frame(opcode, payload) + build_frame(OP_PING, b"after"))
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


# -- 5. fragmentation --------------------------------------------------------------------


def fragments_of(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into pieces of ``sizes`` (the last piece takes the rest)."""
    pieces, start = [], 0
    for size in sizes:
        pieces.append(data[start:start + size])
        start += size
    pieces.append(data[start:])
    return pieces


def message_frames(pieces: list[bytes]) -> list[bytes]:
    """One text message as frames: TEXT with the first piece, CONT with the others, FIN on the last."""
    last = len(pieces) - 1
    return [build_frame(OP_TEXT if i == 0 else OP_CONT, p, fin=i == last) for i, p in enumerate(pieces)]


async def write_frames(ws: RawWebSocket, frames: list[bytes], delivery: str) -> None:
    if delivery == "frame by frame":
        for frame in frames:
            ws.write(frame)
            await asyncio.sleep(0.002)
    else:
        await write(ws, b"".join(frames), delivery)


@pytest.mark.parametrize("delivery", ["one write", "frame by frame", "byte by byte"])
@pytest.mark.parametrize("split", ["2 fragments", "1-byte fragments"])
async def test_fragmented_message_gets_one_reply(kernel, split, delivery) -> None:
    """Autobahn 5.3-5.5 (2 fragments) and 6.2.4-style (one fragment per byte)."""
    data = request("fragmented")
    pieces = fragments_of(data, [len(data) // 2]) if split == "2 fragments" else [bytes([b]) for b in data]
    async with RawWebSocket.connect(kernel.url) as ws:
        await write_frames(ws, message_frames(pieces), delivery)
        await expect_echo(ws, "fragmented")
        await assert_usable(ws)


@pytest.mark.parametrize("delivery", ["one write", "frame by frame", "byte by byte"])
async def test_control_frames_between_fragments(kernel, delivery) -> None:
    """Pings between the fragments get their pongs at once, then the message its reply; a pong there is
    ignored (RFC 6455 5.4; Autobahn 5.6-5.8, 5.19, 5.20)."""
    data = request("pinged between fragments")
    frames = message_frames(fragments_of(data, [10, 10, 10, 10]))  # 5 fragments
    pings = [build_frame(OP_PING, f"ping {i}".encode()) for i in range(4)]
    sent = [frames[0], pings[0], frames[1], pings[1], build_frame(OP_PONG, b"unsolicited"), frames[2],
            pings[2], frames[3], pings[3], frames[4]]
    async with RawWebSocket.connect(kernel.url) as ws:
        await write_frames(ws, sent, delivery)
        for i in range(4):
            await ws.expect_pong(f"ping {i}".encode())
        await expect_echo(ws, "pinged between fragments")
        await assert_usable(ws)


@pytest.mark.parametrize("where", ["first", "middle", "last", "all but one"])
async def test_empty_fragments_are_allowed(kernel, where) -> None:
    """Fragments with no payload are valid (RFC 6455 5.4; Autobahn 6.1.2, 6.1.3)."""
    data = request("empty fragments")
    pieces = {
        "first": [b"", data],
        "middle": [data[:5], b"", b"", data[5:]],
        "last": [data, b""],
        "all but one": [b"", b"", data, b"", b""],
    }[where]
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(b"".join(message_frames(pieces)))
        await expect_echo(ws, "empty fragments")
        await assert_usable(ws)


@pytest.mark.parametrize("fin", [True, False], ids=["fin", "no fin"])
@pytest.mark.parametrize("after_a_call", [False, True], ids=["alone", "after a fragmented call"])
async def test_continuation_without_a_message_is_a_protocol_error(kernel, fin, after_a_call) -> None:
    """Autobahn 5.9-5.17: a continuation frame with no fragmented message open."""
    async with RawWebSocket.connect(kernel.url) as ws:
        if after_a_call:
            ws.write(b"".join(message_frames(fragments_of(request("first", 1), [12]))))
            await expect_echo(ws, "first", 1)
        ws.write(build_frame(OP_CONT, b"stray", fin=fin) + build_frame(OP_TEXT, request("ignored", 2))
                 + build_frame(OP_PING, b"after"))
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
async def test_new_message_inside_a_fragmented_one_is_a_protocol_error(kernel, opcode) -> None:
    """Only continuation frames may follow an unfinished message (RFC 6455 5.4; Autobahn 5.18)."""
    data = request("first")
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(build_frame(OP_TEXT, data[:10], fin=False) + build_frame(opcode, data[10:]))
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE], ids=["ping", "pong", "close"])
async def test_fragmented_control_frame_is_a_protocol_error(kernel, opcode) -> None:
    """Control frames must not be fragmented (RFC 6455 5.5; Autobahn 5.1, 5.2)."""
    payload = (1000).to_bytes(2, "big") + b"fragmented"
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(build_frame(opcode, payload[:4], fin=False) + build_frame(OP_CONT, payload[4:]))
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


async def test_close_inside_a_fragmented_message_ends_the_connection(kernel) -> None:
    """A close frame between fragments (Autobahn 7.1.5).

    RFC 6455 5.4 lets control frames come between fragments, so echoing the
    close (1000) conforms; websockets fails the connection instead (1002,
    "incomplete fragmented message"). Either way: a close frame, no reply to
    the unfinished message, and the end of TCP.
    """
    data = request("never finished")
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(build_frame(OP_TEXT, data[:10], fin=False) + build_frame(OP_CLOSE, (1000).to_bytes(2, "big"))
                 + build_frame(OP_CONT, data[10:]))
        close = await ws.expect_close()
        assert close.code in (1000, PROTOCOL_ERROR)
        await ws.expect_eof()
        await assert_serving(kernel)


# -- 6. UTF-8 ----------------------------------------------------------------------------

VALID_TEXTS = {
    "greek": "κόσμε",  # Autobahn 6.2
    "mixed": "Hello-µ@ßöäüàá-UTF-8!!",  # 6.5
    "4-byte": "𝄞 𝕳 🎉 \U0010ffff",  # 6.7, 6.8
    "boundaries": "\u007f\u0080\u07ff\u0800\ud7ff\ue000\ufffd\ufffe\uffff\U00010000",  # 6.7-6.11, 6.23
}


@pytest.mark.parametrize("name", list(VALID_TEXTS))
async def test_valid_utf8_split_across_fragments_at_every_byte(kernel, name) -> None:
    """Valid UTF-8 cut into 2 fragments at every byte, so also inside every character, and into 1-byte
    fragments: UTF-8 is a property of the message, not of its frames (RFC 6455 5.6; Autobahn 6.2-6.4)."""
    text = VALID_TEXTS[name]
    messages = []
    for cut in range(1, len(request(text, 1000))):
        data = request(text, 1000 + cut)
        messages.append(b"".join(message_frames([data[:cut], data[cut:]])))
    one_byte = request(text, 1)
    messages.append(b"".join(message_frames([bytes([b]) for b in one_byte])))
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(b"".join(messages))
        replies = {}
        for _ in messages:
            reply = json.loads(await ws.recv_text())
            replies[reply["id"]] = reply.get("result")
        assert replies == {1: text, **{1000 + cut: text for cut in range(1, len(messages))}}


#: Invalid UTF-8, placed inside the string of a request (Autobahn 6.3-6.21).
INVALID_UTF8 = {
    "overlong /": b"\xc0\xaf",
    "overlong / 3": b"\xe0\x80\xaf",
    "overlong / 4": b"\xf0\x80\x80\xaf",
    "overlong max 2": b"\xc1\xbf",
    "overlong max 3": b"\xe0\x9f\xbf",
    "overlong max 4": b"\xf0\x8f\xbf\xbf",
    "overlong NUL": b"\xc0\x80",
    "surrogate D800": b"\xed\xa0\x80",
    "surrogate DFFF": b"\xed\xbf\xbf",
    "surrogate pair": b"\xed\xa0\x80\xed\xb0\x80",
    "above 10FFFF": b"\xf4\x90\x80\x80",
    "F7": b"\xf7\xbf\xbf\xbf",
    "5 bytes": b"\xf8\x88\x80\x80\x80",
    "6 bytes": b"\xfc\x84\x80\x80\x80\x80",
    "lone continuation": b"\x80",
    "continuations": b"\x80\xbf\x80\xbf",
    "FE FF": b"\xfe\xff",
    "truncated inside": b"\xce\xba\xe1\xbd",  # κ, then ό without its last byte
    "lead byte then ASCII": b"\xc3\x28",
    "truncated at the end": b"",  # the message itself ends inside a character
}


@pytest.mark.parametrize("fragments", ["one frame", "1-byte fragments"])
@pytest.mark.parametrize("name", list(INVALID_UTF8))
async def test_invalid_utf8_is_refused_with_1007(kernel, name, fragments) -> None:
    """Invalid UTF-8 in a text message fails the connection with 1007 (RFC 6455 8.1, 7.4.1).

    The message is always completed: failing fast, at the first bad
    fragment, is allowed but not required (Autobahn 6.4 accepts both).
    """
    bad = INVALID_UTF8[name]
    head, tail = request("x\x01", 1).split(b"\\u0001")
    data = head + bad + tail if bad else request("κόσμε", 1)[:-1] + "ό".encode()[:1]
    with pytest.raises(UnicodeDecodeError):
        data.decode()
    async with RawWebSocket.connect(kernel.url) as ws:
        if fragments == "one frame":
            ws.send(OP_TEXT, data)
        else:
            ws.write(b"".join(message_frames([bytes([b]) for b in data])))
        await assert_refused(ws, kernel, INVALID_DATA)


# -- 7. close ----------------------------------------------------------------------------


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


async def test_close_without_payload(kernel) -> None:
    """An empty close frame is answered with a close frame without a code, then TCP ends (Autobahn 7.3.1)."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_CLOSE, b"")
        close = await ws.expect_close()
        assert close.code is None
        await ws.expect_eof()


async def test_close_after_a_call(kernel) -> None:
    """The normal end: a call answered, then close 1000 with a reason, echoed (Autobahn 7.1.1, 7.3.3, 7.3.4)."""
    async with RawWebSocket.connect(kernel.url) as ws:
        await answered_first(ws)
        ws.send(OP_CLOSE, close_payload(1000, "goodbye, κόσμε".encode()))
        assert (await ws.expect_close()).code == 1000
        await ws.expect_eof()


#: Codes a close frame may carry (RFC 6455 7.4.1, 7.4.2, and IANA's registry): 1012-1014 (service
#: restart, try again later, bad gateway) were registered after RFC 6455; websockets accepts them, so
#: they are valid here (Autobahn's 7.7 predates them).
VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
#: Codes it may not carry (Autobahn 7.9): unassigned below 3000, 1004 (reserved), 1005, 1006 and 1015
#: (never sent in a close frame, RFC 6455 7.4.1), outside 1000-4999.
INVALID_CLOSE_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CLOSE_CODES)
async def test_valid_close_code_is_echoed(kernel, code) -> None:
    """Autobahn 7.7: the kernel answers with the code it received (RFC 6455 5.5.1) and ends TCP."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_CLOSE, close_payload(code, b"reason"))
        assert (await ws.expect_close()).code == code
        await ws.expect_eof()


@pytest.mark.parametrize("code", INVALID_CLOSE_CODES)
async def test_invalid_close_code_is_a_protocol_error(kernel, code) -> None:
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_CLOSE, close_payload(code))
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


async def test_close_payload_of_one_byte_is_a_protocol_error(kernel) -> None:
    """A close payload is empty or starts with a 2-byte code (RFC 6455 5.5.1; Autobahn 7.3.2)."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_CLOSE, b"\x03")
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


async def test_close_reason_in_invalid_utf8_is_refused_with_1007(kernel) -> None:
    """The reason is UTF-8 (RFC 6455 5.5.1, 8.1; Autobahn 7.5.1)."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_CLOSE, close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"))
        await assert_refused(ws, kernel, INVALID_DATA)


@pytest.mark.parametrize("size, code", [(125, 1000), (126, PROTOCOL_ERROR)])
async def test_close_payload_size_limit(kernel, size, code) -> None:
    """A close frame of 125 bytes is echoed, one of 126 is a protocol error (RFC 6455 5.5; Autobahn 7.3.5, 7.3.6)."""
    reason = ("é" * 62).encode()[: size - 3] + b"x"  # valid UTF-8, multi-byte up to the end
    payload = close_payload(1000, reason)
    assert len(payload) == size
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_CLOSE, payload)
        if code == 1000:
            assert (await ws.expect_close()).code == 1000
            await ws.expect_eof()
        else:
            await assert_refused(ws, kernel, code)


async def test_frames_after_the_close_are_ignored(kernel) -> None:
    """After a close frame, what follows is discarded (RFC 6455 1.4, 5.5.1; Autobahn 7.1.2-7.1.4): a request,
    a ping and a second close sent in the same write get no reply, no pong and no second close."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(build_frame(OP_CLOSE, close_payload(1000)) + build_frame(OP_TEXT, request("after close"))
                 + build_frame(OP_PING, b"after close") + build_frame(OP_CLOSE, close_payload(1001)))
        ws.close_sent = True
        assert (await ws.expect_close()).code == 1000
        await ws.expect_eof()  # fails on any frame after the close


async def test_failed_connection_ends_without_the_clients_close(kernel) -> None:
    """Failing the connection (RFC 6455 7.1.7) closes TCP without waiting for the client's close frame."""
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(OP_PING, b"x" * 126)
        assert (await ws.expect_close(answer=False)).code == PROTOCOL_ERROR
        await ws.expect_eof()


# -- masking -----------------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_PING, OP_CLOSE], ids=["text", "ping", "close"])
async def test_unmasked_client_frame_is_a_protocol_error(kernel, opcode) -> None:
    """A client masks every frame (RFC 6455 5.1): an unmasked one gets 1002 (no reply, no pong, no echo)."""
    payload = {OP_TEXT: request("unmasked"), OP_PING: b"unmasked", OP_CLOSE: close_payload(1000)}[opcode]
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.send(opcode, payload, masked=False)
        await assert_refused(ws, kernel, PROTOCOL_ERROR)


# -- 9. sizes and limits -----------------------------------------------------------------


def _size(n: int | None) -> str:
    return "one frame" if n is None else f"{n // MiB} MiB" if n >= MiB else f"{n // KiB} KiB" if n >= KiB else f"{n} B"


#: (message size, fragment size): 64 KiB to 4 MiB, each whole and in fragments of 64 B, 4 KiB and 64 KiB.
LARGE_CASES = [
    (size, fragment)
    for size in (64 * KiB, 256 * KiB, MiB, 4 * MiB)
    for fragment in (None, 64, 4 * KiB, 64 * KiB)
    if fragment is None or fragment < size
]


@pytest.mark.parametrize(
    "size, fragment", LARGE_CASES, ids=[f"{_size(s)} in {_size(f)}" if f else _size(s) for s, f in LARGE_CASES]
)
async def test_large_message(kernel, size, fragment) -> None:
    """Autobahn 9.1 and 9.3, scaled down: messages up to 4 MiB, whole or in fragments of 64 B to 64 KiB."""
    data, value = sized_request(size)
    async with RawWebSocket.connect(kernel.url) as ws:
        ws.write(text_frames(data, fragment))
        await expect_echo(ws, value)


@pytest.mark.parametrize("fragment", [None, 4 * KiB, 64], ids=["one frame", "4 KiB fragments", "64 B fragments"])
async def test_message_at_the_size_limit_is_served(small_kernel, fragment) -> None:
    data, value = sized_request(SMALL_LIMIT)
    async with RawWebSocket.connect(small_kernel.url) as ws:
        ws.write(text_frames(data, fragment))
        await expect_echo(ws, value)
        await assert_usable(ws)


@pytest.mark.parametrize("fragment", [None, 4 * KiB, 64], ids=["one frame", "4 KiB fragments", "64 B fragments"])
async def test_message_over_the_size_limit_is_refused_with_1009(small_kernel, fragment) -> None:
    """One byte over max_message_size, as one frame or as fragments whose total exceeds it (RFC 6455 7.4.1)."""
    data, _ = sized_request(SMALL_LIMIT + 1)
    async with RawWebSocket.connect(small_kernel.url) as ws:
        ws.write(text_frames(data, fragment))
        await assert_refused(ws, small_kernel, MESSAGE_TOO_BIG)


async def test_huge_announced_length_is_refused_without_its_payload(small_kernel) -> None:
    """A header announcing 1 TiB is refused from the header alone: the kernel does not wait for (or buffer) it."""
    async with RawWebSocket.connect(small_kernel.url) as ws:
        ws.write(bytes((0x81, 0x80 | 127)) + (1 << 40).to_bytes(8, "big") + b"\x01\x02\x03\x04" + b"x" * 1000)
        await assert_refused(ws, small_kernel, MESSAGE_TOO_BIG)


@pytest.mark.parametrize("delivery", ["one write", "a write each"])
async def test_pipelined_requests_all_answered(kernel, delivery) -> None:
    """1000 requests sent without waiting all get their reply (Autobahn 9.7-9.8 in spirit)."""
    frames = [build_frame(OP_TEXT, request(i, i)) for i in range(1000)]
    async with RawWebSocket.connect(kernel.url) as ws:
        if delivery == "one write":
            ws.write(b"".join(frames))
        else:
            for frame in frames:
                ws.write(frame)
        results = {}
        for _ in frames:
            reply = json.loads(await ws.recv_text())
            results[reply["id"]] = reply["result"]
        assert results == {i: i for i in range(1000)}
        await assert_usable(ws)


async def test_refusals_leave_other_clients_served(small_kernel) -> None:
    """A client open while others are refused (1002, 1003, 1007, 1009) keeps being served."""
    async with RawWebSocket.connect(small_kernel.url) as bystander:
        await assert_usable(bystander, 1)
        bad_frames = [
            (build_frame(OP_TEXT, b"unmasked", masked=False), PROTOCOL_ERROR),
            (build_frame(OP_BINARY, b"binary"), UNSUPPORTED_DATA),
            (build_frame(OP_TEXT, b'"\xff"'), INVALID_DATA),
            (text_frames(b'"' + b"x" * SMALL_LIMIT + b'"', 4 * KiB), MESSAGE_TOO_BIG),
        ]
        for i, (frame, code) in enumerate(bad_frames):
            async with RawWebSocket.connect(small_kernel.url) as ws:
                ws.write(frame)
                close = await ws.expect_close()
                assert close.code == code
                await ws.expect_eof()
            await assert_usable(bystander, 10 + i)


# -- the raw client itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        b"\x81\x82ab\x00\x00",  # masked
        b"\xc1\x00",  # RSV1
        b"\x83\x00",  # reserved opcode
        b"\x09\x00",  # fragmented ping
        b"\x89\x7e\x00\x7e" + b"x" * 126,  # 126-byte ping
        b"\x81\x7e\x00\x05hello",  # 16-bit length for 5 bytes
        b"\x81\x7f" + (5).to_bytes(8, "big") + b"hello",  # 64-bit length for 5 bytes
    ],
    ids=["masked", "RSV1", "opcode 3", "fragmented ping", "126-byte ping", "long 16-bit", "long 64-bit"],
)
def test_raw_client_rejects_invalid_server_frames(frame) -> None:
    """The checks the raw client makes of every server frame can fail (so the tests above mean something)."""
    ws = RawWebSocket(_Stream())
    with pytest.raises(AssertionError):
        ws._parse(bytearray(frame))
    assert ws._parse(bytearray(b"\x81\x05hello")) is not None


def test_raw_client_masks_as_rfc_6455_says() -> None:
    """RFC 6455 5.3: octet i of the payload is XORed with octet i mod 4 of the key."""
    payload, key = bytes(range(256)) * 3 + b"odd", b"\x01\x80\xfe\x37"
    expected = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert mask(payload, key) == expected
    frame = build_frame(OP_TEXT, payload, key=key)
    assert frame[:4] == b"\x81\xfe" + len(payload).to_bytes(2, "big") and frame[4:8] == key
    assert frame[8:] == expected
