"""What the dashboard's browser tests share: signing in, the bus, screenshots, offline pages."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Page, Route, expect

from ecc.bus.broker import PrivateBroker
from tests.support.center import PASSWORD, RunningCenter

SIZES = {"1600x900": (1600, 900), "1920x1080": (1920, 1080)}
# Han characters: text that a page in English must not show (unless it is site data).
HAN = re.compile(r"[\u3400-\u9fff]")


def sign_in(page: Page, center: RunningCenter, username: str, path: str = "/") -> None:
    """Through the login page, as a person would; lands on `path` with the live stream open."""
    page.goto(f"{center.url}/login?next={path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(re.escape(f"{center.url}{path.split('#', maxsplit=1)[0]}")))
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")


def offline(page: Page, center: RunningCenter) -> list[str]:
    """Refuse every request that leaves the center; returns the list of those refused."""
    refused: list[str] = []

    def handle(route: Route) -> None:
        if route.request.url.startswith(center.url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", handle)
    return refused


def screenshots(page: Page, artifacts: Path, name: str) -> None:
    """One screenshot per wall size, each after the page has settled at that size."""
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_function(
            "([w, h]) => innerWidth === w && innerHeight === h", arg=[w, h], polling="raf"
        )
        # Resize observers (the map, the charts) run before the next frame is drawn.
        page.evaluate(
            "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        page.screenshot(path=str(artifacts / f"{name}-{size}.png"))
    page.set_viewport_size({"width": 1600, "height": 900})


def overflowing(page: Page, selector: str) -> list[str]:
    """Elements under `selector` whose content is wider than they are (cut-off text)."""
    result: list[str] = page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)]
            .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
            .map((el) => el.outerHTML.slice(0, 120))""",
        selector,
    )
    return result


def visible_text(page: Page, skip: str = "#lang-toggle") -> str:
    """The text a person sees on the page, less the elements matching `skip`."""
    text: str = page.evaluate(
        """(skip) => {
          const skipped = [...document.querySelectorAll(skip)];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          const out = [];
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const shown = n.parentElement.offsetParent !== null;
            if (shown && !skipped.some((el) => el.contains(n))) out.push(n.textContent);
          }
          return out.join(" ");
        }""",
        skip,
    )
    return text


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something true (a state seen elsewhere, not a delay)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@contextmanager
def publisher(center: RunningCenter, broker: PrivateBroker) -> Iterator[mqtt.Client]:
    """A client of the center's broker, returned once the center surely hears the bus.

    The center subscribes to its topics in one go when it connects; a retained camera status
    is delivered only through an established subscription, so once the center reports it, the
    alert and reading subscriptions (made before it) are in place too.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.publish(
            "ecc/v1/cameras/dam-dongao/status",
            json.dumps({"online": True, "fps": 25}),
            qos=1,
            retain=True,
        ).wait_for_publish(5)
        heard = eventually(
            lambda: (
                (center.get("/api/cameras/dam-dongao").json().get("status") or {}).get("fps") == 25
            )
        )
        assert heard, "the center does not hear the bus"
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def publish(client: mqtt.Client, topic: str, payload: dict[str, Any]) -> None:
    client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(5)
