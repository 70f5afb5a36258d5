"""A shared Redis is not trusted: unsigned backplane messages are dropped, foreign presence ids ignored (issue 15, point 4)."""

import json
import re
import time

import pytest
import requests

from leancoffee.live.sealed import seal, signing_key, unseal
from tests.backends import SHARED_REDIS_URL, pg_url  # noqa: F401  (fixture)
from tests.helpers import HttpPerson, receive_until
from tests.test_scale_out import start_app  # noqa: F401  (fixture)
from tests.test_sessions_and_hidden_live import nothing_arrives

KEY = signing_key("one deployment's secret")
CHANNEL = "lc:{m7}:changes"
MESSAGE = {"w": "worker-a", "t": 1.5, "rid": None, "resync": True}


def test_a_sealed_message_opens_only_with_its_key_on_its_own_channel():
    payload = seal(KEY, CHANNEL, MESSAGE)
    assert unseal(KEY, CHANNEL, payload) == MESSAGE
    assert unseal(KEY, CHANNEL.encode(), payload.encode()) == MESSAGE  # as redis-py delivers it
    mac, body = payload.split(".", 1)
    forgeries = {
        "unsigned JSON": json.dumps(MESSAGE),
        "another app's key": seal(signing_key("another app"), CHANNEL, MESSAGE),
        "another meeting's channel": seal(KEY, "lc:{m8}:changes", MESSAGE),
        "body changed after signing": mac + "." + body.replace("worker-a", "worker-b"),
        "signature cut short": mac[:-2] + "." + body,
        "no body": mac + ".",
        "empty": "",
        "not UTF-8": b"\xff\xfe." + body.encode(),
        "non-ASCII signature": "é" * 64 + "." + body,
    }
    for label, forged in forgeries.items():
        assert unseal(KEY, CHANNEL, forged) is None, label


def forged_count(base: str) -> float:
    text = requests.get(base + "/metrics").text
    found = re.search(r'^leancoffee_backplane_messages_total\{direction="forged"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.server
def test_a_forged_backplane_message_reaches_no_board_and_is_counted(start_app):  # noqa: F811
    import redis

    server = start_app()
    fay = HttpPerson(server.base)
    code = fay.start_meeting()
    ann, bob = HttpPerson(server.base), HttpPerson(server.base)
    ann.join(code, "Ann")
    ws = ann.socket(code)
    receive_until(ws, lambda f: 'id="columns"' in f)
    client = redis.Redis.from_url(SHARED_REDIS_URL)
    prefix = server.env["REDIS_PREFIX"]
    deadline = time.monotonic() + 5
    while not (channels := client.pubsub_channels(f"{prefix}{{m*}}:changes")) and time.monotonic() < deadline:
        time.sleep(0.05)
    channel = channels[0].decode()
    meeting_id = int(re.search(r"\{m(\d+)\}", channel).group(1))
    nothing_arrives(ws, 1.0)  # let Ann's own arrival (her row turning "here") go by first
    # What an attacker sharing the Redis would publish: a resync request, and a change making browsers leave.
    client.publish(channel, json.dumps({"w": "evil", "t": time.time(), "rid": None, "resync": True}))
    client.publish(channel, json.dumps({"w": "evil", "t": time.time(), "rid": None,
                                        "c": {"kind": "participant_left", "meeting_id": meeting_id, "version": 99}}))
    client.publish(channel, seal(signing_key("another app's secret"), channel, {"w": "evil", "resync": True}))
    assert nothing_arrives(ws, 1.5) == []
    assert forged_count(server.base) == 3

    # Presence: an id that is no participant of the meeting, written into its hash, is nobody.
    client.hset(f"{prefix}{{m{meeting_id}}}:presence", "999999:evil-worker", 1)
    bob.join(code, "Bob")
    frame = receive_until(ws, lambda f: 'id="participants-count"' in f)
    assert '<span class="count">3</span> <span class="here-count">1 here, 2 away</span>' in frame
    # The app's own messages still flow.
    assert fay.act(f"/m/{code}/topics", {"title": "Still live"}).status_code == 200
    assert "Still live" in receive_until(ws, lambda f: "Still live" in f)
    ws.close()

