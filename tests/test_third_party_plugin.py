"""Autodiscovery with a really installed third-party plugin: plugins/sidegears-plugin-files.

The distribution must be pip-installed into the test environment before the
suite runs (CI does it); these tests fail, not skip, when it is missing.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path

import pytest

from sidegears import RPCError, RPCKernel
from sidegears.plugins import BLOCK_ENV_VAR
from sidegears.testing import RPCTestClient, running_kernel

DISTRIBUTION = "sidegears-plugin-files"
INSTALL_HINT = f"{DISTRIBUTION} is not installed: run `pip install ./plugins/{DISTRIBUTION}` from the repository root"
METHOD_NOT_FOUND = -32601


def connect(kernel: RPCKernel) -> AbstractAsyncContextManager[RPCTestClient]:
    """A test client connected to a started kernel."""
    assert kernel.url is not None, "the kernel is not started"
    return RPCTestClient.connect(kernel.url)


@pytest.fixture(autouse=True)
def installed_distribution() -> None:
    """Fail every test here, with the command that fixes it, when the plugin is not installed."""
    try:
        distribution(DISTRIBUTION)
        installed = True
    except PackageNotFoundError:
        installed = False
    if not installed:
        pytest.fail(INSTALL_HINT, pytrace=False)


def assert_blocked(kernel: RPCKernel) -> None:
    """The kernel knows the name 'files' only as blocked: no plugin object is registered under it."""
    assert kernel.plugin_manager.is_blocked("files")
    assert kernel.plugin_manager.get_plugin("files") is None


def test_distribution_is_installed_with_its_entry_point() -> None:
    """importlib.metadata shows the distribution and its 'files' entry point in the 'sidegears' group."""
    dist = distribution(DISTRIBUTION)
    assert dist.version
    [ep] = [ep for ep in entry_points(group="sidegears") if ep.name == "files"]
    assert ep.value == "sidegears_plugin_files"
    assert ep.dist is not None and ep.dist.name == DISTRIBUTION


def test_plain_kernel_lists_the_plugin() -> None:
    """A plain RPCKernel() registers the plugin under its entry-point name, with no register_plugin call."""
    assert "files" in RPCKernel().list_plugins()


async def test_plain_kernel_serves_the_plugin_methods(tmp_path: Path) -> None:
    """A kernel nobody told about the plugin serves files.list over a real websocket."""
    (tmp_path / "hello.txt").write_text("hi")
    async with running_kernel(files_root=tmp_path) as kernel, connect(kernel) as rpc:
        listing = await rpc.call("files.list")
        assert [entry["name"] for entry in listing["entries"]] == ["hello.txt"]


async def test_block_plugins_option_blocks_it() -> None:
    """RPCKernel(block_plugins=["files"]) neither lists the plugin nor serves its methods."""
    async with running_kernel(block_plugins=["files"]) as kernel, connect(kernel) as rpc:
        assert_blocked(kernel)
        with pytest.raises(RPCError) as info:
            await rpc.call("files.list")
        assert info.value.code == METHOD_NOT_FOUND


async def test_environment_variable_blocks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIDEGEARS_BLOCK_PLUGINS=files blocks the plugin for every kernel made while it is set."""
    monkeypatch.setenv(BLOCK_ENV_VAR, "files")
    async with running_kernel() as kernel, connect(kernel) as rpc:
        assert_blocked(kernel)
        with pytest.raises(RPCError) as info:
            await rpc.call("files.list")
        assert info.value.code == METHOD_NOT_FOUND


def test_entry_points_can_be_turned_off() -> None:
    """load_entry_points=False leaves third-party plugins out and keeps the bundled ones."""
    plugins = RPCKernel(load_entry_points=False).list_plugins()
    assert "files" not in plugins
    assert "methods" in plugins
