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
    monkeypatch.setattr(storm.measure, "VOTE_WINDOW", 2.0)
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
    for kind, row in rows.items():
        votes, restart = row["votes"], row["restart"]
        # Every vote reached every open screen, and every screen came back with a board after the restart.
        assert votes["sockets"] == restart["sockets"] == 20, (kind, row)
        assert votes["votes"] >= 10 and votes["votes_late"] == 0 and 0 < votes["vote_p50_ms"] <= votes["vote_max_ms"], votes
        assert restart["refused"] == restart["without_board"] == 0 and restart["all_current_ms"] >= 350, restart
    assert rows["app"]["restart"]["closed_1012"] == 20  # the app tells its screens to come back
    # The update the baseline and the peer broadcast is a vote's few fragments, not a whole board.
    assert rows["app"]["votes"]["update_bytes"] < rows["app"]["votes"]["first_frame_bytes"] // 5
    out = capsys.readouterr().out
    assert "last first frame ms" in out and "votes through a storm" in out and "restart:" in out
