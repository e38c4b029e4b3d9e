"""Log in through the page, see the shell; a wrong password shows a clear error."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.center import PASSWORD, RunningCenter


def login(page: Page, center: RunningCenter, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{center.url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def test_login_shows_the_shell(page: Page, center: RunningCenter, artifacts: Path) -> None:
    page.goto(f"{center.url}/")
    expect(page).to_have_url(f"{center.url}/login?next=%2F")
    login(page, center, "operator")
    expect(page).to_have_url(f"{center.url}/")
    expect(page.locator("#site-name")).to_have_text("北仑区应急指挥中心")
    expect(page.locator("#user")).to_contain_text("operator · 值班员")
    expect(page.locator("#n-stations")).to_have_text(str(len(center.site.stations)))
    expect(page.locator("#conn")).to_have_attribute("data-state", "open")
    page.screenshot(path=str(artifacts / "shell-zh.png"))
    page.click("#lang-toggle")
    expect(page.locator("#site-name")).to_have_text("Beilun District Emergency Command Center")
    expect(page.locator("#logout")).to_have_text("Sign out")
    page.screenshot(path=str(artifacts / "shell-en.png"))
    page.click("#logout")
    expect(page).to_have_url(f"{center.url}/login")


def test_wrong_password_shows_a_clear_error(page: Page, center: RunningCenter) -> None:
    login(page, center, "operator", "not the password")
    error = page.locator("#login-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("登录失败：wrong username or password")
    expect(page).to_have_url(f"{center.url}/login")
