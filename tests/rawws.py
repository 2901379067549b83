"""A raw websocket client for frame-level tests (tests/test_frames_conformance.py).

It speaks RFC 6455 by hand over a plain asyncio connection, so that a test
can send what no well-behaved client library would: unmasked frames, set
reserved bits, reserved opcodes, arbitrary fragmentation, control frames
that are too long or fragmented, frames split across TCP writes byte by
byte. It depends on nothing of websockets (not even its masking), so a bug
shared by the kernel and that library cannot hide itself.

Every frame the kernel sends is checked against what RFC 6455 requires of a
server: unmasked (5.1), reserved bits 0 with no extension negotiated
(5.2), a known opcode (5.2), control frames unfragmented and at most 125
bytes (5.5), the minimal length encoding (5.2), continuations in place
(5.4), text in valid UTF-8 (8.1), nothing after a close frame (5.5.1).

Every wait is bounded (``TIMEOUT`` seconds unless given).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "RawWebSocket", "Frame", "Close", "build_frame", "mask",
    "OP_CONT", "OP_TEXT", "OP_BINARY", "OP_CLOSE", "OP_PING", "OP_PONG",
    "RSV1", "RSV2", "RSV3", "TIMEOUT", "text_frames",
]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
KNOWN_OPCODES = {OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG}
#: Reserved bits, as the ``rsv`` argument of :func:`build_frame` takes them.
RSV1, RSV2, RSV3 = 4, 2, 1
#: Seconds any single wait of the client may take.
TIMEOUT = 5.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` repeated (RFC 6455 5.3), as one big-integer operation."""
    n = len(payload)
    if not n:
        return b""
    keystream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keystream, "little")).to_bytes(n, "little")


