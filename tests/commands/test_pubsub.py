"""Pub/Sub against pyredis and redis-server: confirmations, message order, RESP2 subscriber
mode, RESP3 pushes interleaved with replies, PUBSUB introspection, redis-py's PubSub API."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from resp import RawClient
from oracles import ALL_MODES

# 7.2's pushes to the publishing client after its reply, Valkey 8's NOSUB: each mode against its server
pytestmark = pytest.mark.modes(*ALL_MODES)


def pair(pyredis_srv, real_redis, resp=2):
    a = RawClient("127.0.0.1", pyredis_srv.port)
    b = RawClient("127.0.0.1", real_redis.port)
    if resp == 3:
        assert a.call("HELLO", "3") is not None
        b.call("HELLO", "3")
    return a, b


def script(client: RawClient, commands, replies_per_command):
    """Send commands one by one, read the given number of replies for each."""
    out = []
    for cmd, n in zip(commands, replies_per_command):
        client.send(_enc(cmd))
        out.append([client.read() for _ in range(n)])
    return out


def _enc(cmd):
    from resp import encode_command

    return encode_command(cmd)


@pytest.mark.parametrize("resp", [2, 3])
def test_subscribe_flow_matches_redis(pyredis_srv, real_redis, resp):
    results = []
    for port in (pyredis_srv.port, real_redis.port):
        sub = RawClient("127.0.0.1", port)
        pub = RawClient("127.0.0.1", port)
        if resp == 3:
            sub.call("HELLO", "3")
        cmds = [
            ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",), ("SUBSCRIBE", "a", "b", "a"), ("PSUBSCRIBE", "n*"),
            ("PING",), ("PING", "hi"),
        ]
        counts = [1, 1, 3, 1, 1, 1]
        got = script(sub, cmds, counts)
        assert pub.call("PUBLISH", "a", "m1") == 1
        assert pub.call("PUBLISH", "news", "m2") == 1
        assert pub.call("PUBLISH", "zzz", "m3") == 0
        got.append([sub.read(), sub.read()])
        got.append(pub.call("PUBSUB", "NUMSUB", "a", "b", "c"))
        got.append(sorted(pub.call("PUBSUB", "CHANNELS")))
        got.append(pub.call("PUBSUB", "CHANNELS", "a*"))
        got.append(pub.call("PUBSUB", "NUMPAT"))
        # UNSUBSCRIBE with no channels walks the client's channel table in hash order, which
        # Redis randomises per process (and Python too): compare channels as a set and the
        # remaining-subscription counts in sequence.
        unsub = script(sub, [("UNSUBSCRIBE",)], [2])[0]
        got.append((sorted(m[1] for m in unsub), [m[0] for m in unsub], [m[2] for m in unsub]))
        got += script(sub, [("PUNSUBSCRIBE", "n*", "x*")], [2])
        if resp == 2:
            got.append(sub.call("GET", "x"))  # back to normal mode: allowed again
        results.append(got)
        sub.close()
        pub.close()
    assert results[0] == results[1]


def test_resp2_subscriber_mode_rejects_commands(pyredis_srv, real_redis):
    replies = []
    for port in (pyredis_srv.port, real_redis.port):
        c = RawClient("127.0.0.1", port)
        c.call("SUBSCRIBE", "ch")
        replies.append((c.call("GET", "x"), c.call("SET", "a", "b"), c.call("QUIT")))
        c.close()
    assert replies[0] == replies[1]


def test_resp3_publish_to_self_orders_push_before_reply(pyredis_srv, real_redis):
    seqs = []
    for port in (pyredis_srv.port, real_redis.port):
        c = RawClient("127.0.0.1", port)
        c.call("HELLO", "3")
        c.call("SUBSCRIBE", "me")
        c.call("PSUBSCRIBE", "m*")
        c.send(_enc(("PUBLISH", "me", "hello")) + _enc(("ECHO", "after")))
        seqs.append([c.read() for _ in range(4)])
        c.close()
    assert seqs[0] == seqs[1]


def test_sharded_pubsub(pyredis_srv, real_redis):
    results = []
    for port in (pyredis_srv.port, real_redis.port):
        s = RawClient("127.0.0.1", port)
        p = RawClient("127.0.0.1", port)
        got = [s.call("SSUBSCRIBE", "s1")]
        got.append(p.call("SPUBLISH", "s1", "m"))
        got.append(s.read())
        got.append(p.call("PUBSUB", "SHARDCHANNELS"))
        got.append(p.call("PUBSUB", "SHARDNUMSUB", "s1", "s2"))
        s.send(_enc(("SUNSUBSCRIBE",)))
        got.append(s.read())
        got.append(s.call("SUNSUBSCRIBE"))
        results.append(got)
        s.close()
        p.close()
    assert results[0] == results[1]


def test_disconnect_forgets_subscriptions(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    c.call("SUBSCRIBE", "gone")
    c.close()
    r = redis.Redis(port=pyredis_srv.port)
    for _ in range(50):
        if r.pubsub_numsub("gone") == [(b"gone", 0)]:
            break
        time.sleep(0.02)
    assert r.pubsub_numsub("gone") == [(b"gone", 0)]
    assert r.publish("gone", "x") == 0


def test_redis_py_pubsub_listen_and_run_in_thread(pyredis_srv):
    r = redis.Redis(port=pyredis_srv.port)
    p = r.pubsub()
    p.subscribe("events")
    assert p.get_message(timeout=1)["type"] == "subscribe"
    r.publish("events", "one")
    msg = p.get_message(timeout=1)
    assert msg["type"] == "message" and msg["data"] == b"one"

    received = []
    done = threading.Event()

    def handler(m):
        received.append(m["data"])
        done.set()

    p2 = r.pubsub()
    p2.psubscribe(**{"ev*": handler})
    t = p2.run_in_thread(sleep_time=0.01)
    try:
        for _ in range(100):
            if r.publish("events", "two") >= 2:
                break
            time.sleep(0.02)
        assert done.wait(2)
        assert b"two" in received
    finally:
        t.stop()
        t.join(2)
        p.close()
        p2.close()


def test_async_pubsub(pyredis_srv):
    import asyncio

    import redis.asyncio as aredis

    async def main():
        r = aredis.Redis(port=pyredis_srv.port)
        p = r.pubsub()
        await p.subscribe("async-ch")
        assert (await p.get_message(timeout=1))["type"] == "subscribe"
        await r.publish("async-ch", "hello")
        m = await p.get_message(timeout=1)
        await p.aclose()
        await r.aclose()
        return m

    m = asyncio.run(main())
    assert m["data"] == b"hello"


def test_slow_subscriber_is_disconnected(pyredis_srv):
    r = redis.Redis(port=pyredis_srv.port)
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    r.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 60")
    try:
        sub = RawClient("127.0.0.1", pyredis_srv.port)
        sub.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
        sub.call("SUBSCRIBE", "flood")
        payload = "x" * 10000
        for _ in range(2000):  # 20 MB, never read by the subscriber
            if r.publish("flood", payload) == 0:
                break
        assert r.pubsub_numsub("flood") == [(b"flood", 0)]
        assert r.ping()
        sub.close()
    finally:
        r.config_set("client-output-buffer-limit", old)


@pytest.mark.parametrize("resp", [2, 3])
def test_client_reply_off_still_delivers_pubsub_pushes(pyredis_srv, real_redis, resp):
    """Subscribe confirmations and messages are pushes (Redis's CLIENT_PUSHING): CLIENT REPLY
    OFF / SKIP silence replies, not them -- a client waiting for its confirmation would hang."""
    seqs = []
    for port in (pyredis_srv.port, real_redis.port):
        c = RawClient("127.0.0.1", port)
        p = RawClient("127.0.0.1", port)
        if resp == 3:
            c.call("HELLO", "3")
        c.send(_enc(("CLIENT", "REPLY", "OFF")) + _enc(("SUBSCRIBE", "a", "b")) + _enc(("PSUBSCRIBE", "x*")))
        got = [c.read(), c.read(), c.read()]
        p.call("PUBLISH", "a", "m1")
        p.call("PUBLISH", "xy", "m2")
        got += [c.read(), c.read()]
        c.send(_enc(("UNSUBSCRIBE", "a")) + _enc(("PING",)))
        got.append(c.read())  # the unsubscribe confirmation; PING's reply is silenced
        c.send(_enc(("UNSUBSCRIBE",)) + _enc(("PUNSUBSCRIBE",)))
        got += [c.read(), c.read()]  # out of subscriber mode
        c.send(_enc(("CLIENT", "REPLY", "ON")) + _enc(("PING",)))
        got += [c.read(), c.read()]
        c.send(_enc(("CLIENT", "REPLY", "SKIP")) + _enc(("SUBSCRIBE", "c")) + _enc(("PING",)))
        got += [c.read(), c.read()]
        seqs.append(got)
        c.close()
        p.close()
    assert seqs[0] == seqs[1]
