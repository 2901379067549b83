"""sidegears-plugin-files: a SideGears plugin that lets the UI browse and read files under one root folder.

Installed, it is found through its ``sidegears`` entry point; a kernel given
a root folder (``RPCKernel(files_root=...)``) then serves these methods. A
kernel without that option serves none of them: installing the plugin must
not expose some folder to every app on the machine. Block it with
``RPCKernel(block_plugins=["files"])`` or ``SIDEGEARS_BLOCK_PLUGINS=files``.

``files.root()``
    The absolute path of the root folder.
``files.list(path=".")``
    ``{"path", "entries", "truncated"}``; each entry is
    ``{"name", "path", "is_dir", "is_symlink", "size", "mtime"}``.
``files.stat(path=".")``
    One entry.
``files.read_text(path, encoding="utf-8", max_bytes=None)``
    The text of a regular file, up to a size limit.

Kernel options: ``files_root`` (required to serve anything),
``files_max_read_bytes`` (default 1 MiB),
``files_max_entries`` (default 10000). Errors: see :mod:`.errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from sidegears import hookimpl

from .errors import FilesErrorCode
from .file_browser import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_READ_BYTES, FileBrowser

if TYPE_CHECKING:
    from sidegears import RPCKernel

try:
    # pyproject.toml holds the version; the installed metadata gives it back
    # (the distribution's name is this package's, with "-" for "_").
    __version__ = version(__name__)
except PackageNotFoundError:  # imported from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["FileBrowser", "FilesErrorCode", "register_options", "register_methods", "browser_for", "__version__"]

log = logging.getLogger(__name__)


def browser_for(options: dict[str, Any]) -> FileBrowser:
    """The :class:`FileBrowser` that a kernel with these options serves (its root resolved now)."""
    return FileBrowser(
        options["files_root"],
        max_read_bytes=int(options.get("files_max_read_bytes", DEFAULT_MAX_READ_BYTES)),
        max_entries=int(options.get("files_max_entries", DEFAULT_MAX_ENTRIES)),
    )


@hookimpl
def register_options(register: Callable[..., Any]) -> None:
    """Declare the options this plugin reads: ``RPCKernel(files_root=...)`` and its limits."""
    register("files_root", None, "the folder files.* serves; None: the plugin stays idle")
    register("files_max_read_bytes", DEFAULT_MAX_READ_BYTES, "the largest file files.read_text returns")
    register("files_max_entries", DEFAULT_MAX_ENTRIES, "the most entries files.list returns")


@hookimpl
def register_methods(kernel: RPCKernel, register: Callable[..., Any]) -> None:
    """Serve the files.* methods over the root given by ``kernel.options`` (fires each time the kernel starts)."""
    if not kernel.options.get("files_root"):
        log.info("files plugin idle: no files_root option given")
        return
    # The root is fixed here, at start, so a later os.chdir() in the app cannot move it.
    browser = browser_for(kernel.options)
    register(browser.root_path, name="files.root")
    register(browser.list_directory, name="files.list")
    register(browser.stat_path, name="files.stat")
    register(browser.read_text, name="files.read_text")
    log.info("files plugin serving %s", browser.root)
