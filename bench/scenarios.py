"""Each scenario: start a server, fill it with clients, vote, and return a row of measurements."""

import asyncio
import os
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass, field

from bench import harness
from bench.harness import VOTE_RE, Room
from bench.servers import Server

# The slow-reader row alternates its two conditions this many times each, the latency rows their three servers.
SLOW_READER_BLOCKS = 6
LATENCY_BLOCKS = 5
# Unmeasured app votes before a latency row, which also give the update the baseline and the peer broadcast.
WARM_UP_VOTES = 4


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def capture_frame(room: Room, path: str) -> int:
    """Save a real vote update with its count replaced by a placeholder; returns its size."""
    sample = room.sample
    match = VOTE_RE.search(sample)
    with open(path, "wb") as out:
        out.write(sample[: match.start(2)] + b"@@COUNT@@" + sample[match.end(2) :])
    return len(sample)


async def _fill(kind: str, server: Server, sizes: list[int], topic_id: int | None) -> tuple[list[Room], dict]:
    """Rooms of the given sizes with open, settled sockets; RSS before and after the sockets."""
    port = server.port
    if server.is_app:
        made = [await harness.app_meeting(port, size, i) for i, size in enumerate(sizes)]
        rss0 = server.rss_bytes()
        for room, people in made:
            await harness.app_sockets(port, room, people)
        rooms = [room for room, _ in made]
    else:
        rss0 = server.rss_bytes()
        rooms = await harness.broadcast_rooms(kind, port, sizes, topic_id)
    await harness.settle(rooms, first_frame=kind != "baseline")
    await asyncio.sleep(1.0)
    rss1 = server.rss_bytes()
    sockets = sum(len(r.clients) for r in rooms)
    return rooms, {"sockets": sockets, "mem_kib_per_conn": round((rss1 - rss0) / sockets / 1024, 1)}


@dataclass
class Tally:
    """What some timed votes gave: latencies to the last client of their room (ms), stalls, messages
    delivered, and the wall-clock and server CPU seconds they took."""

    latencies: list[float] = field(default_factory=list)
    stalls: int = 0
    delivered: int = 0
    votes: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    def add(self, other: "Tally") -> None:
        """Count another block of votes in."""
        self.latencies += other.latencies
        self.stalls += other.stalls
        self.delivered += other.delivered
        self.votes += other.votes
        self.seconds += other.seconds
        self.cpu += other.cpu

    def summary(self) -> dict:
        """A row's vote figures: latency percentiles, rate, and the server's CPU per delivered message."""
        latencies = self.latencies
        return {
            "votes": self.votes, "stalls": self.stalls, "delivered": self.delivered,
            "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
            "max_ms": round(max(latencies), 2) if latencies else None,
            "votes_per_s": round(self.votes / self.seconds, 1),
            "cpu_us_per_msg": round(self.cpu / max(1, self.delivered) * 1e6, 2),
        }


async def _timed_votes(server: Server, rooms: list[Room], votes: int) -> Tally:
    """Closed loop: one vote in flight, rooms in turn, each timed to the last client of its room."""
    tally = Tally(votes=votes)
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    for v in range(votes):
        room = rooms[v % len(rooms)]
        expected = len(room.measured())
        latency = await room.vote_once()
        if latency is None:
            tally.stalls += 1
            tally.delivered += expected - room.remaining
        else:
            tally.latencies.append(latency * 1000)
            tally.delivered += expected
    tally.seconds, tally.cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
    return tally


def _server_said(kind: str, server: Server, chars: int) -> str:
    """Whether a server is alive and the end of its log, for an error message (a crash would otherwise
    show only as a refused connection)."""
    state = f"exited {server.proc.returncode}" if server.proc.poll() is not None else "alive"
    return f"{kind} {state}: {server.log_tail(chars)}"


