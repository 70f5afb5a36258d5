"""The room screen on a projector, in Debian's Chromium: every phase at 1920×1080 and 1280×720 with twenty topics,
opened by a browser that never joined, over a LAN-like address (PUBLIC_URL, not a secure context)."""

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, CHROMIUM_ARGS, AppServer, HttpPerson, font_px, need
from tests.test_browser import ARTIFACTS
from tests.test_room_link import room_link
from tests.test_ux import axe_source, start, topic_ids  # noqa: F401 (axe_source is a fixture)

pytestmark = pytest.mark.browser

SCREENS = {"1080p": {"width": 1920, "height": 1080}, "720p": {"width": 1280, "height": 720}}
LONG_TITLE = ("Should we move the whole release train to a weekly cadence, and who would own the checklist "
              "and the rollback plan then")[:120]


def titles(n: int) -> list[str]:
    """Twenty topics as people write them: short, long, one very long."""
    words = ["On-call rota", "Four-day week", "Pairing days", "Flaky tests", "Hiring plan", "Team offsite",
             "Code review etiquette", "Remote Fridays", "Retro format", "Tech debt budget", "Docs day",
             "Lunch and learn", "Ownership of the CI pipeline and its alerts", "Meeting-free mornings",
             "Budget for conferences", "Mentoring juniors", "Accessibility audit", "Incident reviews", "Dependency updates"]
    return ([LONG_TITLE] + words)[:n]


@dataclass
class Meetings:
    public: str  # PUBLIC_URL: http://lan.test:<port>
    fay: HttpPerson
    links: dict  # phase -> the room link the facilitator's board shows
    codes: dict


def fill(fay, people, code, n):
    for i, title in enumerate(titles(n)):
        assert people[i % len(people)].act(f"/m/{code}/topics", {"title": title}).status_code == 200
    return topic_ids(fay, code)


def add_notes(who, code, tid, notes):
    for kind, text, owner in notes:
        assert who.act(f"/m/{code}/topics/{tid}/notes", {"kind": kind, "text": text, "owner": owner}).status_code == 200


