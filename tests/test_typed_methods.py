"""Typed methods: params validated and converted from type hints, results serialised by one rule, rpc.discover."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import enum
import json
import logging
import uuid
from pathlib import Path
from typing import Literal, Optional, Union

import jsonschema
import pydantic
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from sidegears import RPCKernel, hookimpl, rpc_method
from sidegears.session import _method_info
from sidegears.testing import RPCTestClient, running_kernel

DATA = Path(__file__).parent / "data"
META_SCHEMA = json.loads((DATA / "openrpc-meta-schema.json").read_text())
# The OpenRPC meta-schema refers to this one by URL: give it from the file (no network in tests).
JSON_SCHEMA_META = Resource.from_contents(
    json.loads((DATA / "json-schema-tools-meta-schema.json").read_text()),
    default_specification=DRAFT7,
)
REGISTRY = Registry().with_resources(
    [("https://meta.json-schema.tools", JSON_SCHEMA_META), ("https://meta.json-schema.tools/", JSON_SCHEMA_META)]
)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclasses.dataclass
class Item:
    name: str
    price: float


class Order(pydantic.BaseModel):
    items: list[Item]
    note: Optional[str] = None


class Point(TypedDict):
    x: int
    y: int


@dataclasses.dataclass
class Progress:
    done: int
    total: int


@rpc_method(name="typed.kinds")
def kinds(
    i: int,
    f: float,
    s: str,
    b: bool,
    n: None,
    u: Union[int, str],
    o: Optional[int],
    li: list[int],
    d: dict[str, int],
    t: tuple[int, str],
    lit: Literal["a", "b"],
    colour: Colour,
    point: Point,
    item: Item,
    order: Order,
) -> str:
    return "ok"


@rpc_method(name="typed.total", errors=[(4001, "empty order")])
def total(order: Order, discount: decimal.Decimal = decimal.Decimal("0")) -> float:
    """The order's total.

    Adds up the items' prices, minus the discount.
    """
    assert isinstance(order, Order) and all(isinstance(item, Item) for item in order.items)
    return sum(item.price for item in order.items) - float(discount)


@rpc_method(name="typed.kinds_of")
async def kinds_of(item: Item, when: datetime.date, colour: Colour) -> list[str]:
    return [type(item).__name__, type(when).__name__, type(colour).__name__]


@rpc_method(name="typed.untyped")
def untyped(a, b="x"):
    return [a, b]


@rpc_method(name="typed.returns")
def returns(kind: str):
    values = {
        "dataclass": Item("pen", 1.5),
        "model": Order(items=[Item("ink", 2.0)]),
        "enum": Colour.GREEN,
        "datetime": datetime.datetime(2026, 12, 1, 10, 30, tzinfo=datetime.timezone.utc),
        "date": datetime.date(2026, 12, 1),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "decimal": decimal.Decimal("1.10"),
        "path": Path("/tmp/file.txt"),
        "set": {3},
    }
    return values[kind]


VALID = {
    "i": 1, "f": 1.5, "s": "x", "b": True, "n": None, "u": "x", "o": None, "li": [1], "d": {"a": 1},
    "t": [1, "x"], "lit": "a", "colour": "red", "point": {"x": 1, "y": 2}, "item": {"name": "a", "price": 1},
    "order": {"items": [{"name": "a", "price": 1}]},
}  # fmt: skip

# For each parameter: a wrong value, and the path and "expected" its error must name.
WRONG = {
    "i": ("abc", "params.i", "integer"),
    "f": ("abc", "params.f", "number"),
    "s": (1, "params.s", "string"),
    "b": ("maybe", "params.b", "boolean"),
    "n": (1, "params.n", "null"),
    "u": ([1], "params.u", "integer or string"),
    "o": ("x", "params.o", "integer"),
    "li": ([1, "x"], "params.li[1]", "integer"),
    "d": ({"a": "x"}, "params.d.a", "integer"),
    "t": ([1, 2], "params.t[1]", "string"),
    "lit": ("c", "params.lit", "one of 'a' or 'b'"),
    "colour": ("blue", "params.colour", "one of 'red' or 'green'"),
    "point": ({"x": 1, "y": "no"}, "params.point.y", "integer"),
    "item": ({"name": "a", "price": "abc"}, "params.item.price", "number"),
    "order": ({"items": [{"name": "a", "price": 1}, {"name": "b", "price": 2}, {"name": "c", "price": "abc"}]},
              "params.order.items[2].price", "number"),
}  # fmt: skip


@pytest.fixture
async def client():
    async with running_kernel() as kernel:
        async with RPCTestClient.connect(kernel.url) as rpc:
            yield rpc


async def test_valid_params_of_every_kind_pass(client) -> None:
    assert await client.call("typed.kinds", VALID) == "ok"


@pytest.mark.parametrize("name", list(WRONG))
async def test_a_wrong_value_of_each_kind_is_named_with_its_path(client, name: str) -> None:
    value, path, expected = WRONG[name]
    reply = await client.request("typed.kinds", {**VALID, name: value})
    error = reply["error"]
    assert error["code"] == -32602
    first = error["data"]["errors"][0]
    assert first["path"] == path
    assert expected in first["expected"], first
    assert error["message"].startswith(f"Invalid params: {path}: expected ")


async def test_the_issue_example_reads_as_written(client) -> None:
    items = [{"name": "a", "price": 1}, {"name": "b", "price": 2}, {"name": "c", "price": "abc"}]
    reply = await client.request("typed.total", {"order": {"items": items}})
    assert reply["error"]["message"] == 'Invalid params: params.order.items[2].price: expected number, got "abc"'
    assert reply["error"]["data"]["errors"] == [
        {
            "path": "params.order.items[2].price",
            "expected": "number",
            "got": "abc",
            "message": 'params.order.items[2].price: expected number, got "abc"',
        }
    ]


async def test_every_problem_is_reported_missing_and_unexpected_names_too(client) -> None:
    reply = await client.request("typed.kinds_of", {"item": {"name": "a", "price": "x"}, "colour": "blue", "extra": 1})
    messages = [entry["message"] for entry in reply["error"]["data"]["errors"]]
    assert messages == ["params.extra: unexpected name", "params.when: missing"]
    reply = await client.request("typed.kinds_of", {"item": {"name": "a", "price": "x"}, "when": "x", "colour": "blue"})
    paths = [entry["path"] for entry in reply["error"]["data"]["errors"]]
    assert paths == ["params.item.price", "params.when", "params.colour"]
    assert reply["error"]["message"].endswith("(and 2 more)")


async def test_fields_with_the_same_wrong_value_are_each_reported(client) -> None:
    """Two fields both wrong are two entries, not one merged as if they were a union's members."""
    reply = await client.request("typed.kinds", {**VALID, "point": {"x": "no", "y": "no"}})
    assert [entry["path"] for entry in reply["error"]["data"]["errors"]] == ["params.point.x", "params.point.y"]


