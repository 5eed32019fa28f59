"""Browser tests: Playwright for Python driving Debian's Chromium, headless, against the
storefront served by gunicorn (tests/e2e/live_server.py).

Without /usr/bin/chromium the tests skip with the reason, except when CI is set: there a
missing browser fails the run. `make test` installs Chromium when it runs as root.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)

from tests.e2e import live_server
from tests.e2e.live_server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
SCREENSHOTS = live_server.ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000
SHOPPER_PASSWORD = "a long shopper passphrase"


def require_browser(path: Path, env: Mapping[str, str]) -> Path:
    """``path`` when it exists; otherwise skip, or fail when CI is set."""
    if not path.exists():
        reason = (f"Debian's Chromium is not installed at {path} (package 'chromium'; "
                  "`make test` installs it when run as root)")
        if env.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def chromium() -> Path:
    return require_browser(CHROMIUM, os.environ)


@pytest.fixture(scope="session")
def server(chromium, tmp_path_factory) -> Iterator[LiveServer]:
    with live_server.serve(tmp_path_factory.mktemp("live-server")) as running:
        yield running


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# Chromium logs every 4xx/5xx answer so; a page's own status (a refused form is a 422) is
# expected, a failing stylesheet or script is caught by ``_response`` instead.
_STATUS_LOG = "Failed to load resource: the server responded with a status of"


@dataclass
class BrowserErrors:
    """What the pages showed as broken: script errors, console errors (a CSP refusal is
    one), subresources that failed, and any dialog (an escaping bug would alert)."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("dialog", lambda dialog: self.messages.append(f"dialog: {dialog.message}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(_STATUS_LOG):
            self.messages.append(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.messages.append(f"{response.status} for {response.url}")


@pytest.fixture
def open_context(browser: Browser, server: LiveServer):
    """New browser windows (each with its own cookies), all closed after the test, which
    fails if any page logged an error."""
    opened: list[BrowserContext] = []
    errors = BrowserErrors()

    def factory(viewport: dict = DESKTOP) -> tuple[BrowserContext, Page]:
        context = browser.new_context(base_url=server.url, viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context, errors.watch(context.new_page())

    yield factory
    for context in opened:
        context.close()
    assert errors.messages == []


@pytest.fixture
def page(open_context) -> Page:
    return open_context()[1]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- what shoppers do ------------------------------------------------------------------

def sign_up(page: Page, name: str = "Robin Shopper") -> str:
    """Fill the sign-up form the page shows (or open it); returns the new e-mail."""
    email = f"shopper-{uuid.uuid4().hex[:12]}@example.com"
    if "/signup" not in page.url:
        page.goto("/signup")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(SHOPPER_PASSWORD)
    page.get_by_label("Repeat the password").fill(SHOPPER_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    return email


def add_to_cart(page: Page, product_url: str, quantity: int = 1) -> None:
    page.goto(product_url)
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart$"))


def fill_checkout(page: Page, card: str) -> None:
    page.get_by_label("Full name").fill("Robin Shopper")
    page.get_by_label("Street address").fill("1 Market Street")
    page.get_by_label("Postal code").fill("12345")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Country code").fill("US")
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry month").select_option("12")
    page.get_by_label("Expiry year").select_option(index=3)
    page.get_by_label("Security code (CVC)").fill("123")


def pay_button(page: Page):
    return page.get_by_role("button", name=re.compile(r"^Pay .* and place the order$"))
