"""Moving websocket frames between a socket and a session, on an asyncio BufferedProtocol.

One :class:`WebSocketTransport` per TCP connection. Until the opening
handshake is answered, it feeds received bytes to websockets' public Sans-I/O
:class:`~websockets.server.ServerProtocol`, which parses the HTTP request;
the ``process_http_request`` hook answers it (pages, refusals, the security
checks). Once it answered 101, the frames are the kernel's own
(:class:`~sidegears.frames.ServerFrames`): each complete text message goes
to the connection's :class:`~sidegears.session.RPCSession`, and what the
session sends is framed there. The transport also keeps the connection
alive (pings), times out idle clients and slow handshakes, and closes.

Why not websockets' asyncio server: serving text straight from the read
callback (``buffer_updated``) skips its per-message queue and ``await
recv()``, and replies framed in one loop turn go out in one write; reaching
either through the asyncio server meant using its private internals. Why not websockets'
Sans-I/O frames after the handshake: they cost a third of the kernel's CPU
on pipelined calls (see ``benchmarks/README.md`` for both measurements).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING, Any, cast

from websockets.extensions.permessage_deflate import enable_server_permessage_deflate
from websockets.frames import Close
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from .connection import Connection
from .frames import CLOSING, OPEN, FrameHandler, ServerFrames
from .plugins import first_answer
from .session import RPCSession

if TYPE_CHECKING:
    from .kernel import RPCKernel

__all__ = ["WebSocketTransport", "FLUSH_AT", "FLUSH_AT_MOST", "CLOSE_TIMEOUT"]

# Close codes (RFC 6455 section 7.4.1).
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011

#: Frames are written at the end of the loop iteration, or as soon as this many
#: bytes wait: small replies still share a write (about 25 per write), and the
#: client reads the first ones while the rest are made instead of waiting for
#: all of them. Measured (benchmarks, 64 calls in flight): 16 KiB made server
#: and client take turns (0.94 of the baseline), 1 KiB lets them overlap (1.6).
FLUSH_AT = 1024
#: Within one loop iteration each early write doubles the bytes the next one
#: waits for, up to this: a long burst (notifications pushed in a loop) goes
#: out in ever fewer writes, while the first 1 KiB still leaves at once. The
#: anchors' client measured 1.25 to 1.3 times the notifications a second
#: against a fixed 1 KiB, and 64 calls in flight unchanged; a fixed 4 KiB
#: lost a quarter of those calls (the turn-taking above).
FLUSH_AT_MOST = 16 * 1024

#: Headers every plain HTTP answer of the kernel carries (pages, errors, redirects): no other
#: origin may frame its pages (clickjacking) or load its files with <script>/<img>.
HTTP_SECURITY_HEADERS = (
    ("Content-Security-Policy", "frame-ancestors 'self'"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)

#: Bytes of a closing connection's input fed to the protocol per loop turn (see buffer_updated).
CLOSING_SLICE = 16 * 1024

#: Seconds to wait for the client's side of a closing handshake before dropping the TCP connection.
CLOSE_TIMEOUT = 10.0

#: Bytes read from a socket at once: asyncio's own read size.
READ_SIZE = 256 * 1024

# One read buffer per thread, shared by the thread's connections: the loop
# fills it for one connection and hands it over (buffer_updated), which
# parses it before the next read. asyncio's plain Protocol reads into a new
# 256 KiB bytes object instead, an allocation large enough to be an mmap and
# a munmap each time: 17 µs a read here, more than the rest of a small call.
_read_buffers = threading.local()


def _read_buffer() -> memoryview:
    view: memoryview | None = getattr(_read_buffers, "view", None)
    if view is None:
        view = _read_buffers.view = memoryview(bytearray(READ_SIZE))
    return view


class WebSocketTransport(asyncio.BufferedProtocol, FrameHandler):
    """One websocket connection on the kernel's port: handshake, frames in, frames out, keep-alive, close.

    ``remote_address`` is the client's (host, port); ``request`` the HTTP
    request of the opening handshake (``path``, ``headers``), once read;
    ``connection`` the :class:`~sidegears.connection.Connection` once the
    handshake succeeded.
    """

    def __init__(self, kernel: RPCKernel) -> None:
        self.kernel = kernel
        limits = kernel.limits
        extensions = enable_server_permessage_deflate(None) if kernel.compression == "deflate" else None
        self.protocol = ServerProtocol(
            extensions=extensions, max_size=limits.max_message_size, logger=kernel.websockets_logger
        )
        self.remote_address: Any = None
        self.request: Request | None = None
        self.connection: Connection | None = None
        self.session: RPCSession | None = None
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._read_view = _read_buffer()  # this thread's: the transport lives on this loop
        #: The connection's frames, once the handshake was answered with 101.
        self.frames: ServerFrames | None = None
        self._head_tail = b""  # the last bytes of the request fed so far, to find its end across reads
        self._request_end_seen = False
        self._early = bytearray()  # what came after the request, before the handshake was answered
        self._paused = False
        self._writable: asyncio.Future[None] | None = None
        self._flush_scheduled = False
        self._unflushed = 0
        self._flush_at = FLUSH_AT  # bytes that trigger an early write now (see FLUSH_AT_MOST)
        self._lost = False
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._ping_data: bytes | None = None
        self._close_reported = False
        self._closing_input = bytearray()  # read after our close frame, waiting to be fed in slices
        self._feeding = False

    def __repr__(self) -> str:
        return f"<WebSocketTransport from {self.remote_address}>"

    # -- asyncio.BufferedProtocol -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; not an isinstance check: uvloop's transports do not subclass asyncio's.
        self._transport = cast(asyncio.Transport, transport)
        self.remote_address = transport.get_extra_info("peername")
        self.kernel.transport_opened(self)
        open_timeout = self.kernel.limits.open_timeout
        if open_timeout is not None:
            self._set_timer("handshake", open_timeout, self._handshake_timed_out)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._read_view

    def buffer_updated(self, nbytes: int) -> None:
        data = self._read_view[:nbytes]  # this thread's buffer: whatever is kept of it is copied
        frames = self.frames
        if frames is None:
            self._request_data_received(bytes(data))
        elif frames.state is CLOSING:
            # After our close frame, what the client sent before it saw the
            # close is read only to find its close reply, and dropped. A flood
            # of it (clients calling flat out while the kernel stops) is fed
            # in slices, one per loop turn, so that a stop's timers run on time.
            self._closing_input += data
            if not self._feeding:
                self._feeding = True
                self.pause_reading()
                self._loop.call_soon(self._feed_closing_input)
        else:
            frames.receive_data(data)  # parsed now; what it keeps, it copies
            if frames.has_output:
                # Replies to requests served in this read callback (RPCSession.receive_text): one write
                # for them all, and early writes start again from FLUSH_AT.
                self.flush()
            self._frames_processed(frames)

    def _request_data_received(self, data: bytes) -> None:
        """Feed websockets the HTTP request, and no further: the frames after it are ours."""
        if self._request_end_seen:
            self._early += data  # frames sent at once, read after the handshake is answered
            return
        window = self._head_tail + data
        end = window.find(b"\r\n\r\n")
        if end < 0:
            self.protocol.receive_data(data)
            self._head_tail = window[-3:]
        else:
            cut = end + 4 - len(self._head_tail)  # at least 1: the end is not all in the tail
            self._request_end_seen = True
            self.protocol.receive_data(data[:cut])
            self._early += data[cut:]
        self._process_events()

    def _feed_closing_input(self) -> None:
        if self._lost or self.frames is None:
            return
        chunk = bytes(self._closing_input[:CLOSING_SLICE])
        del self._closing_input[:CLOSING_SLICE]
        self.frames.receive_data(chunk)
        self._frames_processed(self.frames)
        if self._closing_input and not self._lost:
            self._loop.call_soon(self._feed_closing_input)
        else:
            self._feeding = False
            self.resume_reading()

    def eof_received(self) -> None:
        if self.frames is None:
            self.protocol.receive_eof()
            self._process_events()
        else:
            self.frames.receive_eof()
            self._frames_processed(self.frames)
        # The websocket closing handshake ends the connection; nothing is
        # written after the client's EOF, so the transport may close.

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self.protocol.receive_eof()  # idempotent: the protocol's state becomes CLOSED
        if self.frames is not None:
            self.frames.receive_eof()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._wake_writers()
        if not self._closed.done():
            self._closed.set_result(None)
        if self.session is not None:
            self.session.receive_eof()
        self.kernel.transport_closed(self)

    def pause_writing(self) -> None:
        self._paused = True
        if self.session is not None:
            self.session.output_paused(True)

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_writers()
        if self.session is not None:
            self.session.output_paused(False)

    # -- incoming -----------------------------------------------------------------

    def _process_events(self) -> None:
        """The handshake's events: the request, once websockets parsed it."""
        for event in self.protocol.events_received():
            if isinstance(event, Request):
                self.request = event
                self._cancel_timer("handshake")
                self._loop.create_task(self._handshake(event))
        self._write_pending()

    def _frames_processed(self, frames: ServerFrames) -> None:
        if frames.state is OPEN and not frames.has_output:
            return  # the common case: messages read, nothing to answer at the frame level
        self._write_pending()
        close = frames.close_sent
        if close is not None and not self._close_reported and close.code in (1002, 1009, 1011):
            # The frames failed the connection: a protocol error, or a message over max_message_size.
            self._close_reported = True
            self.kernel.log.warning(
                "closing connection: " + close.reason, connection=self.connection_id, close_code=int(close.code)
            )
            if self.session is not None:
                self.session.receive_eof()
        if frames.close_expected() and "close" not in self._timers and not self._lost:
            # We sent (or answered) a close frame: the client should now close TCP.
            self._set_timer("close", CLOSE_TIMEOUT, self.abort)

    # -- the frames' handler (FrameHandler) ----------------------------------------------

    def text_received(self, data: bytes) -> None:
        frames = self.frames
        if frames is None or frames.state is not OPEN:
            # After our close frame: the client sent this before it saw the close, which answers it.
            self.kernel.log.debug("message after close dropped", connection=self.connection_id)
            return
        try:
            text = data.decode()
        except UnicodeDecodeError as exc:
            self._fail(CLOSE_INVALID_DATA, "invalid UTF-8 in a text message", f"invalid UTF-8 at byte {exc.start}")
            return
        if self.kernel.limits.idle_timeout is not None:
            self._schedule_idle_check()
        if self.session is not None:
            self.session.receive_text(text)

    def binary_received(self) -> None:
        self._fail(CLOSE_UNSUPPORTED_DATA, "binary frame", "binary frames are not supported: send JSON-RPC as text")

    def pong_received(self, data: bytes) -> None:
        if self._ping_data is not None and data == self._ping_data:
            self._ping_data = None
            self._cancel_timer("pong")
            self._schedule_ping()

    def close_received(self, close: Close) -> None:
        if self.session is not None:
            self.session.receive_eof()

    def _fail(self, code: int, why: str, reason: str) -> None:
        """Fail the connection (bad input, an unanswered ping): log why, send the close code, end TCP, drop what follows."""
        self._close_reported = True
        self.kernel.log.warning("closing connection: " + why, connection=self.connection_id, close_code=code)
        frames = self.frames
        if frames is not None and frames.state is OPEN:
            frames.fail(code, reason)
            self._frames_processed(frames)
        if self.session is not None:
            self.session.receive_eof()

    async def _handshake(self, request: Request) -> None:
        kernel = self.kernel
        try:
            response: Response | None = await first_answer(
                kernel.plugin_manager.hook.process_http_request(kernel=kernel, websocket=self, request=request)
            )
        except Exception as exc:
            kernel.log.error("process_http_request hook failed", exc_info=exc)
            response = self.protocol.reject(500, "Failed to open a WebSocket connection.\n")
        if self._lost:
            return
        if response is None:
            response = self.protocol.accept(request)
        if response.status_code != 101:
            for name, value in HTTP_SECURITY_HEADERS:
                if name not in response.headers:
                    response.headers[name] = value
        self.protocol.send_response(response)
        self._write_pending()
        if response.status_code != 101:
            self._set_timer("close", CLOSE_TIMEOUT, self.abort)
            return
        self.connection = Connection(kernel, self)
        self.session = RPCSession(kernel, self.connection, self)
        self.connection.session = self.session
        # From here on the frames are ours; websockets' protocol is never fed again.
        self.frames = frames = ServerFrames(self, max_size=kernel.limits.max_message_size,
                                            extensions=self.protocol.extensions)
        early, self._early = bytes(self._early), bytearray()
        if early:
            frames.receive_data(early)
            self._frames_processed(frames)
        self._schedule_ping()
        if kernel.limits.idle_timeout is not None:
            self._schedule_idle_check()
        await kernel.connection_opened(self.connection)
        if self._lost or frames.state is not OPEN:
            self.session.receive_eof()
        await self.session.start()

    def _handshake_timed_out(self) -> None:
        self.kernel.log.info("closing connection: no handshake in time", remote=self.remote_address)
        self.abort()

    # -- keep-alive and idle --------------------------------------------------------

    def _schedule_ping(self) -> None:
        interval = self.kernel.limits.ping_interval
        if interval is not None:
            self._set_timer("ping", interval, self._ping)

    def _ping(self) -> None:
        if self.frames is None or self.frames.state is not OPEN:
            return
        self._ping_data = os.urandom(4)
        self.frames.send_ping(self._ping_data)
        self._write_pending()
        timeout = self.kernel.limits.ping_timeout
        if timeout is not None:
            self._set_timer("pong", timeout, self._pong_timed_out)

    def _pong_timed_out(self) -> None:
        self._fail(CLOSE_INTERNAL_ERROR, "keep-alive ping not answered", "keepalive ping timeout")

    def _schedule_idle_check(self) -> None:
        timeout = self.kernel.limits.idle_timeout
        assert timeout is not None
        self._set_timer("idle", timeout, self._idle)

    def _idle(self) -> None:
        if self.session is not None and self.session.tasks:
            self._schedule_idle_check()  # a call is still running: not idle
            return
        self.kernel.log.info(
            "closing idle connection", connection=self.connection_id, idle_timeout=self.kernel.limits.idle_timeout
        )
        self.close(CLOSE_GOING_AWAY, "idle timeout")

    def _set_timer(self, name: str, delay: float, callback: Any) -> None:
        self._cancel_timer(name)
        self._timers[name] = self._loop.call_later(delay, callback)

    def _cancel_timer(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    # -- outgoing (the session's Sink) --------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while text can be sent."""
        return self.frames is not None and self.frames.state is OPEN and not self._lost

    @property
    def paused(self) -> bool:
        """True while the client does not read what is written (asyncio flow control)."""
        return self._paused

    @property
    def buffered(self) -> int:
        """Bytes written and not yet taken by the client's socket."""
        transport = self._transport
        return 0 if transport is None or self._lost else transport.get_write_buffer_size()

    @property
    def remote_host(self) -> Any:
        """The client's address without its port: what per-address limits count by."""
        address = self.remote_address
        return address[0] if isinstance(address, tuple) and address else address

    @property
    def connection_id(self) -> int | None:
        return None if self.connection is None else self.connection.id

    def send_text(self, data: bytes, flush_soon: bool = True) -> bool:
        """Frame a UTF-8 text message, to go out at the next flush; False if the client is gone.

        Replies and broadcast notifications both come this way, so their
        frames share one write per loop iteration.
        """
        frames = self.frames
        if frames is None or frames.state is not OPEN or self._lost:
            return False
        frames.send_text(data)
        self._unflushed += len(data)
        if self._unflushed >= self._flush_at:
            self._unflushed = 0
            self._flush_at = min(2 * self._flush_at, FLUSH_AT_MOST)
            self._write_pending()
        elif flush_soon and not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)
        return True

    def flush(self) -> None:
        """Write every frame framed since the last flush in one system call (one per reply was 27 % of the time)."""
        self._flush_scheduled = False
        self._unflushed = 0
        self._flush_at = FLUSH_AT
        self._write_pending()

    def _write_pending(self) -> None:
        chunks = (self.protocol if self.frames is None else self.frames).data_to_send()
        transport = self._transport
        if not chunks or transport is None or self._lost:
            return
        if all(chunks):
            transport.write(b"".join(chunks) if len(chunks) > 1 else chunks[0])
            return
        # An empty chunk is the end of the stream: half-close when possible (not TLS), as websockets does.
        for chunk in chunks:
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                try:
                    transport.write_eof()
                except Exception:  # noqa: BLE001  (the socket may be gone already; uvloop raises RuntimeError)
                    pass
            else:
                transport.close()

    async def wait_writable(self) -> None:
        """Return once the client reads again (or the connection is gone)."""
        if not self._paused or self._lost:
            return
        if self._writable is None:
            self._writable = self._loop.create_future()
        await self._writable

    def _wake_writers(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def pause_reading(self) -> None:
        if self._transport is not None and not self._lost:
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self._lost:
            self._transport.resume_reading()

    # -- closing ------------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake with a close code; the TCP connection ends when the client answers."""
        self.flush()
        if self.session is not None:
            self.session.drop_unread()
        frames = self.frames
        if frames is None:
            self.abort()  # the handshake is not answered yet
        elif frames.state is OPEN:
            frames.send_close(code, reason)
            self._frames_processed(frames)
            # The client's close frame must be read, even if back-pressure or a
            # stop paused reading; text that comes before it is dropped.
            if self._transport is not None and not self._lost:
                self._transport.resume_reading()

    def abort(self) -> None:
        """Drop the TCP connection at once (unsent data is lost; the client sees 1006)."""
        if self._transport is not None and not self._lost:
            self._transport.abort()

    async def wait_closed(self) -> None:
        """Wait until the TCP connection is gone."""
        await asyncio.shield(self._closed)

    @property
    def close_info(self) -> tuple[int | None, str]:
        """The close code and reason that ended the connection, from whichever side closed first.

        When the kernel closed (a bad frame: 1003, 1007, 1009; policy: 1008;
        stopping: 1001) that is the code it sent, else the code it received;
        1006 when the TCP connection ended without a close frame.
        """
        frames = self.frames
        if frames is None:
            return 1006, "connection lost without a close frame"
        sent, rcvd = frames.close_sent, frames.close_rcvd
        if sent is not None and (rcvd is None or not frames.close_rcvd_then_sent):
            return int(sent.code), sent.reason
        if rcvd is not None:
            return int(rcvd.code), rcvd.reason
        return 1006, "connection lost without a close frame"
