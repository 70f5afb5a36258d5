"""Rooms of simulated clients for the app, the baseline and the peer, and the timed vote loop."""

import asyncio
import gc
import json
import os
import re
import resource
import time
from pathlib import Path

from bench.wsclient import Http, open_ws

HOST = "127.0.0.1"
# The vote count as every screen shows it; \\? also matches inside Socket.IO's JSON-escaped text.
VOTE_RE = re.compile(rb'id=\\?"votes-(\d+)\\?"[^>]*><strong>(\d+)</strong>')
TOPIC_RE = re.compile(r'<li id="topic-(\d+)" class="card"')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CONNECT_AT_ONCE = 100
HARNESS_CORE = 0


def settle_harness_process() -> None:
    """What a benchmark's own process needs: every file descriptor it may have (thousands of sockets on both ends;
    the servers inherit the limit too), core 0 to itself, and no full collections pausing a measurement (as the app
    does for its server: leancoffee.factory.tune_garbage_collector)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {HARNESS_CORE})
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)


def save_result(result: dict, name: str, path: str | None) -> Path:
    """Write a run's figures as JSON (default bench/results/<name>-<time>.json) and say where."""
    out = Path(path or Path(__file__).parent / "results" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nJSON: {out}")
    return out


class Room:
    """The clients of one meeting (or broadcast room) and the update they are waiting for."""

    def __init__(self, name: str):
        self.name = name
        self.clients = []
        self.key = None  # (topic id, count) of the update in flight
        self.remaining = 0
        self.last_arrival = 0.0
        self.done: asyncio.Future | None = None
        self.count = 0  # the count after the last vote
        self.trigger = None  # async trigger(count) -> bool (accepted)
        self.topic_id = None
        self.last_seen: dict[int, int] = {}
        self.seq = 0
        self.sample: bytes | None = None  # one non-voter's copy of a vote update

    def on_message(self, client, payload: bytes, now: float) -> None:
        """Note when a client gets the update in flight (each client once)."""
        match = VOTE_RE.search(payload)
        if match is None:
            return
        key = (int(match.group(1)), int(match.group(2)))
        self.last_seen[id(client)] = key[1]
        if key == self.key and client.tag != self.seq and not client.excluded:
            client.tag = self.seq
            if self.sample is None and b"my-vote-" not in payload:
                self.sample = payload
            self.remaining -= 1
            self.last_arrival = now
            if self.remaining == 0 and not self.done.done():
                self.done.set_result(now)

    def measured(self) -> list:
        return [c for c in self.clients if not c.excluded and not c.closed.done()]

    async def vote_once(self, timeout: float = 30.0) -> float | None:
        """Trigger the next vote/unvote; seconds until the last measured client had it (None: stalled)."""
        count = 0 if self.count else 1
        self.key = (self.topic_id, count)
        self.seq += 1
        self.remaining = len(self.measured())
        self.done = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        if not await self.trigger(count):
            raise RuntimeError(f"vote refused in {self.name}")
        self.count = count
        try:
            await asyncio.wait_for(asyncio.shield(self.done), timeout)
        except TimeoutError:
            return None
        return self.last_arrival - t0


async def open_clients(room: Room, paths_cookies: list[tuple[str, str]], port: int, socketio=False) -> None:
    """Open the room's sockets, a bounded number at a time."""
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(path, cookie):
        async with gate:
            client = await open_ws(HOST, port, path, room.on_message, cookie=cookie, socketio=socketio)
            client.excluded = False
            if socketio:
                client.send_text(b"40")
            room.clients.append(client)

    await asyncio.gather(*(one(p, c) for p, c in paths_cookies))


async def settle(rooms: list[Room], quiet: float = 1.0, limit: float = 300.0, first_frame: bool = True) -> None:
    """Wait until every client has its first frame (the app's whole board) and none has arrived for `quiet` s."""
    deadline = time.monotonic() + limit
    clients = [c for r in rooms for c in r.clients]
    while first_frame and time.monotonic() < deadline and any(c.frames == 0 and not c.closed.done() for c in clients):
        await asyncio.sleep(0.1)
    before = -1
    while time.monotonic() < deadline:
        now = sum(c.frames for r in rooms for c in r.clients)
        if now == before:
            return
        before = now
        await asyncio.sleep(quiet)


# -- the app: real participants through the real pages ------------------------------------------


async def _logged_in(port: int) -> tuple[Http, str]:
    http = Http(HOST, port)
    status, _, body = await http.request("GET", "/")
    assert status == 200, status
    return http, CSRF_RE.search(body.decode()).group(1)


async def _signed_in(http: Http) -> str:
    """The session's CSRF token after a sign-in, which gives the browser a new one (the light home page shows it)."""
    status, _, body = await http.request("GET", "/")
    assert status == 200, status
    return CSRF_RE.search(body.decode()).group(1)


async def app_meeting(port: int, size: int, index: int = 0) -> tuple[Room, list[tuple[Http, str]]]:
    """A meeting with a topic and `size` joined participants (the facilitator votes); no sockets yet."""
    fac, token = await _logged_in(port)
    status, headers, _ = await fac.request(
        "POST", "/meetings", {"title": f"Bench {index}", "name": "Fay", "votes_per_person": 3, "csrf_token": token})
    assert status == 303, status
    code = headers["location"].rsplit("/", 1)[-1]
    token = await _signed_in(fac)
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    status, _, body = await fac.request("POST", f"/m/{code}/topics", {"title": "Fan-out"}, htmx)
    assert status == 200, status
    room = Room(code)
    room.topic_id = int(TOPIC_RE.search(body.decode()).group(1))
    people = [(fac, token)]

    async def join(i):
        http, tok = await _logged_in(port)
        status, _, _ = await http.request("POST", f"/m/{code}/join", {"name": f"P{i}", "csrf_token": tok})
        assert status == 303, status
        tok = await _signed_in(http)
        http.close()
        people.append((http, tok))

    gate = asyncio.Semaphore(20)

    async def gated(i):
        async with gate:
            await join(i)

    await asyncio.gather(*(gated(i) for i in range(1, size)))
    live = {**htmx, "X-Live-Socket": "1"}
    base = f"/m/{code}/topics/{room.topic_id}"

    async def trigger(count):
        status, _, _ = await fac.request("POST", f"{base}/{'vote' if count else 'unvote'}", {}, live)
        return status == 200

    room.trigger = trigger
    return room, people


async def app_sockets(port: int, room: Room, people: list[tuple[Http, str]]) -> None:
    await open_clients(room, [(f"/m/{room.name}/ws", h.cookie_header()) for h, _ in people], port)


# -- the baseline and the peer: the same bytes, broadcast ----------------------------------------


async def broadcast_rooms(kind: str, port: int, sizes: list[int], topic_id: int) -> list[Room]:
    """Rooms on the baseline (`websockets`) or the peer (Flask-SocketIO), and their control socket."""
    socketio = kind == "peer"
    sio_path = "/socket.io/?EIO=4&transport=websocket"
    control = await open_ws(HOST, port, sio_path + "&ctl=1" if socketio else "/c", lambda *a: None, socketio=socketio)
    if socketio:
        control.send_text(b"40")
    rooms = []
    for i, size in enumerate(sizes):
        room = Room(f"r{i}")
        room.topic_id = topic_id
        path = f"{sio_path}&room={room.name}" if socketio else f"/a/{room.name}"
        await open_clients(room, [(path, "")] * size, port, socketio=socketio)

        async def trigger(count, name=room.name):
            if socketio:
                control.send_text(b"42" + json.dumps(["vote", [name, count]]).encode())
            else:
                control.send_text(f"{name} {count}".encode())
            return True

        room.trigger = trigger
        rooms.append(room)
    return rooms
