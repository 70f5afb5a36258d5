"""Issue 21 in Debian's Chromium: a timed collecting phase, and "I'm done voting" under hidden voting; what each person
sees at phone (390×844, touch), laptop (1280×800) and room screen (1920×1080) size, and axe-core finds nothing."""

import re

import pytest

from tests.helpers import HttpPerson
from tests.test_browser import card
from tests.test_facilitator_flow import axe_clean, shots
from tests.test_ux import LAPTOP, PHONE, PROJECTOR, browser_for, open_page, start, topic_ids
from tests.test_ux import axe_source as axe_fixture  # noqa: F401 (test_ux's session fixture, registered here as axe_fixture)

pytestmark = pytest.mark.browser


def phone_for(chromium, person, base):
    return browser_for(chromium, person, base, viewport=PHONE, has_touch=True, is_mobile=True)


def test_a_timed_collecting_phase(chromium, server, request):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Timed coffee")
    ann.join(code, "Ann")
    fay_ctx, ann_ctx = browser_for(chromium, fay, server.base), phone_for(chromium, ann, server.base)
    try:
        fay_page = open_page(fay_ctx, f"{server.base}/m/{code}", LAPTOP)
        fay_page.get_by_text("Meeting settings").click()
        fay_page.get_by_label(re.compile("^Collecting timebox")).fill("5s")
        fay_page.get_by_label(re.compile("^Planned length in minutes")).fill("45")
        fay_page.get_by_role("button", name="Save settings").click()
        timer = fay_page.locator("#timer")
        expect(timer).to_contain_text("Collecting topics")
        expect(timer.locator(".clock")).to_have_text("0:05")
        pace = fay_page.locator("#pace")
        expect(pace).to_contain_text("Planned length 45 min")
        expect(pace).to_contain_text("Topics that still fit: 5")  # before the clock starts, too
        ann_page = open_page(ann_ctx, f"{server.base}/m/{code}", PHONE)
        room = open_page(fay_ctx, f"{server.base}/m/{code}/room", PROJECTOR)
        expect(ann_page.locator("#timer")).to_contain_text("not started")
        expect(ann_page.get_by_role("button", name="Start timer")).to_have_count(0)  # the facilitators' control

        fay_page.get_by_role("button", name="Start timer").click()  # starts the meeting and its clock
        expect(fay_page.locator("#meeting-status .badge")).to_have_text("In progress")
        expect(pace).to_contain_text("45 min left of 45 min", use_inner_text=True)
        expect(pace).to_contain_text("Topics that still fit: 5")  # 45 min ÷ the first timebox, 8 min
        expect(ann_page.locator("#timer")).to_have_attribute("data-state", "running", timeout=10_000)
        expect(ann_page.locator("#timer")).to_be_in_viewport()
        ann_page.get_by_label("Propose a topic").fill("Release train")
        ann_page.get_by_role("button", name="Add topic").click()

        up = "Time is up for collecting topics."
        expect(ann_page.locator("#timer")).to_contain_text(up, timeout=10_000)
        waiting = "Time is up: the facilitator moves on when the room is ready."
        expect(ann_page.locator("#meeting-status")).to_contain_text(waiting)
        expect(ann_page).to_have_title(re.compile("^Time is up"))
        told = fay_page.locator("#meeting-status")
        expect(told).to_contain_text("Time is up: open voting when the room is ready, or add a minute.", timeout=10_000)
        expect(told.get_by_role("button", name="Open voting")).to_be_in_viewport()
        expect(room.locator("#room-board")).to_contain_text(up, timeout=10_000)
        expect(ann_page.locator("#meeting-status")).to_have_attribute("data-phase", "collecting")  # nothing moved on
        ann_page.get_by_label("Propose a topic").fill("One more idea")  # still collecting
        ann_page.get_by_role("button", name="Add topic").click()
        expect(card(fay_page, "One more idea")).to_be_visible(timeout=10_000)
        shots(ann_page, "timed-collecting-up-phone")
        shots(fay_page, "timed-collecting-up-laptop")
        shots(room, "timed-collecting-up-room")
        axe_clean(fay_page, request, "collecting time up, facilitator")
        axe_clean(ann_page, request, "collecting time up, phone")
        axe_clean(room, request, "collecting time up, room screen")

        fay_page.get_by_role("button", name="+1 minute").click()
        expect(ann_page.locator("#timer .clock")).to_have_text(re.compile("^(1:00|0:5\\d)$"), timeout=10_000)
        expect(ann_page.locator("#timer")).not_to_contain_text(up)
        fay_page.get_by_role("button", name="Open voting").click()
        expect(ann_page.locator("#meeting-status")).to_have_attribute("data-phase", "voting", timeout=10_000)
        expect(ann_page.locator("#timer")).to_be_hidden()  # no voting timebox was set
        for page in (fay_page, ann_page, room):
            assert page.errors == []
    finally:
        fay_ctx.close()
        ann_ctx.close()


