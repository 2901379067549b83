"""The floor of one call at a time: blocking sockets, a thread per connection, no event loop.

Each connection has a thread blocked in ``recv``: a request wakes that thread
straight away, with no event loop turn, no callback and no task between the
socket and the answer. Frames are read and written by hand (unmasked with
websockets' C ``apply_mask``); above them the server does what the baseline
does (:mod:`benchmarks.handwritten`: ``json.loads``, an if/elif on the method,
``json.dumps``). What one round trip costs here is about the least that this
machine's loopback, its scheduler and Python take for it, so the anchors run
it in the ``sequential`` scenario only: no server answers one call at a
time much faster on this machine. A thread per connection is no way to
serve many clients, and it is not meant to be one. Run ``python -m
benchmarks.floor_server --help``.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading

from websockets.speedups import apply_mask  # type: ignore[import-not-found]

from benchmarks.handwritten import HandWrittenRPC
from benchmarks.serving import MAX_MESSAGE_SIZE, announce, run_server, server_arguments, wait_for_stop

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked server frame."""
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", 0x80 | opcode, n) + payload
    if n < 2**16:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


class Client:
    """One connection, served by its own thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()  # notifications come from other connections' threads
        self.buffer = bytearray()

    def send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes (fewer only at the end of the stream)."""
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                break
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def handshake(self) -> bool:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buffer += chunk
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer = bytearray(rest)
        key = next((value.strip() for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
                    if name.strip().lower() == b"sec-websocket-key"), None)
        if key is None:
            self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        self.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        return True

    def serve(self) -> None:
        """Answer frames until the client closes (text messages are single frames here, as the client sends them)."""
        parts: list[bytes] | None = None
        while True:
            head = self.read(2)
            if len(head) < 2:
                return
            length = head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.read(8), "big")
            if length > MAX_MESSAGE_SIZE:
                self.send(frame(_CLOSE, struct.pack("!H", 1009)))
                return
            mask = self.read(4)
            payload = apply_mask(self.read(length), mask) if length else b""
            opcode, fin = head[0] & 0x0F, head[0] & 0x80
            if opcode == _TEXT or (opcode == 0 and parts is not None):
                parts = [payload] if opcode == _TEXT else [*(parts or []), payload]
                if fin:
                    reply = rpc.answer(b"".join(parts).decode())
                    parts = None
                    if reply is not None:
                        self.send(frame(_TEXT, reply.encode()))
            elif opcode == _PING:
                self.send(frame(_PONG, payload))
            elif opcode == _CLOSE:
                self.send(frame(_CLOSE, payload[:2]))
                return
            elif opcode != _PONG:
                self.send(frame(_CLOSE, struct.pack("!H", 1003)))
                return


clients: set[Client] = set()


def send_all(text: str) -> None:
    data = frame(_TEXT, text.encode())
    for client in list(clients):
        try:
            client.send(data)
        except OSError:
            pass  # that client is gone


rpc = HandWrittenRPC(send_all)


def handle(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = Client(sock)
    try:
        if client.handshake():
            clients.add(client)
            client.serve()
    except OSError:
        pass  # the client went away
    finally:
        clients.discard(client)
        sock.close()


def accept_forever(listener: socket.socket) -> None:
    while True:
        try:
            sock, _ = listener.accept()
        except OSError:
            return  # the listener closed: the server stops
        threading.Thread(target=handle, args=(sock,), daemon=True).start()


def main() -> None:
    args = server_arguments(__doc__.splitlines()[0]).parse_args()

    async def serve_until_stopped() -> None:
        listener = socket.create_server((args.host, args.port))
        threading.Thread(target=accept_forever, args=(listener,), daemon=True).start()
        try:
            announce(listener.getsockname()[1])
            await wait_for_stop()
        finally:
            listener.close()

    run_server(serve_until_stopped, args)


if __name__ == "__main__":
    main()
