"""Helpers for driving the browser client as a person would: open a page that records
its errors, sign up or in through the forms, enter a community and a room."""

from __future__ import annotations

import itertools
import re
from typing import Any

from playwright.async_api import Locator, Page, expect

PASSWORD = "correct horse battery staple"
_logins = itertools.count(1)


def unique_login(stem: str) -> str:
    """A login no other page in this run uses (each test has its own server anyway)."""
    return f"{re.sub(r'[^a-z0-9]', '', stem.lower())[:20] or 'user'}{next(_logins)}"


def watch(page: Page) -> Page:
    """Record uncaught errors, dialogs and Content-Security-Policy violations on the page."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))

    def console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(f"csp: {message.text}")

    page.on("console", console)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def assert_clean(*pages: Page) -> None:
    for page in pages:
        assert page.errors == [], page.errors  # type: ignore[attr-defined]


async def new_page(new_context: Any) -> Page:
    return watch(await (await new_context()).new_page())


def signin_form(page: Page) -> Locator:
    return page.get_by_role("form", name="Sign in")


def signup_form(page: Page) -> Locator:
    return page.get_by_role("form", name="Create an account")


async def sign_up(page: Page, name: str, login: str | None = None,
                  password: str = PASSWORD) -> str:
    """Fill in "Create an account" on the page as it is (it must show the form)."""
    login = login or unique_login(name)
    form = signup_form(page)
    await form.get_by_label("Login").fill(login)
    await form.get_by_label("Password").fill(password)
    await form.get_by_label("Display name").fill(name)
    await form.get_by_role("button", name="Create account").click()
    await expect(form).to_be_hidden()
    return login


async def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    form = signin_form(page)
    await form.get_by_label("Login").fill(login)
    await form.get_by_label("Password").fill(password)
    await form.get_by_role("button", name="Sign in").click()
    await expect(form).to_be_hidden()


async def live(page: Page) -> None:
    await expect(page.locator("#status")).to_have_attribute("data-state", "live")


async def open_room(page: Page, room: str) -> None:
    await page.locator("#room-list").get_by_role("button", name=room).click()
    await expect(page.locator("#room-name")).to_have_text(f"# {room}")


async def say(page: Page, text: str, room: str = "Case review") -> None:
    await page.get_by_label(f"Message #{room}").fill(text)
    await page.keyboard.press("Enter")


def texts(page: Page) -> Locator:
    return page.locator(".message-list .message .text")


async def create_community(page: Page, community: str, name: str, *, domain: str = "",
                           purpose: str = "", description: str = "",
                           join_policy: str = "open") -> None:
    """From the directory: fill in "Create a community" and land in it."""
    form = page.get_by_role("form", name="Create a community")
    await form.get_by_label("Community id").fill(community)
    await form.get_by_label("Name", exact=True).fill(name)
    await form.get_by_label("Domain").fill(domain or f"{name} practice")
    await form.get_by_label("Purpose").fill(purpose or f"Why {name} meets")
    await form.get_by_label("Description").fill(description)
    await form.get_by_label("Who can join").select_option(join_policy)
    await form.get_by_role("button", name="Create community").click()
    await expect(page.locator("#community-name")).to_have_text(name)
    await live(page)
