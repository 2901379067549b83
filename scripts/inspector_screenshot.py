"""Write docs/inspector.png, the screenshot of the inspector page (``/_sidegears/``) that the docs show.

Starts a small kernel with a few typed methods, opens its inspector in
headless Chromium (Debian's /usr/bin/chromium through Playwright; no browser
download), makes a few calls from a second client (a plain Python websocket
client, as an app's page would be another), one through the inspector's own
form, leaves a slow call in flight, selects a reply in the log and takes the
picture. Run it after changing the page::

    .venv/bin/python scripts/inspector_screenshot.py            # writes docs/inspector.png
    .venv/bin/python scripts/inspector_screenshot.py --dark -o /tmp/dark.png

It fails if the page logs an error.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "inspector.png"
CHROMIUM = os.environ.get("SIDEGEARS_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


sys.path.insert(0, str(ROOT))

from sidegears import RPCError, RPCKernel, hookimpl  # noqa: E402  (after the path: the repository's sidegears)


@dataclasses.dataclass
class Item:
    name: str
    price: float
    quantity: int = 1


def total(items: list[Item], discount: float = 0.0) -> float:
    """The price of a basket.

    Adds up price times quantity of each item, minus the discount.
    """
    return round(sum(i.price * i.quantity for i in items) - discount, 2)


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def greet(name: str) -> str:
    """A greeting for someone."""
    return f"Hello, {name}!"


async def report(year: int, region: str = "all") -> dict[str, object]:
    """Build the yearly sales report (slow)."""
    await asyncio.sleep(30)
    return {"year": year, "region": region}


def reserve(sku: str) -> bool:
    """Reserve one item of stock."""
    raise RPCError(4004, "out of stock", {"sku": sku})


class Shop:
    """A small app: typed methods, one slow, one that fails."""

    @hookimpl
    def register_methods(self, register: Any) -> None:
        for func in (total, multiply, greet, report, reserve):
            register(func, name=f"shop.{func.__name__}")


def make_kernel() -> RPCKernel:
    kernel = RPCKernel(block_plugins=["browser"])
    kernel.register_plugin(Shop(), "shop")
    kernel.declare_notification("shop.stock_changed", dict, "The stock of an item changed.")
    return kernel


async def take(output: Path, width: int, height: int, dark: bool) -> None:
    from playwright.async_api import async_playwright

    from sidegears.testing import RPCTestClient

    kernel = make_kernel()
    await kernel.astart("127.0.0.1", 0)
    errors: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(
                    viewport={"width": width, "height": height},
                    device_scale_factor=1,
                    color_scheme="dark" if dark else "light",
                )
                context.set_default_timeout(TIMEOUT_MS)
                page = await context.new_page()

                def on_console(message: Any) -> None:
                    if message.type == "error":
                        errors.append(message.text)

                page.on("console", on_console)
                page.on("pageerror", lambda error: errors.append(str(error)))
                await page.goto(f"http://127.0.0.1:{kernel.port}/_sidegears/?token={kernel.token}")
                await page.wait_for_selector('body[data-state="connected"]')

                # Another client: the app's own page would be one.
                assert kernel.url is not None
                async with RPCTestClient.connect(kernel.url) as app:
                    await app.call("shop.multiply", [6, 7])
                    await app.call("shop.greet", {"name": "Ada"})
                    await app.call("shop.total", {"items": [{"name": "pen", "price": 1.5, "quantity": 4}, {"name": "ink", "price": 3.2}]})
                    try:
                        await app.call("shop.reserve", ["A-113"])
                    except Exception:
                        pass  # its error is part of the picture
                    kernel.send_notification("shop.stock_changed", {"sku": "A-113", "stock": 0})
                    slow = asyncio.ensure_future(app.request("shop.report", {"year": 2026}))

                    # A call through the inspector's form.
                    await page.click('.method[data-method="shop.total"] > summary')
                    form = page.locator('.method[data-method="shop.total"] form')
                    await form.locator('textarea[data-name="items"]').fill('[{"name": "pen", "price": 1.5, "quantity": 2}]')
                    await form.locator('textarea[data-name="discount"]').fill("0.5")
                    await form.locator('button[type="submit"]').click()
                    await form.locator(".result.ok").wait_for()
                    await form.locator(".result.ok").scroll_into_view_if_needed()

                    await page.wait_for_selector('#log-body tr[data-method="shop.report"]')
                    await page.click('#log-body tr[data-method="shop.total"][data-kind="reply"][data-conn]:not([data-inspector="yes"])')
                    await page.mouse.move(0, 0)
                    await page.wait_for_timeout(300)
                    await page.screenshot(path=str(output))
                    slow.cancel()
            finally:
                await browser.close()
    finally:
        await kernel.astop()
    if errors:
        raise SystemExit(f"the page logged errors: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=750)
    parser.add_argument("--dark", action="store_true", help="the dark colour scheme")
    args = parser.parse_args()
    asyncio.run(take(args.output, args.width, args.height, args.dark))
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