async def test_params_are_converted_into_dataclasses_models_dates_and_enums(client) -> None:
    assert await client.call("typed.kinds_of", [{"name": "a", "price": 1}, "2026-12-01", "green"]) == [
        "Item",
        "date",
        "Colour",
    ]
    assert await client.call("typed.total", {"order": {"items": [{"name": "a", "price": 2.5}]}, "discount": "0.5"}) == 2.0


async def test_untyped_methods_keep_their_params_as_sent(client) -> None:
    assert await client.call("typed.untyped", [{"name": "a"}]) == [{"name": "a"}, "x"]


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("dataclass", {"name": "pen", "price": 1.5}),
        ("model", {"items": [{"name": "ink", "price": 2.0}], "note": None}),
        ("enum", "green"),
        ("datetime", "2026-12-01T10:30:00Z"),
        ("date", "2026-12-01"),
        ("uuid", "12345678-1234-5678-1234-567812345678"),
        ("decimal", "1.10"),
        ("path", "/tmp/file.txt"),
        ("set", [3]),
    ],
)
async def test_results_of_each_listed_type_are_serialised_by_one_rule(client, kind: str, expected: object) -> None:
    assert await client.call("typed.returns", [kind]) == expected


class SeesParams:
    def __init__(self) -> None:
        self.seen: list[object] = []

    @hookimpl
    def before_dispatch(self, message):
        if message.method == "typed.total":
            self.seen.append(message.params["order"])


async def test_before_dispatch_sees_the_converted_params() -> None:
    plugin = SeesParams()
    async with running_kernel() as kernel:
        kernel.register_plugin(plugin)
        async with RPCTestClient.connect(kernel.url) as client:
            await client.call("typed.total", {"order": {"items": []}})
            bad = await client.request("typed.total", {"order": {"items": "no"}})
    assert bad["error"]["code"] == -32602
    assert len(plugin.seen) == 1 and isinstance(plugin.seen[0], Order), "a mismatch is answered before the hook"


async def test_unknown_methods_name_themselves_suggest_a_close_name_and_are_logged_once(client, caplog) -> None:
    for _ in range(3):
        reply = await client.request("typed.totl")
    assert reply["error"] == {
        "code": -32601,
        "message": "Method not found: typed.totl",
        "data": {"method": "typed.totl", "did_you_mean": "typed.total"},
    }
    await client.notify("typed.nothing_like_it")
    await client.notify("typed.nothing_like_it")
    assert await client.call("typed.untyped", [1]) == [1, "x"]  # the notifications were read
    records = [r for r in caplog.records if "unknown method" in r.getMessage()]
    assert [r.levelname for r in records] == ["WARNING", "WARNING"]  # once per name: three calls, two notifications
    warnings = [r.getMessage() for r in records]
    assert "request for an unknown method" in warnings[0] and "did_you_mean='typed.total'" in warnings[0]
    assert "notification for an unknown method" in warnings[1]


