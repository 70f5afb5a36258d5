"""A board people enjoy, checked in Debian's Chromium: sizes, screenshots, keyboard only, axe-core, page weight, reconnect."""

import itertools
import re
import shutil
import signal
import subprocess
import tarfile
from dataclasses import dataclass

import pytest

from tests.helpers import AppServer, HttpPerson, font_px, need
from tests.test_browser import ARTIFACTS, card

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
PROJECTOR = {"width": 1920, "height": 1080}
WIDTHS = (360, 390, 1280, 1920)
LONG_WORD = "Supercalifragilistic-continuous-deployment-pipelines-without-any-breaks-at-all"
TOPIC_RE = re.compile(r'<li id="topic-(\d+)" class="card"[^>]*>.*?class="card-title">(.*?)</h3>', re.S)


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory):
    """axe.min.js from the npm registry (`npm pack axe-core@AXE_VERSION`), read once per session."""
    npm = shutil.which("npm")
    need(npm is not None, "npm is missing: the accessibility check fetches axe-core from the npm registry")
    folder = tmp_path_factory.mktemp("axe")
    done = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(folder)],
                          capture_output=True, text=True, timeout=180)
    need(done.returncode == 0, f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr[-500:]}")
    with tarfile.open(next(folder.glob("axe-core-*.tgz"))) as archive:
        return archive.extractfile("package/axe.min.js").read().decode()


def topic_ids(person: HttpPerson, code: str) -> dict[str, int]:
    """Topic id by title, read off the board page as this person sees it."""
    html = person.http.get(f"{person.base}/m/{code}").text
    return {title: int(tid) for tid, title in TOPIC_RE.findall(html)}


def start(person: HttpPerson, title: str, timebox: str = "8m 4m 2m") -> str:
    """Start a meeting with a given timebox pattern; return its code."""
    response = person.http.post(f"{person.base}/meetings", allow_redirects=False, data={
        "title": title, "name": "Fay", "votes_per_person": 3, "timebox_pattern": timebox, "csrf_token": person.token})
    assert response.status_code == 303, response.text
    person.signed_in(response.headers["Location"])
    return response.headers["Location"].rsplit("/", 1)[-1]


def browser_for(chromium, person: HttpPerson | None, base: str, **options):
    """A browser context carrying this person's cookies (or a stranger's when person is None)."""
    context = chromium.new_context(**{"viewport": LAPTOP, **options})
    if person is not None:
        context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in person.http.cookies])
    return context


@dataclass
class Scene:
    base: str
    fay: object
    ann: object
    stranger: object
    busy: str  # a meeting in discussion with a running 8-minute timer and topics in every column
    thumbs: str  # a meeting whose 1-second timebox is up: the thumbs prompt is open


@pytest.fixture(scope="module")
def scene(chromium, server):
    """Two meetings in interesting states, and browser contexts for Fay (facilitator), Ann and a stranger."""
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    busy = start(fay, "Team coffee")
    ann.join(busy, "Ann")
    for who, title, description in ((ann, "On-call rota", "Who carries the pager, and for how long?"),
                                    (fay, LONG_WORD, ""), (ann, "Four-day week", ""), (fay, "Pairing days", "")):
        assert who.act(f"/m/{busy}/topics", {"title": title, "description": description}).status_code == 200
    ids = topic_ids(fay, busy)
    fay.press(busy, "phase", {"phase": "voting"})
    for who, title in ((ann, "On-call rota"), (fay, "On-call rota"), (ann, LONG_WORD)):
        assert who.act(f"/m/{busy}/topics/{ids[title]}/vote").status_code == 200
    fay.press(busy, "discuss-next")
    fay.press(busy, f"topics/{ids['Pairing days']}/move", {"status": "discussed"})
    ann.act(f"/m/{busy}/topics/{ids['On-call rota']}/notes", {"kind": "takeaway", "text": "Rotate weekly"})
    ann.act(f"/m/{busy}/topics/{ids['On-call rota']}/notes", {"kind": "action", "text": "Draft the rota", "owner": "Ann"})

    thumbs = start(fay, "Retro coffee", timebox="1s")
    ann.join(thumbs, "Ann")
    ann.act(f"/m/{thumbs}/topics", {"title": "Release train"})
    fay.press(thumbs, "phase", {"phase": "voting"})
    fay.press(thumbs, "discuss-next")

    contexts = [browser_for(chromium, who, server.base) for who in (fay, ann, None)]
    yield Scene(server.base, *contexts, busy=busy, thumbs=thumbs)
    for context in contexts:
        context.close()


