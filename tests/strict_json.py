"""Equality of decoded JSON that also compares types and key order: 1 is not True, (1,) is not [1], an IntEnum is not an int.

``==`` alone would take a tuple for the list it decodes as, or an IntEnum
for its int: the log tests must tell "the object as the method returned
it" from "the JSON the client got".
"""

from __future__ import annotations

from typing import Any


def same_json(a: Any, b: Any) -> bool:
    """``a == b`` with the same types all the way down, the same key order, and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same_json(a[key], b[key]) for key in a)
    if type(a) is list:
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if type(a) is float and a != a:
        return b != b
    return bool(a == b)
