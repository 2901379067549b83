"""PyInstaller hook for ``sidegears``: what static import analysis cannot see.

* The bundled plugins (``sidegears.default_plugins.*``) and webruntime (the
  browser plugin's window opener) are imported by name at run time.
* The JavaScript client and pages (``sidegears/static``, the examples' pages)
  are data files the kernel serves.
* Third-party plugins are found at run time through the entry-point group
  ``sidegears`` in installed distributions' metadata. Each installed plugin's
  package goes in (its modules, tests aside, and its data files) together
  with its distribution's metadata: without that, the frozen kernel's
  ``entry_points()`` finds nothing. Leave plugins out by entry-point name
  with the hook option ``exclude_plugins`` (a spec file's
  ``Analysis(hooksconfig={"sidegears": {"exclude_plugins": ["files"]}})``) or
  the environment variable ``SIDEGEARS_BUILD_EXCLUDE_PLUGINS=files,other``
  (what ``sidegears build --exclude-plugin`` sets).
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

from PyInstaller.utils.hooks import (
    collect_data_files,
    collect_submodules,
    copy_metadata,
    get_hook_config,
    get_module_attribute,
)

# The bundled plugins are imported from "module:Class" strings (sidegears.plugins.DEFAULT_PLUGINS).
_bundled = get_module_attribute("sidegears.plugins", "DEFAULT_PLUGINS")
hiddenimports = sorted({target.partition(":")[0] for target in _bundled.values()})
hiddenimports += collect_submodules("sidegears.default_plugins") + ["webruntime"]
datas = collect_data_files("sidegears") + copy_metadata("sidegears")  # data files only: no .py, no caches
# Only sidegears.testing imports these, and only tests import it: keep them out of an app.
excludedimports = ["pytest", "_pytest", "hypothesis", "playwright"]

EXCLUDE_ENV_VAR = "SIDEGEARS_BUILD_EXCLUDE_PLUGINS"


def _not_tests(name: str) -> bool:
    # A plugin's own test modules would pull pytest and friends into every app.
    parts = name.split(".")
    return not any(part in ("tests", "test", "conftest", "testing") for part in parts[1:])


def hook(hook_api):  # type: ignore[no-untyped-def]
    excluded = set(get_hook_config(hook_api, "sidegears", "exclude_plugins") or ())
    excluded |= {name.strip() for name in os.environ.get(EXCLUDE_ENV_VAR, "").split(",") if name.strip()}
    distributions = set()
    for ep in entry_points(group="sidegears"):
        if ep.name in excluded:
            continue
        package = ep.module.partition(".")[0]
        hook_api.add_imports(ep.module, *collect_submodules(package, filter=_not_tests))
        hook_api.add_datas(collect_data_files(package))
        if ep.dist is not None and ep.dist.name not in distributions:
            distributions.add(ep.dist.name)
            hook_api.add_datas(copy_metadata(ep.dist.name))