def pages(s: Scene):
    """Every page a person meets: (name, browser context, path)."""
    return [
        ("home", s.stranger, "/"),
        ("home-my-meetings", s.fay, "/"),
        ("join", s.stranger, f"/m/{s.busy}"),
        ("board-facilitator", s.fay, f"/m/{s.busy}"),
        ("board-participant", s.ann, f"/m/{s.busy}"),
        ("board-thumbs-participant", s.ann, f"/m/{s.thumbs}"),
        ("board-thumbs-facilitator", s.fay, f"/m/{s.thumbs}"),
        ("summary", s.fay, f"/m/{s.busy}/summary"),
        ("room", s.fay, f"/m/{s.busy}/room"),
        ("board-facilitator-menu-open", s.fay, f"/m/{s.busy}"),
    ]


# States a page reaches by a person's own hand, set before it is checked.
PREPARE = {"board-facilitator-menu-open": "() => { document.querySelector('.card-menu').open = true; }"}


def open_page(context, url, viewport=None, dark=False):
    """Open a page and, if it has a live socket, wait until the whole board has arrived over it."""
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    if viewport:
        page.set_viewport_size(viewport)
    page.emulate_media(color_scheme="dark" if dark else "light")
    page.goto(url)
    if page.locator("[hx-ws\\:connect]").count():
        page.wait_for_selector("html[data-live=true]", state="attached", timeout=10_000)
    return page


def shot(page, name, full_page=True):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page, animations="disabled")


def test_no_page_scrolls_sideways_at_phone_laptop_or_projector_width(scene):
    too_wide = []
    for name, context, path in pages(scene):
        page = open_page(context, scene.base + path)
        # Open every fold (edit forms, notes, settings) so they are measured too.
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            scroll, inner = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
            if scroll > inner:
                too_wide.append(f"{name} at {width}px: scrollWidth {scroll} > {inner}")
        assert page.errors == []
        page.close()
    print(f"\nno sideways scrolling: {len(pages(scene))} pages x widths {WIDTHS}")
    assert too_wide == []


def test_board_screenshots_at_phone_laptop_and_projector_sizes(scene):
    from playwright.sync_api import expect

    phone = open_page(scene.ann, f"{scene.base}/m/{scene.busy}", PHONE)
    # One column on a phone, the topic under discussion first, and what the phase needs in a bar at the
    # bottom, under the thumb.
    todo, doing = (phone.get_by_role("heading", name=re.compile(f"^{h}")).bounding_box() for h in ("To Discuss", "Discussing"))
    assert todo["x"] == doing["x"] and doing["y"] < todo["y"]
    bar = phone.locator("#action-bar")
    box = bar.bounding_box()
    assert box["y"] + box["height"] == PHONE["height"]
    expect(bar.get_by_role("link", name="Add a takeaway")).to_be_visible()
    shot(phone, "ux-board-phone", full_page=False)  # the first screen, bottom bar where it really is
    shot(phone, "ux-board-phone-full")
    phone.emulate_media(color_scheme="dark")
    shot(phone, "ux-board-phone-dark", full_page=False)
    phone.close()

    laptop = open_page(scene.fay, f"{scene.base}/m/{scene.busy}", LAPTOP)
    # Three kanban columns side by side on a laptop; the jump bar is not needed there.
    boxes = [laptop.get_by_role("heading", name=re.compile(f"^{h}")).bounding_box()
             for h in ("To Discuss", "Discussing", "Discussed")]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"] and boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    expect(laptop.get_by_role("link", name="Add a takeaway")).to_be_hidden()
    expect(laptop.locator("#timer")).to_contain_text("On-call rota")
    shot(laptop, "ux-board-laptop")
    laptop.emulate_media(color_scheme="dark")
    shot(laptop, "ux-board-laptop-dark")
    laptop.close()

    room = open_page(scene.fay, f"{scene.base}/m/{scene.busy}/room", PROJECTOR)
    # Legible from the back of the room: big topic and clock, and it all fits on the projected screen.
    expect(room.locator(".room-topic")).to_have_text("On-call rota")
    topic_px, clock_px = font_px(room, ".room-topic"), font_px(room, ".clock")
    shot(room, "ux-room-projector", full_page=False)
    room.emulate_media(color_scheme="dark")
    shot(room, "ux-room-projector-dark", full_page=False)
    assert topic_px >= 64 and clock_px >= 96, (topic_px, clock_px)
    assert room.evaluate("() => document.scrollingElement.scrollHeight <= innerHeight")
    expect(room.locator(".room-join svg")).to_be_visible()
    room.close()

    thumbs = open_page(scene.ann, f"{scene.base}/m/{scene.thumbs}", PHONE)
    expect(thumbs.get_by_role("heading", name=re.compile("Time is up"))).to_be_visible()
    expect(thumbs.get_by_role("button", name="👍 Yes")).to_be_visible()
    shot(thumbs, "ux-thumbs-phone", full_page=False)
    thumbs.close()

    summary = open_page(scene.fay, f"{scene.base}/m/{scene.busy}/summary", LAPTOP)
    expect(summary.locator("main")).to_contain_text("Rotate weekly")
    shot(summary, "ux-summary-laptop")
    summary.close()


