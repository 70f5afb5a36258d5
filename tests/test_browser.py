"""Real Chromium (Debian's), driven by Playwright: people in separate browser contexts see each other live."""

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


class Tab:
    """One person's page, collecting console errors (a CSP violation shows up there)."""

    def __init__(self, browser, viewport, javascript=True):
        self.context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.errors = []
        # Refused actions answer 4xx on purpose, which Chromium logs as a failed resource.
        self.page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
                     and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def shot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()


def card(page, title):
    """A topic card by its exact title."""
    exact = re.compile(f"^{re.escape(title)}$")
    return page.locator(".cards > li.card", has=page.locator(".card-title", has_text=exact))


def open_menu(page, title):
    """Open a card's menu (its Edit, Delete and Move tools) and return the card."""
    found = card(page, title)
    found.locator(".card-menu > summary").click()
    return found


def start_meeting(tab, base: str, title: str) -> str:
    """Fay starts a meeting from the home page; returns the board's address."""
    tab.page.goto(base + "/")
    tab.page.get_by_label("Meeting title").fill(title)
    tab.page.get_by_label("Your name").fill("Fay")
    tab.page.get_by_role("button", name="Start meeting").click()
    tab.page.wait_for_url("**/m/*")
    return tab.page.url


def test_two_participants_see_each_others_topic_and_vote_without_reloading(chromium, server):
    from playwright.sync_api import expect

    fay, ann, bob = Tab(chromium, LAPTOP), Tab(chromium, PHONE), Tab(chromium, PHONE)
    try:
        start_meeting(fay, server.base, "Browser coffee")
        link = fay.page.locator("#join-link").input_value()
        for tab, name in ((ann, "Ann"), (bob, "Bob")):
            tab.page.goto(link)
            tab.page.get_by_label("Your name").fill(name)
            tab.page.get_by_role("button", name="Join").click()
            expect(tab.page.get_by_role("button", name="Add topic")).to_be_visible()
            expect(tab.page.locator("#my-dots")).to_contain_text("3 of 3 votes left")
        expect(fay.page.locator("#participants")).to_contain_text("Bob")
        # Each arrival adds (then lights up) one row on screens already open: Fay saw both arrive.
        expect(fay.page.locator("#participants-count .count")).to_have_text("3")
        expect(fay.page.locator("#participants-list > li")).to_have_count(3)
        for name in ("Fay", "Ann", "Bob"):
            expect(fay.page.locator("#participants-list > li.present", has_text=name)).to_have_count(1)

        ann.page.get_by_label("Propose a topic").fill("Four-day week")
        ann.page.get_by_role("button", name="Add topic").click()
        expect(ann.page.get_by_label("Propose a topic")).to_have_value("")
        expect(card(bob.page, "Four-day week")).to_be_visible()
        expect(open_menu(fay.page, "Four-day week").get_by_role("button", name="Move to Discussing")).to_be_visible()
        card(fay.page, "Four-day week").locator(".card-menu > summary").click()  # closed again
        expect(card(bob.page, "Four-day week").get_by_role("button", name="Delete")).to_have_count(0)

        bob.page.get_by_label("Propose a topic").fill("On-call rota")
        bob.page.get_by_role("button", name="Add topic").click()
        expect(card(ann.page, "On-call rota")).to_be_visible()

        card(bob.page, "On-call rota").get_by_role("button", name="Vote").click()
        expect(card(ann.page, "On-call rota").locator(".votes")).to_contain_text("1 vote")
        expect(card(fay.page, "On-call rota").locator(".votes")).to_contain_text("1 vote")
        expect(ann.page.locator("#list-to_discuss .card-title").first).to_have_text("On-call rota")
        expect(card(bob.page, "On-call rota").get_by_role("button", name="Remove vote")).to_be_visible()
        expect(bob.page.locator("#my-dots")).to_contain_text("2 of 3 votes left")
        expect(card(ann.page, "On-call rota").get_by_role("button", name="Vote")).to_be_visible()
        expect(ann.page.locator("#my-dots")).to_contain_text("3 of 3 votes left")

        open_menu(fay.page, "On-call rota").get_by_role("button", name="Move to Discussing").click()
        expect(bob.page.locator("#list-discussing")).to_contain_text("On-call rota")
        expect(ann.page.locator("#list-to_discuss")).not_to_contain_text("On-call rota")
        expect(fay.page.locator("#connection")).to_be_hidden()

        ann.page.get_by_role("button", name="Add topic").click()  # empty: the browser's own check stops it
        ann.page.get_by_label("Propose a topic").fill("   ")
        ann.page.get_by_role("button", name="Add topic").click()
        expect(ann.page.locator("#flash")).to_contain_text("Topic title is required.")

        fay.shot("board-laptop")
        bob.shot("board-phone")
        for tab in (fay, ann, bob):
            assert tab.errors == []
        bob.close()  # Bob closes his only tab: after the grace period the others see him away
        expect(ann.page.locator("#participants-list > li.away", has_text="Bob")).to_have_count(1, timeout=15000)
        expect(ann.page.locator("#participants-list > li.present")).to_have_count(2)
    finally:
        for tab in (fay, ann, bob):
            tab.close()


