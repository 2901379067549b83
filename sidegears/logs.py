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
  client was dropped, the kernel bound a non-loopback address.
* INFO: kernel started or stopped, clients connected and disconnected,
  and every message in and out when message logging is on.
* DEBUG: notifications for unknown methods, replies to clients that left.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog

__all__ = ["LOG_FORMAT_ENV_VAR", "make_logger", "ensure_handler"]

LOG_FORMAT_ENV_VAR = "SIDEGEARS_LOG_FORMAT"


def _renderer(log_format: str | None) -> Any:
    fmt = (log_format or os.environ.get(LOG_FORMAT_ENV_VAR) or "console").lower()
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    if fmt != "console":
        raise ValueError(f"log_format must be 'console' or 'json', not {fmt!r}")
    return structlog.processors.KeyValueRenderer(key_order=["event"], drop_missing=True)


def make_logger(name: str, log_format: str | None = None, **context: Any) -> Any:
    """A structlog logger writing to the stdlib logger ``name``, bound to ``context``."""
    processors: list[Any] = [
        structlog.stdlib.filter_by_level,
        structlog.stdlib.add_log_level,
        structlog.processors.format_exc_info,
        _renderer(log_format),
    ]
    return structlog.wrap_logger(
        logging.getLogger(name),
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=processors,
        cache_logger_on_first_use=False,
    ).bind(**context)


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
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
