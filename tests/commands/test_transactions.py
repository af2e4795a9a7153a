"""MULTI/EXEC/DISCARD/WATCH/UNWATCH, differentially against redis-server 7.0 (RESP2 and RESP3),
with a second connection on each server for writes from another client (conftest's `other`;
RESET's end of a transaction is in test_connection.py); plus redis-py's
optimistic-locking pipeline and MULTI/EXEC propagation."""

from __future__ import annotations

import threading
import time

import pytest
import redis

import pyredis.commands  # noqa: F401  (registers every command)
from effects import Effects
from resp import RawClient
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)


def test_basic_exec(diff):
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check("INCR", "a")
    diff.check("LPUSH", "l", "x", "y")
    diff.check("GET", "a")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("EXEC")
    diff.check("GET", "a")
    diff.check("MULTI")
    diff.check("EXEC")


def test_runtime_errors_are_per_command(diff):
    diff.check("MULTI")
    diff.check("LPUSH", "a", "x")
    diff.check("INCR", "a")
    diff.check("SET", "b", "2")
    diff.check("LPOP", "b")
    diff.check("LSET", "nokey", "0", "x")
    diff.check("EXEC")
    diff.check("GET", "b")


def test_state_errors(diff):
    diff.check("EXEC")
    diff.check("DISCARD")
    diff.check("MULTI")
    diff.check("MULTI")
    diff.check("WATCH", "a")
    diff.check("SET", "a", "1")
    diff.check("EXEC")  # neither nested MULTI nor WATCH inside MULTI aborts
    diff.check("MULTI")
    diff.check("SET", "a", "2")
    diff.check("DISCARD")
    diff.check("GET", "a")
    diff.check("DISCARD")
    diff.check("UNWATCH")
    diff.check("MULTI")
    diff.check("UNWATCH")
    diff.check("EXEC")


@pytest.mark.parametrize("bad", [
    ["NOSUCHCOMMAND", "x"], ["SET", "a"], ["GET"], ["WATCH"], ["DISCARD", "x"], ["MULTI", "x"],
    ["CONFIG", "NOSUCHSUB"], ["LPUSH", "l"],
])
def test_execabort_after_queueing_error(diff, bad):
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check(*bad)
    diff.check("SET", "b", "1")
    diff.check("EXEC")
    diff.check("EXISTS", "a", "b")
    diff.check("EXEC")


def test_exec_itself_rejected(diff):
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check("EXEC", "extra")
    diff.check("EXEC")
    diff.check("EXISTS", "a")


def test_no_multi_commands_rejected_while_queueing(diff):
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check("WATCH", "x")
    diff.check("SUBSCRIBE", "ch") if diff.resp == 3 else None
    diff.check("EXEC")


def test_blocking_commands_inside_multi_do_not_block(diff):
    diff.check("MULTI")
    diff.check("BLPOP", "q", "0")
    diff.check("BRPOP", "q", "q2", "0")
    diff.check("BLMOVE", "q", "r", "LEFT", "LEFT", "0")
    diff.check("BRPOPLPUSH", "q", "r", "0")
    diff.check("BLMPOP", "0", "1", "q", "LEFT")
    diff.check("BLPOP", "q", "-1")
    diff.check("RPUSH", "q", "a", "b", "c", "d")
    diff.check("BLPOP", "q", "0")
    diff.check("BLMOVE", "q", "r", "RIGHT", "LEFT", "0")
    diff.check("BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5")
    diff.check("BLPOP", "q", "0")
    diff.check("EXEC")
    diff.check("LRANGE", "r", "0", "-1")


def test_watch_other_client_write_aborts(diff, other):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k")
    other.check("SET", "k", "2")
    diff.check("MULTI")
    diff.check("SET", "k", "3")
    diff.check("EXEC")
    diff.check("GET", "k")
    # the transaction ended: the key is no longer watched
    diff.check("MULTI")
    diff.check("SET", "k", "4")
    diff.check("EXEC")


@pytest.mark.parametrize("write", [
    ["DEL", "k"], ["LPUSH", "k", "x"], ["EXPIRE", "k", "100"], ["INCR", "k"], ["RENAME", "k", "k2"],
    ["PERSIST", "k"], ["SET", "k", "1"], ["APPEND", "k", "z"],
])
def test_watch_invalidated_by_writes(diff, other, write):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k", "unrelated")
    other.check(*write)
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


