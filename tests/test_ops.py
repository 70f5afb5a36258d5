"""What operators see on the zero-configuration server (SQLite, one process): probes, metrics, request ids, proxies."""

import re

import pytest
import requests
import websocket

from tests.helpers import AppServer, HttpPerson, receive_until

pytestmark = pytest.mark.server


def test_health_and_readiness_on_the_embedded_default(server):
    health = requests.get(server.base + "/healthz")
    assert health.status_code == 200 and health.text == "ok\n"
    ready = requests.get(server.base + "/readyz")
    assert ready.status_code == 200 and ready.text == "database: ok\n"  # no Redis configured, none checked


def test_metrics_count_sockets_pushes_and_requests(server):
    fay = HttpPerson(server.base)
    code = fay.start_meeting()
    ws = fay.socket(code)
    receive_until(ws, lambda f: 'id="columns"' in f)
    fay.act(f"/m/{code}/topics", {"title": "Measured"})
    receive_until(ws, lambda f: "Measured" in f)
    text = requests.get(server.base + "/metrics").text
    assert re.search(r"^leancoffee_open_sockets [1-9]", text, re.M)
    assert re.search(r"^leancoffee_live_meetings [1-9]", text, re.M)
    assert re.search(r"^leancoffee_bytes_pushed_total [1-9]", text, re.M)
    assert re.search(r'^leancoffee_broadcast_latency_seconds_bucket\{le="0\.1",origin="local"\} [1-9]', text, re.M)
    requests_counted = r'^leancoffee_request_duration_seconds_count\{endpoint="actions.add_topic",method="POST"\} [1-9]'
    assert re.search(requests_counted, text, re.M)
    assert "leancoffee_redis_up" not in text  # only exported when REDIS_URL is set
    ws.close()


def test_each_response_carries_a_request_id_and_keeps_a_proxys_one(server):
    first, second = requests.get(server.base + "/"), requests.get(server.base + "/")
    assert re.fullmatch(r"[0-9a-f]{16}", first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    offered = requests.get(server.base + "/", headers={"X-Request-ID": "edge-42.abc"})
    assert offered.headers["X-Request-ID"] == "edge-42.abc"
    forged = requests.get(server.base + "/", headers={"X-Request-ID": "bad id\" injected=1"})
    assert forged.headers["X-Request-ID"] != "bad id\" injected=1"


def proxied_socket(person: HttpPerson, code: str, origin: str):
    """The board socket as nginx forwards it for https://<host>: https Origin, plain-http hop, X-Forwarded-Proto."""
    return websocket.create_connection(
        f"ws://{person.base.split('://', 1)[1]}/m/{code}/ws",
        cookie=person.cookie_header(), origin=origin, header=["X-Forwarded-Proto: https"], timeout=10,
    )


@pytest.mark.parametrize("trusted, status", [("1", 101), ("0", 403)])
def test_behind_a_tls_proxy_the_socket_origin_check_needs_trusted_proxies(tmp_path, trusted, status):
    srv = AppServer(f"sqlite:///{tmp_path / 'proxy.db'}", TRUSTED_PROXIES=trusted).start(tmp_path / "server.log")
    try:
        fay = HttpPerson(srv.base)
        code = fay.start_meeting()
        origin = "https://" + srv.base.split("://", 1)[1]
        if status == 101:
            ws = proxied_socket(fay, code, origin)
            assert 'id="columns"' in ws.recv()
            ws.close()
        else:
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                proxied_socket(fay, code, origin)
            assert refused.value.status_code == status
    finally:
        srv.stop()
