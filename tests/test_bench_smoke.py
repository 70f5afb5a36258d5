"""The fan-out benchmark still runs end to end at a tiny size (the full run is `python bench/fanout.py`)."""

import json
import os
import sys

import pytest

from tests.helpers import ROOT

pytest.importorskip("websockets")
pytest.importorskip("flask_socketio")
sys.path.insert(0, str(ROOT))

from bench import fanout  # noqa: E402

ROW_KEYS = {"scenario", "server", "sockets", "votes", "p50_ms", "p99_ms", "max_ms", "votes_per_s", "cpu_us_per_msg",
            "mem_kib_per_conn", "stalls", "p99_vs_baseline", "p99_vs_peer", "cpu_vs_baseline", "cpu_vs_peer"}


def run_quick(*args: str) -> None:
    """`fanout.main --quick`; main pins its process to the harness core: the rest of the suite gets both cores back."""
    cores = os.sched_getaffinity(0)
    try:
        fanout.main(["--quick", *args])
    finally:
        os.sched_setaffinity(0, cores)


def test_quick_benchmark_produces_every_row_and_loses_no_vote(tmp_path, monkeypatch, capsys):
    # vote-cpu: 50 votes a block, so that even the floor's block takes several of /proc's 10 ms ticks.
    tiny = {"latency": [("1x25", [25], 20)], "slow": (10, 10), "sustained": (1, 10, 3, 2.0), "hold": 0, "vote_cpu": (3, 50),
            "flood": (10, 10), "prod_path": (1, 10), "hidden": (5, 10)}
    monkeypatch.setattr(fanout, "QUICK", tiny)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the 2-worker and production-path rows have tests of their own
    out = tmp_path / "fanout.json"
    run_quick("--json", str(out))

    result = json.loads(out.read_text())
    assert [(r["scenario"], r["server"]) for r in result["rows"]] == [("1x25", k) for k in ("app", "baseline", "peer")]
    for row in result["rows"]:
        assert ROW_KEYS <= row.keys(), row
        assert row["stalls"] == 0 and row["delivered"] == 20 * 25 and row["p99_ms"] > 0
    assert result["rows"][0]["frame_bytes"] > 100
    assert 0 < result["rows"][0]["server_fanout_ms"] < result["rows"][0]["p99_ms"]
    assert result["two_workers"].startswith("skipped") and result["prod_path"].startswith("skipped")
    sustained = result["sustained"]
    assert sustained["accepted"] > 0 and sustained["lost"] == 0 and sustained["double_counted"] == 0
    assert sustained["stale_screens"] == 0
    assert result["slow_reader"]["p99_ms_one_stopped"] > 0
    vote_cpu = result["vote_cpu"]
    assert "error" not in vote_cpu, vote_cpu
    for side in (vote_cpu["app"], vote_cpu["app_plain"], vote_cpu["floor"]):
        assert side["accepted"] == side["votes"] == 3 * 50 and side["refused"] == 0, side
        assert side["lost"] == side["double_counted"] == 0 and side["cpu_us_per_vote"] > 0, side
    assert vote_cpu["cpu_vs_floor"] > 0 and vote_cpu["plain_cpu_vs_floor"] > 0
    hidden = result["hidden"]  # the voter's own screen gets its votes; no other screen gets anything
    assert hidden["refused"] == 0 and hidden["voter_frames_per_vote"] >= 1, hidden
    assert hidden["others_frames_per_vote"] == hidden["others_bytes_per_vote"] == 0, hidden
    flood = result["flood"]
    assert flood["flood_sockets_closed"] > 0 and flood["quiet_p99_ms"] > 0 and flood["flooded_p99_ms"] > 0, flood
    out = capsys.readouterr().out
    assert "app/base p99" in out and "app/floor" in out and "flooding sockets closed" in out and "hidden voting (" in out


def test_quick_two_worker_rows_run_on_postgresql_and_redis(tmp_path, monkeypatch, capsys):
    from tests.backends import PG_ADMIN_URL, SHARED_REDIS_URL, need_postgres, need_redis

    need_postgres()
    need_redis()
    tiny = {"latency": [], "slow": (10, 10), "sustained": (1, 10, 3, 2.0), "hold": 0, "workers": (10, 10)}
    monkeypatch.setattr(fanout, "QUICK", tiny)
    monkeypatch.setenv("DATABASE_URL", PG_ADMIN_URL)
    monkeypatch.setenv("REDIS_URL", SHARED_REDIS_URL)
    out = tmp_path / "workers.json"
    run_quick("--only", "workers", "--json", str(out))

    rows = json.loads(out.read_text())["two_workers"]
    for workers in (1, 2):
        latency, sustained = rows[f"{workers}w_latency"], rows[f"{workers}w_sustained"]
        assert latency["stalls"] == 0 and latency["delivered"] == 10 * 10, latency
        assert sustained["workers"] == workers and sustained["accepted"] > 0, sustained
        assert sustained["lost"] == sustained["double_counted"] == sustained["stale_screens"] == 0, sustained
    assert rows["throughput_ratio"] > 0
    assert "2 workers / 1 worker throughput" in capsys.readouterr().out


def test_quick_production_path_row_votes_on_every_setup(tmp_path, monkeypatch, capsys):
    from bench import prod_path
    from tests.backends import PG_ADMIN_URL, SHARED_REDIS_URL, need_postgres, need_redis

    need_postgres()
    need_redis()
    monkeypatch.setattr(fanout, "QUICK", {"latency": [], "prod_path": (2, 20)})
    monkeypatch.setenv("DATABASE_URL", PG_ADMIN_URL)
    monkeypatch.setenv("REDIS_URL", SHARED_REDIS_URL)
    out = tmp_path / "prod.json"
    run_quick("--only", "prod-path", "--json", str(out))

    row = json.loads(out.read_text())["prod_path"]
    assert isinstance(row, dict), row
    assert list(row["setups"]) == list(prod_path.SETUPS)
    for name, setup in row["setups"].items():
        assert setup["accepted"] == setup["votes"] == 2 * 20 and setup["refused"] == 0, name
        assert setup["lost"] == setup["double_counted"] == 0 and setup["cpu_us_per_vote"] > 0, name
    assert row["gunicorn_vs_floor"] > 0 and row["gunicorn_vs_sqlite"] > 0
    assert "gunicorn ÷ floor under gunicorn" in capsys.readouterr().out
