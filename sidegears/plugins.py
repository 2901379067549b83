"""Building a kernel's plugin manager: hook specs, entry points, bundled plugins, blocking.

Every feature of the kernel beyond the websocket loop is a plugin. The kernel
gets a fresh :class:`pluggy.PluginManager` from :func:`make_plugin_manager`;
there is no module-global manager, so two kernels in one process never share
plugins.

Order of registration: third-party entry points (group ``sidegears``) first,
then the bundled plugins of :data:`DEFAULT_PLUGINS`. A plugin is blocked by its
name: the entry point name, or the short name of a bundled plugin (``methods``,
``message_log``, ``debug``, ``browser``, ``static``, ``security``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from importlib.metadata import entry_points

import pluggy

from . import hookspecs
from .errors import PluginError

__all__ = ["DEFAULT_PLUGINS", "BLOCK_ENV_VAR", "AUTOLOAD_ENV_VAR", "make_plugin_manager", "blocked_from_env"]

#: Bundled plugins: short name -> module. The core never imports these by name.
DEFAULT_PLUGINS: dict[str, str] = {
    "methods": "sidegears.default_plugins.methods",
    "message_log": "sidegears.default_plugins.message_log",
    "debug": "sidegears.default_plugins.debug",
    "static": "sidegears.default_plugins.static",
    "security": "sidegears.default_plugins.security",
    "browser": "sidegears.default_plugins.browser",
}

#: Comma-separated plugin names to block, e.g. ``SIDEGEARS_BLOCK_PLUGINS=browser,myplugin``.
BLOCK_ENV_VAR = "SIDEGEARS_BLOCK_PLUGINS"
#: Set to ``0`` to skip loading third-party entry points.
AUTOLOAD_ENV_VAR = "SIDEGEARS_PLUGIN_AUTOLOAD"


def blocked_from_env() -> set[str]:
    """The plugin names listed in :data:`BLOCK_ENV_VAR`."""
    return {name.strip() for name in os.environ.get(BLOCK_ENV_VAR, "").split(",") if name.strip()}


def make_plugin_manager(block: Iterable[str] = (), load_entry_points: bool | None = None) -> pluggy.PluginManager:
    """A new plugin manager with the hook specs, entry-point plugins and bundled plugins.

    ``block`` names plugins not to register (added to those of the
    environment variable). Raises :class:`PluginError` naming a plugin that
    fails to import.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in set(block) | blocked_from_env():
        pm.set_blocked(name)
    if load_entry_points is None:
        load_entry_points = os.environ.get(AUTOLOAD_ENV_VAR, "1") != "0"
    if load_entry_points:
        _load_entry_points(pm)
    for name, module_name in DEFAULT_PLUGINS.items():
        if pm.is_blocked(name) or pm.has_plugin(name):
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # a bundled plugin not present in this build
            raise PluginError(f"bundled plugin {name!r} ({module_name}) failed to import: {exc}") from exc
        pm.register(module, name=name)
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    # pluggy.load_setuptools_entrypoints would do, but its error does not name
    # the plugin that failed, and a broken plugin must be easy to find.
    for ep in entry_points(group=hookspecs.PROJECT_NAME):
        if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
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
            pm.register(plugin, name=ep.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) could not be registered: {exc}") from exc