@pytest.mark.parametrize("write", [
    ["DEL", "k"], ["LPUSH", "other", "x"], ["GET", "k"], ["EXPIRE", "nokey", "100"], ["PERSIST", "k"],
    ["LPOP", "k"], ["LREM", "k", "0", "zz"], ["LINSERT", "k", "BEFORE", "zz", "x"],
])
def test_watch_untouched_key_executes(diff, other, write):
    diff.check("WATCH", "k")
    other.check(*write)
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_watch_own_write_before_multi_aborts(diff):
    diff.check("WATCH", "k")
    diff.check("SET", "k", "v")
    diff.check("MULTI")
    diff.check("GET", "k")
    diff.check("EXEC")


def test_watch_write_inside_own_transaction_executes(diff):
    diff.check("WATCH", "k")
    diff.check("MULTI")
    diff.check("SET", "k", "v")
    diff.check("EXEC")
    diff.check("GET", "k")


def test_unwatch_and_discard_forget_keys(diff, other):
    diff.check("WATCH", "k")
    diff.check("UNWATCH")
    other.check("SET", "k", "1")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    diff.check("WATCH", "k")
    diff.check("MULTI")
    diff.check("DISCARD")
    other.check("SET", "k", "2")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_dirty_then_unwatch_then_watch(diff, other):
    diff.check("WATCH", "k")
    other.check("SET", "k", "1")
    diff.check("WATCH", "j")  # already dirty: nothing more to watch
    diff.check("UNWATCH")
    diff.check("WATCH", "j")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_watch_other_db(diff, other):
    diff.check("SELECT", "1")
    diff.check("WATCH", "k")
    other.check("SET", "k", "1")  # db 0: not the watched key
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    diff.check("WATCH", "k")
    other.check("SELECT", "1")
    other.check("SET", "k", "1")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


@pytest.mark.parametrize("flush", [["FLUSHDB"], ["FLUSHALL"], ["FLUSHALL", "ASYNC"]])
def test_watch_flush(diff, other, flush):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k", "missing")
    other.check(*flush)
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    # a flush that does not delete a watched key changes nothing
    diff.check("WATCH", "missing")
    other.check(*flush)
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_watch_flush_other_db(diff, other):
    diff.check("SET", "k", "1")
    diff.check("WATCH", "k")
    other.check("SELECT", "1")
    other.check("FLUSHDB")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


@pytest.mark.parametrize("where", ["watched-db", "other-db", "nowhere"])
def test_watch_swapdb(diff, other, where):
    if where == "watched-db":
        diff.check("SET", "k", "1")
    elif where == "other-db":
        other.check("SELECT", "1")
        other.check("SET", "k", "1")
        other.check("SELECT", "0")
    diff.check("WATCH", "k")
    other.check("SWAPDB", "0", "1")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_watch_expiry(diff):
    diff.check("SET", "k", "1", "PX", "30")
    diff.check("WATCH", "k")
    time.sleep(0.08)
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    diff.check("SET", "k", "1", "PX", "30")
    diff.check("WATCH", "k")
    time.sleep(0.08)
    diff.check("GET", "k")  # lazy expiry deletes it: a change too
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")


