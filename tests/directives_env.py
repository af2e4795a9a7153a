"""Start-up of pyredis-server and redis-server from the same config text, for tests/test_directives.py
and the other tests of what directives do at start-up.

    out = launch(cmd, port, cwd)      # Launched: .proc (None when it did not start), .output()
    out.stop()                        # SIGTERM, then SIGKILL: every server a test starts stops
    low_port()                        # a free port P <= 55535 with P+10000 free too (cluster bus)
    PYREDIS, REDIS                    # the two server commands
    VALID                             # a valid value of every directive (tests feed them)
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

from conftest import REDIS_SERVER, require_binary

PYREDIS = [sys.executable, "-m", "pyredis"]
REDIS = [REDIS_SERVER or "redis-server"]


def low_port() -> int:
    """A free loopback port low enough that Redis's cluster bus (port + 10000) fits, with
    that one free as well."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p > 55535:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", p + 10000))
        except OSError:
            continue
        return p
    raise RuntimeError("no free low port")


class Launched:
    def __init__(self, proc: subprocess.Popen, logpath: str, started: bool) -> None:
        self.proc = proc
        self.logpath = logpath
        self.started = started

    def output(self) -> str:
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def stop(self) -> None:
        p = self.proc
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _ours(s: socket.socket, answer: bytes, proc: subprocess.Popen) -> bool:
    """Whether the server that answered is `proc`, not another test run's server that took the
    port in between (machines running several suites at once): INFO's process_id where the
    server answers it, else `proc` still running."""
    if answer != b"+PONG":
        time.sleep(0.1)
        return proc.poll() is None
    s.sendall(b"INFO server\r\n")
    data = b""
    while b"process_id:" not in data or not data.endswith(b"\r\n\r\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    m = re.search(rb"process_id:(\d+)", data)
    return m is not None and int(m.group(1)) == proc.pid


def launch(cmd: list[str], port: int, cwd: str, timeout: float = 20, tag: str = "out",
           detaches: bool = False, env: dict[str, str] | None = None) -> Launched:
    """Run a server; started when its port answers PING (PONG, NOAUTH or LOADING) before it
    exits (detaches: daemonize, the process started exits and its child serves). Its stdout
    and stderr go to <cwd>/<tag>.log; env: the environment (None: this one's)."""
    if cmd is REDIS:
        require_binary(REDIS_SERVER, "redis-server")
    logpath = os.path.join(cwd, f"{tag}.log")
    log = open(logpath, "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    log.close()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if port:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    answer = s.recv(64)[:5]
                    if answer in (b"+PONG", b"-NOAU", b"-LOAD") and (detaches or _ours(s, answer, proc)):
                        return Launched(proc, logpath, True)
            except OSError:
                pass
        if proc.poll() is not None and not (detaches and proc.returncode == 0):
            return Launched(proc, logpath, False)
        time.sleep(0.03)
    return Launched(proc, logpath, proc.poll() is None)


# A valid value of every directive, as a redis.conf word (or words): the one Redis and
# pyredis are both started with. Non-default where that is safe on a test machine; paths are
# relative (the server runs in its own folder).
VALID: dict[str, str] = {
    "bind": "127.0.0.1 -::1", "bind-source-addr": "127.0.0.1", "tls-port": "0", "unixsocket": "s.sock",
    "unixsocketperm": "700", "socket-mark-id": "0", "daemonize": "no", "supervised": "auto",
    "pidfile": "server.pid", "logfile": "", "syslog-ident": "pyr-test", "syslog-facility": "local1",
    "databases": "17", "proc-title-template": "{title} {port}", "server_cpulist": "0", "bio_cpulist": "0",
    "aof_rewrite_cpulist": "0", "bgsave_cpulist": "0", "save": "100 10", "dbfilename": "x.rdb", "dir": ".",
    "replicaof": "127.0.0.1 1", "masterauth": "secret", "masteruser": "someone", "requirepass": "secret",
    "aclfile": "", "acl-pubsub-default": "allchannels", "maxclients": "100", "maxmemory": "64mb",
    "oom-score-adj": "yes", "oom-score-adj-values": "0 100 200", "appendfilename": "x.aof",
    "appenddirname": "xdir", "shutdown-on-sigint": "nosave now", "shutdown-on-sigterm": "default",
    "cluster-enabled": "no", "cluster-config-file": "n.conf", "cluster-port": "0", "cluster-announce-ip": "10.0.0.2",
    "cluster-announce-hostname": "host.example", "latency-tracking-info-percentiles": "50 99",
    "notify-keyspace-events": "KEA", "client-output-buffer-limit": "normal 1mb 1mb 10",
    "replica-announce-ip": "10.0.0.1", "tcp-backlog": "128", "io-threads": "2", "tls-cert-file": "c.pem",
    "tls-key-file": "k.pem", "tls-ca-cert-file": "ca.pem", "tls-ca-cert-dir": "cadir",
    "tls-dh-params-file": "dh.pem", "tls-client-cert-file": "cc.pem", "tls-client-key-file": "ck.pem",
    "tls-protocols": "TLSv1.2", "tls-ciphers": "DEFAULT", "tls-ciphersuites": "TLS_AES_128_GCM_SHA256",
    "ignore-warnings": "ARM64-COW-BUG", "watchdog-period": "0", "enable-debug-command": "yes",
    "hz": "50", "crash-log-enabled": "no", "activedefrag": "no", "tls-replication": "no", "tls-cluster": "no", "disable-thp": "no", "set-proc-title": "no",
    "syslog-enabled": "no", "rdb-key-save-delay": "10", "key-load-delay": "10",
    "loading-process-events-interval-bytes": "4096", "use-exit-on-panic": "yes", "appendonly": "yes",
}


def valid_value(d) -> str:
    if d.name in VALID:
        return VALID[d.name]
    if d.kind == "bool":
        return "no" if d.default else "yes"
    if d.kind == "int":
        return str(d.default + 1 if d.default + 1 <= d.hi else d.default - 1)
    if d.kind == "memory":
        return "3mb" if d.lo <= 3 * 1024 * 1024 else str(d.lo + 1)
    if d.kind == "enum":
        return next(e for e in d.enum if e != d.default)
    if d.kind == "flags":
        return "save"
    if d.kind == "string":
        return "some-value"
    raise KeyError(d.name)


def conf_line(d, value: str) -> str:
    """A config line: a multi-argument directive's words as they are, a single value quoted
    when it has spaces or is empty."""
    if value and (d.multi_arg or " " not in value):
        return f"{d.name} {value}"
    return f'{d.name} "{value}"'