@pytest.fixture(scope="module")
def lan(tmp_path_factory):
    """The app with PUBLIC_URL on a host name that only the test browser maps to 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("lan")
    srv = AppServer(f"sqlite:///{tmp / 'lan.db'}")
    srv.public = f"http://lan.test:{srv.port}"
    srv.env.update(PUBLIC_URL=srv.public, RATE_LIMIT_WRITES="off")  # the fixture writes a lot, fast
    srv.start(tmp / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def lan_chromium(lan):
    """Chromium resolving lan.test to 127.0.0.1: a LAN address over plain HTTP, so not a secure context."""
    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "Playwright for Python is not installed")
    with sync_playwright() as p:
        args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP lan.test 127.0.0.1"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def meetings(lan):
    """One meeting per phase the room screen must show, each with twenty topics (but the empty one) and notes."""
    fay = HttpPerson(lan.base)
    people = [fay]
    codes = {"empty": start(fay, "Empty coffee")}
    codes["collecting"] = start(fay, "Monday Lean Coffee of the platform team")
    for name in ("Ann", "Bob", "Cy"):
        person = HttpPerson(lan.base)
        person.join(codes["collecting"], name)
        people.append(person)
    fill(fay, people, codes["collecting"], 20)

    def meeting(key, title, timebox="8m 4m 2m"):
        code = codes[key] = start(fay, title, timebox)
        for person, name in zip(people[1:], ("Ann", "Bob", "Cy"), strict=True):
            person.join(code, name)
        return code, fill(fay, people, code, 20)

    code, ids = meeting("voting", "Voting coffee")
    fay.press(code, "phase", {"phase": "voting"})
    for who, title in ((people[1], "On-call rota"), (people[2], "On-call rota"), (people[1], "Flaky tests"),
                       (people[3], "Flaky tests"), (people[2], "Docs day"), (people[3], "Hiring plan")):
        assert who.act(f"/m/{code}/topics/{ids[title]}/vote").status_code == 200

    notes = [("takeaway", "Rotate weekly, hand over on Mondays"), ("action", "Draft the rota", "Ann"),
             ("takeaway", "Pager budget is two nights a week"), ("action", "Ask payroll about on-call pay", "Bob")]
    notes = [(n[0], n[1], n[2] if len(n) > 2 else "") for n in notes]
    for key, timebox in (("discussing", "8m 4m 2m"), ("thumbs", "1s"), ("completed", "8m 4m 2m")):
        code, ids = meeting(key, f"{key.title()} coffee", timebox)
        fay.press(code, "phase", {"phase": "voting"})
        for title in ("Four-day week", "Pairing days", "Flaky tests"):
            fay.press(code, f"topics/{ids[title]}/move", {"status": "discussed"})
            add_notes(people[2], code, ids[title], notes[:3])
        # The longest title under discussion where it takes the most room (two lines with its notes).
        current = LONG_TITLE if key == "discussing" else "On-call rota"
        assert people[1].act(f"/m/{code}/topics/{ids[current]}/vote").status_code == 200
        fay.press(code, "discuss-next")
        add_notes(people[1], code, ids[current], notes)
    time.sleep(1.5)  # the thumbs meeting's 1-second timebox runs out
    for who, choice in zip(people[1:], ("up", "up", "down"), strict=True):
        assert who.act(f"/m/{codes['thumbs']}/thumbs", {"choice": choice}).status_code == 200
    fay.press(codes["completed"], "phase", {"phase": "done", "confirmed": "1"})
    return Meetings(lan.public, fay, {k: room_link(fay, c) for k, c in codes.items()}, codes)


def open_room(browser, link, viewport, dark=False):
    """A projector's browser that never joined: a fresh context, no cookie, opening the room link."""
    context = browser.new_context(viewport=viewport, color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(link)
    page.wait_for_selector("html[data-live=true]", state="attached", timeout=10_000)
    return context, page


OUTSIDE = """() => [...document.querySelectorAll('#room *')].filter(e => e.getClientRects().length && !e.closest('svg'))
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.top < -1 || r.left < -1 || r.bottom > innerHeight + 1 || r.right > innerWidth + 1; })
    .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').trim().slice(0, 40))"""
WHAT_EACH_PHASE_SHOWS = {
    "empty": ["Collecting topics", "No topics yet."],
    "collecting": ["Topics (20)", LONG_TITLE[:40], "Dependency updates"],
    "voting": ["Topics (20)", "tied 1st", "tied 3rd"],
    "discussing": ["Now discussing", LONG_TITLE[:60], "Up next (16)", "+ 12 more", "Discussed (3)", "owner: Ann",
                   "Pager budget", "Takeaway"],
    "thumbs": ["Time is up", "continue", "move on"],
    "completed": ["Meeting over", "Discussed (4)", "owner: Bob", "Rotate weekly", "16 topics not discussed."],
}


@pytest.mark.parametrize("screen", SCREENS)
def test_every_phase_fits_the_projector_without_scrolling(lan_chromium, meetings, screen):
    from playwright.sync_api import expect

    problems = []
    for phase, expected in WHAT_EACH_PHASE_SHOWS.items():
        for dark in (False, True):
            context, page = open_room(lan_chromium, meetings.links[phase], SCREENS[screen], dark)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"room-{phase}-{screen}-{'dark' if dark else 'light'}.png"))
            board = page.locator("#room-board")
            for text in expected:
                expect(board).to_contain_text(text)
            if phase == "completed":  # no longer joinable: nothing to scan
                expect(page.locator(".room-join")).to_be_hidden()
            else:
                expect(page.locator(".room-join svg")).to_be_in_viewport()
                expect(page.locator(".room-code")).to_have_text(meetings.codes[phase])
            sizes = page.evaluate("() => [document.scrollingElement.scrollHeight, innerHeight,"
                                  " document.scrollingElement.scrollWidth, innerWidth]")
            if sizes[0] > sizes[1] or sizes[2] > sizes[3]:
                problems.append(f"{phase} {screen}: scrolls ({sizes})")
            outside = page.evaluate(OUTSIDE)
            if outside:
                problems.append(f"{phase} {screen}: outside the screen: {outside[:3]}")
            # The code is never broken across lines: one line box.
            assert phase == "completed" or len(page.locator(".room-code").evaluate("e => [...e.getClientRects()]")) == 1
            assert page.errors == []
            context.close()
    assert problems == []


