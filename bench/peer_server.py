"""The peer: a minimal Flask-SocketIO server on gevent broadcasting a captured app frame.

`python bench/peer_server.py PORT FRAME_FILE`. Audience sockets join the room named in
`?room=`; the control socket (`?ctl=1`) emits "vote" with [room, count], and that room gets "update"
with the frame for that count. With BENCH_FIRST_FRAME every audience socket first gets "update" with a first
frame as it connects (baseline_server.first_frame), as each of the app's sockets gets its whole board (bench/storm.py).
"""

from gevent import monkey

monkey.patch_all()

import resource  # noqa: E402
import sys  # noqa: E402

from baseline_server import first_frame  # noqa: E402  (this script's folder is on sys.path)
from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, emit, join_room  # noqa: E402

PLACEHOLDER = "@@COUNT@@"


def create(frame_file: str):
    """The app as its documentation suggests, tuned only not to ping while it waits its turn."""
    prefix, suffix = open(frame_file, encoding="utf-8").read().split(PLACEHOLDER)
    first = first_frame((prefix + "0" + suffix).encode())
    app = Flask(__name__)
    # The benchmark holds all three servers' clients at once on one core (scenarios.paired_latency_rows):
    # Engine.IO's ping to every client every 25 s would land in the app's and the baseline's turns,
    # so it pings hourly here, as the baseline does not ping at all.
    socketio = SocketIO(app, async_mode="gevent", ping_interval=3600)

    @socketio.on("connect")
    def connect():
        if request.args.get("ctl") != "1":
            join_room(request.args.get("room", "a"))
            if first is not None:
                emit("update", first)

    @socketio.on("vote")
    def vote(data):
        room, count = data
        emit("update", prefix + str(count) + suffix, to=room)

    return app, socketio


if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    flask_app, sio = create(sys.argv[2])
    sio.run(flask_app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False)
