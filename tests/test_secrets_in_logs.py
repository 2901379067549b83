"""The per-launch token never reaches a log record, at any level, whatever a client sends."""

from __future__ import annotations

import http.client
import logging

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from sidegears import RPCError, RPCKernel, rpc_method
from sidegears.testing import RPCTestClient, running_kernel

CANARY = "canary-token-0123456789-abcdefghij"


@rpc_method(name="secrets.leak")
def leak(text):
    raise ValueError(f"the method saw {text}")


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status


async def test_token_never_reaches_a_log_record(caplog) -> None:
    """Debug and message logging on, every logger at DEBUG: the token appears in no record, whatever the path."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sidegears.websockets").setLevel(logging.DEBUG)
    try:
        debug_from_start = RPCKernel(token=CANARY)
        debug_from_start.set_debug(True)  # its start logs the plugins and the kernel's URL
        await debug_from_start.astart("127.0.0.1", 0)
        await debug_from_start.astop()
        async with running_kernel(token=CANARY) as kernel:
            kernel.set_debug(True)
            kernel.set_basic_logging(True)
            async with RPCTestClient.connect(kernel.url) as client:
                with pytest.raises(RPCError):
                    await client.call("secrets.leak", [f"?token={CANARY}"])
            for path in (f"/{CANARY}", f"/;token={CANARY}", f"/?token={CANARY}x", f"/x?token={CANARY}&launch={CANARY}"):
                await __import__("asyncio").to_thread(get, kernel.port, path)
            with pytest.raises(InvalidStatus):
                await connect(f"ws://127.0.0.1:{kernel.port}/{CANARY}")
            kernel.launch(runtime="none")
    finally:
        logging.getLogger("sidegears.websockets").setLevel(logging.NOTSET)
    # The test's own websockets client logs its URL too: only the kernel's records count.
    records = [record for record in caplog.records if record.name.startswith("sidegears")]
    text = "\n".join(record.getMessage() + "\n" + (record.exc_text or "") for record in records)
    assert len(records) > 20 and "refused a request" in text and "event='plugins'" in text and "[secret]" in text
    assert CANARY not in text
