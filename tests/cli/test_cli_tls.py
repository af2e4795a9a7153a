"""pyredis-cli --tls against a TLS redis-server (Debian's is built with TLS) and a throwaway
self-signed certificate."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PYREDIS_CLI = str(Path(sys.executable).parent / "pyredis-cli")
REDIS_SERVER = shutil.which("redis-server")
OPENSSL = shutil.which("openssl")

# Missing binaries skip locally only: in CI they are an error.
pytestmark = pytest.mark.skipif((REDIS_SERVER is None or OPENSSL is None) and not os.environ.get("CI"),
                                reason="needs redis-server and openssl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tls_redis(tmp_path):
    crt, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    port = _free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                             "--tls-cert-file", str(crt), "--tls-key-file", str(key), "--tls-ca-cert-file", str(crt),
                             "--tls-auth-clients", "no", "--save", "", "--dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 15
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace")
                if "TLS" in out and ("not built" in out or "Bad directive" in out):
                    pytest.skip("redis-server built without TLS")
                raise RuntimeError(out)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.05)
        yield port, crt
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYREDIS_CLI, *args], capture_output=True, timeout=20)


def test_tls_ping(tls_redis):
    port, crt = tls_redis
    p = str(port)
    assert run("--tls", "--cacert", str(crt), "-p", p, "ping").stdout == b"PONG\n"
    assert run("--tls", "--insecure", "-p", p, "ping").stdout == b"PONG\n"
    assert run("--tls", "--cacert", str(crt), "--sni", "localhost", "-p", p, "--no-raw", "set", "k", "v").stdout == b"OK\n"
    assert run("--cacert", str(crt), "-u", f"rediss://127.0.0.1:{p}", "get", "k").stdout == b"v\n"
    # an unknown CA is refused
    bad = run("--tls", "-p", p, "ping")
    assert bad.returncode == 1 and b"Could not connect" in bad.stderr
    # plain text to a TLS port: the server hangs up
    assert run("-p", p, "ping").returncode == 1
