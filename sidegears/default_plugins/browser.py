"""Opening the app's window: ``launch(kernel)``, ``kernel.launch()`` and ``RPCKernel(launch=...)``.

The window shows the kernel's own page, ``kernel.http_url``: it carries the
per-launch token, which the kernel trades for a cookie (see the security
plugin), so the page and the websocket it opens need nothing else.

Which browser (``runtime``, else the ``SIDEGEARS_BROWSER`` environment
variable, else ``"app or browser"``):

* a `webruntime <https://webruntime.readthedocs.io>`_ runtime name, or
  several joined by ``or``: ``app`` (a window without browser chrome),
  ``browser`` (a tab), ``chrome-app``, ``chromium-app``, ``firefox-app``,
  ``nw-app``, ``chrome-browser``, ``firefox-browser``, ``edge-browser``,
  ``default-browser``, or ``NAME-browser`` for any browser Python's
  :mod:`webbrowser` knows. SideGears reads ``app`` as ``chrome-app or
  firefox-app or nw-app`` (webruntime puts Firefox first, but its XUL app
  mode is not supported by current Firefox releases; Chromium's ``--app``
  window is);
* an executable, given as a path (anything containing a path separator),
  started directly: a Chromium-family browser (Chrome, Chromium, Edge,
  Brave...) gets ``--app=URL`` and a fresh temporary profile, so the window
  is its own process that :meth:`Window.close` can end; a Firefox gets
  ``--new-window URL``;
* ``none``: open nothing, print the address.

With no display (Linux or BSD without ``$DISPLAY`` or ``$WAYLAND_DISPLAY``)
or no usable browser, nothing is opened: the reason and the address are
printed (to stderr) and logged, and :func:`launch` returns a
:class:`Window` whose ``opened`` is False. It raises only for invalid
arguments. An explicit executable is started even without a display (it
may be headless, or know its display better).

Closing the window of a kernel started with ``close_on_disconnect=True``
stops the kernel once no client came back within ``reconnect_grace``
seconds; a reload comes back in time. That part is the kernel's; this
plugin only opens (and, when the kernel stops, closes) the window.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import types
import webbrowser
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..hookspecs import hookimpl
from ..logs import protected_logger

if TYPE_CHECKING:
    from ..kernel import RPCKernel

__all__ = [
    "Browser",
    "DEFAULT_RUNTIME",
    "ENV_VAR",
    "HEADLESS_FLAGS",
    "Window",
    "expand_runtime",
    "find_chromium",
    "has_display",
    "launch",
    "page_url",
    "windows",
]

#: Environment variable choosing the browser when ``runtime`` is not given.
ENV_VAR = "SIDEGEARS_BROWSER"
#: The runtime used when neither ``runtime`` nor :data:`ENV_VAR` says otherwise.
DEFAULT_RUNTIME = "app or browser"
#: Values of ``runtime`` / :data:`ENV_VAR` that open nothing and print the address.
NO_WINDOW = frozenset({"none", "no", "off", "false", "0", "print"})
#: Flags ``headless=True`` adds for a Chromium-family browser (plus ``--no-sandbox`` as root).
HEADLESS_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# SideGears' reading of the webruntime aliases (see the module docstring for "app").
_ALIASES = {
    "app": "chrome-app or firefox-app or nw-app",
    "browser": "firefox-browser or chrome-browser or edge-browser or default-browser",
    "chrome-app": "googlechrome-app or chromium-app",
    "chrome-browser": "googlechrome-browser or chromium-browser",
}
# Old webruntime names without the -app / -browser suffix.
_COMPAT = {
    "xul": "firefox-app",
    "nw": "nw-app",
    "nwjs": "nw-app",
    "chromeapp": "chrome-app",
    "pyqt": "pyqt-app",
    "firefox": "firefox-browser",
    "chrome": "chrome-browser",
    "chromium": "chromium-browser",
}
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")

log = protected_logger("sidegears.browser")



class Window:
    """What :func:`launch` opened: a handle to close it, or the reason nothing was opened.

    ``url``: the address shown (or printed). ``runtime``: what opened it
    (``"chromium-app"``, ``"default-browser"``, ``"executable"``...), None
    if nothing was. ``process``: the browser process when SideGears started
    one it can end (an executable, an ``*-app`` runtime), else None (a tab
    in a running browser). ``message``: why nothing was opened, or None.
    """

    def __init__(
        self,
        url: str,
        runtime: str | None = None,
        process: subprocess.Popen[bytes] | None = None,
        message: str | None = None,
        *,
        closer: Any = None,
        own_group: bool = False,
        cleanup: Sequence[str] = (),
    ) -> None:
        self.url = url
        self.runtime = runtime
        self.process = process
        self.message = message
        self._closer = closer
        self._own_group = own_group
        self._cleanup = list(cleanup)
        self._lock = threading.Lock()
        self._closing = False

    @property
    def opened(self) -> bool:
        """True if a window or tab was opened."""
        return self.runtime is not None

    def is_running(self) -> bool:
        """True while the browser process SideGears started runs (False if there is none)."""
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the browser process ends; its exit status (None: no process, or timeout)."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self, timeout: float = 5.0) -> None:
        """Close the window: end the browser process (and its children), then remove its temporary profile.

        A tab in a browser that was already running cannot be closed from
        here; then this does nothing. Safe to call twice.
        """
        with self._lock:
            self._closing = True
            process = self.process
            if process is not None:
                process.we_closed_it = True  # type: ignore[attr-defined]  # webruntime's log reads it
                # Gently first (webruntime's own close kills after 0.2 s, orphaning the browser's children).
                _terminate(process, self._own_group, timeout)
            if self._closer is not None:
                try:
                    self._closer()
                except Exception as exc:  # webruntime's close: best effort
                    log.debug("runtime close failed: %s", exc)
            self._remove_temporary_files()

    def process_ended(self, code: int) -> None:
        """The browser process ended with ``code``: log how (unless we closed it) and remove its temporary profile."""
        with self._lock:
            if self._closing:
                return
            assert self.process is not None
            if code:
                log.warning("browser process %s exited with status %s", self.process.pid, code)
            else:
                log.info("browser process %s exited", self.process.pid)
            self._remove_temporary_files()

    def _remove_temporary_files(self) -> None:
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)
        self._cleanup.clear()

    def __enter__(self) -> Window:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = urlsplit(self.url)._replace(query="", fragment="").geturl()  # no token in logs
        if not self.opened:
            return f"<Window not opened ({self.message}) {where}>"
        pid = f" pid={self.process.pid}" if self.process is not None else ""
        return f"<Window {self.runtime}{pid} {where}>"


def _terminate(process: subprocess.Popen[bytes], own_group: bool, timeout: float) -> None:
    """End the browser: SIGTERM (it closes its own children), wait, SIGKILL; then end stragglers of its group."""
    if process.poll() is not None:
        return  # it ended by itself (and closed its children); its group id may not be ours any more
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("browser process %s did not end", process.pid)
    if own_group and hasattr(os, "killpg"):
        try:  # the group made for it at start, a moment ago still led by it: only processes it started
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# -- choosing -------------------------------------------------------------------


def has_display() -> bool:
    """False on Linux/BSD without ``$DISPLAY`` or ``$WAYLAND_DISPLAY`` (no window can appear); True elsewhere."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _is_path(choice: str) -> bool:
    return os.sep in choice or (os.altsep is not None and os.altsep in choice) or choice.lower().endswith(".exe")


