"""The board's WebSocket: one per page, guarded before the upgrade, fed by the hub."""

import io

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user
from simple_websocket import ConnectionClosed

from leancoffee.db import db
from leancoffee.extensions import sock
from leancoffee.live import live
from leancoffee.live.connection import Connection
from leancoffee.services.access import find_meeting, membership
from leancoffee.services.board import viewer_for
from leancoffee.services.errors import NotFound
from leancoffee.web.security import same_origin

bp = Blueprint("socket", __name__)


@bp.before_request
def guard_handshake():
    """Refuse the handshake, before any upgrade, unless a participant asks from our own origin."""
    if request.endpoint != "socket.board_socket":
        return None
    if not same_origin(request.headers.get("Origin"), request.host_url):
        abort(403)
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
    return None


@sock.route("/m/<code>/ws", bp=bp)
def board_socket(ws, code):
    """Hold the socket: the hub writes to it, simple-websocket's reader reads it; return when it closes."""
    _end_http_reading()
    conn = Connection(ws, g.socket_meeting_id, g.socket_viewer, current_app.config["SEND_QUEUE_LIMIT"])
    live.hub.attach(conn)
    try:
        ws.thread.join()  # ReaderGreenlet (SOCK_SERVER_OPTIONS): ends when the socket closes
    except ConnectionClosed:
        pass
    finally:
        live.hub.detach(conn)


def _end_http_reading() -> None:
    """Close the HTTP server's reader of this connection: the socket is read by simple-websocket now.

    gevent's pywsgi would otherwise keep its 8 KiB read buffer for as long as the page stays open (a
    quarter of an idle socket's memory), and afterwards read the last WebSocket bytes as an HTTP request.
    """
    if not request.environ.get("SERVER_SOFTWARE", "").startswith("gevent"):
        return
    reader = request.environ.get("wsgi.input")  # for an Upgrade request, pywsgi's own buffered reader
    if isinstance(reader, io.BufferedReader):
        reader.close()