def test_method_names_starting_with_rpc_are_refused() -> None:
    """JSON-RPC 2.0 reserves "rpc." names: neither @rpc_method nor a plugin's register may take one."""
    with pytest.raises(ValueError, match="reserved by JSON-RPC 2.0"):
        rpc_method(name="rpc.mine")(lambda: None)


async def test_a_plugin_registering_an_rpc_name_fails_the_start() -> None:
    class Squatter:
        @hookimpl
        def register_methods(self, register):
            register(lambda: None, name="rpc.discover")

    kernel = RPCKernel(token=False)
    kernel.register_plugin(Squatter(), name="squatter")
    with pytest.raises(Exception, match="reserved by JSON-RPC 2.0"):
        await kernel.astart("127.0.0.1", 0)
    assert not kernel.is_serving


async def test_rpc_discover_describes_methods_and_declared_messages_and_validates() -> None:
    async with running_kernel() as kernel:
        kernel.declare_notification("progress", Progress, "How far a long task got.")
        kernel.declare_client_method("confirm", str, bool, "Ask the user a yes/no question.")
        async with RPCTestClient.connect(kernel.url) as client:
            document = await client.call("rpc.discover")
    jsonschema.Draft7Validator(META_SCHEMA, registry=REGISTRY).validate(document)
    methods = {m["name"]: m for m in document["methods"]}
    assert "rpc.discover" in methods
    assert not [name for name in methods if name.startswith("rpc.") and name != "rpc.discover"]
    total_method = methods["typed.total"]
    assert total_method["summary"] == "The order's total."
    assert total_method["description"] == "Adds up the items' prices, minus the discount."
    assert [(p["name"], p["required"]) for p in total_method["params"]] == [("order", True), ("discount", False)]
    order_schema = total_method["params"][0]["schema"]
    assert order_schema["title"] == "Order" and order_schema["required"] == ["items"]
    assert total_method["result"]["schema"] == {"type": "number"}
    assert total_method["errors"] == [{"code": 4001, "message": "empty order"}]
    schemas = document["components"]["schemas"]
    assert order_schema["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Item"}
    assert schemas["Item"]["required"] == ["name", "price"]
    assert methods["typed.untyped"]["params"] == [
        {"name": "a", "schema": {}, "required": True},
        {"name": "b", "schema": {}, "required": False},
    ]
    (progress,) = document["x-notifications"]
    assert progress["name"] == "progress" and progress["summary"] == "How far a long task got."
    assert [p["name"] for p in progress["params"]] == ["done", "total"]
    (confirm,) = document["x-client-methods"]
    assert confirm["params"][0]["schema"] == {"type": "string"} and confirm["result"]["schema"] == {"type": "boolean"}


async def test_typed_methods_are_prepared_once_listening_not_on_a_first_call(caplog) -> None:
    """Their contracts (pydantic imported, validators built: 100 ms and more) are built in a thread at start."""
    caplog.set_level(logging.DEBUG, logger="sidegears")

    async def scaled(item: Item, factor: float = 2.0) -> float:
        return item.price * factor

    class Methods:
        @hookimpl
        def find_method(self, name):
            return scaled if name == "scaled" else None

        @hookimpl
        def list_methods(self):
            return {"scaled": scaled}

    async with running_kernel(plugins=[Methods()]) as kernel:
        for _ in range(1000):  # bounded: 10 s
            prepared = [r.getMessage() for r in caplog.records if "methods prepared" in r.getMessage()]
            if prepared:
                break
            await asyncio.sleep(0.01)
        assert prepared, "no 'methods prepared' line"
        # What the first call would otherwise build: the contract, and a validator per count of params.
        contract = _method_info(scaled).contract
        assert contract is not None and sorted(contract._by_count) == [1, 2]
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("scaled", [{"name": "a", "price": 1.5}]) == 3.0
            assert await client.call("scaled", [{"name": "a", "price": 1.5}, 3]) == 4.5


async def test_a_failing_list_methods_does_not_stop_the_start(caplog) -> None:
    """Preparing methods lists them (list_methods): a plugin failing there costs the preparation, not the start."""
    caplog.set_level(logging.DEBUG, logger="sidegears")

    async def double(x: int) -> int:
        return 2 * x

    class Broken:
        @hookimpl
        def find_method(self, name):
            return double if name == "double" else None

        @hookimpl
        def list_methods(self):
            raise RuntimeError("listing is broken")

    async with running_kernel(plugins=[Broken()]) as kernel:
        assert any("methods not prepared" in r.getMessage() for r in caplog.records)
        async with RPCTestClient.connect(kernel.url) as client:
            assert await client.call("double", [21]) == 42