async def _server_fanout(server: Server) -> tuple[float, float]:
    """The app's own count and total of commit-to-last-write times (its /metrics), to tell its share of latency."""
    http = harness.Http(harness.HOST, server.port)
    try:
        _, _, body = await http.request("GET", "/metrics")
    finally:
        http.close()
    totals = {"count": 0.0, "sum": 0.0}
    for line in body.decode().splitlines():
        if line.startswith("leancoffee_broadcast_latency_seconds_") and 'origin="local"' in line:
            name = line.split("{", 1)[0].rsplit("_", 1)[1]
            if name in totals:
                totals[name] += float(line.rsplit(" ", 1)[1])
    return totals["count"], totals["sum"]


def _profile(server: Server):
    """Record the app during the votes: BENCH_PYSPY=<file> (Python stacks, collapsed format) or
    BENCH_PERF=<file> (`perf record -g`: where the kernel's share of the time goes)."""
    pid = str(server.proc.pid)
    if os.environ.get("BENCH_PYSPY"):
        cmd = ["py-spy", "record", "--pid", pid, "--format", "raw", "--output", os.environ["BENCH_PYSPY"], "--rate", "200"]
    elif os.environ.get("BENCH_PERF"):
        cmd = ["perf", "record", "-g", "-p", pid, "-o", os.environ["BENCH_PERF"]]
    else:
        return None
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def latency_row(server: Server, sizes: list[int], votes: int) -> dict:
    """One latency scenario on one app server alone (the gunicorn rows)."""
    server.start()
    try:
        rooms, row = await _fill(server.kind, server, sizes, None)
        spy = _profile(server)
        fanout0 = await _server_fanout(server)
        row.update((await _timed_votes(server, rooms, votes)).summary())
        (n0, s0), (n1, s1) = fanout0, await _server_fanout(server)
        row["server_fanout_ms"] = round((s1 - s0) / max(1, n1 - n0) * 1000, 2)
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        row["server"] = server.kind
        for room in rooms:
            for client in room.clients:
                client.transport.abort()
        return row
    except Exception as error:
        raise RuntimeError(f"{error!r}; {_server_said('server', server, 600)}") from error
    finally:
        server.stop()


