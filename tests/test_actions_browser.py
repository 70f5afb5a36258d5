"""Issue 20 in Debian's Chromium: an action edited in one meeting of a series and finished in the next, on a laptop
(Fay, facilitating) and a phone (Bob, its owner)."""

import re

import pytest

from tests.helpers import HttpPerson
from tests.test_browser import card
from tests.test_ux import LAPTOP, PHONE, browser_for, open_page, shot, start, topic_ids

pytestmark = pytest.mark.browser


def test_an_action_is_edited_in_one_meeting_and_finished_in_the_next_of_its_series(chromium, server):
    from playwright.sync_api import expect

    fay, bob = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Weekly coffee")
    bob.join(code, "Bob")
    for title in ("Rota", "Parking"):
        assert bob.act(f"/m/{code}/topics", {"title": title}).status_code == 200
    fay.press(code, "phase", {"phase": "voting"})
    assert bob.act(f"/m/{code}/topics/{topic_ids(fay, code)['Rota']}/vote").status_code == 200
    fay.press(code, "phase", {"phase": "discussing"})
    fay.press(code, "discuss-next")
    laptop = browser_for(chromium, fay, server.base, viewport=LAPTOP)
    phone = browser_for(chromium, bob, server.base, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        board = open_page(laptop, f"{server.base}/m/{code}")
        bobs = open_page(phone, f"{server.base}/m/{code}")

        # Fay writes an action on the topic under discussion and picks Bob, who is in the meeting, as its owner.
        rota = card(board, "Rota")
        rota.get_by_text("Add a takeaway or action").click()
        rota.get_by_role("radio", name="Action").check()
        rota.get_by_role("textbox", name="Text").fill("Draft the rota")
        rota.get_by_role("combobox", name="Owner").fill("Bob")
        rota.get_by_role("button", name="Add note").click()
        bobs_list = bobs.locator("#actions")
        expect(bobs_list).to_contain_text("Draft the rota")
        expect(bobs_list.get_by_role("button", name="Done Draft the rota")).to_be_visible()

        # She edits it; Bob's phone follows.
        note = board.locator("#list-discussing .note-action", has_text="Draft the rota")
        note.locator(".note-edit > summary").click()
        note.get_by_role("textbox", name="Text").fill("Draft the rota by Friday")
        note.get_by_role("button", name="Save changes").click()
        expect(bobs_list).to_contain_text("Draft the rota by Friday")
        expect(board.locator("#actions")).to_contain_text("Bob · Rota")
        board.locator("#actions").scroll_into_view_if_needed()
        shot(board, "actions-board-laptop", full_page=False)
        bobs.locator("#actions").scroll_into_view_if_needed()
        shot(bobs, "actions-board-phone", full_page=False)

        home = open_page(phone, f"{server.base}/")
        expect(home.locator(".my-actions")).to_contain_text("Draft the rota by Friday")
        shot(home, "my-actions-phone")

        # Finished: the summary lists every action; Fay runs the meeting again.
        fay.press(code, "phase", {"phase": "done", "confirmed": "1"})
        summary = open_page(laptop, f"{server.base}/m/{code}/summary")
        expect(summary.locator(".actions-table")).to_contain_text("Draft the rota by Friday")
        shot(summary, "summary-actions-laptop")
        summary.get_by_role("button", name="Run again").click()
        expect(summary.locator("#meeting")).to_be_visible()
        nxt = summary.url.rsplit("/", 1)[-1]
        assert nxt != code
        expect(summary.locator("#list-to_discuss")).to_contain_text("Parking")  # not discussed: it came along
        expect(summary.locator("#actions")).to_contain_text("from an earlier meeting")

        # Bob comes back by the series' stable link, joins, and finishes his action on his phone.
        series_code = re.search(r"/s/([\w-]+)", open_page(laptop, f"{server.base}/m/{code}/summary").content())[1]
        later = phone.new_page()
        later.goto(f"{server.base}/s/{series_code}")
        later.get_by_role("textbox", name=re.compile("name", re.I)).fill("Bob")
        later.get_by_role("button", name=re.compile("Join", re.I)).click()
        expect(later.locator("html[data-live=true]")).to_be_attached(timeout=10_000)
        later.locator("#actions").get_by_role("button", name="Done Draft the rota by Friday").tap()
        expect(later.locator("#actions .is-done")).to_contain_text("Draft the rota by Friday")
        expect(summary.locator("#actions .is-done")).to_contain_text("Draft the rota by Friday")  # Fay's screen, live
        later.locator("#actions").scroll_into_view_if_needed()
        shot(later, "series-next-board-phone", full_page=False)

        # Done in the series: the first meeting's summary says so, and nothing is left open.
        first = open_page(laptop, f"{server.base}/m/{code}/summary")
        expect(first.locator(".actions-table")).to_contain_text("✓ yes")
        listed = open_page(laptop, f"{server.base}/s/{series_code}/meetings")
        expect(listed.locator("main")).to_contain_text("Meetings (2)")
        expect(listed.locator("main")).to_contain_text("Every action of this series is done.")
        shot(listed, "series-laptop")
        for page in (board, bobs, summary):
            assert page.errors == [], page.errors
    finally:
        laptop.close()
        phone.close()
