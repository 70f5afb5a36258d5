"""Start the app, the baseline and the peer on their own core, and read their CPU time and memory."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


class Server:
    """One server process on a free port; its CPU seconds and RSS come from /proc."""

    def __init__(self, kind: str, frame_file: str | None = None, core: str | None = SERVER_CORE, env: dict | None = None):
        self.kind = kind
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        self.db_path = os.path.join(self.tmp, "bench.db")
        self.log_path = os.path.join(self.tmp, "server.log")
        py = sys.executable
        if kind == "app":
            cmd = [py, str(ROOT / "app.py"), "--port", str(self.port)]
        else:
            cmd = [py, str(ROOT / "bench" / f"{kind}_server.py"), str(self.port), frame_file]
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "SECRET_KEY": "bench-" + "k" * 40,
            # The benchmark votes far faster than a person: lift the per-user write limit.
            "RATE_LIMIT_BURST": "1000000000",
            "RATE_LIMIT_PER_SECOND": "1000000000",
            "LOG_LEVEL": "WARNING",
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
                time.sleep(0.1)
        raise RuntimeError(f"{self.kind} server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

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
