"""Start the app, the baseline and the peer on their own core, and read their CPU time and memory."""

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = "1"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cmd: list[str], core: str | None) -> list[str]:
    """The command under `taskset -c core` when taskset exists and the machine has that core."""
    if core is None or not shutil.which("taskset") or os.cpu_count() < 2:
        return cmd
    return ["taskset", "-c", core, *cmd]


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (gunicorn's master and workers)."""
    pids, i = [pid], 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*"):
            try:
                pids += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        i += 1
    return pids


class Server:
    """One server process (or gunicorn and its workers) on a free port; CPU seconds and RSS come from /proc.

    kind: "app" (`python app.py`, SQLite), "gunicorn" (`gunicorn -c gunicorn.conf.py -w <workers>`, on the
    DATABASE_URL and REDIS_URL given in env), "floor" (bench/floor_server.py on its own SQLite file), "floor_gunicorn"
    (the floor under one gunicorn worker, on the DATABASE_URL given), "baseline" or "peer".
    """

    def __init__(self, kind: str, frame_file: str | None = None, core: str | None = SERVER_CORE, env: dict | None = None,
                 workers: int = 1):
        self.kind = kind
        self.workers = workers
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        self.db_path = os.path.join(self.tmp, "bench.db")
        self.log_path = os.path.join(self.tmp, "server.log")
        py = sys.executable
        if kind == "app":
            cmd = [py, str(ROOT / "app.py"), "--port", str(self.port)]
        elif kind == "gunicorn":
            cmd = [py, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{self.port}", "-w", str(workers)]
        elif kind == "floor_gunicorn":  # the floor under the app's gunicorn settings and worker
            cmd = [py, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{self.port}", "-w", "1",
                   "bench.floor_wsgi:application"]
        elif kind == "floor":
            cmd = [py, str(ROOT / "bench" / "floor_server.py"), str(self.port), f"sqlite:///{self.db_path}"]
        else:
            cmd = [py, str(ROOT / "bench" / f"{kind}_server.py"), str(self.port), frame_file]
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "SECRET_KEY": "bench-" + "k" * 40,
            # The benchmark votes far faster than a person: lift the per-user write limit.
            "RATE_LIMIT_WRITES": "off",
            "LOG_LEVEL": "WARNING",
            # One process needs no backplane: REDIS_URL (for the gunicorn rows) must not reach it.
            "REDIS_URL": "",
            **(env or {}),
        }
        self.cmd = pinned(cmd, core)
        self.proc = None

    def start(self) -> "Server":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited:\n{Path(self.log_path).read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)  # the restart row's clock starts when the server listens
        raise RuntimeError(f"{self.kind} server did not start")

    def restart(self) -> "Server":
        """Stop the process as a deploy does (SIGTERM) and start it again on the same port and database."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.start()

    @property
    def is_app(self) -> bool:
        return self.kind in ("app", "gunicorn")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far."""
        total = 0
        for pid in _tree(self.proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / TICKS

    def rss_bytes(self) -> int:
        """Resident memory of the server's processes."""
        total = 0
        for pid in _tree(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        return total

    def vote_counts(self) -> dict[int, int]:
        """Votes per topic as the database holds them."""
        query = "SELECT topic_id, COUNT(*) FROM vote GROUP BY topic_id"
        url = self.env["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            import sqlite3

            with sqlite3.connect(url[len("sqlite:///"):]) as db:
                return dict(db.execute(query).fetchall())
        import psycopg

        with psycopg.connect(url) as db:
            return dict(db.execute(query).fetchall())

    def log_tail(self, n: int = 2000) -> str:
        return Path(self.log_path).read_text(errors="replace")[-n:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"    {self.kind} log kept: {self.log_path}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


_scratch_numbers = itertools.count()


@contextmanager
def scratch_database(admin_url: str):
    """A new, empty PostgreSQL database next to the one admin_url names; dropped afterwards."""
    import psycopg

    name = f"lc_bench_{os.getpid()}_{next(_scratch_numbers)}_{int(time.time() * 1000) % 10**8}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
