"""The kernel of the Vite example: run it with the dev server's origin, then open the printed dev page.

    npm install && npm run dev                          # Vite, on http://localhost:5173
    sidegears run --reload --dev-server http://localhost:5173 app.py --port 5678

Edits to the UI hot-reload in the page; edits to this file restart the
kernel, and the page reconnects by itself.
"""

from __future__ import annotations

import sys
from typing import Any

from sidegears import RPCKernel, rpc_method
from sidegears.cli import run_app


@rpc_method
def multiply(a: float, b: float) -> float:
    return a * b


def create_kernel(**options: Any) -> RPCKernel:
    return RPCKernel(**options)


if __name__ == "__main__":
    sys.exit(run_app(create_kernel, description=__doc__))
