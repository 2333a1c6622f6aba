"""Logging in and out of the dashboard in a browser."""
import pytest
from playwright.sync_api import expect


# The dashboard fixtures, shared by name.


pytestmark = pytest.mark.browser


def test_log_in_lands_on_the_asked_page_and_log_out_ends_the_session(anonymous_page, operator):
    page = anonymous_page
    page.goto("/register-station/")
    expect(page).to_have_url("/accounts/login/?next=/register-station/")

    page.fill("input[name=username]", operator["user"].username)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_have_text("Wrong username or password.")

    page.fill("input[name=password]", operator["password"])
    page.click("button[type=submit]")
    expect(page).to_have_url("/register-station/")
    expect(page.locator("#logout")).to_have_text(f"Log out {operator['user'].username}")

    page.click("#logout")
    expect(page).to_have_url("/accounts/login/")
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    expect(page.locator("nav")).to_have_count(0)
