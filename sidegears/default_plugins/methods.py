"""Method lookup: ``@rpc_method`` functions and the methods plugins register per kernel.

The decorator only records functions (:mod:`sidegears.registry`); this plugin
serves them through ``find_method``, and collects the methods plugins add for
one kernel through the ``register_methods`` hook. Block it (``methods``) and
no method is served.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable

from ..errors import PluginError
from ..hookspecs import hookimpl
from ..registry import check_method_name, decorated_methods

if TYPE_CHECKING:
    from ..kernel import RPCKernel

__all__ = ["registered_methods"]

#: id(kernel) -> the methods its plugins registered, for kernels that have any
#: (dropped when the kernel is collected). Keyed by id, not by a weak
#: reference: find_method runs for every call, and a WeakKeyDictionary lookup
#: (a new weak reference each time) was a tenth of the cost of a batch member.
_per_kernel: dict[int, dict[str, Callable[..., Any]]] = {}


def registered_methods(kernel: RPCKernel | None = None) -> dict[str, Callable[..., Any]]:
    """The methods a kernel serves: decorated ones, overridden by its plugins' ones."""
    methods = dict(decorated_methods)
    if kernel is not None:
        methods.update(_per_kernel.get(id(kernel), {}))
    return methods


@hookimpl
def on_startup(kernel: RPCKernel) -> None:
    table: dict[str, Callable[..., Any]] = {}
    owner: dict[str, str] = {}

    for impl in kernel.plugin_manager.hook.register_methods.get_hookimpls():

        def register(func: Callable[..., Any], name: str | None = None, _plugin: str = impl.plugin_name) -> None:
            method_name = check_method_name(name or getattr(func, "__name__", None), func)
            if method_name in table:
                raise PluginError(
                    f"plugin {_plugin!r} registers method {method_name!r}, already registered by {owner[method_name]!r}"
                )
            table[method_name] = func
            owner[method_name] = _plugin

        impl.function(**{arg: {"kernel": kernel, "register": register}[arg] for arg in impl.argnames})
    if table:
        if id(kernel) not in _per_kernel:  # one finalizer per kernel, however often it restarts
            weakref.finalize(kernel, _per_kernel.pop, id(kernel), None)
        _per_kernel[id(kernel)] = table
    else:
        _per_kernel.pop(id(kernel), None)


@hookimpl(trylast=True)
def find_method(kernel: RPCKernel, name: str) -> Callable[..., Any] | None:
    if _per_kernel:
        found = _per_kernel.get(id(kernel))
        if found is not None:
            method = found.get(name)
            if method is not None:
                return method
    return decorated_methods.get(name)