def test_every_page_passes_axe_core_in_light_and_dark(scene, axe_source):
    run_axe = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 4).map(n =>
            n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1).join(' '))})))"""
    counts = {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}
    findings = []
    checked = 0
    for name, context, path in pages(scene):
        for (size, viewport), dark in itertools.product((("laptop", LAPTOP), ("phone", PHONE)), (False, True)):
            page = open_page(context, scene.base + path, viewport, dark)
            if name in PREPARE:
                page.evaluate(PREPARE[name])
            page.evaluate(axe_source)  # evaluate runs outside the page's CSP, unlike a <script> tag
            for v in page.evaluate(run_axe):
                counts[v["impact"]] = counts.get(v["impact"], 0) + 1
                label = f"{name} ({'dark' if dark else 'light'}, {size}): [{v['impact']}] {v['id']}: {v['help']}"
                print("\n  " + label + "".join("\n      " + n for n in v["nodes"]))
                findings.append(label)
            checked += 1
            page.close()
    print(f"\naxe-core {AXE_VERSION}: {checked} page checks, violations by impact: {counts}")
    assert findings == []  # of any impact, minor included


TOPICS_IN_A_TYPICAL_MEETING = 10


def first_load(chromium, person, url, viewport):
    """Load a board in a fresh browser (empty cache): (requests by url with their sizes, first contentful paint)."""
    context = browser_for(chromium, person, url.split("/m/")[0], viewport=viewport)
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_selector("html[data-live=true]", state="attached")
    page.wait_for_load_state("networkidle")
    sizes = {req.url: req.sizes() for req in finished}
    fcp = page.evaluate("() => Math.round((performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime)")
    visible = card(page, "Topic number 1").is_visible()
    context.close()
    return sizes, fcp, visible


def test_board_first_paint_is_small_and_from_this_host_only(chromium, server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Weight coffee")
    ann.join(code, "Ann")
    for n in range(1, TOPICS_IN_A_TYPICAL_MEETING + 1):
        author = ann if n % 2 else fay
        author.act(f"/m/{code}/topics", {"title": f"Topic number {n}", "description": "A line or two of context."})
    for who, viewport in ((ann, PHONE), (fay, LAPTOP)):
        sizes, fcp, visible = first_load(chromium, who, f"{server.base}/m/{code}", viewport)
        total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes.values())
        role = "participant" if who is ann else "facilitator"
        print(f"\nboard of {TOPICS_IN_A_TYPICAL_MEETING} topics, {role}: {len(sizes)} requests, "
              f"{total / 1024:.1f} KB transferred, first contentful paint {fcp} ms")
        for url, s in sizes.items():
            print(f"  {(s['responseBodySize'] + s['responseHeadersSize']) / 1024:6.1f} KB  {url}")
        assert visible
        assert [url for url in sizes if not url.startswith(server.base + "/")] == []
        assert any(url.endswith(".css") for url in sizes) and any("htmx" in url for url in sizes)
        assert total < 100 * 1024


def tab_to(page, predicate: str, arg=None, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies a JS predicate (el, arg) => bool."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"arg => {{ const el = document.activeElement; return Boolean(el && ({predicate})(el, arg)); }}", arg):
            return
    raise AssertionError(f"Tab never reached an element matching {predicate} ({arg})")


def focused_text(page) -> str:
    return page.evaluate("() => document.activeElement.textContent.trim().replace(/\\s+/g, ' ')")


VOTE_BUTTON_OF = ("(el, title) => el.matches('.my-vote button')"
                  " && el.closest('.card').querySelector('.card-title').textContent === title")


def test_join_add_a_topic_vote_unvote_and_move_by_keyboard_alone(chromium, server):
    from playwright.sync_api import expect

    fay = HttpPerson(server.base)
    code = start(fay, "Keyboard coffee")
    kim_context, fay_context = browser_for(chromium, None, server.base), browser_for(chromium, fay, server.base)
    try:
        kim = kim_context.new_page()
        kim.goto(f"{server.base}/m/{code}")
        tab_to(kim, "el => el.id === 'name'")
        kim.keyboard.type("Kim")
        kim.keyboard.press("Enter")
        expect(kim.get_by_role("button", name="Add topic")).to_be_visible()
        kim.wait_for_selector("html[data-live=true]", state="attached")

        tab_to(kim, "el => el.id === 'topic-title'")
        kim.keyboard.type("Keyboard only")
        kim.keyboard.press("Enter")
        expect(card(kim, "Keyboard only")).to_be_visible()
        expect(kim.get_by_label("Propose a topic")).to_be_focused()
        expect(kim.get_by_label("Propose a topic")).to_have_value("")

        tab_to(kim, VOTE_BUTTON_OF, "Keyboard only")
        expect(kim.locator(":focus")).to_have_accessible_name("Vote for Keyboard only")
        kim.keyboard.press("Space")
        expect(card(kim, "Keyboard only").get_by_role("button", name="Remove vote")).to_be_focused()
        expect(kim.locator("#my-dots")).to_contain_text("2 of 3 votes left")
        expect(card(kim, "Keyboard only").locator(".votes")).to_contain_text("1 vote")
        kim.keyboard.press("Enter")
        expect(card(kim, "Keyboard only").get_by_role("button", name="Vote for Keyboard only")).to_be_focused()
        expect(kim.locator("#my-dots")).to_contain_text("3 of 3 votes left")

        # The facilitator moves the topic with the keyboard; focus follows the card to its new column.
        board = fay_context.new_page()
        board.goto(f"{server.base}/m/{code}")
        board.wait_for_selector("html[data-live=true]", state="attached")
        tab_to(board, "(el, title) => el.matches('.card-menu > summary') && el.closest('.card')"
                      ".querySelector('.card-title').textContent === title", "Keyboard only")
        board.keyboard.press("Enter")  # the card's menu opens; its first tool is the next Tab away
        board.keyboard.press("Tab")
        assert focused_text(board) == "Move to Discussing"
        board.keyboard.press("Enter")
        expect(board.locator("#list-discussing")).to_contain_text("Keyboard only")
        expect(kim.locator("#list-discussing")).to_contain_text("Keyboard only")
        assert board.evaluate("() => document.activeElement.closest('.card')?.querySelector('.card-title').textContent") == \
            "Keyboard only"
        # The next Tab goes on within the card, not back to the top of the page.
        board.keyboard.press("Tab")
        assert board.evaluate("() => Boolean(document.activeElement.closest('#list-discussing'))")
    finally:
        kim_context.close()
        fay_context.close()


WATCH_ANNOUNCER = """() => {
    window.said = [];
    const region = document.getElementById('announcer');
    new MutationObserver(() => { if (region.textContent) window.said.push(region.textContent); })
        .observe(region, {childList: true, characterData: true, subtree: true});
    window.shift = 0;
    new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.shift += e.value; })
        .observe({type: 'layout-shift'});
}"""


def test_live_changes_are_highlighted_announced_and_do_not_move_the_page(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Live coffee", timebox="62s")
    ann.join(code, "Ann")
    ann.act(f"/m/{code}/topics", {"title": "Alpha"})
    context = browser_for(chromium, fay, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}", LAPTOP)
        expect(card(page, "Alpha")).not_to_have_class(re.compile("is-fresh"))  # the first full board is not news
        page.evaluate(WATCH_ANNOUNCER)

        ann.act(f"/m/{code}/topics", {"title": "Fresh idea"})
        expect(card(page, "Fresh idea")).to_have_class(re.compile("is-fresh"))
        expect(page.locator("#announcer")).to_have_text("New topic: Fresh idea")
        expect(card(page, "Fresh idea")).not_to_have_class(re.compile("is-fresh"), timeout=6_000)
        ann.act(f"/m/{code}/topics/{topic_ids(ann, code)['Alpha']}/vote")
        expect(card(page, "Alpha").locator(".votes")).to_contain_text("1 vote")
        expect(card(page, "Alpha")).to_have_class(re.compile("is-fresh"))
        assert page.evaluate("() => window.shift") < 0.01

        fay.press(code, "phase", {"phase": "voting"})
        expect(page.locator("#announcer")).to_contain_text("Phase: Voting")
        fay.press(code, "discuss-next")
        expect(page.locator("#timer")).to_contain_text("Alpha")
        expect(page.locator("#announcer")).to_have_text("1 minute left.", timeout=8_000)
        said = page.evaluate("() => window.said")
        # Politely, and only what matters: never the clock every second.
        assert not any(re.search(r"\d:\d\d", text) for text in said), said
        assert said[0] == "New topic: Fresh idea" and said[-1] == "1 minute left." and len(said) <= 5, said
        assert page.errors == []
    finally:
        context.close()


def test_time_up_is_announced_with_the_thumbs_prompt(chromium, server):
    from playwright.sync_api import expect

    fay = HttpPerson(server.base)
    code = start(fay, "Short coffee", timebox="2s")
    fay.act(f"/m/{code}/topics", {"title": "Quick one"})
    context = browser_for(chromium, fay, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}", PHONE)
        page.evaluate(WATCH_ANNOUNCER)
        fay.press(code, "phase", {"phase": "voting"})
        fay.press(code, "discuss-next")
        expect(page.get_by_role("heading", name=re.compile("Time is up"))).to_be_visible(timeout=10_000)
        expect(page.locator("#announcer")).to_contain_text("Thumbs vote: continue, neutral or move on?")
        said = page.evaluate("() => window.said")
        assert sum("Time is up" in text for text in said) == 1, said
    finally:
        context.close()


def test_reconnecting_message_comes_and_goes_when_the_server_restarts(chromium, tmp_path):
    from playwright.sync_api import expect

    database = f"sqlite:///{tmp_path / 'restart.db'}"
    first = AppServer(database).start(tmp_path / "first.log")
    second = AppServer(database)
    second.port, second.base = first.port, first.base  # same address and database: a restart
    context = None
    try:
        fay = HttpPerson(first.base)
        code = start(fay, "Restart coffee")
        fay.act(f"/m/{code}/topics", {"title": "Before the restart"})
        context = browser_for(chromium, fay, first.base)
        board = open_page(context, f"{first.base}/m/{code}", LAPTOP)
        room = open_page(context, f"{first.base}/m/{code}/room", LAPTOP)
        board.evaluate(WATCH_ANNOUNCER)
        form_box = board.locator("#add-topic").bounding_box()
        for page in (board, room):
            expect(page.locator("#connection")).to_be_hidden()

        first.stop(signal.SIGTERM)  # closes every socket with 1012
        for page in (board, room):
            expect(page.locator("#connection")).to_be_visible()
            expect(page.locator("#connection")).to_have_text("Reconnecting…")
            expect(page.locator("#connection")).to_have_attribute("role", "status")
        # Nothing that still works over HTTP is disabled, and the banner moves nothing.
        expect(board.get_by_role("button", name="Add topic")).to_be_enabled()
        expect(card(board, "Before the restart").get_by_role("button", name=re.compile("^Vote"))).to_be_enabled()
        assert board.locator("#add-topic").bounding_box() == form_box
        expect(board.locator("#announcer")).to_have_text("Connection lost. Reconnecting…")

        second.start(tmp_path / "second.log")
        # A change made while this page was away: the whole board sent on reconnect brings it.
        fay.act(f"/m/{code}/topics", {"title": "While you were away"}, live=False)
        for page in (board, room):
            expect(page.locator("#connection")).to_be_hidden(timeout=30_000)
        expect(card(board, "While you were away")).to_be_visible()
        expect(room.locator(".room-next")).to_contain_text("While you were away")
        expect(board.locator("#announcer")).to_contain_text(re.compile("Reconnected|New topic"))
        assert board.locator("#add-topic").bounding_box() == form_box
        assert board.evaluate("() => window.shift") < 0.01
        # Chromium and htmx log each refused reconnection attempt; anything else would be a real error.
        assert [e for page in (board, room) for e in page.errors
                if "WebSocket connection to" not in e and "htmx:ws:error" not in e] == []
    finally:
        if context is not None:
            context.close()
        second.stop()
        first.stop()