def expand_runtime(runtime: str) -> list[str]:
    """The runtime names ``runtime`` stands for, in order: ``"app or browser"`` -> ``["googlechrome-app", ...]``.

    Raises ValueError for a name that is neither ``*-app`` nor ``*-browser``.
    """
    for separator in (" or ", ",", "|"):
        runtime = runtime.replace(separator, " ")
    names: list[str] = []
    for name in runtime.split():
        lowered = name.lower()
        lowered = _COMPAT.get(lowered, lowered)
        expanded = expand_runtime(_ALIASES[lowered]) if lowered in _ALIASES else [lowered]
        for item in expanded:
            if not item.endswith(("-app", "-browser")) or item in ("-app", "-browser"):
                raise ValueError(
                    f"unknown browser runtime {item!r}: use 'app', 'browser', a webruntime name "
                    "ending in -app or -browser (e.g. 'chrome-app', 'firefox-browser'), "
                    "'none', or the path of an executable"
                )
            if item not in names:
                names.append(item)
    if not names:
        raise ValueError("empty browser runtime name")
    return names


def find_chromium() -> str | None:
    """The path of a Chrome / Chromium / Edge executable, or None."""
    for name in _CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    for path in _chromium_install_paths():
        if os.path.isfile(path):
            return path
    return None


