"""The production-path row (issue 18): CPU per vote with no socket open, on each way the app is deployed.

`python app.py` on SQLite, on PostgreSQL and on PostgreSQL + Redis; one gunicorn gevent worker on
PostgreSQL + Redis; and the floor (bench/floor_server.py) under the same gunicorn worker on the same
PostgreSQL. Every server on core 1, each on its own scratch database, their blocks of votes rotating
so that a drift of the machine falls on all alike.
"""

import os
from contextlib import ExitStack

from bench.scenarios import _server_said
from bench.servers import Server, scratch_database
from bench.vote_cpu import Voter, app_voter, floor_voter, warm_up

SETUPS = {  # name: (server kind, needs PostgreSQL, needs Redis)
    "app.py, SQLite": ("app", False, False),
    "app.py, PostgreSQL": ("app", True, False),
    "app.py, PostgreSQL + Redis": ("app", True, True),
    "gunicorn 1 worker, PostgreSQL + Redis": ("gunicorn", True, True),
    "floor, gunicorn 1 worker, PostgreSQL": ("floor_gunicorn", True, False),
}


def _start(name: str, index: int, stack: ExitStack, admin_url: str, redis_url: str) -> Server:
    """One setup's server on a scratch database of its own (and a Redis prefix of its own)."""
    kind, postgres, redis = SETUPS[name]
    env = {}
    if postgres:
        env["DATABASE_URL"] = stack.enter_context(scratch_database(admin_url))
    if redis:
        env.update(REDIS_URL=redis_url, REDIS_PREFIX=f"benchprod{os.getpid()}-{index}:")
    server = Server(kind, env=env, workers=1)
    stack.callback(server.stop)
    return server.start()


async def prod_path_row(blocks: int, per_block: int) -> dict | str:
    """Each setup's CPU per vote (a live page's votes: X-Live-Socket: 1), and the two ratios issue 18 sets targets on."""
    admin_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL")
    if not admin_url.startswith("postgres") or not redis_url:
        return "skipped: set DATABASE_URL (a PostgreSQL database to create scratch databases from) and REDIS_URL"
    servers: dict[str, Server] = {}
    voters: dict[str, Voter] = {}
    with ExitStack() as stack:
        try:
            for index, name in enumerate(SETUPS):
                servers[name] = _start(name, index, stack, admin_url, redis_url)
                server = servers[name]
                voters[name] = await (floor_voter(server) if server.kind == "floor_gunicorn" else app_voter(server, True, index))
                voters[name].kind = name
                stack.callback(voters[name].http.close)
                await warm_up(voters[name])
            names = list(voters)
            for b in range(blocks):
                for name in names[b % len(names):] + names[:b % len(names)]:
                    await voters[name].block(per_block)
        except Exception as error:
            said = "; ".join(_server_said(name, server, 300) for name, server in servers.items())
            return f"failed: {error!r}; {said}"[:900]
        rows = {name: voter.summary(blocks * per_block) for name, voter in voters.items()}
    cpu = {name: row["cpu_us_per_vote"] for name, row in rows.items()}
    gunicorn, floor, sqlite = (cpu["gunicorn 1 worker, PostgreSQL + Redis"], cpu["floor, gunicorn 1 worker, PostgreSQL"],
                               cpu["app.py, SQLite"])
    return {"blocks": blocks, "votes_per_block": per_block, "setups": rows,
            "gunicorn_vs_floor": round(gunicorn / floor, 2) if floor else None,
            "gunicorn_vs_sqlite": round(gunicorn / sqlite, 2) if sqlite else None}

