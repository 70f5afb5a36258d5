"""Webhooks in process: the facilitator's page, bad input, what is queued with which change, signed deliveries to a
real receiver on 127.0.0.1, retries with backoff, turning off after 10 failures, the log of 100, and resending."""

import json

import pytest

from leancoffee.config import parse_networks
from leancoffee.models import Topic
from leancoffee.services import facilitation, topics
from leancoffee.webhooks import queue, sender
from leancoffee.webhooks.tables import DELIVERED, PENDING, Webhook, WebhookDelivery
from tests.helpers import board_expected
from tests.webhook_receiver import Receiver, verify

LOOPBACK = parse_networks("127.0.0.1/32")


@pytest.fixture
def allow_loopback(app):
    app.config.update(WEBHOOKS_ALLOW_NETWORKS=LOOPBACK, WEBHOOKS_RETRY_SECONDS=0, WEBHOOKS_TIMEOUT_SECONDS=3)
    return app


def add(who, code, url, fmt="json", events=("meeting.finished",), series=False):
    path = f"/s/{code}/webhooks" if series else f"/m/{code}/webhooks"
    return who.post(path, {"url": url, "format": fmt, "events": list(events)}, htmx=False)


def secret_on(page: str) -> str:
    start = page.index("whsec_")
    return page[start:page.index("<", start)]


def press(who, code, action, data=None):
    """A control of the board pressed as a plain form: it names the state it acts on, and a finish is confirmed."""
    data = {**(data or {}), "expected": board_expected(who, code, action), "confirmed": "1"}
    return who.post(f"/m/{code}/{action}", data, htmx=False)


def finish(who, code):
    for phase in ("voting", "discussing", "done"):
        assert press(who, code, "phase", {"phase": phase}).status_code == 303


def send_due(app, rounds=1):
    with app.app_context():
        return sum(sender.run_once(app.config) for _ in range(rounds))


