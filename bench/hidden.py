"""The hidden-voting row (issue 18): what other screens receive per hidden vote (0 frames, 0 bytes once hidden stays hidden).

A meeting with hidden voting and every participant's board socket open; one participant votes and
unvotes. The voter's own screen must get each change (or the row would be measuring nothing); every
other screen, the facilitator's included, must get nothing at all: an empty frame per vote is a signal too.
"""

import asyncio

from bench import harness
from bench.harness import HOST, Room
from bench.scenarios import _server_said
from bench.servers import Server
from bench.wsclient import open_ws

QUIET_SECONDS = 1.0  # after the last vote, for anything late to arrive


async def _hidden_meeting(server: Server, size: int) -> tuple[Room, list]:
    """A meeting of `size` people with hidden voting switched on by its facilitator's settings form."""
    room, people = await harness.app_meeting(server.port, size)
    http, token = people[0]
    status, _, _ = await http.request("POST", f"/m/{room.name}/settings", {"hidden_voting": "1", "timebox_pattern": "8m"},
                                      {"HX-Request": "true", "X-CSRFToken": token})
    assert status == 200, status
    return room, people


async def hidden_row(size: int, votes: int) -> dict:
    """Frames and bytes that the voter's screen and all the other screens received per hidden vote."""
    server = Server("app").start()
    received: dict[int, list[int]] = {}  # id(client) -> [frames, bytes] after the screens settled
    room, voter = None, None

    def count(client, payload, now):
        seen = received.setdefault(id(client), [0, 0])
        seen[0] += 1
        seen[1] += len(payload)

    try:
        room, people = await _hidden_meeting(server, size)
        (voter_http, voter_token), others = people[1], people[:1] + people[2:]
        await harness.open_clients(room, [(f"/m/{room.name}/ws", h.cookie_header()) for h, _ in others], server.port)
        voter = await open_ws(HOST, server.port, f"/m/{room.name}/ws", room.on_message, cookie=voter_http.cookie_header())
        voter.excluded = False
        room.clients.append(voter)
        await harness.settle([room])
        for client in room.clients:
            client.on_message = count
        path = f"/m/{room.name}/topics/{room.topic_id}/{{}}"
        headers = {"HX-Request": "true", "X-CSRFToken": voter_token, "X-Live-Socket": "1"}
        refused = 0
        for i in range(votes):
            status, _, _ = await voter_http.request("POST", path.format("unvote" if i % 2 else "vote"), {}, headers)
            refused += status != 200
        await asyncio.sleep(QUIET_SECONDS)
        own = received.get(id(voter), [0, 0])
        seen = [received.get(id(c), [0, 0]) for c in room.clients if c is not voter]
        return {"sockets": len(room.clients), "votes": votes, "refused": refused,
                "voter_frames_per_vote": round(own[0] / votes, 2),
                "others_frames_per_vote": round(sum(o[0] for o in seen) / votes, 2),
                "others_bytes_per_vote": round(sum(o[1] for o in seen) / votes, 1)}
    except Exception as error:
        return {"error": f"{error!r}; {_server_said('app', server, 300)}"[:600]}
    finally:
        for client in room.clients if room else []:
            client.transport.close()
        server.stop()
