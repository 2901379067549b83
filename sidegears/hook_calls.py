"""Calling hooks whose implementations may be ``async def``, cheaply.

pluggy knows nothing of coroutines: an async implementation returns a
coroutine, which a ``firstresult`` hook would take as its result. The kernel
therefore calls hooks through :class:`HookTable`, which awaits what needs
awaiting and applies "first non-None wins" itself.

The per-message hooks are called from a cached tuple of implementations,
rebuilt when plugins change, so a hook nobody implements costs one tuple
check per message and an implemented one costs a plain function call.
"""

from __future__ import annotations

import inspect
import time
from operator import itemgetter
from typing import Any, Callable

import pluggy

__all__ = ["HookTable", "HookTracer", "call_all", "call_one", "call_sync", "first_result", "first_sync"]

#: An implementation: its function, what picks its arguments from the hook's
#: keyword dict, and whether that gives a tuple to spread (else one argument).
#: itemgetter picks in C: a list comprehension per call cost three times more.
Impl = tuple[Callable[..., Any], Callable[[dict[str, Any]], Any], bool]


def _picker(argnames: tuple[str, ...]) -> tuple[Callable[[dict[str, Any]], Any], bool]:
    if not argnames:
        return (lambda kwargs: ()), True
    return itemgetter(*argnames), len(argnames) > 1


def call_one(impl: Impl, kwargs: dict[str, Any]) -> Any:
    """Call one implementation with the arguments it names from ``kwargs``."""
    function, pick, spread = impl
    return function(*pick(kwargs)) if spread else function(pick(kwargs))


#: Called with (hook name, plugin name, seconds) after each implementation runs, while tracing.
HookTracer = Callable[[str, str, float], None]


def _impls(pm: pluggy.PluginManager, name: str, tracer: HookTracer | None = None) -> tuple[Impl, ...]:
    caller = getattr(pm.hook, name)
    # get_hookimpls() lists in registration order, tryfirst last; pluggy calls the reverse.
    impls = reversed(caller.get_hookimpls())
    if tracer is None:
        return tuple((impl.function, *_picker(tuple(impl.argnames))) for impl in impls)
    return tuple(
        (_timed(impl.function, name, impl.plugin_name, tracer), *_picker(tuple(impl.argnames))) for impl in impls
    )


def _timed(function: Callable[..., Any], hook: str, plugin: str, tracer: HookTracer) -> Callable[..., Any]:
    """``function``, reporting how long each call took (until its coroutine finished, if async)."""

    def timed(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            result = function(*args)
        except BaseException:
            tracer(hook, plugin, time.perf_counter() - started)
            raise
        if inspect.isawaitable(result):

            async def finish() -> Any:
                try:
                    return await result
                finally:
                    tracer(hook, plugin, time.perf_counter() - started)

            return finish()
        tracer(hook, plugin, time.perf_counter() - started)
        return result

    return timed


async def call_all(impls: tuple[Impl, ...], kwargs: dict[str, Any]) -> list[Any]:
    """Call every implementation in pluggy's order, awaiting async ones; return their results."""
    results = []
    for function, pick, spread in impls:
        result = function(*pick(kwargs)) if spread else function(pick(kwargs))
        if inspect.isawaitable(result):
            result = await result
        results.append(result)
    return results


async def first_result(impls: tuple[Impl, ...], kwargs: dict[str, Any]) -> Any:
    """Call implementations in pluggy's order until one returns (or resolves to) non-None."""
    for function, pick, spread in impls:
        result = function(*pick(kwargs)) if spread else function(pick(kwargs))
        if inspect.isawaitable(result):
            result = await result
        if result is not None:
            return result
    return None


def call_sync(impls: tuple[Impl, ...], kwargs: dict[str, Any]) -> None:
    """Call synchronous implementations (hooks documented as synchronous)."""
    for function, pick, spread in impls:
        function(*pick(kwargs)) if spread else function(pick(kwargs))


def first_sync(impls: tuple[Impl, ...], kwargs: dict[str, Any]) -> Any:
    """First non-None result of synchronous implementations."""
    for function, pick, spread in impls:
        result = function(*pick(kwargs)) if spread else function(pick(kwargs))
        if result is not None:
            return result
    return None


class HookTable:
    """The implementations of every hook, as tuples, refreshed by :meth:`refresh`."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm
        #: When set, every implementation is wrapped to report its duration (debug mode).
        self.tracer: HookTracer | None = None
        self.refresh()

    def refresh(self) -> None:
        """Re-read the implementations (after a plugin was registered or unregistered)."""
        for name in self._pm.hook.__dict__:
            if not name.startswith("_"):
                setattr(self, name, _impls(self._pm, name, self.tracer))

    def __getattr__(self, name: str) -> tuple[Impl, ...]:
        # A hook without a spec yet (e.g. spec added later) has no implementations.
        return ()
