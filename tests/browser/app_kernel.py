"""An app's kernel in a process of its own, for tests that kill it and start it again on its port.

``python app_kernel.py STATIC_DIR APP_ID [PORT]`` serves STATIC_DIR on
127.0.0.1 (PORT, or a free one) with the secret kept for APP_ID (in
``$XDG_RUNTIME_DIR``), prints ``READY <port> <token>`` once listening, and
stops when its standard input closes or when it is killed.
"""

from __future__ import annotations

import sys

from sidegears import RPCKernel, rpc_method


@rpc_method
def multiply(a: float, b: float) -> float:
    return a * b


def main() -> None:
    static_dir, app_id = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    kernel = RPCKernel(static_dir=static_dir, app_id=app_id, block_plugins=["browser"], load_entry_points=False)
    kernel.start("127.0.0.1", port)
    print(f"READY {kernel.port} {kernel.token}", flush=True)
    try:
        sys.stdin.read()
    finally:
        kernel.stop()


if __name__ == "__main__":
    main()