def test_what_the_back_of_the_room_reads(lan_chromium, meetings):
    from playwright.sync_api import expect

    context, page = open_room(lan_chromium, meetings.links["empty"], SCREENS["720p"])
    expect(page.locator(".room-empty")).to_have_text("No topics yet. Scan the code with your phone to add the first one.")
    assert page.locator("#room-board ol, #room-board li").count() == 0  # a sentence, not list item "1."
    expect(page.locator("#room-board")).not_to_contain_text("Up next")
    expect(page.locator(".room-people")).to_have_text(re.compile(r"^0 people here$"))
    context.close()

    context, page = open_room(lan_chromium, meetings.links["voting"], SCREENS["1080p"])
    rows = page.locator(".room-next .room-topics > li")
    expect(rows).to_have_count(20)
    expect(rows.nth(0)).to_contain_text("2 votes tied 1st")
    expect(rows.nth(1)).to_contain_text("2 votes tied 1st")
    count_px = font_px(page, ".room-next .room-topics > li .room-votes strong")
    assert count_px >= 36, count_px
    context.close()

    context, page = open_room(lan_chromium, meetings.links["thumbs"], SCREENS["1080p"])
    tally = page.locator(".room-tally strong")
    expect(tally).to_have_text(["2", "0", "1"])
    assert font_px(page, ".room-tally strong") >= 80
    context.close()

    context, page = open_room(lan_chromium, meetings.links["collecting"], SCREENS["720p"])
    assert page.evaluate("() => [window.isSecureContext, 'clipboard' in navigator]") == [False, False]  # the LAN case
    assert page.url.startswith(meetings.public + "/room/")
    context.close()


def test_renewing_the_link_closes_the_open_projector_screen(lan_chromium, lan, meetings):
    from playwright.sync_api import expect

    fay = HttpPerson(lan.base)
    code = start(fay, "Renewed coffee")
    old = room_link(fay, code)
    context, projector = open_room(lan_chromium, old, SCREENS["720p"])
    facilitator = lan_chromium.new_context(viewport={"width": 1280, "height": 800})
    facilitator.add_cookies([{"name": c.name, "value": c.value, "url": lan.public} for c in fay.http.cookies])
    board = facilitator.new_page()
    board.goto(f"{lan.public}/m/{code}")
    expect(board.locator("#room-link")).to_have_value(old)
    board.get_by_role("button", name="Renew room link").click()
    expect(board.locator("#room-link")).not_to_have_value(old)
    assert board.locator("#room-link").input_value().startswith(lan.public + "/room/")
    expect(projector.get_by_role("heading", name="Room link not valid")).to_be_visible(timeout=10_000)
    expect(projector.locator("main")).to_contain_text("Ask the facilitator for the new one")
    projector.screenshot(path=str(ARTIFACTS / "room-renewed-old-link.png"))
    context.close()
    facilitator.close()


def test_copy_link_works_on_plain_http_and_never_claims_a_copy_it_did_not_make(lan_chromium, lan):
    from playwright.sync_api import expect

    fay = HttpPerson(lan.base)
    code = start(fay, "Copy coffee")
    context = lan_chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": c.name, "value": c.value, "url": lan.public} for c in fay.http.cookies])
    page = context.new_page()
    page.goto(f"{lan.public}/m/{code}")
    assert page.evaluate("() => [window.isSecureContext, 'clipboard' in navigator]") == [False, False]
    expect(page.locator("#join-link")).to_have_value(f"{lan.public}/m/{code}")  # the code, not only the host
    page.evaluate("() => document.addEventListener('copy', () => { const f = document.activeElement;"
                  " window.copied = f.value.slice(f.selectionStart, f.selectionEnd); })")
    join = page.locator('[data-copy="#join-link"]')
    join.click()
    expect(join).to_have_text("Copied")
    assert page.evaluate("() => window.copied") == f"{lan.public}/m/{code}"
    expect(page.locator("#join-link")).to_be_in_viewport()
    for field in ("#join-link", "#room-link"):  # the whole address shows: nothing scrolled out of the field
        assert page.locator(field).evaluate("e => e.scrollHeight <= e.clientHeight && e.scrollWidth <= e.clientWidth"), field
    page.evaluate("() => { document.execCommand = () => false; }")  # a browser that refuses to copy
    page.wait_for_timeout(2600)
    join.click()
    expect(join).to_have_text("Selected: copy it")
    assert "Copied" not in join.text_content()
    page.screenshot(path=str(ARTIFACTS / "share-facilitator-lan.png"), full_page=True)
    context.close()


def test_room_screens_pass_axe_core_in_light_and_dark(lan_chromium, meetings, axe_source):  # noqa: F811
    run_axe = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v =>
        v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"""
    found = []
    for phase in WHAT_EACH_PHASE_SHOWS:
        for dark in (False, True):
            context, page = open_room(lan_chromium, meetings.links[phase], SCREENS["720p"], dark)
            page.evaluate(axe_source)
            found += [f"{phase} {'dark' if dark else 'light'}: {v}" for v in page.evaluate(run_axe)]
            context.close()
    assert found == []
