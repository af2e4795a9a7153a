"""protected-mode as Redis 7.0's clientAcceptHandler: with protected-mode yes and no password
for the default user, a client from a non-loopback address gets -DENIED ... on accept and is
disconnected. Tests use loopback only, so the decision is tested in-process on a connection
whose peer address is injected (no packet leaves the machine); the text is checked against the
redis-server binary, which carries it as a string."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REDIS_SERVER, require_binary
from pyredis import commands  # noqa: F401  (the command table)
from pyredis.config import Config
from pyredis.errors import DENIED_PROTECTED_MODE
from pyredis.server.connection import Connection
from pyredis.server.server import RedisServer

# Addresses of the documentation ranges (RFC 5737 / 3849): never used for traffic here.
REMOTE4 = ("203.0.113.7", 50123)
REMOTE6 = ("2001:db8::7", 50123, 0, 0)


class FakeSocket:
    family = 2

    def __init__(self, peer, local) -> None:
        self.peer, self.local = peer, local

    def fileno(self) -> int:
        return 99

    def getpeername(self):
        return self.peer

    def getsockname(self):
        return self.local

    def setsockopt(self, *a) -> None:
        pass


class FakeTransport:
    def __init__(self, peer, local=("127.0.0.1", 6379)) -> None:
        self.sock = FakeSocket(peer, local)
        self.written = b""
        self.closed = False

    def get_extra_info(self, name, default=None):
        return {"socket": self.sock, "peername": self.sock.peer, "sockname": self.sock.local}.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def _accept(peer, **directives) -> tuple[FakeTransport, RedisServer, Connection]:
    cfg = Config()
    for k, v in directives.items():
        cfg.set(k.replace("_", "-"), v, startup=True)
    srv = RedisServer(cfg)
    t = FakeTransport(peer)
    conn = Connection(srv, "tcp")
    conn.connection_made(t)
    return t, srv, conn


DENIED = b"-" + DENIED_PROTECTED_MODE.encode() + b"\r\n"


@pytest.mark.parametrize("peer", [REMOTE4, REMOTE6, ("::ffff:127.0.0.1", 4000, 0, 0), ("127.0.0.2", 4000)])
def test_non_loopback_client_is_denied_and_disconnected(peer):
    t, srv, conn = _accept(peer)
    assert t.written == DENIED and t.closed
    assert conn.client is None and not srv.state.clients
    assert srv.state.stats.rejected_connections == 1 and srv.state.stats.total_connections_received == 0
    conn.data_received(b"PING\r\n")  # nothing is read from a refused connection
    assert t.written == DENIED


@pytest.mark.parametrize("peer", [("127.0.0.1", 4000), ("::1", 4000, 0, 0)])
def test_loopback_clients_are_served(peer):
    t, srv, conn = _accept(peer)
    assert not t.closed and conn.client is not None
    conn.data_received(b"PING\r\n")
    assert t.written == b"+PONG\r\n"


@pytest.mark.parametrize("directives", [{"protected_mode": "no"}, {"requirepass": "secret"}])
def test_protected_mode_off_or_password_lets_remote_clients_in(directives):
    t, srv, conn = _accept(REMOTE4, **directives)
    assert not t.closed and conn.client is not None and t.written == b""
    assert conn.client.addr == "203.0.113.7:50123"


def test_explicit_bind_does_not_lift_protected_mode():
    # Redis 7.0 no longer looks at bind (6.x did): an explicit bind still protects
    t, srv, conn = _accept(REMOTE4, bind="0.0.0.0")
    assert t.written == DENIED and t.closed


def test_ipv6_addresses_are_shown_as_redis_does():
    t, srv, conn = _accept(REMOTE6, protected_mode="no")
    assert conn.client.addr == "[2001:db8::7]:50123"


def test_unix_socket_clients_are_local():
    cfg = Config()
    cfg.set("unixsocket", "/tmp/x.sock", startup=True)
    srv = RedisServer(cfg)
    t = FakeTransport("")
    conn = Connection(srv, "unix")
    conn.connection_made(t)
    assert not t.closed and conn.client.unix_socket and conn.client.addr == "/tmp/x.sock:0"


def test_denied_text_is_redis_servers():
    require_binary(REDIS_SERVER, "redis-server")
    assert DENIED in Path(REDIS_SERVER).read_bytes()
