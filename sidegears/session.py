"""One client's JSON-RPC state, with no I/O: text in, text out.

An :class:`RPCSession` owns everything JSON-RPC about one connection:
parsing incoming text, batches, dispatch through the hooks, the kernel's
calls to the client and their pending futures, and in-flight accounting
(back-pressure). It never touches a socket: text arrives through
:meth:`RPCSession.receive_text`, and replies leave through the
:class:`Sink` it was given (the websocket transport, or a list in tests).

Messages are served inline, without a task each: most methods finish without
waiting for anything, and a task per request (its allocation, and a trip
through the event loop before it starts) was the largest cost the kernel
added. :func:`_start` runs a coroutine until it finishes or first waits; one
that waits is finished by :func:`_resume` in the same task that started it,
because a coroutine must never change task midway (``asyncio.timeout()``,
``TaskGroup`` and ``current_task()`` rely on it). So when a call waits, the
task that read it keeps it, and reading goes on in a new task. A call is
not even wrapped in a coroutine of its own: :meth:`RPCSession._call_inline`
calls the observers (``before_dispatch``, ``on_notify``, ``after_dispatch``)
and steps the method from a plain function, and a coroutine takes over only
for what has to be awaited.

Nor does a call always wait for the reader task to wake. While the reader
waits for input and no call observer is implemented, a request for an
``async def`` method whose body has no ``await``, ``async with`` or ``async
for`` (:attr:`MethodInfo.never_waits`) is served in the read callback
itself, as soon as it is parsed: such a coroutine cannot suspend, so it
needs no task, and one call at a time costs a fifth fewer instructions.
Its context is its own copy of the reader's, as in the reader; only
``asyncio.current_task()`` is None there. Anything else goes to the reader
task, decoded already.

The call lifecycle follows the Language Server Protocol's conventions: a
client cancels a call with the notification ``$/cancelRequest`` (``{"id":
...}``), which cancels the task finishing it (the reply is -32800), and a
method reports progress with :func:`report_progress`, which the caller gets
as ``$/progress`` notifications (``{"id": ..., "value": ...}``).
"""

from __future__ import annotations

import asyncio
import contextvars
import difflib
import dis
import functools
import inspect
import itertools
import threading
import time
import types
from collections import deque
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol

from . import protocol
from .contract import contract_of, mismatch
from .logs import user_traceback
from .errors import (
    CallCancelled, ClientGone, InternalError, InvalidParams, MethodNotFound, ParseError, RequestCancelled, RPCError,
)
from .plugins import first_answer, settle
from .protocol import NO_ID, Request, Response

if TYPE_CHECKING:
    from .connection import Connection
    from .kernel import RPCKernel

__all__ = ["RPCSession", "Sink", "current_connection", "report_progress", "log_message", "prepare_method",
           "PROGRESS_INTERVAL"]

_current: contextvars.ContextVar[Connection | None] = contextvars.ContextVar("sidegears_connection", default=None)
# The request being served (its session and id), for report_progress(); unset for notifications.
_current_call: contextvars.ContextVar[tuple[RPCSession, Any] | None] = contextvars.ContextVar(
    "sidegears_call", default=None
)

#: Seconds between two ``$/progress`` messages of one call at the most: what a
#: method reports meanwhile is coalesced (the latest value wins), and the last
#: value is always sent, before the reply.
PROGRESS_INTERVAL = 0.05

#: Requests a stopping kernel refuses before letting the loop run other work.
REFUSALS_PER_TURN = 64

#: The reason a task is cancelled with when its caller sent ``$/cancelRequest``.
_CANCELLED_BY_CALLER = "cancelled by the caller ($/cancelRequest)"
_NOTHING = object()
_DONE = object()  # the method returned without waiting


def current_connection() -> Connection | None:
    """The connection whose request is being served (None outside a method).

    Works in ``async def`` methods, in plain methods (their worker thread
    gets the caller's context) and in hooks called during dispatch.
    """
    return _current.get()


def report_progress(value: Any) -> None:
    """Tell the caller of the current call how far it is: a ``$/progress`` notification with ``value``.

    Call it from inside a method, ``async def`` or plain (in its worker
    thread); ``value`` is any JSON value (the examples use ``{"done": n,
    "total": m, "message": "..."}``). The client gets the values in order,
    before the result: at most one every :data:`PROGRESS_INTERVAL` seconds
    per call (values reported meanwhile are coalesced, the latest wins), and
    always the last one. Outside a call, or in a notification (which has no
    caller waiting), it does nothing. Raises TypeError or ValueError if
    ``value`` is not JSON.
    """
    call = _current_call.get()
    if call is None:
        return
    session, msg_id = call
    session.report_progress(msg_id, protocol.encode_notification_bytes("$/progress", {"id": msg_id, "value": value}))


class Sink(Protocol):
    """Where a session's outgoing text goes: the transport, or a list in tests."""

    @property
    def is_open(self) -> bool:
        """False once nothing more can be sent."""

    @property
    def paused(self) -> bool:
        """True while the peer is not reading (flow control): replies wait."""

    def send_text(self, data: bytes, flush_soon: bool = True) -> bool:
        """Queue one UTF-8 text message; False if the peer is gone.

        ``flush_soon``: write it within this loop iteration even if nobody
        calls :meth:`flush`; False when the caller is sure to flush.
        """

    def flush(self) -> None:
        """Write what was queued, now."""

    async def wait_writable(self) -> None:
        """Return once :attr:`paused` is False or the sink closed."""

    def pause_reading(self) -> None:
        """Stop reading input (back-pressure)."""

    def resume_reading(self) -> None:
        """Read input again."""


