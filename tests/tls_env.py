"""TLS test material: a throwaway CA and certificates (trustme, in a temporary folder), TLS
RawClients, and both servers -- redis-server and pyredis -- started with the same tls-* and
transport directives on free loopback ports. Every server started here is stopped here."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import trustme

from conftest import REDIS_SERVER, free_port, require_binary, stop_process
from resp import RawClient


class Certs:
    """ca.crt, server.crt/.key (localhost, 127.0.0.1, ::1), client.crt/.key, and a second
    server pair from another CA (other.crt/.key) for reload tests."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        ca = trustme.CA()
        self.ca = folder / "ca.crt"
        ca.cert_pem.write_to_path(str(self.ca))
        srv = ca.issue_cert("localhost", "127.0.0.1", "::1")
        self.cert, self.key = folder / "server.crt", folder / "server.key"
        srv.cert_chain_pems[0].write_to_path(str(self.cert))
        srv.private_key_pem.write_to_path(str(self.key))
        cl = ca.issue_cert("client@pyredis.test")
        self.client_cert, self.client_key = folder / "client.crt", folder / "client.key"
        cl.cert_chain_pems[0].write_to_path(str(self.client_cert))
        cl.private_key_pem.write_to_path(str(self.client_key))
        other_ca = trustme.CA()
        self.other_ca = folder / "other-ca.crt"
        other_ca.cert_pem.write_to_path(str(self.other_ca))
        other = other_ca.issue_cert("localhost", "127.0.0.1")
        self.other_cert, self.other_key = folder / "other.crt", folder / "other.key"
        other.cert_chain_pems[0].write_to_path(str(self.other_cert))
        other.private_key_pem.write_to_path(str(self.other_key))

    def server_args(self, auth: str = "optional") -> list[str]:
        return ["--tls-cert-file", str(self.cert), "--tls-key-file", str(self.key), "--tls-ca-cert-file", str(self.ca),
                "--tls-auth-clients", auth]

    def context(self, client_cert: bool = False, ca: Path | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(ca or self.ca))
        if client_cert:
            ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        return ctx


class TLSRawClient(RawClient):
    """RawClient over TLS."""

    def __init__(self, port: int, ctx: ssl.SSLContext, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""


PYREDIS_SERVER = [sys.executable, "-m", "pyredis"]


class Proc:
    """A server process (redis-server or pyredis-server) with its log file; stop() always."""

    def __init__(self, argv: list[str], log: Path, ports: list[tuple[str, int]]) -> None:
        self.log = log
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        pending = list(ports)
        while pending:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError(f"{argv[0]} exited {self.proc.returncode}: {out}\n{self.log_text()}")
            kind, target = pending[0]
            try:
                if kind == "unix":
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(str(target))
                else:
                    socket.create_connection(("127.0.0.1", target), timeout=0.5).close()
                pending.pop(0)
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"{argv} did not start: {self.log_text()}")
                time.sleep(0.05)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        stop_process(self.proc)
        if self.proc.stdout:
            self.proc.stdout.close()


def server_argv(which: str, args: list[str], folder: Path) -> tuple[list[str], Path]:
    """The same directives for redis-server and pyredis-server, each logging to its own file."""
    log = folder / f"{which}.log"
    base = [REDIS_SERVER] if which == "redis" else PYREDIS_SERVER
    return [*base, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder),
            "--daemonize", "no", "--logfile", str(log), "--enable-debug-command", "yes", *args], log


@contextmanager
def both_servers(tmp_path: Path, args: list[str], ports: list[tuple[str, object]]):
    """redis-server and pyredis-server with the same directives; `ports` are waited for
    (("tcp"|"tls", port) or ("unix", path)); a port number given as a callable of the server
    name ("redis"/"pyredis") lets each use its own. Yields {"redis": Proc, "pyredis": Proc}."""
    require_binary(REDIS_SERVER, "redis-server")
    procs: dict[str, Proc] = {}
    try:
        for which in ("redis", "pyredis"):
            folder = tmp_path / which
            folder.mkdir(exist_ok=True)
            own = [a(which) if callable(a) else a for a in args]
            wait = [(k, t(which) if callable(t) else t) for k, t in ports]
            argv, log = server_argv(which, own, folder)
            procs[which] = Proc(argv, log, wait)
        yield procs
    finally:
        for p in procs.values():
            p.stop()


def run_server_expect_exit(which: str, args: list[str], folder: Path, timeout: float = 30) -> tuple[int, str]:
    """Start a server that must refuse to start: its exit status and log."""
    folder.mkdir(parents=True, exist_ok=True)
    argv, log = server_argv(which, args, folder)
    proc = subprocess.run(argv, capture_output=True, timeout=timeout, cwd=str(folder))
    text = log.read_text(errors="replace") if log.exists() else ""
    return proc.returncode, text + proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


def warning_lines(log: str) -> list[str]:
    """The `#` (warning) lines' text, without pid/time and OpenSSL's numeric error prefix
    ("error:80000002:system library::"), which Python's ssl module does not report."""
    import re

    out = []
    for line in log.splitlines():
        m = re.match(r"^\d+:[A-Z] \d\d \w{3} \d{4} [\d:.]+ # (.*)$", line)
        if m and "oO0OoO0Oo" not in m.group(1) and "Redis version=" not in m.group(1) \
                and "Configuration loaded" not in m.group(1) and "WARNING" not in m.group(1):
            out.append(re.sub(r"error:[0-9A-F]{8}:[^:]*::", "", m.group(1)))
    return out


def free_ports(n: int) -> list[int]:
    out: list[int] = []
    while len(out) < n:
        p = free_port()
        if p not in out:
            out.append(p)
    return out


__all__ = ["Certs", "TLSRawClient", "both_servers", "run_server_expect_exit", "warning_lines", "free_ports",
           "Proc", "os"]
