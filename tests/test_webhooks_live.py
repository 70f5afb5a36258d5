"""Webhooks through the real server (`python app.py` with its sender on) to a real receiver on 127.0.0.1: signed
deliveries, retries that survive a restart, and two workers on one PostgreSQL delivering each delivery once."""

import json
import signal
import sqlite3
import time
from collections import Counter

import pytest

from tests.backends import fresh_postgres_database, need_postgres, pg_rows
from tests.helpers import AppServer, HttpPerson
from tests.webhook_receiver import Receiver, verify

pytestmark = pytest.mark.server
SENDER = {"WEBHOOKS_SENDER": "on", "WEBHOOKS_ALLOW_NETWORKS": "127.0.0.1/32", "WEBHOOKS_POLL_SECONDS": "0.2",
          "WEBHOOKS_RETRY_SECONDS": "1", "RATE_LIMIT_WRITES": "off"}


def add_webhook(fay: HttpPerson, code: str, url: str, events=("meeting.finished",)) -> str:
    """Add a webhook on the page as a browser without JavaScript would; the secret it shows once."""
    page = fay.http.post(f"{fay.base}/m/{code}/webhooks", data={"url": url, "format": "json", "events": list(events),
                                                               "csrf_token": fay.token})
    assert page.status_code == 200, page.text
    start = page.text.index("whsec_")
    return page.text[start:page.text.index("<", start)]


def finish(fay: HttpPerson, code: str) -> None:
    for phase in ("voting", "discussing", "done"):
        assert fay.press(code, "phase", {"phase": phase, "confirmed": "1"}, live=False).status_code in (200, 303)