def log_message(
    kernel: RPCKernel,
    connection: Connection | None,
    direction: str,
    text: str | bytes,
    started: float | None,
    decoded: Any = protocol.NOT_JSON,
) -> None:
    """Call the ``log_message`` hook for one message, as read (str) or as sent (bytes) (``connection`` None: a broadcast).

    ``decoded``: the message's JSON when the caller decoded it already (an incoming message is parsed
    before it is logged); else the text is decoded here.
    """
    message: Any = decoded
    if message is protocol.NOT_JSON:
        try:
            message = protocol.decode(text)
        except Exception:
            message = text
    try:
        kernel.plugin_manager.fast_caller("log_message")(
            kernel=kernel,
            connection=connection,
            direction=direction,
            message=message,
            size=len(text) if isinstance(text, bytes) or text.isascii() else len(text.encode()),
            duration=None if started is None else time.perf_counter() - started,
        )
    except Exception as exc:  # a broken logger must not cost the client its message
        kernel.log.error("log_message hook failed", exc_info=exc)


def _uncancel() -> None:
    """The current task caught a cancellation meant for one call only: it goes on as not cancelled."""
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):  # Python 3.11+
        task.uncancel()


def _start(coro: Any, context: contextvars.Context) -> tuple[bool, Any]:
    """Run ``coro`` in ``context`` until it returns or first waits: (True, its result) or (False, what it waits on)."""
    try:
        return False, context.run(coro.send, None)
    except StopIteration as stop:
        return True, stop.value


def _step(coro: Any) -> tuple[bool, Any]:
    """Run ``coro`` in the current context until it returns or first waits: (True, its result) or (False, (coro, what it waits on))."""
    try:
        return False, (coro, coro.send(None))
    except StopIteration as stop:
        return True, stop.value


async def _finish_step(step: tuple[bool, Any]) -> Any:
    """The result of what :func:`_step` (or a function returning as it does) began, awaiting the rest if it waits."""
    done, value = step
    if done:
        return value
    return await _resume(value[0], None, value[1])