def test_done_voting_under_hidden_voting(chromium, server, request):
    from playwright.sync_api import expect

    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Secret ballot")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    assert fay.act(f"/m/{code}/settings", {"hidden_voting": "1", "timebox_pattern": "8m"}).status_code == 200
    for title in ("Hiring", "Budget"):
        assert ann.act(f"/m/{code}/topics", {"title": title}).status_code == 200
    fay.press(code, "phase", {"phase": "voting"})
    fay_ctx, ann_ctx = browser_for(chromium, fay, server.base), phone_for(chromium, ann, server.base)
    try:
        fay_page = open_page(fay_ctx, f"{server.base}/m/{code}", LAPTOP)
        ann_page = open_page(ann_ctx, f"{server.base}/m/{code}", PHONE)
        progress = fay_page.get_by_role("region", name="Voting progress")
        expect(progress).to_contain_text("0 of 3 people done voting")
        expect(progress).to_contain_text("Hidden voting: nobody sees who placed their dots.")
        expect(progress).not_to_contain_text("All dots placed")
        expect(ann_page.get_by_role("region", name="Voting progress")).to_have_count(0)  # the facilitators' alone

        card(ann_page, "Hiring").get_by_role("button", name=re.compile(r"^\W*Vote for")).click()
        expect(ann_page.locator("#my-dots")).to_have_attribute("data-left", "2")
        done = ann_page.get_by_role("button", name="I'm done voting")
        expect(done).to_be_in_viewport()  # in the bar at the bottom of the phone
        done.click()
        expect(ann_page.locator("#done-voting")).to_contain_text("✓ Done voting")
        expect(ann_page.get_by_role("button", name="Not done yet")).to_be_focused()  # the keyboard stays on the control
        expect(progress).to_contain_text("1 of 3 people done voting", timeout=10_000)
        assert bob.act(f"/m/{code}/done-voting", {"done": "1"}).status_code == 200
        expect(progress).to_contain_text("2 of 3 people done voting", timeout=10_000)  # within 5 s of the last
        expect(progress).not_to_contain_text("placed:")
        shots(ann_page, "done-voting-hidden-phone")
        shots(fay_page, "done-voting-hidden-laptop")
        axe_clean(ann_page, request, "done voting, phone")
        axe_clean(fay_page, request, "voting progress under hidden voting, facilitator")

        ann_page.get_by_role("button", name="Not done yet").click()
        expect(ann_page.get_by_role("button", name="I'm done voting")).to_be_visible()
        expect(progress).to_contain_text("1 of 3 people done voting", timeout=10_000)
        assert topic_ids(fay, code)  # the board still hides the counts from the facilitator
        expect(card(fay_page, "Hiring").locator(".votes")).to_have_text("votes hidden")
        for page in (fay_page, ann_page):
            assert page.errors == []
    finally:
        fay_ctx.close()
        ann_ctx.close()
