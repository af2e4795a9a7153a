"""Bad input on the transports, sent alike to redis-server and pyredis: plain text, HTTP and
garbage on the TLS port, a TLS ClientHello on the plain port, mangled handshakes. Each gets
Redis's reaction (an error, a closed connection, or silence while Redis waits for more), and
neither server crashes nor disturbs the client already connected."""

from __future__ import annotations

import random
import socket
import ssl

import pytest

from tls_env import TLSRawClient, both_servers, free_ports, warning_lines


def _hello(seed: int) -> bytes:
    """A real TLS ClientHello as a client sends it first."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=f"host{seed}.localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def _exchange(port: int, data: bytes, wait: float = 0.3) -> str:
    """What the server does with `data`: the bytes it answers, and whether it hung up."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(wait)
    got = b""
    end = "open"
    try:
        s.sendall(data)
        while True:
            d = s.recv(65536)
            if not d:
                end = "closed"
                break
            got += d
    except (TimeoutError, socket.timeout):
        pass
    except (ConnectionResetError, BrokenPipeError):
        end = "closed"  # Redis closes with unread input: a reset, where pyredis may send FIN
    finally:
        s.close()
    return f"{got!r} {end}"


@pytest.fixture
def pair(tmp_path, certs):
    plain = dict(zip(("redis", "pyredis"), free_ports(2)))
    tls = dict(zip(("redis", "pyredis"), free_ports(2)))
    args = ["--port", lambda w: str(plain[w]), "--tls-port", lambda w: str(tls[w]), *certs.server_args("no"),
            "--loglevel", "notice"]
    with both_servers(tmp_path, args, [("tcp", lambda w: plain[w]), ("tls", lambda w: tls[w])]) as procs:
        yield procs, plain, tls


def _same(plain_or_tls: dict, data: bytes) -> str:
    a, b = _exchange(plain_or_tls["pyredis"], data), _exchange(plain_or_tls["redis"], data)
    assert a == b, (data[:40], a, b)
    return a


def test_plain_text_http_and_garbage_on_the_tls_port(pair, certs):
    procs, plain, tls = pair
    rnd = random.Random(11)
    keep = {w: TLSRawClient(tls[w], certs.context()) for w in ("redis", "pyredis")}
    for w, c in keep.items():
        assert c.call("SET", "survivor", w) == b"OK"
    for data in [b"PING\r\n", b"*1\r\n$4\r\nPING\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                 bytes(rnd.getrandbits(8) for _ in range(300)), b"\x00" * 64]:
        assert _same(tls, data) == "b'' closed"
    # a handshake record too short for its header: Redis's OpenSSL sends an alert record first;
    # pyredis (Python's ssl on the event loop) closes without it
    for w in ("redis", "pyredis"):
        assert _exchange(tls[w], b"\x16\x03\x01\x00\x05hello").endswith(" closed")
    for w, c in keep.items():
        assert c.call("GET", "survivor") == w.encode()
        c.close()
    # "Error accepting a client connection: wrong version number (conn: fd=N)", as Redis logs them
    ours, theirs = ([ln.split(" (conn:")[0] for ln in warning_lines(procs[w].log_text()) if ln.startswith("Error acc")]
                    for w in ("pyredis", "redis"))
    assert ours == theirs and "Error accepting a client connection: http request" in ours, (ours, theirs)
    for p in procs.values():
        assert p.alive()


def test_tls_client_hello_on_the_plain_port(pair):
    procs, plain, tls = pair
    rnd = random.Random(5)
    for seed in range(6):
        _same(plain, _hello(seed))
    # hellos cut short and mixed with newlines: inline parsing of binary on both
    for _ in range(8):
        h = bytearray(_hello(rnd.randrange(1000)))
        for _ in range(rnd.randrange(1, 4)):
            h[rnd.randrange(len(h))] = 10
        _same(plain, bytes(h[: rnd.randrange(8, len(h))]))
    for p in procs.values():
        assert p.alive()


def test_mangled_handshakes_on_the_tls_port(pair, certs):
    procs, plain, tls = pair
    rnd = random.Random(7)
    for _ in range(15):
        h = bytearray(_hello(rnd.randrange(1000)))
        for _ in range(rnd.randrange(1, 6)):
            h[rnd.randrange(len(h))] = rnd.getrandbits(8)
        if rnd.random() < 0.3:
            h = h[: rnd.randrange(1, len(h))]
        for w in ("redis", "pyredis"):
            _exchange(tls[w], bytes(h), wait=0.2)  # each closes or waits, as OpenSSL decides
    for w in ("redis", "pyredis"):
        c = TLSRawClient(tls[w], certs.context())
        assert c.call("PING") == b"PONG"
        c.close()
        assert procs[w].alive()
