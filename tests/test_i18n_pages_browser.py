"""axe-core in German on the screens the real-teams issues added (timed phases, voting progress, the pace, people,
webhooks, series, API tokens, another device), at laptop and phone size, light and dark: zero findings."""

import re

import pytest

from tests.helpers import HttpPerson
from tests.test_facilitator_flow import RUN_AXE
from tests.test_i18n_live import ARTIFACTS, german_browser
from tests.test_ux import AXE_VERSION, LAPTOP, PHONE, open_page, start
from tests.test_ux import axe_source as axe_fixture  # noqa: F401 (test_ux's session fixture, registered here as axe_fixture)

pytestmark = pytest.mark.browser


def german_context(chromium, person: HttpPerson, base: str):
    """A German browser (Accept-Language de-DE) carrying this person's cookies."""
    context = german_browser(chromium, LAPTOP)
    context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in person.http.cookies])
    return context


def series_code_of(fay: HttpPerson, code: str) -> str:
    """Run a finished meeting again; the series' stable code, read from the finished meeting's summary."""
    for phase in ("voting", "discussing", "done"):
        assert fay.press(code, "phase", {"phase": phase, "confirmed": "1"}).status_code == 200
    assert fay.act(f"/m/{code}/run-again").status_code == 200
    found = re.search(r'href="/s/([^"/]+)/meetings"', fay.http.get(f"{fay.base}/m/{code}/summary").text)
    assert found, "the summary links its series' page"
    return found.group(1)


def slug(name: str) -> str:
    return re.sub(r"\W+", "-", name).strip("-")


def check(page, name: str, axe_source: str) -> list[str]:
    """axe-core's findings on this page, light and dark; the page is German."""
    assert page.evaluate("document.documentElement.lang") == "de", name
    found = []
    for dark in (False, True):
        page.emulate_media(color_scheme="dark" if dark else "light")
        page.evaluate(axe_source)
        found += [f"{name} ({'dark' if dark else 'light'}): {v}" for v in page.evaluate(RUN_AXE)]
    return found


def test_the_real_teams_screens_pass_axe_core_in_german(chromium, server, request):
    from playwright.sync_api import expect

    axe_source = request.getfixturevalue("axe_fixture")
    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Zeitkaffee", timebox="8m")
    ann.join(code, "Ann")
    bob.join(code, "Bob")
    settings = {"timebox_pattern": "8m", "collecting_timebox": "1s", "voting_timebox": "3m", "planned_minutes": "45"}
    assert fay.act(f"/m/{code}/settings", settings).status_code == 200
    assert fay.press(code, "timer", {"action": "start"}).status_code == 200  # collecting's 1-second timebox
    contexts = {who: german_context(chromium, person, server.base) for who, person in (("fay", fay), ("ann", ann))}
    findings, checked = [], 0
    try:
        def look(who: str, path: str, name: str, ready=None):
            nonlocal checked
            person = {"fay": fay, "ann": ann}[who]
            assert person.http.get(server.base + path, headers={"Accept-Language": "de"}).status_code == 200, path
            for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
                page = open_page(contexts[who], server.base + path, viewport)
                page.screenshot(path=str(ARTIFACTS / f"i18n-teams-{slug(name)}-{size}.png"), full_page=True)
                if ready is not None:
                    ready(page)
                findings.extend(check(page, f"{name} ({size})", axe_source))
                checked += 1
                page.close()

        def collecting_up(page):
            expect(page.locator("#timer")).to_contain_text("Die Zeit fürs Themensammeln ist um.", timeout=10_000)

        look("fay", f"/m/{code}", "collecting time up, facilitator", collecting_up)
        look("ann", f"/m/{code}", "collecting time up, participant", collecting_up)

        for title in ("Rufbereitschaft", "Budget"):
            assert ann.act(f"/m/{code}/topics", {"title": title}).status_code == 200
        assert fay.press(code, "phase", {"phase": "voting"}).status_code == 200
        topic = re.search(r'id="topic-(\d+)"', ann.http.get(f"{server.base}/m/{code}").text).group(1)
        assert ann.act(f"/m/{code}/topics/{topic}/vote").status_code == 200
        assert ann.act(f"/m/{code}/done-voting", {"done": "1"}).status_code == 200

        def progress_and_pace(page):
            progress = page.get_by_role("region", name="Stand der Abstimmung")
            expect(progress).to_contain_text("1 von 3")
            expect(page.locator("#pace")).to_contain_text("Themen, die noch passen: 5")

        look("fay", f"/m/{code}", "voting progress and pace, facilitator", progress_and_pace)
        def said_done(page):
            expect(page.get_by_role("button", name="Doch noch nicht fertig")).to_be_visible()
            # The phone's bar keeps its dots readable beside the long German mark and button (they once pushed the
            # dots into a column one letter wide and the button off the screen).
            boxes = page.evaluate("""() => [...document.querySelectorAll('#action-bar > :not([hidden])')]
                .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.height]; })""")
            assert all(left >= 0 and right <= page.viewport_size["width"] and height < 80 for left, right, height in boxes)

        look("ann", f"/m/{code}", "done voting, participant", said_done)
        look("ann", f"/m/{code}/people", "people")
        look("fay", f"/m/{code}/webhooks", "webhooks")
        look("fay", "/settings/tokens", "API tokens")
        look("fay", "/device", "another device")
        series = series_code_of(fay, start(fay, "Wochenkaffee"))
        look("fay", f"/s/{series}/meetings", "series")
    finally:
        for context in contexts.values():
            context.close()
    print(f"\naxe-core {AXE_VERSION} in German, real-teams screens: {checked} page checks")
    assert findings == []
