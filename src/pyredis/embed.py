"""Server: run pyredis inside a test or tool, in a background thread or a subprocess.

    with Server(port=0) as s:                          # thread, free port
        redis.Redis.from_url(s.url)
    with Server(port=0, subprocess=True, dir=tmp):     # separate process (kill -9 tests)
        ...
Config directives are keyword arguments with '_' for '-': Server(appendonly="yes").
port=0 picks a free port; port=None opens no plain TCP port (TLS or unix socket only).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess as sp
import sys
import threading
import time
from typing import Any


def _directive_args(config: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for k, v in config.items():
        name = k.replace("_", "-")
        if isinstance(v, bool):
            v = "yes" if v else "no"
        args += [f"--{name}", *str(v).split(" ")] if name in ("save", "bind") else [f"--{name}", str(v)]
    return args


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int | None = 0, host: str = "127.0.0.1", subprocess: bool = False,
                 config_file: str | None = None, **config: Any) -> None:
        self.host = host
        self.requested_port = port
        self.port = port
        self.tls_port = int(config.get("tls_port", 0) or 0)
        self.use_subprocess = subprocess
        self.config_file = config_file
        self.config = dict(config)
        self.config.setdefault("bind", host)
        self.config.setdefault("save", "")
        self.config.setdefault("loglevel", "warning")
        self.proc: sp.Popen | None = None
        self._thread: threading.Thread | None = None
        self._srv = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}"

    @property
    def state(self):
        """The in-process ServerState (thread mode only)."""
        return self._srv.state if self._srv is not None else None

    def start(self) -> Server:
        if self.use_subprocess:
            self._start_subprocess()
        else:
            self._start_thread()
        return self

    def _start_thread(self) -> None:
        from .config import Config
        from .server.server import RedisServer, run_until_stopped

        cfg = Config()
        cfg.load_embedded(self.config_file, _directive_args({**self.config, "port": self.port or 0}))
        # A thread cannot chdir for itself: persistence resolves files against an absolute dir.
        cfg.values["dir"] = os.path.abspath(cfg["dir"] or ".")
        os.makedirs(cfg["dir"], exist_ok=True)
        from . import commands  # noqa: F401  (registers the command table)

        # port=0 (the default): a free port; port=None: no plain TCP listener (Redis's port 0)
        self._srv = RedisServer(cfg, free_port=self.requested_port == 0)
        ready = threading.Event()

        def run() -> None:
            try:
                import uvloop

                loop = uvloop.new_event_loop()
            except ImportError:  # pragma: no cover
                loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(run_until_stopped(self._srv, ready.set))
            except BaseException as e:  # surfaced to start()
                self.error = e
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"pyredis-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(30)
        if self.error is not None:
            raise self.error
        self.port = self._srv.port
        self.tls_port = self._srv.tls_port

    def _start_subprocess(self) -> None:
        if not self.port:
            self.port = free_port(self.host)
        cmd = [sys.executable, "-m", "pyredis"]
        if self.config.get("dir"):  # as the thread mode: the folder is made (redis-server would refuse it)
            os.makedirs(str(self.config["dir"]), exist_ok=True)
        if self.config_file:
            cmd.append(self.config_file)
        cmd += _directive_args({**self.config, "port": self.port})
        env = dict(os.environ)
        self.proc = sp.Popen(cmd, stdout=sp.PIPE, stderr=sp.STDOUT, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                raise RuntimeError(f"pyredis exited with {self.proc.returncode}: {out}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-LOADING")):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("pyredis did not start in time")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except sp.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
        if self._thread is not None and self._loop is not None and self._srv is not None:
            try:
                self._loop.call_soon_threadsafe(self._srv.request_shutdown)
            except RuntimeError:
                pass
            self._thread.join(15)
            self._thread = None

    def kill(self) -> None:
        """SIGKILL the subprocess (crash tests)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
