"""Issue 19 in Debian's Chromium: a second device, a co-facilitator taking over, an anonymous meeting read from every
output; screenshots at phone (390×844, touch), laptop (1280×800) and room screen (1920×1080) size."""

import re

import pytest

from tests.helpers import HttpPerson
from tests.test_browser import card
from tests.test_facilitator_flow import axe_clean
from tests.test_ux import LAPTOP, PHONE, PROJECTOR, browser_for, open_page, shot, start
from tests.test_ux import axe_source as axe_fixture  # noqa: F401 (test_ux's session fixture, registered here as axe_fixture)

pytestmark = pytest.mark.browser


def test_a_second_device_signs_in_by_the_link_and_shows_the_same_votes_live(chromium, server, request):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Two devices")
    ann.join(code, "Ann")
    assert fay.act(f"/m/{code}/topics", {"title": "Coffee machine"}).status_code == 200
    laptop_ctx = browser_for(chromium, ann, server.base)
    phone_ctx = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        laptop = open_page(laptop_ctx, f"{server.base}/m/{code}", LAPTOP)
        laptop.get_by_role("link", name="Other device").click()
        laptop.get_by_role("button", name="Make a sign-in link").click()
        expect(laptop.get_by_text("It works once, for 10 minutes.")).to_be_visible()
        expect(laptop.locator(".qr svg")).to_be_visible()
        shot(laptop, "device-link-laptop", full_page=False)
        axe_clean(laptop, request, "device link")
        link = laptop.get_by_label("Your personal link").input_value()
        phone = phone_ctx.new_page()
        phone.goto(link)
        phone.get_by_role("button", name="Sign in here").click()
        expect(phone.get_by_text("This device is now signed in as Ann")).to_be_visible()
        expect(phone.get_by_role("link", name="Two devices")).to_be_visible()  # My meetings came along
        shot(phone, "device-phone-signed-in", full_page=False)
        phone.get_by_role("button", name="Dismiss this message").click()  # the toast sits over the list's foot
        phone.get_by_role("link", name="Two devices").click()
        phone.wait_for_selector("html[data-live=true]", state="attached", timeout=10_000)
        card(phone, "Coffee machine").get_by_role("button", name=re.compile(r"^\W*Vote for")).click()
        # The laptop (the same person) shows the vote cast on the phone at once.
        laptop.goto(f"{server.base}/m/{code}")  # back to the board, which connects again
        laptop.wait_for_selector("html[data-live=true]", state="attached", timeout=10_000)
        phone_vote = card(phone, "Coffee machine").get_by_role("button", name=re.compile("Remove vote"))
        expect(phone_vote).to_be_visible()
        card(phone, "Coffee machine").get_by_role("button", name=re.compile("Remove vote")).click()
        expect(card(laptop, "Coffee machine").get_by_role("button", name=re.compile(r"^\W*Vote for"))).to_be_visible()
        card(phone, "Coffee machine").get_by_role("button", name=re.compile(r"^\W*Vote for")).click()
        expect(card(laptop, "Coffee machine").get_by_role("button", name=re.compile("Remove vote"))).to_be_visible(
            timeout=10_000)  # live on the laptop, cast on the phone
        shot(phone, "device-phone-board", full_page=False)
        # The link is spent: opening it again signs nobody in.
        other = chromium.new_context(viewport=PHONE)
        stranger = other.new_page()
        stranger.goto(link)
        stranger.get_by_role("button", name="Sign in here").click()
        expect(stranger.get_by_role("heading", name="Link not valid")).to_be_visible()
        other.close()
    finally:
        laptop_ctx.close()
        phone_ctx.close()


