"""Start pyredis and redis-server side by side for the benchmarks (shared by compare.py and memory.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class ServerProc:
    """One server process on a free loopback port, optionally pinned to a CPU with taskset."""

    def __init__(self, name: str, argv: list[str], cpu: int | None, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        full = [*argv, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir]
        if cpu is not None and shutil.which("taskset"):
            full = ["taskset", "-c", str(cpu), *full]
        self.cmdline = full
        self.proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, **env} if env else None)
        deadline = time.time() + 30
        while not ping(self.port):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start: {' '.join(full)}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid  # taskset execs the server: same pid

    def cpu_seconds(self) -> float:
        """utime + stime of the server process, from /proc/PID/stat."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_pair(python: str = sys.executable, redis_server: str = "redis-server",
               cpu: int | None = 0, baseline_python: str | None = None) -> tuple[ServerProc, ServerProc]:
    """(reference, pyredis): the reference is redis-server, or another pyredis (baseline_python
    -m pyredis) for a no-regression comparison; it keeps the name "redis" in the results."""
    redis = ServerProc("redis", [baseline_python, "-m", "pyredis"] if baseline_python else [redis_server], cpu)
    try:
        ours = ServerProc("pyredis", [python, "-m", "pyredis"], cpu)
    except Exception:
        redis.stop()
        raise
    return redis, ours


def print_table(header: list[str], rows: list[list[str]], markdown: bool, left: int = 1) -> None:
    """The result table: Markdown (the first `left` columns left-aligned, the others right), or
    plain right-aligned columns."""
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * left + "---:|" * (len(header) - left))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def add_server_args(ap) -> None:
    """The options every side-by-side script takes: --markdown, --python, --redis-server, --no-pin."""
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--python", default=sys.executable, help="interpreter for -m pyredis")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--no-pin", action="store_true", help="no taskset")

