"""Fixtures for the files plugin's tests: a real kernel (sidegears.testing) serving a small folder tree."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["sidegears.testing"]


def pytest_configure(config: pytest.Config) -> None:
    # The `kernel` fixture finds the plugin the way an app does, by its entry point.
    if not any(ep.name == "files" for ep in entry_points(group="sidegears")):
        raise pytest.UsageError(
            "sidegears-plugin-files is not installed: run `pip install -e plugins/sidegears-plugin-files` "
            "(from the SideGears repository) before these tests"
        )


@pytest.fixture(autouse=True)
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder tree, also made the current directory (the plugin must not serve it unless asked).

    Layout: ``notes.txt``, ``data.bin`` (not UTF-8), ``docs/readme.md``,
    ``docs/deep/x.txt``, and next to the root a ``secret.txt`` that must stay
    out of reach.
    """
    root = tmp_path / "root"
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "notes.txt").write_text("hello\nwörld\n", encoding="utf-8")
    (root / "data.bin").write_bytes(b"\xff\xfe\x00binary")
    (root / "docs" / "readme.md").write_text("# Docs\n", encoding="utf-8")
    (root / "docs" / "deep" / "x.txt").write_text("x", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("top secret", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
async def kernel(tree: Path):
    """A running kernel (found the plugin by its entry point) serving ``tree`` as its files root."""
    from sidegears.testing import running_kernel

    async with running_kernel(files_root=tree) as running:
        yield running
