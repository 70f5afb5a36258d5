"""The fan-out benchmark: `python bench/fanout.py [--quick] [--json PATH] [--hold SECONDS]`.

Runs the app, a raw `websockets` baseline and a Flask-SocketIO peer, each on core 1, against the
same asyncio client harness on core 0; also the app's CPU per vote with no socket open against a
minimal "floor" app (bench/floor_server.py); prints a table and writes every figure as JSON.
"""

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import flood, harness, hidden, prod_path, scenarios, vote_cpu  # noqa: E402
from bench.report import print_table, ratios  # noqa: E402
from bench.servers import scratch_database  # noqa: E402

FULL = {
    "latency": [("1x25", [25], 200), ("1x200", [200], 200), ("1x1000", [1000], 200), ("200x25", [25] * 200, 200)],
    "slow": (200, 600), "sustained": (10, 25, 8, 60.0), "hold": 300.0, "workers": (200, 200), "vote_cpu": (6, 1000),
    "flood": (200, 200), "prod_path": (6, 500), "hidden": (200, 100),
}
QUICK = {
    "latency": [("1x25", [25], 20), ("4x25", [25] * 4, 20)],
    "slow": (25, 20), "sustained": (2, 10, 3, 3.0), "hold": 2.0, "workers": (25, 20), "vote_cpu": (3, 50),
    "flood": (25, 20), "prod_path": (2, 20), "hidden": (10, 10),
}


def how_run() -> dict:
    """Where the harness and servers ran, so a reader can reproduce the figures."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "nproc": os.cpu_count(), "cpu": cpu,
        "mem_gib": round(int(mem) / 1024 / 1024, 1), "python": platform.python_version(),
        "load_before": os.getloadavg(),
        "pinning": "harness on core 0 (sched_setaffinity), servers on core 1 (taskset -c 1)"
        if (os.cpu_count() or 1) > 1 else "not pinned: one core",
        "method": f"latency rows: app, baseline and peer hold their clients together and vote in {scenarios.LATENCY_BLOCKS}"
                  " alternating blocks",
    }


async def run(plan: dict, only: set[str] | None) -> dict:
    """Every scenario of the plan; each latency row runs the app, the baseline and the peer in alternating blocks."""
    frame_file = os.path.join(tempfile.mkdtemp(prefix="bench-frame-"), "frame.bin")
    result = {"rows": [], "vote_cpu": None, "slow_reader": None, "sustained": None, "two_workers": None, "flood": None}
    for name, sizes, votes in plan["latency"]:
        if only and name not in only:
            continue
        print(f"  {name}: app, baseline and peer ...", file=sys.stderr, flush=True)
        try:
            group = await scenarios.paired_latency_rows(sizes, votes, frame_file, plan["hold"] if len(sizes) > 1 else 0)
        except Exception as error:  # one failing scenario must not lose the others
            failed = {"sockets": sum(sizes), "error": repr(error)[:300]}
            group = {kind: {"server": kind, **failed} for kind in ("app", "baseline", "peer")}
            print(f"    failed: {group['app']['error']}", file=sys.stderr, flush=True)
        for row in group.values():
            row["scenario"] = name
        ratios(group)
        result["rows"] += list(group.values())
    if not only or "vote-cpu" in only:
        print("  vote-cpu: app and floor, no socket open ...", file=sys.stderr, flush=True)
        try:
            result["vote_cpu"] = await vote_cpu.vote_cpu_row(*plan["vote_cpu"])
        except Exception as error:
            result["vote_cpu"] = {"error": repr(error)[:600]}
            print(f"    failed: {result['vote_cpu']['error']}", file=sys.stderr, flush=True)
    if not only or "flood" in only:
        print("  flood: latency without and with a person flooding the worker's sockets ...", file=sys.stderr, flush=True)
        result["flood"] = await flood.flood_row(*plan["flood"])
        print(f"    {result['flood']}", file=sys.stderr, flush=True)
    if not only or "slow" in only:
        print("  slow reader ...", file=sys.stderr, flush=True)
        result["slow_reader"] = await scenarios.slow_reader_row(*plan["slow"])
    if not only or "sustained" in only:
        print("  sustained ...", file=sys.stderr, flush=True)
        result["sustained"] = await scenarios.sustained_row(*plan["sustained"])
    if not only or "workers" in only:
        result["two_workers"] = await two_worker_rows(plan)
    if not only or "hidden" in only:
        print("  hidden: what other screens receive per hidden vote ...", file=sys.stderr, flush=True)
        result["hidden"] = await hidden.hidden_row(*plan["hidden"])
    if not only or "prod-path" in only:
        print("  prod-path: CPU per vote on SQLite, PostgreSQL, + Redis, gunicorn, and the floor under gunicorn ...",
              file=sys.stderr, flush=True)
        result["prod_path"] = await prod_path.prod_path_row(*plan["prod_path"])
    return result


async def two_worker_rows(plan: dict) -> dict | str:
    """gunicorn with 1 and then 2 gevent workers on PostgreSQL + Redis: the 1 x 200 latency row and the sustained rate.

    Both server processes may use both cores (unpinned, the harness stays on core 0): two workers
    pinned to one core could not show what a second worker adds.
    """
    admin, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL")
    if not admin.startswith("postgres") or not redis_url:
        return "skipped: set DATABASE_URL (a PostgreSQL database to create scratch databases from) and REDIS_URL"
    size, votes = plan["workers"]
    rows = {}
    for workers in (1, 2):
        for what in ("latency", "sustained"):
            print(f"  {workers} worker(s): {what} ...", file=sys.stderr, flush=True)
            with scratch_database(admin) as url:
                env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "REDIS_PREFIX": f"bench{os.getpid()}{workers}{what}:",
                       "WEB_CONCURRENCY": str(workers)}
                server = scenarios.Server("gunicorn", core=None, env=env, workers=workers)
                try:
                    if what == "latency":
                        row = await scenarios.latency_row(server, [size], votes)
                    else:
                        row = await scenarios.sustained_row(*plan["sustained"], server=server)
                except Exception as error:
                    row = {"error": repr(error)[:300]}
            rows[f"{workers}w_{what}"] = row
    one, two = rows["1w_sustained"], rows["2w_sustained"]
    if "votes_per_s" in one and "votes_per_s" in two:
        rows["throughput_ratio"] = round(two["votes_per_s"] / one["votes_per_s"], 2)
    one, two = rows["1w_latency"], rows["2w_latency"]
    if one.get("p99_ms") is not None and two.get("p99_ms") is not None:
        rows["p99_delta_ms"] = round(two["p99_ms"] - one["p99_ms"], 2)
    return rows


def main(argv=None) -> dict:
    """Parse the command line, run, print and save."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few votes (a smoke run)")
    parser.add_argument("--json", help="where to write the figures (default bench/results/fanout-<time>.json)")
    parser.add_argument("--hold", type=float, help="seconds to hold the many-meetings sockets idle")
    parser.add_argument("--only", help="comma-separated scenarios (e.g. 1x25,vote-cpu,slow,sustained)")
    args = parser.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    if args.hold is not None:
        plan["hold"] = args.hold
    harness.settle_harness_process()
    result = {"how": how_run(), "quick": args.quick}
    result.update(asyncio.run(run(plan, set(args.only.split(",")) if args.only else None)))
    result["how"]["load_after"] = os.getloadavg()
    print_table(result)
    harness.save_result(result, "fanout", args.json)
    return result


if __name__ == "__main__":
    main()
