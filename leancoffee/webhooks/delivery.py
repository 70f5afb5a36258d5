"""One attempt at one delivery: signed, posted with urllib3 to the address checked, never redirected, briefly timed."""

import hashlib
import hmac
import time
from dataclasses import dataclass

import gevent
import urllib3

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


def _pool(target, address: str, timeout: float):
    """A connection pool to the checked address itself; HTTPS still verifies the certificate of the URL's host name."""
    options = {"timeout": urllib3.Timeout(connect=min(3.0, timeout), read=timeout), "retries": False, "maxsize": 1}
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(address, target.port, server_hostname=target.host, assert_hostname=target.host,
                                           cert_reqs="CERT_REQUIRED", **options)
    return urllib3.HTTPConnectionPool(address, target.port, **options)


def send(attempt: Attempt, allowed, timeout: float) -> Result:
    """Post the delivery once: the URL's addresses are checked now, and the one checked is the one connected to."""
    try:
        target = parse_url(attempt.url)
        address = resolve(target, allowed)
    except AddressRefused as refusal:
        return Result(False, error=refusal.message[:200], refused=True)
    body = attempt.body.encode("utf-8")
    pool = _pool(target, address, timeout)
    # urllib3's timeouts bound each read, not the attempt: a receiver dripping a byte at a time would hold the
    # sender (and its batch) for ever. The whole attempt gets `timeout` seconds (under gevent, as the sender runs).
    try:
        with gevent.Timeout(timeout, TookTooLong):
            response = pool.urlopen("POST", target.path, body=body, headers=headers_for(attempt, target.host_header, body),
                                    redirect=False, retries=False, preload_content=False, assert_same_host=False)
            try:
                response.read(READ_AT_MOST)
            finally:
                response.release_conn()
    except TookTooLong:
        return Result(False, error=f"no whole answer within {timeout:g} s")
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Result(False, error=f"{type(error).__name__}: {error}"[:200])
    finally:
        pool.close()
    if 200 <= response.status < 300:
        return Result(True, response.status)
    return Result(False, response.status, f"HTTP {response.status}")
