"""Ratios between servers and the printed table."""


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def ratios(group: dict) -> None:
    """Add app/baseline and app/peer ratios (p99 latency and CPU per message) to each row of a scenario."""
    app = group["app"]
    for row in group.values():
        if "error" in row or "error" in app:
            continue
        for other in ("baseline", "peer"):
            if other in group:
                row[f"p99_vs_{other}"] = _ratio(app["p99_ms"], group[other].get("p99_ms"))
                row[f"cpu_vs_{other}"] = _ratio(app["cpu_us_per_msg"], group[other].get("cpu_us_per_msg"))


COLUMNS = [
    ("scenario", "scenario", 9), ("server", "server", 8), ("sockets", "sockets", 7), ("votes", "votes", 5),
    ("p50_ms", "p50 ms", 7), ("p99_ms", "p99 ms", 7), ("max_ms", "max ms", 7), ("votes_per_s", "votes/s", 7),
    ("cpu_us_per_msg", "CPU µs/msg", 10), ("mem_kib_per_conn", "KiB/conn", 8), ("stalls", "stalls", 6),
    ("p99_vs_baseline", "app/base p99", 12), ("p99_vs_peer", "app/peer p99", 12),
    ("cpu_vs_baseline", "app/base CPU", 12), ("cpu_vs_peer", "app/peer CPU", 12),
]


def _cell(value, width):
    text = "-" if value is None else str(value)
    return text.rjust(width)


def table_lines(result: dict) -> list[str]:
    """The whole result as aligned text lines (also pasted into docs/performance.md)."""
    how = result["how"]
    lines = [
        f"{how['date']} · {how['nproc']} cores · {how['cpu']} · {how['mem_gib']} GiB · Python {how['python']}",
        f"{how['pinning']} · load average before {tuple(round(x, 2) for x in how['load_before'])}"
        + (f", after {tuple(round(x, 2) for x in how['load_after'])}" if "load_after" in how else ""),
        how.get("method", ""),
        "",
        "  ".join(title.rjust(width) for _, title, width in COLUMNS),
    ]
    for row in result["rows"]:
        lines.append("  ".join(_cell(row.get(key), width) for key, _, width in COLUMNS))
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"{row['scenario']} {row['server']}: FAILED {row['error']}")
        if row.get("server_fanout_ms") is not None:
            lines.append(f"{row['scenario']} {row['server']}: mean time from commit to the last socket written, inside"
                         f" the server: {row['server_fanout_ms']} ms")
        if "idle_cpu_pct" in row:
            lines.append(f"held idle {row['hold_s']} s with {row['sockets']} sockets ({row['scenario']}, {row['server']}):"
                         f" server CPU {row['idle_cpu_pct']} % of a core, {row['disconnects']} disconnects")
    frame = next((r["frame_bytes"] for r in result["rows"] if r.get("frame_bytes")), None)
    if frame:
        lines.append(f"vote update captured from the app and broadcast by baseline and peer: {frame} bytes")
    lines += _vote_cpu_lines(result.get("vote_cpu"))
    slow = result.get("slow_reader")
    if slow:
        lines.append(f"slow reader ({slow['sockets']} sockets, {slow['votes']} votes each way, {slow['blocks']} blocks"
                     f" alternating): p99 {slow['p99_ms_all_reading']} ms all reading,"
                     f" {slow['p99_ms_one_stopped']} ms with one stopped ({slow['p99_increase_pct']:+} %),"
                     f" stalls {slow['stalls']}, stopped client closed with {slow['slow_client_closed_with']}")
    flood = result.get("flood")
    if flood:
        lines.append(f"flood ({flood['clients']} clients, {flood['votes']} votes, {flood['rounds']} rounds each way):"
                     f" p99 {flood['quiet_p99_ms']} ms quiet, {flood['flooded_p99_ms']} ms with a person flooding"
                     f" ({flood['p99_flooded_vs_quiet']} x), {flood['flood_sockets_closed']} flooding sockets closed")
    sus = result.get("sustained")
    if sus:
        lines.append(f"sustained {sus['seconds']} s, {sus['concurrent_voters']} voters over {sus['sockets']} sockets:"
                     f" {sus['votes_per_s']} votes/s, {sus['accepted']} accepted, {sus['refused']} refused,"
                     f" lost {sus['lost']}, double-counted {sus['double_counted']}, stale screens {sus['stale_screens']},"
                     f" CPU {sus['cpu_us_per_vote']} µs/vote")
    two = result.get("two_workers")
    if isinstance(two, str):
        lines.append(f"2 workers: {two}")
    elif two:
        lines += _worker_lines(two)
    lines += _hidden_lines(result.get("hidden"))
    lines += _prod_path_lines(result.get("prod_path"))
    return lines


