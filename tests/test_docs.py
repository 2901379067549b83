"""The README's Python examples run as written."""

from __future__ import annotations

import json
import re
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


def test_other_python_examples_run(tmp_path) -> None:
    """The async and plugin examples run to completion without error."""
    blocks = python_blocks()[1:]
    assert len(blocks) >= 2
    for number, block in enumerate(blocks):
        script = tmp_path / f"example_{number}.py"
        script.write_text(block)
        result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