def test_a_co_facilitator_takes_over_from_a_facilitator_who_left(chromium, server, request):
    from playwright.sync_api import expect

    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Handover")
    ann.join(code, "Ann")
    bob.join(code, "Ann")  # a second Ann: told apart as "Ann (2)"
    assert bob.act(f"/m/{code}/topics", {"title": "Coffee machine"}).status_code == 200
    fay_ctx, ann_ctx = browser_for(chromium, fay, server.base), browser_for(chromium, ann, server.base)
    try:
        fay_page = open_page(fay_ctx, f"{server.base}/m/{code}", LAPTOP)
        ann_page = open_page(ann_ctx, f"{server.base}/m/{code}", PHONE)
        expect(fay_page.locator("#participants-list")).to_contain_text("Ann (2)")
        expect(ann_page.get_by_role("button", name="Open voting")).to_have_count(0)
        expect(ann_page.get_by_label(re.compile("^Room screen link"))).to_have_count(0)
        # Fay runs the meeting alone: she is not offered Leave (the server would refuse it).
        expect(fay_page.get_by_label("Join link")).to_be_visible()
        expect(fay_page.get_by_role("button", name="Leave meeting")).to_have_count(0)
        fay_page.get_by_text("Facilitators (1)").click()
        fay_page.get_by_label("Make a co-facilitator").select_option(label="Ann")
        fay_page.get_by_role("button", name="Make co-facilitator").click()
        expect(fay_page.get_by_text("Facilitators (2)")).to_be_visible()
        expect(ann_page.get_by_role("button", name="Open voting")).to_be_visible(timeout=10_000)  # live, no reload
        expect(fay_page.get_by_role("button", name="Leave meeting")).to_be_visible()  # someone else runs it too now
        # Ann's open board has the room screen's link (completed with the address she opened), and may renew it.
        room_link = ann_page.get_by_label(re.compile("^Room screen link"))
        expect(room_link).to_have_value(re.compile(rf"^{re.escape(server.base)}/room/[A-Za-z0-9_-]{{32}}$"))
        expect(room_link).to_have_value(fay_page.get_by_label(re.compile("^Room screen link")).input_value())
        expect(ann_page.get_by_role("button", name="Renew room link")).to_be_visible()
        shot(fay_page, "cofacilitator-laptop", full_page=False)
        axe_clean(fay_page, request, "facilitators card")
        fay_page.get_by_role("button", name="Leave meeting").click()
        fay_page.get_by_role("dialog").get_by_role("button", name="Leave meeting").click()
        expect(ann_page.locator("#participants-list")).not_to_contain_text("Fay", timeout=10_000)
        # Alone now, Ann is not offered Leave either: it went from her open board as Fay left.
        expect(ann_page.get_by_role("button", name="Leave meeting")).to_have_count(0)
        ann_page.get_by_role("button", name="Open voting").click()
        expect(ann_page.locator("#meeting-status")).to_have_attribute("data-phase", "voting", timeout=10_000)
        ann_page.get_by_role("button", name="Close voting and discuss the top topic").click()
        expect(ann_page.locator("#meeting-status")).to_have_attribute("data-phase", "discussing", timeout=10_000)
        expect(ann_page.get_by_text("+ Add a topic")).to_be_visible()  # a facilitator may still add during discussion
        shot(ann_page, "cofacilitator-last-no-leave", full_page=False)
        ann_page.get_by_text("Facilitators (1)").click()
        shot(ann_page, "cofacilitator-phone", full_page=False)
    finally:
        fay_ctx.close()
        ann_ctx.close()


def test_an_anonymous_private_meeting_read_from_every_output(chromium, server, request):
    from playwright.sync_api import expect

    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Anonymous ideas")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    ctxs = [browser_for(chromium, who, server.base) for who in (fay, ann, bob)]
    try:
        fay_page = open_page(ctxs[0], f"{server.base}/m/{code}", LAPTOP)
        fay_page.get_by_text("Meeting settings").click()
        fay_page.get_by_label(re.compile("Show who proposed each topic")).uncheck()
        fay_page.get_by_label(re.compile("Private writing \\(while")).check()
        fay_page.get_by_role("button", name="Save settings").click()
        ann_page = open_page(ctxs[1], f"{server.base}/m/{code}", PHONE)
        bob_page = open_page(ctxs[2], f"{server.base}/m/{code}", LAPTOP)
        room = open_page(ctxs[0], f"{server.base}/m/{code}/room", PROJECTOR)
        expect(ann_page.locator("#writing")).to_contain_text("Private writing")
        ann_page.get_by_label("Propose a topic").fill("Salary bands")
        ann_page.get_by_role("button", name="Add topic").click()
        expect(card(ann_page, "Salary bands")).to_contain_text("yours · anonymous to others")
        expect(bob_page.locator("#writing")).to_contain_text("1 other person has written topics.", timeout=10_000)
        expect(bob_page.get_by_text("Salary bands")).to_have_count(0)
        expect(room.get_by_text("Salary bands")).to_have_count(0)
        shot(ann_page, "private-writing-phone", full_page=False)
        axe_clean(ann_page, request, "private writing")
        fay_page.get_by_role("button", name="Reveal all topics").click()
        for page in (bob_page, fay_page):
            expect(card(page, "Salary bands").locator(".byline")).to_have_text("anonymous", timeout=10_000)
        expect(room.get_by_text("Salary bands")).to_be_visible(timeout=10_000)
        expect(room.locator("body")).not_to_contain_text("Ann")
        shot(room, "anonymous-room", full_page=False)
        shot(bob_page, "anonymous-laptop", full_page=False)
        summary = ctxs[2].new_page()
        summary.goto(f"{server.base}/m/{code}/summary")
        expect(summary.get_by_text("proposed by anonymous")).to_be_visible()
        markdown = bob.get(f"/m/{code}/summary.md").text
        assert "proposed by anonymous" in markdown and "Salary bands" in markdown and "proposed by Ann" not in markdown
    finally:
        for ctx in ctxs:
            ctx.close()
