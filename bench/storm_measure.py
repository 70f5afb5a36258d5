"""What the reconnect storm measures (bench/storm.py): a storm of sockets opened at once, votes cast while it is under
way, and a restart with every screen coming back.

Each function takes a started `Server` and the (path, cookie) of each socket, so the app, the baseline and the peer
are measured by the same code.
"""

import asyncio
import random
import time

from bench import harness
from bench.servers import Server
from bench.wsclient import open_ws

# A socket's first message this long is its first frame (whole board), not a Socket.IO handshake packet nor a count.
# A vote's update can be longer (1.4 KB in the full meeting), but every server sends a socket its board before any update.
FIRST_FRAME_MIN = 1000
IDLE_WINDOW = 1.0
STORM_LIMIT = 120.0
VOTE_AFTER = 1.0  # votes start this long after the sockets start opening (the "from 1 s")
VOTE_WINDOW = 5.0  # and go on, one after another, for this long
VOTE_GAP = 0.05
LATE = 5.0  # an update that has not reached every screen by then is late
# hx-ws 4.0.1's first retry: 500 ms ± 30 %.
RECONNECT_DELAY = (0.35, 0.65)


async def idle(server: Server, clients: list, deadline: float) -> float:
    """Wait until neither the server's CPU time nor the clients' frames move for IDLE_WINDOW; the CPU time then."""
    before = (server.cpu_seconds(), sum(c.frames for c in clients))
    while time.monotonic() < deadline:
        await asyncio.sleep(IDLE_WINDOW)
        now = (server.cpu_seconds(), sum(c.frames for c in clients))
        if now == before:
            return now[0]
        before = now
    return before[0]


