"""``sidegears build``: real PyInstaller builds, run as a user runs them, checked in headless Chromium.

Built once per module (PyInstaller takes tens of seconds per app):

* the bundled demo (whatever ``sidegears demo`` runs: its ``app.py``), as an
  app folder, with ``--exclude-plugin files``;
* a small app of this test's own, using a notification and the really
  installed example plugin (``plugins/sidegears-plugin-files``), as one file;
* the same app frozen by plain ``pyinstaller`` (SideGears' hooks found
  through the ``pyinstaller40`` entry point), which must work the same.

Each executable runs with an environment of its own: no Python on ``PATH``
(an empty folder is all of it), no display, no ``PYTHONPATH``; it must print
its address, serve a page that works (a call, a notification, the plugin's
method), refuse a foreign Origin, and load no Python from outside itself.
With a display (a fake one, and Chromium headless behind webruntime) it
opens its window, and exits once the window is closed.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

import sidegears
import sidegears.examples.demo.app as demo_app
from sidegears.build import size_on_disk

pytestmark = [pytest.mark.long, pytest.mark.timeout(600)]

CHROMIUM = os.environ.get("SIDEGEARS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
PAGE_LINE = re.compile(r"page:\s+(http://\S+)")
WEBSOCKET_LINE = re.compile(r"websocket:\s+(ws://\S+)")
BUILD_TIMEOUT = 300  # one PyInstaller run, on a slow 2-core CI machine
START_TIMEOUT = 30.0  # a one-file app unpacks itself before it starts
STOP_TIMEOUT = 15.0  # the reconnect grace (3 s) and the kernel's stop, with room
METHOD_NOT_FOUND = -32601
#: Test-only and build-only packages, installed here, that no built app may contain.
NOT_IN_AN_APP = ("pytest", "_pytest", "hypothesis", "playwright", "greenlet", "mypy", "PyInstaller", "pip")

# The test's own app: a call (multiply), a notification (ping sends pong), the files
# plugin's files.list over the UI folder, and where() telling whether it runs frozen.
APP = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from sidegears import RPCKernel, hookimpl
    from sidegears.cli import run_app

    UI = Path(__file__).resolve().parent / "ui"


    class BuiltApp:
        @hookimpl
        def register_methods(self, kernel, register):
            def multiply(a, b):
                return a * b

            async def ping(text):
                kernel.send_notification("pong", {"text": text})
                return "sent"

            def where():
                return {"frozen": bool(getattr(sys, "frozen", False)), "executable": sys.executable}

            def loaded():
                print("page loaded", flush=True)  # the window test waits for this line
                return True

            register(multiply)
            register(ping)
            register(where)
            register(loaded)


    def create_kernel(**options):
        kernel = RPCKernel(static_dir=str(UI), files_root=str(UI), **options)
        kernel.register_plugin(BuiltApp(), name="built_app")
        return kernel


    if __name__ == "__main__":
        sys.exit(run_app(create_kernel))
    """
)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>built app</title><script src="/sidegears.js"></script></head>
<body><pre id="out">working</pre><script>
window.results = (async () => {
  await sidegears.connect();
  const pong = new Promise(resolve => sidegears.onNotify((method, params) => { if (method === 'pong') resolve(params); }));
  const got = {};
  got.product = await sidegears.requester.multiply(6, 7);
  got.sent = await sidegears.requester.ping('hello');
  got.pong = await pong;
  got.files = (await sidegears.requester.files.list('.')).entries.map(entry => entry.name);
  got.where = await sidegears.requester.where();
  await sidegears.requester.loaded();
  document.getElementById('out').textContent = JSON.stringify(got);
  return got;
})();
</script></body></html>
"""

# A call any kernel answers, whatever the demo's methods are: an unknown method is -32601.
GENERIC_CALL = """async () => {
  const client = sidegears.createClient();
  await client.connect();
  try { await client.sendRequest('build_test.no_such_method'); return 'answered'; }
  catch (error) { return error.code; }
  finally { await client.disconnect(); }
}"""


@dataclass
class Built:
    executable: Path
    seconds: float
    size: int
    output: str = field(repr=False)


def sidegears_build(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidegears", "build", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def build_ok(*args: str, cwd: Path, executable: Path, measure: Path) -> Built:
    started = time.monotonic()
    result = sidegears_build(*args, cwd=cwd)
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    assert executable.is_file() and os.access(executable, os.X_OK), result.stdout
    built = Built(executable, seconds, size_on_disk(measure), result.stdout + result.stderr)
    print(f"\nbuilt {executable.name} in {seconds:.1f} s, {built.size / 1e6:.1f} MB")
    return built


def write_app(folder: Path) -> Path:
    (folder / "ui").mkdir(parents=True)
    (folder / "ui" / "index.html").write_text(PAGE, encoding="utf-8")
    app = folder / "app.py"
    app.write_text(APP, encoding="utf-8")
    return app


@pytest.fixture(scope="module")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="module")
def built_demo(build_root: Path) -> Built:
    """The demo app, as an app folder, without the files plugin."""
    folder = build_root / "demo"
    folder.mkdir()
    return build_ok(
        "--exclude-plugin", "files", demo_app.__file__,
        cwd=folder, executable=folder / "dist" / "demo" / "demo", measure=folder / "dist" / "demo",
    )  # fmt: skip


@pytest.fixture(scope="module")
def built_plugin_app(build_root: Path) -> Built:
    """The test's app, as one file, named by --name."""
    folder = build_root / "plugin-app"
    app = write_app(folder)
    return build_ok(
        "--onefile", "--name", "filesapp", str(app),
        cwd=folder, executable=folder / "dist" / "filesapp", measure=folder / "dist" / "filesapp",
    )  # fmt: skip


