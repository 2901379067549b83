"""Method lookup: ``@rpc_method`` functions and the methods plugins register per kernel.

The decorator only records functions (:mod:`sidegears.registry`); this plugin
serves them through ``find_method``, and collects the methods plugins add for
one kernel through the ``register_methods`` hook. Block it (``methods``) and
no method is served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..discovery import DISCOVER, document
from ..errors import PluginError
from ..hookspecs import hookimpl
from ..registry import check_method_name, decorated_methods

if TYPE_CHECKING:
    from ..kernel import RPCKernel

__all__ = ["Methods"]


class Methods:
    """The bundled ``methods`` plugin of one kernel: decorated methods, and those its plugins register."""

    def __init__(self) -> None:
        #: The methods this kernel's plugins registered at the last start (they override decorated ones).
        self.registered: dict[str, Callable[..., Any]] = {}
        self._discover: Callable[..., Any] | None = None

    def methods(self) -> dict[str, Callable[..., Any]]:
        """The methods the kernel serves: decorated ones, overridden by its plugins' ones."""
        return {**decorated_methods, **self.registered}

    # First: the methods exist before other plugins start, and a registration error stops the
    # start before any async on_startup was called (its coroutine would be left unawaited).
    @hookimpl(tryfirst=True)
    def on_startup(self, kernel: RPCKernel) -> None:
        table: dict[str, Callable[..., Any]] = {}
        owner: dict[str, str] = {}

        def register_for(plugin_name: str) -> dict[str, Any]:
            def register(func: Callable[..., Any], name: str | None = None) -> None:
                method_name = check_method_name(name or getattr(func, "__name__", None), func)
                if method_name in table:
                    raise PluginError(
                        f"plugin {plugin_name!r} registers method {method_name!r}, "
                        f"already registered by {owner[method_name]!r}"
                    )
                table[method_name] = func
                owner[method_name] = plugin_name

            return {"kernel": kernel, "register": register}

        kernel.plugin_manager.call_each("register_methods", register_for)
        self.registered = table

        async def discover() -> dict[str, Any]:
            # async, so it runs on the loop, where the discover hook expects to be called
            return document(kernel)

        self._discover = discover

    @hookimpl
    def list_methods(self) -> dict[str, Callable[..., Any]]:
        return self.methods()

    @hookimpl(trylast=True)
    def find_method(self, name: str) -> Callable[..., Any] | None:
        if self.registered:
            method = self.registered.get(name)
            if method is not None:
                return method
        if name == DISCOVER:
            return self._discover
        return decorated_methods.get(name)
