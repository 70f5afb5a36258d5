"""The vote-cpu row: the app's CPU per vote with no socket open, against the floor's (bench/floor_server.py)."""

import time
from dataclasses import dataclass, field

from bench import harness
from bench.harness import HOST, VOTE_RE, Http
from bench.scenarios import _server_said
from bench.servers import Server

# Unmeasured votes first (an even number: the topic ends unvoted), so that first-request costs (templates
# compiled, statements prepared, pool filled) are not counted.
WARM_UP_VOTES = 20


@dataclass
class Voter:
    """One server's one voter, alternately voting and unvoting one topic; what it sent and what it cost."""

    server: Server
    http: Http
    path: str  # the vote's path with "{}" for vote / unvote
    headers: dict
    topic_id: int
    kind: str
    on: bool = False
    accepted: int = 0
    refused: int = 0
    cpu: float = 0.0
    seconds: float = 0.0
    blocks: list[float] = field(default_factory=list)  # µs of CPU per vote, block by block

    async def post(self) -> bytes:
        """The next vote or unvote; returns the answer's body."""
        status, _, body = await self.http.request("POST", self.path.format("unvote" if self.on else "vote"), {}, self.headers)
        if status == 200:
            self.on = not self.on
            self.accepted += 1
        else:
            self.refused += 1
        return body

    async def block(self, votes: int) -> None:
        """`votes` votes in a closed loop, the server's CPU time over them counted."""
        cpu0, t0 = self.server.cpu_seconds(), time.perf_counter()
        for _ in range(votes):
            await self.post()
        cpu, seconds = self.server.cpu_seconds() - cpu0, time.perf_counter() - t0
        self.cpu += cpu
        self.seconds += seconds
        self.blocks.append(round(cpu / votes * 1e6, 1))

    def summary(self, votes: int) -> dict:
        """The server's figures over the measured votes, and whether the database holds what it accepted."""
        held = self.server.vote_counts().get(self.topic_id, 0)
        return {
            "server": self.kind, "votes": votes, "accepted": self.accepted, "refused": self.refused,
            "votes_per_s": round(votes / self.seconds, 1), "cpu_us_per_vote": round(self.cpu / votes * 1e6, 1),
            "blocks_cpu_us_per_vote": self.blocks, "lost": max(0, self.on - held), "double_counted": max(0, held - self.on),
        }


async def app_voter(server: Server, live_page: bool, index: int) -> Voter:
    """The app's facilitator of a new meeting with three topics, made through the real pages; htmx votes, no socket.

    `live_page`: the votes say X-Live-Socket: 1, as a page whose socket is open does, so the answer is the
    cleared message area (the change would reach the page by its socket). Otherwise the answer carries
    the rendered change, as for a page that is reconnecting.
    """
    room, people = await harness.app_meeting(server.port, 1, index)
    http, token = people[0]
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    for title in ("Second", "Third"):
        status, _, _ = await http.request("POST", f"/m/{room.name}/topics", {"title": title}, htmx)
        assert status == 200, status
    headers = {**htmx, "X-Live-Socket": "1"} if live_page else htmx
    kind = "app, live page" if live_page else "app, page without socket"
    return Voter(server, http, f"/m/{room.name}/topics/{room.topic_id}/{{}}", headers, room.topic_id, kind=kind)


async def floor_voter(server: Server) -> Voter:
    """The floor's user, signed in with a meeting of three topics by its setup endpoint."""
    http = Http(HOST, server.port)
    status, _, body = await http.request("POST", "/setup", {})
    assert status == 200, status
    code, topic_id, *_ = body.decode().split()
    return Voter(server, http, f"/{{}}/{code}/{topic_id}", {}, int(topic_id), kind="floor")


async def warm_up(voter: Voter) -> None:
    """Unmeasured votes; the app's answers must carry the rendered count (or it would not be doing its work)."""
    for _ in range(WARM_UP_VOTES):
        body = await voter.post()
        if voter.kind == "app, page without socket":
            match = VOTE_RE.search(body)
            assert match and int(match.group(2)) == voter.on, body[:300]
        elif voter.kind == "app, live page":
            assert b'id="flash"' in body and b"votes-" not in body, body[:300]
    assert voter.refused == 0 and not voter.on, f"{voter.server.kind}: {voter.refused} warm-up votes refused"
    voter.accepted = 0


async def vote_cpu_row(blocks: int, per_block: int) -> dict:
    """The app (a live page's votes, and a reconnecting page's) and the floor, each on core 1 on its own SQLite file.

    The order rotates every block so that a drift of the shared machine during the row falls on all
    alike. Each block should be long enough to span many of /proc's 10 ms ticks for the floor too.
    The app's two voters share one server: its blocks run one at a time, so each is its own CPU.
    """
    servers: dict[str, Server] = {}
    voters: dict[str, Voter] = {}
    try:
        servers["app"] = Server("app").start()
        servers["floor"] = Server("floor").start()
        voters = {"app": await app_voter(servers["app"], True, 0), "app_plain": await app_voter(servers["app"], False, 1),
                  "floor": await floor_voter(servers["floor"])}
        for voter in voters.values():
            await warm_up(voter)
        kinds = list(voters)
        for b in range(blocks):
            for kind in kinds[b % 3:] + kinds[:b % 3]:
                await voters[kind].block(per_block)
        rows = {kind: voter.summary(blocks * per_block) for kind, voter in voters.items()}
        app, plain, floor = (rows[kind]["cpu_us_per_vote"] for kind in kinds)
        return {"blocks": blocks, "votes_per_block": per_block, **rows,
                "cpu_vs_floor": round(app / floor, 2) if floor else None,
                "plain_cpu_vs_floor": round(plain / floor, 2) if floor else None}
    except Exception as error:
        said = "; ".join(_server_said(kind, server, 300) for kind, server in servers.items())
        raise RuntimeError(f"{error!r}; {said}") from error
    finally:
        for voter in voters.values():
            voter.http.close()
        for server in servers.values():
            server.stop()
