"""The ``sidegears`` command, and :func:`run_app`, the start-show-wait loop every app script can reuse.

::

    sidegears demo [NAME] [--list] [--port N] [--host H] [--no-browser]
                                                            run a bundled example app (default: the demo)
    sidegears run [--reload] [--dev-server URL] path/to/app.py [ARGS...]
                                                            run an app file, as `python app.py ARGS` would
    sidegears types (path/to/app.py | --url URL) [-o FILE]  write TypeScript declarations of the app's kernel
    sidegears build [--onefile] [--name NAME] ... path/to/app.py [-- PYINSTALLER_ARGS...]
                                                            make a self-contained executable (sidegears[build])
    sidegears version                                       print the version

An app script ends with::

    if __name__ == "__main__":
        sys.exit(run_app(create_kernel))

where ``create_kernel(**options)`` returns an :class:`RPCKernel` (not started).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import signal
import sys
import threading
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from . import __version__
from .errors import PortInUseError
from .kernel import RPCKernel, kernels_started

__all__ = ["main", "run_app", "serve", "add_serve_arguments", "RunSettings", "dev_server_origin"]

KernelFactory = Callable[..., RPCKernel]

#: The environment variable through which ``sidegears run`` passes :class:`RunSettings` to the app (JSON).
RUN_ENV_VAR = "SIDEGEARS_RUN"


@dataclass
class RunSettings:
    """What ``sidegears run`` asks of the app's :func:`serve`.

    They travel in the environment, because under ``--reload`` the app runs
    in a child process.
    """

    #: Under ``--reload``: the port of every run, so that the open page finds the next run.
    port: int | None = None
    #: An origin (``http://localhost:5173``) whose pages may connect: a dev server serving the UI.
    dev_server: str | None = None
    #: A ``--reload`` restart: the page of the first run is open already, so no window opens.
    restarted: bool = False

    @classmethod
    def from_environment(cls, environ: MutableMapping[str, str] = os.environ) -> RunSettings:
        try:
            values = json.loads(environ.get(RUN_ENV_VAR) or "{}")
            return cls(**values)
        except (ValueError, TypeError):
            return cls()

    def export(self, environ: MutableMapping[str, str] = os.environ) -> None:
        environ[RUN_ENV_VAR] = json.dumps(asdict(self))


def dev_server_origin(url: str) -> str:
    """The origin of a dev server's URL (``http://localhost:5173/`` -> ``http://localhost:5173``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"--dev-server wants an origin such as http://localhost:5173, not {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sidegears`` command with ``argv`` (default: the process's arguments); return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sidegears",
        description="SideGears: desktop apps with an HTML UI and a Python kernel, talking JSON-RPC 2.0 over a websocket.",
    )
    parser.add_argument("--version", action="version", version=f"sidegears {__version__}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    from .examples import DEFAULT, EXAMPLES  # names only: no example app is imported until one runs

    demo = commands.add_parser(
        "demo",
        help=f"run a bundled example app and open its window: {', '.join(EXAMPLES)} (default: {DEFAULT})",
        description=_demo.__doc__,
        epilog="examples:\n" + "\n".join(f"  {name:<15} {summary}" for name, summary in EXAMPLES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "name", nargs="?", default=DEFAULT, choices=list(EXAMPLES), metavar="NAME", help="the example to run"
    )
    demo.add_argument("--list", action="store_true", help="list the bundled examples and exit")
    add_serve_arguments(demo)
    demo.set_defaults(command="demo", handler=_demo)

    run = commands.add_parser("run", help="run an app file (a Python script)", description=_run.__doc__)
    run.add_argument(
        "--reload",
        action="store_true",
        help="restart the app when a Python file in its folder changes; the open page reconnects by itself",
    )
    run.add_argument(
        "--dev-server",
        metavar="URL",
        help="the origin of a dev server serving the UI (e.g. http://localhost:5173): "
        "the kernel allows its pages, and prints the dev page's address with the credential",
    )
    # Optional here so that a missing path gets a usage line of ours: argparse would call ARGS required too.
    run.add_argument("path", type=Path, nargs="?", help="the app's Python file, e.g. app.py")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the app, e.g. --port 8000 --no-browser")
    run.set_defaults(command="run", handler=_run)

    from .typescript import add_types_command  # stdlib imports only, until the command runs

    add_types_command(commands)

    from .build import add_build_command  # PyInstaller is imported only by the build it runs

    add_build_command(commands)

    version = commands.add_parser("version", help="print the SideGears version", description=_version.__doc__)
    version.set_defaults(command="version", handler=_version)
    return parser


def _demo(args: argparse.Namespace) -> int:
    """Run a bundled example app (by default the demo) until its window closes or Ctrl-C."""
    from . import examples

    if args.list:
        for name, summary in examples.EXAMPLES.items():
            default = " (default)" if name == examples.DEFAULT else ""
            print(f"{name:<15} {summary}{default}")
        return 0
    try:
        app = examples.load(args.name)
    except FileNotFoundError as exc:
        print(f"sidegears demo: {exc}", file=sys.stderr)
        return 2
    return serve(app.create_kernel, host=args.host, port=args.port, open_window=not args.no_browser)


def _run(args: argparse.Namespace) -> int:
    """Run an app file as `python path/to/app.py ARGS` would, with the file's folder first on sys.path.

    ``--reload`` and ``--dev-server`` apply to apps that serve themselves
    with :func:`run_app` or :func:`serve`, as the bundled examples do.
    """
    path: Path | None = args.path
    if path is None:
        print("usage: sidegears run [--reload] [--dev-server URL] path/to/app.py [ARGS...]", file=sys.stderr)
        print("sidegears run: give the app's Python file, e.g. sidegears run app.py", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"sidegears run: no such file: {path}", file=sys.stderr)
        return 2
    settings = RunSettings.from_environment()
    if args.dev_server:
        try:
            settings.dev_server = dev_server_origin(args.dev_server)
        except ValueError as exc:
            print(f"sidegears run: {exc}", file=sys.stderr)
            return 2
    if args.reload:
        from .reloader import run_reloading

        with _sigterm_as_keyboard_interrupt():
            return run_reloading(path, args.args, settings)
    settings.export()
    sys.argv = [str(path), *args.args]
    sys.path.insert(0, str(path.resolve().parent))
    before = kernels_started()
    try:
        runpy.run_path(str(path), run_name="__main__")
    except PortInUseError as exc:  # from an app that starts its kernel itself
        print(f"sidegears run: {exc}", file=sys.stderr)
        return 1
    if kernels_started() == before:
        print(
            f"sidegears run: {path} started no kernel. An app file starts one when run as a script: "
            "end it with `if __name__ == \"__main__\": sys.exit(run_app(create_kernel))`, or call kernel.start()",
            file=sys.stderr,
        )
        return 1
    return 0


def _version(args: argparse.Namespace) -> int:
    """Print the SideGears version."""
    print(f"sidegears {__version__}")
    return 0


# -- serving an app -----------------------------------------------------------------------


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--host``, ``--port`` and ``--no-browser`` to an app's argument parser."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: 0, any free port)")
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a window: print the address and serve until Ctrl-C",
    )


def run_app(create_kernel: KernelFactory, argv: Sequence[str] | None = None, *, description: str | None = None) -> int:
    """Parse ``--host``/``--port``/``--no-browser`` from ``argv``, then :func:`serve` the app; return the exit status."""
    parser = argparse.ArgumentParser(description=description)
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    return serve(create_kernel, host=args.host, port=args.port, open_window=not args.no_browser)


def serve(
    create_kernel: KernelFactory,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    open_window: bool = True,
    app_id: str | None = None,
) -> int:
    """Start the kernel ``create_kernel(**options)`` returns, show the app, and serve until it stops.

    With ``open_window``, the browser plugin opens the app's window
    (``kernel.launch()``) and the kernel stops once the window is closed.
    Without it, or when no window can open (no browser plugin, no display,
    no browser), the addresses are printed and the kernel serves until
    Ctrl-C (or SIGTERM). ``app_id`` keys the secret kept across runs (see
    :class:`RPCKernel`); by default it is the app's script or module, so a
    re-run of the same app lets its open page reconnect. What ``sidegears
    run`` asked (:class:`RunSettings`) applies on top. Returns the exit status.
    """
    run = RunSettings.from_environment()
    if port == 0 and run.port:
        port = run.port
    if run.restarted or run.dev_server:
        open_window = False  # the page is open already, or it is the dev server's
    options: dict[str, Any] = {"app_id": app_id or _app_id(create_kernel)}
    if not open_window:
        # Without a window the browser plugin has nothing to do: block it so that nothing can open one.
        options["block_plugins"] = ["browser"]
    if run.dev_server:
        options["allowed_origins"] = [run.dev_server]
    kernel = create_kernel(**options)
    with _sigterm_as_keyboard_interrupt():
        try:
            try:
                kernel.start(host, port)
            except PortInUseError as exc:
                print(f"{_program()}: {exc}", file=sys.stderr)
                return 1
            _print_addresses(kernel, run.dev_server)
            if open_window:
                _open_window(kernel)
            print("Press Ctrl-C to stop.", flush=True)
            kernel.wait_until_closed()
        except KeyboardInterrupt:
            pass
        finally:
            kernel.stop()
    return 0


def _program() -> str:
    """The name to start a one-line error with: the command or the app's script."""
    name = Path(sys.argv[0]).name if sys.argv else ""
    return "sidegears" if name in ("", "-c", "__main__.py") else name


def _app_id(create_kernel: KernelFactory) -> str:
    """The app's name across runs: its script's path, or the factory's module and name.

    A frozen app (``sidegears build``) is named by its executable: a one-file
    app runs its script from a new temporary folder at every start.
    """
    if getattr(sys, "frozen", False):
        return "frozen:" + str(Path(sys.executable).resolve())
    module = getattr(create_kernel, "__module__", None) or "?"
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if module == "__main__" and main_file:
        return "script:" + str(Path(main_file).resolve())
    return f"module:{module}:{getattr(create_kernel, '__qualname__', '?')}"


def _open_window(kernel: RPCKernel) -> None:
    try:
        window = kernel.launch()  # prints the reason itself when it cannot open one
    except RuntimeError as exc:  # no plugin opens windows (the browser plugin is blocked)
        print(f"No window opened: {exc}. Open the page address above.", flush=True)
        return
    if getattr(window, "opened", False):
        # The app lives as long as its window: once it closes and no client
        # comes back (a reload does) within reconnect_grace, the kernel stops.
        kernel.close_on_disconnect = True


def _print_addresses(kernel: RPCKernel, dev_server: str | None = None) -> None:
    print("SideGears app running")
    if dev_server:
        # The client's connect() finds the kernel (and its token) in the dev page's "sidegears" parameter.
        print(f"  dev page:  {dev_server}/?sidegears={quote(kernel.url or '', safe=':/')}")
    elif kernel.plugin_manager.get_plugin("static") is not None:
        print(f"  page:      {kernel.http_url}")
    print(f"  websocket: {kernel.url}", flush=True)


@contextmanager
def _sigterm_as_keyboard_interrupt() -> Iterator[None]:
    """Let SIGTERM stop the app like Ctrl-C does (a clean kernel stop), where Python can catch it."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
