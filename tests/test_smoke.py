"""The server answers over a real socket: PING, SET/GET, inline commands, pipelining."""

from resp import RawClient


def test_ping_set_get(r):
    assert r.ping() is True
    assert r.set("a", "1") is True
    assert r.get("a") == b"1"


def test_inline_and_pipeline(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    c.send(b"PING\r\n" + b"*1\r\n$4\r\nPING\r\n" * 1000)
    for _ in range(1001):
        assert c.read() == b"PONG"
    c.close()
