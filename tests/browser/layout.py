"""A reusable layout check for any page at any screen size (the in-page part: layout.js)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

LAYOUT_JS = Path(__file__).with_name("layout.js").read_text(encoding="utf-8")


def layout_problems(page: Page, root: str = "body", fit: bool = True) -> list[str]:
    """What overflows, is cut off, clipped or overlapped under `root`; `fit`: the page must
    not scroll (a wall fits its screen)."""
    problems: list[str] = page.evaluate(LAYOUT_JS, {"root": root, "fit": fit})
    return problems
