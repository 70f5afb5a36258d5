"""The board's WebSocket: one per page, guarded before the upgrade, fed by the hub."""

import base64
import logging

import gevent
from flask import Blueprint, Response, abort, current_app, g, request
from flask_login import current_user

from leancoffee.db import db
from leancoffee.extensions import sock
from leancoffee.i18n import request_language
from leancoffee.live import live
from leancoffee.live.connection import INTERNAL_ERROR, POLICY_VIOLATION, Connection
from leancoffee.live.wire import end_http_reading, take_over
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.errors import NotFound
from leancoffee.services.room import find_room, room_secret_of
from leancoffee.services.viewing import Viewer, viewer_for
from leancoffee.web.security import same_origin

bp = Blueprint("socket", __name__)
log = logging.getLogger(__name__)


@bp.before_request
def guard_handshake():
    """Refuse the handshake, before any upgrade, unless a participant (or a valid room link) asks from our own origin."""
    if request.endpoint not in ("socket.board_socket", "socket.room_link_socket"):
        return None
    if not same_origin(request.headers.get("Origin"), request.host_url, current_app.config["PUBLIC_URL"]):
        abort(403)
    refusal = _malformed_handshake()
    if refusal is not None:
        return refusal
    with db.connection_context():
        if request.endpoint == "socket.room_link_socket":
            g.socket_meeting_id, g.socket_viewer = _room_link_viewer(request.view_args["secret"])
        else:
            g.socket_meeting_id, g.socket_viewer = _member_viewer(request.view_args["code"])
    if live.hub.socket_count >= current_app.config["MAX_LIVE_SOCKETS"]:
        abort(503)  # this worker is full; hx-ws tries again later (or reaches another worker)
    person = g.socket_viewer.user_id  # None: a room link's screen, which is nobody (MAX_LIVE_SOCKETS bounds those)
    if person is not None and live.hub.sockets_by_user[person] >= current_app.config["MAX_SOCKETS_PER_PERSON"]:
        abort(429)  # counted by open sockets, so a restart's reconnects (the old ones gone) always fit
    return None


def _member_viewer(code: str) -> tuple[int, Viewer]:
    """A logged-in, active participant's board (or their room screen, `?screen=room`); else 401, 403 or 404."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        meeting = find_meeting(code)
    except NotFound:
        abort(404)
    participant = membership(meeting, current_user)
    if participant is None or not participant.is_active:
        abort(403)
    screen = "room" if request.args.get("screen") == "room" else "board"
    return meeting.id, viewer_for(meeting, participant, screen, language=request_language())


def _room_link_viewer(secret: str) -> tuple[int, Viewer]:
    """The room screen of the meeting this secret opens, as nobody (whoever's cookies came along); else 404."""
    try:
        meeting = find_room(secret)
    except NotFound:
        abort(404)
    return meeting.id, Viewer(None, screen="room", room_secret=secret, language=request_language())


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
    _hand_over(ws)


@sock.route("/room/<room_secret:secret>/ws", bp=bp)
def room_link_socket(ws, secret):
    """The room link's socket: read-only like every socket (what it sends is only read for closing), never a person."""
    _hand_over(ws)


def _hand_over(ws) -> None:
    """Give the socket to a greenlet of its own as a Connection for the viewer the guard found; end this request."""
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
            close_if_renewed_meanwhile(conn)
        except Exception:
            log.exception("could not attach a socket to meeting %s", conn.meeting_id)
            conn.close(INTERNAL_ERROR)  # the reader below sees the socket end, closes it and detaches it

    def detach(closed: Connection) -> None:
        with app.app_context():
            live.hub.detach(closed)

    conn.read(app.config["SOCKET_MAX_MESSAGE_BYTES"], detach)


def close_if_renewed_meanwhile(conn: Connection) -> None:
    """Close a room link's socket whose link was renewed between its handshake and its attach (1008).

    The hub's closing pass only sees attached sockets; read after attaching, the secret is either
    still this one, or the renewal's pass came too early for this socket and it is closed here.
    """
    if conn.viewer.room_secret is None:
        return
    with db.connection_context():
        current = room_secret_of(conn.meeting_id)
    if current != conn.viewer.room_secret:
        conn.close(POLICY_VIOLATION)
