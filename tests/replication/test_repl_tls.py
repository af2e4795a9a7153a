"""tls-replication: the replica's link to its master over TLS (the master's TLS port, its
certificate verified against tls-ca-cert-file, the replica presenting tls-client-cert-file or
its own certificate), with redis-server 7.0.15 in either role; after a mixed load the digests
are equal. A replica that cannot verify the master never links."""

from __future__ import annotations

import socket

import pytest

from repl_env import digest, link_up, mixed_load, pyredis_node, redis_node, settle, stop, wait_until


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tls_redis(certs, tls_port: int, *extra: str):
    return redis_node("--tls-port", str(tls_port), *certs.server_args("optional"), *extra)


def _tls_pyredis(certs, tls_port: int, **extra):
    return pyredis_node(tls_port=tls_port, tls_cert_file=str(certs.cert), tls_key_file=str(certs.key),
                        tls_ca_cert_file=str(certs.ca), tls_auth_clients="optional", **extra)


@pytest.mark.parametrize("master_kind,replica_kind", [("redis", "pyredis"), ("pyredis", "redis"),
                                                       ("pyredis", "pyredis")])
def test_replication_over_tls(certs, master_kind, replica_kind):
    m = s = None
    try:
        mport = _port()
        m = _tls_redis(certs, mport) if master_kind == "redis" else _tls_pyredis(certs, mport)
        mixed_load(m.r, "a:")
        if replica_kind == "redis":
            s = _tls_redis(certs, _port(), "--tls-replication", "yes", "--replicaof", "127.0.0.1", str(mport))
        else:
            s = _tls_pyredis(certs, _port(), tls_replication="yes", replicaof=f"127.0.0.1 {mport}",
                             tls_client_cert_file=str(certs.client_cert),
                             tls_client_key_file=str(certs.client_key))
        link_up(s)
        mixed_load(m.r, "b:")
        settle(m, s)
        assert digest(m) == digest(s)
        # the replica is attached through the TLS port
        assert m.info()["slave0"]["state"] == "online" and s.info()["master_port"] == mport
    finally:
        stop(s, m)


def test_replica_refuses_an_unverified_master(certs):
    """A master whose certificate comes from another CA: the pyredis replica never links,
    and says why in its log."""
    m = s = None
    try:
        mport = _port()
        m = redis_node("--tls-port", str(mport), "--tls-cert-file", str(certs.other_cert), "--tls-key-file",
                       str(certs.other_key), "--tls-ca-cert-file", str(certs.other_ca), "--tls-auth-clients", "no")
        s = _tls_pyredis(certs, _port(), tls_replication="yes", replicaof=f"127.0.0.1 {mport}")
        wait_until(lambda: "Error condition on socket for SYNC" in s.log(), what="the failed TLS link")
        assert "CERTIFICATE_VERIFY_FAILED" in s.log() or "certificate verify failed" in s.log()
        assert s.info()["master_link_status"] == "down"
    finally:
        stop(s, m)