def build_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    key: bytes | None = None,
) -> bytes:
    """One client frame: any opcode (0-15), reserved bits ``rsv`` (0-7, RSV1=4), masked with a random key unless told."""
    first = (0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0x0F)
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        header = bytes((first, mask_bit | n))
    elif n < 65536:
        header = bytes((first, mask_bit | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((first, mask_bit | 127)) + n.to_bytes(8, "big")
    if not masked:
        return header + payload
    key = os.urandom(4) if key is None else key
    return header + key + mask(payload, key)


@dataclass
class Frame:
    """A frame the server sent."""

    fin: bool
    opcode: int
    payload: bytes


@dataclass
class Close:
    """A close frame's payload: ``code`` None when the payload was empty (RFC 6455 7.1.5: 1005, not sent)."""

    code: int | None
    reason: bytes


class _Stream(asyncio.Protocol):
    """Collects what the server sends; never raises away buffered bytes (unlike StreamReader on a reset)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: BaseException | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, deadline: float) -> None:
        """Wait until more bytes or the end come, or raise TimeoutError at ``deadline``."""
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        try:
            await asyncio.wait_for(self._waiter, max(0.0, deadline - loop.time()))
        finally:
            self._waiter = None


class RawWebSocket:
    """A client connection after its opening handshake. Use ``async with RawWebSocket.connect(url) as ws``."""

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream
        self.close_received: Close | None = None
        self.close_sent = False
        #: Pings the server sent (its keep-alive); read past, and answered.
        self.pings_received: list[bytes] = []
        self._fragments: list[bytes] | None = None
        self._fragment_opcode = 0

    # -- opening and closing --------------------------------------------------

    @classmethod
    def connect(cls, url: str, *, origin: bool = True, timeout: float = TIMEOUT, with_request: bytes = b"") -> _Connecting:
        """Open a TCP connection to ``url`` (ws://host:port/path?query) and do the HTTP upgrade by hand.

        ``with_request``: frames written in the same write as the HTTP request, before its answer.
        """
        return _Connecting(url, origin, timeout, with_request)

    @classmethod
    async def open(cls, url: str, *, origin: bool = True, timeout: float = TIMEOUT, with_request: bytes = b"") -> RawWebSocket:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        loop = asyncio.get_running_loop()
        _, stream = await asyncio.wait_for(loop.create_connection(_Stream, host, port), timeout)
        ws = cls(stream)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = base64.b64encode(os.urandom(16))
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin:  # what a page the kernel served would send
            lines.append(f"Origin: http://{host}:{port}")
        ws.write(("\r\n".join(lines) + "\r\n\r\n").encode() + with_request)
        deadline = loop.time() + timeout
        while b"\r\n\r\n" not in stream.buffer:
            if stream.eof:
                raise AssertionError(f"connection closed during the handshake: {bytes(stream.buffer)!r}")
            await stream.wait(deadline)
        end = stream.buffer.index(b"\r\n\r\n") + 4
        head = bytes(stream.buffer[:end]).decode("latin-1")
        del stream.buffer[:end]
        status, *header_lines = head.split("\r\n")
        assert status.startswith("HTTP/1.1 101 "), f"handshake refused: {head!r}"
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        assert headers.get("sec-websocket-accept") == accept, head
        assert headers.get("upgrade", "").lower() == "websocket", head
        # No extension asked for, so none may be in use (RFC 6455 9.1): reserved bits stay 0.
        assert "sec-websocket-extensions" not in headers, head
        return ws

    def abort(self) -> None:
        """Drop the TCP connection."""
        if self._stream.transport is not None:
            self._stream.transport.abort()

    def pause_reading(self) -> None:
        """Stop reading the socket: what the server sends waits in the socket buffers (a client that does not read)."""
        if self._stream.transport is not None:
            self._stream.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._stream.transport is not None:
            self._stream.transport.resume_reading()

    # -- sending ----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write raw bytes (nothing once the connection is gone)."""
        transport = self._stream.transport
        if transport is not None and not transport.is_closing() and data:
            transport.write(data)

    async def write_in_pieces(self, data: bytes, size: int = 1) -> None:
        """Write ``data`` ``size`` bytes at a time, letting the loop (and so the kernel) run after each piece."""
        for start in range(0, len(data), size):
            self.write(data[start:start + size])
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    def send(self, opcode: int, payload: bytes = b"", **options: object) -> None:
        """Write one frame (see :func:`build_frame` for ``fin``, ``rsv``, ``masked``)."""
        if opcode == OP_CLOSE:
            self.close_sent = True
        self.write(build_frame(opcode, payload, **options))  # type: ignore[arg-type]

    def send_text(self, payload: bytes, *, fragments: int | None = None) -> None:
        """Write a text message, whole or in frames of ``fragments`` bytes."""
        self.write(text_frames(payload, fragments))

    # -- receiving --------------------------------------------------------------

    async def read_frame(self, timeout: float = TIMEOUT) -> Frame | None:
        """The next frame the server sent, checked; None when the TCP connection ended first."""
        stream = self._stream
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = self._parse(stream.buffer)
            if frame is not None:
                break
            if stream.eof:
                assert not stream.buffer, f"connection ended inside a frame: {bytes(stream.buffer[:64])!r}"
                return None
            await stream.wait(deadline)
        assert self.close_received is None, f"the server sent a frame after its close frame: {frame}"
        if frame.opcode == OP_CLOSE:
            payload = frame.payload
            assert len(payload) != 1, "a close payload of 1 byte"
            code = int.from_bytes(payload[:2], "big") if payload else None
            self.close_received = Close(code, payload[2:])
        return frame

    def _parse(self, buffer: bytearray) -> Frame | None:
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        fin, rsv, opcode = bool(first & 0x80), (first >> 4) & 7, first & 0x0F
        assert not second & 0x80, "the server masked a frame (RFC 6455 5.1)"
        assert rsv == 0, f"the server set reserved bits {rsv} with no extension negotiated (RFC 6455 5.2)"
        assert opcode in KNOWN_OPCODES, f"the server sent reserved opcode {opcode} (RFC 6455 5.2)"
        length, position = second & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, position = int.from_bytes(buffer[2:4], "big"), 4
            assert length >= 126, "not the minimal length encoding (RFC 6455 5.2)"
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, position = int.from_bytes(buffer[2:10], "big"), 10
            assert length >= 65536 and not length >> 63, "not the minimal length encoding (RFC 6455 5.2)"
        if opcode >= 8:
            assert fin and length <= 125, "a fragmented or oversized control frame (RFC 6455 5.5)"
        if len(buffer) < position + length:
            return None
        payload = bytes(buffer[position:position + length])
        del buffer[:position + length]
        return Frame(fin, opcode, payload)

    async def next_frame(self, timeout: float = TIMEOUT) -> Frame | None:
        """The next frame other than the server's own keep-alive pings (answered); None at the end of TCP."""
        while True:
            frame = await self.read_frame(timeout)
            if frame is None or frame.opcode != OP_PING:
                return frame
            self.pings_received.append(frame.payload)
            if not self.close_sent:
                self.send(OP_PONG, frame.payload)

    async def recv_message(self, timeout: float = TIMEOUT) -> tuple[int, bytes]:
        """The next data message (opcode, payload), its fragments joined and checked. Fails on anything else."""
        while True:
            frame = await self.next_frame(timeout)
            assert frame is not None, "the connection ended instead of a message"
            assert frame.opcode in (OP_CONT, OP_TEXT, OP_BINARY), (
                f"expected a message, got opcode {frame.opcode} {frame.payload[:80]!r}"
            )
            if frame.opcode == OP_CONT:
                assert self._fragments is not None, "a continuation frame with no message open (RFC 6455 5.4)"
                self._fragments.append(frame.payload)
            else:
                assert self._fragments is None, "a new message inside a fragmented one (RFC 6455 5.4)"
                self._fragments, self._fragment_opcode = [frame.payload], frame.opcode
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), None
                if self._fragment_opcode == OP_TEXT:
                    data.decode()  # raises on invalid UTF-8 (RFC 6455 8.1)
                return self._fragment_opcode, data

    async def recv_text(self, timeout: float = TIMEOUT) -> str:
        opcode, data = await self.recv_message(timeout)
        assert opcode == OP_TEXT, "the kernel sent a binary message"
        return data.decode()

    async def expect_pong(self, payload: bytes, timeout: float = TIMEOUT) -> None:
        """The next frame is a pong carrying ``payload``."""
        frame = await self.next_frame(timeout)
        assert frame is not None, "the connection ended instead of a pong"
        assert frame.opcode == OP_PONG, f"expected a pong, got opcode {frame.opcode} {frame.payload[:80]!r}"
        assert frame.payload == payload, f"pong payload {frame.payload!r} != ping payload {payload!r}"

    async def expect_close(self, timeout: float = TIMEOUT, *, answer: bool = True) -> Close:
        """The next frame is a close frame (no message or pong before it); return it.

        ``answer``: send a close frame back, as RFC 6455 5.5.1 asks of the
        side that did not send one first.
        """
        frame = await self.next_frame(timeout)
        assert frame is not None, "the connection ended without a close frame"
        assert frame.opcode == OP_CLOSE, f"expected a close frame, got opcode {frame.opcode} {frame.payload[:80]!r}"
        assert self.close_received is not None
        if answer and not self.close_sent:
            code = self.close_received.code
            self.send(OP_CLOSE, b"" if code is None else code.to_bytes(2, "big"))
        return self.close_received

    async def expect_eof(self, timeout: float = TIMEOUT) -> None:
        """The server ends the TCP connection within ``timeout``, sending nothing more (after its close frame)."""
        stream = self._stream
        deadline = asyncio.get_running_loop().time() + timeout
        while not stream.eof:
            assert not stream.buffer, f"the server sent more after its close frame: {bytes(stream.buffer[:80])!r}"
            try:
                await stream.wait(deadline)
            except asyncio.TimeoutError:
                raise AssertionError(f"the server did not end the TCP connection within {timeout} s") from None
        assert not stream.buffer, f"the server sent more after its close frame: {bytes(stream.buffer[:80])!r}"

    async def expect_nothing(self, seconds: float) -> None:
        """The server sends nothing (and keeps the connection) for ``seconds``."""
        stream = self._stream
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            assert not stream.buffer, f"unexpected data from the server: {bytes(stream.buffer[:80])!r}"
            assert not stream.eof, "the server ended the connection"
            try:
                await stream.wait(deadline)
            except asyncio.TimeoutError:
                return


def text_frames(payload: bytes, fragments: int | None = None) -> bytes:
    """A text message as bytes to write: one frame, or frames of ``fragments`` bytes each."""
    if fragments is None or len(payload) <= fragments:
        return build_frame(OP_TEXT, payload)
    pieces = [payload[i:i + fragments] for i in range(0, len(payload), fragments)]
    last = len(pieces) - 1
    return b"".join(
        build_frame(OP_TEXT if i == 0 else OP_CONT, piece, fin=i == last) for i, piece in enumerate(pieces)
    )


class _Connecting:
    """``async with RawWebSocket.connect(url) as ws``: the connection is dropped at the end of the block."""

    def __init__(self, url: str, origin: bool, timeout: float, with_request: bytes) -> None:
        self._args = (url, origin, timeout, with_request)
        self._ws: RawWebSocket | None = None

    async def __aenter__(self) -> RawWebSocket:
        url, origin, timeout, with_request = self._args
        self._ws = await RawWebSocket.open(url, origin=origin, timeout=timeout, with_request=with_request)
        return self._ws

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None:
            self._ws.abort()
