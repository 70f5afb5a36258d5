"""The baseline: a minimal asyncio `websockets` server broadcasting a captured app frame.

`python bench/baseline_server.py PORT FRAME_FILE`. Audience sockets connect to /a; the harness's
control socket (/c) sends "room count", and every audience socket of /a/<room> gets the frame with
that count. With BENCH_FIRST_FRAME every audience socket first gets a frame as it connects (see `first_frame`), as
each of the app's sockets gets its whole board (the reconnect storm, bench/storm.py).
"""

import asyncio
import os
import resource
import sys

from websockets.asyncio.server import broadcast, serve

PLACEHOLDER = b"@@COUNT@@"


def first_frame(counted: bytes) -> str | None:
    """What each audience socket gets as it connects: nothing, the frame with count 0 (BENCH_FIRST_FRAME=1), or the
    bytes of the file BENCH_FIRST_FRAME names (a whole board, when the broadcast frame is a vote's update)."""
    which = os.environ.get("BENCH_FIRST_FRAME")
    if not which:
        return None
    return (counted if which == "1" else open(which, "rb").read()).decode()


async def main(port: int, frame_file: str) -> None:
    """Serve until killed."""
    prefix, suffix = open(frame_file, "rb").read().split(PLACEHOLDER)
    rooms: dict[str, set] = {}
    first = first_frame(prefix + b"0" + suffix)

    async def handler(ws):
        path = ws.request.path
        if path == "/c":
            async for message in ws:
                room, count = message.split()
                broadcast(rooms.get(room, ()), (prefix + count.encode() + suffix).decode())
            return
        audience = rooms.setdefault(path.rsplit("/", 1)[-1], set())
        audience.add(ws)
        if first is not None:
            await ws.send(first)
        try:
            await ws.wait_closed()
        finally:
            audience.discard(ws)

    # Like the app, no permessage-deflate: the harness offers it, the baseline declines it.
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None):
        await asyncio.Future()


if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
