"""WAITAOF (Redis 7.2) and the replication offset it waits on, against each mode's server.

Every mode runs the argument checks (7.0 answers them all with its unknown-command error). The
scenarios with the AOF on wait for its first rewrite to end, then use `appendfsync always`
(the fsync is done before the reply: WAITAOF never blocks) or `no` (nothing is ever fsynced:
WAITAOF 1 blocks until CLIENT UNBLOCK), so what they observe does not depend on timing.
INFO's master_repl_offset is compared as a difference (the session's servers have histories).
"""

from __future__ import annotations

import time

import pytest

from oracles import ALL_MODES, LATER_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)


def test_waitaof_arguments(diff):
    c = diff.check
    c("WAITAOF", "0", "0", "0")
    c("WAITAOF", "1", "0", "0")  # numlocal with appendonly no
    c("WAITAOF", "2", "0", "0")
    c("WAITAOF", "-1", "0", "0")
    c("WAITAOF", "x", "0", "0")
    c("WAITAOF", "0", "-1", "0")
    c("WAITAOF", "0", "y", "0")
    c("WAITAOF", "0", "0", "-1")
    c("WAITAOF", "0", "0", "1.5")
    c("WAITAOF", "0", "0")
    c("WAITAOF", "0", "0", "0", "0")
    c("SET", "k", "v")
    c("WAITAOF", "0", "0", "0")  # a write, but no AOF: nothing fsynced
    # a script or a transaction never blocks: the acknowledgements as they are
    c("MULTI")
    c("WAITAOF", "0", "1", "0")
    c("WAIT", "1", "0")
    c("EXEC")
    c("EVAL", "return redis.call('waitaof', 0, 0, 0)", "0")
    c("EVAL", "return redis.pcall('waitaof', 0, 1, 0)", "0")


def _offset(client) -> int:
    info = bytes(client.call("INFO", "replication")).decode()
    return int(info.split("master_repl_offset:")[1].split("\r\n")[0])


def _aof_ready(env, fsync: str) -> None:
    a = env.admin
    a.call("CONFIG", "SET", "appendfsync", fsync)
    a.call("CONFIG", "SET", "appendonly", "yes")
    deadline = time.time() + 60
    while True:
        info = bytes(a.call("INFO", "persistence")).decode()
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            break
        assert time.time() < deadline, "the AOF rewrite did not end"
        time.sleep(0.02)


def _aof_off(env) -> None:
    env.admin.call("CONFIG", "SET", "appendonly", "no")
    env.admin.call("CONFIG", "SET", "appendfsync", "everysec")


@pytest.mark.modes(*LATER_MODES)
def test_waitaof_fsync_always_and_offsets(both):
    """Each propagated command moves the offset by one (MULTI/EXEC of a transaction or a
    script included); a WAITAOF with the write on disk answers at once."""

    def sc(env):
        c = env.client()
        try:
            _aof_ready(env, "always")
            o0 = _offset(c)
            out = [c.call("SET", "a", "1"), c.call("WAITAOF", "1", "0", "0"), _offset(c) - o0]
            out += [c.call("WAITAOF", "0", "0", "0"), c.call("GET", "a"), c.call("WAITAOF", "1", "0", "0")]
            c.call("MULTI")
            c.call("SET", "b", "1")
            c.call("INCR", "b")
            out += [c.call("EXEC"), _offset(c) - o0, c.call("WAITAOF", "1", "0", "0")]
            out += [c.call("EVAL", "redis.call('set', KEYS[1], 'x'); redis.call('del', KEYS[1]); return 1", "1", "s"),
                    _offset(c) - o0, c.call("WAITAOF", "1", "0", "0")]
            # a write that changes nothing propagates nothing
            out += [c.call("DEL", "nokey"), _offset(c) - o0]
            # another client's writes are not this one's
            other = env.client()
            out += [other.call("WAITAOF", "1", "0", "0"), other.call("SET", "o", "1"), other.call("WAITAOF", "1", "0", "0")]
            return out
        finally:
            _aof_off(env)

    out = both(sc)
    assert out[1] == [1, 0] and out[2] == 1


@pytest.mark.modes(*LATER_MODES)
def test_waitaof_blocks_until_unblocked(both):
    """appendfsync no: nothing is known to be on disk, so WAITAOF 1 waits; CLIENT UNBLOCK ends
    it with the acknowledgements as they are (or the UNBLOCKED error). Each wait that starts
    asks the (absent) replicas for acknowledgements, which 7.2 counts in the offset."""

    def sc(env):
        c, p = env.client(), env.client()
        try:
            _aof_ready(env, "no")
            cid = c.call("CLIENT", "ID")
            o0 = _offset(p)
            out = [c.call("SET", "k", "1")]
            env.block(c, "WAITAOF", "1", "0", "0")
            out += [p.call("CLIENT", "UNBLOCK", cid), c.read(), _offset(p) - o0]
            env.block(c, "WAITAOF", "1", "0", "0")
            out += [p.call("CLIENT", "UNBLOCK", cid, "ERROR"), c.read(), _offset(p) - o0]
            env.block(c, "WAITAOF", "0", "1", "0")
            out += [p.call("CLIENT", "UNBLOCK", cid, "TIMEOUT"), c.read(), _offset(p) - o0]
            env.block(c, "WAIT", "1", "0")
            out += [p.call("CLIENT", "UNBLOCK", cid), c.read(), _offset(p) - o0]
            # a timeout ends it the same way
            out += [c.call("WAITAOF", "1", "0", "5"), c.call("WAITAOF", "0", "2", "5"), _offset(p) - o0]
            return out
        finally:
            _aof_off(env)

    out = both(sc)
    assert out[2] == [0, 0] and out[3] == 2


def test_wait_and_offset_without_aof(both):
    """With the AOF off, a blocking WAIT still moves 7.2's offset (7.0 always shows 0)."""

    def sc(env):
        c, p = env.client(), env.client()
        cid = c.call("CLIENT", "ID")
        o0 = _offset(p)
        out = [c.call("SET", "k", "1"), _offset(p) - o0, c.call("WAIT", "0", "0"), _offset(p) - o0]
        env.block(c, "WAIT", "2", "0")
        out += [p.call("CLIENT", "UNBLOCK", cid), c.read(), _offset(p) - o0]
        out += [c.call("WAIT", "1", "5"), _offset(p) - o0, c.call("WAITAOF", "0", "1", "5"), _offset(p) - o0]
        return out

    both(sc)


@pytest.mark.modes(*LATER_MODES)
def test_waitaof_everysec_waits_for_the_background_fsync(both):
    def sc(env):
        c = env.client()
        try:
            _aof_ready(env, "everysec")
            return [c.call("SET", "a", "1"), c.call("WAITAOF", "1", "0", "0"), c.call("INCR", "n"),
                    c.call("WAITAOF", "1", "0", "0"), c.call("WAITAOF", "0", "0", "0")]
        finally:
            _aof_off(env)

    assert both(sc)[1] == [1, 0]
