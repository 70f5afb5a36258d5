"""The reconnect storm's figures (bench/storm.py): the app against the peer and the baseline, and as text."""


def compare(rows: dict) -> None:
    """The app's figures against the peer's and the baseline's: CPU per connection storm by storm, votes through the
    storm (p99 against the raw broadcast's, the target's yardstick) and the restart (against the peer's)."""
    app = rows.get("app")
    for kind in ("peer", "baseline"):
        theirs_row = rows.get(kind, {})
        if not app or "storms" not in app or "storms" not in theirs_row:
            continue
        for mine, theirs in zip(app["storms"], theirs_row["storms"], strict=False):
            if theirs["cpu_ms_per_conn"]:
                mine[f"cpu_vs_{kind}"] = round(mine["cpu_ms_per_conn"] / theirs["cpu_ms_per_conn"], 2)
        if "votes" in app and theirs_row.get("votes", {}).get("vote_p99_ms"):
            app["votes"][f"p99_vs_{kind}"] = round(app["votes"]["vote_p99_ms"] / theirs_row["votes"]["vote_p99_ms"], 2)
        if "restart" in app and "restart" in theirs_row:
            for figure in ("all_current_ms", "cpu_ms_per_conn"):
                if theirs_row["restart"][figure]:
                    app["restart"][f"{figure}_vs_{kind}"] = round(app["restart"][figure] / theirs_row["restart"][figure], 2)


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
    lines += ["", "votes through a storm (from 1 s after the sockets start opening, for 5 s; 'before any': cast before any "
              "screen had its board, not timed)",
              "server    sockets  last first frame ms  votes  during storm  before any  p50 ms  p99 ms  max ms  late  "
              "p99 vs baseline"]
    for kind, row in result["rows"].items():
        if "votes" in row:
            v = {key: row["votes"].get(key, "-") for key in (
                "sockets", "last_first_frame_ms", "votes", "votes_during_storm", "votes_before_any_screen", "vote_p50_ms",
                "vote_p99_ms", "vote_max_ms", "votes_late", "p99_vs_baseline")}
            widths = (7, 20, 6, 12, 10, 7, 7, 7, 5, 16)
            lines.append(f"{kind:<9} " + " ".join(f"{value:>{width}}" for value, width in zip(v.values(), widths, strict=True)))
    lines += ["", "restart: every screen open, SIGTERM, started again; screens come back 0.35-0.65 s after it listens",
              "server    screens  closed 1012  all current ms  CPU ms/conn  vs peer (time)  vs peer (CPU)  no board"]
    for kind, row in result["rows"].items():
        if "restart" in row:
            r = row["restart"]
            lines.append(f"{kind:<9} {r['sockets']:>7} {r['closed_1012']:>12} {r['all_current_ms']:>15} "
                         f"{r['cpu_ms_per_conn']:>12} {r.get('all_current_ms_vs_peer', '-'):>15} "
                         f"{r.get('cpu_ms_per_conn_vs_peer', '-'):>14} {r['without_board'] + r['refused']:>9}")
    if "app" in result["rows"] and "facilitator_first_frame_bytes" in result["rows"]["app"]:
        lines.append(f"app: a facilitator's first frame {result['rows']['app']['facilitator_first_frame_bytes']} B; "
                     f"meeting built in {result['rows']['app']['built_s']} s")
    return lines
