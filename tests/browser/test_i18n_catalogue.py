"""Every page of the dashboard, in each language, shows only strings of that language's catalogue.

The pages come from the center's own list (ecc.command_center.pages.PAGES), so a page added
later is checked too. A visible string passes when it is a catalogue value (or an instance of a
catalogue template), a name the site provides, a number or a time (tests/browser/i18n_check.js).
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from ecc.command_center.pages import PAGES
from ecc.config import Settings
from ecc.storage.models import NewAlert
from tests.browser.helpers import sign_in
from tests.browser.i18n import site_words, unexplained
from tests.support.center import RunningCenter

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LANGUAGES = ("zh-CN", "en")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Cameras have no worker here: a viewer is told so at once rather than after 8 s.
    video = settings.video.model_copy(
        update={"whep_wait_s": 0.2, "ice_hosts": [], "ice_loopback": True}
    )
    return settings.model_copy(update={"video": video})


def settle(page: Page) -> None:
    """Until the page has drawn what it loaded: no request in flight, fonts in, two frames."""
    page.wait_for_load_state("networkidle")
    page.evaluate(
        "() => document.fonts.ready.then(() => new Promise((r) =>"
        " requestAnimationFrame(() => requestAnimationFrame(r))))"
    )


def with_language(page: Page, url: str, lang: str) -> None:
    page.evaluate("(lang) => localStorage.setItem('ecc.language', lang)", lang)
    page.goto(url)
    settle(page)


def test_every_page_shows_only_catalogue_strings_in_each_language(
    browser: Browser, page: Page, center: RunningCenter
) -> None:
    now = time.time()
    for severity, station, value, level in (
        ("danger", "lujiang-daqi", 3.12, 3.0),
        ("warning", "xiaojia-xiaogang", 2.7, 2.6),
    ):
        center.store.alerts.insert(
            NewAlert("level", severity, "station", station, "water_level", value, level, "", now)
        )
    acked = center.store.alerts.insert(
        NewAlert("offline", "warning", "station", "air-xiapu", None, None, None, "", now - 600)
    )
    center.store.alerts.acknowledge(acked.id, "operator", now - 300)
    allowed = site_words(center)

    # Pages open to anyone are checked signed out; the others signed in, as an admin, who
    # sees every page and every control.
    anonymous = browser.new_context(viewport={"width": 1600, "height": 900})
    signed_out = anonymous.new_page()
    signed_out.goto(f"{center.url}/login")
    public = []
    for path in PAGES:
        signed_out.goto(f"{center.url}{path}")
        settle(signed_out)
        if urlparse(signed_out.url).path == path:
            public.append(path)
    assert "/login" in public

    problems: dict[str, list[str]] = {}
    try:
        for lang in LANGUAGES:
            for path in public:
                with_language(signed_out, f"{center.url}{path}", lang)
                problems[f"{lang} {path} (signed out)"] = unexplained(signed_out, allowed)
    finally:
        anonymous.close()

    sign_in(page, center, "admin", "/")
    for lang in LANGUAGES:
        for path in PAGES:
            if path in public:
                continue
            with_language(page, f"{center.url}{path}", lang)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            problems[f"{lang} {path}"] = unexplained(page, allowed)
        assert page.evaluate("window.eccI18n.missingKeys()") == []
    bad = [f"{page}: {text}" for page, texts in problems.items() for text in texts]
    assert not bad, "strings not in the catalogues:\n" + "\n".join(bad)
    assert len(problems) >= 2 * len(PAGES)
