"""PyInstaller hooks for SideGears, found through the ``pyinstaller40`` entry point.

With them, ``pyinstaller app.py`` freezes a SideGears app as ``sidegears
build app.py`` does (minus finding the app's UI folder: pass it with
``--add-data``). See :mod:`sidegears._pyinstaller.hook-sidegears` for what
they add, and docs/build.md.
"""

from __future__ import annotations

import os

__all__ = ["get_hook_dirs"]


def get_hook_dirs() -> list[str]:
    """The folders holding SideGears' hooks (PyInstaller's ``pyinstaller40`` ``hook-dirs`` entry point)."""
    return [os.path.dirname(os.path.abspath(__file__))]
