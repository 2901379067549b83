"""A small app with typed methods and a declared notification: the source of kernel-api.d.ts.

`kernel-api.d.ts` next to it is `sidegears types app.py` (tests/test_typescript.py
checks that it is current); the TypeScript files here compile against it.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
from typing import Literal, Optional, Union

from pydantic import BaseModel
from typing_extensions import NotRequired, TypedDict  # pydantic needs typing_extensions' before Python 3.12

from sidegears import rpc_method
from sidegears.cli import run_app
from sidegears.kernel import RPCKernel


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Item:
    name: str
    price: float


class Order(BaseModel):
    """An order of items."""

    items: list[Item]
    note: Optional[str] = None


class Point(TypedDict):
    x: int
    y: int
    label: NotRequired[str]


@dataclasses.dataclass
class Progress:
    done: int
    total: int


@rpc_method
def multiply(a: int, b: float) -> float:
    """Multiply two numbers."""
    return a * b


@rpc_method(name="files.list")
def list_files(folder: str, hidden: bool = False) -> list[str]:
    """The names in a folder."""
    return []


@rpc_method(name="order.total", errors=[(4001, "empty order")])
def total(order: Order, discount: float = 0.0) -> float:
    """The order's total."""
    return sum(item.price for item in order.items) - discount


@rpc_method(name="order.find")
def find(*, name: str, limit: int = 10) -> list[Order]:
    """Orders with an item of that name: by name only."""
    return []


@rpc_method
def kinds(
    n: None,
    u: Union[int, str],
    o: Optional[int],
    d: dict[str, int],
    t: tuple[int, str],
    lit: Literal["a", "b"],
    colour: Colour,
    point: Point,
    items: list[Item],
) -> dict[str, list[Point]]:
    """Every kind of parameter pydantic describes."""
    return {}


@rpc_method
def untyped(a, b="x"):
    return [a, b]


def create_kernel(**options) -> RPCKernel:
    kernel = RPCKernel(**options)
    kernel.declare_notification("progress", Progress, "How far a long task got.")
    kernel.declare_notification("status", str, "A line for the status bar.")
    kernel.declare_client_method("confirm", str, bool, "Ask the user a yes/no question.")
    return kernel


if __name__ == "__main__":
    sys.exit(run_app(create_kernel, description="The typed app of the TypeScript tests."))
