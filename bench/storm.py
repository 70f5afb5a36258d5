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
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench import storm_measure as measure  # noqa: E402
from bench.servers import ROOT, Server  # noqa: E402
from bench.storm_report import compare, table  # noqa: E402
from bench.wsclient import open_ws  # noqa: E402

FULL = {"people": 1000, "topics": 20, "notes": 40, "sizes": [200, 1000]}
QUICK = {"people": 60, "topics": 4, "notes": 4, "sizes": [10, 30]}
PLACEHOLDER = b"@@COUNT@@"  # where the baseline and the peer put a vote's count
MAX_VOTES = 200  # votes through a storm, at most (one participant each)
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
    await post(f"topics/{topic_ids[len(discussed)]}/move", {"status": "discussing", "expected": "to_discuss"})
    return code, joined, topic_ids[len(discussed)]  # the topic under discussion


async def first_frame(port: int, path: str, cookie: str = "") -> bytes:
    """The first whole-board message one socket gets."""
    got = asyncio.get_running_loop().create_future()

    def on_message(client, payload, now):
        if len(payload) >= measure.FIRST_FRAME_MIN and not got.done():
            got.set_result(payload)

    client = await open_ws(harness.HOST, port, path, on_message, cookie=cookie)
    try:
        return await asyncio.wait_for(got, 30)
    finally:
        client.transport.close()


def app_voter(code: str, person: tuple, topic_id: int):
    """One person's vote (count 1) and unvote (count 0) on `topic_id`, from a live page (its answer carries no fragments)."""
    http, token = person

    async def trigger(count: int) -> bool:
        path = f"/m/{code}/topics/{topic_id}/{'vote' if count else 'unvote'}"
        status, _, _ = await http.request("POST", path, {}, {"HX-Request": "true", "X-CSRFToken": token, "X-Live-Socket": "1"})
        return status == 200

    return trigger


def app_voters(code: str, people: list, topic_id: int):
    """Votes through a storm, each by the next participant: the topic's count is the vote's number, so no screen can
    take an earlier update for a later one. Their connections open just before the storm, as the baseline's and the
    peer's control socket is open (the app closes a keep-alive connection idle for 10 s, and a new one would wait in
    the listen backlog behind the storm's)."""
    voters = people[1:]

    async def trigger(count: int) -> bool:
        return await app_voter(code, voters[count - 1], topic_id)(1)

    async def warm() -> None:
        answers = await asyncio.gather(*(http.request("GET", "/healthz") for http, _ in voters[:MAX_VOTES]))
        assert all(status == 200 for status, _, _ in answers)

    return trigger, warm, len(voters)


async def vote_update(port: int, path: str, cookie: str, trigger, topic_id: int) -> bytes:
    """What a member's screen gets for one vote (captured, then the vote is taken back)."""
    wanted: dict = {}

    def on_message(client, payload, now):
        match = harness.VOTE_RE.search(payload)
        if match and (int(match.group(1)), int(match.group(2))) in wanted:
            future = wanted.pop((int(match.group(1)), int(match.group(2))))
            future.set_result(payload)

    client = await open_ws(harness.HOST, port, path, on_message, cookie=cookie)
    try:
        await asyncio.sleep(measure.IDLE_WINDOW)  # its first frame first
        updates = []
        for count in (1, 0):
            future = wanted[(topic_id, count)] = asyncio.get_running_loop().create_future()
            assert await trigger(count)
            updates.append(await asyncio.wait_for(future, 30))
        return updates[0]
    finally:
        client.transport.close()


