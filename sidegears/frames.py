"""RFC 6455 frames of one server-side websocket connection after its handshake, without I/O.

websockets keeps the HTTP side of a connection (the opening handshake, the
kernel's pages, the security checks); once the kernel has answered 101, a
:class:`ServerFrames` reads and writes the frames. Why our own: websockets'
Sans-I/O protocol makes a :class:`~websockets.frames.Frame` and runs a
generator-based parser for every frame, which was a third of the kernel's
CPU on pipelined calls (``benchmarks/README.md``). Here a frame is parsed
in place from the bytes received and delivered by a call: the text of a
message, the payload of a pong, a close.

What websockets gives, it still gives: masking with its C speedup, close
codes and reasons through :class:`~websockets.frames.Close`, and
permessage-deflate through the extension objects its handshake negotiated
(their documented ``decode``/``encode``), on the few connections that ask
for compression.

Conformance (``tests/test_frames_conformance.py`` covers Autobahn's
sections 1 to 7 and 9): client frames must be masked; reserved bits must
be 0 unless an extension uses them; reserved opcodes, fragmented or
oversized control frames, continuations out of place and close frames with
a bad code fail the connection with 1002; a message over ``max_size``
fails it with 1009, checked when its header arrives; invalid UTF-8 in a
text message (1007) is the caller's check, since the text is decoded
there anyway.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from websockets.exceptions import PayloadTooBig, ProtocolError
from websockets.extensions import Extension
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State

try:  # websockets' C speedup; its module is not underscored, and the fallback below is its own
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover  (a websockets built without its C extension)
    from websockets.utils import apply_mask

__all__ = ["ServerFrames", "FrameHandler", "CLOSE_PROTOCOL_ERROR", "CLOSE_MESSAGE_TOO_BIG", "OPEN", "CLOSING", "CLOSED"]

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_MESSAGE_TOO_BIG = 1009

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# websockets' connection states by plain names: on Python 3.11 reading a
# member off an Enum class goes through EnumType.__getattr__ (50 ns against
# 6), and the per-message path compares the state several times a message.
OPEN, CLOSING, CLOSED = State.OPEN, State.CLOSING, State.CLOSED
_DATA_OPCODES = (OP_CONT, OP_TEXT, OP_BINARY)
_CONTROL_OPCODES = (OP_CLOSE, OP_PING, OP_PONG)
#: Below this size a payload is copied where that is quicker than avoiding it; from it on,
#: it is unmasked from a view of the buffer, and framed apart from its header, not joined to it.
_COPY_BELOW = 64 * 1024
_U16 = struct.Struct("!BBH")
_U64 = struct.Struct("!BBQ")


def frame_header(first_byte: int, length: int) -> bytes:
    """The header of an unmasked (server) frame: first byte (FIN, RSV, opcode) and payload length."""
    if length < 126:
        return bytes((first_byte, length))
    if length < 65536:
        return _U16.pack(first_byte, 126, length)
    return _U64.pack(first_byte, 127, length)


class FrameHandler:
    """What :class:`ServerFrames` calls; the transport implements it."""

    def text_received(self, data: bytes) -> None:
        """A complete text message (UTF-8 not yet checked)."""

    def binary_received(self) -> None:
        """The first frame of a binary message (the kernel refuses those)."""

    def pong_received(self, data: bytes) -> None:
        """A pong, with its payload."""

    def close_received(self, close: Close) -> None:
        """The client's close frame (answered already when it came first)."""


