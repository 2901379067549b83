"""The plugin core: one manager per kernel, entry points, blocking, bundled plugins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from sidegears import PluginError, RPCKernel, hookimpl
from sidegears.plugins import DEFAULT_PLUGINS
from sidegears.testing import RPCTestClient, running_kernel


def install_fake_site(tmp_path: Path, monkeypatch, name: str, module_source: str | None) -> None:
    """Install a tiny distribution (dist-info + entry point) into a folder put on sys.path.

    importlib.metadata finds it exactly as it finds a pip-installed one.
    """
    site = tmp_path / "site"
    dist = site / f"sidegears_plugin_{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: sidegears-plugin-{name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[sidegears]\n{name} = sidegears_plugin_{name}\n")
    if module_source is not None:
        (site / f"sidegears_plugin_{name}.py").write_text(textwrap.dedent(module_source))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, f"sidegears_plugin_{name}", raising=False)


def test_each_kernel_owns_its_plugin_manager() -> None:
    """Registering a plugin on one kernel leaves another untouched."""
    first, second = RPCKernel(token=False), RPCKernel(token=False)
    assert first.plugin_manager is not second.plugin_manager

    class Extra:
        @hookimpl
        def on_connect(self):
            pass

    first.register_plugin(Extra(), name="extra")
    assert "extra" in first.list_plugins() and "extra" not in second.list_plugins()


def test_bundled_plugins_are_registered_by_name() -> None:
    """The bundled features appear under their short names."""
    names = RPCKernel(token=False, load_entry_points=False).list_plugins()
    for name in ("methods", "message_log", "debug", "static", "security"):
        assert name in names
    assert set(DEFAULT_PLUGINS) >= {"methods", "message_log", "debug", "static", "security", "browser"}


async def test_blocking_methods_plugin_leaves_no_methods() -> None:
    """Method registration is a plugin: blocked, every call is -32601."""
    async with running_kernel(block_plugins=["methods"]) as kernel:
        assert "methods" not in kernel.list_plugins()
        async with RPCTestClient.connect(kernel.url) as client:
            assert (await client.request("multiply", [1, 2]))["error"]["code"] == -32601


def test_block_by_environment_variable(monkeypatch) -> None:
    """SIDEGEARS_BLOCK_PLUGINS blocks plugins by name."""
    monkeypatch.setenv("SIDEGEARS_BLOCK_PLUGINS", "debug, message_log")
    names = RPCKernel(token=False).list_plugins()
    assert "debug" not in names and "message_log" not in names and "methods" in names


def test_unregister_by_name_and_object() -> None:
    """unregister_plugin takes the plugin object or its name."""
    kernel = RPCKernel(token=False)

    class Extra:
        @hookimpl
        def on_notify(self):
            pass

    extra = Extra()
    kernel.register_plugin(extra, name="extra")
    kernel.unregister_plugin("extra")
    assert "extra" not in kernel.list_plugins()
    kernel.register_plugin(extra)
    kernel.unregister_plugin(extra)
    assert extra not in [kernel.plugin_manager.get_plugin(n) for n in kernel.list_plugins()]


def test_registering_a_blocked_plugin_says_so() -> None:
    """A blocked name cannot be registered by hand either, and the error says why."""
    kernel = RPCKernel(token=False, block_plugins=["extra"])
    with pytest.raises(ValueError, match="blocked"):
        kernel.register_plugin(object(), name="extra")


def test_misspelt_hook_is_refused() -> None:
    """An implementation of a hook that does not exist fails at registration."""
    import pluggy

    class Typo:
        @hookimpl
        def on_conect(self):
            pass

    kernel = RPCKernel(token=False)
    kernel.register_plugin(Typo())
    with pytest.raises(pluggy.PluginValidationError):
        kernel.plugin_manager.check_pending()


async def test_entry_point_plugin_is_discovered(tmp_path, monkeypatch) -> None:
    """An installed distribution with a `sidegears` entry point is loaded with no register call."""
    install_fake_site(
        tmp_path,
        monkeypatch,
        "greet",
        """
        from sidegears import hookimpl

        @hookimpl
        def register_methods(register):
            register(lambda who: f"hello {who}", name="greet.hello")
        """,
    )
    async with running_kernel() as kernel:
        assert "greet" in kernel.list_plugins()
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("greet.hello", ["you"]) == "hello you"
    assert "greet" not in RPCKernel(token=False, block_plugins=["greet"]).list_plugins()
    assert "greet" not in RPCKernel(token=False, load_entry_points=False).list_plugins()


def test_broken_entry_point_is_named_in_the_error(tmp_path, monkeypatch) -> None:
    """A plugin whose module fails to import stops kernel creation with an error naming it."""
    install_fake_site(tmp_path, monkeypatch, "broken", "raise RuntimeError('half installed')\n")
    with pytest.raises(PluginError) as info:
        RPCKernel(token=False)
    message = str(info.value)
    assert "'broken'" in message and "sidegears-plugin-broken" in message and "half installed" in message
    assert "SIDEGEARS_BLOCK_PLUGINS=broken" in message
    monkeypatch.setenv("SIDEGEARS_BLOCK_PLUGINS", "broken")
    assert "broken" not in RPCKernel(token=False).list_plugins()


def test_public_api_names() -> None:
    """The original import paths and the package's __all__ work."""
    import sidegears
    from sidegears.kernel import RPCKernel as K
    from sidegears.kernel import rpc_method as r

    assert K is sidegears.RPCKernel and r is sidegears.rpc_method
    for name in sidegears.__all__:
        assert getattr(sidegears, name) is not None
    assert (Path(sidegears.__file__).parent / "py.typed").exists()


def test_core_never_imports_a_bundled_plugin() -> None:
    """No core module imports sidegears.default_plugins: bundled plugins are registered by name only."""
    import ast

    core = Path(__file__).resolve().parent.parent / "sidegears"
    for path in core.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                assert "default_plugins" not in module, f"{path.name} imports {module}"