async def app_rows(plan: dict, frames: dict, app_root: str | None) -> dict:
    """The app: build the meeting, measure its first frame and each storm size; then, with voting open again, a storm
    with votes cast through it and a restart."""
    server = (AppAt(app_root) if app_root else Server("app")).start()
    try:
        t0 = time.perf_counter()
        code, people, topic_id = await build_meeting(server.port, plan["people"], plan["topics"], plan["notes"])
        built = round(time.perf_counter() - t0, 1)
        path = f"/m/{code}/ws"
        member = await first_frame(server.port, path, people[1][0].cookie_header())
        facilitator = await first_frame(server.port, path, people[0][0].cookie_header())
        Path(frames["storm"]).write_bytes(member + PLACEHOLDER)  # the baseline and the peer send these bytes (and a "0")
        row = {"server": "app", "people": plan["people"], "built_s": built, "first_frame_bytes": len(member),
               "facilitator_first_frame_bytes": len(facilitator), "storms": []}
        sockets = [(path, h.cookie_header()) for h, _ in people]
        for size in plan["sizes"]:
            print(f"    app: {size} sockets at once ...", file=sys.stderr, flush=True)
            row["storms"].append(await measure.storm(server, sockets[:size]))
            await asyncio.sleep(PRESENCE_GRACE + measure.IDLE_WINDOW)  # the last storm's people are away before the next

        # Back to voting (the topic under discussion returns to To Discuss) for votes through a storm.
        fac, token = people[0]
        status, _, _ = await fac.request("POST", f"/m/{code}/phase", {"phase": "voting", "expected": "discussing"},
                                         {"HX-Request": "true", "X-CSRFToken": token})
        assert status == 200, status
        voting_board = await first_frame(server.port, path, people[1][0].cookie_header())
        update = await vote_update(server.port, path, people[1][0].cookie_header(), app_voter(code, people[0], topic_id),
                                   topic_id)
        Path(frames["voting_board"]).write_bytes(voting_board)
        count = harness.VOTE_RE.search(update)
        Path(frames["vote"]).write_bytes(update[: count.start(2)] + PLACEHOLDER + update[count.end(2):])
        await asyncio.sleep(PRESENCE_GRACE + measure.IDLE_WINDOW)
        everyone = sockets[: max(plan["sizes"])]  # as many as the baseline's and the peer's
        print(f"    app: {len(everyone)} sockets at once, votes cast through it ...", file=sys.stderr, flush=True)
        row["vote_topic_id"] = topic_id
        trigger, warm, most = app_voters(code, people, topic_id)
        row["votes"] = await measure.storm(server, everyone, votes=measure.Votes(trigger, topic_id, min(most, MAX_VOTES), warm))
        row["votes"]["first_frame_bytes"], row["votes"]["update_bytes"] = len(voting_board), len(update)
        await asyncio.sleep(PRESENCE_GRACE + measure.IDLE_WINDOW)
        print(f"    app: {len(everyone)} screens, a restart ...", file=sys.stderr, flush=True)
        row["restart"] = await measure.restart(server, everyone)
        return row
    finally:
        server.stop()


async def broadcast_row(kind: str, plan: dict, frames: dict, topic_id: int | None) -> dict:
    """The baseline or the peer, sending each socket the app's first frame when it connects; then the app's vote update
    broadcast through a storm of sockets that get the app's voting board first, and a restart."""
    socketio = kind == "peer"
    sio = "/socket.io/?EIO=4&transport=websocket"
    path = f"{sio}&room=r0" if socketio else "/a/r0"
    row = {"server": kind, "first_frame_bytes": os.path.getsize(frames["storm"]) - len(PLACEHOLDER) + 1, "storms": []}
    server = Server(kind, frames["storm"], env={"BENCH_FIRST_FRAME": "1"}).start()
    try:
        for size in plan["sizes"]:
            print(f"    {kind}: {size} sockets at once ...", file=sys.stderr, flush=True)
            row["storms"].append(await measure.storm(server, [(path, "")] * size, socketio=socketio))
            await asyncio.sleep(2 * measure.IDLE_WINDOW)
    finally:
        server.stop()
    if topic_id is None:  # no app row ran: nothing to compare votes or restarts with
        return row
    server = Server(kind, frames["vote"], env={"BENCH_FIRST_FRAME": frames["voting_board"]}).start()
    try:
        control = await open_ws(harness.HOST, server.port, f"{sio}&ctl=1" if socketio else "/c", lambda *a: None,
                                socketio=socketio)
        if socketio:
            control.send_text(b"40")

        async def trigger(count: int) -> bool:
            message = b"42" + json.dumps(["vote", ["r0", count]]).encode() if socketio else f"r0 {count}".encode()
            control.send_text(message)
            return True

        size = max(plan["sizes"])
        print(f"    {kind}: {size} sockets at once, votes cast through it ...", file=sys.stderr, flush=True)
        row["votes"] = await measure.storm(server, [(path, "")] * size, socketio=socketio,
                                           votes=measure.Votes(trigger, topic_id, MAX_VOTES))
        control.transport.close()
        print(f"    {kind}: {size} screens, a restart ...", file=sys.stderr, flush=True)
        row["restart"] = await measure.restart(server, [(path, "")] * size, socketio=socketio)
        return row
    finally:
        server.stop()


async def run(plan: dict, servers: list[str], app_root: str | None) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    frames = {name: str(folder / f"{name}.bin") for name in ("storm", "voting_board", "vote")}
    rows = {}
    for kind in servers:
        print(f"  {kind} ...", file=sys.stderr, flush=True)
        try:
            if kind == "app":
                rows[kind] = await app_rows(plan, frames, app_root)
            else:
                rows[kind] = await broadcast_row(kind, plan, frames, rows.get("app", {}).get("vote_topic_id"))
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
