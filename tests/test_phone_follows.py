"""The phone follows the meeting (issue 16, part 1), in Debian's Chromium at 390×844 with touch."""

import time

import pytest

from tests.helpers import HttpPerson
from tests.test_browser import card
from tests.test_ux import LAPTOP, PHONE, browser_for, open_page, shot, start, topic_ids

pytestmark = pytest.mark.browser

# Records what the page asked of the device: the browser under test has no vibration motor or speaker.
DEVICE_CALLS = """
window.__calls = { vibrate: [], tones: 0 };
Object.defineProperty(Navigator.prototype, "vibrate", { configurable: true,
  value: function (pattern) { window.__calls.vibrate.push(pattern); return true; } });
const realStart = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function () { window.__calls.tones += 1; return realStart.apply(this, arguments); };
"""
TOPICS = ("Release train", "On-call rota", "Four-day week", "Pairing days", "Team budget", "Hiring plan")


def phone(chromium, person, base):
    """A phone's browser context for this person: 390×844, touch, device calls recorded."""
    context = browser_for(chromium, person, base, viewport=PHONE, has_touch=True, is_mobile=True)
    context.add_init_script(DEVICE_CALLS)
    return context


def meeting_in_voting(fay, ann, title, timebox="8m 4m 2m", topics=TOPICS) -> tuple[str, dict[str, int]]:
    """Fay's meeting with Ann in it, her topics proposed, voting open."""
    code = start(fay, title, timebox=timebox)
    ann.join(code, "Ann")
    for topic in topics:
        assert ann.act(f"/m/{code}/topics", {"title": topic, "description": "Worth an hour of our time?"}).status_code == 200
    assert fay.press(code, "phase", {"phase": "voting"}).status_code == 200
    ids = topic_ids(fay, code)
    # Fay's dot makes the first topic the top one: a tie at the top would be hers to settle first.
    assert fay.act(f"/m/{code}/topics/{ids[topics[0]]}/vote").status_code == 200
    return code, ids


def in_viewport(page, selector) -> bool:
    """Whether the element is wholly inside the window as it is scrolled now."""
    return page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth; }""",
                         selector)


def test_time_up_reaches_a_scrolled_down_phone_and_laptop(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, ids = meeting_in_voting(fay, ann, "Phone coffee", timebox="6s")
    ann_context, fay_context = phone(chromium, ann, server.base), browser_for(chromium, fay, server.base)
    fay_context.add_init_script(DEVICE_CALLS)
    try:
        ann_page, fay_page = open_page(ann_context, f"{server.base}/m/{code}"), open_page(fay_context, f"{server.base}/m/{code}")
        assert fay.press(code, "discuss-next").status_code == 200
        expect(ann_page.locator("#timer")).to_contain_text("Now discussing")
        # The chime is off until she switches it on (and the press plays a sample: the gesture sound needs).
        chime = ann_page.get_by_role("button", name="Chime at time-up")
        expect(chime).to_have_attribute("aria-pressed", "false")
        chime.tap()
        expect(chime).to_have_attribute("aria-pressed", "true")
        sample_tones = ann_page.evaluate("window.__calls.tones")
        assert sample_tones > 0
        for page in (ann_page, fay_page):
            page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        assert not in_viewport(ann_page, "#timer")

        expect(ann_page.locator("#thumbs")).to_be_visible(timeout=15_000)
        # Wherever she was on the page, the prompt and its three thumbs are in her view.
        for selector in ("#thumbs h2", "#thumbs .thumbs-choices"):
            assert in_viewport(ann_page, selector), selector
        expect(ann_page.locator("#thumbs").get_by_role("button", name="👍 Yes")).to_be_visible()
        expect(ann_page).to_have_title("Time is up · Phone coffee")
        calls = ann_page.evaluate("window.__calls")
        assert calls["vibrate"] == [[200, 100, 200]] and calls["tones"] > sample_tones
        assert in_viewport(fay_page, "#thumbs h2")  # the laptop's banner stays at the top of the window
        expect(fay_page).to_have_title("Time is up · Phone coffee")
        assert fay_page.evaluate("window.__calls.tones") == 0  # the chime is each person's own choice
        shot(ann_page, "phone-time-up-sheet", full_page=False)
        shot(fay_page, "laptop-time-up-banner", full_page=False)

        ann_page.locator("#thumbs").get_by_role("button", name="👍 Yes").tap()
        expect(ann_page.locator("#thumbs").get_by_role("button", name="👍 Yes")).to_have_attribute("aria-pressed", "true")
        scrolled = ann_page.evaluate("scrollY")
        assert fay.press(code, "decide", {"outcome": "move_on"}).status_code == 200
        expect(ann_page.locator("#thumbs")).to_be_hidden()
        # The sheet closing under her thumb leaves her where she was, not at the top of the page.
        assert ann_page.evaluate("scrollY") > scrolled / 2 > 0
        expect(ann_page).to_have_title("Phone coffee · Lean Coffee")
    finally:
        ann_context.close()
        fay_context.close()


def test_the_timer_turns_colour_in_its_last_minute_and_shows_its_progress(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, _ = meeting_in_voting(fay, ann, "Clock coffee", timebox="63s", topics=TOPICS[:1])
    context = phone(chromium, ann, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        assert fay.press(code, "discuss-next").status_code == 200
        timer = page.locator("#timer")
        expect(timer).to_be_visible()
        expect(timer).not_to_have_class("timer timer-running timer-low")
        colour = page.evaluate("getComputedStyle(document.querySelector('#timer .clock')).color")
        progress = page.locator("#timer progress")
        expect(progress).to_have_attribute("max", "63")
        first = float(progress.evaluate("p => p.value"))
        expect(timer).to_have_class("timer timer-running timer-low", timeout=8_000)
        assert float(progress.evaluate("p => p.value")) > first
        assert page.evaluate("getComputedStyle(document.querySelector('#timer .clock')).color") != colour
    finally:
        context.close()


def bar_lines(page) -> int:
    """How many lines the bottom bar's text takes."""
    return page.evaluate("""() => { const dots = document.querySelector('#action-bar .my-dots:not([hidden])');
        if (!dots) return 1;
        return Math.round(dots.getBoundingClientRect().height / parseFloat(getComputedStyle(dots).lineHeight)); }""")


