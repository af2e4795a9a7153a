"""TLS (tls-port and the tls-* directives) against redis-server 7.0.15 run with the same
directives: clients (redis-py, redis-cli --tls, pyredis-cli --tls), mutual TLS, TLS only
(port 0), refused start-ups, CONFIG SET reloads, and what pyredis accepts without honouring."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from conftest import REDIS_SERVER, require_binary
from tls_env import TLSRawClient, both_servers, free_ports, run_server_expect_exit, warning_lines

REDIS_CLI = shutil.which("redis-cli")
PYREDIS_CLI = str(Path(sys.executable).parent / "pyredis-cli")


def _ports(which_ports: dict[str, int]):
    return lambda which: str(which_ports[which])


@pytest.fixture
def tls_pair(tmp_path, certs):
    """Both servers with a plain port and a TLS port, tls-auth-clients optional."""
    plain = dict(zip(("redis", "pyredis"), free_ports(2)))
    tls = dict(zip(("redis", "pyredis"), free_ports(2)))
    args = ["--port", _ports(plain), "--tls-port", _ports(tls), *certs.server_args("optional")]
    with both_servers(tmp_path, args, [("tcp", lambda w: plain[w]), ("tls", lambda w: tls[w])]) as procs:
        yield procs, plain, tls


def test_plain_and_tls_listeners_answer_the_same(tls_pair, certs):
    procs, plain, tls = tls_pair
    for which in ("redis", "pyredis"):
        r = redis.Redis(port=tls[which], ssl=True, ssl_ca_certs=str(certs.ca))
        assert r.set("k", "over tls") and r.get("k") == b"over tls"
        # the plain port serves the same data
        assert redis.Redis(port=plain[which]).get("k") == b"over tls"
        r.close()
    ours, theirs = (TLSRawClient(tls[w], certs.context()) for w in ("pyredis", "redis"))
    for cmd in (("PING",), ("SET", "a", "1"), ("INCR", "a"), ("GET", "nope"), ("ECHO", "x"), ("LPUSH", "l", "x"),
                ("LRANGE", "l", "0", "-1"), ("NOSUCH",), ("CONFIG", "GET", "tls-auth-clients")):
        a, b = ours.call(*cmd), theirs.call(*cmd)
        assert a == b and type(a) is type(b), (cmd, a, b)
    ours.close()
    theirs.close()
    for p in procs.values():
        assert p.alive()


def test_cli_clients_over_tls(tls_pair, certs):
    require_binary(REDIS_CLI, "redis-cli")
    procs, plain, tls = tls_pair
    for which in ("redis", "pyredis"):
        port = str(tls[which])
        for cli in (REDIS_CLI, PYREDIS_CLI):
            out = subprocess.run([cli, "--tls", "--cacert", str(certs.ca), "-p", port, "ping"], capture_output=True,
                                 timeout=20)
            assert out.stdout == b"PONG\n", (which, cli, out)
        # a URL with rediss://
        out = subprocess.run([PYREDIS_CLI, "--cacert", str(certs.ca), "-u", f"rediss://127.0.0.1:{port}", "ping"],
                             capture_output=True, timeout=20)
        assert out.stdout == b"PONG\n"
        # a client that does not trust the CA cannot connect
        bad = subprocess.run([PYREDIS_CLI, "--tls", "--cacert", str(certs.other_ca), "-p", port, "ping"],
                             capture_output=True, timeout=20)
        assert bad.returncode == 1 and b"Could not connect" in bad.stderr


def _connects(port: int, ctx: ssl.SSLContext) -> bool:
    try:
        c = TLSRawClient(port, ctx, timeout=5)
        ok = c.call("PING") == b"PONG"
        c.close()
        return ok
    except (OSError, ConnectionError):  # ssl.SSLError included: refused at the handshake or just after
        return False


def test_mutual_tls_refuses_clients_without_certificate(tls_pair, certs):
    procs, plain, tls = tls_pair
    seen = {}
    for which in ("redis", "pyredis"):
        port = tls[which]
        admin = redis.Redis(port=plain[which])
        row = [_connects(port, certs.context()), _connects(port, certs.context(client_cert=True))]  # optional
        admin.config_set("tls-auth-clients", "yes")
        row += [_connects(port, certs.context()), _connects(port, certs.context(client_cert=True))]
        admin.config_set("tls-auth-clients", "no")
        row += [_connects(port, certs.context()), _connects(port, certs.context(client_cert=True))]
        seen[which] = row
        admin.close()
    assert seen["pyredis"] == seen["redis"] == [True, True, False, True, True, True]
    assert "peer did not return a certificate" in procs["pyredis"].log_text()


def test_tls_only_with_port_zero_and_info_tcp_port(tmp_path, certs):
    tls = dict(zip(("redis", "pyredis"), free_ports(2)))
    args = ["--port", "0", "--tls-port", _ports(tls), *certs.server_args("no")]
    with both_servers(tmp_path, args, [("tls", lambda w: tls[w])]):
        for which in ("redis", "pyredis"):
            r = redis.Redis(port=tls[which], ssl=True, ssl_ca_certs=str(certs.ca))
            info = r.info("server")
            assert info["tcp_port"] == tls[which]  # Redis shows the TLS port when port is 0
            assert r.config_get("port") == {"port": "0"}
            r.close()


def test_embedded_server_tls_only(certs):
    import pyredis

    (port,) = free_ports(1)
    with pyredis.Server(port=None, tls_port=port, tls_cert_file=str(certs.cert), tls_key_file=str(certs.key),
                        tls_auth_clients="no") as s:
        assert s.port == 0 and s.tls_port == port
        r = redis.Redis(port=port, ssl=True, ssl_ca_certs=str(certs.ca))
        assert r.ping() and r.info("server")["tcp_port"] == port
        r.close()


def _bad_cases(certs):
    c, k, ca = str(certs.cert), str(certs.key), str(certs.ca)
    base = ["--port", "0", "--tls-port", "PORT"]
    return {
        "missing-cert": [*base, "--tls-cert-file", str(certs.dir / "nope.crt"), "--tls-key-file", k,
                         "--tls-ca-cert-file", ca],
        "missing-key": [*base, "--tls-cert-file", c, "--tls-key-file", str(certs.dir / "nope.key"),
                        "--tls-ca-cert-file", ca],
        "key-mismatch": [*base, "--tls-cert-file", c, "--tls-key-file", str(certs.client_key), "--tls-ca-cert-file", ca],
        "no-cert": [*base, "--tls-key-file", k],
        "no-key": [*base, "--tls-cert-file", c],
        "no-ca-with-auth": [*base, "--tls-cert-file", c, "--tls-key-file", k],
        "bad-protocols": [*base, *certs.server_args("no"), "--tls-protocols", "TLSv1.4"],
        "bad-ciphers": [*base, *certs.server_args("no"), "--tls-ciphers", "BOGUS"],
        "bad-ciphersuites": [*base, *certs.server_args("no"), "--tls-ciphersuites", "BOGUS"],
        "missing-dh-params": [*base, *certs.server_args("no"), "--tls-dh-params-file", str(certs.dir / "nope.dh")],
        "tls-replication-without-ca": ["--tls-replication", "yes", "--tls-cert-file", c, "--tls-key-file", k,
                                       "--tls-auth-clients", "no"],
    }


@pytest.mark.parametrize("case", ["missing-cert", "missing-key", "key-mismatch", "no-cert", "no-key", "no-ca-with-auth",
                                  "bad-protocols", "bad-ciphers", "bad-ciphersuites", "missing-dh-params",
                                  "tls-replication-without-ca"])
def test_startup_refused_as_redis(tmp_path, certs, case):
    require_binary(REDIS_SERVER, "redis-server")
    got = {}
    for which in ("redis", "pyredis"):
        (port,) = free_ports(1)
        args = [str(port) if a == "PORT" else a for a in _bad_cases(certs)[case]]
        if "--port" not in args:
            args = ["--port", str(free_ports(1)[0]), *args]
        rc, log = run_server_expect_exit(which, args, tmp_path / which)
        got[which] = (rc, warning_lines(log))
    assert got["pyredis"][0] == got["redis"][0] == 1
    assert got["redis"][1] and got["redis"][1][-1] == "Failed to configure TLS. Check logs for more info."
    assert got["pyredis"][1] == got["redis"][1], got


def test_config_set_reloads_certificates_or_refuses_as_redis(tls_pair, certs):
    procs, plain, tls = tls_pair
    ours, theirs = (redis.Redis(port=plain[w]) for w in ("pyredis", "redis"))

    def both(*args):
        out = []
        for r in (ours, theirs):
            try:
                out.append(r.execute_command(*args))
            except redis.ResponseError as e:
                out.append(f"ERR {e}")
        assert out[0] == out[1], (args, out)
        return out[0]

    assert "Unable to update TLS configuration" in both("CONFIG", "SET", "tls-cert-file", str(certs.dir / "nope.crt"))
    assert "Unable to update TLS configuration" in both("CONFIG", "SET", "tls-key-file", str(certs.client_key))
    assert "Unable to update TLS configuration" in both("CONFIG", "SET", "tls-protocols", "TLSv9")
    assert "must be one of" in both("CONFIG", "SET", "tls-auth-clients", "maybe")
    both("CONFIG", "GET", "tls-cert-file")  # unchanged after the refusals
    # the old certificate still serves
    for w in ("redis", "pyredis"):
        assert _connects(tls[w], certs.context())
    # a new pair at once: new connections get the new certificate
    assert both("CONFIG", "SET", "tls-cert-file", str(certs.other_cert), "tls-key-file", str(certs.other_key)) == b"OK"
    for w in ("redis", "pyredis"):
        assert not _connects(tls[w], certs.context())
        assert _connects(tls[w], certs.context(ca=certs.other_ca))
    # the same path again reloads the file (Redis's volatile configs)
    assert both("CONFIG", "SET", "tls-cert-file", str(certs.cert), "tls-key-file", str(certs.key)) == b"OK"
    assert both("CONFIG", "SET", "tls-cert-file", str(certs.cert)) == b"OK"
    assert both("CONFIG", "SET", "tls-protocols", "TLSv1.2") == b"OK"
    for w in ("redis", "pyredis"):
        ctx = certs.context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        assert not _connects(tls[w], ctx)
        assert _connects(tls[w], certs.context())
    assert both("CONFIG", "SET", "tls-protocols", "") == b"OK"
    # a new TLS port opens, port 0 closes it
    (new_port, other) = free_ports(2)
    both_ports = {"pyredis": new_port, "redis": other}
    for w, r in (("pyredis", ours), ("redis", theirs)):
        assert r.config_set("tls-port", both_ports[w])
        assert _connects(both_ports[w], certs.context())
        assert not _connects(tls[w], certs.context())
    ours.close()
    theirs.close()


def test_not_implemented_tls_directives_warn(tmp_path, certs):
    import pyredis

    (port,) = free_ports(1)
    log = tmp_path / "p.log"
    with pyredis.Server(port=0, tls_port=port, logfile=str(log), tls_replication="yes",
                        tls_cert_file=str(certs.cert), tls_key_file=str(certs.key), tls_ca_cert_file=str(certs.ca)) as s:
        r = redis.Redis(port=s.port)
        assert r.config_set("tls-cluster", "yes")
        assert r.config_set("tls-client-cert-file", str(certs.client_cert))
        r.close()
        text = log.read_text()
        assert "tls-cluster is set but not implemented by pyredis" in text
        # tls-replication and the client pair serve the replica's link (tests/replication)
        assert "tls-replication is set but not implemented" not in text
        assert "tls-client-cert-file is set but not implemented" not in text


def test_encrypted_key_with_tls_key_file_pass(tmp_path, certs):
    from cryptography.hazmat.primitives import serialization

    import pyredis

    key = serialization.load_pem_private_key(certs.key.read_bytes(), None)
    enc = tmp_path / "enc.key"
    enc.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"s3cret")))
    (port,) = free_ports(1)
    with pyredis.Server(port=0, tls_port=port, tls_cert_file=str(certs.cert), tls_key_file=str(enc),
                        tls_key_file_pass="s3cret", tls_auth_clients="no"):
        assert _connects(port, certs.context())
    require_binary(REDIS_SERVER, "redis-server")
    for which in ("redis", "pyredis"):  # a wrong password: refused (never a prompt on the terminal)
        rc, log = run_server_expect_exit(which, ["--port", "0", "--tls-port", str(port), "--tls-cert-file",
                                                 str(certs.cert), "--tls-key-file", str(enc), "--tls-key-file-pass",
                                                 "wrong", "--tls-auth-clients", "no"], tmp_path / which)
        lines = warning_lines(log)
        assert rc == 1 and lines[0].startswith(f"Failed to load private key: {enc}: "), lines