def _vote_cpu_lines(row: dict | None) -> list[str]:
    """The app's CPU per vote with no socket open, against the floor's."""
    if not row:
        return []
    if "error" in row:
        return [f"vote-cpu: FAILED {row['error']}"]
    app, plain, floor = row["app"], row["app_plain"], row["floor"]
    lines = [f"vote CPU, no socket open ({row['blocks']} blocks × {row['votes_per_block']} votes each, rotating):"
             f" app {app['cpu_us_per_vote']} µs/vote (live page; {plain['cpu_us_per_vote']} for a page without socket),"
             f" floor {floor['cpu_us_per_vote']} µs/vote, app/floor {row['cpu_vs_floor']} × ({row['plain_cpu_vs_floor']} ×)"]
    for side in (app, plain, floor):
        lines.append(f"  {side['server']}: {side['votes_per_s']} votes/s, refused {side['refused']}, lost {side['lost']},"
                     f" double-counted {side['double_counted']}; µs/vote by block {side['blocks_cpu_us_per_vote']}")
    return lines


def _worker_lines(rows: dict) -> list[str]:
    """gunicorn on PostgreSQL + Redis, 1 worker against 2."""
    lines = ["gunicorn + PostgreSQL + Redis backplane, unpinned (harness on core 0):"]
    for workers in (1, 2):
        lat, sus = rows[f"{workers}w_latency"], rows[f"{workers}w_sustained"]
        latency = (f"FAILED {lat['error']}" if "error" in lat else
                   f"1x{lat['sockets']} p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, {lat['cpu_us_per_msg']} µs/msg")
        rate = (f"FAILED {sus['error']}" if "error" in sus else
                f"sustained {sus['votes_per_s']} votes/s (lost {sus['lost']}, double-counted {sus['double_counted']},"
                f" stale screens {sus['stale_screens']}, {sus['cpu_us_per_vote']} µs/vote)")
        lines.append(f"  {workers} worker{'s' if workers > 1 else ''}: {latency}; {rate}")
    lines.append(f"  2 workers / 1 worker throughput: {rows.get('throughput_ratio', '-')} ×;"
                 f" p99 2 workers − 1 worker: {rows.get('p99_delta_ms', '-')} ms")
    return lines


def print_table(result: dict) -> None:
    print("\n".join(table_lines(result)))


def _prod_path_lines(row: dict | str | None) -> list[str]:
    """CPU per vote on each way the app is deployed, and the floor under the same gunicorn worker."""
    if row is None:
        return []
    if isinstance(row, str):
        return [f"production path: {row}"]
    out = [f"production path (CPU per vote, no socket open, {row['blocks']} rotating blocks of {row['votes_per_block']}):"]
    for name, setup in row["setups"].items():
        out.append(f"  {name}: {setup['cpu_us_per_vote']} µs/vote (blocks {setup['blocks_cpu_us_per_vote']}),"
                   f" {setup['votes_per_s']} votes/s, lost {setup['lost']}, double-counted {setup['double_counted']}")
    out.append(f"  gunicorn ÷ floor under gunicorn: {row['gunicorn_vs_floor']} (target ≤ 1.5);"
               f" gunicorn ÷ app.py on SQLite: {row['gunicorn_vs_sqlite']} (target ≤ 2.5)")
    return out


def _hidden_lines(row: dict | None) -> list[str]:
    """Frames and bytes per hidden vote: on the voter's own screen, and on all the others together."""
    if not row:
        return []
    if "error" in row:
        return [f"hidden: FAILED {row['error']}"]
    return [f"hidden voting ({row['sockets']} sockets, {row['votes']} votes, {row['refused']} refused): the voter's screen"
            f" {row['voter_frames_per_vote']} frames per vote; all other screens together {row['others_frames_per_vote']}"
            f" frames and {row['others_bytes_per_vote']} bytes per vote"]
