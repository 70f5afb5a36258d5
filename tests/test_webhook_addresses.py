"""No server-side request forgery: names resolving to loopback, private, link-local, reserved, multicast or metadata
addresses are refused at save and at send, and the sender connects only to the addresses it checked, in turn. Name
resolution and the connection are stubbed: nothing is ever sent anywhere but to receivers of these tests on 127.0.0.1."""

import socket
import threading

import pytest
import urllib3.util.connection

from leancoffee.config import parse_networks
from leancoffee.webhooks import queue, sender
from leancoffee.webhooks.tables import DELIVERED, PENDING, Webhook, WebhookDelivery

REFUSED = ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.20", "169.254.169.254", "169.254.1.1",
           "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "192.0.2.1",
           "198.18.0.1", "240.0.0.1", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1",
           "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2001:db8::1", "64:ff9b::a00:1", "2002:7f00:1::1",
           "2001:0:4136:e378:8000:63bf:f5ff:fffe",
           # forms the standard library's tables may call global (by patch release): IPv4-compatible, translated, site-local
           "::a9fe:a9fe", "::7f00:1", "::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe", "fec0::1"]
PUBLIC = "93.184.215.14"
SECOND = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
REAL_CONNECT = socket.socket.connect  # before any stub: the way to a receiver of the test's own


class Network:
    """Stubs for name resolution (the name resolves to `addresses`) and for every way of connecting (recorded, refused;
    an address in `reach` is a receiver of the test's own on 127.0.0.1, at the port given)."""

    def __init__(self, monkeypatch, *addresses, reach=None):
        self.addresses = list(addresses)
        self.lookups, self.connections = [], []
        reach = reach or {}

        def getaddrinfo(host, port, *args, **kwargs):
            self.lookups.append(host)
            family = {True: socket.AF_INET6, False: socket.AF_INET}
            return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in self.addresses]

        def connect(address, *args, **kwargs):
            self.connections.append(address)
            if address[0] in reach:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(5)
                REAL_CONNECT(sock, ("127.0.0.1", reach[address[0]]))
                return sock
            raise ConnectionRefusedError("the tests connect nowhere")

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(urllib3.util.connection, "create_connection", connect)
        monkeypatch.setattr(socket, "create_connection", connect)
        monkeypatch.setattr(socket.socket, "connect", lambda self, address: connect(address))


def add(fay, code, url="https://hooks.example.org/in"):
    return fay.post(f"/m/{code}/webhooks", {"url": url, "format": "json", "events": ["meeting.finished"]}, htmx=False)


@pytest.mark.parametrize("address", REFUSED)
def test_a_name_resolving_to_an_inner_address_is_refused_at_save_and_nothing_connects(meeting, monkeypatch, address):
    m, fay, ann, bob = meeting
    net = Network(monkeypatch, address)
    response = add(fay, m.code)
    assert response.status_code == 422 and "public addresses" in response.text
    assert Webhook.select().count() == 0 and net.lookups == ["hooks.example.org"] and net.connections == []


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://[::1]:8080/x", "http://169.254.169.254/latest/meta-data/",
                                 "http://0x7f000001/x", "http://2130706433/x", "http://localhost/x"])
def test_literal_inner_addresses_are_refused_too(meeting, monkeypatch, url):
    m, fay, ann, bob = meeting
    net = Network(monkeypatch, "127.0.0.1")  # what the resolver makes of 0x7f000001, 2130706433 and localhost
    assert add(fay, m.code, url).status_code == 422 and net.connections == []


def test_one_inner_address_among_public_ones_is_enough_to_refuse(meeting, monkeypatch):
    m, fay, ann, bob = meeting
    net = Network(monkeypatch, PUBLIC, "10.0.0.5")
    assert add(fay, m.code).status_code == 422 and net.connections == []