def wait_until(predicate, timeout=20.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_real_server_delivers_a_signed_meeting_summary_with_public_links(tmp_path):
    with Receiver() as receiver:
        server = AppServer(f"sqlite:///{tmp_path / 'hooks.db'}", PUBLIC_URL="https://coffee.example.org", **SENDER)
        server.start(tmp_path / "server.log")
        try:
            fay = HttpPerson(server.base)
            code = fay.start_meeting("Retro coffee")
            secret = add_webhook(fay, code, receiver.url)
            finish(fay, code)
            [(headers, body, status)] = receiver.wait_for(1)
            time.sleep(1)  # and nothing more arrives
            exposed = fay.get("/metrics").text
            assert 'leancoffee_webhook_deliveries_total{outcome="delivered"} 1.0' in exposed
        finally:
            server.stop()
    assert len(receiver.received) == 1 and status == 200
    assert verify(secret, headers, body)
    doc = json.loads(body)
    assert doc["event"] == headers["X-LeanCoffee-Event"] == "meeting.finished" and doc["meeting"]["title"] == "Retro coffee"
    assert doc["meeting"]["links"]["summary"] == f"https://coffee.example.org/m/{code}/summary"
    assert "event=webhook_delivery" in server.log_path.read_text() and code not in server.log_path.read_text()


def test_retries_survive_a_restart_in_the_middle(tmp_path):
    db_file = tmp_path / "restart.db"

    def row():
        with sqlite3.connect(db_file) as conn:
            return conn.execute("SELECT status, attempts, uid FROM webhook_delivery").fetchone()

    with Receiver(answers=[500, 502]) as receiver:
        first = AppServer(f"sqlite:///{db_file}", **SENDER).start(tmp_path / "first.log")
        try:
            fay = HttpPerson(first.base)
            code = fay.start_meeting()
            add_webhook(fay, code, receiver.url)
            finish(fay, code)
            receiver.wait_for(1)
            wait_until(lambda: row()[:2] == ("pending", 1), what="the first failure recorded")
        finally:
            first.stop(signal.SIGKILL)  # killed between two attempts: the retry lives in the database
        uid = row()[2]
        second = AppServer(f"sqlite:///{db_file}", **SENDER).start(tmp_path / "second.log")
        try:
            receiver.wait_for(3)
            wait_until(lambda: row()[0] == "delivered", what="the delivery recorded as delivered")
            time.sleep(1)
        finally:
            second.stop()
    assert [s for _, _, s in receiver.received] == [500, 502, 200]
    assert [h["X-LeanCoffee-Attempt"] for h, _, _ in receiver.received] == ["1", "2", "3"]
    assert {h["X-LeanCoffee-Delivery"] for h, _, _ in receiver.received} == {uid} and row()[:2] == ("delivered", 3)
    assert "event=webhook_delivery" in second.log_path.read_text()



def test_two_workers_on_postgresql_deliver_each_delivery_exactly_once(tmp_path):
    need_postgres()
    count = 60
    with fresh_postgres_database() as url, Receiver() as receiver:
        slow = receiver.server.RequestHandlerClass.do_POST

        def slow_post(handler):
            time.sleep(0.2)  # a receiver that takes its time: both workers have deliveries in flight at once
            slow(handler)

        receiver.server.RequestHandlerClass.do_POST = slow_post
        servers = [AppServer(url, **SENDER) for _ in range(2)]
        servers[0].env["WEBHOOKS_SENDER"] = "off"  # until the queue is full, then both start at once
        servers[0].start(tmp_path / "a0.log")
        try:
            fay = HttpPerson(servers[0].base)
            code = fay.start_meeting()
            add_webhook(fay, code, receiver.url)
            [(hook_id,)] = pg_rows(url, "SELECT id FROM webhook")
            for n in range(count):
                pg_rows(url, "INSERT INTO webhook_delivery (webhook_id, uid, event, body, status, attempts, next_attempt_at, "
                        "last_error, created_at) VALUES (%s, %s, 'meeting.finished', %s, 'pending', 0, now() AT TIME ZONE 'utc', "
                        "'', now() AT TIME ZONE 'utc') RETURNING id", (hook_id, f"delivery-{n:03}", json.dumps({"n": n})))
            servers[0].stop()
            servers[0].env["WEBHOOKS_SENDER"] = "on"
            for i, server in enumerate(servers):
                server.start(tmp_path / f"worker{i}.log")
            receiver.wait_for(count, timeout=60)
            wait_until(lambda: pg_rows(url, "SELECT count(*) FROM webhook_delivery WHERE status = 'delivered'")[0][0] == count,
                       timeout=30, what="every delivery recorded")
            time.sleep(1.5)  # nothing arrives twice, even late
        finally:
            for server in servers:
                server.stop()
    arrived = Counter(h["X-LeanCoffee-Delivery"] for h, _, _ in receiver.received)
    assert len(arrived) == count and set(arrived.values()) == {1}
    sent_by = [s.log_path.read_text().count("event=webhook_delivery") for s in servers]
    assert sum(sent_by) == count and all(sent_by), sent_by  # both workers sent, none sent one twice


class DrippingReceiver:
    """A receiver that answers a status line, then one header byte every 0.3 s, for as long as it is read."""

    def __init__(self):
        import socket
        import threading

        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.accepted = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import threading

        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.stop.is_set():
                conn.sendall(b"a")
                time.sleep(0.3)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.listener.close()


def test_a_receiver_dripping_its_answer_is_cut_off_and_holds_no_other_delivery(tmp_path):
    db_file = tmp_path / "drip.db"
    dripping = DrippingReceiver()
    with Receiver() as receiver:
        server = AppServer(f"sqlite:///{db_file}", **{**SENDER, "WEBHOOKS_TIMEOUT_SECONDS": "2"})
        server.start(tmp_path / "server.log")
        try:
            fay = HttpPerson(server.base)
            slow, fast = fay.start_meeting("Slow coffee"), fay.start_meeting("Fast coffee")
            add_webhook(fay, slow, dripping.url)
            add_webhook(fay, fast, receiver.url)
            finish(fay, slow)
            wait_until(lambda: dripping.accepted == 1, what="the dripping receiver's first connection")
            finish(fay, fast)
            started = time.monotonic()
            receiver.wait_for(1, timeout=10)
            assert time.monotonic() - started < 5  # the other webhook's delivery waited at most for the cut-off

            def first_attempt():
                with sqlite3.connect(db_file) as conn:
                    return conn.execute("SELECT d.status, d.attempts, d.last_error FROM webhook_delivery d JOIN webhook w"
                                        " ON w.id = d.webhook_id WHERE w.url = ?", (dripping.url,)).fetchone()

            wait_until(lambda: first_attempt()[0] == "pending", timeout=10, what="the dripped attempt cut off")
        finally:
            server.stop()
            dripping.close()
    status, attempts, error = first_attempt()
    assert (status, attempts) == ("pending", 1) and "within 2 s" in error


def test_a_server_stopping_finishes_the_delivery_under_way_and_never_sends_it_again(tmp_path):
    import threading

    db_file = tmp_path / "stop.db"
    in_flight = threading.Event()
    with Receiver() as receiver:
        answer = receiver.server.RequestHandlerClass.do_POST

        def slow_post(handler):
            in_flight.set()
            time.sleep(1.5)  # the receiver takes its time: the server is told to stop meanwhile
            answer(handler)

        receiver.server.RequestHandlerClass.do_POST = slow_post
        first = AppServer(f"sqlite:///{db_file}", **SENDER).start(tmp_path / "first.log")
        try:
            fay = HttpPerson(first.base)
            code = fay.start_meeting()
            add_webhook(fay, code, receiver.url)
            finish(fay, code)
            assert in_flight.wait(10)
        finally:
            first.stop()  # SIGTERM, as a deploy stops it
        with sqlite3.connect(db_file) as conn:
            row = conn.execute("SELECT status, attempts, response_code FROM webhook_delivery").fetchone()
        assert row == ("delivered", 1, 200)
        second = AppServer(f"sqlite:///{db_file}", **SENDER).start(tmp_path / "second.log")
        time.sleep(1.5)  # the next server's sender looks for due deliveries every 0.2 s
        second.stop()
    assert len(receiver.received) == 1
