"""Structured loggers for the kernel and its plugins (structlog over stdlib logging).

Records go to stdlib loggers under ``sidegears`` so that an application
controls handlers and levels the usual way (and pytest's ``caplog`` sees
them). Each record is rendered by structlog: readable ``key=value`` text by
default, one JSON object per line with ``log_format="json"`` or the
environment variable ``SIDEGEARS_LOG_FORMAT=json``.

Levels:

* ERROR: a method raised (with its traceback), a hook failed.
* WARNING: a client was refused or closed for bad input (binary frame,
  invalid UTF-8, oversized message, foreign Origin, bad token), a slow
  client was dropped, the kernel bound a non-loopback address, a request
  or notification named an unknown method (once per name and connection).
* INFO: kernel started or stopped, clients connected and disconnected,
  and every message in and out when message logging is on.
* DEBUG: replies to clients that left.

Secrets never reach a record: every kernel registers its token
(:func:`add_secret`), and each SideGears logger carries a filter that
replaces it with ``[secret]`` in the message and in any traceback, whatever
the level.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import structlog

__all__ = ["LOG_FORMAT_ENV_VAR", "REDACTED", "add_secret", "redact", "protected_logger", "make_logger", "ensure_handler", "install_stderr_writer", "StderrWriter"]

#: What a secret is replaced with in log records.
REDACTED = "[secret]"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def add_secret(secret: str) -> None:
    """Never let ``secret`` (a kernel's token) appear in a SideGears log record."""
    with _secrets_lock:
        _secrets.add(secret)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by :data:`REDACTED`."""
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Replaces registered secrets in a record's message and traceback before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_redact_filter = RedactSecrets()


def protected_logger(name: str) -> logging.Logger:
    """The stdlib logger ``name``, with the filter that keeps secrets out of its records."""
    logger = logging.getLogger(name)
    if _redact_filter not in logger.filters:
        logger.addFilter(_redact_filter)
    return logger

LOG_FORMAT_ENV_VAR = "SIDEGEARS_LOG_FORMAT"


#: Folders whose frames a user's traceback leaves out: the framework around the user's code, not the code itself.
_FRAMEWORK_DIRS = tuple(
    str(Path(str(module.__file__)).resolve().parent) + os.sep
    for module in (sys.modules["sidegears"], asyncio, concurrent.futures)
)


def user_traceback(exception: BaseException) -> str:
    """``exception``'s traceback from the first frame outside SideGears and asyncio: the user's code.

    A failing method's traceback starts in the kernel's dispatch (and, for a
    plain method, a worker thread's plumbing); those frames say nothing about
    the bug. When every frame is the framework's, all are kept.
    """
    tb = exception.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_FRAMEWORK_DIRS):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exception), exception, tb or exception.__traceback__))


class _KeyValueAndTraceback:
    """``event=... key=value`` on one line, then a traceback as the lines it is, not as an escaped value."""

    def __init__(self) -> None:
        self._line = structlog.processors.KeyValueRenderer(key_order=["event"], drop_missing=True)

    def __call__(self, logger: Any, name: str, event_dict: Any) -> str:
        exception = event_dict.pop("exception", None)
        line: str = self._line(logger, name, event_dict)
        return line if exception is None else f"{line}\n{str(exception).rstrip()}"


def _renderer(log_format: str | None) -> Any:
    fmt = (log_format or os.environ.get(LOG_FORMAT_ENV_VAR) or "console").lower()
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    if fmt != "console":
        raise ValueError(f"log_format must be 'console' or 'json', not {fmt!r}")
    return _KeyValueAndTraceback()


def make_logger(name: str, log_format: str | None = None, **context: Any) -> Any:
    """A structlog logger writing to the stdlib logger ``name``, bound to ``context``."""
    processors: list[Any] = [
        structlog.stdlib.filter_by_level,
        structlog.stdlib.add_log_level,
        structlog.processors.format_exc_info,
        _renderer(log_format),
    ]
    return structlog.wrap_logger(
        protected_logger(name),
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=processors,
        cache_logger_on_first_use=False,
    ).bind(**context)


#: Log lines waiting for the stderr writer thread at most; beyond, lines are dropped and counted.
STDERR_QUEUE_LINES = 1000


class StderrWriter(logging.Handler):
    """Writes records to stderr from a daemon thread, so the kernel's loop never waits on stderr.

    A GUI launcher may give the app a stderr pipe that nobody reads: a
    blocking write there would freeze every connection. Lines wait in a
    bounded queue instead; when it is full they are dropped, and the writer
    says how many before its next line. It stays silent while the root
    logger has handlers of its own (the application configured logging:
    its handlers get the records).
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        self.lines: queue.Queue[str] = queue.Queue(STDERR_QUEUE_LINES)
        self.dropped = 0
        self._dropped_lock = threading.Lock()
        threading.Thread(target=self._write_lines, name="sidegears-stderr", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return
        try:
            self.lines.put_nowait(self.format(record))
        except queue.Full:
            with self._dropped_lock:
                self.dropped += 1
        except Exception:  # noqa: BLE001  (a record that cannot be formatted: as logging.Handler does)
            self.handleError(record)

    def _write_lines(self) -> None:
        while True:
            line = self.lines.get()
            with self._dropped_lock:
                dropped, self.dropped = self.dropped, 0
            try:
                if dropped:
                    sys.stderr.write(f"sidegears: {dropped} log lines dropped (stderr was not read fast enough)\n")
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
            except Exception:  # noqa: BLE001  (stderr closed: nothing left to tell)
                pass


def install_stderr_writer() -> None:
    """Show ``sidegears`` WARNING and ERROR records on stderr, without blocking, when the application set up no logging.

    Without it Python's last-resort handler would write them synchronously
    on the kernel's loop.
    """
    logger = logging.getLogger("sidegears")
    if not logger.handlers and not logging.getLogger().handlers:
        logger.addHandler(StderrWriter())


def ensure_handler(level: int = logging.INFO) -> None:
    """Make ``sidegears`` log records visible on stderr when the application set up nothing.

    websockets' own frame-by-frame DEBUG lines (logger ``sidegears.websockets``)
    stay off unless that logger's level is set explicitly: debug mode is
    about calls, not frames.
    """
    frames = logging.getLogger("sidegears.websockets")
    if frames.level == logging.NOTSET:
        frames.setLevel(logging.INFO)
    logger = logging.getLogger("sidegears")
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    install_stderr_writer()