@pytest.fixture
def bare_environment(tmp_path: Path) -> dict[str, str]:
    """What the executable gets: a home, a PATH with nothing on it (no Python, no browser), no display."""
    (tmp_path / "empty-bin").mkdir()
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "PATH": str(tmp_path / "empty-bin"), "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}


class RunningApp:
    """A built executable, running; its output (stdout and stderr) is read by a thread, line by line."""

    def __init__(self, executable: Path, env: dict[str, str], cwd: Path) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(executable)], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.page_url = self.read_until(PAGE_LINE).group(1)
        self.ws_url = self.read_until(WEBSOCKET_LINE).group(1)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def read_until(self, pattern: re.Pattern[str], timeout: float = START_TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line matching {pattern.pattern!r} within {timeout} s; output: {''.join(self.lines)}")
            if line is None:
                pytest.fail(f"the app exited (status {self.process.wait()}); its output: {''.join(self.lines)}")
            self.lines.append(line)
            match = pattern.search(line)
            if match:
                return match

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def python_files_mapped(self) -> list[str]:
        """The Python files (libpython, extension modules) the app's processes have mapped."""
        mapped: set[str] = set()
        for pid in _process_tree(self.process.pid):
            try:
                with open(f"/proc/{pid}/maps") as maps:
                    mapped.update(line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6)
            except FileNotFoundError:
                continue
        return sorted(path for path in mapped if "python" in path.lower() or path.endswith(".so") and "/lib-dynload/" in path)


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a one-file app runs the real app in a child process)."""
    pids, index = [pid], 0
    while index < len(pids):
        try:
            with open(f"/proc/{pids[index]}/task/{pids[index]}/children") as children:
                pids += [int(child) for child in children.read().split()]
        except FileNotFoundError:
            pass
        index += 1
    return pids


@pytest.fixture
def run_app(bare_environment: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    apps: list[RunningApp] = []

    def run(executable: Path, **env: str) -> RunningApp:
        app = RunningApp(executable, {**bare_environment, **env}, tmp_path)
        apps.append(app)
        return app

    yield run
    for app in apps:
        app.stop()


async def open_in_chromium(url: str, script: str) -> tuple[int, Any]:
    """Open ``url`` in headless Chromium; return the page's status and the value of ``script`` evaluated there."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (set SIDEGEARS_CHROMIUM)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            response = await page.goto(url, timeout=20_000)
            assert response is not None
            value = await page.evaluate(script)
            assert not errors, errors
            return response.status, value
        finally:
            await browser.close()


async def assert_foreign_origin_refused(ws_url: str) -> None:
    """A page of another origin gets 403, even with the token; the kernel's own origin connects."""
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    own = re.match(r"ws://([^/]+)", ws_url)
    assert own is not None
    async with connect(ws_url, origin=f"http://{own.group(1)}") as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "no_such_method", "id": 1}))
        assert json.loads(await ws.recv())["error"]["code"] == METHOD_NOT_FOUND


