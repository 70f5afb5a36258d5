"""The flood row: other clients' vote latency while one person floods the worker's sockets (issue 15).

The app alone at `size` clients, `votes` closed-loop votes, twice in each condition, alternating
(quiet, flooded, quiet, flooded): in "flooded", a thread signs in as someone in another meeting on the
same worker and opens a socket after another, each sending text frames as fast as the kernel takes them
until the server closes it (1008), for as long as the votes run. The row gives each condition's median p50 and p99
and how many flooding sockets the server closed.
"""

import re
import statistics
import threading
import time

import requests
import websocket

from bench import scenarios
from bench.harness import HOST
from bench.servers import Server

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# Masked client text frames of 1,000 bytes, 1,000 of them back to back (about 1 MB), written with one
# sendall per round: the flood goes as fast as the kernel takes it, and asks nothing back (a ping flood
# is slowed by the pongs its sender does not read).
BURST = websocket.ABNF.create_frame("x" * 1000, websocket.ABNF.OPCODE_TEXT).format() * 1000


class Flooder(threading.Thread):
    """One person, in a meeting of their own, flooding one socket after another until stopped."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.base = f"http://{HOST}:{port}"
        self.stop = threading.Event()
        self.sockets = self.closed_by_server = 0

    def _sign_in(self) -> tuple[requests.Session, str]:
        http = requests.Session()
        while not self.stop.is_set():
            try:
                token = CSRF_RE.search(http.get(self.base + "/", timeout=2).text)[1]
                break
            except (requests.RequestException, TypeError):
                time.sleep(0.1)  # the server is still starting
        made = http.post(self.base + "/meetings", data={"title": "Flood", "name": "Mallory", "votes_per_person": 3,
                                                      "csrf_token": token}, allow_redirects=False)
        return http, made.headers["Location"].rsplit("/", 1)[-1]

    def run(self) -> None:
        http, code = self._sign_in()
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        while not self.stop.is_set():
            try:
                ws = websocket.create_connection(f"ws://{HOST}:{self.base.rsplit(':', 1)[1]}/m/{code}/ws",
                                                 cookie=cookie, origin=self.base, timeout=5)
            except Exception:
                time.sleep(0.05)
                continue
            self.sockets += 1
            try:
                while not self.stop.is_set():
                    ws.sock.sendall(BURST)
            except Exception:
                self.closed_by_server += 1
            finally:
                ws.close()


async def flood_row(size: int, votes: int, rounds: int = 2) -> dict:
    """Vote latency at `size` clients without and with a flooding person on the same worker."""
    runs: dict[str, list[dict]] = {"quiet": [], "flooded": []}
    closed = 0
    for _ in range(rounds):
        for condition in ("quiet", "flooded"):
            server = Server("app")
            flooder = Flooder(server.port) if condition == "flooded" else None
            if flooder:
                flooder.start()
            try:
                runs[condition].append(await scenarios.latency_row(server, [size], votes))
            finally:
                if flooder:
                    flooder.stop.set()
                    flooder.join(10)
                    closed += flooder.closed_by_server
    row = {"clients": size, "votes": votes, "rounds": rounds, "flood_sockets_closed": closed}
    for condition, rows in runs.items():
        for key in ("p50_ms", "p99_ms"):
            row[f"{condition}_{key}"] = round(statistics.median(r[key] for r in rows), 2)
    row["p99_flooded_vs_quiet"] = round(row["flooded_p99_ms"] / row["quiet_p99_ms"], 2) if row["quiet_p99_ms"] else None
    return row
