"""Issue 18 in Debian's Chromium: a crowd's board shows counts and opens its people page, at phone size (390×844,
touch); screenshots of both at phone and laptop (1280×800) size in test-artifacts/."""

import pytest

from tests.crowd_helpers import db_file, seed_people
from tests.helpers import HttpPerson
from tests.test_ux import LAPTOP, PHONE, browser_for, open_page, shot, start

pytestmark = pytest.mark.browser


def test_a_crowd_board_shows_counts_and_opens_the_people_page_on_a_phone(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "All hands coffee")
    ann.join(code, "Ann")
    assert fay.act(f"/m/{code}/topics", {"title": "Four-day week"}).status_code == 200
    seed_people(db_file(server.database_url), code, 120)
    phone_ctx = browser_for(chromium, ann, server.base, viewport=PHONE, has_touch=True, is_mobile=True)
    laptop_ctx = browser_for(chromium, fay, server.base)
    try:
        phone = open_page(phone_ctx, f"{server.base}/m/{code}")
        people = phone.locator("#participants")
        expect(people.locator("#participants-count .count")).to_have_text("122")
        expect(people.locator("#participants-count .here-count")).to_have_text("1 here, 121 away")
        expect(people.get_by_text("Fay")).to_be_visible()  # the facilitator, named
        expect(people.locator(".person")).to_have_count(1)
        people.scroll_into_view_if_needed()
        shot(phone, "crowd-board-phone")
        people.get_by_role("link", name="See everyone").tap()
        expect(phone.get_by_role("heading", name="Everyone in this meeting")).to_be_visible()
        expect(phone.locator("#people > li")).to_have_count(122)
        expect(phone.get_by_text("Crowd 0119")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(phone, "crowd-people-phone")
        assert not phone.errors, phone.errors
        laptop = open_page(laptop_ctx, f"{server.base}/m/{code}", LAPTOP)
        expect(laptop.locator("#participants-count .count")).to_have_text("122")
        shot(laptop, "crowd-board-laptop", full_page=False)
        laptop.get_by_role("link", name="See everyone").click()
        expect(laptop.get_by_role("button", name="Make co-facilitator Ann")).to_be_visible()
        shot(laptop, "crowd-people-laptop", full_page=False)
        laptop.get_by_role("button", name="Make co-facilitator Ann").click()
        expect(laptop.locator("#people > li", has_text="Ann").locator(".tag")).to_have_text("facilitator")
        assert not laptop.errors, laptop.errors
    finally:
        phone_ctx.close()
        laptop_ctx.close()