def test_watch_key_already_expired(diff):
    """A key already logically expired at WATCH time: its deletion is no change (Redis 7.0)."""
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        diff.check("SET", "k", "1", "PX", "5")
        time.sleep(0.03)
        diff.check("WATCH", "k")
        diff.check("GET", "k")
        diff.check("MULTI")
        diff.check("PING")
        diff.check("EXEC")
        diff.check("SET", "k", "1", "PX", "5")
        time.sleep(0.03)
        diff.check("WATCH", "k")
        diff.check("MULTI")
        diff.check("PING")
        diff.check("EXEC")
        # ...but writing it again is
        diff.check("SET", "k", "1", "PX", "5")
        time.sleep(0.03)
        diff.check("WATCH", "k")
        diff.check("SET", "k", "2")
        diff.check("MULTI")
        diff.check("PING")
        diff.check("EXEC")
    finally:
        diff.both("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_time_frozen_inside_exec(diff):
    diff.check("DEBUG", "SLEEP", "0")
    diff.check("MULTI")
    diff.check("SET", "k", "v", "PX", "20")
    diff.check("DEBUG", "SLEEP", "0.05")
    diff.check("GET", "k")
    diff.check("EXEC")
    diff.check("GET", "k")


def test_watch_forgotten_on_disconnect(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    c.call("WATCH", "gone1", "gone2")
    state = pyredis_srv.state
    assert (0, b"gone1") in state.watching.keys
    c.close()
    deadline = time.time() + 5
    while (0, b"gone1") in state.watching.keys and time.time() < deadline:
        time.sleep(0.01)
    assert (0, b"gone1") not in state.watching.keys
    assert (0, b"gone2") not in state.watching.keys


def test_redis_py_optimistic_locking(pyredis_srv):
    """redis-py's WATCH/MULTI retry loop with concurrent incrementers."""
    url = f"redis://127.0.0.1:{pyredis_srv.port}"
    redis.Redis.from_url(url).set("counter", 0)
    retries = [0]

    def worker():
        r = redis.Redis.from_url(url)
        for _ in range(25):
            with r.pipeline(transaction=True) as p:
                while True:
                    try:
                        p.watch("counter")
                        v = int(p.get("counter"))
                        time.sleep(0.0005)
                        p.multi()
                        p.set("counter", v + 1)
                        p.execute()
                        break
                    except redis.WatchError:
                        retries[0] += 1
                        continue
        r.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    r = redis.Redis.from_url(url)
    assert int(r.get("counter")) == 100
    # a deterministic conflict: redis-py raises WatchError and the retry then succeeds
    with r.pipeline(transaction=True) as p:
        p.watch("counter")
        intruder = redis.Redis.from_url(url)
        intruder.incr("counter")
        intruder.close()
        p.multi()
        p.incr("counter")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert int(r.get("counter")) == 101
    r.set("counter", 100)
    # transaction() helper and pipeline errors
    def incr(pipe):
        v = int(pipe.get("counter"))
        pipe.multi()
        pipe.set("counter", v + 1)
    r.transaction(incr, "counter")
    assert int(r.get("counter")) == 101
    with r.pipeline(transaction=True) as p:
        p.set("x", 1).lpush("x", 2).get("x")
        with pytest.raises(redis.ResponseError):
            p.execute()
    assert r.get("x") == b"1"
    r.close()


def test_exec_propagation_wrapped(pyredis_srv):
    state = pyredis_srv.state
    got = sink = Effects()
    c = RawClient("127.0.0.1", pyredis_srv.port)
    try:
        c.call("FLUSHALL")
        state.propagation.add_sink(sink)
        for cmd in (["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["RPUSH", "l", "x", "y"],
                    ["BLPOP", "l", "0"], ["INCR", "l"], ["EXEC"]):
            c.call(*cmd)
        for cmd in (["MULTI"], ["SET", "b", "1"], ["GET", "b"], ["EXEC"]):
            c.call(*cmd)
        for cmd in (["MULTI"], ["GET", "b"], ["EXEC"]):
            c.call(*cmd)
    finally:
        state.propagation.remove_sink(sink)
        c.close()
    assert got == [
        (0, [b"MULTI"]), (0, [b"SET", b"a", b"1"]), (0, [b"RPUSH", b"l", b"x", b"y"]),
        (0, [b"LPOP", b"l"]), (0, [b"EXEC"]),
        (0, [b"SET", b"b", b"1"]),
    ]


def test_watch_write_between_multi_and_exec(diff, other):
    diff.check("WATCH", "k")
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    other.check("LPUSH", "k", "x")
    diff.check("EXEC")
    diff.check("EXISTS", "a")


def test_transaction_stats_match(diff):
    """commandstats / errorstats after queueing errors, EXECABORT, nested MULTI, WATCH inside
    MULTI and runtime errors inside EXEC."""
    import re

    diff.check("CONFIG", "RESETSTAT")
    for cmd in (["MULTI"], ["LPUSH", "a", "x"], ["INCR", "a"], ["EXEC"], ["MULTI"], ["SET", "a"], ["NOPE"],
                ["EXEC"], ["WATCH", "a"], ["MULTI"], ["EXEC", "x"], ["EXEC"], ["DISCARD"], ["MULTI"], ["MULTI"],
                ["WATCH", "x"], ["DISCARD"], ["UNWATCH"]):
        diff.check(*cmd)
    ours, theirs = [], []
    for out, c in ((ours, diff.ours), (theirs, diff.theirs)):
        stats = bytes(c.call("INFO", "commandstats")).decode() + bytes(c.call("INFO", "errorstats")).decode()
        out += sorted(re.sub(r"usec(_per_call)?=[0-9.]+,", "", line) for line in stats.splitlines()
                      if line.startswith(("cmdstat_", "errorstat_")) and "cmdstat_config" not in line
                      and "cmdstat_info" not in line and "cmdstat_hello" not in line)
    assert ours == theirs
    assert "cmdstat_exec:calls=3,rejected_calls=1,failed_calls=2" in ours
