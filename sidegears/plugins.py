"""The kernel's plugin manager: hook specs, entry points, bundled plugins, blocking, and calling hooks.

Every feature of the kernel beyond the websocket loop is a plugin. Each kernel
gets a fresh :class:`PluginManager` (there is no module-global manager, so two
kernels in one process never share plugins or their state).

Order of registration: third-party entry points (group ``sidegears``) first,
then the bundled plugins of :data:`DEFAULT_PLUGINS`. A plugin is blocked by its
name: the entry point name, or the short name of a bundled plugin (``methods``,
``message_log``, ``debug``, ``browser``, ``static``, ``security``, ``inspector``).

Hooks are called through pluggy, always (``pm.hook.NAME(**kwargs)``), so
wrappers (``wrapper=True``, ``hookwrapper=True``), ``tryfirst``/``trylast``
and pluggy's hook-call monitoring apply to every hook. pluggy knows nothing of
coroutines, so two helpers finish what it returns: :func:`settle` awaits the
awaitable results of a hook that may be async, and :func:`first_answer` also
picks the first result that is not None. Two caches, both dropped by the
manager itself on every (un)registration and whenever hook-call monitoring
starts or stops: :attr:`PluginManager.implemented`, the names of the hooks
some plugin implements (a per-message hook nobody implements costs one set
lookup), and :meth:`PluginManager.fast_caller`, which calls a hook's
implementations without pluggy's per-call checks while no wrapper or
monitoring needs pluggy: used for the hooks called on every message
(``find_method``, and ``before_dispatch``, ``log_message`` and the others
once implemented; measured in ``benchmarks/``).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any, Callable

import pluggy

from . import hookspecs
from .errors import PluginError

__all__ = [
    "DEFAULT_PLUGINS",
    "BLOCK_ENV_VAR",
    "AUTOLOAD_ENV_VAR",
    "PluginManager",
    "blocked_from_env",
    "settle",
    "first_answer",
]

#: Bundled plugins: short name -> ``module:Class``. Each kernel registers a new
#: instance of each class, so their state is per kernel. The core never
#: imports these by name.
DEFAULT_PLUGINS: dict[str, str] = {
    "methods": "sidegears.default_plugins.methods:Methods",
    "message_log": "sidegears.default_plugins.message_log:MessageLog",
    "debug": "sidegears.default_plugins.debug:Debug",
    "static": "sidegears.default_plugins.static:Static",
    "security": "sidegears.default_plugins.security:Security",
    "browser": "sidegears.default_plugins.browser:Browser",
    "inspector": "sidegears.default_plugins.inspector:Inspector",
}

#: Comma-separated plugin names to block, e.g. ``SIDEGEARS_BLOCK_PLUGINS=browser,myplugin``.
BLOCK_ENV_VAR = "SIDEGEARS_BLOCK_PLUGINS"
#: Set to ``0`` to skip loading third-party entry points.
AUTOLOAD_ENV_VAR = "SIDEGEARS_PLUGIN_AUTOLOAD"


def blocked_from_env() -> set[str]:
    """The plugin names listed in :data:`BLOCK_ENV_VAR`."""
    return {name.strip() for name in os.environ.get(BLOCK_ENV_VAR, "").split(",") if name.strip()}


_CALL_OBSERVERS = frozenset({"before_dispatch", "on_notify", "after_dispatch"})


def _compiled_caller(
    name: str, spec_args: tuple[str, ...], impls: list[Any], firstresult: bool
) -> Callable[..., Any]:
    """A caller of hook ``name``'s ``impls`` (pluggy's order) that returns what pluggy's would.

    It is Python source made for this set of implementations, as
    ``dataclasses`` and ``namedtuple`` make theirs: the hook's arguments,
    passed by keyword, bind to parameters of the same names, and each
    implementation is called with the ones it names, positionally, as
    pluggy calls it. No dict of arguments is built or read per call:
    that, not the implementation, was most of a hook call's cost
    (``benchmarks/hook_cost.py``). The names are Python identifiers
    (the spec's parameters, and pluggy checks an implementation's against
    them), so the source holds nothing but them.
    """
    namespace: dict[str, Any] = {}
    lines = [f"def {name}({', '.join(spec_args)}):"]
    if not firstresult:
        lines.append("    _results = []")
    for i, impl in enumerate(impls):
        if not set(impl.argnames) <= set(spec_args):
            raise ValueError(f"{impl.plugin_name}: {name} takes {impl.argnames}, not among {spec_args}")
        namespace[f"_impl{i}"] = impl.function
        call = f"_impl{i}({', '.join(impl.argnames)})"
        if firstresult and len(impls) == 1:
            lines.append(f"    return {call}")  # its answer is the hook's, None included
            break
        lines.append(f"    _result = {call}")
        lines.append("    if _result is not None:")
        lines.append("        return _result" if firstresult else "        _results.append(_result)")
    else:
        lines.append("    return None" if firstresult else "    return _results")
    exec("\n".join(lines), namespace)  # noqa: S102  (identifiers only, see above)
    return namespace[name]  # type: ignore[no-any-return]


class PluginManager(pluggy.PluginManager):
    """pluggy's manager with SideGears' hook specs, plugin loading, and a cache it keeps current itself.

    ``register``/``unregister`` work at any time, through the kernel or
    directly on this manager, and take effect on the next message.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        #: Names of the hooks at least one registered plugin implements (wrappers included).
        self.implemented: frozenset[str] = frozenset()
        #: Which of the hooks that observe every call (before_dispatch, on_notify,
        #: after_dispatch) are implemented: usually none, and then calls take
        #: the session's inline path (``on_method_error``, called only when a
        #: method raised, does not count: the bundled debug plugin implements it).
        self.call_observers: frozenset[str] = frozenset()
        self._fast_callers: dict[str, Callable[..., Any]] = {}
        self._monitors = 0
        self.add_hookspecs(hookspecs)

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        self._refresh()
        return registered

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        removed = super().unregister(plugin, name)
        self._refresh()
        return removed

    def add_hookspecs(self, module_or_class: Any) -> None:
        super().add_hookspecs(module_or_class)
        self._refresh()

    def add_hookcall_monitoring(self, before: Any, after: Any) -> Callable[[], None]:
        undo = super().add_hookcall_monitoring(before, after)
        self._monitors += 1
        self._refresh()  # monitoring must see every call: no fast path meanwhile

        def stop_monitoring() -> None:
            undo()
            self._monitors -= 1
            self._refresh()

        return stop_monitoring

    def _refresh(self) -> None:
        self.implemented = frozenset(
            caller.name for plugin in self.get_plugins() for caller in self.get_hookcallers(plugin) or ()
        )
        self.call_observers = self.implemented & _CALL_OBSERVERS
        self._fast_callers = {}

    def fast_caller(self, name: str) -> Callable[..., Any]:
        """A caller for the synchronous hook ``name``, called like ``pm.hook.NAME``, with pluggy's answer.

        It takes every argument of the spec, by keyword (pluggy would warn
        of a missing one, this raises TypeError), as the kernel passes them.

        When no implementation is a wrapper and no hook-call monitoring is
        on, it calls the implementations itself, in pluggy's order, and
        returns what pluggy would: for a ``firstresult`` hook the first
        result that is not None, else the list of results that are not None
        (an exception propagates, as in pluggy), through a function made
        for these implementations (:func:`_compiled_caller`). That is a
        fraction of the cost: pluggy checks the call's arguments and copies
        its list of implementations on every call (about 1 µs each,
        measured in ``benchmarks/hook_cost.py``). Otherwise it is pluggy's
        own caller.
        Rebuilt after every change of plugins or monitoring.
        """
        caller = self._fast_callers.get(name)
        if caller is None:
            caller = self._fast_callers[name] = self._make_fast_caller(name)
        return caller

    def _make_fast_caller(self, name: str) -> Callable[..., Any]:
        hook_caller = getattr(self.hook, name)
        spec_function = getattr(hookspecs, name, None)
        spec = getattr(spec_function, f"{hookspecs.PROJECT_NAME}_spec", None)
        impls = list(reversed(hook_caller.get_hookimpls()))  # pluggy's calling order
        wrapped = any(impl.wrapper or impl.hookwrapper for impl in impls)
        if spec_function is None or spec is None or self._monitors or wrapped:
            return hook_caller  # type: ignore[no-any-return]
        spec_args = tuple(inspect.signature(spec_function).parameters)
        if any(arg.startswith("_") for arg in spec_args):
            return hook_caller  # type: ignore[no-any-return]  # the made function's own names begin with _
        return _compiled_caller(name, spec_args, impls, bool(spec.get("firstresult")))

    def register_while(self, enabled: bool, name: str, make: Callable[[], Any]) -> bool:
        """Have ``make()`` registered as ``name`` while ``enabled``, else not; return whether that changed.

        For a feature's per-message hooks, registered only while it is on,
        so that off costs nothing per message.
        """
        if enabled and not self.has_plugin(name):
            self.register(make(), name=name)
            return True
        if not enabled and self.has_plugin(name):
            self.unregister(name=name)
            return True
        return False

    def call_each(self, name: str, kwargs_for: Callable[[str], dict[str, Any]]) -> list[Any]:
        """Call hook ``name`` one plugin at a time (pluggy's order), with ``kwargs_for(plugin_name)``.

        For registration hooks whose ``register`` callback must know which
        plugin it serves (to name both sides of a duplicate).
        """
        results = []
        caller = getattr(self.hook, name)
        for impl in reversed(caller.get_hookimpls()):
            others = [plugin for plugin in self.get_plugins() if plugin is not impl.plugin]
            results.extend(self.subset_hook_caller(name, others)(**kwargs_for(impl.plugin_name)))
        return results

    def declared_options(self, reserved: Iterable[str] = ()) -> dict[str, Any]:
        """The options the plugins declare with ``register_options``: name -> default.

        Raises :class:`PluginError` when two plugins (or a plugin and a
        ``reserved`` name, the kernel's own options) declare the same name.
        """
        declared: dict[str, Any] = {}
        owner: dict[str, str] = dict.fromkeys(reserved, "the kernel")

        def register_for(plugin_name: str) -> dict[str, Any]:
            def register(name: str, default: Any = None, doc: str = "") -> None:
                if name in owner:
                    raise PluginError(
                        f"plugin {plugin_name!r} declares option {name!r}, already declared by {owner[name]!r}"
                    )
                declared[name] = default
                owner[name] = plugin_name

            return {"register": register}

        self.call_each("register_options", register_for)
        return declared

    def load(self, block: Iterable[str] = (), load_entry_points: bool | None = None) -> None:
        """Block ``block`` (and :data:`BLOCK_ENV_VAR`), then register entry-point plugins and the bundled ones.

        Raises :class:`PluginError` naming a plugin that fails to import.
        """
        for name in set(block) | blocked_from_env():
            self.set_blocked(name)
        if load_entry_points is None:
            load_entry_points = os.environ.get(AUTOLOAD_ENV_VAR, "1") != "0"
        if load_entry_points:
            self._load_entry_points()
        for name, target in DEFAULT_PLUGINS.items():
            if self.is_blocked(name) or self.has_plugin(name):
                continue
            module_name, _, class_name = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    continue  # a bundled plugin not present in this build
                raise PluginError(f"bundled plugin {name!r} ({module_name}) failed to import: {exc}") from exc
            self.register(getattr(module, class_name)(), name=name)

    def _load_entry_points(self) -> None:
        # pluggy.load_setuptools_entrypoints would do, but its error does not name
        # the plugin that failed, and a broken plugin must be easy to find.
        for ep in entry_points(group=hookspecs.PROJECT_NAME):
            if self.is_blocked(ep.name) or self.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                dist = f" from {ep.dist.name} {ep.dist.version}" if ep.dist else ""
                raise PluginError(
                    f"plugin {ep.name!r} ({ep.value}{dist}) failed to import: {type(exc).__name__}: {exc}; "
                    f"block it with {BLOCK_ENV_VAR}={ep.name}"
                ) from exc
            try:
                self.register(plugin, name=ep.name)
            except (ValueError, pluggy.PluginValidationError) as exc:
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) could not be registered: {exc}") from exc


async def settle(results: list[Any]) -> list[Any]:
    """Await, in order, the awaitable results of a hook call (``async def`` implementations); return all results.

    If one raises, the coroutines after it are closed unstarted and the exception propagates.
    """
    try:
        for i, result in enumerate(results):
            if inspect.isawaitable(result):
                results[i] = await result
    except BaseException:
        _close_unstarted(results)
        raise
    return results


async def first_answer(results: list[Any]) -> Any:
    """The first result of a hook call that is not None, awaiting awaitable ones in order.

    For hooks where the first answer wins and implementations may be async:
    pluggy's own ``firstresult`` would stop at the first coroutine (a
    coroutine is not None), even one that resolves to None. Coroutines after
    the answer (or after one that raised) are closed unstarted.
    """
    try:
        for result in results:
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                return result
        return None
    finally:
        _close_unstarted(results)


def _close_unstarted(results: list[Any]) -> None:
    for result in results:
        if inspect.iscoroutine(result) and inspect.getcoroutinestate(result) == inspect.CORO_CREATED:
            result.close()
