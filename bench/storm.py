"""The reconnect storm (issue 18): `python bench/storm.py [--quick] [--sizes 200,1000] [--servers app,baseline,peer]
[--app-root PATH] [--json PATH]`.

A meeting of `--people` (1,000) participants with 20 topics and 40 notes, built through the app's real pages (in the
middle of its discussion: ten topics discussed with the notes on them, one being discussed, nine to go); its
first frame (the whole board a member's socket gets on every (re)connect) is measured, then for each storm size N
(200 and 1,000) N of its people's sockets are opened at once: the server's CPU per connection until it is idle again,
and the time until the last socket has its first frame. The baseline (`websockets`) and the peer (Flask-SocketIO)
send every socket that connects a first frame of the same bytes (BENCH_FIRST_FRAME=1). `--app-root` runs another
checkout's app.py (the "before" of a change) with this harness. Harness on core 0, servers on core 1.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.servers import ROOT, Server  # noqa: E402
from bench.wsclient import open_ws  # noqa: E402

FULL = {"people": 1000, "topics": 20, "notes": 40, "sizes": [200, 1000]}
QUICK = {"people": 60, "topics": 4, "notes": 4, "sizes": [10, 30]}
# A message this long is a first frame (whole board), not a Socket.IO handshake packet nor a count.
FIRST_FRAME_MIN = 1000
IDLE_WINDOW = 1.0
STORM_LIMIT = 120.0
PRESENCE_GRACE = 5.0  # the app's default PRESENCE_GRACE_SECONDS


class AppAt(Server):
    """The app (`python app.py`) of another checkout, e.g. the commit before a change (a worktree of it)."""

    def __init__(self, root: str, **kwargs):
        super().__init__("app", **kwargs)
        ours = str(ROOT / "app.py")
        self.cmd = [str(Path(root).resolve() / "app.py") if part == ours else part for part in self.cmd]


async def build_meeting(port: int, people: int, topics: int, notes: int):
    """A meeting of `people` joined participants in the middle of its discussion, through the app's pages: `topics`
    topics, the first half discussed with the `notes` notes on them (half of them actions owned by participants), the
    next one being discussed; returns its code and the people's (Http, token) in join order."""
    room, joined = await harness.app_meeting(port, people)
    fac, token = joined[0]
    htmx = {"HX-Request": "true", "X-CSRFToken": token}  # no live socket: the answer holds the new card and its id
    code = room.name
    topic_ids = [room.topic_id]
    for i in range(1, topics):
        form = {"title": f"Topic {i}: what we should try next"}
        status, _, body = await fac.request("POST", f"/m/{code}/topics", form, htmx)
        assert status == 200, status
        topic_ids.append(int(harness.TOPIC_RE.search(body.decode()).group(1)))

    async def post(path: str, form: dict) -> None:
        status, _, body = await fac.request("POST", f"/m/{code}/{path}", form, htmx)
        assert status == 200, (path, status, body[:300])

    for now, phase in (("collecting", "voting"), ("voting", "discussing")):
        await post("phase", {"phase": phase, "expected": now})  # the state the facilitator's form names
    discussed = topic_ids[: max(1, topics // 2)]
    for i in range(notes):
        kind = "action" if i % 2 else "takeaway"
        owner = f"P{i + 1}" if kind == "action" else ""
        await post(f"topics/{discussed[i % len(discussed)]}/notes",
                   {"kind": kind, "text": f"Note {i}: something the group agreed on", "owner": owner})
    for topic_id in discussed:
        await post(f"topics/{topic_id}/move", {"status": "discussed", "expected": "to_discuss"})
    if len(topic_ids) > len(discussed):
        await post(f"topics/{topic_ids[len(discussed)]}/move", {"status": "discussing", "expected": "to_discuss"})
    return code, joined


async def first_frame(port: int, path: str, cookie: str = "") -> bytes:
    """The first whole-board message one socket gets."""
    got = asyncio.get_running_loop().create_future()

    def on_message(client, payload, now):
        if len(payload) >= FIRST_FRAME_MIN and not got.done():
            got.set_result(payload)

    client = await open_ws(harness.HOST, port, path, on_message, cookie=cookie)
    try:
        return await asyncio.wait_for(got, 30)
    finally:
        client.transport.close()


async def _idle(server: Server, clients: list, deadline: float) -> float:
    """Wait until neither the server's CPU time nor the clients' frames move for IDLE_WINDOW; the CPU time then."""
    before = (server.cpu_seconds(), sum(c.frames for c in clients))
    while time.monotonic() < deadline:
        await asyncio.sleep(IDLE_WINDOW)
        now = (server.cpu_seconds(), sum(c.frames for c in clients))
        if now == before:
            return now[0]
        before = now
    return before[0]


async def storm(server: Server, paths_cookies: list[tuple[str, str]], socketio: bool = False) -> dict:
    """Open every socket at once; CPU per connection until idle, and the time until the last one has its first frame."""
    await asyncio.sleep(IDLE_WINDOW)
    cpu0 = await _idle(server, [], time.monotonic() + 30)
    firsts: dict[int, float] = {}

    def on_message(client, payload, now):
        if len(payload) >= FIRST_FRAME_MIN and id(client) not in firsts:
            firsts[id(client)] = now

    async def one(path, cookie):
        client = await open_ws(harness.HOST, server.port, path, on_message, cookie=cookie, socketio=socketio)
        if socketio:
            client.send_text(b"40")
        return client

    t0 = time.perf_counter()
    opened = await asyncio.gather(*(one(p, c) for p, c in paths_cookies), return_exceptions=True)
    clients = [c for c in opened if not isinstance(c, BaseException)]
    deadline = time.monotonic() + STORM_LIMIT
    while len(firsts) < len(clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    last = max(firsts.values(), default=t0) - t0
    cpu1 = await _idle(server, clients, deadline)
    for client in clients:
        client.transport.close()
    n = len(paths_cookies)
    return {"sockets": n, "refused": n - len(clients), "without_first_frame": len(clients) - len(firsts),
            "last_first_frame_ms": round(last * 1000, 1), "cpu_ms_per_conn": round((cpu1 - cpu0) / n * 1000, 3)}


async def app_rows(plan: dict, frame_file: str, app_root: str | None) -> dict:
    """The app: build the meeting, measure its first frame, then each storm size."""
    server = (AppAt(app_root) if app_root else Server("app")).start()
    try:
        t0 = time.perf_counter()
        code, people = await build_meeting(server.port, plan["people"], plan["topics"], plan["notes"])
        built = round(time.perf_counter() - t0, 1)
        path = f"/m/{code}/ws"
        member = await first_frame(server.port, path, people[1][0].cookie_header())
        facilitator = await first_frame(server.port, path, people[0][0].cookie_header())
        with open(frame_file, "wb") as out:
            out.write(member + b"@@COUNT@@")  # the baseline and the peer send these bytes (and a "0")
        row = {"server": "app", "people": plan["people"], "built_s": built, "first_frame_bytes": len(member),
               "facilitator_first_frame_bytes": len(facilitator), "storms": []}
        for size in plan["sizes"]:
            print(f"    app: {size} sockets at once ...", file=sys.stderr, flush=True)
            row["storms"].append(await storm(server, [(path, h.cookie_header()) for h, _ in people[:size]]))
            await asyncio.sleep(PRESENCE_GRACE + IDLE_WINDOW)  # the last storm's people are away before the next
        return row
    finally:
        server.stop()


async def broadcast_row(kind: str, plan: dict, frame_file: str) -> dict:
    """The baseline or the peer, sending each socket the app's first frame when it connects."""
    server = Server(kind, frame_file, env={"BENCH_FIRST_FRAME": "1"}).start()
    socketio = kind == "peer"
    path = "/socket.io/?EIO=4&transport=websocket&room=r0" if socketio else "/a/r0"
    try:
        row = {"server": kind, "first_frame_bytes": os.path.getsize(frame_file) - len("@@COUNT@@") + 1, "storms": []}
        for size in plan["sizes"]:
            print(f"    {kind}: {size} sockets at once ...", file=sys.stderr, flush=True)
            row["storms"].append(await storm(server, [(path, "")] * size, socketio=socketio))
            await asyncio.sleep(2 * IDLE_WINDOW)
        return row
    finally:
        server.stop()


def compare(rows: dict) -> None:
    """The app's CPU per connection against the peer's and the baseline's, storm by storm."""
    app = rows.get("app")
    for kind in ("peer", "baseline"):
        if not app or "storms" not in app or "storms" not in rows.get(kind, {}):
            continue
        for mine, theirs in zip(app["storms"], rows[kind]["storms"], strict=False):
            if theirs["cpu_ms_per_conn"]:
                mine[f"cpu_vs_{kind}"] = round(mine["cpu_ms_per_conn"] / theirs["cpu_ms_per_conn"], 2)


def table(result: dict) -> list[str]:
    """The figures as text lines (pasted into docs/performance.md)."""
    lines = [f"{result['date']} · app at {result['app_root']} · {result['people']} people, {result['topics']} topics, "
             f"{result['notes']} notes",
             "server    first frame B  sockets  last first frame ms  CPU ms/conn  vs peer  vs baseline  refused  no frame"]
    for kind, row in result["rows"].items():
        if "error" in row:
            lines.append(f"{kind:<9} error: {row['error']}")
            continue
        for s in row["storms"]:
            lines.append(f"{kind:<9} {row['first_frame_bytes']:>13} {s['sockets']:>8} {s['last_first_frame_ms']:>20} "
                         f"{s['cpu_ms_per_conn']:>12} {s.get('cpu_vs_peer', '-'):>8} {s.get('cpu_vs_baseline', '-'):>12} "
                         f"{s['refused']:>8} {s['without_first_frame']:>9}")
    if "app" in result["rows"] and "facilitator_first_frame_bytes" in result["rows"]["app"]:
        lines.append(f"app: a facilitator's first frame {result['rows']['app']['facilitator_first_frame_bytes']} B; "
                     f"meeting built in {result['rows']['app']['built_s']} s")
    return lines


async def run(plan: dict, servers: list[str], app_root: str | None) -> dict:
    frame_file = os.path.join(tempfile.mkdtemp(prefix="bench-storm-"), "frame.bin")
    rows = {}
    for kind in servers:
        print(f"  {kind} ...", file=sys.stderr, flush=True)
        try:
            rows[kind] = await (app_rows(plan, frame_file, app_root) if kind == "app" else broadcast_row(kind, plan, frame_file))
        except Exception as error:  # one failing server must not lose the others
            rows[kind] = {"server": kind, "error": repr(error)[:300]}
            print(f"    failed: {rows[kind]['error']}", file=sys.stderr, flush=True)
    compare(rows)
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small meeting and small storms (a smoke run)")
    parser.add_argument("--sizes", help="comma-separated storm sizes (default 200,1000)")
    parser.add_argument("--servers", default="app,baseline,peer", help="which servers, in this order (the app first)")
    parser.add_argument("--app-root", help="the checkout whose app.py to run (default: this one)")
    parser.add_argument("--json", help="where to write the figures (default bench/results/storm-<time>.json)")
    args = parser.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    if args.sizes:
        plan["sizes"] = [int(s) for s in args.sizes.split(",")]
    harness.settle_harness_process()
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "app_root": str(Path(args.app_root or ROOT).resolve()),
              **{k: plan[k] for k in ("people", "topics", "notes", "sizes")}, "load_before": os.getloadavg()}
    result["rows"] = asyncio.run(run(plan, args.servers.split(","), args.app_root))
    result["load_after"] = os.getloadavg()
    print("\n".join(table(result)))
    harness.save_result(result, "storm", args.json)
    return result


if __name__ == "__main__":
    main()
