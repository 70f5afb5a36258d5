"""One attempt at one delivery: signed, posted with urllib3 to an address checked, never redirected, briefly timed."""

import hashlib
import hmac
import http.client
import ssl
import time
from dataclasses import dataclass

import gevent
import urllib3
import urllib3.connection
from urllib3.util.ssl_match_hostname import CertificateError

from leancoffee.webhooks.addresses import AddressRefused, parse_url, resolve

USER_AGENT = "LeanCoffee-Webhooks/1"
# What is read of an answer: its status is what counts, the body only keeps a slow receiver from holding us.
READ_AT_MOST = 4096


class TookTooLong(Exception):
    """The whole attempt ran past its time limit (not a TimeoutError: urllib3 would take it for a read timeout)."""


@dataclass(frozen=True)
class Attempt:
    """What a delivery attempt sends: its id, event, attempt number, body and the webhook's URL and secret."""

    uid: str
    event: str
    attempt: int
    body: str
    url: str
    secret: str


@dataclass(frozen=True)
class Result:
    """How an attempt went: delivered on a 2xx; `code` is the HTTP status (None: no answer), `error` says why not."""

    delivered: bool
    code: int | None = None
    error: str = ""
    refused: bool = False


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret (X-LeanCoffee-Signature)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def headers_for(attempt: Attempt, host_header: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        "Host": host_header, "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "X-LeanCoffee-Event": attempt.event, "X-LeanCoffee-Delivery": attempt.uid,
        "X-LeanCoffee-Attempt": str(attempt.attempt), "X-LeanCoffee-Timestamp": timestamp,
        "X-LeanCoffee-Signature": signature(attempt.secret, timestamp, body),
    }


def _connection(target, address: str, timeout: float):
    """An unopened connection to one checked address; HTTPS still verifies the certificate of the URL's host name."""
    connect_within = min(3.0, timeout)
    if target.scheme == "https":
        return urllib3.connection.HTTPSConnection(address, target.port, timeout=connect_within, server_hostname=target.host,
                                                  assert_hostname=target.host, cert_reqs="CERT_REQUIRED")
    return urllib3.connection.HTTPConnection(address, target.port, timeout=connect_within)


def connect(target, addresses: list[str], timeout: float):
    """A connection to the first of the checked addresses that accepts one, tried in the resolver's order."""
    # Only a failed connect (refused, unreachable, timed out) moves on: nothing of the request is written yet, so no
    # receiver gets an attempt twice. A TLS failure is the receiver's own answer and ends the attempt.
    failure = None
    for address in addresses:
        conn = _connection(target, address, timeout)
        try:
            conn.connect()
        except urllib3.exceptions.ConnectTimeoutError as error:  # NewConnectionError is one too
            conn.close()
            failure = error
            continue
        except (ssl.SSLError, CertificateError) as error:  # named as urllib3's pools name it, for the delivery log
            conn.close()
            raise urllib3.exceptions.SSLError(error) from error
        except BaseException:  # the attempt's time is up: no socket left behind
            conn.close()
            raise
        return conn
    raise failure


def send(attempt: Attempt, allowed, timeout: float) -> Result:
    """Post the delivery once: the URL's addresses are checked now, and only they are connected to, one after another."""
    body = attempt.body.encode("utf-8")
    conn = response = None
    # urllib3's timeouts bound each read, not the attempt: a receiver dripping a byte at a time would hold the
    # sender (and its batch) for ever. The whole attempt, the name's lookup and every address tried included, gets
    # `timeout` seconds (under gevent, as the sender runs).
    try:
        with gevent.Timeout(timeout, TookTooLong):
            target = parse_url(attempt.url)
            addresses = resolve(target, allowed)
            conn = connect(target, addresses, timeout)
            conn.timeout = timeout  # connected: each read may now take the attempt's time
            conn.request("POST", target.path, body=body, headers=headers_for(attempt, target.host_header, body),
                         preload_content=False)
            response = conn.getresponse()
            response.read(READ_AT_MOST)
    except AddressRefused as refusal:
        return Result(False, error=refusal.message[:200], refused=True)
    except TookTooLong:
        return Result(False, error=f"no whole answer within {timeout:g} s")
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as error:
        return Result(False, error=f"{type(error).__name__}: {error}"[:200])
    finally:
        if response is not None:
            response.close()  # a receiver's "Connection: close" hands the socket to the response
        if conn is not None:
            conn.close()
    if 200 <= response.status < 300:
        return Result(True, response.status)
    return Result(False, response.status, f"HTTP {response.status}")
