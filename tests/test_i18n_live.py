"""Languages on the wire and in the browser: pushed frames in each screen's language, and a German browser runs a meeting."""

import re
import time

import pytest
import requests

from tests.helpers import HttpPerson, receive_until
from tests.test_browser import ARTIFACTS
from tests.test_ux import AXE_VERSION, LAPTOP, PHONE, axe_source, browser_for, open_page, pages, scene  # noqa: F401

TOPIC_ID = re.compile(r'id="topic-(\d+)"')


def rendered_in(base: str) -> dict[str, float]:
    """This server's count of changes rendered, by language (/metrics)."""
    text = requests.get(base + "/metrics", timeout=10).text
    found = re.findall(r'^leancoffee_changes_rendered_in_total\{language="(\w+)"\} (\S+)$', text, re.M)
    return {language: float(count) for language, count in found}


def reader(base: str, language: str) -> HttpPerson:
    """A participant whose browser reads this language (the switch's cookie)."""
    person = HttpPerson(base)
    person.http.cookies.set("lang", language)
    return person


def test_a_german_and_an_english_screen_of_one_meeting_each_get_their_language_after_a_vote(server):
    fay, ann, bob = reader(server.base, "en"), reader(server.base, "de"), reader(server.base, "en")
    code = fay.start_meeting("Kaffee", votes=3)
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    tid = TOPIC_ID.search(fay.act(f"/m/{code}/topics", {"title": "Rufbereitschaft"}, live=False).text).group(1)
    ann_ws, bob_ws = ann.socket(code), bob.socket(code)
    assert "Zu besprechen" in receive_until(ann_ws, lambda f: 'id="columns"' in f)
    assert "To Discuss" in receive_until(bob_ws, lambda f: 'id="columns"' in f)
    receive_until(ann_ws, lambda f: "2 da" in f)  # both arrivals told (presence, in each language) before counting
    receive_until(bob_ws, lambda f: "2 here" in f)
    time.sleep(0.3)
    before = rendered_in(server.base)

    assert fay.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    german = receive_until(ann_ws, lambda f: f'id="votes-{tid}"' in f)
    english = receive_until(bob_ws, lambda f: f'id="votes-{tid}"' in f)
    assert "<strong>1</strong> Stimme " in german and "Platz 1" in german and " vote " not in german
    assert "<strong>1</strong> vote " in english and "1st" in english and "Stimme" not in english
    after = rendered_in(server.base)
    # One rendering of the vote per language its screens read: not one per socket.
    assert after.get("de", 0) - before.get("de", 0) == 1 and after["en"] - before["en"] == 1

    # Ann's own vote: her dots and her button in German, in the frame only her screens get.
    assert ann.act(f"/m/{code}/topics/{tid}/vote").status_code == 200
    mine = receive_until(ann_ws, lambda f: 'id="my-dots"' in f)
    assert "von 3 Stimmen übrig" in mine and "Stimme zurücknehmen" in mine
    assert "Remove vote" not in mine
    ann_ws.close()
    bob_ws.close()


def test_a_meeting_read_in_one_language_renders_each_change_once(server):
    fay, ann, bob = (reader(server.base, "de") for _ in range(3))
    code = fay.start_meeting("Ein Team", votes=3)
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    sockets = [who.socket(code) for who in (fay, ann, bob, ann)]
    for ws in sockets:
        receive_until(ws, lambda f: "3 da" in f)
    time.sleep(0.3)  # the last arrival's presence change (batched for 50 ms) is told before counting
    before = rendered_in(server.base)
    fay.act(f"/m/{code}/topics", {"title": "Eins"})
    for ws in sockets:
        assert "Eins" in receive_until(ws, lambda f: "Eins" in f)
    after = rendered_in(server.base)
    assert after["de"] - before["de"] == 1 and after.get("en", 0) == before.get("en", 0)
    for ws in sockets:
        ws.close()


def test_the_room_link_screen_reads_the_projectors_language(server):
    fay = reader(server.base, "en")
    code = fay.start_meeting("Beamer", votes=3)
    secret = re.search(r'/room/([\w-]+)', fay.get(f"/m/{code}").text).group(1)
    projector = requests.Session()
    projector.cookies.set("lang", "de")
    assert "Noch keine Themen" in projector.get(f"{server.base}/room/{secret}").text
    import websocket

    ws = websocket.create_connection(f"ws://{server.base.split('://', 1)[1]}/room/{secret}/ws", cookie="lang=de",
                                     origin=server.base, timeout=10)
    receive_until(ws, lambda f: 'id="room-board"' in f)
    fay.act(f"/m/{code}/topics", {"title": "Kantine"})
    frame = receive_until(ws, lambda f: "Kantine" in f)
    assert "Themen sammeln" in frame and "Collecting" not in frame
    ws.close()


# ---- In Chromium ------------------------------------------------------------------------------------------------

def german_browser(chromium, viewport: dict):
    """A browser set to German (Accept-Language: de-DE) in Berlin, with nobody signed in."""
    return chromium.new_context(locale="de-DE", timezone_id="Europe/Berlin", viewport=viewport)


