"""The reconnect-storm benchmark still runs end to end at a tiny size (the full run is `python bench/storm.py`)."""

import json
import os
import sys

import pytest

from tests.helpers import ROOT

pytest.importorskip("websockets")
pytest.importorskip("flask_socketio")
sys.path.insert(0, str(ROOT))

from bench import storm  # noqa: E402


def test_quick_storm_measures_the_first_frame_and_every_socket_gets_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(storm, "QUICK", {"people": 55, "topics": 4, "notes": 4, "sizes": [8, 20]})
    monkeypatch.delenv("DATABASE_URL", raising=False)
    out = tmp_path / "storm.json"
    cores = os.sched_getaffinity(0)
    try:
        storm.main(["--quick", "--json", str(out)])
    finally:
        os.sched_setaffinity(0, cores)  # main() pins its process to the harness core

    rows = json.loads(out.read_text())["rows"]
    assert set(rows) == {"app", "baseline", "peer"}, rows
    app = rows["app"]
    assert "error" not in app, app
    assert 1000 < app["first_frame_bytes"] < app["facilitator_first_frame_bytes"]
    for kind, row in rows.items():
        assert "error" not in row, row
        assert [s["sockets"] for s in row["storms"]] == [8, 20], row
        for s in row["storms"]:
            assert s["refused"] == s["without_first_frame"] == 0 and s["last_first_frame_ms"] > 0, (kind, s)
            assert s["cpu_ms_per_conn"] >= 0, (kind, s)
    assert rows["baseline"]["first_frame_bytes"] == app["first_frame_bytes"] + 1  # the same bytes, and a count of 0
    assert "last first frame ms" in capsys.readouterr().out
