"""The README's Python examples run as written."""

from __future__ import annotations

import json
import re

import pytest
import subprocess
import sys
from pathlib import Path

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)


def test_quick_start_serves_multiply(tmp_path) -> None:
    """The quick start, run as a script, prints a URL where multiply [6, 7] gives 42."""
    script = tmp_path / "quick_start.py"
    script.write_text(python_blocks()[0])
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split("connect to", 1)[1].strip()
        with connect(url, open_timeout=5) as ws:
            ws.send(json.dumps({"jsonrpc": "2.0", "method": "multiply", "params": [6, 7], "id": 1}))
            assert json.loads(ws.recv(5)) == {"jsonrpc": "2.0", "result": 42, "id": 1}
    finally:
        process.terminate()
        process.wait(10)


def test_async_example_prints_the_reply(tmp_path) -> None:
    """The asyncio example serves files.count on its own loop and prints the reply."""
    script = tmp_path / "async_example.py"
    script.write_text(python_blocks()[1])
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["id"] == 1 and reply["result"] == 1  # the folder held only the script


def test_plugin_example_rejects_admin_calls() -> None:
    """The plugin example registers Audit, which refuses admin.* methods and lets others through."""
    from sidegears import RPCError
    from sidegears.protocol import Request

    namespace: dict = {}
    exec(python_blocks()[2], namespace)
    kernel = namespace["kernel"]
    audit = next(p for p in (kernel.plugin_manager.get_plugin(n) for n in kernel.list_plugins()) if type(p).__name__ == "Audit")
    with pytest.raises(RPCError):
        audit.before_dispatch(None, Request("admin.reset", None, 1))
    assert audit.before_dispatch(None, Request("multiply", [1, 2], 2)) is None


async def test_typed_methods_example_checks_params_and_is_discovered() -> None:
    """The Typed methods example: a wrong price is named with its path, and rpc.discover describes the method."""
    from sidegears.testing import RPCTestClient

    namespace: dict = {}
    exec(python_blocks()[3], namespace)
    kernel = namespace["kernel"]
    await kernel.astart("127.0.0.1", 0)
    try:
        async with RPCTestClient.connect(kernel.url) as client:
            items = [{"name": "a", "price": 1}, {"name": "b", "price": 2}, {"name": "c", "price": "abc"}]
            reply = await client.request("order.total", [items])
            assert reply["error"]["message"] == 'Invalid params: params[0][2].price: expected number, got "abc"'
            assert await client.call("order.total", {"items": items[:2], "discount": "0.5"}) == 2.5
            document = await client.call("rpc.discover")
        method = next(m for m in document["methods"] if m["name"] == "order.total")
        assert method["summary"] == "The order's total, minus the discount."
        assert method["errors"] == [{"code": 4001, "message": "empty order"}]
        assert [n["name"] for n in document["x-notifications"]] == ["progress"]
    finally:
        await kernel.astop()