def test_a_name_that_rebinds_to_an_inner_address_after_saving_is_refused_at_send(app, meeting, monkeypatch):
    m, fay, ann, bob = meeting
    net = Network(monkeypatch, PUBLIC)
    assert add(fay, m.code).status_code == 200
    with app.test_request_context():
        queue.enqueue("meeting.finished", m)
    net.addresses = ["127.0.0.1"]  # DNS rebinding: public when saved, loopback when sent
    with app.app_context():
        assert sender.run_once(app.config) == 1
    delivery = WebhookDelivery.get()
    assert delivery.status == PENDING and delivery.attempts == 1 and "public addresses" in delivery.last_error
    assert net.connections == [] and Webhook.get().consecutive_failures == 1


def test_the_sender_connects_to_the_address_it_checked_and_resolves_once(app, meeting, monkeypatch):
    m, fay, ann, bob = meeting
    net = Network(monkeypatch, PUBLIC)
    _queued(app, fay, m, "https://hooks.example.org:8443/in?team=1")
    net.lookups.clear()
    with app.app_context():
        sender.run_once(app.config)
    assert net.lookups == ["hooks.example.org"]  # one resolution, checked; urllib3 is given the address itself
    assert [tuple(c[:2]) for c in net.connections] == [(PUBLIC, 8443)]
    error = WebhookDelivery.get().last_error
    assert "ConnectionRefusedError" in error or "NewConnectionError" in error


def test_the_operator_may_allow_a_network(app, meeting, monkeypatch):
    m, fay, ann, bob = meeting
    app.config["WEBHOOKS_ALLOW_NETWORKS"] = parse_networks("10.0.0.0/8, fd00::/8")
    net = Network(monkeypatch, "10.1.2.3")
    assert add(fay, m.code, "http://chat.internal/hook").status_code == 200
    net.addresses = ["192.168.1.1"]
    assert add(fay, m.code, "http://other.internal/hook").status_code == 422  # only the networks allowed
    net.addresses = ["fd00::5"]
    assert add(fay, m.code, "http://v6.internal/hook").status_code == 200
    assert Webhook.select().count() == 2


def test_a_name_that_does_not_resolve_is_refused_with_its_reason(meeting, monkeypatch):
    m, fay, ann, bob = meeting

    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    response = add(fay, m.code)
    assert response.status_code == 422 and "does not resolve" in response.text


def _tls_receiver(tmp_path, name: str):
    """A receiver on 127.0.0.1 speaking TLS with a self-signed certificate for `name`; (receiver, certificate file)."""
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    from tests.webhook_receiver import Receiver

    receiver = Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    return receiver, cert


