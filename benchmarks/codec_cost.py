"""The kernel's JSON codec in process: µs per decode and encode, stdlib json against orjson.

    python -m benchmarks.codec_cost            # 9 repeats
    python -m benchmarks.codec_cost --quick    # 5 repeats, fewer loops

Each case times what the kernel does with a message: ``protocol.decode`` of
the text the transport hands it (a str), ``protocol.encode_reply_bytes`` of
a reply (the bytes that go into the frame). Both codecs run in this one
process (``protocol.use_codec``), case by case, interleaved repeat by
repeat; the table gives the median and the min-max of the repeats, each
repeat the mean of a timeit loop. Needs orjson (``pip install -e '.[speed]'``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import timeit
from typing import Any, Callable

from sidegears import protocol

__all__ = ["cases", "measure", "table"]


def cases() -> list[tuple[str, Callable[[], Any], int]]:
    """(name, what to time, loops for a full repeat)."""
    request = json.dumps({"jsonrpc": "2.0", "method": "add", "params": [12345, 67890], "id": 4217})
    reply = protocol.success(4217, 80235)
    reply_none = protocol.success(4217, None)
    reply_text = protocol.success(4217, {"name": "Ada Lovelace", "tags": ["math", "engine"], "score": 0.875})
    batch = json.dumps([{"jsonrpc": "2.0", "method": "add", "params": [i, 2 * i], "id": i} for i in range(100)])
    batch_replies = [protocol.success(i, 3 * i) for i in range(100)]
    big_request = json.dumps({"jsonrpc": "2.0", "method": "echo", "params": ["x" * 1_000_000], "id": 1})
    big_reply = protocol.success(1, "x" * 1_000_000)
    return [
        (f"decode a request ({len(request)} B)", lambda: protocol.decode(request), 100_000),
        ("encode its reply (result 80235)", lambda: protocol.encode_reply_bytes(reply), 100_000),
        ("encode a reply with result null", lambda: protocol.encode_reply_bytes(reply_none), 100_000),
        ("encode a reply with a small object", lambda: protocol.encode_reply_bytes(reply_text), 100_000),
        (f"decode a batch of 100 requests ({len(batch) / 1000:.1f} KB)", lambda: protocol.decode(batch), 3_000),
        ("encode the batch of 100 replies", lambda: protocol.encode_reply_bytes(batch_replies), 3_000),
        ("decode a 1 MB echo request", lambda: protocol.decode(big_request), 100),
        ("encode the 1 MB echo reply", lambda: protocol.encode_reply_bytes(big_reply), 100),
    ]


def measure(repeats: int = 9, scale: float = 1.0) -> list[dict[str, Any]]:
    """µs per call for each case and codec: the median, min and max over ``repeats``."""
    rows = []
    for name, run, loops in cases():
        number = max(1, int(loops * scale))
        samples: dict[str, list[float]] = {"stdlib": [], "orjson": []}
        for i in range(repeats):
            for codec in ("stdlib", "orjson") if i % 2 == 0 else ("orjson", "stdlib"):
                previous = protocol.use_codec(codec)
                try:
                    run()  # warm
                    samples[codec].append(timeit.timeit(run, number=number) / number * 1e6)
                finally:
                    protocol.use_codec(previous)
        rows.append({"case": name, **{codec: values for codec, values in samples.items()}})
    return rows


def _spread(values: list[float]) -> str:
    digits = 2 if max(values) < 10 else 1 if max(values) < 100 else 0
    return f"{statistics.median(values):,.{digits}f} [{min(values):,.{digits}f}-{max(values):,.{digits}f}]"


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows for a Markdown table."""
    return ["case", "stdlib µs", "orjson µs", "orjson/stdlib"], [
        [row["case"], _spread(row["stdlib"]), _spread(row["orjson"]),
         f"{statistics.median(row['orjson']) / statistics.median(row['stdlib']):.2f}"]
        for row in rows
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats of a fifth of the loops")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    import orjson

    repeats = args.repeats or (5 if args.quick else 9)
    headers, body = table(measure(repeats, 0.2 if args.quick else 1.0))
    print(f"python {platform.python_version()}, orjson {orjson.__version__}, {repeats} repeats: median [min-max]\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in body:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