def assert_self_contained(app: RunningApp, bundle: Path | None) -> None:
    """No Python file mapped from this interpreter, its venv or the system; libpython is the bundle's own."""
    mapped = app.python_files_mapped()
    assert any("libpython" in path for path in mapped), mapped
    outside = [path for path in mapped if path.startswith((sys.prefix, sys.base_prefix, "/usr/lib/python", "/usr/local/lib/python"))]
    assert not outside, outside
    if bundle is not None:
        assert all(path.startswith(str(bundle)) for path in mapped if "libpython" in path), mapped


def bundled_names(executable: Path) -> set[str]:
    """The top-level names of everything in a built app: the modules in its archive, and its files."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(executable))
    names = set(archive.toc)
    for name in list(names):
        if name.endswith(".pyz"):
            names |= set(archive.open_embedded_archive(name).toc)
    internal = executable.parent / "_internal"  # an app folder's files; a one-file app has them in its archive
    if internal.is_dir():
        names |= {path.relative_to(internal).as_posix() for path in internal.rglob("*")}
    return {re.split(r"[./]", name)[0] for name in names}


def assert_lean(executable: Path) -> None:
    names = bundled_names(executable)
    assert "sidegears" in names and "websockets" in names
    assert not names & set(NOT_IN_AN_APP), sorted(names & set(NOT_IN_AN_APP))


# -- the demo ------------------------------------------------------------------------------------


async def test_demo_app_folder_runs_without_python_and_serves_its_page(built_demo: Built, run_app: Any) -> None:
    folder = built_demo.executable.parent
    assert (folder / "_internal" / "sidegears" / "static" / "sidegears.js").is_file()
    # --exclude-plugin files: neither its code nor its metadata went in.
    assert not list(folder.rglob("sidegears_plugin_files*"))
    assert_lean(built_demo.executable)

    app = run_app(built_demo.executable)
    # Start time, as benchmarks/README.md measures it: from exec to the page served (token traded for the cookie).
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(app.page_url, timeout=START_TIMEOUT) as response:
        assert response.status == 200 and b"<html" in response.read().lower()
    print(f"\ndemo folder app: page served {time.monotonic() - app.started:.2f} s after start")
    app.read_until(re.compile(r"no window was opened: no display"))
    status, answer = await open_in_chromium(app.page_url, GENERIC_CALL)
    assert status == 200
    assert answer == METHOD_NOT_FOUND  # the page's client connected (cookie) and the kernel dispatched a call
    await assert_foreign_origin_refused(app.ws_url)
    assert_self_contained(app, folder)


# -- an app with a third-party plugin ---------------------------------------------------------------


async def test_one_file_app_with_the_files_plugin_works_in_chromium(built_plugin_app: Built, run_app: Any) -> None:
    assert_lean(built_plugin_app.executable)
    assert "sidegears_plugin_files" in bundled_names(built_plugin_app.executable)
    app = run_app(built_plugin_app.executable)
    status, got = await open_in_chromium(app.page_url, "window.results")
    assert status == 200
    assert got["product"] == 42  # a call
    assert got["sent"] == "sent" and got["pong"] == {"text": "hello"}  # a notification
    assert "index.html" in got["files"]  # the plugin's method, over the bundled UI folder
    assert got["where"] == {"frozen": True, "executable": str(built_plugin_app.executable)}
    await assert_foreign_origin_refused(app.ws_url)
    assert_self_contained(app, None)


def test_a_restarted_one_file_app_keeps_its_address(built_plugin_app: Built, run_app: Any) -> None:
    """The kept secret is keyed by the executable: a one-file app unpacks into a new folder at every start."""
    first = run_app(built_plugin_app.executable)
    first_page = first.page_url
    first.stop()
    second = run_app(built_plugin_app.executable)
    assert second.page_url.split("?", 1)[1] == first_page.split("?", 1)[1]  # the same token: open pages reconnect


async def test_window_opens_and_closing_it_ends_the_app(built_plugin_app: Built, run_app: Any, tmp_path: Path) -> None:
    """With a display, the frozen app opens its window through webruntime; closing it ends the app after the grace."""
    pid_file = tmp_path / "chromium.pid"
    wrapper = tmp_path / "headless-chromium"
    # webruntime starts this as the Chrome it found; the app's own PATH is empty, Chromium's wrapper needs one.
    wrapper.write_text(
        "#!/bin/sh\n"
        "export PATH=/usr/bin:/bin\n"
        f'echo $$ > "{pid_file}"\n'
        f'exec "{CHROMIUM}" --headless {" ".join(CHROMIUM_ARGS)} --user-data-dir="{tmp_path / "profile"}" "$@"\n'
    )
    wrapper.chmod(0o755)
    app = run_app(built_plugin_app.executable, DISPLAY=":99", WEBRUNTIME_CHROME_EXE=str(wrapper))
    app.read_until(re.compile(r"^page loaded$"))  # the window's page ran its calls
    browser_pid = int(pid_file.read_text())
    os.kill(browser_pid, signal.SIGTERM)
    started = time.monotonic()
    assert app.process.wait(STOP_TIMEOUT) == 0
    # close_on_disconnect with the reconnect grace (3 s): not at once, and not much later.
    assert 2.0 < time.monotonic() - started < STOP_TIMEOUT, app.lines


# -- plain PyInstaller, through the pyinstaller40 entry point -----------------------------------------


def test_hooks_are_registered_for_pyinstaller() -> None:
    [ep] = [ep for ep in entry_points(group="pyinstaller40") if ep.value.startswith("sidegears.")]
    assert ep.name == "hook-dirs"
    (folder,) = ep.load()()
    assert (Path(folder) / "hook-sidegears.py").is_file()


async def test_plain_pyinstaller_gives_the_same_app(build_root: Path, run_app: Any) -> None:
    folder = build_root / "plain"
    app_file = write_app(folder)
    result = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--add-data", f"ui{os.pathsep}ui", app_file.name],
        cwd=folder, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    executable = folder / "dist" / "app" / "app"
    assert list((executable.parent / "_internal").glob("sidegears_plugin_files-*.dist-info"))
    assert_lean(executable)  # SideGears' hooks keep test tools out here too
    app = run_app(executable)
    status, got = await open_in_chromium(app.page_url, "window.results")
    assert status == 200 and got["product"] == 42 and got["pong"] == {"text": "hello"} and "index.html" in got["files"]


# -- errors ------------------------------------------------------------------------------------------


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sidegears build: "), lines
    return lines[0]


def test_an_app_file_that_starts_no_kernel_is_one_line(tmp_path: Path) -> None:
    script = tmp_path / "tool.py"
    script.write_text("from sidegears import RPCKernel\nkernel = RPCKernel()\nprint('made, never started')\n")
    line = one_error_line(sidegears_build(str(script), cwd=tmp_path))
    assert "tool.py starts no kernel" in line and "run_app(create_kernel)" in line
    assert not (tmp_path / "dist").exists()


def test_a_missing_ui_folder_is_one_line(tmp_path: Path) -> None:
    app = write_app(tmp_path)
    shutil.rmtree(tmp_path / "ui")
    line = one_error_line(sidegears_build(str(app), cwd=tmp_path))
    assert str(tmp_path / "ui") in line and "does not exist" in line and "--add-data" in line
    line = one_error_line(sidegears_build("--add-data", "nowhere", str(app), cwd=tmp_path))
    assert "--add-data: no such file or folder: nowhere" in line


def test_an_unknown_excluded_plugin_is_one_line(tmp_path: Path) -> None:
    app = write_app(tmp_path)
    line = one_error_line(sidegears_build("--exclude-plugin", "nosuch", str(app), cwd=tmp_path))
    assert "nosuch" in line and "files" in line  # names what is installed


def test_missing_pyinstaller_is_one_line(tmp_path: Path) -> None:
    """An interpreter that really lacks PyInstaller: this one's packages, PyInstaller's left out, without site."""
    packages = tmp_path / "site-packages"
    packages.mkdir()
    (packages / "sidegears").symlink_to(Path(sidegears.__file__).resolve().parent)
    for folder in {Path(p) for p in sys.path if p.endswith("site-packages")}:
        for entry in folder.iterdir():
            if not entry.name.lower().startswith("pyinstaller") and not (packages / entry.name).exists():
                (packages / entry.name).symlink_to(entry)
    app = write_app(tmp_path / "app")
    result = subprocess.run(
        [sys.executable, "-S", "-m", "sidegears", "build", str(app)],
        env={**os.environ, "PYTHONPATH": str(packages)},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    line = one_error_line(result)
    assert line == "sidegears build: PyInstaller is not installed: pip install 'sidegears[build]'"
