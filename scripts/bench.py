"""Per-worker figures for docs/scaling.md: idle sockets (memory each) and actions per second with live screens.

    .venv/bin/python scripts/bench.py sockets --meetings 300 --tabs 1     # 3,000 idle board sockets
    .venv/bin/python scripts/bench.py votes --meetings 20 --seconds 20   # vote/unvote as fast as 8 clients can

Each run starts one real worker (`python app.py`) on a fresh PostgreSQL database (dropped afterwards)
with the Redis backplane on (REDIS_URL, default the machine's Redis), or SQLite and no Redis with --local.
Meetings have 10 participants each (a facilitator and 9 who join); everyone opens the board.
"""

import argparse
import os
import platform
import re
import secrets
import selectors
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.backends import fresh_postgres_database  # noqa: E402
from tests.helpers import AppServer, HttpPerson, receive_until  # noqa: E402


def rss_kib(pid: int) -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return (f"{os.cpu_count()} cores ({model.group(1) if model else platform.machine()}), Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def make_meetings(base: str, count: int, topics: int = 0):
    """count meetings of 10 people; returns [(code, [people], [topic ids])]."""

    def one(i):
        fay = HttpPerson(base)
        code = fay.start_meeting(title=f"Bench {i}", votes=3)
        people = [fay]
        for n in range(9):
            person = HttpPerson(base)
            person.join(code, f"P{n}")
            people.append(person)
        tids = []
        for t in range(topics):
            html = fay.act(f"/m/{code}/topics", {"title": f"Topic {t}"}, live=False).text
            tids.append(int(re.search(r'<li id="topic-(\d+)" class="card"', html).group(1)))
        return code, people, tids

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


class Drain:
    """Reads every frame (and answers every ping) of many sockets on one thread, so no server queue fills."""

    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.pending: deque = deque()
        self.frames = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def add(self, ws) -> None:
        self.pending.append(ws)  # registered by the drain thread itself: selectors are not thread-safe

    def run(self) -> None:
        while self.running:
            while self.pending:
                ws = self.pending.popleft()
                self.selector.register(ws.sock, selectors.EVENT_READ, ws)
            if not self.selector.get_map():
                time.sleep(0.02)
                continue
            for key, _ in self.selector.select(timeout=0.02):
                try:
                    key.data.recv_data(control_frame=True)  # returns after a ping too (answered inside)
                except Exception:
                    self.selector.unregister(key.fileobj)
                    continue
                self.frames += 1


def open_sockets(people_by_meeting, tabs: int, drain: Drain) -> list:
    """Open every board (each waits for its whole board), 4 at a time; then the drain reads them."""

    def open_one(job):
        person, code = job
        ws = person.socket(code)
        receive_until(ws, lambda f: 'id="columns"' in f)
        drain.add(ws)
        return ws

    jobs = [(person, code) for code, people, _ in people_by_meeting for person in people for _ in range(tabs)]
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(open_one, jobs))


def start_server(args, stack: ExitStack, tmp: Path) -> AppServer:
    if args.local:
        url, env = f"sqlite:///{tmp / 'bench.db'}", {}
    else:
        url = stack.enter_context(fresh_postgres_database())
        env = {"REDIS_URL": args.redis_url, "REDIS_PREFIX": f"bench-{secrets.token_hex(3)}:"}
    server = AppServer(url, SECRET_KEY="bench", LOG_LEVEL="WARNING", **env).start(tmp / "server.log")
    stack.callback(server.stop)
    return server


def bench_sockets(args, server: AppServer) -> None:
    t0 = time.monotonic()
    meetings = make_meetings(server.base, args.meetings)
    print(f"created {args.meetings} meetings of 10 in {time.monotonic() - t0:.1f} s")
    drain = Drain()
    warm = open_sockets(meetings[:1], 1, drain)  # import and render everything once before measuring
    time.sleep(1)
    before = rss_kib(server.proc.pid)
    started = time.monotonic()
    sockets = warm + open_sockets(meetings[1:], args.tabs, drain)
    opened_in = time.monotonic() - started
    cpu_start = cpu_seconds(server.proc.pid)
    time.sleep(30)  # idle long enough for a round of pings (every 25 s): every socket must still be open
    cpu_idle = cpu_seconds(server.proc.pid) - cpu_start
    after = rss_kib(server.proc.pid)
    metrics = requests.get(server.base + "/metrics").text
    n = len(sockets) - len(warm)
    print(f"machine: {machine()}")
    print(f"backend: {'SQLite, no Redis' if args.local else 'PostgreSQL + Redis backplane'}")
    print(f"open sockets (server /metrics): {metric(metrics, 'leancoffee_open_sockets'):.0f}")
    print(f"opened {n} sockets in {opened_in:.1f} s ({n / opened_in:.0f}/s, each: handshake + whole board + presence)")
    print(f"server CPU while idle with them (30 s, pings included): {cpu_idle:.2f} s")
    print(f"server RSS: {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB: {(after - before) / n:.1f} KiB per idle socket")
    print(f"frames received while opening: {drain.frames}")
    for ws in sockets:
        ws.close()
    drain.running = False