class Votes:
    """Votes cast one after another while a storm is under way, the n-th making the topic's count n; for each, the
    time until every socket that had its first frame when it was cast shows it (sockets that open later get it in
    their first frame)."""

    def __init__(self, trigger, topic_id: int, most: int, warm=None):
        self.trigger = trigger  # async trigger(n) -> bool (accepted): the n-th vote
        self.topic_id = topic_id
        self.most = most
        self.warm = warm  # async warm(): the voters' connections opened just before the storm
        self.latencies: list[float] = []
        self.answers: list[float] = []  # until the vote's own request was answered
        self.late = 0
        self.during_storm = 0  # timed votes cast before the last socket had its first frame
        self.before_any_screen = 0  # votes cast before any socket had its first frame (not timed)
        self.key = None
        self.waiting: set[int] = set()
        self.done: asyncio.Future | None = None

    def on_message(self, client, payload: bytes, now: float) -> None:
        if id(client) not in self.waiting:
            return
        match = harness.VOTE_RE.search(payload)
        if match and (int(match.group(1)), int(match.group(2))) == self.key:
            self.waiting.discard(id(client))
            if not self.waiting and not self.done.done():
                self.done.set_result(now)

    async def cast(self, started: float, firsts: dict, expected: int) -> None:
        """From VOTE_AFTER to VOTE_AFTER + VOTE_WINDOW seconds after `started`."""
        await asyncio.sleep(max(0.0, started + VOTE_AFTER - time.perf_counter()))
        for count in range(1, self.most + 1):
            if time.perf_counter() >= started + VOTE_AFTER + VOTE_WINDOW:
                break
            self.key = (self.topic_id, count)
            self.done = asyncio.get_running_loop().create_future()
            self.waiting = set(firsts)
            untimed, storming = not self.waiting, len(firsts) < expected
            t0 = time.perf_counter()
            if not await self.trigger(count):
                raise RuntimeError("a vote was refused")
            self.answers.append(time.perf_counter() - t0)
            if untimed:  # no screen had its board yet: nothing to time
                self.before_any_screen += 1
                await asyncio.sleep(VOTE_GAP)
                continue
            self.during_storm += storming
            try:
                arrived = await asyncio.wait_for(asyncio.shield(self.done), LATE)
            except TimeoutError:
                self.late += 1
                try:
                    arrived = await asyncio.wait_for(self.done, STORM_LIMIT)
                except TimeoutError:
                    arrived = time.perf_counter()
            self.latencies.append(arrived - t0)
            await asyncio.sleep(VOTE_GAP)

    def figures(self) -> dict:
        latencies = [round(s * 1000, 1) for s in self.latencies]
        if not latencies:
            return {"votes": 0}
        ms = sorted(latencies)
        return {"votes": len(ms), "votes_during_storm": self.during_storm, "votes_before_any_screen": self.before_any_screen,
                "vote_p50_ms": ms[len(ms) // 2],
                "vote_p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))], "vote_max_ms": ms[-1], "votes_late": self.late,
                "answer_max_ms": round(max(self.answers) * 1000, 1), "latencies_ms": latencies}


async def _open(server: Server, paths_cookies: list, firsts: dict, socketio: bool, also=None, delay=None) -> list:
    """Open a socket for each (path, cookie), after `delay()` seconds each if given; note each one's first frame."""

    def on_message(client, payload, now):
        if len(payload) >= FIRST_FRAME_MIN and id(client) not in firsts:
            firsts[id(client)] = now
        elif also is not None:
            also(client, payload, now)

    async def one(path, cookie):
        if delay:
            await asyncio.sleep(delay())
        client = await open_ws(harness.HOST, server.port, path, on_message, cookie=cookie, socketio=socketio)
        if socketio:
            client.send_text(b"40")
        return client

    opened = await asyncio.gather(*(one(p, c) for p, c in paths_cookies), return_exceptions=True)
    return [c for c in opened if not isinstance(c, BaseException)]


async def _all_first_frames(firsts: dict, clients: list, deadline: float) -> None:
    while len(firsts) < len(clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def storm(server: Server, paths_cookies: list, socketio: bool = False, votes: Votes | None = None) -> dict:
    """Open every socket at once; CPU per connection until idle, the time until the last one has its first frame, and
    (with `votes`) the votes cast meanwhile."""
    await asyncio.sleep(IDLE_WINDOW)
    cpu0 = await idle(server, [], time.monotonic() + 30)
    firsts: dict[int, float] = {}
    if votes and votes.warm:
        await votes.warm()
    t0 = time.perf_counter()
    voting = asyncio.ensure_future(votes.cast(t0, firsts, len(paths_cookies))) if votes else None
    clients = await _open(server, paths_cookies, firsts, socketio, also=votes.on_message if votes else None)
    deadline = time.monotonic() + STORM_LIMIT
    await _all_first_frames(firsts, clients, deadline)
    last = max(firsts.values(), default=t0) - t0
    if voting:
        await voting
    cpu1 = await idle(server, clients, deadline)
    for client in clients:
        client.transport.close()
    n = len(paths_cookies)
    return {"sockets": n, "refused": n - len(clients), "without_first_frame": len(clients) - len(firsts),
            "last_first_frame_ms": round(last * 1000, 1), "cpu_ms_per_conn": round((cpu1 - cpu0) / n * 1000, 3),
            **(votes.figures() if votes else {})}


async def restart(server: Server, paths_cookies: list, socketio: bool = False) -> dict:
    """Every socket open, the server stopped (SIGTERM, as a deploy does) and started again on the same port and
    database; from the moment it listens, each screen comes back after RECONNECT_DELAY. The time until every screen
    has its board again, and the new server's CPU from listening until idle, per connection."""
    firsts: dict[int, float] = {}
    clients = await _open(server, paths_cookies, firsts, socketio)
    await _all_first_frames(firsts, clients, time.monotonic() + STORM_LIMIT)
    await idle(server, clients, time.monotonic() + 60)
    server.restart()
    t0 = time.perf_counter()
    cpu0 = server.cpu_seconds()
    await asyncio.wait([c.closed for c in clients], timeout=10)
    codes = [c.close_code for c in clients]
    firsts.clear()
    back = await _open(server, paths_cookies, firsts, socketio, delay=lambda: random.uniform(*RECONNECT_DELAY))
    deadline = time.monotonic() + STORM_LIMIT
    await _all_first_frames(firsts, back, deadline)
    last = max(firsts.values(), default=t0) - t0
    cpu1 = await idle(server, back, deadline)
    for client in back:
        client.transport.close()
    n = len(paths_cookies)
    return {"sockets": n, "closed_1012": codes.count(1012), "refused": n - len(back),
            "without_board": len(back) - len(firsts), "all_current_ms": round(last * 1000, 1),
            "cpu_ms_per_conn": round((cpu1 - cpu0) / n * 1000, 3)}
