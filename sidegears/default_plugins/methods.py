"""Method registration: the ``@rpc_method`` decorator and method lookup.

Functions decorated with :func:`rpc_method` are served by every kernel in the
process (the original SideGears behaviour: decorate, then start). Plugins add
methods for one kernel through the ``register_methods`` hook.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable, TypeVar, overload

from ..errors import PluginError
from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..kernel import RPCKernel

__all__ = ["rpc_method", "registered_methods"]

F = TypeVar("F", bound=Callable[..., Any])

_decorated: dict[str, Callable[..., Any]] = {}
_per_kernel: weakref.WeakKeyDictionary[RPCKernel, dict[str, Callable[..., Any]]] = weakref.WeakKeyDictionary()


def _check_name(name: Any, func: Any) -> str:
    if not callable(func):
        raise TypeError(f"an RPC method must be callable, not {type(func).__name__}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"an RPC method name must be a non-empty string, not {name!r}")
    if name.startswith("rpc."):
        raise ValueError(f"method names starting with 'rpc.' are reserved by JSON-RPC 2.0: {name!r}")
    return name


@overload
def rpc_method(func: F, *, name: str | None = None) -> F: ...
@overload
def rpc_method(func: None = None, *, name: str | None = None) -> Callable[[F], F]: ...
def rpc_method(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Serve a function as an RPC method, under its own name or ``name``.

    Use as ``@rpc_method`` or ``@rpc_method(name="files.list")``. The function
    may be ``async def`` (runs on the kernel's loop) or plain (runs in a worker
    thread). Decorating another function under the same name replaces it.
    Returns the function unchanged.
    """

    def decorate(f: F) -> F:
        _decorated[_check_name(name or getattr(f, "__name__", None), f)] = f
        return f

    if func is None:
        return decorate
    return decorate(func)  # type: ignore[arg-type]


def registered_methods(kernel: RPCKernel | None = None) -> dict[str, Callable[..., Any]]:
    """The methods a kernel serves: decorated ones, overridden by its plugins' ones."""
    methods = dict(_decorated)
    if kernel is not None:
        methods.update(_per_kernel.get(kernel, {}))
    return methods


@hookimpl
def on_startup(kernel: RPCKernel) -> None:
    table: dict[str, Callable[..., Any]] = {}
    owner: dict[str, str] = {}

    for impl in kernel.plugin_manager.hook.register_methods.get_hookimpls():

        def register(func: Callable[..., Any], name: str | None = None, _plugin: str = impl.plugin_name) -> None:
            method_name = _check_name(name or getattr(func, "__name__", None), func)
            if method_name in table:
                raise PluginError(
                    f"plugin {_plugin!r} registers method {method_name!r}, already registered by {owner[method_name]!r}"
                )
            table[method_name] = func
            owner[method_name] = _plugin

        impl.function(**{arg: {"kernel": kernel, "register": register}[arg] for arg in impl.argnames})
    _per_kernel[kernel] = table


@hookimpl(trylast=True)
def find_method(kernel: RPCKernel, name: str) -> Callable[..., Any] | None:
    found = _per_kernel.get(kernel)
    if found is not None:
        method = found.get(name)
        if method is not None:
            return method
    return _decorated.get(name)
