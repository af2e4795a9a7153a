"""Blocking list operations with several real connections: every scenario runs against
pyredis and against redis-server 7.0 (RESP2 and RESP3) and the observed replies must be
identical; each scenario also asserts the expected outcome so it cannot pass vacuously."""

from __future__ import annotations

import re
import time

import pytest

from blocking_env import Env
from effects import Effects
from resp import encode_command as _encode


def test_fifo_order_per_key(both):
    def sc(env):
        c1, c2, c3, p = env.client(), env.client(), env.client(), env.client()
        env.block(c1, "BLPOP", "q", "0")
        env.block(c2, "BRPOP", "q", "0")
        env.block(c3, "BLPOP", "q", "0")
        out = [p.call("RPUSH", "q", "a", "b"), c1.read(), c2.read()]
        out.append(env.nothing_pending(c3))
        out += [p.call("LPUSH", "q", "c"), c3.read(), p.call("EXISTS", "q")]
        return out

    out = both(sc)
    assert out[1] == [b"q", b"a"] and out[2] == [b"q", b"b"] and out[3] is True
    assert out[5] == [b"q", b"c"] and out[6] == 0


def test_several_keys_first_ready_wins(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        env.block(c1, "BLPOP", "a", "b", "c", "0")
        env.block(c2, "BRPOP", "c", "b", "0")
        out = [p.call("RPUSH", "b", "x", "y", "z"), c1.read(), c2.read(), p.call("LRANGE", "b", "0", "-1")]
        out += [p.call("RPUSH", "c", "1"), p.call("LRANGE", "c", "0", "-1")]
        return out

    out = both(sc)
    assert out[1] == [b"b", b"x"] and out[2] == [b"b", b"z"] and out[3] == [b"y"]


def test_timeout_replies(both):
    def sc(env):
        c = env.client()
        out = []
        for cmd in (["BLPOP", "q", "0.1"], ["BRPOP", "q", "r", "0.05"], ["BLMOVE", "q", "r", "LEFT", "RIGHT", "0.05"],
                    ["BRPOPLPUSH", "q", "r", "0.05"], ["BLMPOP", "0.05", "2", "q", "r", "LEFT", "COUNT", "3"]):
            t0 = time.monotonic()
            out.append(c.call(*cmd))
            took = time.monotonic() - t0
            out.append(took >= float(cmd[-1] if cmd[0] != "BLMPOP" else cmd[1]) * 0.9 and took < 2)
        return out

    out = both(sc)
    assert all(x is True for x in out[1::2])


def test_wakeup_after_exec_only(both):
    def sc(env):
        c1, p = env.client(), env.client()
        env.block(c1, "BLPOP", "q", "0")
        out = [p.call("MULTI"), p.call("RPUSH", "q", "x"), p.call("LPUSH", "q", "y")]
        out.append(env.nothing_pending(c1))
        out += [p.call("EXEC"), c1.read(), p.call("LRANGE", "q", "0", "-1")]
        # pushed then popped inside one transaction: nothing left to serve, still blocked
        out.append(p.call("DEL", "q"))
        env.block(c1, "BLPOP", "q", "0")
        out += [p.call("MULTI"), p.call("RPUSH", "q", "z"), p.call("DEL", "q"), p.call("EXEC")]
        out.append(env.nothing_pending(c1, 0.1))
        out += [p.call("RPUSH", "q", "w"), c1.read()]
        return out

    out = both(sc)
    assert out[3] is True and out[5] == [b"q", b"y"] and out[6] == [b"x"]
    assert out[12] is True and out[14] == [b"q", b"w"]


def test_disconnected_waiter_is_forgotten(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        env.block(c1, "BLPOP", "q", "0")
        env.block(c2, "BLPOP", "q", "0")
        c1.close()
        env.wait_blocked(1)
        return [p.call("RPUSH", "q", "a"), c2.read(), p.call("LLEN", "q")]

    out = both(sc)
    assert out == [1, [b"q", b"a"], 0]


def test_client_unblock(both):
    def sc(env):
        c1, p = env.client(), env.client()
        cid = c1.call("CLIENT", "ID")
        out = [p.call("CLIENT", "UNBLOCK", cid)]
        env.block(c1, "BLPOP", "q", "0")
        out += [p.call("CLIENT", "UNBLOCK", cid), c1.read()]
        env.block(c1, "BLMOVE", "q", "r", "LEFT", "LEFT", "0")
        out += [p.call("CLIENT", "UNBLOCK", cid, "TIMEOUT"), c1.read()]
        env.block(c1, "BLMPOP", "0", "1", "q", "LEFT")
        out += [p.call("CLIENT", "UNBLOCK", cid, "error"), c1.read(), c1.call("PING")]
        out += [p.call("CLIENT", "UNBLOCK", cid, "FOO"), p.call("CLIENT", "UNBLOCK", "x"),
                p.call("CLIENT", "UNBLOCK", "x", "FOO"), p.call("CLIENT", "UNBLOCK", cid, "TIMEOUT", "x")]
        return out

    out = both(sc)
    assert out[0] == 0 and out[1] == 1 and out[5] == 1
    assert out[6] == b"UNBLOCKED client unblocked via CLIENT UNBLOCK"


def test_blmove_chain(both):
    def sc(env):
        c1, c2, c3, p = env.client(), env.client(), env.client(), env.client()
        env.block(c1, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0")
        env.block(c2, "BRPOPLPUSH", "b", "c", "0")
        env.block(c3, "BLPOP", "c", "0")
        out = [p.call("LPUSH", "a", "x"), c1.read(), c2.read(), c3.read(), p.call("EXISTS", "a", "b", "c")]
        # a chain that loops back to a waiter's own source
        env.block(c1, "BLMOVE", "a", "a", "LEFT", "RIGHT", "0")
        out += [p.call("RPUSH", "a", "1"), c1.read(), p.call("LRANGE", "a", "0", "-1")]
        return out

    out = both(sc)
    assert out[1] == b"x" and out[2] == b"x" and out[3] == [b"c", b"x"] and out[4] == 0


def test_blmove_wrongtype_destination_unblocks_with_error(both):
    def sc(env):
        c1, p = env.client(), env.client()
        p.call("SET", "s", "str")
        env.block(c1, "BLMOVE", "a", "s", "LEFT", "LEFT", "0")
        return [p.call("RPUSH", "a", "x"), c1.read(), p.call("LRANGE", "a", "0", "-1")]

    out = both(sc)
    assert out[1].startswith(b"WRONGTYPE") and out[2] == [b"x"]


def test_pipelined_commands_wait_for_the_blocked_one(both):
    def sc(env):
        c1, p = env.client(), env.client()
        before = env.blocked()
        c1.send(_encode(["BLPOP", "q", "0"]) + _encode(["PING"]) + _encode(["LLEN", "q"]) + _encode(["RPUSH", "q", "n"]))
        env.wait_blocked(before + 1)
        out = [env.nothing_pending(c1)]
        out += [p.call("RPUSH", "q", "a", "b"), c1.read(), c1.read(), c1.read(), c1.read()]
        return out

    out = both(sc)
    assert out == [True, 2, [b"q", b"a"], b"PONG", 1, 2]


def test_blmpop_served_with_count(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        env.block(c1, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2")
        env.block(c2, "BLMPOP", "0", "1", "b", "LEFT", "COUNT", "5")
        return [p.call("RPUSH", "b", "1", "2", "3"), c1.read(), c2.read(), p.call("EXISTS", "b")]

    out = both(sc)
    assert out[1] == [b"b", [b"3", b"2"]] and out[2] == [b"b", [b"1"]] and out[3] == 0


def test_other_type_does_not_serve(both):
    """Redis 7.0: a list waiter stays blocked when the key becomes another type."""
    def sc(env):
        c1, p = env.client(), env.client()
        env.block(c1, "BLPOP", "k", "0")
        out = [p.call("SET", "k", "str"), p.call("SADD", "k2", "m")]
        out.append(env.nothing_pending(c1, 0.1))
        out += [p.call("DEL", "k"), p.call("RPUSH", "k", "v"), c1.read()]
        return out

    out = both(sc)
    assert out[2] is True and out[5] == [b"k", b"v"]


def test_rename_and_swapdb_wake_waiters(both):
    def sc(env):
        c1, p = env.client(), env.client()
        env.block(c1, "BLPOP", "q", "0")
        out = [p.call("RPUSH", "tmp", "r"), p.call("RENAME", "tmp", "q"), c1.read()]
        env.block(c1, "BLPOP", "q", "0")
        out += [p.call("SELECT", "1"), p.call("RPUSH", "q", "in-db1")]
        out.append(env.nothing_pending(c1))
        out += [p.call("SWAPDB", "0", "1"), c1.read()]
        return out

    out = both(sc)
    assert out[2] == [b"q", b"r"] and out[5] is True and out[7] == [b"q", b"in-db1"]


def test_waiters_in_other_db_not_served(both):
    def sc(env):
        c1, p = env.client(), env.client()
        c1.call("SELECT", "2")
        env.block(c1, "BLPOP", "q", "0")
        out = [p.call("RPUSH", "q", "db0")]
        out.append(env.nothing_pending(c1))
        out += [p.call("SELECT", "2"), p.call("RPUSH", "q", "db2"), c1.read()]
        return out

    out = both(sc)
    assert out[1] is True and out[4] == [b"q", b"db2"]


def test_forever_timeouts(both):
    """0, -0 and negative sub-millisecond timeouts (rounded up to 0 ms) block until unblocked;
    a positive sub-millisecond one waits 1 ms."""
    def sc(env):
        c1, p = env.client(), env.client()
        cid = c1.call("CLIENT", "ID")
        out = []
        for t in ("0", "-0", "-0.0009", "-0.0001"):
            env.block(c1, "BLPOP", "q", t)
            out.append(env.nothing_pending(c1, 0.05))
            out += [p.call("CLIENT", "UNBLOCK", cid), c1.read()]
        c1.send(_encode(["BLPOP", "q", "0.0001"]))
        out.append(c1.read())
        return out

    out = both(sc)
    assert out[0:12:3] == [True] * 4


def test_served_pop_is_propagated_as_non_blocking(pyredis_srv):
    state = pyredis_srv.state
    got = sink = Effects(argv_only=True)
    env = Env(pyredis_srv.port, 2)
    try:
        env.admin.call("FLUSHALL")
        state.propagation.add_sink(sink)
        c1, c2, c3, p = env.client(), env.client(), env.client(), env.client()
        env.block(c1, "BLPOP", "q", "0")
        env.block(c2, "BLMOVE", "q", "d", "RIGHT", "LEFT", "0")
        env.block(c3, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "9")
        p.call("RPUSH", "q", "a", "b", "c", "d")
        assert [c1.read(), c2.read(), c3.read()] == [[b"q", b"a"], b"d", [b"q", [b"b", b"c"]]]
        env.block(c1, "BRPOPLPUSH", "q", "d", "0")
        p.call("LPUSH", "q", "z")
        assert c1.read() == b"z"
    finally:
        state.propagation.remove_sink(sink)
        env.close()
    assert got == [
        [b"RPUSH", b"q", b"a", b"b", b"c", b"d"],
        [b"LPOP", b"q"],
        [b"LMOVE", b"q", b"d", b"RIGHT", b"LEFT"],
        [b"LPOP", b"q", b"2"],
        [b"LPUSH", b"q", b"z"],
        [b"RPOPLPUSH", b"q", b"d"],
    ]


def test_many_waiters_stress(pyredis_srv):
    """50 clients blocked on 5 keys; 50 pushes serve each exactly once, in FIFO order per key."""
    env = Env(pyredis_srv.port, 2)
    try:
        env.admin.call("FLUSHALL")
        waiters = []
        for i in range(50):
            c = env.client()
            env.block(c, "BLPOP", f"k{i % 5}", "0")
            waiters.append(c)
        p = env.client()
        for i in range(50):
            p.call("RPUSH", f"k{i % 5}", str(i))
        got = [c.read() for c in waiters]
        assert got == [[f"k{i % 5}".encode(), str(i).encode()] for i in range(50)]
        assert env.blocked() == 0
        assert pyredis_srv.state.blocking.count == 0
        assert pyredis_srv.state.blocking.keys_count() == 0
    finally:
        env.close()


def test_client_reply_skip_applies_to_served_reply(both):
    def sc(env):
        c1, p = env.client(), env.client()
        before = env.blocked()
        c1.send(_encode(["CLIENT", "REPLY", "SKIP"]) + _encode(["BLPOP", "q", "0"]))
        env.wait_blocked(before + 1)
        out = [p.call("RPUSH", "q", "a", "b"), c1.call("PING"), p.call("LRANGE", "q", "0", "-1")]
        return out

    out = both(sc)
    assert out == [2, b"PONG", [b"b"]]


def test_move_and_copy_wake_waiters(both):
    def sc(env):
        c1, p = env.client(), env.client()
        c1.call("SELECT", "3")
        env.block(c1, "BRPOP", "src", "0")
        out = [p.call("RPUSH", "src", "m1", "m2"), p.call("MOVE", "src", "3"), c1.read()]
        env.block(c1, "BLPOP", "q2", "0")
        out += [p.call("RPUSH", "src2", "c1"), p.call("COPY", "src2", "q2", "DB", "3"), c1.read()]
        p.call("SELECT", "3")
        out += [p.call("LRANGE", "src", "0", "-1"), p.call("EXISTS", "q2")]
        return out

    out = both(sc)
    assert out[2] == [b"src", b"m2"] and out[5] == [b"q2", b"c1"] and out[6:] == [[b"m1"], 0]


def test_killed_waiter_is_forgotten(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        cid = c1.call("CLIENT", "ID")
        env.block(c1, "BLMOVE", "q", "d", "LEFT", "LEFT", "0")
        env.block(c2, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "2")
        out = [p.call("CLIENT", "KILL", "ID", cid)]
        env.wait_blocked(1)
        out += [p.call("RPUSH", "q", "a", "b", "c"), c2.read(), p.call("LRANGE", "q", "0", "-1"), p.call("EXISTS", "d")]
        return out

    out = both(sc)
    assert out == [1, 3, [b"q", [b"a", b"b"]], [b"c"], 0]


@pytest.mark.parametrize("first", ["a", "b"])
def test_ready_keys_served_in_signal_order(both, first):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        env.block(c1, "BLPOP", "a", "b", "0")
        env.block(c2, "BLPOP", "b", "0")
        second = "b" if first == "a" else "a"
        out = [p.call("MULTI"), p.call("RPUSH", first, "1"), p.call("RPUSH", second, "2"), p.call("EXEC"), c1.read()]
        if first == "a":
            out.append(c2.read())
        else:
            out.append(env.nothing_pending(c2))
            out.append(p.call("LRANGE", "a", "0", "-1"))
        return out

    out = both(sc)
    assert out[4] == [first.encode(), b"1"]


def test_unblock_error_counts_in_errorstats(both):
    def sc(env):
        c1, p = env.client(), env.client()
        p.call("CONFIG", "RESETSTAT")
        cid = c1.call("CLIENT", "ID")
        env.block(c1, "BLPOP", "q", "0")
        out = [p.call("CLIENT", "UNBLOCK", cid, "ERROR"), c1.read()]
        p.call("SET", "s", "x")
        env.block(c1, "BLMOVE", "q", "s", "LEFT", "LEFT", "0")
        out += [p.call("RPUSH", "q", "v"), c1.read()]
        info = bytes(p.call("INFO", "errorstats")).decode()
        out.append(sorted(line for line in info.splitlines() if line.startswith("errorstat_")))
        env.block(c1, "BLPOP", "q2", "0")
        out += [p.call("CLIENT", "UNBLOCK", cid, "TIMEOUT"), c1.read(), c1.call("BLPOP", "q2", "0.01")]
        stats = bytes(p.call("INFO", "commandstats")).decode()
        out.append(sorted(re.sub(r"usec(_per_call)?=[0-9.]+,", "", line) for line in stats.splitlines()
                          if line.startswith(("cmdstat_blpop", "cmdstat_blmove"))))
        return out

    out = both(sc)
    assert out[4] == ["errorstat_UNBLOCKED:count=1", "errorstat_WRONGTYPE:count=1"]
    # any CLIENT UNBLOCK and an error while serving count as failed calls; a timeout does not
    assert out[-1] == ["cmdstat_blmove:calls=1,rejected_calls=0,failed_calls=1",
                       "cmdstat_blpop:calls=3,rejected_calls=0,failed_calls=2"]