@pytest.mark.parametrize("certified", ["hooks.test", "someone-else.test"])
def test_https_connects_to_the_checked_address_and_still_verifies_the_name_s_certificate(app, meeting, monkeypatch, tmp_path,
                                                                                         certified):
    import shutil

    from tests.helpers import need

    need(shutil.which("openssl") is not None, "openssl is not installed")
    m, fay, ann, bob = meeting
    receiver, cert = _tls_receiver(tmp_path, certified)
    port = receiver.server.server_address[1]
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def resolve_hooks_test(host, *args, **kwargs):
        lookups.append(host)
        return real_getaddrinfo("127.0.0.1" if host == "hooks.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve_hooks_test)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust this certificate (and only it) for the test
    app.config["WEBHOOKS_ALLOW_NETWORKS"] = parse_networks("127.0.0.1/32")
    with receiver:
        assert add(fay, m.code, f"https://hooks.test:{port}/in").status_code == 200
        with app.test_request_context():
            queue.enqueue("meeting.finished", m)
        lookups.clear()
        with app.app_context():
            sender.run_once(app.config)
    delivery = WebhookDelivery.get()
    assert lookups in (["hooks.test"], ["hooks.test", "127.0.0.1"])  # the name once; urllib3 gets the address itself
    if certified == "hooks.test":
        [(headers, body, status)] = receiver.received
        assert headers["Host"] == f"hooks.test:{port}" and delivery.status == "delivered"
    else:  # a certificate for another name is refused: nothing is sent
        assert receiver.received == [] and delivery.status == PENDING and "SSLError" in delivery.last_error


def _queued(app, fay, m, url="http://hooks.example.org/in"):
    """Fay's webhook for `url`, with one delivery of the finished meeting queued."""
    assert add(fay, m.code, url).status_code == 200
    with app.test_request_context():
        queue.enqueue("meeting.finished", m)


def _sent_once(app, fay, m):
    """Fay's webhook for hooks.example.org, one delivery of the finished meeting queued and one attempt made."""
    _queued(app, fay, m)
    with app.app_context():
        sender.run_once(app.config)
    return WebhookDelivery.get()


def test_a_refused_connection_moves_on_to_the_next_checked_address(app, meeting, monkeypatch):
    from tests.webhook_receiver import Receiver

    m, fay, ann, bob = meeting
    with Receiver() as receiver:
        net = Network(monkeypatch, PUBLIC, SECOND, reach={SECOND: receiver.server.server_address[1]})
        delivery = _sent_once(app, fay, m)
    assert [tuple(c[:2]) for c in net.connections] == [(PUBLIC, 80), (SECOND, 80)]  # both checked, in the resolver's order
    assert net.lookups == ["hooks.example.org"] * 2  # once when saved, once for the attempt: never again per address
    [(headers, body, status)] = receiver.received
    assert headers["Host"] == "hooks.example.org" and delivery.status == DELIVERED and delivery.attempts == 1


class HangUp:
    """A receiver on 127.0.0.1 that reads what it is sent and closes the connection without an answer."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        try:
            conn, _ = self.server.accept()
        except OSError:  # closed before anyone came
            return
        with conn:
            self.received.append(conn.recv(65536))

    def __enter__(self) -> "HangUp":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.close()
        self.thread.join(5)


def test_a_request_that_fails_once_connected_is_not_sent_again_to_another_address(app, meeting, monkeypatch):
    from tests.webhook_receiver import Receiver

    m, fay, ann, bob = meeting
    with HangUp() as hang_up, Receiver() as receiver:
        net = Network(monkeypatch, PUBLIC, SECOND, reach={PUBLIC: hang_up.port, SECOND: receiver.server.server_address[1]})
        delivery = _sent_once(app, fay, m)
    assert [tuple(c[:2]) for c in net.connections] == [(PUBLIC, 80)]  # the request was written: the attempt ends there
    assert len(hang_up.received) == 1 and hang_up.received[0].startswith(b"POST /in HTTP/1.1")
    assert receiver.received == [] and delivery.status == PENDING and delivery.attempts == 1
    assert "RemoteDisconnected" in delivery.last_error or "ConnectionResetError" in delivery.last_error


def test_when_no_checked_address_accepts_a_connection_the_attempt_fails_with_the_last_reason(app, meeting, monkeypatch):
    m, fay, ann, bob = meeting
    net = Network(monkeypatch, PUBLIC, SECOND, SECOND)  # a name may list an address twice: it is tried once
    delivery = _sent_once(app, fay, m)
    assert [tuple(c[:2]) for c in net.connections] == [(PUBLIC, 80), (SECOND, 80)]
    assert delivery.status == PENDING and "NewConnectionError" in delivery.last_error and "2606:2800" in delivery.last_error


def test_a_name_lookup_that_never_answers_ends_within_the_attempt_s_time(app, meeting, monkeypatch):
    import time

    import gevent

    m, fay, ann, bob = meeting
    net = Network(monkeypatch, PUBLIC)
    _queued(app, fay, m)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: gevent.sleep(30))  # a resolver that hangs
    app.config["WEBHOOKS_TIMEOUT_SECONDS"] = 0.5
    started = time.monotonic()
    with app.app_context():
        sender.run_once(app.config)
    delivery = WebhookDelivery.get()
    assert time.monotonic() - started < 5 and net.connections == []
    assert delivery.status == PENDING and delivery.last_error == "no whole answer within 0.5 s"