def test_every_action_works_without_javascript(chromium, server):
    from playwright.sync_api import expect

    fay, ann = Tab(chromium, LAPTOP, javascript=False), Tab(chromium, PHONE, javascript=False)
    try:
        ann.page.goto(start_meeting(fay, server.base, "No-JS coffee"))
        ann.page.get_by_label("Your name").fill("Ann")
        ann.page.get_by_role("button", name="Join").click()
        ann.page.get_by_label("Propose a topic").fill("Plain HTML")
        ann.page.get_by_role("button", name="Add topic").click()
        card(ann.page, "Plain HTML").get_by_role("button", name="Vote").click()
        expect(card(ann.page, "Plain HTML").locator(".votes")).to_contain_text("1 vote")
        open_menu(ann.page, "Plain HTML").get_by_text("Edit").click()
        card(ann.page, "Plain HTML").get_by_label("Title").fill("Plain HTML, edited")
        card(ann.page, "Plain HTML").get_by_role("button", name="Save changes").click()
        expect(ann.page.locator("#list-to_discuss")).to_contain_text("Plain HTML, edited")
        fay.page.reload()
        open_menu(fay.page, "Plain HTML, edited").get_by_role("button", name="Move to Discussed").click()
        expect(fay.page.locator("#list-discussed")).to_contain_text("Plain HTML, edited")
        fay.page.get_by_role("button", name="Open voting").click()  # which starts the meeting too
        expect(fay.page.locator("#meeting-status")).to_contain_text("In progress")
        ann.page.get_by_role("button", name="Leave meeting").click()
        # Without JavaScript the server asks on a page of its own; the same button there goes ahead.
        expect(ann.page.get_by_role("heading", name="Leave “No-JS coffee”?")).to_be_visible()
        ann.page.get_by_role("button", name="Leave meeting").click()
        expect(ann.page.get_by_role("button", name="Rejoin")).to_be_visible()
    finally:
        fay.close()
        ann.close()



