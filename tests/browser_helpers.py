"""Dashboard test helpers: a logged-in HTTP client, and headless Chromium driven by Playwright.

Browser tests are skipped when /usr/bin/chromium is missing, and fail instead when CI=true.
"""
import concurrent.futures
import os
import re
from pathlib import Path

import httpx
import pytest

from tests import environment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOT_DIR = Path(os.environ.get("CSMS_TEST_LOG_DIR", environment.RUN_DIR))
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class DashboardClient(httpx.Client):
    """An operator's browser session without the browser: cookies, CSRF tokens, form posts."""

    def log_in(self, username, password):
        answer = self.submit("/accounts/login/", {"username": username, "password": password})
        assert "sessionid" in self.cookies, answer.text
        return answer

    def csrf_token(self, path):
        page = self.get(path)
        match = CSRF_FIELD.search(page.text)
        assert match, f"no form with a CSRF token on {path}"
        return match.group(1)

    def submit(self, path, data, form_page=None):
        """POST a form as the page at `form_page` (default `path`) would; follows redirects."""
        token = self.csrf_token(form_page or path)
        return self.post(path, data={**data, "csrfmiddlewaretoken": token}, follow_redirects=True)


@pytest.fixture
def dashboard(csms, operator):
    with DashboardClient(base_url=csms.base_url, timeout=30) as client:
        client.log_in(operator["user"].username, operator["password"])
        yield client


@pytest.fixture
def operator_client(operator):
    """Django's test client logged in as the operator: pages rendered in the test process, where
    their queries can be counted."""
    from django.test import Client

    client = Client()
    client.force_login(operator["user"])
    return client


def in_thread(function, *args, **kwargs):
    """Run ORM code off the test thread: Playwright's event loop makes Django refuse it there."""
    from django.db import connections

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            # The thread ends here: give its connection back, or every call keeps one of the
            # pool's (PostgreSQL) until the pool runs dry.
            connections.close_all()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture(scope="module")
def browser(csms, operator):
    from playwright.sync_api import expect, sync_playwright

    # Module scope: Playwright's loop must be gone before tests of other modules use the ORM.
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)

    # Long: expect() returns as soon as the page shows it; a loaded machine must not fail it.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser, csms, storage_state=None):
    context = browser.new_context(base_url=csms.base_url, viewport={"width": 1440, "height": 1000},
                                  storage_state=storage_state)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(error))
    return page


def close_page(page):
    page.context.close()
    assert not page.script_errors, f"JavaScript errors on the page: {page.script_errors}"


@pytest.fixture(scope="module")
def operator_session(browser, csms, operator):
    """The cookies of one browser login, reused by each test's fresh context."""
    page = new_page(browser, csms)
    log_in(page, operator["user"].username, operator["password"])
    state = page.context.storage_state()
    close_page(page)
    return state


@pytest.fixture
def anonymous_page(browser, csms):
    page = new_page(browser, csms)
    yield page
    close_page(page)


@pytest.fixture
def page(browser, csms, operator_session):
    page = new_page(browser, csms, operator_session)
    yield page
    close_page(page)


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#logout")


def wait_live(page):
    """Wait until the page's push socket is open, so no update is missed after this."""
    page.wait_for_selector('#live-state[data-state="open"]')


def screenshot(page, name):
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
