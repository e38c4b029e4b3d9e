"""The catalogue check of visible strings (the in-page part: i18n_check.js)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.support.center import ROLES, RunningCenter

I18N_JS = Path(__file__).with_name("i18n_check.js").read_text(encoding="utf-8")


def site_words(center: RunningCenter) -> list[str]:
    """Names the site provides, in both languages, and the users' names: data, not UI."""
    words: list[str] = [*ROLES]
    items: list[dict[str, Any]] = [center.get("/api/site").json()]
    items += center.get("/api/site").json().get("groups", [])
    items += center.get("/api/stations").json()
    items += center.get("/api/cameras").json()
    items += center.get("/api/vehicles").json()
    layer = center.get("/api/site/base-layer")
    if layer.status_code == 200:
        items += [f.get("properties") or {} for f in layer.json().get("features", [])]
    for item in items:
        words += [item.get(k) or "" for k in ("id", "name", "name_en", "river", "plate")]
    return sorted({w for w in words if w})


def unexplained(page: Page, allowed: list[str]) -> list[str]:
    """Visible strings (text, labels, titles, options) that are not in the page's catalogue of
    its current language, not site data, not numbers or times."""
    found: list[str] = page.evaluate(I18N_JS, {"allowed": allowed})
    return found