def test_a_facilitator_adds_a_webhook_and_its_secret_shows_once(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    page = add(fay, m.code, "http://127.0.0.1:9/hook", "slack", ["meeting.finished", "topic.discussed"])
    assert page.status_code == 200 and "whsec_" in page.text
    hook = Webhook.get()
    assert secret_on(page.text) == hook.secret and (hook.format, hook.on_finished, hook.on_topic) == ("slack", True, True)
    again = fay.get(f"/m/{m.code}/webhooks")
    assert again.status_code == 200 and "http://127.0.0.1:9/hook" in again.text and hook.secret not in again.text
    assert f'href="/m/{m.code}/webhooks"' in fay.get(f"/m/{m.code}").text  # linked from the meeting's settings


@pytest.mark.parametrize("form, status", [
    ({"url": "ftp://example.org/x"}, 422),
    ({"url": "javascript:alert(1)"}, 422),
    ({"url": "http://"}, 422),
    ({"url": "http://user:pw@127.0.0.1/x"}, 422),
    ({"url": "http://127.0.0.1/\nX-Evil: 1"}, 422),
    ({"url": "http://127.0.0.1:99999/x"}, 422),
    ({"url": "http://ünïcode.example/x"}, 422),
    ({"url": "http://127.0.0.1/" + "a" * 3000}, 422),
    ({"url": ""}, 422),
    ({"format": "xml"}, 422),
    ({"format": ""}, 422),
    ({"events": ["meeting.started"]}, 422),
    ({"events": []}, 422),
    ({"events": ["topic.discussed", "x" * 5000]}, 422),
])
def test_bad_input_is_a_clear_refusal_and_saves_nothing(allow_loopback, meeting, form, status):
    m, fay, ann, bob = meeting
    data = {"url": "http://127.0.0.1:9/hook", "format": "json", "events": ["meeting.finished"], **form}
    response = fay.post(f"/m/{m.code}/webhooks", data, htmx=False)
    assert response.status_code == status and 'id="webhook-error"' in response.text
    assert Webhook.select().count() == 0


def test_a_form_over_64_kb_is_413_and_saves_nothing(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    response = add(fay, m.code, "http://127.0.0.1:9/" + "a" * 70_000)
    assert response.status_code == 413 and Webhook.select().count() == 0


def test_strangers_and_participants_are_refused_everywhere(allow_loopback, meeting, person):
    m, fay, ann, bob = meeting
    add(fay, m.code, "http://127.0.0.1:9/hook")
    hook = Webhook.get()
    stranger, nobody = person(), person()
    stranger.post("/meetings", {"title": "Other", "votes_per_person": "2", "name": "Sam"}, htmx=False)
    for who in (ann, stranger, nobody):
        assert who.get(f"/m/{m.code}/webhooks").status_code == 403
        assert add(who, m.code, "http://127.0.0.1:9/other").status_code == 403
        for action in ("delete", "off", "on", "deliveries/1/resend"):
            assert who.post(f"/m/{m.code}/webhooks/{hook.id}/{action}", htmx=False).status_code == 403
    assert Webhook.select().count() == 1 and Webhook.get().enabled
    assert fay.get("/m/nosuchmeeting/webhooks").status_code == 404
    assert fay.get(f"/s/{m.code}/webhooks").status_code == 404  # not a series
    # No CSRF token: refused before anything.
    assert fay.post(f"/m/{m.code}/webhooks", {"url": "http://127.0.0.1:9/x", "format": "json", "events": ["meeting.finished"]},
                    htmx=False, token=False).status_code == 400


@pytest.mark.parametrize("odd", ["abc", "0", "-1", "٣", "9" * 30, "1.5", "%00", "x" * 2000])
def test_odd_ids_are_404_not_500(allow_loopback, meeting, odd):
    m, fay, ann, bob = meeting
    add(fay, m.code, "http://127.0.0.1:9/hook")
    hook = Webhook.get()
    for path in (f"{odd}/delete", f"{odd}/off", f"{hook.id}/deliveries/{odd}/resend", f"{odd}/deliveries/1/resend"):
        assert fay.post(f"/m/{m.code}/webhooks/{path}", htmx=False).status_code == 404, path


def test_deliveries_are_queued_with_the_change_that_causes_them_and_only_then(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    add(fay, m.code, "http://127.0.0.1:9/finished")
    add(fay, m.code, "http://127.0.0.1:9/topics", "json", ["topic.discussed"])
    ann.post(f"/m/{m.code}/topics", {"title": "Ship on Fridays?"})
    ann.post(f"/m/{m.code}/topics", {"title": "Budget"})
    refused = ann.post(f"/m/{m.code}/phase", {"phase": "voting", "expected": board_expected(fay, m.code, "phase")}, htmx=False)
    assert refused.status_code == 403
    assert press(fay, m.code, "phase", {"phase": "voting"}).status_code == 303
    ids = {t.title: t.id for t in Topic.select()}
    ann.post(f"/m/{m.code}/topics/{ids['Ship on Fridays?']}/vote")
    assert press(fay, m.code, "discuss-next").status_code == 303
    assert WebhookDelivery.select().count() == 0
    assert press(fay, m.code, "discuss-next").status_code == 303  # the first topic retires to Discussed
    assert press(fay, m.code, "phase", {"phase": "done"}).status_code == 303  # the second one too; the meeting finishes
    rows = list(WebhookDelivery.select().order_by(WebhookDelivery.id))
    assert [r.event for r in rows] == ["topic.discussed", "topic.discussed", "meeting.finished"]
    assert [json.loads(r.body)["topic"]["title"] for r in rows[:2]] == ["Ship on Fridays?", "Budget"]
    finished = json.loads(rows[2].body)["meeting"]
    assert [t["title"] for t in finished["discussed"]] == ["Ship on Fridays?", "Budget"]
    assert finished["attendees"] == ["Fay", "Ann", "Bob"]
    assert finished["links"]["summary"].endswith(f"/m/{m.code}/summary")
    assert {r.status for r in rows} == {PENDING} and len({r.uid for r in rows}) == 3


def test_payloads_keep_hidden_votes_and_anonymous_authors(allow_loopback, app, trio):
    m, fay, ann, bob = trio
    with app.test_request_context():
        Webhook.create(meeting=m.id, url="http://127.0.0.1:9/x", format="json", secret="s" * 40, on_topic=True)
        Webhook.create(meeting=m.id, url="http://127.0.0.1:9/y", format="slack", secret="s" * 40, on_topic=True)
        facilitation.update_settings(fay, m.code, hidden_voting=True, timebox_pattern="8m", show_authors=False)
        topic = topics.add_topic(ann, m.code, "Secret ballot", "")
        facilitation.change_phase(fay, m.code, "voting")
        from leancoffee.services import votes

        votes.cast_vote(bob, m.code, Topic.get().id)
        # Moved to Discussed while voting is still hidden: no count, no order, no name.
        topics.move_topic(fay, m.code, Topic.get().id, "discussed")
    bodies = [r.body for r in WebhookDelivery.select().order_by(WebhookDelivery.id)]
    doc = json.loads(bodies[0])
    assert doc["topic"]["votes"] is None and doc["meeting"]["votes_hidden"] is True
    assert doc["topic"]["author"] is None and doc["topic"]["anonymous"] is True and doc["topic"]["yours"] is False
    assert all("Ann" not in body for body in bodies) and "vote" not in json.loads(bodies[1])["text"]
    assert topic is not None


def test_a_signed_delivery_reaches_a_real_receiver(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    from leancoffee import metrics

    delivered = metrics.WEBHOOK_DELIVERIES.labels("delivered")._value.get()
    with Receiver() as receiver:
        secret = secret_on(add(fay, m.code, receiver.url).text)
        finish(fay, m.code)
        assert f'href="/m/{m.code}/webhooks"' in fay.get(f"/m/{m.code}/summary").text  # the finished meeting's way back
        assert f'href="/m/{m.code}/webhooks"' not in ann.get(f"/m/{m.code}/summary").text
        assert send_due(allow_loopback) == 1
        assert metrics.WEBHOOK_DELIVERIES.labels("delivered")._value.get() == delivered + 1
        [(headers, body, status)] = receiver.received
    assert verify(secret, headers, body) and not verify("whsec_wrong" + "x" * 30, headers, body)
    delivery = WebhookDelivery.get()
    assert headers["X-LeanCoffee-Delivery"] == delivery.uid and headers["X-LeanCoffee-Event"] == "meeting.finished"
    assert headers["X-LeanCoffee-Attempt"] == "1" and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["meeting"]["title"] == "Team coffee"
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DELIVERED, 200, 1)
    assert send_due(allow_loopback) == 0  # exactly once


def test_a_receiver_failing_twice_gets_the_delivery_on_the_third_attempt_with_backoff(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    allow_loopback.config.update(WEBHOOKS_RETRY_SECONDS=0.3)
    with Receiver(answers=[500, 503]) as receiver:
        add(fay, m.code, receiver.url)
        finish(fay, m.code)
        assert send_due(allow_loopback) == 1
        assert send_due(allow_loopback) == 0  # not due yet: 0.3 s
        first = WebhookDelivery.get()
        assert (first.status, first.response_code, first.attempts) == (PENDING, 500, 1)
        waited = (first.next_attempt_at - first.created_at).total_seconds()
        assert 0.2 < waited < 2
        import time

        time.sleep(0.35)
        assert send_due(allow_loopback) == 1
        second = WebhookDelivery.get()
        assert (second.next_attempt_at - first.next_attempt_at).total_seconds() > 0.55  # doubled: 0.6 s
        time.sleep(0.65)
        assert send_due(allow_loopback) == 1
    assert [s for _, _, s in receiver.received] == [500, 503, 200]
    assert [h["X-LeanCoffee-Attempt"] for h, _, _ in receiver.received] == ["1", "2", "3"]
    assert len({h["X-LeanCoffee-Delivery"] for h, _, _ in receiver.received}) == 1
    done = WebhookDelivery.get()
    assert (done.status, done.response_code, done.attempts) == (DELIVERED, 200, 3) and Webhook.get().consecutive_failures == 0


def test_backoff_doubles_from_10_seconds_up_to_an_hour():
    assert [sender.backoff(n, 10, 3600) for n in (1, 2, 3, 4, 9, 10, 50)] == [10, 20, 40, 80, 2560, 3600, 3600]


def test_ten_failures_in_a_row_turn_the_webhook_off_and_the_facilitators_see_why(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    with Receiver(answers=[500] * 10) as receiver:
        add(fay, m.code, receiver.url)
        finish(fay, m.code)
        assert send_due(allow_loopback, rounds=12) == 10
        hook = Webhook.get()
        assert (hook.enabled, hook.consecutive_failures, hook.disabled_reason) == (False, 10, "HTTP 500")
        page = fay.get(f"/m/{m.code}/webhooks").text
        assert "Turned off after 10 failed deliveries in a row" in page and "HTTP 500" in page
        delivery = WebhookDelivery.get()
        assert fay.post(f"/m/{m.code}/webhooks/{hook.id}/deliveries/{delivery.id}/resend", htmx=False).status_code == 409
        assert fay.post(f"/m/{m.code}/webhooks/{hook.id}/on", htmx=False).status_code == 303
        assert send_due(allow_loopback) == 1
    assert WebhookDelivery.get().status == DELIVERED and Webhook.get().enabled and len(receiver.received) == 11


def test_a_delivered_delivery_can_be_resent_with_its_id(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    with Receiver() as receiver:
        add(fay, m.code, receiver.url)
        finish(fay, m.code)
        send_due(allow_loopback)
        hook, delivery = Webhook.get(), WebhookDelivery.get()
        page = fay.get(f"/m/{m.code}/webhooks").text
        assert f'id="delivery-{delivery.id}"' in page and "delivered" in page and ">200<" in page
        assert fay.post(f"/m/{m.code}/webhooks/{hook.id}/deliveries/{delivery.id}/resend", htmx=False).status_code == 303
        assert send_due(allow_loopback) == 1
    assert [h["X-LeanCoffee-Delivery"] for h, _, _ in receiver.received] == [delivery.uid] * 2
    assert [h["X-LeanCoffee-Attempt"] for h, _, _ in receiver.received] == ["1", "2"]


def test_the_log_keeps_the_last_100_deliveries_per_webhook_and_every_one_still_waiting(allow_loopback, app, trio):
    m, fay, ann, bob = trio
    with app.test_request_context():
        hook = Webhook.create(meeting=m.id, url="http://127.0.0.1:9/x", format="json", secret="s" * 40)
        other = Webhook.create(meeting=m.id, url="http://127.0.0.1:9/y", format="json", secret="s" * 40)
        for _ in range(3):  # the receiver is away: these wait
            queue.enqueue("meeting.finished", m)
        waiting = {d.id for d in WebhookDelivery.select().where(WebhookDelivery.webhook == hook.id)}
        for _ in range(102):
            queue.enqueue("meeting.finished", m)
            WebhookDelivery.update(status=DELIVERED).where(WebhookDelivery.id.not_in(waiting)).execute()
    kept = [d for d in WebhookDelivery.select().where(WebhookDelivery.webhook == hook.id).order_by(WebhookDelivery.id)]
    delivered = [d.id for d in kept if d.status == DELIVERED]
    assert {d.id for d in kept if d.status != DELIVERED} == waiting  # never dropped before they are sent
    assert len(delivered) == 100 and min(delivered) > max(waiting)  # the log: the 100 newest (2 oldest delivered went)
    assert WebhookDelivery.select().where(WebhookDelivery.webhook == other.id).count() == 100


def test_turning_off_and_deleting(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    add(fay, m.code, "http://127.0.0.1:9/hook")
    hook = Webhook.get()
    assert fay.post(f"/m/{m.code}/webhooks/{hook.id}/off", htmx=False).status_code == 303
    finish(fay, m.code)
    assert WebhookDelivery.select().count() == 0  # off: nothing queued
    assert "Off (a facilitator turned it off)." in fay.get(f"/m/{m.code}/webhooks").text
    assert fay.post(f"/m/{m.code}/webhooks/{hook.id}/delete", htmx=False).status_code == 303
    assert Webhook.select().count() == 0
    assert fay.post(f"/m/{m.code}/webhooks/{hook.id}/delete", htmx=False).status_code == 404


def test_a_series_webhook_hears_every_meeting_of_the_series(allow_loopback, meeting):
    m, fay, ann, bob = meeting
    finish(fay, m.code)
    response = fay.post(f"/m/{m.code}/run-again", {}, htmx=False)
    assert response.status_code == 303
    from leancoffee.models import Meeting

    m2 = Meeting.select().order_by(Meeting.id.desc()).get()
    series_code = m2.series.code
    assert f'href="/s/{series_code}/webhooks"' in fay.get(f"/s/{series_code}/meetings").text
    assert ann.get(f"/s/{series_code}/webhooks").status_code == 404  # not in its current meeting: no such series for her
    ann.post(f"/m/{m2.code}/join", {"name": "Ann"}, htmx=False)
    assert ann.get(f"/s/{series_code}/webhooks").status_code == 403
    assert add(ann, series_code, "http://127.0.0.1:9/series", series=True).status_code == 403
    page = add(fay, series_code, "http://127.0.0.1:9/series", series=True)
    assert page.status_code == 200 and "whsec_" in page.text and Webhook.get().series_id == m2.series_id
    finish(fay, m2.code)
    assert [d.event for d in WebhookDelivery.select()] == ["meeting.finished"]


def test_the_webhooks_page_and_its_refusals_speak_german(allow_loopback, meeting):
    from tests.test_i18n import english_sentences, page_text

    m, fay, ann, bob = meeting
    fay.client.set_cookie("lang", "de")
    made = add(fay, m.code, "http://127.0.0.1:9/hook", "teams", ["meeting.finished", "topic.discussed"])
    finish(fay, m.code)
    refused = add(fay, m.code, "ftp://example.org/x")
    english = english_sentences()
    for response in (made, fay.get(f"/m/{m.code}/webhooks"), refused):
        text = page_text(response.text)
        assert [s for s in english if s in text] == [], text
    assert "Webhook hinzugefügt" in made.text and "Das ist keine http://" in refused.text
    card = json.loads(WebhookDelivery.get().body)
    assert card["attachments"][0]["content"]["body"][0]["text"].startswith("Lean Coffee beendet")


def test_a_topic_merged_away_while_discussed_is_not_announced_as_discussed(allow_loopback, app, trio):
    m, fay, ann, bob = trio
    with app.test_request_context():
        Webhook.create(meeting=m.id, url="http://127.0.0.1:9/x", format="json", secret="s" * 40, on_topic=True,
                       on_finished=False)
        first = topics.add_topic(ann, m.code, "Twice", "").topic_id
        second = topics.add_topic(bob, m.code, "Twice again", "").topic_id
        facilitation.change_phase(fay, m.code, "voting")
        facilitation.discuss_next(fay, m.code, topic=first)
        from leancoffee.services import merging

        merging.merge_topics(fay, m.code, first, second)
        assert WebhookDelivery.select().count() == 0
        facilitation.discuss_next(fay, m.code)
        facilitation.change_phase(fay, m.code, "done")
    assert [json.loads(d.body)["topic"]["title"] for d in WebhookDelivery.select()] == ["Twice again"]


def test_the_readme_s_verification_snippet_accepts_a_delivery_and_refuses_a_forgery():
    import re
    import time

    from leancoffee.webhooks.delivery import Attempt, headers_for
    from tests.helpers import ROOT

    snippet = re.search(r"```python\n(import hashlib.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    scope: dict = {}
    exec(snippet, scope)  # noqa: S102 (the README's own code, run as a reader would)
    body = b'{"event":"meeting.finished"}'
    headers = headers_for(Attempt("id-1", "meeting.finished", 1, body.decode(), "https://x", "whsec_" + "k" * 43), "x", body)
    assert scope["verify"]("whsec_" + "k" * 43, headers, body)
    assert not scope["verify"]("whsec_" + "k" * 43, headers, body + b" ")
    assert not scope["verify"]("whsec_" + "j" * 43, headers, body)
    old = headers_for(Attempt("id-1", "meeting.finished", 1, body.decode(), "https://x", "whsec_" + "k" * 43), "x", body,
                      now=time.time() - 3600)
    assert not scope["verify"]("whsec_" + "k" * 43, old, body)  # a replay an hour later


def test_a_payload_that_cannot_be_built_never_fails_the_change(allow_loopback, meeting, monkeypatch):
    from leancoffee import metrics
    from leancoffee.webhooks import payloads

    m, fay, ann, bob = meeting
    add(fay, m.code, "http://127.0.0.1:9/hook")
    errors = metrics.ERRORS.labels("webhook_enqueue")._value.get()

    def broken(*args, **kwargs):
        raise KeyError("a bug in a payload")

    monkeypatch.setattr(payloads, "document", broken)
    finish(fay, m.code)  # the meeting finishes all the same
    assert type(m).get_by_id(m.id).status == "completed" and WebhookDelivery.select().count() == 0
    assert metrics.ERRORS.labels("webhook_enqueue")._value.get() == errors + 1