class ServerFrames:
    """One connection's frames after the handshake: parse what is received, frame what is sent.

    ``state`` is websockets' :class:`~websockets.protocol.State` (OPEN,
    CLOSING, CLOSED); ``close_sent``/``close_rcvd`` and
    ``close_rcvd_then_sent`` mean what they mean on websockets' protocol.
    Bytes to write accumulate until :meth:`data_to_send`; an empty chunk
    there is the end of the stream (the server closes TCP first).
    """

    def __init__(self, handler: FrameHandler, *, max_size: int | None, extensions: Sequence[Extension] = ()) -> None:
        self.handler = handler
        self.max_size = max_size
        self.extensions = list(extensions)
        self.state = OPEN
        self.close_sent: Close | None = None
        self.close_rcvd: Close | None = None
        self.close_rcvd_then_sent: bool | None = None
        self.eof_sent = False
        self._writes: list[bytes] = []
        self._buffer = bytearray()
        self._discarding = False  # after a close frame was received or the connection failed
        # The message being received in fragments: its opcode, its parts, their size.
        self._message_opcode: int | None = None
        self._parts: list[bytes] = []
        self._message_size = 0
        # What reserved bits may be set: those an extension uses (permessage-deflate: RSV1).
        self._rsv_allowed = 0x40 if self.extensions else 0

    # -- receiving --------------------------------------------------------------

    def receive_data(self, data: bytes | memoryview) -> None:
        """Parse every complete frame of ``data`` (with what was left from before) and deliver it.

        ``data`` may be a view of a buffer that is reused after this call:
        nothing keeps it (payloads are unmasked into new bytes, and what is
        left of an incomplete frame is copied).
        """
        if self._discarding:
            return
        buffer = self._buffer
        if buffer:
            buffer += data
            data = buffer  # type: ignore[assignment]  # parsed in place: a bytearray is bytes-like
        end, size = 0, len(data)
        try:
            while size - end >= 2 and not self._discarding:
                end = self._parse_frame(data, end, size)
                if end < 0:  # incomplete: wait for more
                    end = -end - 1
                    break
        except ProtocolError as exc:
            self.fail(CLOSE_PROTOCOL_ERROR, str(exc))
        except PayloadTooBig as exc:
            self.fail(CLOSE_MESSAGE_TOO_BIG, str(exc))
        if self._discarding:
            buffer.clear()
        elif data is buffer:
            del buffer[:end]
        elif end < size:
            buffer += data[end:]

    def _parse_frame(self, data: Any, start: int, size: int) -> int:
        """Deliver the frame at ``start``; return where the next begins, or ``-start - 1`` if incomplete."""
        first, second = data[start], data[start + 1]
        opcode = first & 0x0F
        length = second & 0x7F
        position = start + 2
        if length == 126:
            if size - position < 2:
                return -start - 1
            length = (data[position] << 8) | data[position + 1]
            position += 2
        elif length == 127:
            if size - position < 8:
                return -start - 1
            length = int.from_bytes(data[position:position + 8], "big")
            position += 8
            if length >> 63:
                raise ProtocolError("payload length over 2**63 - 1")
        # Checked once the header is in, before waiting for a payload that may never come.
        if not second & 0x80:
            raise ProtocolError("incorrect masking")
        if first & 0x70 & ~self._rsv_allowed:
            raise ProtocolError("reserved bits must be 0")
        fin = first & 0x80
        if opcode in _CONTROL_OPCODES:
            if not fin:
                raise ProtocolError("fragmented control frame")
            if length > 125:
                raise ProtocolError("control frame too long")
        elif opcode in _DATA_OPCODES:
            if opcode == OP_CONT:
                if self._message_opcode is None:
                    raise ProtocolError("unexpected continuation frame")
            elif self._message_opcode is not None:
                raise ProtocolError("expected a continuation frame")
            if self.max_size is not None and self._message_size + length > self.max_size:
                raise PayloadTooBig(self._message_size + length, self.max_size)
        else:
            raise ProtocolError(f"invalid opcode: {opcode}")
        end = position + 4 + length
        if end > size:
            return -start - 1
        if length < _COPY_BELOW:
            payload = apply_mask(data[position + 4:end], data[position:position + 4])
        else:  # unmasked from a view: slicing the buffer would copy a large payload once more
            with memoryview(data) as view:
                payload = apply_mask(view[position + 4:end], data[position:position + 4])
        if opcode == OP_TEXT and fin and not first & 0x70:  # the common case: a whole text message
            self.handler.text_received(payload)
        elif opcode in _DATA_OPCODES:
            self._data_frame(opcode, payload, bool(fin), first)
        elif opcode == OP_PING:
            if self.state is OPEN:
                self._write(frame_header(0x80 | OP_PONG, len(payload)) + payload)
        elif opcode == OP_PONG:
            self.handler.pong_received(payload)
        else:
            self._close_frame(payload)
        return end

    def _data_frame(self, opcode: int, payload: bytes, fin: bool, first: int) -> None:
        if self.extensions:
            frame = Frame(Opcode(opcode), payload, fin, bool(first & 0x40), bool(first & 0x20), bool(first & 0x10))
            remaining = None if self.max_size is None else self.max_size - self._message_size
            for extension in reversed(self.extensions):
                frame = extension.decode(frame, max_size=remaining)
            if frame.rsv1 or frame.rsv2 or frame.rsv3:
                raise ProtocolError("reserved bits must be 0")
            payload = bytes(frame.data)
            if self.max_size is not None and self._message_size + len(payload) > self.max_size:
                raise PayloadTooBig(self._message_size + len(payload), self.max_size)
        if opcode == OP_BINARY:
            self.handler.binary_received()
            return
        if opcode == OP_TEXT:
            if fin:
                self.handler.text_received(payload)
                return
            self._message_opcode = opcode
        self._parts.append(payload)
        self._message_size += len(payload)
        if fin:
            data = b"".join(self._parts)
            self._parts = []
            self._message_size = 0
            self._message_opcode = None
            self.handler.text_received(data)

    def _close_frame(self, payload: bytes) -> None:
        try:
            close = Close.parse(payload)
        except UnicodeDecodeError as exc:
            self.fail(1007, f"invalid UTF-8 in the close reason at byte {exc.start}")
            return
        if self._message_opcode is not None:
            raise ProtocolError("incomplete fragmented message")
        self.close_rcvd = close
        if self.state is CLOSING:
            self.close_rcvd_then_sent = False
        elif self.state is OPEN:
            # RFC 6455 5.5.1: answer with a close frame, echoing the code (and here the reason) received.
            self._write(frame_header(0x80 | OP_CLOSE, len(payload)) + payload)
            self.close_sent = close
            self.close_rcvd_then_sent = True
            self.state = CLOSING
        self._send_eof()  # both close frames are out: the server closes TCP first
        self._discarding = True  # RFC 6455 1.4: what follows a close frame is discarded
        self.handler.close_received(close)

    def receive_eof(self) -> None:
        """The client closed its side of TCP (or the connection is gone)."""
        self.state = CLOSED
        self._discarding = True

    # -- sending ----------------------------------------------------------------

    def send_text(self, data: bytes) -> None:
        """Frame ``data`` (UTF-8) as one text message."""
        if self.extensions:
            frame = Frame(Opcode.TEXT, data)
            for extension in self.extensions:
                frame = extension.encode(frame)
            first = 0x80 | OP_TEXT | (0x40 if frame.rsv1 else 0) | (0x20 if frame.rsv2 else 0) | (0x10 if frame.rsv3 else 0)
            data = bytes(frame.data)
        else:
            first = 0x80 | OP_TEXT
        header = frame_header(first, len(data))
        if len(data) < _COPY_BELOW:
            self._writes.append(header + data)
        else:
            self._writes.append(header)
            self._writes.append(data)

    def send_ping(self, data: bytes) -> None:
        self._write(frame_header(0x80 | OP_PING, len(data)) + data)

    def send_close(self, code: int, reason: str = "") -> None:
        """Start the closing handshake: the client's close frame ends it."""
        close = Close(code, reason)
        payload = close.serialize()
        self._write(frame_header(0x80 | OP_CLOSE, len(payload)) + payload)
        self.close_sent = close
        self.state = CLOSING

    def fail(self, code: int, reason: str = "") -> None:
        """Fail the connection: a close frame with ``code``, then end TCP without waiting for the client's."""
        if self.state is OPEN:
            self.send_close(code, reason)
        self._send_eof()
        self._discarding = True
        self._buffer.clear()

    def close_expected(self) -> bool:
        """True once the TCP connection should end soon (a close frame went out)."""
        return self.state is CLOSING

    @property
    def has_output(self) -> bool:
        """Whether frames wait to be taken by :meth:`data_to_send`."""
        return bool(self._writes)

    def data_to_send(self) -> list[bytes]:
        writes, self._writes = self._writes, []
        return writes

    def _write(self, chunk: bytes) -> None:
        if not self.eof_sent:
            self._writes.append(chunk)

    def _send_eof(self) -> None:
        if not self.eof_sent:
            self._writes.append(b"")
            self.eof_sent = True

