"""The commands shown in docs/*.md print what the docs say they print.

A ```console block is a `$ command` line, then its output. Each
`sidegears demo` block runs for real (on a free port instead of the one
shown, with no display, and its kept secret in a temporary runtime
folder), and the output's lines must include the block's lines, in order,
with two placeholders: the port shown stands for the port the kernel got,
and `...` for the token (each the same wherever it appears).

CONTRIBUTING.md's `(cd client && npm test)` is checked where it used to
break: the Python its test kernel runs, with no virtualenv activated.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_BLOCK = re.compile(r"^```console\n\$ (.*?)\n(.*?)^```", re.DOTALL | re.MULTILINE)
SHOWN_PORT = "5678"
READ_TIMEOUT = 30.0


def console_blocks() -> list[tuple[str, str, list[str]]]:
    """(file, command, expected output lines without blank ones) for every console block of docs/*.md."""
    blocks = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        for command, output in CONSOLE_BLOCK.findall(path.read_text()):
            lines = [line for line in output.splitlines() if line.strip()]
            blocks.append((path.name, command, lines))
    return blocks


DEMO_BLOCKS = [block for block in console_blocks() if block[1].startswith("sidegears demo")]


def line_pattern(line: str) -> re.Pattern[str]:
    """A documented line as a pattern: the shown port and `...` (the token) become named groups."""
    pattern = re.escape(line.rstrip())
    pattern = pattern.replace(re.escape(SHOWN_PORT), r"(?P<port>\d+)", 1).replace(re.escape(SHOWN_PORT), r"(?P=port)")
    pattern = pattern.replace(re.escape("..."), r"(?P<token>[A-Za-z0-9_-]{16,})", 1).replace(re.escape("..."), r"(?P=token)")
    return re.compile(pattern)


#: A record of the kernel's log, as the demo writes it to stderr (merged into the output read here).
LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} sidegears(\.\w+)* .*$")


def read_until_matched(process: subprocess.Popen[str], expected: list[str]) -> tuple[list[str], list[re.Match[str]]]:
    """Read the process's output until every expected line has matched, in order (or it exits, or READ_TIMEOUT passes)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            # The kernel's log is written by a thread of its own, so a record can land between a
            # printed line and its newline: take it out, leaving the printed line whole.
            lines.put(LOG_RECORD.sub("", line.rstrip("\n")))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    matches: list[re.Match[str]] = []
    deadline = time.monotonic() + READ_TIMEOUT
    while len(matches) < len(expected):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        match = line_pattern(expected[len(matches)]).fullmatch(line.rstrip())
        if match:
            matches.append(match)
    return seen, matches


def test_the_docs_show_demo_commands() -> None:
    """docs/browser.md shows the demo's output with and without --no-browser (so the test below has blocks to run)."""
    commands = [command for _, command, _ in DEMO_BLOCKS]
    assert "sidegears demo --port 5678" in commands
    assert "sidegears demo --no-browser --port 5678" in commands


@pytest.mark.parametrize(("doc", "command", "expected"), DEMO_BLOCKS, ids=[block[1] for block in DEMO_BLOCKS])
def test_demo_prints_what_the_docs_show(doc: str, command: str, expected: list[str], tmp_path: Path) -> None:
    """The documented `sidegears demo` command, run on a free port without a display, prints the documented lines in order."""
    args = command.split()
    assert args[-2:] == ["--port", SHOWN_PORT], "the test swaps the shown port for a free one"
    args[-1] = "0"
    executable = shutil.which("sidegears", path=str(Path(sys.executable).parent))
    argv = [executable, *args[1:]] if executable else [sys.executable, "-m", "sidegears", *args[1:]]
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "SIDEGEARS_BROWSER")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # the demo keeps its secret here, not in the user's runtime folder
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        seen, matches = read_until_matched(process, expected)
    finally:
        process.terminate()  # SIGTERM stops a served app as Ctrl-C does
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    output = "\n".join(seen)
    assert len(matches) == len(expected), (
        f"{doc}: `{command}` printed\n{output}\n\nwhich lacks (in order from) this line of the docs:\n"
        f"{expected[len(matches)]}"
    )
    ports = {m.group("port") for m in matches if "port" in m.re.groupindex}
    tokens = {m.group("token") for m in matches if "token" in m.re.groupindex}
    assert len(ports) == 1 and ports != {"0"}, f"one port throughout: {ports}"
    assert len(tokens) == 1, f"one token throughout: {tokens}"


def test_client_tests_find_the_venv_python_without_an_activated_venv(tmp_path: Path) -> None:
    """CONTRIBUTING's `(cd client && npm test)`: with no $SIDEGEARS_PYTHON and no venv on PATH, the test kernel runs .venv's Python."""
    venv_python = ROOT / ".venv" / "bin" / "python"
    node = shutil.which("node")
    if node is None or not venv_python.exists():
        if os.environ.get("CI"):
            pytest.fail("make setup makes .venv and installs node")
        pytest.skip("needs node and the repository's .venv (make setup)")
    # What client/test/kernel.js starts kernels with, and whether that Python has the kernel's dependencies.
    script = (
        "const m = await import('./test/kernel.js');"
        "console.log(m.python);"
        "console.log(m.runPython('import websockets, structlog, pluggy, sidegears; print(sidegears.__file__)'));"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("SIDEGEARS_PYTHON", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(Path(node).parent), "/usr/bin", "/bin"])
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], cwd=ROOT / "client", env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    python, sidegears_file = result.stdout.splitlines()[-2:]
    assert Path(python) == venv_python
    assert Path(sidegears_file).parent == ROOT / "sidegears"
