"""Plain methods' threads: a stuck method never keeps the process alive, and one client cannot take them all."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

from sidegears import rpc_method
from sidegears.testing import RPCTestClient, running_kernel
from sidegears.threads import MethodThreads

release = threading.Event()


@rpc_method(name="threads.block")
def block():
    release.wait(30)
    return "released"


@rpc_method(name="threads.quick")
def quick():
    return "quick"


async def test_one_client_cannot_take_every_thread() -> None:
    """With 4 threads, a client holding 4 blocked plain calls leaves room for another client's plain call."""
    release.clear()
    async with running_kernel(max_workers=4) as kernel:
        async with RPCTestClient.connect(kernel.url) as greedy, RPCTestClient.connect(kernel.url) as other:
            blocked = [asyncio.ensure_future(greedy.call("threads.block")) for _ in range(4)]
            await asyncio.sleep(0.2)
            try:
                assert await asyncio.wait_for(other.call("threads.quick"), 5) == "quick"
                assert not any(call.done() for call in blocked)
            finally:
                release.set()
            assert await asyncio.gather(*blocked) == ["released"] * 4


def test_a_stuck_method_does_not_keep_the_process_alive() -> None:
    """A process whose plain method blocks forever exits once its script ends (the thread is a daemon)."""
    script = textwrap.dedent(
        """
        import threading, time
        from websockets.sync.client import connect
        from sidegears import RPCKernel, rpc_method

        @rpc_method
        def stuck():
            threading.Event().wait()

        kernel = RPCKernel(token=False, stop_timeout=0.2)
        kernel.start(host="127.0.0.1", port=0)
        with connect(kernel.url) as ws:
            ws.send('{"jsonrpc": "2.0", "method": "stuck", "id": 1}')
            time.sleep(0.3)
            kernel.stop()
            print(ws.recv(timeout=5), flush=True)
        print("script done", flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"code":-32000' in done.stdout and "script done" in done.stdout


def test_method_threads_run_work_and_start_threads_only_as_needed() -> None:
    """MethodThreads runs submitted work, reuses a waiting thread, never exceeds max_workers, and cancels on shutdown."""
    pool = MethodThreads(2, name="test-pool")
    assert pool.submit(lambda x: x * 2, 21).result(5) == 42
    assert pool.submit(lambda: 1).result(5) == 1
    gate = threading.Event()
    held = [pool.submit(gate.wait, 5) for _ in range(3)]
    assert sum(thread.is_alive() for thread in threading.enumerate() if thread.name.startswith("test-pool")) <= 2
    pool.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert held[2].cancelled() or held[2].result(5) is True
    assert all(thread.daemon for thread in threading.enumerate() if thread.name.startswith("test-pool"))
