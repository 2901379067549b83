"""CONTRIBUTING.md's plugin walkthrough, run as written: copy the template, rename it, pip install it, and a kernel finds it.

The steps come from CONTRIBUTING.md itself (its shell block, the project
name it gives, its entry-point block), so the test and the text cannot
drift apart. The copy is installed for real with pip (into a target folder,
so the environment of the suite stays as it was) and discovered through its
entry point by a kernel in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter that sees the installed copy (PYTHONPATH): a
# plain kernel must list the plugin by its entry-point name and serve its
# methods, from the copy's renamed package.
DISCOVER = """
import asyncio, importlib, json, sys
from sidegears import RPCKernel
from sidegears.testing import RPCTestClient, running_kernel

name, package, root = sys.argv[1:]

async def main():
    async with running_kernel(files_root=root) as kernel:
        plugin = kernel.plugin_manager.get_plugin(name)
        async with RPCTestClient.connect(kernel.url) as rpc:
            served_root = await rpc.call("files.root")
        return getattr(plugin, "__name__", None), served_root

plugin_module, served_root = asyncio.run(main())
module = importlib.import_module(package)
print(json.dumps({
    "plugins": RPCKernel().list_plugins(),
    "plugin_module": plugin_module,
    "file": module.__file__,
    "version": module.__version__,
    "served_root": served_root,
}))
"""


def walkthrough() -> tuple[str, str, str]:
    """The shell commands, the new [project] name and the entry-point TOML of CONTRIBUTING.md's "Writing a plugin"."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text[text.index("## Writing a plugin") :]
    commands = re.search(r"```sh\n(.*?)^\s*```", section, re.DOTALL | re.MULTILINE)
    toml = re.search(r"```toml\n(.*?)^\s*```", section, re.DOTALL | re.MULTILINE)
    name = re.search(r'write `name = "([^"]+)"`', section)
    assert commands and toml and name, "CONTRIBUTING.md's plugin walkthrough has changed shape: update this test"
    return dedent(commands.group(1)), name.group(1), dedent(toml.group(1))


def test_plugin_template_walkthrough(tmp_path: Path) -> None:
    """The template, copied and renamed as CONTRIBUTING.md says, pip-installs and is found by a kernel through its entry point."""
    commands, project_name, entry_point_toml = walkthrough()
    [(plugin_name, package)] = re.findall(r'^(\w+) = "([\w.]+)"$', entry_point_toml, re.MULTILINE)

    # The commands run from the repository's root; a stand-in root whose
    # plugins/ is the real one keeps their "../" inside tmp_path.
    repository = tmp_path / "repository"
    repository.mkdir()
    (repository / "plugins").symlink_to(ROOT / "plugins", target_is_directory=True)
    target = tmp_path / "site-packages"
    try:
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", commands + "\npwd"],
            cwd=repository,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0, ran.stderr
        copy = Path(ran.stdout.splitlines()[-1])
        assert copy.parent == tmp_path and copy.name == project_name, "the commands end in the renamed folder"
        assert (copy / "src" / package / "__init__.py").is_file(), "the package was renamed to the entry point's"

        # The edits the text asks for in pyproject.toml: the [project] name, the entry point.
        pyproject = copy / "pyproject.toml"
        text = pyproject.read_text()
        text, renamed = re.subn(r'^name = "sidegears-plugin-files"$', f'name = "{project_name}"', text, flags=re.MULTILINE)
        text, replaced = re.subn(
            r"^\[project\.entry-points\.sidegears\]\n(?:\w+ = .*\n)+", entry_point_toml, text, flags=re.MULTILINE
        )
        assert (renamed, replaced) == (1, 1), "the template's pyproject.toml no longer has the lines CONTRIBUTING.md renames"
        pyproject.write_text(text)

        # `pip install .` in the folder: into a target folder, with the build
        # backend of this environment (the test extra has it), no downloads.
        installed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
             "--target", str(target), "."],
            cwd=copy,
            capture_output=True,
            text=True,
            timeout=180,
        )  # fmt: skip
        assert installed.returncode == 0, installed.stdout + installed.stderr

        root = tmp_path / "served"
        root.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")])),
            # The template itself is installed in this environment too (make
            # setup does it), and a copy that still declares its options
            # cannot load next to it: the walkthrough tells the author to
            # rename them. Blocking the original leaves the copy alone.
            "SIDEGEARS_BLOCK_PLUGINS": "files",
        }
        found = subprocess.run(
            [sys.executable, "-c", DISCOVER, plugin_name, package, str(root)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert found.returncode == 0, found.stderr
        report = json.loads(found.stdout.splitlines()[-1])
        assert plugin_name in report["plugins"]
        assert report["plugin_module"] == package
        assert Path(report["file"]).is_relative_to(target)
        # The version is read back from the installed metadata: the template's version, under the new name.
        assert report["version"] == re.search(r'^version = "(.+)"$', text, re.MULTILINE).group(1)
        assert Path(report["served_root"]) == root.resolve()
    finally:
        shutil.rmtree(tmp_path / project_name, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