def _chromium_install_paths() -> list[str]:
    """Where Chrome, Chromium and Edge install themselves on macOS and Windows (not on PATH there)."""
    if sys.platform == "darwin":
        return [
            f"{root}/Applications/{app}.app/Contents/MacOS/{app}"
            for root in ("", os.path.expanduser("~"))
            for app in ("Google Chrome", "Chromium", "Microsoft Edge")
        ]
    if os.name == "nt":
        roots = [os.environ.get(name) for name in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        programs = [r"Google\Chrome\Application\chrome.exe", r"Chromium\Application\chrome.exe",
                    r"Microsoft\Edge\Application\msedge.exe"]
        return [os.path.join(root, program) for root in roots if root for program in programs]
    return []


def page_url(kernel: RPCKernel | None, url: str | None = None, *, single_use: bool = True) -> str:
    """The address to open: ``url`` as given, a path (``"/settings.html"``) on the kernel's page, or its page.

    A path gets the kernel's address and a single-use launch code
    (``http://host:port/settings.html?launch=...``, see ``kernel.launch_url``):
    the token itself would be readable in the browser's command line. With
    ``single_use=False`` it carries the token (an address to print for the
    user, who may open it more than once).
    """
    if url is not None and not url.startswith("/"):
        return url
    if kernel is None:
        raise ValueError("launch() needs a kernel or a full url")
    base = kernel.launch_url() if single_use else kernel.http_url
    if base is None:
        raise RuntimeError("the kernel is not started: start it before launching its window")
    if url is None:
        return base
    scheme, netloc, _, base_query, _ = urlsplit(base)
    _, _, path, query, fragment = urlsplit(url)
    params = parse_qsl(query, keep_blank_values=True) + parse_qsl(base_query, keep_blank_values=True)
    return urlunsplit((scheme, netloc, path, urlencode(params), fragment))


# -- launching ------------------------------------------------------------------


def launch(
    kernel: RPCKernel | None = None,
    url: str | None = None,
    runtime: str | None = None,
    *,
    executable: str | os.PathLike[str] | None = None,
    args: Sequence[str] = (),
    headless: bool = False,
    profile_dir: str | os.PathLike[str] | bool | None = None,
    size: tuple[int, int] | None = None,
    **runtime_options: Any,
) -> Window:
    """Open ``url`` (default: the kernel's page, token included) in an app window or a browser; return a :class:`Window`.

    ``runtime``: a webruntime name (``"app"``, ``"browser"``,
    ``"chrome-app"``, ``"firefox-browser"``, ``"app or browser"``...), the
    path of an executable, or ``"none"``; default: ``$SIDEGEARS_BROWSER``,
    else ``"app or browser"``. With ``executable`` (a path), ``runtime`` only
    says ``"app"`` (default) or ``"browser"``. ``args``: extra command-line
    arguments for an executable. ``headless``: run a Chromium-family browser
    headless (found on the PATH if no executable is given; for tests and
    servers). ``profile_dir``: an executable Chromium's user data folder
    (None: a fresh temporary one, removed on close; False: the user's own
    profile). ``size``: the window's size in pixels. Other keyword options go
    to the webruntime runtime (``title``, ``icon``, ``pos``, ``windowmode``).

    Never raises because no browser or display is available: it prints the
    reason and the address, and returns a Window whose ``opened`` is False.
    Blocks while the browser is started (about a tenth of a second).
    """
    target = page_url(kernel, url)

    def shown() -> str:
        return page_url(kernel, url, single_use=False)

    choice = runtime if runtime is not None else (os.environ.get(ENV_VAR) or None)
    if choice is not None and not isinstance(choice, str):
        raise TypeError(f"runtime must be a string, not {type(choice).__name__}")
    if choice is not None and choice.strip().lower() in NO_WINDOW:
        return _not_opened(kernel, shown(), "no window requested" + (" (runtime)" if runtime else f" (${ENV_VAR})"))
    if executable is None and choice is not None and _is_path(choice):
        executable, choice = choice, None
    if headless and executable is None:
        executable = find_chromium()
        if executable is None:
            return _not_opened(kernel, shown(), "headless was asked for, but no Chrome or Chromium executable was found")
    if executable is not None:
        mode = "app"
        if choice is not None:
            if choice.strip().lower() not in ("app", "browser"):
                raise ValueError(f"with an executable, runtime must be 'app' or 'browser', not {choice!r}")
            mode = choice.strip().lower()
        window = _launch_executable(
            target, os.fspath(executable), mode, args=args, headless=headless, profile_dir=profile_dir, size=size
        )
    else:
        names = expand_runtime(choice or DEFAULT_RUNTIME)
        if not has_display():
            return _not_opened(kernel, shown(), "no display ($DISPLAY and $WAYLAND_DISPLAY are not set)")
        if size is not None:
            runtime_options["size"] = tuple(size)
        window = _launch_named(target, choice or DEFAULT_RUNTIME, names, runtime_options)
    if not window.opened:
        return _not_opened(kernel, shown(), window.message or "no browser could be started", window)
    log.info("window opened: %s", window.runtime)
    if kernel is not None:
        plugin = kernel.plugin_manager.get_plugin("browser")
        if isinstance(plugin, Browser):
            plugin.add_window(window)
    return window


def windows(kernel: RPCKernel) -> list[Window]:
    """The windows opened for ``kernel`` (by ``launch=``, ``kernel.launch()`` or :func:`launch`) and not yet closed by its stop."""
    plugin = kernel.plugin_manager.get_plugin("browser")
    return plugin.open_windows() if isinstance(plugin, Browser) else []


def _not_opened(kernel: RPCKernel | None, url: str, why: str, window: Window | None = None) -> Window:
    """Say clearly that no window was opened, and where the app is."""
    print(
        f"\nSideGears: no window was opened: {why}.\nOpen this address in a browser to use the app:\n\n    {url}\n",
        file=sys.stderr,
        flush=True,
    )
    logger = getattr(kernel, "log", None)
    if logger is not None:
        logger.warning("no window opened", why=why)
    else:
        log.warning("no window opened: %s", why)
    if window is None:
        window = Window(url, message=why)
    window.message = why
    return window


def _chromium_like(executable: str) -> bool:
    return "firefox" not in os.path.basename(executable).lower()


def _launch_executable(
    url: str,
    executable: str,
    mode: str,
    *,
    args: Sequence[str],
    headless: bool,
    profile_dir: str | os.PathLike[str] | bool | None,
    size: tuple[int, int] | None,
) -> Window:
    command = [executable, *args]
    cleanup: list[str] = []
    if _chromium_like(executable):
        profile: str | None
        if profile_dir is None or profile_dir is True:
            profile = tempfile.mkdtemp(prefix="sidegears-browser-")
            cleanup.append(profile)
        else:
            profile = None if profile_dir is False else os.fspath(profile_dir)
        if profile is not None:
            command += [f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check"]
        if headless:
            command += HEADLESS_FLAGS
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                command.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        if size is not None:
            command.append(f"--window-size={int(size[0])},{int(size[1])}")
        command += [f"--app={url}"] if mode == "app" else ["--new-window", url]
    else:  # Firefox: no app mode; a new window
        if headless:
            command.append("--headless")
        if size is not None:
            command += ["--width", str(int(size[0])), "--height", str(int(size[1]))]
        command += ["--new-window", url]
    quiet = not log.isEnabledFor(logging.DEBUG)
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if quiet else None,
            stderr=subprocess.DEVNULL if quiet else None,
            start_new_session=os.name == "posix",  # its own process group, so close() ends its children too
        )
    except OSError as exc:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        return Window(url, message=f"could not start {executable!r}: {exc.strerror or exc}")
    window = Window(url, "executable", process, own_group=os.name == "posix", cleanup=cleanup)
    threading.Thread(target=_watch, args=(window,), name="sidegears-browser-watch", daemon=True).start()
    return window


def _watch(window: Window) -> None:
    """When the browser ends by itself: log how, and remove its temporary profile."""
    assert window.process is not None
    window.process_ended(window.process.wait())


# webruntime's runtimes install SIGINT/SIGTERM handlers when created (replacing
# the app's Ctrl-C, and failing outside the main thread): give its module a
# `signal` whose `signal()` does nothing. Its atexit close is kept.
_quiet_signal = types.SimpleNamespace(SIGINT=signal.SIGINT, SIGTERM=signal.SIGTERM, signal=lambda *args: None)


def _webruntime() -> Any:
    webruntime = importlib.import_module("webruntime")  # untyped: imported lazily, it creates ~/.webruntime
    setattr(importlib.import_module("webruntime._common"), "signal", _quiet_signal)  # noqa: B010
    return webruntime


def _runtime_classes(webruntime: Any) -> dict[str, Any]:
    """webruntime's runtime classes by the names its runtime strings use (its own table is private)."""
    names = {
        "firefox": "FirefoxRuntime", "nw": "NWRuntime", "pyqt": "PyQtRuntime", "chrome": "ChromeRuntime",
        "googlechrome": "GoogleChromeRuntime", "chromium": "ChromiumRuntime", "edge": "EdgeRuntime",
        "ie": "IERuntime", "browser": "BrowserRuntime",
    }
    return {name: getattr(webruntime, cls) for name, cls in names.items() if hasattr(webruntime, cls)}


def _launch_named(url: str, given: str, names: list[str], options: dict[str, Any]) -> Window:
    errors: list[str] = []
    for name in names:
        try:
            window = _try_runtime(url, name, options)
        except Exception as exc:
            log.debug("runtime %s failed", name, exc_info=True)
            errors.append(f"{name}: {exc}")
            continue
        if window is not None:
            return window
    why = f"no browser found for {given!r} (tried {', '.join(names)})"
    if errors:
        why += "; errors: " + "; ".join(errors)
    return Window(url, message=why)


def _try_runtime(url: str, name: str, options: dict[str, Any]) -> Window | None:
    """Open ``url`` with one runtime name; None if that runtime is not available here."""
    base, _, kind = name.rpartition("-")
    try:
        runtimes = _runtime_classes(_webruntime())
    except ImportError:
        runtimes = {}
    runtime_class = runtimes.get(base) if base != "browser" else None
    if kind == "app":
        if runtime_class is None:
            return None
        rt = runtime_class(**options)
        if not rt.is_available():
            return None
        rt.launch_app(url)
        return Window(url, name, rt._proc, closer=rt.close)
    # A tab: webruntime for the browsers it knows (it finds them better than
    # webbrowser does), then Python's webbrowser (the system default, or any name it knows).
    if runtime_class is not None:
        rt = runtime_class(**options)
        if rt.is_available():
            rt.launch_tab(url)
            return Window(url, name)
    if base == "default":
        opened = webbrowser.open(url, new=1)
    else:
        try:
            opened = webbrowser.get(base).open(url, new=1)
        except webbrowser.Error:
            return None
    return Window(url, name) if opened else None


# -- the kernel's side ---------------------------------------------------------


def _launch_option(kernel: RPCKernel) -> dict[str, Any] | None:
    """``RPCKernel(launch=...)`` as keyword arguments for :func:`launch`, or None (no window)."""
    option = kernel.options["launch"]
    if option is None or option is False:
        return None
    if option is True:
        return {}
    if isinstance(option, (str, os.PathLike)):
        return {"runtime": os.fspath(option)}
    if isinstance(option, dict):
        return dict(option)
    raise TypeError(f"RPCKernel(launch=...) takes True, a runtime name, an executable path or a dict, not {option!r}")


class Browser:
    """The bundled ``browser`` plugin of one kernel: ``launch=``, ``kernel.launch()``, and closing its windows at stop."""

    def __init__(self) -> None:
        self._windows: list[Window] = []
        self._lock = threading.Lock()  # windows open from any thread

    def add_window(self, window: Window) -> None:
        """Track a window opened for this kernel, to close it when the kernel stops."""
        with self._lock:
            self._windows.append(window)

    def open_windows(self) -> list[Window]:
        """The windows opened for this kernel and not yet closed by its stop."""
        with self._lock:
            return list(self._windows)

    @hookimpl
    def register_options(self, register: Any) -> None:
        register("launch", None, "open the UI at start: True, a runtime name, an executable path, or launch() arguments")

    @hookimpl
    async def on_startup(self, kernel: RPCKernel) -> None:
        options = _launch_option(kernel)
        if options is not None:
            await asyncio.to_thread(launch, kernel, **options)

    @hookimpl
    async def on_shutdown(self) -> None:
        with self._lock:
            windows, self._windows = self._windows, []
        if windows:
            await asyncio.gather(*(asyncio.to_thread(window.close) for window in windows))

    @hookimpl
    def launch_window(self, kernel: RPCKernel, url: str | None, runtime: str | None, options: dict[str, Any]) -> Window:
        return launch(kernel, url, runtime, **options)
