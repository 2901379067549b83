"""The `sidegears` command: help, version, and apps served by a real subprocess that a websocket client calls."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import sidegears
from sidegears import examples
from sidegears.cli import RUN_ENV_VAR, main
from sidegears.testing import RPCTestClient

EXAMPLES = Path(sidegears.__file__).parent / "examples"
WEBSOCKET_LINE = re.compile(r"websocket:\s+(ws://\S+)")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@asynccontextmanager
async def sidegears_process(*args: str, stderr_file: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Run `python -m sidegears ARGS`, yield it with the websocket address it prints, then terminate it."""
    with stderr_file.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sidegears", *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
        )
        try:
            url = await asyncio.wait_for(read_websocket_url(process), STARTUP_TIMEOUT)
            yield process, url
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()


async def read_websocket_url(process: asyncio.subprocess.Process) -> str:
    """Read the process's output until the line with the websocket address; fail if it exits first."""
    assert process.stdout is not None
    seen: list[str] = []
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            pytest.fail(f"sidegears exited before printing its address; output: {''.join(seen)!r}")
        seen.append(line)
        match = WEBSOCKET_LINE.search(line)
        if match:
            return match.group(1)


def test_help_lists_the_commands() -> None:
    """`python -m sidegears --help` exits 0 and names every command."""
    result = subprocess.run(
        [sys.executable, "-m", "sidegears", "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    for command in ("demo", "run", "version"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), result.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`sidegears version` prints the package version."""
    assert main(["version"]) == 0
    assert capsys.readouterr().out == f"sidegears {sidegears.__version__}\n"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`sidegears` alone prints the help instead of failing."""
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_run_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`sidegears run` on a missing file exits 2 and says which file."""
    assert main(["run", str(tmp_path / "nope.py")]) == 2
    assert "nope.py" in capsys.readouterr().err


def test_run_without_a_path_shows_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """`sidegears run` alone exits 2 with a usage line that calls only the path required."""
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "usage: sidegears run [--reload] [--dev-server URL] path/to/app.py [ARGS...]" in err
    assert "required" not in err


def test_run_a_file_that_starts_no_kernel(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An app file that never starts a kernel exits 1 and says so, with what to add."""
    # `run` sets what a script run would: restore it after the test.
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv(RUN_ENV_VAR, "{}")
    script = tmp_path / "not_an_app.py"
    script.write_text("print('hello')\n")
    assert main(["run", str(script)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "hello\n"
    assert f"{script} started no kernel" in captured.err and "run_app(create_kernel)" in captured.err


async def test_demo_serves_until_terminated(tmp_path: Path) -> None:
    """`python -m sidegears demo --no-browser --port 0` prints its address, serves the demo, and stops cleanly on SIGTERM."""
    async with sidegears_process("demo", "--no-browser", "--port", "0", stderr_file=tmp_path / "stderr") as (
        process,
        url,
    ):
        assert url.startswith("ws://127.0.0.1:")
        async with RPCTestClient.connect(url) as rpc:
            assert (await rpc.call("folder.list", [str(tmp_path)]))["path"] == str(tmp_path)
        process.terminate()
        returncode = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    if sys.platform != "win32":  # there terminate() kills outright
        assert returncode == 0, (tmp_path / "stderr").read_text()


async def test_run_an_app_file(tmp_path: Path) -> None:
    """`python -m sidegears run path/to/app.py --no-browser --port 0` serves that app's methods."""
    app = EXAMPLES / "notifications" / "app.py"
    async with sidegears_process("run", str(app), "--no-browser", "--port", "0", stderr_file=tmp_path / "stderr") as (
        _,
        url,
    ):
        async with RPCTestClient.connect(url) as rpc:
            assert await rpc.call("long_task", {"steps": 2, "delay": 0}) == {"done": 2}


async def test_demo_without_the_browser_plugin_still_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the browser plugin blocked, `sidegears demo` says no window opened and serves its page's address."""
    monkeypatch.setenv("SIDEGEARS_BLOCK_PLUGINS", "browser")
    async with sidegears_process("demo", "--port", "0", stderr_file=tmp_path / "stderr") as (process, url):
        async with RPCTestClient.connect(url) as rpc:
            assert (await rpc.call("monitor.info"))["interval"] == 1.0
        assert process.stdout is not None
        rest = (await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)).decode()
        assert "No window opened" in rest


def test_help_names_every_example() -> None:
    """`sidegears --help` names each bundled example, and `sidegears demo --help` says what each is."""
    for args in (["--help"], ["demo", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "sidegears", *args], check=False, capture_output=True, text=True, timeout=STARTUP_TIMEOUT
        )
        assert result.returncode == 0, result.stderr
        for name in examples.EXAMPLES:
            assert re.search(rf"\b{name}\b", result.stdout), (name, result.stdout)
    for name, summary in examples.EXAMPLES.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(summary)}$", result.stdout, re.MULTILINE), result.stdout


def test_demo_list(capsys: pytest.CaptureFixture[str]) -> None:
    """`sidegears demo --list` prints one line per bundled example, its name first, and marks the default."""
    assert main(["demo", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["demo", "notifications", "client", "vue"]
    assert lines[0].endswith("(default)") and not any(line.endswith("(default)") for line in lines[1:])


def test_demo_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown example name exits 2 and lists the names there are."""
    with pytest.raises(SystemExit) as info:
        main(["demo", "nope"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nope'" in err and all(repr(name) in err for name in examples.EXAMPLES)


# One method of each bundled example, and its answer: proof that `demo NAME` serves that app.
EXAMPLE_CALLS = {
    "notifications": ("long_task", {"steps": 1, "delay": 0}, {"done": 1}),
    "client": ("math.add", [1.5, 2], 3.5),
    "vue": ("multiply", [6, 7], 42),
}


@pytest.mark.parametrize("name", list(EXAMPLE_CALLS))
async def test_demo_runs_the_named_example(name: str, tmp_path: Path) -> None:
    """`python -m sidegears demo NAME --no-browser --port 0` serves that example (client and vue from examples/)."""
    method, params, result = EXAMPLE_CALLS[name]
    async with sidegears_process("demo", name, "--no-browser", "--port", "0", stderr_file=tmp_path / "stderr") as (
        _,
        url,
    ):
        async with RPCTestClient.connect(url) as rpc:
            assert await rpc.call(method, params) == result