def test_the_bottom_bar_and_the_page_follow_the_phase(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code = start(fay, "Bar coffee")
    ann.join(code, "Ann")
    context = phone(chromium, ann, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        bar = page.locator("#action-bar")
        expect(bar.get_by_role("link", name="+ Propose a topic")).to_be_visible()
        assert in_viewport(page, "#action-bar")
        for title in TOPICS[:4]:
            assert ann.act(f"/m/{code}/topics", {"title": title}).status_code == 200
        ids = topic_ids(fay, code)
        assert fay.press(code, "phase", {"phase": "voting"}).status_code == 200
        assert fay.act(f"/m/{code}/topics/{ids[TOPICS[0]]}/vote").status_code == 200  # one top topic, no tie to settle
        expect(bar).to_contain_text("3 of 3 votes left")
        expect(bar.get_by_role("link", name="+ Propose a topic")).to_have_count(0)
        expect(page.locator("#propose")).not_to_have_attribute("open", "")  # folded to one line once voting opens
        for title in TOPICS[:3]:
            card(page, title).get_by_role("button", name=f"Vote for {title}").tap()
            expect(card(page, title).get_by_role("button", name=f"Remove vote for {title}")).to_be_visible()
        expect(bar).to_contain_text("0 of 3 votes left")
        expect(bar).to_contain_text("remove one to vote again")
        for width in (360, 390):
            page.set_viewport_size({"width": width, "height": 844})
            assert bar_lines(page) <= 2, width
        shot(page, "phone-bar-voting", full_page=False)

        assert fay.press(code, "discuss-next").status_code == 200
        expect(bar.get_by_role("link", name="Now discussing")).to_be_visible()
        expect(bar).not_to_contain_text("remove one")
        expect(page.locator("#propose")).to_be_hidden()  # participants no longer propose once discussion starts
        current = ids["Release train"]
        # The topic under discussion, with its takeaway form, comes first.
        assert page.locator(f"#topic-{current}").bounding_box()["y"] < page.locator("#column-to_discuss").bounding_box()["y"]
        bar.get_by_role("link", name="Add a takeaway").tap()
        expect(page.locator(f"#note-text-{current}")).to_be_focused()
        assert in_viewport(page, f"#note-text-{current}")
        page.keyboard.type("Ship every two weeks")
        page.locator(f"#topic-{current}").get_by_role("button", name="Add note").tap()
        expect(page.locator(f"#notes-{current}")).to_contain_text("Ship every two weeks")
        shot(page, "phone-bar-discussing", full_page=False)

        assert fay.press(code, "phase", {"phase": "done", "confirmed": "1"}).status_code == 200
        expect(bar.get_by_role("link", name="Summary")).to_be_visible()
    finally:
        context.close()


def test_a_refusal_can_be_dismissed_and_goes_on_success_or_a_phase_change(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, ids = meeting_in_voting(fay, ann, "Refusal coffee", topics=TOPICS[:4])
    context = phone(chromium, ann, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        for title in TOPICS[:3]:
            card(page, title).get_by_role("button", name=f"Vote for {title}").tap()
            expect(card(page, title).get_by_role("button", name=f"Remove vote for {title}")).to_be_visible()
        refusal = page.locator("#flash")
        full = "You have used all 3 of your votes"

        def refuse():
            card(page, TOPICS[3]).get_by_role("button", name=f"Vote for {TOPICS[3]}").tap()
            expect(refusal).to_contain_text(full)

        refuse()
        refusal.get_by_role("button", name="Dismiss this message").tap()
        expect(refusal).to_be_empty()
        refuse()
        card(page, TOPICS[0]).get_by_role("button", name=f"Remove vote for {TOPICS[0]}").tap()  # a success clears it
        expect(refusal).to_be_empty()
        card(page, TOPICS[0]).get_by_role("button", name=f"Vote for {TOPICS[0]}").tap()
        refuse()
        assert fay.press(code, "discuss-next").status_code == 200  # so does a phase change
        expect(refusal).to_be_empty()
    finally:
        context.close()


def test_the_card_just_tapped_stays_in_view_while_the_list_resorts(chromium, server):
    from playwright.sync_api import expect

    fay, ann, bob = HttpPerson(server.base), HttpPerson(server.base), HttpPerson(server.base)
    titles = [f"Topic {n}" for n in range(1, 9)]
    code, ids = meeting_in_voting(fay, ann, "Sorting coffee", topics=titles)
    bob.join(code, "Bob")
    for title in titles[:3]:
        assert bob.act(f"/m/{code}/topics/{ids[title]}/vote").status_code == 200
    context = phone(chromium, ann, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        last = card(page, "Topic 8")
        page.evaluate(f"document.getElementById('topic-{ids['Topic 8']}').scrollIntoView({{block: 'center'}})")
        before = last.bounding_box()["y"]
        last.get_by_role("button", name="Vote for Topic 8").tap()  # its vote takes it four places up the list
        expect(last.get_by_role("button", name="Remove vote for Topic 8")).to_be_visible()
        order = page.locator("#list-to_discuss > li").evaluate_all("items => items.map(li => li.id)")
        assert order.index(f"topic-{ids['Topic 8']}") == 3
        assert abs(last.bounding_box()["y"] - before) <= 2, (before, last.bounding_box())
        assert fay.act(f"/m/{code}/topics/{ids['Topic 5']}/vote").status_code == 200  # someone else re-sorts the list
        expect(card(page, "Topic 5").locator(".votes")).to_contain_text("1 vote")
        order = page.locator("#list-to_discuss > li").evaluate_all("items => items.map(li => li.id)")
        assert order.index(f"topic-{ids['Topic 5']}") < order.index(f"topic-{ids['Topic 8']}")
        assert abs(last.bounding_box()["y"] - before) <= 2
        assert in_viewport(page, f"#topic-{ids['Topic 8']}")
    finally:
        context.close()


def test_an_action_tapped_offline_says_not_sent_and_is_never_resent(chromium, server):
    from playwright.sync_api import expect

    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, ids = meeting_in_voting(fay, ann, "Offline coffee", timebox="1s", topics=TOPICS[:1])
    assert fay.press(code, "discuss-next").status_code == 200
    time.sleep(1.5)
    context = phone(chromium, ann, server.base)
    try:
        page = open_page(context, f"{server.base}/m/{code}")
        thumbs = page.locator("#thumbs")
        expect(thumbs).to_be_visible()
        context.set_offline(True)
        thumbs.get_by_role("button", name="👍 Yes").tap()
        expect(thumbs.locator(".not-sent")).to_have_text("Not sent — tap again")
        context.set_offline(False)
        time.sleep(1)
        assert "<strong>0</strong> continue" in fay.get(f"/m/{code}").text  # nothing went out by itself
        thumbs.get_by_role("button", name="👍 Yes").tap()
        expect(thumbs.get_by_role("button", name="👍 Yes")).to_have_attribute("aria-pressed", "true")
        expect(thumbs.locator(".not-sent")).to_have_count(0)
        assert "<strong>1</strong> continue" in fay.get(f"/m/{code}").text
    finally:
        context.close()


def test_phone_screenshots_light_and_dark(chromium, server):
    fay, ann = HttpPerson(server.base), HttpPerson(server.base)
    code, ids = meeting_in_voting(fay, ann, "Look coffee")
    current = ids[TOPICS[0]]  # Fay's dot already leads; Ann's makes it two
    assert ann.act(f"/m/{code}/topics/{current}/vote").status_code == 200
    assert fay.press(code, "discuss-next").status_code == 200
    assert f'<li id="topic-{current}"' in fay.get(f"/m/{code}").text.split('id="list-discussing"', 1)[1].split("</ol>", 1)[0]
    assert ann.act(f"/m/{code}/topics/{current}/notes", {"kind": "takeaway", "text": "Rotate weekly"}).status_code == 200
    for who, name in ((ann, "participant"), (fay, "facilitator")):
        for dark in (False, True):
            for viewport, size in ((PHONE, "phone"), (LAPTOP, "laptop")):
                context = browser_for(chromium, who, server.base, viewport=viewport, has_touch=size == "phone")
                page = open_page(context, f"{server.base}/m/{code}", dark=dark)
                assert page.errors == []
                shot(page, f"follow-{size}-{name}-{'dark' if dark else 'light'}", full_page=False)
                context.close()
