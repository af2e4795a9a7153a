"""XREAD BLOCK / XREADGROUP BLOCK with several real connections: every scenario runs against
pyredis and against redis-server 7.0 (RESP2 and RESP3) and the observations must be identical;
each scenario also asserts its expected outcome so it cannot pass vacuously."""

from __future__ import annotations

import time

from blocking_env import Env
from resp import RawClient


def test_xread_dollar_wakes_every_reader(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        p.call("XADD", "s", "1-0", "f", "old")
        env.block(c1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        env.block(c2, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "nokey", "s", "$", "$")
        out = [p.call("XADD", "s", "2-0", "f", "new"), c1.read(), c2.read(), env.blocked()]
        return out

    out = both(sc)
    assert out[3] == 0 and b"new" in repr(out[1]).encode()


def test_xread_multi_batch_and_count(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        env.block(c1, "XREAD", "BLOCK", "0", "STREAMS", "s", "0")
        env.block(c2, "XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "s", "$")
        out = [p.call("MULTI"), p.call("XADD", "s", "1-0", "a", "1"), p.call("XADD", "s", "2-0", "a", "2"),
               p.call("XADD", "s", "3-0", "a", "3"), env.nothing_pending(c1), p.call("EXEC"), c1.read(), c2.read()]
        return out

    out = both(sc)
    assert out[4] is True


def test_xread_timeout_and_wrong_type(both):
    def sc(env):
        c, p = env.client(), env.client()
        t0 = time.monotonic()
        out = [c.call("XREAD", "BLOCK", "100", "STREAMS", "s", "$")]
        took = time.monotonic() - t0
        out.append(0.09 <= took < 2)
        env.block(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "0")
        out += [p.call("SET", "s", "x"), env.nothing_pending(c), p.call("DEL", "s"),
                p.call("LPUSH", "s", "x"), env.nothing_pending(c), p.call("DEL", "s"),
                p.call("XADD", "s", "5-0", "f", "v"), c.read()]
        return out

    out = both(sc)
    assert out[1] is True and out[3] is True and out[6] is True


def test_xreadgroup_consumers_served_in_order(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        p.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        env.block(c1, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
        env.block(c2, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "5", "BLOCK", "0", "STREAMS", "s", ">")
        out = [p.call("XADD", "s", "1-0", "f", "1"), c1.read(), env.nothing_pending(c2),
               p.call("XADD", "s", "2-0", "f", "2"), c2.read(), p.call("XPENDING", "s", "g"),
               p.call("XINFO", "GROUPS", "s")]
        return out

    out = both(sc)
    assert out[2] is True and out[5][0] == 2


def test_xreadgroup_noack_and_history_do_not_block(both):
    def sc(env):
        c1, p = env.client(), env.client()
        p.call("XADD", "s", "1-0", "f", "1")
        p.call("XGROUP", "CREATE", "s", "g", "$")
        out = [c1.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0")]
        env.block(c1, "XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
        out += [p.call("XADD", "s", "2-0", "f", "2"), c1.read(), p.call("XPENDING", "s", "g"),
                p.call("XINFO", "GROUPS", "s")]
        return out

    out = both(sc)
    assert out[3][0] == 0


def test_group_destroyed_or_key_deleted(both):
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        p.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        env.block(c1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        env.block(c2, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        out = [p.call("XGROUP", "DESTROY", "s", "g"), c1.read(), env.nothing_pending(c2)]
        p.call("XGROUP", "CREATE", "s", "g", "$")
        env.block(c1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        # DEL does not wake anybody in 7.0; the next XADD (new stream, no group) does
        out += [p.call("DEL", "s"), env.nothing_pending(c1), env.nothing_pending(c2),
                p.call("XADD", "s", "1-0", "f", "v"), c1.read(), c2.read()]
        return out

    out = both(sc)
    assert out[0] == 1 and out[2] is True and out[4] is False and out[5] is True
    assert out[7] == b"UNBLOCKED the stream key no longer exists"


def test_blocked_group_reader_and_setid(both):
    def sc(env):
        c1, p = env.client(), env.client()
        for i in range(1, 4):
            p.call("XADD", "s", f"{i}-0", "f", str(i))
        p.call("XGROUP", "CREATE", "s", "g", "$")
        env.block(c1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        # moving the group back is noticed when the key is next written
        out = [p.call("XGROUP", "SETID", "s", "g", "1-0"), env.nothing_pending(c1),
               p.call("XADD", "s", "4-0", "f", "4"), c1.read(), p.call("XPENDING", "s", "g")]
        return out

    out = both(sc)
    assert out[1] is True and out[4][0] == 3


def test_unblock_and_timeout_in_group(both):
    def sc(env):
        c1, p = env.client(), env.client()
        p.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        out = [c1.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "s", ">")]
        cid = c1.call("CLIENT", "ID")
        env.block(c1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        out += [p.call("CLIENT", "UNBLOCK", cid, "ERROR"), c1.read()]
        env.block(c1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        out += [p.call("CLIENT", "UNBLOCK", cid), c1.read()]
        out.append(p.call("XINFO", "CONSUMERS", "s", "g"))
        return out

    out = both(sc)
    assert out[1] == 1 and out[3] == 1


def test_group_reader_unblocked_when_stream_goes(both):
    """7.0.15 unblocks XREADGROUP (not XREAD) when its stream is overwritten, renamed away,
    flushed or expires."""
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        out = []
        for gone in (["SET", "s", "x"], ["RENAME", "s", "t"], ["FLUSHALL"], ["PEXPIRE", "s", "1"],
                     ["UNLINK", "s"]):
            p.call("DEL", "s", "t")
            p.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
            env.block(c1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
            env.block(c2, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
            out.append(p.call(*gone))
            if gone[0] == "PEXPIRE":
                time.sleep(0.02)
                out.append(p.call("EXISTS", "s"))
            out += [c1.read(), env.nothing_pending(c2)]
            p.call("DEL", "s", "t")
            p.call("XADD", "s", "1-0", "f", "v")
            out.append(c2.read())
        return out

    out = both(sc)
    assert out.count(b"UNBLOCKED the stream key no longer exists") == 5


def test_served_group_reader_is_propagated(tmp_path):
    """A blocked XREADGROUP served by XADD reaches the AOF as XCLAIM: after a restart the
    pending list is the same."""
    import pyredis

    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes", appendfsync="always") as srv:
        env = Env(srv.port, 2)
        try:
            c1, c2, p = env.client(), env.client(), env.client()
            p.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
            env.block(c1, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
            env.block(c2, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
            p.call("XADD", "s", "1-0", "f", "1")
            assert c1.read() == [[b"s", [[b"1-0", [b"f", b"1"]]]]]
            p.call("XADD", "s", "2-0", "f", "2")
            assert c2.read() == [[b"s", [[b"2-0", [b"f", b"2"]]]]]
            before = [p.call("XPENDING", "s", "g"), p.call("XINFO", "GROUPS", "s")[0][:8]]
        finally:
            env.close()
    with pyredis.Server(port=0, dir=str(tmp_path), appendonly="yes") as srv:
        c = RawClient("127.0.0.1", srv.port)
        after = [c.call("XPENDING", "s", "g"), c.call("XINFO", "GROUPS", "s")[0][:8]]
        c.close()
    assert before == after
    assert before[0][:3] == [1, b"1-0", b"1-0"] and before[1][7] == b"2-0"


def test_active_expiry_unblocks_group_reader(both):
    """No command needed after the expiry: the expire cycle's deletion reaches the reader."""
    def sc(env):
        c1, p = env.client(), env.client()
        p.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        env.block(c1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        out = [p.call("PEXPIRE", "s", "50")]
        c1.sock.settimeout(3)
        out.append(c1.read())  # nothing else is sent: the active expire cycle must do it
        c1.sock.settimeout(10)
        return out

    out = both(sc)
    assert out == [1, b"UNBLOCKED the stream key no longer exists"]


def test_woken_with_nothing_left(both):
    """XSETID wakes nobody; an XADD whose entry is gone again still serves empty replies."""
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        p.call("XADD", "s", "1-0", "f", "v")
        env.block(c1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        out = [p.call("XSETID", "s", "5-0"), env.nothing_pending(c1)]
        p.call("XGROUP", "CREATE", "s", "g", "$")
        env.block(c2, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        out += [p.call("MULTI"), p.call("XADD", "s", "6-0", "f", "v"), p.call("XDEL", "s", "6-0"), p.call("EXEC"),
                c1.read(), c2.read(), p.call("XINFO", "GROUPS", "s")]
        return out

    out = both(sc)
    assert out[1] is True


def test_watch_sees_only_what_redis_signals(both):
    """Which stream commands invalidate WATCH (signalModifiedKey) in 7.0."""
    def sc(env):
        c = env.client()
        c.call("XADD", "s", "1-0", "f", "v")
        out = []
        for cmd in (["XSETID", "s", "3-0"], ["XGROUP", "CREATE", "s", "g", "$"], ["XGROUP", "SETID", "s", "g", "0"],
                    ["XGROUP", "CREATECONSUMER", "s", "g", "c"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
                    ["XACK", "s", "g", "1-0"], ["XCLAIM", "s", "g", "c", "0", "1-0", "FORCE"],
                    ["XAUTOCLAIM", "s", "g", "d", "0", "0"], ["XGROUP", "DELCONSUMER", "s", "g", "c"],
                    ["XGROUP", "DESTROY", "s", "g"], ["XDEL", "s", "9-0"], ["XDEL", "s", "1-0"],
                    ["XTRIM", "s", "MAXLEN", "5"], ["XADD", "s", "4-0", "f", "v"], ["XTRIM", "s", "MAXLEN", "0"],
                    ["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"]):
            out += [c.call("WATCH", cmd[2] if cmd[0] == "XGROUP" else cmd[1]), c.call(*cmd), c.call("MULTI"),
                    c.call("PING"), c.call("EXEC")]
        return out

    both(sc)
