"""Real Chromium: leaving or signing out in one tab ends the person's other tabs, which show what they may now see."""

import pytest

from tests.test_browser import LAPTOP, PHONE, Tab, start_meeting

pytestmark = pytest.mark.browser


def join(tab, link: str, name: str) -> None:
    from playwright.sync_api import expect

    tab.page.goto(link)
    tab.page.get_by_label("Your name").fill(name)
    tab.page.get_by_role("button", name="Join").click()
    expect(tab.page.get_by_role("button", name="Add topic")).to_be_visible()


def test_leaving_in_one_tab_turns_the_other_tab_into_the_rejoin_form(chromium, server):
    from playwright.sync_api import expect

    fay, ann = Tab(chromium, LAPTOP), Tab(chromium, PHONE)
    try:
        link = start_meeting(fay, server.base, "Leaving coffee")
        join(ann, link, "Ann")
        second = ann.context.new_page()  # Ann's second tab: same browser, same cookies
        second.goto(link)
        expect(second.locator("html[data-live=true]")).to_have_count(1)
        ann.page.get_by_role("button", name="Leave meeting").click()
        ann.page.get_by_role("dialog").get_by_role("button", name="Leave meeting").click()  # it asks first
        expect(second.get_by_role("button", name="Rejoin")).to_be_visible()
        expect(second.get_by_text("You left this meeting.")).to_be_visible()
        fay.page.get_by_label("Propose a topic").fill("Said after Ann left")
        fay.page.get_by_role("button", name="Add topic").click()
        expect(fay.page.locator("#list-to_discuss")).to_contain_text("Said after Ann left")
        expect(second.get_by_text("Said after Ann left")).to_have_count(0)
        assert fay.errors == [] and ann.errors == []
    finally:
        fay.close()
        ann.close()


def test_signing_out_on_one_device_ends_the_others(chromium, server):
    from playwright.sync_api import expect

    fay, phone = Tab(chromium, LAPTOP), Tab(chromium, PHONE)
    try:
        link = start_meeting(fay, server.base, "Two devices")
        # Fay's phone holds a copy of her cookies (as if she had signed in there too).
        phone.context.add_cookies(fay.context.cookies())
        phone.page.goto(link)
        expect(phone.page.locator("html[data-live=true]")).to_have_count(1)
        fay.page.goto(server.base + "/")
        fay.page.get_by_role("button", name="Sign out on all devices").click()
        expect(fay.page.get_by_text("You are signed out on all your devices.")).to_be_visible()
        expect(phone.page.get_by_role("button", name="Join")).to_be_visible()  # the phone's board reloaded, signed out
        expect(phone.page.get_by_role("button", name="Add topic")).to_have_count(0)
        assert fay.errors == [] and phone.errors == []
    finally:
        fay.close()
        phone.close()
