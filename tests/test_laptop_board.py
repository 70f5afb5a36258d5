"""The facilitator's laptop fits a real meeting, and the board's small words and states (issue 16), in Chromium."""

import pytest

from tests.helpers import HttpPerson
from tests.test_browser import card
from tests.test_phone_follows import in_viewport, meeting_in_voting
from tests.test_ux import LAPTOP, browser_for, open_page, shot, start

pytestmark = pytest.mark.browser

EIGHT = ("Release train", "On-call rota", "Four-day week", "Pairing days", "Team budget", "Hiring plan",
         "Remote Fridays", "Tech debt")


def test_eight_waiting_topics_fit_a_laptop_screen_with_one_menu_per_card(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, ids = meeting_in_voting(fay, ann, "Laptop coffee", topics=EIGHT)
    context = browser_for(chromium, fay, server.base, viewport=LAPTOP)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        seen = [title for title in EIGHT if all(
            in_viewport(page, f"#topic-{ids[title]} {part}") for part in (".card-title", ".votes", ".my-vote button"))]
        assert len(seen) >= 6, seen
        shot(page, "laptop-eight-topics", full_page=False)
        # Each card's tools are one menu: closed, the card shows no Edit, Delete or Move buttons.
        first = card(page, "Release train")
        for label in ("Edit", "Delete", "Move to Discussing"):
            expect(first.get_by_role("button", name=label)).to_be_hidden()
        menu = first.locator(".card-menu > summary")
        expect(menu).to_have_text("⋯Manage Release train")  # the name a screen reader reads
        menu.click()
        expect(first.get_by_role("button", name="Move to Discussing")).to_be_visible()
        expect(first.get_by_role("button", name="Delete Release train")).to_be_visible()
        assert in_viewport(page, f"#topic-{ids['Release train']} .card-menu-body")
        shot(page, "laptop-card-menu", full_page=False)
        first.get_by_role("button", name="Move to Discussing").click()
        expect(page.locator("#list-discussing")).to_contain_text("Release train")
        expect(page.locator(".card-menu[open]")).to_have_count(0)  # the menu closed behind the move
        # An empty column gives its width to the topics.
        widths = {s: page.locator(f"#column-{s}").bounding_box()["width"] for s in ("to_discuss", "discussing", "discussed")}
        assert widths["discussed"] < widths["to_discuss"] * 0.6, widths
    finally:
        context.close()


def test_empty_columns_counts_and_people_say_what_they_mean(chromium, server):
    from playwright.sync_api import expect

    fay, ann, bob = (HttpPerson(server.base) for _ in range(3))
    code = start(fay, "Words coffee")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    context = browser_for(chromium, fay, server.base, viewport=LAPTOP)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        expect(page.locator("#list-to_discuss")).to_have_text("No topics yet.")
        expect(page.locator("#list-discussing")).to_have_text("None being discussed.")
        expect(page.locator("#list-discussed")).to_have_text("None discussed yet.")
        # Only Fay has the board open: the count says the others are away.
        expect(page.locator("#participants-count")).to_have_text("3 1 here, 2 away")
        assert ann.act(f"/m/{code}/topics", {"title": "Why?"}).status_code == 200
        expect(page.locator("#count-to_discuss")).to_have_attribute("aria-label", "1 topic")
        assert ann.act(f"/m/{code}/topics", {"title": "What?"}).status_code == 200
        expect(page.locator("#count-to_discuss")).to_have_attribute("aria-label", "2 topics")
    finally:
        context.close()


def test_a_renamed_topic_renames_its_vote_button_and_only_changed_cards_flash(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, ids = meeting_in_voting(fay, ann, "Rename coffee", topics=EIGHT[:3])
    context = browser_for(chromium, ann, server.base, viewport=LAPTOP)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        expect(page.get_by_role("button", name="Vote for Release train")).to_be_visible()
        assert fay.act(f"/m/{code}/topics/{ids['Release train']}/edit", {"title": "Release cadence"}).status_code == 200
        expect(page.get_by_role("button", name="Vote for Release cadence")).to_be_visible()
        expect(page.get_by_role("button", name="Vote for Release train")).to_have_count(0)
        expect(page.locator(".is-fresh")).to_have_count(0, timeout=5_000)  # the renamed card's glow is over

        # A phase change re-renders the whole board; no card's words changed, so none flashes.
        page.evaluate("""() => { window.__flashed = new Set();
            new MutationObserver(ms => ms.forEach(m => m.target.classList && m.target.classList.contains('is-fresh')
              && window.__flashed.add(m.target.id)))
              .observe(document.body, {subtree: true, attributes: true, attributeFilter: ['class']}); }""")
        assert fay.press(code, "phase", {"phase": "collecting"}).status_code == 200
        expect(page.locator("#meeting-status")).to_have_attribute("data-phase", "collecting")
        page.wait_for_timeout(300)
        assert page.evaluate("[...window.__flashed]") == []
        assert fay.act(f"/m/{code}/topics/{ids['Four-day week']}/edit", {"title": "Four-day weeks"}).status_code == 200
        expect(card(page, "Four-day weeks")).to_be_visible()
        assert page.evaluate("[...window.__flashed]") == [f"topic-{ids['Four-day week']}"]
    finally:
        context.close()


def test_a_meeting_finished_while_a_participant_watches_hides_leave_and_propose(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Ending coffee")
    ann.join(code, "Ann")
    context = browser_for(chromium, ann, server.base, viewport=LAPTOP)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        expect(page.get_by_role("button", name="Leave meeting")).to_be_visible()
        for phase in ("voting", "discussing", "done"):
            assert fay.press(code, "phase", {"phase": phase, "confirmed": "1"}).status_code == 200, phase
        expect(page.locator("#meeting-status")).to_have_attribute("data-status", "completed")
        # Leaving a completed meeting is refused: the button goes with the live change, not at the next reload.
        expect(page.get_by_role("button", name="Leave meeting")).to_be_hidden()
        expect(page.locator("#propose")).to_be_hidden()
    finally:
        context.close()
