"""``sidegears build``: freeze a SideGears app into a self-contained executable with PyInstaller.

::

    sidegears build [--onefile] [--name NAME] [--icon FILE] [--add-data SRC[:DEST]] [--windowed]
                    [--clean] [--exclude-plugin NAME] [--distpath DIR] app.py [-- PYINSTALLER_ARGS...]

The app file is run once first, in a separate process, to find its kernel:
``RPCKernel.start``/``astart`` are replaced there by a stop, so nothing
listens and no window opens, and the kernel the app made tells its
``static_dir``. That folder goes into the bundle at the place where the
frozen app computes it (``Path(__file__).parent / "ui"`` works frozen, since
PyInstaller sets ``__file__`` inside the bundle). PyInstaller then runs as a
child process with SideGears' hooks (:mod:`sidegears._pyinstaller`), which
add the kernel's lazily imported modules, its JavaScript client, and every
installed plugin of the ``sidegears`` entry-point group with its metadata
and data files. The result is ``dist/NAME/NAME`` (a folder), or
``dist/NAME`` with ``--onefile``.

Nothing here imports PyInstaller: this module is imported by the
``sidegears`` command, which frozen apps contain too.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

__all__ = ["add_build_command", "build", "main", "size_on_disk", "BuildError", "LEAN_EXCLUDES", "EXCLUDE_ENV_VAR"]

#: Comma-separated plugin names the hook leaves out (``--exclude-plugin`` sets it for PyInstaller).
EXCLUDE_ENV_VAR = "SIDEGEARS_BUILD_EXCLUDE_PLUGINS"
#: Test-only and build-only packages, never part of an app at run time: excluded so that an
#: optional import somewhere (``sidegears.testing`` imports pytest) cannot pull them in.
LEAN_EXCLUDES = (
    "PyInstaller",
    "altgraph",
    "_pyinstaller_hooks_contrib",
    "pip",
    "wheel",
    "pytest",
    "_pytest",
    "pytest_asyncio",
    "pytest_timeout",
    "hypothesis",
    "playwright",
    "mypy",
    "mypyc",
    "sidegears.testing",
    "sidegears.reloader",
)
#: Seconds the app file may take to make its kernel when run to find it.
PROBE_TIMEOUT = 60.0
#: Names in the app's folder that are never UI files, when that folder is the UI folder itself.
_NOT_UI_SUFFIXES = (".py", ".pyc", ".pyo", ".pyw", ".spec")
_GENERIC_STEMS = ("app", "main", "__main__")

_USAGE = "sidegears build [options] app.py [-- PYINSTALLER_ARGS...]"


class BuildError(Exception):
    """A build that cannot go on; its message is the one line the command prints."""


def add_build_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``build`` to the ``sidegears`` command's subparsers; return its parser."""
    parser = subparsers.add_parser(
        "build",
        help="make a self-contained executable of an app file (needs sidegears[build])",
        description="Freeze an app file, its UI folder, the kernel and every installed SideGears plugin "
        "into an app folder (dist/NAME/NAME) or, with --onefile, one executable (dist/NAME). "
        "Arguments after -- go to PyInstaller.",
        usage=_USAGE,
    )
    parser.add_argument("path", type=Path, nargs="?", help="the app's Python file, e.g. app.py")
    parser.add_argument("pyinstaller_args", nargs="*", metavar="PYINSTALLER_ARGS", help="after --: passed to PyInstaller")
    parser.add_argument("--name", help="the executable's name (default: the file's name, or its folder's for app.py)")
    parser.add_argument("--onefile", action="store_true", help="one executable file instead of an app folder")
    parser.add_argument("--icon", type=Path, help="the executable's icon (.ico on Windows, .icns on macOS)")
    parser.add_argument(
        "--add-data",
        action="append",
        default=[],
        metavar="SRC[:DEST]",
        help="the app's UI folder (or another file or folder) and where it goes in the bundle; "
        "default: the app's static_dir, found by running the app file",
    )
    parser.add_argument("--windowed", action="store_true", help="no console window (Windows and macOS)")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's caches first")
    parser.add_argument(
        "--exclude-plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out an installed SideGears plugin (its entry-point name); repeatable",
    )
    parser.add_argument("--distpath", type=Path, default=Path("dist"), help="where the result goes (default: dist)")
    parser.set_defaults(command="build", handler=run_build_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sidegears.build ...``: the same as ``sidegears build ...``."""
    parser = argparse.ArgumentParser(prog="sidegears")
    add_build_command(parser.add_subparsers())
    args = parser.parse_args(["build", *(sys.argv[1:] if argv is None else argv)])
    return run_build_command(args)


def run_build_command(args: argparse.Namespace) -> int:
    """The ``build`` command's handler: build, print one line per error, return the exit status."""
    if args.path is None:
        print(f"usage: {_USAGE}", file=sys.stderr)
        print("sidegears build: give the app's Python file, e.g. sidegears build app.py", file=sys.stderr)
        return 2
    try:
        build(
            args.path,
            name=args.name,
            onefile=args.onefile,
            icon=args.icon,
            add_data=args.add_data,
            windowed=args.windowed,
            clean=args.clean,
            exclude_plugins=args.exclude_plugin,
            distpath=args.distpath,
            pyinstaller_args=args.pyinstaller_args,
        )
    except BuildError as exc:
        print(f"sidegears build: {exc}", file=sys.stderr)
        return 1
    return 0


def build(
    path: Path | str,
    *,
    name: str | None = None,
    onefile: bool = False,
    icon: Path | str | None = None,
    add_data: Sequence[str] = (),
    windowed: bool = False,
    clean: bool = False,
    exclude_plugins: Sequence[str] = (),
    distpath: Path | str = "dist",
    pyinstaller_args: Sequence[str] = (),
) -> Path:
    """Freeze the app file ``path``; return the executable's path. Raises :class:`BuildError`."""
    if importlib.util.find_spec("PyInstaller") is None:
        raise BuildError("PyInstaller is not installed: pip install 'sidegears[build]'")
    app = Path(path).resolve()
    if not app.is_file():
        raise BuildError(f"no such file: {path}")
    name = name or _default_name(app)
    dist = Path(distpath).resolve()
    work = Path("build").resolve()  # PyInstaller's work files (build/NAME/) and NAME.spec, beside dist/
    excluded = _check_plugins(exclude_plugins)
    if icon is not None and not Path(icon).is_file():
        raise BuildError(f"no such icon file: {icon}")

    probe = _probe(app)
    datas = [_given_data(spec, app) for spec in add_data]
    if probe["static_dir"] is None:
        if not datas:
            print(
                f"sidegears build: {app.name} sets no static_dir, so no UI folder is bundled "
                "(the kernel still serves its JavaScript client); pass --add-data FOLDER if the app has one",
                file=sys.stderr,
            )
    else:
        try:
            datas += _ui_datas(Path(probe["static_dir"]), app, [Path(p) for p in probe["sys_path"]], skip=(dist, work))
        except BuildError:
            if not add_data:
                raise
            # The UI folder cannot be placed by itself: what --add-data gives stands in for it, as the error says.
    datas = list(dict.fromkeys(datas))

    command = [
        sys.executable, "-m", "PyInstaller", app.as_posix(),
        "--noconfirm",
        "--name", name,
        "--distpath", str(dist),
        "--workpath", str(work),
        "--specpath", str(work),
        "--log-level", "WARN",
    ]  # fmt: skip
    if onefile:
        command.append("--onefile")
    if windowed:
        command.append("--windowed")
    if clean:
        command.append("--clean")
    if sys.platform.startswith("linux") and shutil.which("strip"):
        # Python builds such as pyenv's keep debug symbols in libpython: stripping halves the bundle.
        # (Not on macOS, where stripping would break the binaries' signatures, nor on Windows.)
        command.append("--strip")
    if icon is not None:
        command += ["--icon", str(Path(icon).resolve())]
    for source, destination in datas:
        command += ["--add-data", f"{source}{os.pathsep}{destination}"]
    for module in LEAN_EXCLUDES:
        command += ["--exclude-module", module]
    if not _hooks_registered():
        # Running from a source tree whose metadata lacks the pyinstaller40 entry point: point at the hooks directly.
        command += ["--additional-hooks-dir", str(Path(__file__).resolve().parent / "_pyinstaller")]
    command += list(pyinstaller_args)  # last, so that they override ours

    env = dict(os.environ)
    env[EXCLUDE_ENV_VAR] = ",".join(sorted(excluded | _names(os.environ.get(EXCLUDE_ENV_VAR, ""))))
    started = time.monotonic()
    print(f"sidegears build: freezing {app.name} as {name!r} with PyInstaller (this takes a minute or more)", flush=True)
    result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise BuildError(f"PyInstaller failed (exit status {result.returncode}); its messages are above")
    executable = _executable_path(dist, name, onefile, windowed)
    if not executable.exists():
        raise BuildError(f"PyInstaller finished but {executable} is missing")
    size = size_on_disk(executable if onefile else dist / name)
    kind = "one file" if onefile else "folder"
    print(
        f"sidegears build: built {executable} in {time.monotonic() - started:.0f} s ({kind}: {size / 1e6:.1f} MB)",
        flush=True,
    )
    return executable


# -- the app file ---------------------------------------------------------------------------


def _default_name(app: Path) -> str:
    # "app.py" says nothing: the demo's app.py becomes "demo", after its folder.
    if app.stem in _GENERIC_STEMS and app.parent.name:
        return app.parent.name
    return app.stem


# Run in a child process (the app's module-level code runs; it must not run in the build's
# process, nor start a server or open a window): the first kernel start raises KernelFound.
_PROBE = textwrap.dedent(
    """
    import json, os, runpy, sys
    from sidegears.kernel import RPCKernel

    class KernelFound(BaseException):  # not an Exception: the app's own handlers must let it through
        pass

    def found(self, *args, **kwargs):
        raise KernelFound(self)

    path, out = sys.argv[1], sys.argv[2]
    RPCKernel.start = found
    RPCKernel.astart = found
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    result = {"kernel": False, "static_dir": None, "sys_path": []}
    try:
        runpy.run_path(path, run_name="__main__")
    except KernelFound as exc:
        static_dir = exc.args[0].options.get("static_dir")
        result = {
            "kernel": True,
            "static_dir": os.path.abspath(os.fspath(static_dir)) if static_dir else None,
            # Not "" (the build's working directory, there for -c): the frozen app has no such entry.
            "sys_path": [os.path.abspath(p) for p in sys.path if p],
        }
    except SystemExit as exc:
        result["exit"] = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    with open(out, "w", encoding="utf-8") as file:
        json.dump(result, file)
    """
)


def _probe(app: Path) -> dict[str, Any]:
    """Run the app file until it starts its kernel; return that kernel's static_dir and the app's sys.path."""
    with tempfile.TemporaryDirectory(prefix="sidegears-build-") as folder:
        out = Path(folder) / "probe.json"
        env = dict(os.environ, SIDEGEARS_BROWSER="none")  # a second line of defence: no window either way
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _PROBE, str(app), str(out)],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BuildError(
                f"{app.name} started no kernel within {PROBE_TIMEOUT:.0f} s when run; an app file must start one "
                'when run as a script: end it with `if __name__ == "__main__": sys.exit(run_app(create_kernel))`'
            ) from None
        if not out.exists():
            last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            raise BuildError(f"{app.name} could not be run to find its kernel: {last}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        raise BuildError(f"{app.name} failed when run to find its kernel: {result['error']}")
    if not result["kernel"] and result.get("exit"):
        last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise BuildError(f"{app.name} exited with status {result['exit']} before starting a kernel: {last}")
    if not result["kernel"]:
        raise BuildError(
            f"{app.name} starts no kernel: end it with "
            '`if __name__ == "__main__": sys.exit(run_app(create_kernel))`, or call kernel.start()'
        )
    return result


# -- the UI folder ----------------------------------------------------------------------------


def _bundle_place(folder: Path, app: Path, sys_path: Sequence[Path]) -> str | None:
    """Where ``folder`` must be in the bundle for the frozen app to compute the same path, or None.

    Frozen, the app script's ``__file__`` is at the bundle's root and a
    package's modules at their package path, so a folder keeps its path
    relative to the app's folder, or else to the import root it lies under.
    """
    roots = [app.parent, *(Path(p) for p in sys_path if p)]
    best: Path | None = None
    for root in roots:
        if folder == root or root in folder.parents:
            if best is None or len(root.parts) > len(best.parts):
                best = root
    if best is None:
        return None
    return folder.relative_to(best).as_posix() or "."


def _ui_datas(static_dir: Path, app: Path, sys_path: Sequence[Path], skip: Sequence[Path]) -> list[tuple[str, str]]:
    if not static_dir.is_dir():
        raise BuildError(
            f"the app's UI folder {static_dir} (its static_dir) does not exist; "
            "create it, or pass --add-data FOLDER:DEST with the folder the app serves"
        )
    place = _bundle_place(static_dir, app, sys_path)
    if place is None:
        raise BuildError(
            f"the app's UI folder {static_dir} is outside the app's folder and its packages, so the frozen app "
            'could not find it: keep it next to the app (static_dir=Path(__file__).parent / "ui"), '
            "or pass --add-data FOLDER:DEST and compute static_dir from sys._MEIPASS when sys.frozen is set"
        )
    if place != ".":
        return [(str(static_dir), place)]
    # The UI folder is the folder of the app's file (or of an import root): take its UI files
    # only, not the Python code (frozen separately) nor earlier builds made in it.
    datas = []
    for entry in sorted(static_dir.iterdir()):
        if (
            entry.name.startswith(".")
            or entry.name == "__pycache__"
            or entry.suffix in _NOT_UI_SUFFIXES
            or any(entry == other or entry in other.parents for other in skip)
        ):
            continue
        datas.append((str(entry), "." if entry.is_file() else entry.name))
    return datas


def _given_data(spec: str, app: Path) -> tuple[str, str]:
    """``--add-data SRC[:DEST]``: SRC must exist; DEST defaults to SRC's place relative to the app's folder."""
    source, destination = spec, ""
    head, sep, tail = spec.rpartition(os.pathsep if os.pathsep in spec else ":")
    if sep and head and not (os.name == "nt" and sep == ":" and len(head) == 1):  # "C:\\ui": a drive, not a separator
        source, destination = head, tail
    src = Path(source).resolve()
    if not src.exists():
        raise BuildError(f"--add-data: no such file or folder: {source}")
    if not destination:
        folder = src if src.is_dir() else src.parent
        place = _bundle_place(folder, app, [])
        # Under the app's folder it keeps its place there; elsewhere, a folder goes to the bundle's root by name.
        destination = place if place is not None else (src.name if src.is_dir() else ".")
    return str(src), destination


# -- plugins ----------------------------------------------------------------------------------


def installed_plugins() -> dict[str, Any]:
    """The installed SideGears plugins: entry-point name -> entry point."""
    return {ep.name: ep for ep in entry_points(group="sidegears")}


def _check_plugins(exclude: Sequence[str]) -> set[str]:
    plugins = installed_plugins()
    for name in exclude:
        if name not in plugins:
            known = ", ".join(sorted(plugins)) or "none"
            raise BuildError(f"--exclude-plugin {name}: no installed SideGears plugin has that name (installed: {known})")
    excluded = set(exclude)
    # A distribution's metadata lists all its entry points: shipping it with one of them left
    # out would make the frozen kernel fail to import that one.
    for name in excluded:
        dist = plugins[name].dist
        siblings = {other for other, ep in plugins.items() if ep.dist is not None and dist is not None and ep.dist.name == dist.name}
        if siblings - excluded:
            raise BuildError(
                f"--exclude-plugin {name}: its distribution {dist.name if dist else '?'} also provides "
                f"{', '.join(sorted(siblings - excluded))}; exclude those too"
            )
    return excluded


def _names(text: str) -> set[str]:
    return {name.strip() for name in text.split(",") if name.strip()}


def _hooks_registered() -> bool:
    """True if SideGears' PyInstaller hooks are found through the ``pyinstaller40`` entry point."""
    return any(ep.value.startswith("sidegears._pyinstaller") for ep in entry_points(group="pyinstaller40"))


# -- the result --------------------------------------------------------------------------------


def _executable_path(dist: Path, name: str, onefile: bool, windowed: bool) -> Path:
    suffix = ".exe" if os.name == "nt" else ""
    if sys.platform == "darwin" and windowed:
        return dist / f"{name}.app"
    return dist / f"{name}{suffix}" if onefile else dist / name / f"{name}{suffix}"


def size_on_disk(path: Path) -> int:
    """Bytes of a one-file app, or of an app folder's files (links not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink())


if __name__ == "__main__":
    sys.exit(main())
