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


def test_quick_benchmark_produces_every_row_and_loses_no_vote(tmp_path, monkeypatch, capsys):
    tiny = {"latency": [("1x25", [25], 20)], "slow": (10, 10), "sustained": (1, 10, 3, 2.0), "hold": 0}
    monkeypatch.setattr(fanout, "QUICK", tiny)
    out = tmp_path / "fanout.json"
    cores = os.sched_getaffinity(0)
    try:
        fanout.main(["--quick", "--json", str(out)])
    finally:
        # main() pins its process to the harness core: give the rest of the suite both cores back.
        os.sched_setaffinity(0, cores)

    result = json.loads(out.read_text())
    assert [(r["scenario"], r["server"]) for r in result["rows"]] == [("1x25", k) for k in ("app", "baseline", "peer")]
    for row in result["rows"]:
        assert ROW_KEYS <= row.keys(), row
        assert row["stalls"] == 0 and row["delivered"] == 20 * 25 and row["p99_ms"] > 0
    assert result["rows"][0]["frame_bytes"] > 100
    sustained = result["sustained"]
    assert sustained["accepted"] > 0 and sustained["lost"] == 0 and sustained["double_counted"] == 0
    assert sustained["stale_screens"] == 0
    assert result["slow_reader"]["p99_ms_one_stopped"] > 0
    assert "app/base p99" in capsys.readouterr().out