@types.coroutine
def _resume(coro: Any, context: contextvars.Context | None, waiting_on: Any) -> Any:
    """Finish, in the current task, a coroutine that :func:`_start` ran until its first wait.

    Every step runs in the coroutine's own context (None: in the caller's,
    which is already that context); what the task sends or throws (results,
    cancellation) is passed through, as ``await`` would.
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
            waiting_on = step(arg) if context is None else context.run(step, arg)
        except StopIteration as stop:
            return stop.value


class MethodInfo:
    """What dispatch needs to know about a method, computed once per function."""

    __slots__ = ("signature", "is_async", "never_waits", "min_args", "max_args", "names", "required", "any_kwargs",
                 "contract")

    def __init__(self, func: Callable[..., Any]) -> None:
        try:
            self.signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self.signature = None
        call = getattr(func, "__call__", None)  # noqa: B004  (a callable object's async __call__)
        self.is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)
        #: An ``async def`` function whose body has no ``await``, ``async with`` or ``async for``:
        #: its coroutine cannot suspend, so it may be served in the read callback (see receive_text).
        self.never_waits = _never_waits(func)
        # The common shapes are checked with counts and sets; anything else
        # (and every mismatch, for its message) goes through Signature.bind.
        self.min_args = self.max_args = -1
        self.names: frozenset[str] = frozenset()
        self.required: frozenset[str] = frozenset()
        self.any_kwargs = False
        #: The params check and conversion from the type hints; None for a method with no annotated parameter.
        self.contract = contract_of(func, self.signature)
        if self.signature is None:
            return
        parameters = self.signature.parameters.values()
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        kinds = {p.kind for p in parameters}
        simple = {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}
        if kinds <= simple:
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


#: What a coroutine's body compiles to where it may suspend or enters an async context:
#: ``await`` (GET_AWAITABLE, then SEND and YIELD_VALUE), ``async with``, ``async for``.
_SUSPENDING_OPS = frozenset({"GET_AWAITABLE", "SEND", "YIELD_VALUE", "BEFORE_ASYNC_WITH", "GET_AITER", "GET_ANEXT",
                             "END_ASYNC_FOR"})


def _never_waits(func: Callable[..., Any]) -> bool:
    """True for an ``async def`` function (or a method of one) whose own code has none of :data:`_SUSPENDING_OPS`.

    Its coroutine returns (or raises) at its first step, always. Anything
    else, a callable object or a wrapped function included, is False.
    """
    function = getattr(func, "__func__", func)
    if not isinstance(function, types.FunctionType) or not inspect.iscoroutinefunction(function):
        return False
    return not any(instruction.opname in _SUSPENDING_OPS for instruction in dis.get_instructions(function.__code__))


@functools.lru_cache(maxsize=4096)  # bounded: methods made per call must not grow it forever
def _method_info(func: Callable[..., Any]) -> MethodInfo:
    return MethodInfo(func)


def prepare_method(func: Callable[..., Any]) -> bool:
    """Work out now, not on its first call, what dispatch needs to know about ``func``; True if it has a contract.

    A typed method's contract (pydantic imported, validators built) is the
    dear part: 100 to 150 ms for a kernel's first one.
    """
    contract = _method_info(func).contract
    if contract is None:
        return False
    contract.prepare()
    return True


#: Unknown method names logged per connection at most; a client making up names cannot flood the log.
MAX_UNKNOWN_LOGGED = 100

#: What _call_inline found before it asked the call observers: the name, its method and MethodInfo (or None),
#: and the start time for after_dispatch (0.0 while none is implemented).
_Asked = tuple[str, Any, Any, float]

#: What _resume needs to finish a message that had to wait, and the request's id (None: not one request).
_Waiting = tuple[Any, contextvars.Context, Any, Any]

#: Messages from this size on are left to the reader task, which runs once the frames let go of
#: the bytes they arrived in: a 16 MB echo served in the read callback, with those still held,
#: cost 1.8 times the server CPU (benchmarks.revisions), and saving a loop iteration is nothing to it.
SERVED_IN_READ_BELOW = 64 * 1024

#: receive()'s default: the text is not decoded yet.
_UNDECODED: Any = object()


class RPCSession:
    """The JSON-RPC state of one connection: incoming text, dispatch, replies, calls to the client.

    Feed it with :meth:`receive_text` and :meth:`receive_eof`; it writes
    replies to ``sink``. :meth:`start` begins serving (on the running loop).
    """

    def __init__(self, kernel: RPCKernel, connection: Connection, sink: Sink) -> None:
        self.kernel = kernel
        self.connection = connection
        self.sink = sink
        #: Tasks finishing calls (and batch members) that had to wait: a stop waits for them, then cancels them.
        self.tasks: set[asyncio.Task[Any]] = set()
        self._max_in_flight = kernel.limits.max_in_flight
        self._max_batch = kernel.limits.max_batch
        self._max_parked_bytes = kernel.limits.max_message_size
        self._thread_share = asyncio.Semaphore(kernel.max_workers_per_connection)
        # (text, its decoded JSON or _UNDECODED) waiting for the reader: decoded when the read callback looked at it.
        self._inbox: deque[tuple[str, Any]] = deque()
        self._input_ended = False
        self._wakeup: asyncio.Future[None] | None = None  # set while reading waits for input or room
        self._in_flight = 0  # messages (requests, batches) waiting: what back-pressure counts
        self._inbox_bytes = 0
        self._reading_paused = False
        self._output_blocked = False  # the client does not read what we send (flow control)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._call_ids = itertools.count(1)
        self._done: asyncio.Future[None] | None = None
        self._refusing = False  # the kernel is stopping: answer requests without running them
        self._calls: dict[Any, asyncio.Task[Any]] = {}  # id -> the task finishing that request
        self._unknown_logged: set[str] = set()  # unknown method names already logged for this connection
        self._cancelled_ids: set[Any] = set()
        self._progress: dict[Any, list[Any]] = {}  # id -> [time last sent, text waiting, timer]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._serving_inline = False  # the reader is serving what it read, and flushes before it waits
        self._context: contextvars.Context | None = None  # the reader's, where current_connection() is set

    # -- input (from the transport) --------------------------------------------

    def receive_text(self, text: str) -> None:
        """One complete text message arrived."""
        if self._pending and self._in_flight >= self._max_in_flight and self._take_response(text):
            return
        if (self._wakeup is not None and not self._inbox and text[:1] == "{" and len(text) < SERVED_IN_READ_BELOW
                and self._in_flight < self._max_in_flight
                and not (self._refusing or self._output_blocked or self._input_ended)):
            # The reader waits for input, and nothing is ahead of this message;
            # served in the reader's context, where current_connection() is set.
            assert self._context is not None
            self._context.run(self._serve_in_read, text)
            return
        self._queue(text, _UNDECODED)

    def _queue(self, text: str, decoded: Any) -> None:
        """Leave a message to the reader task (``decoded``: its JSON, or _UNDECODED)."""
        self._inbox.append((text, decoded))
        self._inbox_bytes += len(text)
        self._wake()
        if self._reading_paused or self._output_blocked or self._in_flight >= self._max_in_flight:
            self._update_reading()

    def _serve_in_read(self, text: str) -> None:
        """Serve a request for a method that never waits now, in the read callback; leave anything else to the reader.

        Serving it here saves waking the reader task, a loop iteration
        later: a fifth of a call's instructions when calls come one at a
        time. Only a method whose coroutine cannot suspend
        (:attr:`MethodInfo.never_waits`) runs here, outside any task, and only
        while no call observer is implemented (an observer's awaitable may
        need a task); its context is its own, copied from the reader's.
        """
        started = time.perf_counter()
        try:
            decoded = protocol.decode(text)
        except ParseError:
            self._queue(text, _UNDECODED)  # the reader answers it, decoding it again: only bad input pays that
            return
        kernel = self.kernel
        if type(decoded) is dict and not kernel.plugin_manager.call_observers:
            item = protocol.parse_member(decoded)
            if type(item) is Request:
                try:
                    method = self._find(item.method, None)
                    in_read = method is not None and _method_info(method).never_waits
                except Exception:  # noqa: BLE001  (a failing find_method: the reader answers it as the call's error)
                    in_read = False
                if in_read:
                    if "log_message" in kernel.plugin_manager.implemented:
                        log_message(kernel, self.connection, "in", text, None, decoded)
                    # Its reply is framed, not flushed: the transport writes what one read answered, at once.
                    self._serving_inline = True
                    try:
                        waiting = self._serve_request(item, started, {item.method: method})
                    finally:
                        self._serving_inline = False
                    if waiting is not None:  # its reply waits for the client to read
                        self._hand_over(waiting)
                    return
        self._queue(text, decoded)

    def output_paused(self, paused: bool) -> None:
        """The client stopped (True) or resumed (False) reading what is sent to it: stop or resume reading from it.

        A client that does not read its replies gets no more requests read
        or started, so unread replies cannot pile up in the kernel: only
        those of calls already running when it stopped wait.
        """
        self._output_blocked = paused
        self._update_reading()
        if not paused:
            self._wake()  # serve what waited meanwhile

    def _should_read(self) -> bool:
        if self._output_blocked or (self._refusing and not self._pending):
            return False
        if self._in_flight < self._max_in_flight:
            return True
        # Full: read on only to hear the client's answers to the kernel's own
        # calls (one of those may be what holds the room), parking its
        # requests meanwhile, up to a bound.
        return bool(self._pending) and len(self._inbox) < self._max_in_flight and self._inbox_bytes < self._max_parked_bytes

    def _update_reading(self) -> None:
        """Back-pressure: stop reading the socket (the client's data waits in it, not in our memory) or read again."""
        read = self._should_read()
        if read and self._reading_paused:
            self._reading_paused = False
            self.sink.resume_reading()
        elif not read and not self._reading_paused:
            self._reading_paused = True
            self.sink.pause_reading()

    def _take_response(self, text: str) -> bool:
        """Resolve a kernel->client call from ``text`` at once, if that is what it is (True)."""
        incoming = protocol.parse_message(text, self._max_batch)
        if incoming.error is not None or incoming.is_batch or type(incoming.items[0]) is not Response:
            return False
        if "log_message" in self.kernel.plugin_manager.implemented:
            log_message(self.kernel, self.connection, "in", text, None, incoming.value)
        self._resolve(incoming.items[0])  # type: ignore[arg-type]
        return True

    def receive_eof(self) -> None:
        """No more input will come (the client left, or the kernel closed the connection)."""
        self._input_ended = True
        self._fail_pending()
        self._wake()

    def refuse_new_requests(self) -> None:
        """The kernel is stopping: read no more, and answer requests already read with -32000 without running them.

        Calls already running go on (while one waits for the client's answer
        to ``connection.call()``, reading goes on for it); notifications are
        dropped. Not reading is what keeps a stop bounded: clients calling
        flat out would otherwise keep the loop busy refusing.
        """
        self._refusing = True
        self._update_reading()
        self._wake()

    def drop_unread(self) -> None:
        """Forget the messages received and not yet served (the connection is closing: its close answers them)."""
        self._inbox.clear()
        self._inbox_bytes = 0

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def _saturated(self) -> bool:
        return self._in_flight >= self._max_in_flight

    @property
    def in_flight(self) -> int:
        """How many incoming messages (requests or batches) are waiting for something right now.

        Calls that finish without waiting are served inline and never counted.
        """
        return self._in_flight

    # -- serving ---------------------------------------------------------------

    def start(self) -> asyncio.Future[None]:
        """Begin serving queued and future messages; the future ends when input has ended and is read."""
        loop = self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._done = loop.create_future()
        # Calls' contexts are copies of this one, so current_connection() works in every call.
        context = self._context = contextvars.copy_context()
        context.run(_current.set, self.connection)
        context.run(loop.create_task, self._read())
        return self._done

    async def _read(self) -> None:
        """Serve messages in this task until input ends or a call has to wait, which this task then finishes."""
        try:
            waiting = await self._serve_until_waiting()
        except BaseException as exc:
            self._end_reading(exc)
            if not isinstance(exc, Exception):
                raise  # cancellation and the like
            return
        if waiting is None:
            self._end_reading(None)
            return
        asyncio.get_running_loop().create_task(self._read())
        task = asyncio.current_task()
        assert task is not None
        self._waits(waiting, task)
        await self._finish_waiting(waiting)

    def _hand_over(self, waiting: _Waiting) -> None:
        """Finish in a task of its own (in the reader's context, as _serve_in_read runs) a message that had to wait."""
        assert self._loop is not None
        task = self._loop.create_task(self._finish_waiting(waiting))
        self._waits(waiting, task)

    def _waits(self, waiting: _Waiting, task: asyncio.Task[Any]) -> None:
        """Count ``waiting`` as in flight, finished by ``task``."""
        self.tasks.add(task)
        self._in_flight += 1
        msg_id = waiting[3]
        if msg_id is not None:
            self._calls[msg_id] = task  # what $/cancelRequest cancels

    async def _finish_waiting(self, waiting: _Waiting) -> None:
        """Finish, in the current task, a message that had to wait, counted by :meth:`_waits` for this task."""
        task = asyncio.current_task()
        assert task is not None
        coro, context, waiting_on, msg_id = waiting
        try:
            await _resume(coro, context, waiting_on)
        except Exception as exc:  # the serving coroutines log their own failures; this is a last resort
            self.kernel.log.error("serving a message failed", connection=self.connection.id, exc_info=exc)
        finally:
            self.tasks.discard(task)
            self._in_flight -= 1
            if msg_id is not None:
                self._forget_call(msg_id, task)
            self._room_freed()

    def _room_freed(self) -> None:
        if not self._saturated():
            self._wake()
        if self._reading_paused:
            self._update_reading()

    async def _serve_until_waiting(self) -> _Waiting | None:
        """Serve messages until input ends (None) or one has to wait (what _resume needs to finish it)."""
        inbox = self._inbox
        sink = self.sink
        loop = asyncio.get_running_loop()
        refused = 0
        while True:
            # Nothing new starts while the client does not read (its replies would
            # pile up) or too many calls wait; a stopping kernel answers at once.
            if inbox and (self._refusing or not (self._output_blocked or self._saturated())):
                text, decoded = inbox.popleft()
                self._inbox_bytes -= len(text)
                self._serving_inline = True
                try:
                    waiting = self.receive(text, decoded)
                finally:
                    self._serving_inline = False
                if waiting is not None:
                    sink.flush()
                    return waiting
                if self._refusing:
                    refused += 1
                    if refused % REFUSALS_PER_TURN == 0:
                        await asyncio.sleep(0)  # a stop's own timers must run on time
                continue
            if self._input_ended:
                sink.flush()
                return None
            # Nothing more to serve now: send this turn's replies at once
            # rather than one loop iteration later, which a one-at-a-time
            # caller would wait for.
            sink.flush()
            self._wakeup = loop.create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None

    def _end_reading(self, exc: BaseException | None) -> None:
        self._fail_pending()
        done = self._done
        if done is None or done.done():
            return
        if exc is None:
            done.set_result(None)
        elif isinstance(exc, asyncio.CancelledError):
            done.cancel()
        else:
            done.set_exception(exc)

    def receive(self, text: str, decoded: Any = _UNDECODED) -> _Waiting | None:
        """Parse one message and serve it inline; if serving has to wait, return what _resume needs to finish it.

        ``decoded`` is its JSON when :meth:`_serve_in_read` decoded it already.
        """
        started = time.perf_counter()
        kernel = self.kernel
        # parse_message, written out: one object (most messages) is validated
        # here, not wrapped in an Incoming first; batches and the rest go through parse_value.
        incoming = None
        if decoded is _UNDECODED:
            try:
                decoded = protocol.decode(text)
            except ParseError as exc:
                decoded, incoming = protocol.NOT_JSON, protocol.Incoming(error=protocol.failure(None, exc))
        if incoming is None and (type(decoded) is not dict or self._refusing):
            incoming = protocol.parse_value(decoded, self._max_batch)
        if "log_message" in kernel.plugin_manager.implemented:
            log_message(kernel, self.connection, "in", text, None, decoded)
        if incoming is not None:
            if incoming.error is not None:
                kernel.log.warning("invalid message", connection=self.connection.id, error=incoming.error["error"])
                coro = self._send_error(incoming.error, started)
            elif self._refusing:
                self._refuse(incoming)
                return None
            else:  # a batch (a single object comes this way only to be refused)
                coro = self._serve_batch(incoming.items, started)
        else:
            item = protocol.parse_member(decoded)
            if type(item) is Request:
                return self._serve_request(item, started, None)
            elif type(item) is Response:
                self._resolve(item)
                return None
            else:
                kernel.log.warning("invalid request", connection=self.connection.id, error=item["error"])  # type: ignore[index]
                coro = self._send_error(item, started)  # type: ignore[arg-type]
        # Each message gets its own context, as a task of its own would.
        context = contextvars.copy_context()
        finished, waiting_on = _start(coro, context)
        return None if finished else (coro, context, waiting_on, None)

    def _serve_request(self, item: Request, started: float, found: dict[str, Any] | None) -> _Waiting | None:
        """Serve one request or notification inline (``found``: see :meth:`_call_inline`); if it has to wait, what _resume needs."""
        if item.id is NO_ID and item.method.startswith("$/"):
            self._protocol_notification(item)
            return None
        context = contextvars.copy_context()  # each message gets its own context, as a task of its own would
        done, value = context.run(self._call_inline, item, found)
        call_id = None
        if not done:
            coro = self._send_when_answered(value[0], value[1], started)
            call_id = None if item.id is NO_ID else item.id
        elif value is None:  # a notification
            return None
        else:
            data = self._encode_reply(value)
            if data is None:
                return None
            if not self.sink.paused:
                self._write(data, started, value)
                return None
            coro = self._send(data, started, value)  # the client does not read: the reply waits
        finished, waiting_on = _start(coro, context)
        return None if finished else (coro, context, waiting_on, call_id)

    def _protocol_notification(self, note: Request) -> None:
        """``$/...`` notifications: the protocol's own (``$/cancelRequest``), not methods; others are ignored."""
        if note.method == "$/cancelRequest":
            params = note.params
            msg_id = params.get("id") if type(params) is dict else None
            self.cancel_call(msg_id)
        else:
            self.kernel.log.debug("protocol notification ignored", method=note.method, connection=self.connection.id)

    def _forget_call(self, msg_id: Any, task: asyncio.Task[Any]) -> None:
        if self._calls.get(msg_id) is task:
            del self._calls[msg_id]
        self._cancelled_ids.discard(msg_id)

    def cancel_call(self, msg_id: Any) -> bool:
        """Cancel the running call with id ``msg_id`` (its caller gets -32800); False if none is running.

        An ``async def`` method sees ``asyncio.CancelledError`` at its next
        await; a plain method cannot be stopped in its thread, and its
        result is dropped.
        """
        task = self._calls.get(msg_id) if isinstance(msg_id, (int, str)) else None
        if task is None or task.done():
            return False
        self._cancelled_ids.add(msg_id)
        task.cancel(_CANCELLED_BY_CALLER)
        return True

    # -- progress --------------------------------------------------------------

    def report_progress(self, msg_id: Any, text: bytes) -> None:
        """Send the ``$/progress`` message ``text`` for call ``msg_id``, coalesced (see :func:`report_progress`); any thread."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._progress_reported(msg_id, text)
        else:
            try:
                loop.call_soon_threadsafe(self._progress_from_thread, msg_id, text)
            except RuntimeError:
                pass  # the loop closed: the call's caller is gone with it

    def _progress_from_thread(self, msg_id: Any, text: bytes) -> None:
        # A method in a thread always waits, so its call is known until it ends.
        if msg_id in self._calls:
            self._progress_reported(msg_id, text)

    def _progress_reported(self, msg_id: Any, text: bytes) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        state = self._progress.get(msg_id)
        if state is None:
            self._progress[msg_id] = [now, _NOTHING, None]
            self._write(text, None)
        elif state[2] is None and now - state[0] >= PROGRESS_INTERVAL:
            state[0] = now
            self._write(text, None)
        else:
            state[1] = text
            if state[2] is None:
                state[2] = loop.call_at(state[0] + PROGRESS_INTERVAL, self._progress_due, msg_id)

    def _progress_due(self, msg_id: Any) -> None:
        state = self._progress.get(msg_id)
        if state is None:
            return
        state[2] = None
        if state[1] is not _NOTHING:
            text, state[1] = state[1], _NOTHING
            state[0] = asyncio.get_running_loop().time()
            self._write(text, None)

    def _end_progress(self, msg_id: Any) -> None:
        """The call ends: send its last progress value now, before the reply."""
        state = self._progress.pop(msg_id, None)
        if state is None:
            return
        if state[2] is not None:
            state[2].cancel()
        if state[1] is not _NOTHING:
            self._write(state[1], None)

    def _refuse(self, incoming: protocol.Incoming) -> None:
        """Answer a message read while the kernel stops: requests get -32000, nothing runs."""
        replies = []
        for item in incoming.items:
            if type(item) is Request:
                if item.id is not NO_ID:
                    error = RequestCancelled(data=f"the kernel is stopping: {item.method!r} was not started")
                    replies.append(protocol.failure(item.id, error))
            elif type(item) is Response:
                self._resolve(item)
            else:
                replies.append(item)  # type: ignore[arg-type]  # a ready error reply
        if replies:
            self._write(protocol.encode_bytes(replies if incoming.is_batch else replies[0]), None)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        """Run ``coro`` (batch members) in a task of its own, which a stop waits for and cancels."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _send_when_answered(self, finishing: Any, waiting_on: Any, started: float) -> None:
        """Send the reply of a call that had to wait, once ``finishing`` (see :meth:`_call_inline`) has it."""
        reply = await _resume(finishing, None, waiting_on)
        if reply is not None:
            data = self._encode_reply(reply)
            if data is not None:
                await self._send(data, started, reply)

    def _encode_reply(self, reply: dict[str, Any] | list[dict[str, Any]]) -> bytes | None:
        try:
            return protocol.encode_reply_bytes(reply)
        except Exception as exc:  # encode_reply answers what is not JSON with -32603; this is a last resort
            self.kernel.log.error("encoding a reply failed", connection=self.connection.id, exc_info=exc)
            return None

    async def _send_error(self, reply: dict[str, Any], started: float) -> None:
        try:
            await self._send(protocol.encode_bytes(reply), started)
        except Exception as exc:
            self.kernel.log.error("sending an error reply failed", connection=self.connection.id, exc_info=exc)

    async def _serve_batch(self, items: list[Any], started: float) -> None:
        replies: list[Any] = [None] * len(items)
        try:
            await self._serve_members(items, 0, replies, {})
            answered = []
            for item, reply in zip(items, replies):
                if reply is None and type(item) is Request and item.id is not NO_ID:
                    # Its task was cancelled (a stop) before it began.
                    reply = protocol.failure(
                        item.id, RequestCancelled(data=f"the kernel stopped before {item.method!r} began")
                    )
                if reply is not None:
                    answered.append(reply)
            if answered:  # a batch of notifications gets no reply at all
                await self._send(protocol.encode_reply_bytes(answered), started, answered)
        except Exception as exc:
            self.kernel.log.error("serving a batch failed", connection=self.connection.id, exc_info=exc)

    async def _serve_members(self, items: list[Any], first: int, replies: list[Any], found: dict[str, Any]) -> None:
        """Serve ``items[first:]`` inline, in order, into ``replies`` (``found``: see :meth:`_call_inline`).

        Members run concurrently all the same: when one has to wait, the rest
        go on in a new task while this one finishes it.
        """
        call_inline = self._call_inline
        for i in range(first, len(items)):
            item = items[i]
            if type(item) is Request:
                context = contextvars.copy_context()
                done, value = context.run(call_inline, item, found)
                if done:
                    replies[i] = value
                    continue
                finishing, waiting_on = value
                rest = self._spawn(self._serve_members(items, i + 1, replies, found)) if i + 1 < len(items) else None
                task = asyncio.current_task()
                if item.id is not NO_ID and task is not None:
                    self._calls[item.id] = task  # what $/cancelRequest cancels
                try:
                    replies[i] = await _resume(finishing, context, waiting_on)
                finally:
                    if item.id is not NO_ID and task is not None:
                        self._forget_call(item.id, task)
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

    # -- output ----------------------------------------------------------------

    async def _send(self, data: bytes, started: float | None, reply: Any = None) -> None:
        """Write ``data`` once the client reads (``reply``: what was encoded into it, for the log, or None)."""
        sink = self.sink
        # Flow control, before framing: while the client is not reading, the
        # reply waits as bytes in its task, not as a queued frame. A stop
        # that cancels the wait still sends the reply.
        try:
            while sink.paused and sink.is_open:
                reply = None  # what the method returned may change meanwhile: the log decodes data
                await sink.wait_writable()
        finally:
            self._write(data, started, reply)

    def _write(self, data: bytes, started: float | None, reply: Any = None) -> None:
        """Log a message going out and frame it now (``reply``: what was encoded into ``data``, or None)."""
        kernel = self.kernel
        if "log_message" in kernel.plugin_manager.implemented:
            # The hook gets the JSON as sent: the reply itself where that is the same, else data decoded.
            log_message(kernel, self.connection, "out", data, started, protocol.as_sent(reply))
        # A reply written while the reader serves inline is flushed by it (one
        # write for what one read released), not by a flush scheduled per reply.
        if not self.sink.send_text(data, not self._serving_inline):
            kernel.log.debug("reply not delivered: client gone", connection=self.connection.id)

    # -- kernel -> client calls ------------------------------------------------

    async def call(self, method: str, params: protocol.Params = None, timeout: float | None = None) -> Any:
        """Send a request to the client and return its result; see :meth:`Connection.call`."""
        msg_id = next(self._call_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        if self._reading_paused:
            self._update_reading()  # the answer must be read, even while requests wait
        try:
            if self._input_ended:
                raise ClientGone(data=f"connection {self.connection.id} closed before {method!r} was sent")
            await self._send(protocol.encode_bytes(protocol.request(msg_id, method, params)), None)
            if not self.sink.is_open and not future.done():
                raise ClientGone(data=f"connection {self.connection.id} closed before {method!r} was answered")
            try:
                return await asyncio.wait_for(future, timeout)
            except (asyncio.CancelledError, asyncio.TimeoutError):
                # Tell the client to stop working on it, as a client tells the kernel.
                if self.sink.is_open:
                    self._write(protocol.encode_notification_bytes("$/cancelRequest", {"id": msg_id}), None)
                raise
        finally:
            self._pending.pop(msg_id, None)

    def _resolve(self, response: Response) -> None:
        future = self._pending.get(response.id)  # type: ignore[arg-type]
        if future is None or future.done():
            self.kernel.log.warning("response to no pending call", connection=self.connection.id, id=response.id)
            return
        if response.error is not None:
            future.set_exception(response.error)
        else:
            future.set_result(response.result)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ClientGone(data=f"connection {self.connection.id} closed"))

    # -- dispatch --------------------------------------------------------------

    async def dispatch(self, request: Request, _found: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Serve one request or notification; return its reply (None for a notification).

        :meth:`_call_inline` as a coroutine, for callers that await a call
        (``_found``: see there).
        """
        return await _finish_step(self._call_inline(request, _found))  # type: ignore[no-any-return]

    def _call_inline(
        self, request: Request, found: dict[str, Any] | None, asked: _Asked | None = None
    ) -> tuple[bool, Any]:
        """Serve ``request`` until it is answered or first waits; run in the call's own context.

        Returns (True, its reply, None for a notification) or (False, (the
        coroutine that finishes it and returns the reply, what it waits on)).
        ``found`` (for batches) keeps what ``find_method`` gave for each name,
        so that a batch looks each method name up once.

        A plain function, not a coroutine: most calls finish without waiting,
        and a coroutine around each (its frame, its first step, its
        StopIteration) was a third of a batch member's cost
        (``benchmarks/batch_cost.py``). The call observers (``before_dispatch``,
        ``on_notify``, ``after_dispatch``) are called here too: only when one
        returns something (an answer, an awaitable) does the call go on in
        :meth:`_observed`, a coroutine, which then comes back here with
        ``asked`` (what was found before the observers were asked) to call
        the method. An observer that returns None costs its hook call and
        nothing more.

        :meth:`_find`, :meth:`_invoke` and :meth:`_reply` are written out
        here for the common case (a known ``async def`` method whose params
        fit), as a function call each was a tenth of a batch member's cost;
        anything else goes through them.
        """
        msg_id = request.id
        if asked is not None:
            name, method, info, started = asked
        else:
            if msg_id is not NO_ID:
                _current_call.set((self, msg_id))
            name = request.method
            observers = self.kernel.plugin_manager.call_observers
            started = 0.0  # after_dispatch's duration counts from here; 0.0: none is implemented
            if observers and "after_dispatch" in observers:
                started = time.perf_counter()
            observed = None  # what finishes the call when an observer returned something
            try:
                method = None if found is None else found.get(name)
                if method is None:
                    method = self._find(name, found)
                info = None if method is None else _method_info(method)
                if info is not None and info.contract is not None:
                    # Converted before before_dispatch, which sees what the method will get.
                    request.params = info.contract.convert(name, request.params, info.fits)
                if observers:
                    # A hook's results leave out None: an observer that returns nothing is not waited for.
                    kernel, connection, pm = self.kernel, self.connection, self.kernel.plugin_manager
                    answers = None
                    if "before_dispatch" in observers:
                        answers = pm.fast_caller("before_dispatch")(kernel=kernel, connection=connection, message=request)
                    if answers:
                        observed = self._observed(request, found, (name, method, info, started), answers, None)
                    elif msg_id is NO_ID and "on_notify" in observers:
                        notified = pm.fast_caller("on_notify")(kernel=kernel, connection=connection, message=request)
                        if notified:
                            observed = self._observed(request, found, (name, method, info, started), [], notified)
            except BaseException as exc:
                # Outside the try, as below: what after_dispatch raises must not come back here as the call's error.
                return self._answered(request, None, self._error_of(request, exc), started)
            if observed is not None:
                return _step(observed)
        try:
            if request.method != name:  # before_dispatch renamed it
                method = self._find(request.method, found)
                info = None if method is None else _method_info(method)
                if info is not None and info.contract is not None:
                    request.params = info.contract.convert(request.method, request.params, info.fits)
            if method is None or info is None:
                self._unknown(request)  # raises MethodNotFound for a request
                return True, None
            params = request.params
            if info.is_async and type(params) is list and info.min_args <= len(params) <= info.max_args:
                awaitable = method(*params)
            else:
                awaitable = self._invoke(method, request)
            if type(awaitable) is types.CoroutineType:
                try:
                    waiting_on = awaitable.send(None)
                except StopIteration as stop:
                    if not (started or msg_id is NO_ID or self._progress):  # no after_dispatch, only a reply to make
                        return True, {"jsonrpc": "2.0", "result": stop.value, "id": msg_id}  # protocol.success()
                    result, waiting_on = stop.value, _DONE
            else:
                # Not a native coroutine (a function marked with Python 3.12's
                # inspect.markcoroutinefunction may return any awaitable): awaited as dispatch would.
                waiting_on = _NOTHING
        except BaseException as exc:
            return self._answered(request, None, self._error_of(request, exc), started)
        if waiting_on is _DONE:
            return self._answered(request, result, None, started)
        return _step(self._finish(request, awaitable, waiting_on, started))

    async def _observed(
        self,
        request: Request,
        found: dict[str, Any] | None,
        asked: _Asked,
        answers: list[Any],
        notified: list[Any] | None,
    ) -> dict[str, Any] | None:
        """Go on with a call whose observers returned something: ``answers`` of ``before_dispatch``, else ``notified``.

        ``before_dispatch``'s first answer (awaited, if need be) is the
        result, and the method is not called; with none, ``on_notify`` (for
        a notification, unless ``notified`` holds its results already) is
        awaited, and the method is called by :meth:`_call_inline`.
        """
        started = asked[3]
        try:
            answered = await first_answer(answers) if answers else None
            if answered is None:
                pm = self.kernel.plugin_manager
                if notified is None and request.id is NO_ID and "on_notify" in pm.call_observers:
                    notified = pm.fast_caller("on_notify")(kernel=self.kernel, connection=self.connection, message=request)
                if notified:
                    await settle(notified)
        except BaseException as exc:
            return await _finish_step(self._answered(request, None, self._error_of(request, exc), started))
        if answered is not None:
            return await _finish_step(self._answered(request, answered, None, started))
        return await _finish_step(self._call_inline(request, found, asked))

    async def _finish(self, request: Request, awaitable: Any, waiting_on: Any, started: float) -> dict[str, Any] | None:
        """Finish a call :meth:`_call_inline` began, which waits on ``waiting_on`` (_NOTHING: not begun); return its reply."""
        try:
            if waiting_on is _NOTHING:
                result = await awaitable
            else:
                result = await _resume(awaitable, None, waiting_on)
        except BaseException as exc:
            return await _finish_step(self._answered(request, None, self._error_of(request, exc), started))
        return await _finish_step(self._answered(request, result, None, started))

    def _answered(self, request: Request, result: Any, error: RPCError | None, started: float) -> tuple[bool, Any]:
        """The call ended with ``result`` or ``error``: tell ``after_dispatch``, then (True, the reply), as :meth:`_call_inline` returns.

        (False, ...) when ``after_dispatch`` returned something to await
        first. A failing observer is logged, and the client gets its reply.
        """
        if "after_dispatch" in self.kernel.plugin_manager.call_observers:
            try:
                results = self.kernel.plugin_manager.fast_caller("after_dispatch")(
                    kernel=self.kernel,
                    connection=self.connection,
                    message=request,
                    result=result,
                    error=error,
                    # 0.0 for a call that began before an after_dispatch was registered.
                    duration=time.perf_counter() - started if started else 0.0,
                )
            except Exception as hook_exc:  # an observer must not cost the client its reply
                self.kernel.log.error("after_dispatch hook failed", method=request.method, exc_info=hook_exc)
            else:
                if results:
                    return _step(self._settled_reply(results, request, result, error))
        return True, self._reply(request, result, error)

    async def _settled_reply(
        self, results: list[Any], request: Request, result: Any, error: RPCError | None
    ) -> dict[str, Any] | None:
        """The reply, once ``after_dispatch``'s awaitable results are awaited."""
        try:
            await settle(results)
        except Exception as hook_exc:  # an observer must not cost the client its reply
            self.kernel.log.error("after_dispatch hook failed", method=request.method, exc_info=hook_exc)
        return self._reply(request, result, error)

    def _error_of(self, request: Request, exc: BaseException) -> RPCError:
        """The error a call's exception answers with (logged, and given to ``on_method_error``, if a bug)."""
        if isinstance(exc, RPCError):
            return exc
        if isinstance(exc, asyncio.CancelledError):
            if request.id in self._cancelled_ids:
                self._cancelled_ids.discard(request.id)
                _uncancel()
                return CallCancelled(data=f"{request.method!r} was cancelled by its caller")
            # The kernel is stopping: answer instead of leaving the client waiting.
            return RequestCancelled(data=f"the kernel stopped before {request.method!r} finished")
        if not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt, SystemExit: not the client's answer
        kernel = self.kernel
        # The type names the bug without revealing what the message may hold; debug mode adds the traceback.
        error = InternalError(f"{request.method} failed: {type(exc).__name__}")
        kernel.log.error(
            "method failed",
            method=request.method,
            id=request.id,
            connection=self.connection.id,
            exception=user_traceback(exc),
        )
        if "on_method_error" in kernel.plugin_manager.implemented:
            try:
                kernel.plugin_manager.fast_caller("on_method_error")(
                    kernel=kernel, connection=self.connection, message=request, exception=exc, error=error
                )
            except Exception as hook_exc:  # an observer must not cost the client its reply
                kernel.log.error("on_method_error hook failed", method=request.method, exc_info=hook_exc)
        return error

    def _reply(self, request: Request, result: Any, error: RPCError | None) -> dict[str, Any] | None:
        """The reply to ``request`` (None for a notification); a call's last progress goes out first."""
        msg_id = request.id
        if msg_id is NO_ID:
            return None
        if self._progress:
            self._end_progress(msg_id)
        if error is not None:
            return protocol.failure(msg_id, error)
        return protocol.success(msg_id, result)

    def _find(self, name: str, found: dict[str, Any] | None) -> Callable[..., Any] | None:
        """The method ``name`` (``found`` keeps a batch's lookups), or None."""
        method = None if found is None else found.get(name)
        if method is None:
            method = self.kernel.plugin_manager.fast_caller("find_method")(kernel=self.kernel, name=name)
            if method is not None and found is not None:
                found[name] = method
        return method

    def _unknown(self, request: Request) -> None:
        """No method ``request.method``: log it once per name, and raise -32601 for a request (naming a close name)."""
        name = request.method
        known = self.kernel.method_names()
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75) if len(name) <= 200 else []
        if name not in self._unknown_logged and len(self._unknown_logged) < MAX_UNKNOWN_LOGGED:
            self._unknown_logged.add(name)  # a client looping on a typo must not flood the log
            kind = "notification" if request.id is NO_ID else "request"
            self.kernel.log.warning(
                f"{kind} for an unknown method",
                method=name[:200],
                connection=self.connection.id,
                **({"did_you_mean": close[0]} if close else {}),
            )
        if request.id is NO_ID:
            return
        data = {"method": name, "did_you_mean": close[0]} if close else {"method": name}
        raise MethodNotFound(f"Method not found: {name[:200]}", data=data)

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
            wrong = mismatch(request.method, info.signature, args, kwargs)
            if wrong is not None:
                raise wrong
        if info.is_async:
            return method(**kwargs) if kwargs else method(*args)  # type: ignore[no-any-return]
        return self._in_thread(method, args, kwargs)

    async def _in_thread(self, method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """Run a plain method in a worker thread (awaiting what it returns, should that be awaitable)."""
        context = contextvars.copy_context()  # so current_connection() works in the thread
        async with self._thread_share:
            result = await asyncio.get_running_loop().run_in_executor(
                self.kernel.executor, functools.partial(context.run, method, *args, **kwargs)
            )
        if inspect.isawaitable(result):
            result = await result
        return result
