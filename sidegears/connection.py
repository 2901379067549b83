"""One client connection: its receive loop, concurrent dispatch, replies and kernel->client calls."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import itertools
import time
import types
from contextvars import copy_context
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from . import protocol
from .errors import ClientGone, InternalError, InvalidParams, MethodNotFound, RequestCancelled, RPCError
from .hook_calls import call_all, call_sync, first_result, first_sync
from .protocol import NO_ID, Request, Response, failure, success

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from .kernel import RPCKernel

__all__ = ["Connection", "current_connection"]

_ids = itertools.count(1)
_current: contextvars.ContextVar[Connection | None] = contextvars.ContextVar("sidegears_connection", default=None)


# Messages are served inline, without a task each: most methods finish without
# waiting for anything, and a task per request (its allocation, and a trip
# through the event loop before it starts) was the largest cost the kernel
# added. _start() runs a coroutine until it finishes or first waits; one that
# waits is finished by _resume() in the same task that started it, because a
# coroutine must never change task midway (asyncio.timeout(), TaskGroup and
# current_task() rely on it). So when a call waits, the task that read it
# keeps it, and reading goes on in a new task (see Connection._read).


def _start(coro: Any, context: contextvars.Context) -> tuple[bool, Any]:
    """Run ``coro`` in ``context`` until it returns or first waits: (True, its result) or (False, what it waits on)."""
    try:
        return False, context.run(coro.send, None)
    except StopIteration as stop:
        return True, stop.value


@types.coroutine
def _resume(coro: Any, context: contextvars.Context, waiting_on: Any) -> Any:
    """Finish, in the current task, a coroutine that :func:`_start` ran until its first wait.

    Every step runs in the coroutine's own context; what the task sends or
    throws (results, cancellation) is passed through, as ``await`` would.
    """
    while True:
        try:
            sent = yield waiting_on
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # thrown in by the task: cancellation, mostly
            step, arg = coro.throw, exc
        else:
            step, arg = coro.send, sent
        try:
            waiting_on = context.run(step, arg)
        except StopIteration as stop:
            return stop.value


def current_connection() -> Connection | None:
    """The connection whose request is being served (None outside a method).

    Works in ``async def`` methods, in plain methods (their worker thread
    gets the caller's context) and in hooks called during dispatch.
    """
    return _current.get()

# Close codes (RFC 6455 section 7.4.1).
CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008

#: Frames are written at the end of the loop iteration, or as soon as this many
#: bytes wait: small replies still share a write (about 25 per write), and the
#: client reads the first ones while the rest are made instead of waiting for
#: all of them. Measured (benchmarks, 64 calls in flight): 16 KiB made server
#: and client take turns (0.94 of the baseline), 1 KiB lets them overlap (1.6).
FLUSH_AT = 1024


class MethodInfo:
    """What dispatch needs to know about a method, computed once per function."""

    __slots__ = ("signature", "is_async", "min_args", "max_args", "names", "required", "any_kwargs")

    def __init__(self, func: Callable[..., Any]) -> None:
        try:
            self.signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self.signature = None
        call = getattr(func, "__call__", None)  # noqa: B004  (a callable object's async __call__)
        self.is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)
        # The common shapes are checked with counts and sets; anything else
        # (and every mismatch, for its message) goes through Signature.bind.
        self.min_args = self.max_args = -1
        self.names: frozenset[str] = frozenset()
        self.required: frozenset[str] = frozenset()
        self.any_kwargs = False
        if self.signature is None:
            return
        positional = [
            p for p in self.signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        kinds = {p.kind for p in self.signature.parameters.values()}
        if kinds <= {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
            self.min_args = sum(1 for p in positional if p.default is p.empty)
            self.max_args = 1 << 30 if inspect.Parameter.VAR_POSITIONAL in kinds else len(positional)
            self.names = frozenset(p.name for p in positional)
            self.required = frozenset(p.name for p in positional if p.default is p.empty)
            self.any_kwargs = inspect.Parameter.VAR_KEYWORD in kinds

    def fits(self, args: Any, kwargs: Any) -> bool:
        """True when the params certainly bind; False means: ask Signature.bind."""
        if self.min_args < 0:
            return False
        if kwargs:
            keys = kwargs.keys()
            return not args and self.required <= keys and (self.any_kwargs or keys <= self.names)
        return self.min_args <= len(args) <= self.max_args


@functools.lru_cache(maxsize=4096)  # bounded: methods made per call must not grow it forever
def _method_info(func: Callable[..., Any]) -> MethodInfo:
    return MethodInfo(func)


class Connection:
    """A connected client.

    Plugins receive it in hooks. Useful attributes: ``id`` (unique in the
    process), ``websocket`` (the ``websockets`` ServerConnection),
    ``remote_address``, ``request`` (the HTTP handshake request: ``path``,
    ``headers``) and ``state``, a dict where plugins keep per-connection data.
    """

    def __init__(self, kernel: RPCKernel, websocket: ServerConnection) -> None:
        self.kernel = kernel
        self.websocket = websocket
        self.id: int = next(_ids)
        self.state: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # tasks finishing calls: a stop waits for them, then cancels them
        self._in_flight = 0  # messages (requests, batches) waiting: what back-pressure counts
        self._asking_client = 0  # kernel -> client calls waiting for their answer
        self._room = asyncio.Event()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._call_ids = itertools.count(1)
        self._flush_scheduled = False
        self._unflushed = 0  # bytes framed since the last flush
        self._reading_done: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[None] | None = None  # where reading went on after a call had to wait

    def __repr__(self) -> str:
        return f"<Connection {self.id} from {self.remote_address}>"

    @property
    def remote_address(self) -> Any:
        """The client's (host, port)."""
        return self.websocket.remote_address

    @property
    def request(self) -> Any:
        """The HTTP request of the opening handshake."""
        return self.websocket.request

    @property
    def close_info(self) -> tuple[int | None, str]:
        """The close code and reason that ended the connection, from whichever side closed first.

        When the kernel closed (a bad frame: 1003, 1007, 1009; policy: 1008;
        stopping: 1001) that is the code it sent, else the code it received.
        """
        protocol_ = self.websocket.protocol
        sent, rcvd = protocol_.close_sent, protocol_.close_rcvd
        if sent is not None and (rcvd is None or not protocol_.close_rcvd_then_sent):
            return int(sent.code), sent.reason
        if rcvd is not None:
            return int(rcvd.code), rcvd.reason
        return 1006, "connection lost without a close frame"

    @property
    def in_flight(self) -> int:
        """How many incoming messages (requests or batches) are waiting for something right now.

        Calls that finish without waiting are served inline and never counted.
        """
        return self._in_flight

    # -- sending ---------------------------------------------------------------

    def send_notification(self, method: str, params: protocol.Params = None) -> None:
        """Send a notification to this client only; from any thread, like ``kernel.send_notification``."""
        self.kernel._notify([self], method, params)

    async def call(self, method: str, params: protocol.Params = None, timeout: float | None = None) -> Any:
        """Send a request to this client and return its result (kernel -> client).

        Raises :class:`RPCError` with the client's error, :class:`ClientGone`
        when the connection closes first, and ``TimeoutError`` after
        ``timeout`` seconds.
        """
        msg_id = next(self._call_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        # A call waiting for the client's answer does not count against
        # max_in_flight: reading must go on, or the answer would never come.
        self._asking_client += 1
        self._room.set()
        try:
            await self._send(protocol.encode(protocol.request(msg_id, method, params)), None)
            if self.websocket.close_code is not None and not future.done():
                raise ClientGone(data=f"connection {self.id} closed before {method!r} was answered")
            return await asyncio.wait_for(future, timeout)
        finally:
            self._asking_client -= 1
            self._pending.pop(msg_id, None)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with a websocket close code."""
        await self.websocket.close(code, reason)

    async def _send(self, text: str, started: float | None) -> None:
        kernel = self.kernel
        if kernel.basic_logging and kernel._hooks.log_message:
            kernel._log(self, "out", text, started)
        websocket = self.websocket
        # Framed straight by the protocol, as websockets' broadcast() does:
        # send() costs an async context manager per message, and replies are
        # never fragmented. The frames of one loop iteration go out in one
        # write (see _flush). Flow control stays, before framing: while the
        # transport is above its high-water mark (the client is not reading)
        # the reply waits as a string in its task, not as a queued frame.
        while websocket.paused and websocket.protocol.state is State.OPEN:
            await websocket.drain()
        if not self._frame(text.encode()):
            kernel.log.debug("reply not delivered: client gone", connection=self.id)

    def _frame(self, data: bytes) -> bool:
        """Frame a UTF-8 text message for this client, to go out at the next flush; False if it is gone.

        Replies and broadcast notifications both come this way, so their
        frames share one write per loop iteration.
        """
        websocket = self.websocket
        transport = websocket.transport
        if websocket.protocol.state is not State.OPEN or transport is None or transport.is_closing():
            return False
        websocket.protocol.send_text(data)
        self._unflushed += len(data)
        if self._unflushed >= FLUSH_AT:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        return True

    def _flush(self) -> None:
        """Write every frame framed since the last flush in one system call (one per reply was 27 % of the time)."""
        self._flush_scheduled = False
        self._unflushed = 0
        websocket = self.websocket
        transport = websocket.transport
        chunks = websocket.protocol.data_to_send()
        if not chunks:
            return  # websockets wrote them itself meanwhile (a ping, a close)
        if transport is None or transport.is_closing():
            return
        if all(chunks):
            transport.write(b"".join(chunks))
            return
        # An empty chunk is websockets' end-of-stream marker: write in order, as send_data() does.
        for chunk in chunks:
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                try:
                    transport.write_eof()
                except Exception:  # noqa: BLE001  (as websockets' send_data(): the socket may be gone already)
                    pass
            else:
                transport.close()

    # -- receiving -------------------------------------------------------------

    async def serve(self) -> None:
        """Read and serve messages until the client leaves."""
        loop = asyncio.get_running_loop()
        self._reading_done = loop.create_future()
        # Reading runs in tasks of its own, never in this one: it moves to a
        # new task whenever a call has to wait, and the kernel waits for (and
        # at a stop cancels) the tasks of calls, while this one only waits
        # for the end. Calls' contexts are copies of this one.
        context = contextvars.copy_context()
        context.run(_current.set, self)
        self._reader = context.run(loop.create_task, self._read())
        await self._reading_done

    async def _read(self) -> None:
        """Read and serve messages in this task until the client leaves or a call has to wait.

        A call that waits is finished in this task (see :func:`_resume`) and
        reading goes on in a new one: a task per waiting call, as before, but
        none for the calls that finish at once.
        """
        try:
            waiting = await self._read_until_waiting()
        except BaseException as exc:
            self._end_reading(exc)
            if not isinstance(exc, Exception):
                raise  # cancellation and the like
            return
        if waiting is None:
            self._end_reading(None)
            return
        self._reader = asyncio.get_running_loop().create_task(self._read())
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._in_flight += 1
        try:
            await _resume(*waiting)
        except Exception as exc:  # the serving coroutines log their own failures; this is a last resort
            self.kernel.log.error("serving a message failed", connection=self.id, exc_info=exc)
        finally:
            self._tasks.discard(task)
            self._in_flight -= 1
            self._room.set()

    def _end_reading(self, exc: BaseException | None) -> None:
        """The client is gone (or reading failed): fail the kernel's calls to it and let serve() return."""
        self._fail_pending()
        done = self._reading_done
        if done is None or done.done():
            return
        if exc is None:
            done.set_result(None)
        elif isinstance(exc, asyncio.CancelledError):
            done.cancel()
        else:
            done.set_exception(exc)

    async def _read_until_waiting(self) -> tuple[Any, contextvars.Context, Any] | None:
        """Serve messages until the client leaves (None) or one has to wait (what _resume needs to finish it)."""
        kernel = self.kernel
        websocket = self.websocket
        max_in_flight = kernel.limits.max_in_flight
        idle_timeout = kernel.limits.idle_timeout
        while True:
            # Back-pressure: stop reading while max_in_flight calls wait, so a
            # flood of slow requests waits in the client's socket, not our memory.
            if self._in_flight - self._asking_client >= max_in_flight and not await self._wait_for_room(max_in_flight):
                return None  # the client left meanwhile
            if self._flush_scheduled and not websocket.recv_messages.frames:
                # Nothing more has arrived (websockets' queue of received
                # frames is empty): send this turn's replies now rather than
                # one loop iteration later, which a one-at-a-time caller
                # waits for (p50 latency 11 % above the baseline's -> level).
                self._flush()
            try:
                if idle_timeout is None:
                    data = await websocket.recv()
                else:
                    data = await asyncio.wait_for(websocket.recv(), idle_timeout)
            except ConnectionClosed:
                return None
            except asyncio.TimeoutError:
                if self._tasks:
                    continue  # a call is still running: not idle
                kernel.log.info("closing idle connection", connection=self.id, idle_timeout=idle_timeout)
                await websocket.close(CLOSE_GOING_AWAY, "idle timeout")
                return None
            if isinstance(data, bytes):
                kernel.log.warning(
                    "closing connection: binary frame", connection=self.id, size=len(data), close_code=CLOSE_UNSUPPORTED_DATA
                )
                await websocket.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not supported: send JSON-RPC as text")
                return None
            waiting = self._receive(data)
            if waiting is not None:
                return waiting

    async def _wait_for_room(self, max_in_flight: int) -> bool:
        """Wait until fewer than ``max_in_flight`` messages wait (True) or the connection is lost (False)."""
        lost = self.websocket.connection_lost_waiter  # websockets' own future (pinned below 18)
        while self._in_flight - self._asking_client >= max_in_flight:
            if lost.done():
                return False
            self._room.clear()
            room = asyncio.ensure_future(self._room.wait())
            try:
                await asyncio.wait((room, lost), return_when=asyncio.FIRST_COMPLETED)
            finally:
                room.cancel()
        return True

    def _receive(self, text: str) -> tuple[Any, contextvars.Context, Any] | None:
        """Parse one message and serve it inline; if serving has to wait, return what _resume needs to finish it."""
        started = time.perf_counter()
        kernel = self.kernel
        incoming = protocol.parse_message(text, kernel.limits.max_batch)
        if kernel.basic_logging and kernel._hooks.log_message:
            kernel._log(self, "in", text, None)
        if incoming.error is not None:
            kernel.log.warning("invalid message", connection=self.id, error=incoming.error["error"])
            coro = self._send_error(incoming.error, started)
        elif incoming.is_batch:
            coro = self._serve_batch(incoming.items, started)
        else:
            item = incoming.items[0]
            if type(item) is Request:
                coro = self._serve_one(item, started)
            elif type(item) is Response:
                self._resolve(item)
                return None
            else:
                kernel.log.warning("invalid request", connection=self.id, error=item["error"])  # type: ignore[index]
                coro = self._send_error(item, started)  # type: ignore[arg-type]
        # Each message gets its own context, as a task of its own would.
        context = contextvars.copy_context()
        finished, waiting_on = _start(coro, context)
        return None if finished else (coro, context, waiting_on)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        """Run ``coro`` (batch members) in a task of its own, which a stop waits for and cancels."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _serve_one(self, request: Request, started: float) -> None:
        try:
            reply = await self.dispatch(request)
            if reply is not None:
                await self._send(protocol.encode_reply(reply), started)
        except Exception as exc:
            self.kernel.log.error("serving a request failed", connection=self.id, exc_info=exc)

    async def _send_error(self, reply: dict[str, Any], started: float) -> None:
        try:
            await self._send(protocol.encode(reply), started)
        except Exception as exc:
            self.kernel.log.error("sending an error reply failed", connection=self.id, exc_info=exc)

    async def _serve_batch(self, items: list[Any], started: float) -> None:
        replies: list[Any] = [None] * len(items)
        try:
            await self._serve_members(items, 0, replies, {})
            answered = []
            for item, reply in zip(items, replies):
                if reply is None and type(item) is Request and item.id is not NO_ID:
                    # Its task was cancelled (a stop) before it began.
                    reply = failure(item.id, RequestCancelled(data=f"the kernel stopped before {item.method!r} began"))
                if reply is not None:
                    answered.append(reply)
            if answered:  # a batch of notifications gets no reply at all
                await self._send(protocol.encode_reply(answered), started)
        except Exception as exc:
            self.kernel.log.error("serving a batch failed", connection=self.id, exc_info=exc)

    async def _serve_members(self, items: list[Any], first: int, replies: list[Any], found: dict[str, Any]) -> None:
        """Serve ``items[first:]`` inline, in order, into ``replies`` (``found``: see :meth:`dispatch`).

        Members run concurrently all the same: when one has to wait, the rest
        go on in a new task while this one finishes it.
        """
        for i in range(first, len(items)):
            item = items[i]
            if type(item) is Request:
                context = copy_context()
                coro = self.dispatch(item, found)
                try:  # _start(), inline: this loop runs once per member
                    waiting_on = context.run(coro.send, None)
                except StopIteration as stop:
                    replies[i] = stop.value
                    continue
                rest = self._spawn(self._serve_members(items, i + 1, replies, found)) if i + 1 < len(items) else None
                replies[i] = await _resume(coro, context, waiting_on)
                if rest is not None:
                    try:
                        await rest
                    except asyncio.CancelledError:
                        pass  # cancelled by a stop before it began: _serve_batch answers its members
                return
            if type(item) is Response:
                self._resolve(item)
            else:
                replies[i] = item  # a ready error reply for an invalid member

    def _resolve(self, response: Response) -> None:
        future = self._pending.get(response.id)  # type: ignore[arg-type]
        if future is None or future.done():
            self.kernel.log.warning("response to no pending call", connection=self.id, id=response.id)
            return
        if response.error is not None:
            future.set_exception(response.error)
        else:
            future.set_result(response.result)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ClientGone(data=f"connection {self.id} closed"))

    # -- dispatch --------------------------------------------------------------

    async def dispatch(self, request: Request, _found: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Serve one request or notification; return its reply (None for a notification).

        ``_found`` (for batches) keeps what ``find_method`` gave for each
        name, so a batch looks each method name up once.
        """
        kernel = self.kernel
        hooks = kernel._hooks
        started = time.perf_counter()
        result: Any = None
        error: RPCError | None = None
        if _current.get() is not self:  # set once by serve(), which every call's context copies
            _current.set(self)
        try:
            answered = None
            if hooks.before_dispatch:
                answered = await first_result(
                    hooks.before_dispatch, {"kernel": kernel, "connection": self, "message": request}
                )
            if answered is not None:
                result = answered
            else:
                if request.id is NO_ID and hooks.on_notify:
                    await call_all(hooks.on_notify, {"kernel": kernel, "connection": self, "message": request})
                name = request.method
                method = None if _found is None else _found.get(name)
                if method is None:
                    method = first_sync(hooks.find_method, {"kernel": kernel, "name": name})
                    if method is None:
                        if request.id is NO_ID:
                            kernel.log.debug("notification for no method", method=name, connection=self.id)
                            return None
                        raise MethodNotFound(data=f"no method named {name!r}")
                    if _found is not None:
                        _found[name] = method
                result = await self._invoke(method, request)  # the method's coroutine, for an async one
        except RPCError as exc:
            error = exc
        except asyncio.CancelledError:
            # The kernel is stopping: answer instead of leaving the client waiting.
            error = RequestCancelled(data=f"the kernel stopped before {request.method!r} finished")
        except Exception as exc:
            error = InternalError(data=None)
            kernel.log.error(
                "method failed", method=request.method, id=request.id, connection=self.id, exc_info=exc
            )
            if hooks.on_method_error:
                try:
                    call_sync(
                        hooks.on_method_error,
                        {"kernel": kernel, "connection": self, "message": request, "exception": exc, "error": error},
                    )
                except Exception as hook_exc:  # an observer must not cost the client its reply
                    kernel.log.error("on_method_error hook failed", method=request.method, exc_info=hook_exc)
        if hooks.after_dispatch:
            try:
                await call_all(
                    hooks.after_dispatch,
                    {
                        "kernel": kernel,
                        "connection": self,
                        "message": request,
                        "result": result,
                        "error": error,
                        "duration": time.perf_counter() - started,
                    },
                )
            except Exception as hook_exc:  # an observer must not cost the client its reply
                kernel.log.error("after_dispatch hook failed", method=request.method, exc_info=hook_exc)
        if request.id is protocol.NO_ID:
            return None
        if error is not None:
            return protocol.failure(request.id, error)
        return protocol.success(request.id, result)

    def _invoke(self, method: Callable[..., Any], request: Request) -> Awaitable[Any]:
        """Check the params against the method's signature and call it: an awaitable of its result.

        Not a coroutine itself: for an ``async def`` method it returns the
        method's own coroutine, one layer less for every call.
        """
        info = _method_info(method)
        params = request.params
        args: Any = params if type(params) is list else ()
        kwargs: Any = params if type(params) is dict else {}
        if info.signature is not None and not info.fits(args, kwargs):
            try:
                info.signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise InvalidParams(f"Invalid params: {exc}", data=f"{request.method}: {exc}") from None
        if info.is_async:
            return method(*args, **kwargs)  # type: ignore[no-any-return]
        return self._in_thread(method, args, kwargs)

    async def _in_thread(self, method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """Run a plain method in a worker thread (awaiting what it returns, should that be awaitable)."""
        context = contextvars.copy_context()  # so current_connection() works in the thread
        result = await asyncio.get_running_loop().run_in_executor(
            self.kernel._executor, functools.partial(context.run, method, *args, **kwargs)
        )
        if inspect.isawaitable(result):
            result = await result
        return result
