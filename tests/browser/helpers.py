"""Helpers shared by the browser tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from sidegears import RPCKernel

ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parent / "pages"
#: Milliseconds any single browser wait may take before the test fails.
TIMEOUT_MS = 10_000


def page_url(kernel: RPCKernel, path: str = "/", token: str | None = None) -> str:
    """``http://127.0.0.1:PORT{path}?token=...`` with the kernel's token (or ``token``), what a window opens."""
    token = kernel.token if token is None else token
    return f"http://127.0.0.1:{kernel.port}{path}" + (f"?token={token}" if token else "")


async def open_page(page: Any, kernel: RPCKernel, path: str = "/") -> Any:
    """Open a kernel page with its token (the kernel redirects and sets the cookie); return the final response."""
    response = await page.goto(page_url(kernel, path))
    assert response is not None and response.status == 200, response and response.status
    assert "token=" not in page.url, "the kernel should have traded the token in the URL for a cookie"
    return response


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>/app.py`` (not a package) as a module."""
    module_name = f"sidegears_example_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "examples" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