async def paired_latency_rows(sizes: list[int], votes: int, frame_file: str, hold: float = 0,
                              blocks: int = LATENCY_BLOCKS) -> dict[str, dict]:
    """One latency scenario on the app, the baseline and the peer at once, their votes in alternating blocks.

    The three servers hold their clients together (each on core 1, idle while another one votes) and
    take turns, `votes / blocks` votes at a time, so that drift of a shared machine during the row falls
    on all three alike. The app first votes a few times unmeasured, for the update the others broadcast.
    With `hold`, the app alone first idles that long and counts disconnects.
    """
    servers: dict[str, Server] = {}
    rooms: dict[str, list[Room]] = {}
    rows: dict[str, dict] = {}
    try:
        app = servers["app"] = Server("app").start()
        rooms["app"], rows["app"] = await _fill("app", app, sizes, None)
        if hold:
            cpu0 = app.cpu_seconds()
            await asyncio.sleep(hold)
            rows["app"].update(idle_cpu_pct=round((app.cpu_seconds() - cpu0) / hold * 100, 2), hold_s=hold,
                               disconnects=sum(c.closed.done() for r in rooms["app"] for c in r.clients))
        await _timed_votes(app, rooms["app"], WARM_UP_VOTES)
        rows["app"]["frame_bytes"] = capture_frame(rooms["app"][0], frame_file)
        for kind in ("baseline", "peer"):
            servers[kind] = Server(kind, frame_file).start()
            rooms[kind], rows[kind] = await _fill(kind, servers[kind], sizes, rooms["app"][0].topic_id)
        spy = _profile(app)
        fanout0 = await _server_fanout(app)
        per_block = max(1, votes // blocks)
        tallies = {kind: Tally() for kind in servers}
        for _ in range(blocks):
            for kind, server in servers.items():
                tallies[kind].add(await _timed_votes(server, rooms[kind], per_block))
        (n0, s0), (n1, s1) = fanout0, await _server_fanout(app)
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        for kind, tally in tallies.items():
            rows[kind].update(tally.summary(), server=kind, blocks=blocks)
        rows["app"]["server_fanout_ms"] = round((s1 - s0) / max(1, n1 - n0) * 1000, 2)
        return rows
    except Exception as error:
        said = "; ".join(_server_said(kind, server, 300) for kind, server in servers.items())
        raise RuntimeError(f"{error!r}; {said}") from error
    finally:
        for room_list in rooms.values():
            for room in room_list:
                for client in room.clients:
                    client.transport.abort()
        for server in servers.values():
            server.stop()


async def slow_reader_row(size: int, votes: int, blocks: int = SLOW_READER_BLOCKS) -> dict:
    """App p99 of one meeting's other clients while one client reads, and while it has stopped reading.

    `votes` per condition, the two alternating in `blocks` (reading, stopped, reading, ...): drift of a
    shared machine during the row then falls on both alike. The client that stops is never measured;
    before each reading block it reads what it missed and the screens settle.
    """
    server = Server("app").start()
    try:
        rooms, _ = await _fill("app", server, [size], None)
        slow = rooms[0].clients[-1]
        slow.excluded = True
        per_block = max(1, votes // blocks)
        reading, stopped = Tally(), Tally()
        for _ in range(blocks):
            slow.transport.resume_reading()
            await harness.settle(rooms, quiet=0.5, first_frame=False)
            reading.add(await _timed_votes(server, rooms, per_block))
            slow.transport.pause_reading()
            stopped.add(await _timed_votes(server, rooms, per_block))
        before, after = round(percentile(reading.latencies, 0.99), 2), round(percentile(stopped.latencies, 0.99), 2)
        return {
            "server": "app", "sockets": size, "votes": per_block * blocks, "blocks": blocks,
            "p99_ms_all_reading": before, "p99_ms_one_stopped": after,
            "p99_increase_pct": round((after / before - 1) * 100, 1),
            "stalls": stopped.stalls, "slow_client_closed_with": slow.close_code,
        }
    finally:
        server.stop()


async def sustained_row(meetings: int, size: int, voters: int, seconds: float, server: Server | None = None) -> dict:
    """Votes from many users at once for `seconds`; then compare accepted POSTs with the database."""
    server = (server or Server("app")).start()
    try:
        made = [await harness.app_meeting(server.port, size, i) for i in range(meetings)]
        for room, people in made:
            await harness.app_sockets(server.port, room, people)
        rooms = [room for room, _ in made]
        await harness.settle(rooms)
        expected: dict[tuple[int, str], bool] = {}
        accepted = refused = 0
        stop = time.perf_counter() + seconds
        live_headers = {"HX-Request": "true", "X-Live-Socket": "1"}

        async def voter(room, http, token):
            nonlocal accepted, refused
            key, on = (room.topic_id, http.cookie_header()), False
            path = f"/m/{room.name}/topics/{room.topic_id}/"
            while time.perf_counter() < stop:
                status, _, _ = await http.request(
                    "POST", path + ("unvote" if on else "vote"), {}, {**live_headers, "X-CSRFToken": token})
                if status == 200:
                    accepted += 1
                    on = not on
                    expected[key] = on
                else:
                    refused += 1

        spy = _profile(server)
        cpu0, t0 = server.cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(voter(room, h, t) for room, people in made for h, t in people[:voters]))
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        elapsed = time.perf_counter() - t0
        cpu = server.cpu_seconds() - cpu0
        await harness.settle(rooms)
        want = {}
        for (topic_id, _), on in expected.items():
            want[topic_id] = want.get(topic_id, 0) + on
        held = server.vote_counts()
        lost = sum(max(0, n - held.get(t, 0)) for t, n in want.items())
        double = sum(max(0, held.get(t, 0) - want.get(t, 0)) for t in set(held) | set(want))
        # Every screen must end on the database's count too.
        stale = sum(1 for r in rooms for c in r.clients if r.last_seen.get(id(c), 0) != held.get(r.topic_id, 0))
        return {
            "server": server.kind, "workers": server.workers, "sockets": meetings * size, "seconds": round(elapsed, 1),
            "concurrent_voters": meetings * voters, "accepted": accepted, "refused": refused,
            "votes_per_s": round(accepted / elapsed, 1), "lost": lost, "double_counted": double,
            "stale_screens": stale, "cpu_us_per_vote": round(cpu / max(1, accepted) * 1e6, 1),
        }
    finally:
        server.stop()
