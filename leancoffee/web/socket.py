"""The board's WebSocket: one per page, guarded before the upgrade, fed by the hub."""

import base64
import logging

import gevent
from flask import Blueprint, Response, abort, current_app, g, request
from flask_login import current_user

from leancoffee.db import db
from leancoffee.extensions import sock
from leancoffee.live import live
from leancoffee.live.connection import INTERNAL_ERROR, Connection
from leancoffee.live.wire import end_http_reading, take_over
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.board import viewer_for
from leancoffee.services.errors import NotFound
from leancoffee.web.security import same_origin

bp = Blueprint("socket", __name__)
log = logging.getLogger(__name__)


@bp.before_request
def guard_handshake():
    """Refuse the handshake, before any upgrade, unless a participant asks from our own origin."""
    if request.endpoint != "socket.board_socket":
        return None
    if not same_origin(request.headers.get("Origin"), request.host_url):
        abort(403)
    refusal = _malformed_handshake()
    if refusal is not None:
        return refusal
    with db.connection_context():
        if not current_user.is_authenticated:
            abort(401)
        try:
            meeting = find_meeting(request.view_args["code"])
        except NotFound:
            abort(404)
        participant = membership(meeting, current_user)
        if participant is None or not participant.is_active:
            abort(403)
        g.socket_meeting_id = meeting.id
        screen = "room" if request.args.get("screen") == "room" else "board"
        g.socket_viewer = viewer_for(meeting, participant, screen)
    if live.hub.socket_count >= current_app.config["MAX_LIVE_SOCKETS"]:
        abort(503)  # this worker is full; hx-ws tries again later (or reaches another worker)
    if live.hub.sockets_by_user[current_user.id] >= current_app.config["MAX_SOCKETS_PER_PERSON"]:
        abort(429)  # counted by open sockets, so a restart's reconnects (the old ones gone) always fit
    return None


def _malformed_handshake() -> Response | None:
    """RFC 6455's answer to a handshake the WebSocket library would fail on (a 500): 426 for another version, else 400."""
    versions = request.headers.getlist("Sec-WebSocket-Version")  # several headers, or one listing several, conflict
    if versions != ["13"]:
        return Response("Only WebSocket version 13 is supported.\n", 426 if versions else 400,
                        {"Sec-WebSocket-Version": "13"}, mimetype="text/plain")
    keys = request.headers.getlist("Sec-WebSocket-Key")
    if len(keys) != 1 or not _is_key(keys[0]):
        return Response("Sec-WebSocket-Key must be the base64 of 16 bytes.\n", 400, mimetype="text/plain")
    # The library needs a Host (CheckedRequest has made sure it is a host name) and reads these as ASCII.
    as_ascii = [value for name in ("Connection", "Upgrade", "Sec-WebSocket-Protocol") for value in request.headers.getlist(name)]
    if not request.headers.get("Host") or not all(value.isascii() for value in as_ascii):
        return Response("Malformed WebSocket handshake.\n", 400, mimetype="text/plain")
    # A handshake is a GET without a body: with one, the server and the socket would disagree on its bytes.
    if "Content-Length" in request.headers or "Transfer-Encoding" in request.headers:
        return Response("A WebSocket handshake has no body.\n", 400, mimetype="text/plain")
    return None


def _is_key(key: str) -> bool:
    """Whether a Sec-WebSocket-Key is the base64 of 16 bytes (24 characters, `==` at the end)."""
    try:
        return len(key) == 24 and len(base64.b64decode(key, validate=True)) == 16
    except ValueError:  # binascii.Error is a ValueError
        return False


@sock.route("/m/<meeting_code:code>/ws", bp=bp)
def board_socket(ws, code):
    """Hand the socket over to a greenlet of its own, which attaches it to the hub and reads it; end this request.

    An open page then holds no request (no parked greenlet with its stack, environ and Flask
    contexts), only its Connection and that shallow greenlet: 17.5 KiB where it held 48
    (docs/performance.md).
    """
    end_http_reading()
    conn = Connection(take_over(ws), g.socket_meeting_id, g.socket_viewer, current_app.config["SEND_QUEUE_LIMIT"])
    gevent.spawn(_serve, current_app._get_current_object(), conn, gevent.getcurrent())


def _serve(app, conn: Connection, opened_by) -> None:
    """Attach the page to the hub once the request that opened it has ended, then read its socket until it closes."""
    # As the request ends, pywsgi reads out and drops what the page has sent so far: let it do so
    # before the page gets its board, and so before it sends anything in reply.
    if hasattr(opened_by, "join"):
        opened_by.join()
    with app.app_context():
        try:
            live.hub.attach(conn)
        except Exception:
            log.exception("could not attach a socket to meeting %s", conn.meeting_id)
            conn.close(INTERNAL_ERROR)  # the reader below sees the socket end, closes it and detaches it

    def detach(closed: Connection) -> None:
        with app.app_context():
            live.hub.detach(closed)

    conn.read(app.config["SOCKET_MAX_MESSAGE_BYTES"], detach)