@pytest.mark.browser
def test_a_german_browser_runs_a_meeting(chromium, server):
    from playwright.sync_api import expect

    context = german_browser(chromium, PHONE)
    page = context.new_page()
    page.goto(server.base + "/")
    assert page.evaluate("document.documentElement.lang") == "de"
    expect(page.get_by_role("heading", name="Lean Coffee starten")).to_be_visible()
    page.get_by_label("Titel des Meetings").fill("Teamkaffee")
    page.get_by_label("Dein Name").fill("Fay")
    page.get_by_role("button", name="Meeting starten").click()
    page.wait_for_selector("html[data-live=true]", state="attached")
    expect(page.locator("#meeting-status .phase.current")).to_have_text("Themen sammeln")

    page.get_by_label("Thema vorschlagen").fill("Rufbereitschaft")
    page.get_by_role("button", name="Thema hinzufügen").click()
    expect(page.locator("#list-to_discuss")).to_contain_text("Rufbereitschaft")
    expect(page.locator("#list-to_discuss")).to_contain_text("von Fay")

    page.get_by_role("button", name="Abstimmung starten").click()
    expect(page.locator("#meeting-status .phase.current")).to_have_text("Abstimmen")
    page.get_by_role("button", name=re.compile("^Stimme geben für Rufbereitschaft")).click()
    expect(page.locator("#my-dots")).to_contain_text("2 von 3 Stimmen übrig")
    expect(page.locator("#list-to_discuss")).to_contain_text("Platz 1")

    page.get_by_role("button", name="Abstimmung beenden und Top-Thema besprechen").click()
    expect(page.locator("#timer")).to_contain_text("Gerade dran")
    expect(page.locator("#meeting-status")).to_contain_text("Timer pausieren")
    page.screenshot(path=str(ARTIFACTS / "i18n-board-de-phone.png"), full_page=False)
    outside = page.evaluate("""() => [...document.querySelectorAll('#action-bar > :not([hidden])')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth; })
        .map(e => e.textContent.trim())""")
    assert outside == []  # the phone's bar holds both German shortcuts ("Gerade dran", "Erkenntnis festhalten")

    note = page.get_by_label("Text (bis zu 500 Zeichen)").first
    page.get_by_role("link", name="Erkenntnis festhalten").click()
    note.fill("Wöchentlich wechseln")
    page.get_by_role("button", name="Notiz hinzufügen").first.click()
    expect(page.locator(".notes-list").first).to_contain_text("Erkenntnis Wöchentlich wechseln")

    page.set_viewport_size(LAPTOP)
    page.screenshot(path=str(ARTIFACTS / "i18n-board-de-laptop.png"), full_page=True)
    page.get_by_role("button", name="Meeting beenden").click()
    page.get_by_role("dialog").get_by_role("button", name="Meeting beenden").click()
    page.wait_for_url(re.compile(r"/summary$"))
    expect(page.get_by_role("heading", name="Zusammenfassung", exact=True)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Teilnehmende (1)")
    expect(main).to_contain_text("Wöchentlich wechseln")
    # The browser told its zone once (static/timezone.js): this page shows Berlin's time, not UTC.
    expect(main).to_contain_text(re.compile(r"Begonnen \d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d, beendet"))
    expect(main).not_to_contain_text("UTC")
    page.screenshot(path=str(ARTIFACTS / "i18n-summary-de-laptop.png"), full_page=True)

    # The footer's switch, without JavaScript's help: a link, and the choice sticks.
    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Summary", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.goto(server.base + "/")
    expect(page.get_by_role("heading", name="Start a Lean Coffee")).to_be_visible()
    context.close()


@pytest.mark.browser
def test_every_german_page_passes_axe_core_and_nothing_overflows(scene, axe_source):  # noqa: F811
    run_axe = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v =>
        v.id + ': ' + v.help + ' :: ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""
    # Elements whose text is wider than their box (German words are long): buttons, links, headings, labels.
    overflowing = """() => [...document.querySelectorAll('button, .btn, a, h1, h2, h3, label, summary, .tag, .badge')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'auto')
        .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 40))
        .concat([...document.querySelectorAll('.topnav a, .phase, .tag, .badge, .rank, .language-switch a')].filter(e => {
            const range = document.createRange();  // short labels that wrap onto a second line (a phone's header)
            range.selectNodeContents(e);
            return e.offsetParent !== null && new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
        }).map(e => 'wrapped ' + e.tagName + '.' + e.className + ': ' + e.textContent.trim()))
        .concat(document.scrollingElement.scrollWidth > innerWidth ? ['the page scrolls sideways'] : [])
        .concat([...document.querySelectorAll('.topnav a')].filter(a => a.getBoundingClientRect().right > innerWidth)
                .map(a => 'off screen: ' + a.textContent))"""
    for context in (scene.fay, scene.ann, scene.stranger):
        context.add_cookies([{"name": "lang", "value": "de", "url": scene.base}])
    findings, checked = [], 0
    for name, context, path in pages(scene):
        for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
            page = open_page(context, scene.base + path, viewport)
            assert page.evaluate("document.documentElement.lang") == "de", name
            if name == "board-facilitator-menu-open":
                page.evaluate("() => { document.querySelector('.card-menu').open = true; }")
            if size == "phone" or name.startswith("board-facilitator"):
                page.screenshot(path=str(ARTIFACTS / f"i18n-{name}-{size}.png"), full_page=True)
            page.evaluate(axe_source)
            findings += [f"{name} ({size}): {v}" for v in page.evaluate(run_axe)]
            findings += [f"{name} ({size}) overflows: {o}" for o in page.evaluate(overflowing)]
            checked += 1
            page.close()
    print(f"\naxe-core {AXE_VERSION} in German: {checked} page checks")
    assert findings == []
