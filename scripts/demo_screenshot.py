"""Write docs/demo.png, the screenshot of `sidegears demo` that README.md shows.

Starts the demo's kernel, opens its page in headless Chromium (Debian's
/usr/bin/chromium through Playwright; no browser download), waits until the
chart has a few dozen samples, lists the repository's folder, runs the long
task once, starts it again and takes the picture while it is about half done. Run it after
changing the demo's page::

    .venv/bin/python scripts/demo_screenshot.py            # writes docs/demo.png
    .venv/bin/python scripts/demo_screenshot.py --dark -o /tmp/dark.png

It fails if the page logs an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "demo.png"
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


async def take(output: Path, width: int, height: int, samples: int, interval: float, dark: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from playwright.async_api import async_playwright

    from sidegears.examples.demo import app

    kernel = app.create_kernel(monitor_interval=interval, block_plugins=["browser"])
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
                page.on("console", lambda message: message.type == "error" and errors.append(message.text))
                page.on("pageerror", lambda error: errors.append(str(error)))
                # What the window the kernel opens would load: the page with the launch token.
                await page.goto(f"http://127.0.0.1:{kernel.port}/?token={kernel.token}")
                await page.wait_for_function("document.body.dataset.state === 'connected'")
                await page.fill("#path", str(ROOT))
                await page.press("#path", "Enter")
                await page.wait_for_function(
                    "(root) => document.getElementById('path').value === root", arg=str(ROOT)
                )
                await page.wait_for_function(
                    f"Number(document.getElementById('chart').dataset.samples) >= {samples}",
                    timeout=TIMEOUT_MS + samples * interval * 1000,
                )
                # A short run first, so that the list of earlier runs has one.
                await page.fill("#steps", "20")
                await page.fill("#delay", "0.05")
                await page.click("#start-task")
                await page.wait_for_function(
                    "document.getElementById('task-message').textContent.startsWith('Finished')"
                )
                await page.fill("#steps", "40")
                await page.fill("#delay", "0.25")
                await page.click("#start-task")
                await page.wait_for_function("Number(document.getElementById('progress').getAttribute('aria-valuenow')) >= 45")
                await page.screenshot(path=str(output))
                await page.click("#cancel-task")
                await page.wait_for_function(
                    "document.getElementById('task-message').textContent.startsWith('Cancelled')"
                )
            finally:
                await browser.close()
    finally:
        await kernel.astop()
    if errors:
        raise SystemExit(f"the page logged errors: {errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help="where to write the PNG (default: %(default)s)")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=700)
    parser.add_argument("--samples", type=int, default=40, help="samples on the chart before the picture")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between the monitor's samples")
    parser.add_argument("--dark", action="store_true", help="the page's dark colour scheme")
    args = parser.parse_args()
    asyncio.run(take(args.output, args.width, args.height, args.samples, args.interval, args.dark))
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
