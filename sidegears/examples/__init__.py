"""Runnable example apps, shipped with SideGears; ``sidegears demo NAME`` runs one, ``sidegears demo --list`` lists them.

Each is a folder with an ``app.py`` (its ``create_kernel(**options)``) and the
page it serves. ``demo`` and ``notifications`` live here; ``client`` and
``vue`` live in the repository's ``examples/`` folder, and the wheel copies
them here (see pyproject.toml), so they are found either way.

Run one with ``sidegears demo NAME``, ``sidegears run <folder>/app.py`` or
``python -m sidegears.examples.<name>.app``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

#: The bundled examples, by name, with what each shows; ``sidegears demo`` runs the first.
EXAMPLES: dict[str, str] = {
    "demo": "a live system monitor, a file browser and a long task you can cancel",
    "notifications": "the kernel pushes a clock and a progress bar to the page",
    "client": "the plain JavaScript client: requests, errors, notifications and calls both ways",
    "vue": "the Vue 3 plugin: reactive connection state, requests and notifications",
}
DEFAULT = "demo"

HERE = Path(__file__).resolve().parent
#: Where the repository keeps the top-level examples, when SideGears runs from a checkout.
CHECKOUT_EXAMPLES = HERE.parents[1] / "examples"


def app_file(name: str) -> Path:
    """The ``app.py`` of the example ``name``: in this package, else in the checkout. KeyError if unknown."""
    if name not in EXAMPLES:
        raise KeyError(name)
    for folder in (HERE, CHECKOUT_EXAMPLES):
        path = folder / name / "app.py"
        if path.is_file():
            return path
    raise FileNotFoundError(f"the example {name!r} is not installed (no {name}/app.py in {HERE} or {CHECKOUT_EXAMPLES})")


def load(name: str) -> ModuleType:
    """Import the example ``name``'s app module (``create_kernel`` builds its kernel)."""
    path = app_file(name)
    if path.parent.parent == HERE:
        # In this package: a normal import, so the module is the one everyone else imports.
        return importlib.import_module(f"{__name__}.{name}.app")
    module_name = f"sidegears_example_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