def bench_votes(args, server: AppServer) -> None:
    meetings = make_meetings(server.base, args.meetings, topics=5)
    drain = Drain()
    sockets = open_sockets(meetings, 1, drain)
    time.sleep(1)
    actors = [(code, person, tids) for code, people, tids in meetings for person in people]
    stop_at = [0.0]
    outcomes = {"ok": 0, "refused": 0, "error": 0}
    latencies: list[float] = []
    lock = threading.Lock()

    def client(mine):
        # Each actor alternates vote and unvote on one of the meeting's topics: every action is a write and a broadcast.
        step = 0
        while time.monotonic() < stop_at[0]:
            code, person, tids = mine[step % len(mine)]
            tid = tids[(step // len(mine)) % len(tids)]
            started = time.perf_counter()
            first = person.act(f"/m/{code}/topics/{tid}/vote")
            second = person.act(f"/m/{code}/topics/{tid}/unvote")
            elapsed = (time.perf_counter() - started) / 2
            with lock:
                for response in (first, second):
                    kind = "ok" if response.status_code == 200 else "refused" if response.status_code == 409 else "error"
                    outcomes[kind] += 1
                latencies.append(elapsed)
            step += 1

    cpu_before, frames_before = cpu_seconds(server.proc.pid), drain.frames
    started = time.monotonic()
    stop_at[0] = started + args.seconds
    threads = [threading.Thread(target=client, args=(actors[i::args.clients],)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    time.sleep(1)
    cpu = cpu_seconds(server.proc.pid) - cpu_before
    metrics = requests.get(server.base + "/metrics").text
    latencies.sort()
    count = metric(metrics, 'leancoffee_broadcast_latency_seconds_count{origin="local"}')
    total = metric(metrics, 'leancoffee_broadcast_latency_seconds_sum{origin="local"}')
    print(f"machine: {machine()}")
    print(f"backend: {'SQLite, no Redis' if args.local else 'PostgreSQL + Redis backplane'}")
    print(f"{args.meetings} meetings x 10 people, {len(sockets)} live sockets, {args.clients} client threads, {wall:.1f} s")
    print(f"actions: {outcomes} -> {outcomes['ok'] / wall:.0f} committed actions/s (each a vote or an unvote)")
    print(f"server CPU: {cpu:.1f} s over {wall:.1f} s = {100 * cpu / wall:.0f}% of one core; "
          f"{1000 * cpu / max(outcomes['ok'], 1):.2f} ms CPU per action incl. its broadcast to 10 sockets")
    print(f"HTTP latency per action seen by clients: p50 {1000 * latencies[len(latencies) // 2]:.1f} ms, "
          f"p95 {1000 * latencies[int(len(latencies) * 0.95)]:.1f} ms")
    print(f"broadcast commit->last local send: mean {1000 * total / max(count, 1):.2f} ms over {count:.0f} changes")
    print(f"frames received by screens: {drain.frames - frames_before}; "
          f"send-queue drops: {metric(metrics, 'leancoffee_send_queue_drops_total'):.0f}")
    drain.running = False
    for ws in sockets:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["sockets", "votes"])
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument("--tabs", type=int, default=1, help="sockets per participant (sockets bench)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8, help="client threads sending actions (votes bench)")
    parser.add_argument("--local", action="store_true", help="SQLite and no Redis instead of PostgreSQL + Redis")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    tmp = Path(subprocess.check_output(["mktemp", "-d"]).decode().strip())
    with ExitStack() as stack:
        server = start_server(args, stack, tmp)
        (bench_sockets if args.what == "sockets" else bench_votes)(args, server)


if __name__ == "__main__":
    main()
