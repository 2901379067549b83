"""What the distributions hold: the sdist and wheel of sidegears and of the example plugin, built for real, and the npm package.

Each list is checked both ways: the files a user needs are there (the
license, the client bundles the kernel serves), and nothing else is (an
allow-list of paths, and a deny-list of what must never ship: caches,
virtualenvs, node_modules, built archives).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

import sidegears

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugins" / "sidegears-plugin-files"
LICENSE_TEXT = (ROOT / "LICENSE").read_text()

# Never in any distribution, whatever the allow-lists say.
NEVER = re.compile(
    r"(^|/)(__pycache__|node_modules|\.venv|\.git|\.pytest_cache|\.mypy_cache|\.hypothesis|\.ruff_cache|build)/"
    r"|\.(pyc|pyo|whl|tar\.gz|tgz|zip|egg-info|log)$"
)


def git_files(*paths: str) -> list[str]:
    """The tracked files under ``paths`` (repository-relative) that the work tree holds (not deleted in it)."""
    out = subprocess.run(["git", "ls-files", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in out.splitlines() if (ROOT / name).is_file()]


def build(source: Path, outdir: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from that sdist (what `python -m build` does); return their paths.

    No build isolation: the test extra holds the backend (hatchling), so the
    build neither downloads anything nor takes a fresh environment's time.
    """
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [sdist] = outdir.glob("*.tar.gz")
    [wheel] = outdir.glob("*.whl")
    return sdist, wheel


def sdist_names(sdist: Path) -> tuple[str, set[str]]:
    """The sdist's top folder, and its files relative to that folder."""
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        top = members[0].name.split("/", 1)[0]
        assert all(m.name.startswith(top + "/") for m in members)
        return top, {m.name[len(top) + 1 :] for m in members}


def sdist_text(sdist: Path, top: str, name: str) -> str:
    """The text of one file of the sdist."""
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"{top}/{name}")
        assert member is not None
        return member.read().decode()


def unexpected(names: set[str], allowed: list[str]) -> list[str]:
    """The names no pattern of ``allowed`` matches, or that match NEVER."""
    return sorted(n for n in names if NEVER.search(n) or not any(fnmatchcase(n, p) for p in allowed))


@pytest.fixture(scope="module")
def sidegears_dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and wheel of sidegears, built from this checkout."""
    return build(ROOT, tmp_path_factory.mktemp("sidegears-dist"))


@pytest.fixture(scope="module")
def plugin_dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and wheel of the example plugin, built from this checkout."""
    return build(PLUGIN, tmp_path_factory.mktemp("plugin-dist"))


def test_license_files_are_mit_and_identical() -> None:
    """The root LICENSE is MIT for the SideGears contributors, and the npm package and the plugin carry the same text."""
    assert LICENSE_TEXT.startswith("MIT License\n\nCopyright (c) 2026 the SideGears contributors\n")
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in LICENSE_TEXT
    assert (ROOT / "client" / "LICENSE").read_text() == LICENSE_TEXT
    assert (PLUGIN / "LICENSE").read_text() == LICENSE_TEXT


def test_sdist_holds_what_builds_the_wheel_and_nothing_else(sidegears_dists: tuple[Path, Path]) -> None:
    """The sdist has the package (every tracked file), the example apps the wheel ships, docs, README, LICENSE: nothing else."""
    sdist, _ = sidegears_dists
    top, names = sdist_names(sdist)
    assert top == f"sidegears-{sidegears.__version__}"
    allowed = [
        "PKG-INFO", "pyproject.toml", "README.md", "LICENSE",
        ".gitignore",  # hatchling always adds it (a wheel built from the sdist excludes the same files)
        "sidegears/*", "examples/client/*", "examples/vue/*", "docs/*",
    ]  # fmt: skip
    assert unexpected(names, allowed) == []
    required = {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO"}
    required |= set(git_files("sidegears", "examples/client", "examples/vue", "docs"))
    assert sorted(required - names) == []
    assert sdist_text(sdist, top, "LICENSE") == LICENSE_TEXT


def test_wheel_holds_the_package_the_client_bundles_and_the_license(sidegears_dists: tuple[Path, Path]) -> None:
    """The wheel (built from the sdist) has sidegears/ with the served client bundles and examples, and the license in dist-info."""
    _, wheel = sidegears_dists
    info = f"sidegears-{sidegears.__version__}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        license_text = archive.read(f"{info}/licenses/LICENSE").decode()
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert unexpected(names, ["sidegears/*", f"{info}/*"]) == []
    bundles = set(git_files("sidegears/static"))
    assert {"sidegears/static/sidegears.js", "sidegears/static/sidegears.esm.js"} <= bundles
    required = bundles | set(git_files("sidegears")) | {
        "sidegears/examples/client/index.html",  # force-included from examples/
        "sidegears/examples/vue/index.html",
        "sidegears/examples/vue/vendor/LICENSE.vue.txt",
    }
    assert sorted(required - names) == []
    assert license_text == LICENSE_TEXT
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert "demo" in metadata.get_all("Provides-Extra")
    assert any(re.fullmatch(r"psutil>=[\d.]+; extra == 'demo'", r) for r in metadata.get_all("Requires-Dist"))
    assert "sidegears = sidegears.cli:main" in entry_points


def test_plugin_distributions_hold_the_license(plugin_dists: tuple[Path, Path]) -> None:
    """The plugin's sdist (source, tests, README, LICENSE) and wheel (its package, the license in dist-info) ship nothing stray."""
    sdist, wheel = plugin_dists
    top, names = sdist_names(sdist)
    assert top == "sidegears_plugin_files-0.1.0"
    allowed = ["PKG-INFO", "pyproject.toml", "README.md", "LICENSE", ".gitignore", "src/sidegears_plugin_files/*", "tests/*"]
    assert unexpected(names, allowed) == []
    tracked = {name.removeprefix("plugins/sidegears-plugin-files/") for name in git_files("plugins/sidegears-plugin-files")}
    assert sorted(tracked - names) == []
    assert sdist_text(sdist, top, "LICENSE") == LICENSE_TEXT
    info = "sidegears_plugin_files-0.1.0.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = set(archive.namelist())
        assert archive.read(f"{info}/licenses/LICENSE").decode() == LICENSE_TEXT
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert unexpected(wheel_names, ["sidegears_plugin_files/*", f"{info}/*"]) == []
    assert "sidegears_plugin_files/__init__.py" in wheel_names
    assert metadata["License-Expression"] == "MIT"
    assert "[sidegears]\nfiles = sidegears_plugin_files" in entry_points


def test_npm_package_lists_the_license_and_only_what_it_should() -> None:
    """`npm pack --dry-run` in client/ lists LICENSE, README.md, package.json, dist/ and src/, and nothing else (no tests, no node_modules)."""
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI"):
            pytest.fail("npm is not installed (make setup installs it)")
        pytest.skip("npm is not installed (make setup installs it)")
    result = subprocess.run(
        [npm, "pack", "--dry-run", "--json", "--ignore-scripts"],
        cwd=ROOT / "client",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [package] = json.loads(result.stdout)
    names = {entry["path"] for entry in package["files"]}
    assert {"LICENSE", "README.md", "package.json", "dist/sidegears.js", "dist/sidegears.esm.js", "src/index.js"} <= names
    assert unexpected(names, ["LICENSE", "README.md", "package.json", "dist/*", "src/*"]) == []