def test_a_full_lean_coffee_with_a_facilitator_and_two_participants(chromium, server):
    from playwright.sync_api import expect

    fay, ann, bob = Tab(chromium, LAPTOP), Tab(chromium, PHONE), Tab(chromium, PHONE)
    try:
        page = fay.page
        page.goto(server.base + "/")
        page.get_by_label("Meeting title").fill("Friday coffee")
        page.get_by_label("Your name").fill("Fay")
        page.get_by_text("More settings").click()
        page.get_by_label("Hidden voting").check()
        page.get_by_label("Timeboxes").fill("3s 2s")
        page.get_by_role("button", name="Start meeting").click()
        page.wait_for_url("**/m/*")
        link = page.url
        for tab, name in ((ann, "Ann"), (bob, "Bob")):
            tab.page.goto(link)
            tab.page.get_by_label("Your name").fill(name)
            tab.page.get_by_role("button", name="Join").click()
            expect(tab.page.get_by_role("button", name="Add topic")).to_be_visible()

        # Collect
        for tab, title in ((ann, "Remote Fridays"), (bob, "Release train"), (ann, "remote fridays")):
            tab.page.get_by_label("Propose a topic").fill(title)
            tab.page.get_by_role("button", name="Add topic").click()
            expect(card(page, title)).to_be_visible()

        # Vote, hidden
        page.get_by_role("button", name="Open voting").click()
        expect(ann.page.locator("#meeting-status .phase.current")).to_have_text("Voting")
        card(ann.page, "Release train").get_by_role("button", name="Vote").click()
        card(bob.page, "Release train").get_by_role("button", name="Vote").click()
        card(bob.page, "remote fridays").get_by_role("button", name="Vote").click()
        expect(bob.page.locator("#my-dots")).to_contain_text("1 of 3 votes left")
        expect(card(ann.page, "Release train").locator(".votes")).to_have_text("votes hidden")

        # Merge the duplicate; Bob's dot moves with it
        page.get_by_text("Merge duplicate topics").click()
        page.get_by_label("Merge this topic").select_option(label="remote fridays")
        page.get_by_label("into").select_option(label="Remote Fridays")
        page.get_by_role("button", name="Merge topics").click()
        page.get_by_role("dialog").get_by_role("button", name="Merge topics").click()
        expect(card(ann.page, "remote fridays")).to_have_count(0)

        # Discuss under a 3-second timebox
        page.get_by_role("button", name="Close voting and discuss the top topic").click()
        expect(bob.page.locator("#timer")).to_contain_text("Release train")
        expect(card(ann.page, "Remote Fridays").locator(".votes")).to_contain_text("1 vote")
        expect(ann.page.locator("#thumbs")).to_contain_text("Time is up", timeout=10_000)
        ann.page.get_by_role("button", name="👍 Yes").click()
        bob.page.get_by_role("button", name="✋ Neutral").click()
        expect(page.locator("#thumbs-counts")).to_contain_text("1 continue")
        expect(page.locator("#thumbs-counts")).to_contain_text("1 neutral")
        expect(ann.page.get_by_role("button", name="👍 Yes")).to_have_attribute("aria-pressed", "true")
        ann.shot("thumbs-phone")
        page.get_by_role("button", name="Continue for 2 s").click()
        expect(bob.page.locator("#thumbs")).to_be_hidden()

        # Capture a takeaway and an action while the second timebox runs
        hiring = card(bob.page, "Release train")
        hiring.get_by_text("Add a takeaway or action").click()
        hiring.get_by_role("textbox", name="Text").fill("Ship every two weeks")
        hiring.get_by_role("button", name="Add note").click()
        expect(card(ann.page, "Release train")).to_contain_text("Ship every two weeks")
        hiring.get_by_text("Add a takeaway or action").click()
        hiring.get_by_role("radio", name="Action").check()
        hiring.get_by_role("textbox", name="Text").fill("Write the release checklist")
        hiring.get_by_role("combobox", name="Owner").fill("Bob")  # picked among the participants
        hiring.get_by_role("button", name="Add note").click()
        expect(card(page, "Release train")).to_contain_text("owner: Bob")

        expect(page.locator(".decide")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Move on").click()  # and the next top topic starts
        expect(ann.page.locator("#list-discussed")).to_contain_text("Release train")
        expect(ann.page.locator("#list-discussing")).to_contain_text("Remote Fridays")
        fay.shot("facilitation-laptop")
        page.get_by_role("button", name="Finish meeting").click()
        page.get_by_role("dialog").get_by_role("button", name="Finish meeting").click()
        expect(ann.page.locator("#meeting-status")).to_contain_text("read-only")

        # Summary and export: the facilitator lands there
        expect(page).to_have_url(link + "/summary")
        expect(page.locator("main")).to_contain_text("Round 1 (3 s): 👍 1 ✋ 1 👎 0 → continue")
        expect(page.locator("main")).to_contain_text("Write the release checklist")
        fay.shot("summary-laptop")
        with page.expect_download() as download:
            page.get_by_role("link", name="Export Markdown").click()
        markdown = Path(download.value.path()).read_text()
        assert "### 1. Release train" in markdown and "- Ship every two weeks" in markdown
        assert "- [ ] Write the release checklist (Bob)" in markdown and "Remote Fridays" in markdown
        for tab in (fay, ann, bob):
            assert tab.errors == []
    finally:
        for tab in (fay, ann, bob):
            tab.close()
