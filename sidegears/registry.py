"""The ``@rpc_method`` decorator and the process-wide table of decorated functions.

Functions decorated with :func:`rpc_method` are served by every kernel in the
process (the original SideGears behaviour: decorate, then start). Looking
them up is the job of the bundled ``methods`` plugin
(:mod:`sidegears.default_plugins.methods`): block it and no decorated method
is served. This module only records them, so the core can offer the original
``from sidegears.kernel import rpc_method`` without importing a plugin.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar, overload

__all__ = ["rpc_method", "decorated_methods", "check_method_name"]

F = TypeVar("F", bound=Callable[..., Any])

#: Method name -> function, for every ``@rpc_method`` in the process.
decorated_methods: dict[str, Callable[..., Any]] = {}


def check_method_name(name: Any, func: Any) -> str:
    """Validate a method and its name; return the name."""
    if not callable(func):
        raise TypeError(f"an RPC method must be callable, not {type(func).__name__}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"an RPC method name must be a non-empty string, not {name!r}")
    if name.startswith("rpc."):
        raise ValueError(f"method names starting with 'rpc.' are reserved by JSON-RPC 2.0: {name!r}")
    return name


Errors = Iterable[tuple[int, str]]


@overload
def rpc_method(func: F, *, name: str | None = None, errors: Errors = ()) -> F: ...
@overload
def rpc_method(func: None = None, *, name: str | None = None, errors: Errors = ()) -> Callable[[F], F]: ...
def rpc_method(func: Callable[..., Any] | None = None, *, name: str | None = None, errors: Errors = ()) -> Any:
    """Serve a function as an RPC method, under its own name or ``name``.

    Use as ``@rpc_method`` or ``@rpc_method(name="files.list")``. The function
    may be ``async def`` (runs on the kernel's loop) or plain (runs in a worker
    thread). Decorating another function under the same name replaces it.
    ``errors``, ``(code, message)`` pairs, are the errors it documents in
    ``rpc.discover``. Returns the function (given ``errors``, with them as
    its ``__rpc_errors__`` attribute).
    """

    def decorate(f: F) -> F:
        decorated_methods[check_method_name(name or getattr(f, "__name__", None), f)] = f
        if errors:
            f.__rpc_errors__ = tuple(errors)  # type: ignore[attr-defined]
        return f

    if func is None:
        return decorate
    return decorate(func)  # type: ignore[arg-type]
