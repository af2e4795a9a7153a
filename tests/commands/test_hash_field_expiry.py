"""Hash-field expiration (Redis 7.4), differentially against redis-server 7.4.1: HEXPIRE,
HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST - their
reply codes and errors - and what every other hash command does with fields that have a
deadline or are past it, over RESP2 and RESP3.

The tests run in 7.4 mode against redis-server 7.4.1 (the `modes` marker). Active expiry is
off in `diff74` (DEBUG SET-ACTIVE-EXPIRE 0): a field past its deadline stays until a command
meets it, on both servers, so each command's own handling shows. Deadlines in the past are
reached with HPEXPIRE 1 and a 10 ms sleep; deadlines compared by value are absolute
(HPEXPIREAT) so both servers hold the same ones.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.modes("7.4")

FAR = 4_102_444_800_000  # 2100-01-01, in ms
LONG = "x" * 65
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"
SETTERS = ("HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT")
GETTERS = ("HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME")


@pytest.fixture
def diff74(diff):
    """`diff` with active expiry off on both servers for the test."""
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    yield diff
    diff.both("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    diff.both("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.fixture
def other74(other):
    return other


def _active_expiry(diff, on: bool = True) -> None:
    diff.check("DEBUG", "SET-ACTIVE-EXPIRE", "1" if on else "0")


def _expire_now(diff, key, *fields):
    """Give fields a 1 ms deadline on both servers, then let it pass."""
    diff.check("HPEXPIRE", key, "1", "FIELDS", str(len(fields)), *fields)
    time.sleep(0.01)


def _hash(diff, key, n=4, big=False):
    args = [x for i in range(n) for x in (f"f{i}", f"v{i}")]
    if big:
        args += ["long", LONG]  # a hashtable
    diff.check("HSET", key, *args)


# --- the setters ------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_setter_codes_and_conditions(diff74, big):
    d = diff74
    _hash(d, "h", 4, big)
    d.check("OBJECT", "ENCODING", "h")
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "3", "f0", "nosuch", "f0")  # 1, -2, 1
    d.check("OBJECT", "ENCODING", "h")
    for cond in ("NX", "xx", "Gt", "lt"):
        for when in (FAR - 1000, FAR, FAR + 1000):
            d.check("HPEXPIREAT", "h", str(when), cond, "FIELDS", "3", "f0", "f1", "nosuch")
            d.check("HPEXPIRETIME", "h", "FIELDS", "2", "f0", "f1")
        d.check("HPERSIST", "h", "FIELDS", "2", "f0", "f1")
        d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "1", "f0")
    d.check("HEXPIREAT", "h", str(FAR // 1000 + 5), "fields", "2", "f2", "f3")
    d.check("HEXPIRETIME", "h", "FIELDS", "4", "f0", "f1", "f2", "f3")
    d.check("HPEXPIRETIME", "h", "FIELDS", "4", "f0", "f1", "f2", "f3")
    d.check("HEXPIRE", "h", "100", "FIELDS", "1", "f1")
    d.check("HTTL", "h", "FIELDS", "2", "f1", "f0")
    d.check("HPEXPIRE", "h", "200000", "FIELDS", "1", "f2")
    assert d.ours.call("HPTTL", "h", "FIELDS", "1", "f2")[0] in range(199_000, 200_001)
    d.check("HGETALL", "h", unordered=big)


def test_setters_on_missing_key_and_empty_results(diff74):
    d = diff74
    for cmd in SETTERS:
        d.check(cmd, "nokey", "100", "FIELDS", "2", "a", "b")
        d.check(cmd, "nokey", "100", "NX", "FIELDS", "1", "a")
    d.check("EXISTS", "nokey")
    d.check("HSET", "h", "a", "1")
    d.check("HEXPIRE", "h", "100", "FIELDS", "1", "nosuch")  # no field set: still a listpackex
    d.check("OBJECT", "ENCODING", "h")
    d.check("HEXPIRE", "h", "100", "XX", "FIELDS", "1", "a")  # XX/GT on a field without deadline
    d.check("HEXPIRE", "h", "100", "GT", "FIELDS", "1", "a")
    d.check("HEXPIRE", "h", "100", "LT", "FIELDS", "1", "a")  # LT passes
    d.check("HTTL", "h", "FIELDS", "1", "a")


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_time_in_the_past_deletes(diff74, big):
    d = diff74
    _hash(d, "h", 3, big)
    d.check("HPEXPIRE", "h", "0", "FIELDS", "2", "f0", "nosuch")
    d.check("HEXPIREAT", "h", "1", "FIELDS", "1", "f1")
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "1", "f2")
    d.check("HPEXPIREAT", "h", "0", "GT", "FIELDS", "1", "f2")  # the condition first: not met
    d.check("HPEXPIREAT", "h", "0", "LT", "FIELDS", "1", "f2")
    d.check("HGETALL", "h", unordered=True)
    d.check("HEXPIRE", "h", "0", "FIELDS", "2", "long", "long")
    d.check("EXISTS", "h")
    d.check("HSET", "e", "a", "1", "b", "2")
    d.check("HPEXPIRE", "e", "0", "FIELDS", "3", "a", "b", "a")  # the last field: the hash goes
    d.check("EXISTS", "e")
    d.check("TYPE", "e")


def test_setter_errors(diff74):
    d = diff74
    d.check("HSET", "h", "a", "1")
    d.check("SET", "s", "x")
    for cmd in SETTERS:
        for args in (("h", "abc", "FIELDS", "1", "a"), ("h", "-1", "FIELDS", "1", "a"),
                     ("h", "1.5", "FIELDS", "1", "a"), ("h", "99999999999999999999", "FIELDS", "1", "a"),
                     ("h", "70368744177", "FIELDS", "1", "a"), ("h", "70368744178", "FIELDS", "1", "a"),
                     ("h", "70368744177663", "FIELDS", "1", "a"), ("h", "70368744177664", "FIELDS", "1", "a"),
                     ("h", "9223372036854775807", "FIELDS", "1", "a"),
                     ("h", "100", "FIELDS", "0", "a"), ("h", "100", "FIELDS", "-1", "a"),
                     ("h", "100", "FIELDS", "x", "a"), ("h", "100", "FIELDS", "2", "a"),
                     ("h", "100", "FIELDS", "1", "a", "b"), ("h", "100", "FIELD", "1", "a"),
                     ("h", "100", "NX", "XX", "FIELDS", "1", "a"), ("h", "100", "NX", "FIELDS", "1"),
                     ("h", "100", "XY", "FIELDS", "1", "a"), ("h", "100", "1", "FIELDS", "a"),
                     ("nokey", "-1", "FIELDS", "1", "a"), ("nokey", "100", "FIELDS", "2", "a"),
                     ("s", "abc", "FIELDS", "1", "a"), ("s", "100", "NOPE"),
                     ("h", "100", "FIELDS", "1"), ("h", "100", "FIELDS"), ("h",)):
            d.check(cmd, *args)
    d.check(SETTERS[0])
    d.check("HGETALL", "h")
    d.check("HPEXPIRETIME", "h", "FIELDS", "1", "a")


def test_getter_and_hpersist_errors(diff74):
    d = diff74
    d.check("HSET", "h", "a", "1")
    d.check("SET", "s", "x")
    for cmd in (*GETTERS, "HPERSIST"):
        for args in (("h", "FIELDS", "0", "a"), ("h", "FIELDS", "-3", "a"), ("h", "FIELDS", "x", "a"),
                     ("h", "FIELDS", "2", "a"), ("h", "FIELDS", "1", "a", "b"), ("h", "FIELDX", "1", "a"),
                     ("h", "1", "FIELDS", "a"), ("nokey", "FIELDS", "2", "a"), ("s", "FIELDS", "0", "a"),
                     ("s", "NOPE", "x", "y"), ("h", "FIELDS", "1"), ("h", "FIELDS"), ("nokey", "fields", "2", "a", "b")):
            d.check(cmd, *args)


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_getters(diff74, big):
    d = diff74
    _hash(d, "h", 3, big)
    for cmd in GETTERS:
        d.check(cmd, "h", "FIELDS", "3", "f0", "nosuch", "f1")  # no metadata yet: -1 / -2
    d.check("HPEXPIREAT", "h", str(FAR + 1), "FIELDS", "1", "f0")
    d.check("HPEXPIREAT", "h", str(FAR + 999), "FIELDS", "1", "f1")
    for cmd in ("HEXPIRETIME", "HPEXPIRETIME"):
        d.check(cmd, "h", "FIELDS", "4", "f0", "f1", "f2", "nosuch")
    d.check("HEXPIRE", "h", "1000", "FIELDS", "1", "f2")
    d.check("HTTL", "h", "FIELDS", "3", "f2", "f0", "nosuch")
    ours = d.ours.call("HPTTL", "h", "FIELDS", "2", "f2", "f0")
    theirs = d.theirs.call("HPTTL", "h", "FIELDS", "2", "f2", "f0")
    assert abs(ours[0] - theirs[0]) < 1000 and 999_000 <= ours[0] <= 1_000_000
    _expire_now(d, "h", "f2")
    for cmd in GETTERS:
        d.check(cmd, "h", "FIELDS", "3", "f2", "nosuch", "f2")  # past its deadline: as if missing
    d.check("HPEXPIRETIME", "h", "FIELDS", "2", "f2", "f0")
    for cmd in GETTERS:
        d.check(cmd, "nokey", "FIELDS", "2", "f2", "f0")


def test_hpersist(diff74):
    d = diff74
    d.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    d.check("HPERSIST", "h", "FIELDS", "2", "a", "nosuch")  # a plain listpack
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "2", "a", "b")
    d.check("HPERSIST", "h", "FIELDS", "4", "a", "a", "c", "nosuch")
    d.check("HGETALL", "h")
    d.check("HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "c")
    _expire_now(d, "h", "b")
    d.check("HPERSIST", "h", "FIELDS", "1", "b")  # already expired: -2, and it stays expired
    d.check("HLEN", "h")
    d.check("HGET", "h", "b")
    d.check("OBJECT", "ENCODING", "h")
    d.check("HPERSIST", "nokey", "FIELDS", "1", "a")


# --- the listpackex: order and encoding ------------------------------------------------------

def test_listpackex_order(diff74):
    d = diff74
    d.check("HSET", "h", *[x for i in range(8) for x in (f"f{i}", str(i))])
    d.check("HPEXPIREAT", "h", str(FAR + 30), "FIELDS", "2", "f5", "f3")
    d.check("HPEXPIREAT", "h", str(FAR + 10), "FIELDS", "1", "f7")
    d.check("HPEXPIREAT", "h", str(FAR + 30), "FIELDS", "1", "f0")  # equal deadline: goes first
    d.check("HPEXPIREAT", "h", str(FAR + 20), "FIELDS", "1", "f3")  # moves back
    d.check("HGETALL", "h")
    d.check("HPERSIST", "h", "FIELDS", "1", "f7")  # to the end
    d.check("HSET", "h", "f5", "new", "f1", "again", "f8", "8")  # f5 loses its deadline: to the end
    d.check("HINCRBY", "h", "f0", "5")  # keeps its deadline and place
    d.check("HINCRBYFLOAT", "h", "f3", "0.5")
    d.check("HSETNX", "h", "f9", "9")
    d.check("HDEL", "h", "f2")
    d.check("HKEYS", "h")
    d.check("HVALS", "h")
    d.check("HGETALL", "h")
    d.check("HSCAN", "h", "0")
    d.check("HPEXPIRETIME", "h", "FIELDS", "4", "f0", "f3", "f5", "f7")
    d.check("OBJECT", "ENCODING", "h")
    d.check("DEBUG", "DIGEST-VALUE", "h")


@pytest.mark.parametrize("how", ["entries", "value", "field", "hincrbyfloat"])
def test_listpackex_converts_to_hashtable(diff74, how):
    d = diff74
    with d.config("hash-max-listpack-entries", "4"):
        d.check("HSET", "h", "a", "1", "b", "2", "c", "3")
        d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "2", "a", "c")
        if how == "entries":
            d.check("HSET", "h", "d", "4", "e", "5")
        elif how == "value":
            d.check("HSET", "h", "d", LONG)
        elif how == "field":
            d.check("HSETNX", "h", LONG, "1")
        else:
            d.check("HINCRBYFLOAT", "h", "b" * 70, "1.5")
        d.check("OBJECT", "ENCODING", "h")
        d.check("HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "c")
        d.check("HGETALL", "h", unordered=True)
        d.check("HPERSIST", "h", "FIELDS", "1", "a")
        d.check("HEXPIRE", "h", "0", "FIELDS", "1", "c")
        d.check("HGETALL", "h", unordered=True)
        d.check("DEBUG", "DIGEST-VALUE", "h")


def test_hset_overwrites_deadline(diff74):
    d = diff74
    for big in (False, True):
        key = "big" if big else "small"
        _hash(d, key, 3, big)
        d.check("HPEXPIREAT", key, str(FAR), "FIELDS", "3", "f0", "f1", "f2")
        d.check("HSET", key, "f0", "x")
        d.check("HMSET", key, "f1", "y", "f9", "z")
        d.check("HPEXPIRETIME", key, "FIELDS", "4", "f0", "f1", "f2", "f9")
        d.check("HGETALL", key, unordered=big)


# --- expired fields met by the other commands -------------------------------------------------

@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_read_commands_on_expired_fields(diff74, big):
    d = diff74
    _hash(d, "h", 5, big)
    _expire_now(d, "h", "f0", "f1", "f2", "f3")
    d.check("HLEN", "h")  # counts the expired fields not yet deleted
    d.check("HGETALL", "h", unordered=big)  # skips them
    d.check("HKEYS", "h", unordered=big)
    d.check("HVALS", "h", unordered=big)
    d.check("HSCAN", "h", "0", "COUNT", "100", unordered=big)
    d.check("HSCAN", "h", "0", "MATCH", "f*", unordered=big)
    d.check("HLEN", "h")
    d.check("HGET", "h", "f0")  # deleted on the way
    d.check("HLEN", "h")
    d.check("HEXISTS", "h", "f1")
    d.check("HSTRLEN", "h", "f2")
    d.check("HMGET", "h", "f3", "f4", "nosuch")
    d.check("HLEN", "h")
    d.check("HGETALL", "h", unordered=big)
    d.check("EXISTS", "h")


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_write_commands_on_expired_fields(diff74, big):
    d = diff74
    _hash(d, "h", 6, big)
    _expire_now(d, "h", "f0", "f1", "f2", "f3", "f4")
    d.check("HSET", "h", "f0", "new")  # still there: an update (0), and its deadline is gone
    d.check("HPEXPIRETIME", "h", "FIELDS", "1", "f0")
    d.check("HSETNX", "h", "f1", "new")  # expired, so missing: set
    d.check("HINCRBY", "h", "f2", "7")  # from 0
    d.check("HINCRBYFLOAT", "h", "f3", "1.5")
    d.check("HPEXPIRETIME", "h", "FIELDS", "3", "f1", "f2", "f3")
    d.check("HDEL", "h", "f4")  # a deleted expired field counts
    d.check("HLEN", "h")
    d.check("HGETALL", "h", unordered=big)
    _expire_now(d, "h", "f5")
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "1", "f5")  # brought back with a new deadline
    d.check("HGET", "h", "f5")


def test_last_field_expiring_deletes_the_hash(diff74):
    d = diff74
    for cmd in (("HGET", "h", "a"), ("HEXISTS", "h", "a"), ("HSTRLEN", "h", "a"), ("HMGET", "h", "a", "b", "a"),
                ("HSETNX", "h", "a", "new"), ("HINCRBY", "h", "a", "1"), ("HINCRBYFLOAT", "h", "a", "1"),
                ("HRANDFIELD", "h"), ("HRANDFIELD", "h", "2"), ("HRANDFIELD", "h", "-2", "WITHVALUES"),
                ("HGETALL", "h"), ("HLEN", "h"), ("HSET", "h", "a", "x")):
        d.check("DEL", "h")
        d.check("HSET", "h", "a", "1", "b", "2")
        _expire_now(d, "h", "a", "b")
        d.check(*cmd)
        d.check("EXISTS", "h")
        d.check("HGETALL", "h")
        d.check("OBJECT", "ENCODING", "h")


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_hrandfield_expires_first(diff74, big):
    d = diff74
    _hash(d, "h", 6, big)
    _expire_now(d, "h", "f0", "f1", "f2", "f3")
    d.check("HRANDFIELD", "h", "10", unordered=True)
    d.check("HLEN", "h")
    d.check("HEXPIRE", "h", "0", "FIELDS", "2", "f4", "long")  # one field left
    d.check("HRANDFIELD", "h")
    d.check("HRANDFIELD", "h", "-3")
    d.check("HRANDFIELD", "h", "1", "WITHVALUES")


def test_sort_by_and_get_expired_fields(diff74):
    d = diff74
    d.check("RPUSH", "l", "1", "2", "3")
    for i in (1, 2, 3):
        d.check("HSET", f"w{i}", "weight", str(10 - i), "name", f"n{i}")
    _expire_now(d, "w2", "weight")
    _expire_now(d, "w3", "weight", "name")
    d.check("HLEN", "w2")
    d.check("SORT", "l", "BY", "w*->weight", "GET", "w*->name", "GET", "#")
    d.check("HLEN", "w2")
    d.check("EXISTS", "w3")
    d.check("SORT", "l", "BY", "w*->weight", "GET", "w*->name", "STORE", "out")
    d.check("LRANGE", "out", "0", "-1")


def test_scripts_and_transactions_see_one_time(diff74):
    """A field whose deadline passes while a script runs is alive for the whole script (the
    script's time is the time it started), and so within MULTI/EXEC."""
    d = diff74
    d.check("HSET", "h", "a", "1", "b", "2")
    script = ("redis.call('HPEXPIRE', KEYS[1], 5, 'FIELDS', 1, 'a')\n"
              "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]\n"
              "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 60000\n"
              "return {redis.call('HGET', KEYS[1], 'a'), redis.call('HPTTL', KEYS[1], 'FIELDS', 1, 'a'),"
              " redis.call('HLEN', KEYS[1])}")
    d.check("EVAL", script, "1", "h")
    d.check("HGET", "h", "a")
    d.check("MULTI")
    d.check("HPEXPIRE", "h", "1", "FIELDS", "1", "b")
    d.check("DEBUG", "SLEEP", "0.01")
    d.check("HGET", "h", "b")
    d.check("HEXISTS", "h", "b")
    d.check("EXEC")
    d.check("HGET", "h", "b")
    d.check("EXISTS", "h")


def test_key_ttl_and_field_ttls_together(diff74):
    d = diff74
    d.check("HSET", "h", "a", "1", "b", "2")
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "1", "a")
    d.check("PEXPIREAT", "h", str(FAR + 5))
    d.check("PEXPIRETIME", "h")
    d.check("HPEXPIRETIME", "h", "FIELDS", "2", "a", "b")
    d.check("PERSIST", "h")
    d.check("HPEXPIRETIME", "h", "FIELDS", "2", "a", "b")
    d.check("PEXPIRE", "h", "1")
    time.sleep(0.01)
    d.check("HTTL", "h", "FIELDS", "1", "a")
    d.check("EXISTS", "h")


# --- keys moving: RENAME, COPY, MOVE, SWAPDB, RESTORE -----------------------------------------

@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_rename_copy_move_carry_deadlines(diff74, big):
    d = diff74
    _hash(d, "h", 4, big)
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "2", "f0", "f1")
    d.check("HPEXPIREAT", "h", str(FAR + 7), "FIELDS", "1", "f2")
    fields = ("FIELDS", "4", "f0", "f1", "f2", "f3")
    d.check("RENAME", "h", "r")
    d.check("HPEXPIRETIME", "r", *fields)
    d.check("COPY", "r", "c")
    d.check("COPY", "r", "c9", "DB", "9")
    d.check("HPEXPIRETIME", "c", *fields)
    d.check("HPERSIST", "c", "FIELDS", "1", "f0")  # the copy is its own
    d.check("HPEXPIRETIME", "r", *fields)
    d.check("MOVE", "r", "5")
    d.check("SELECT", "5")
    d.check("HPEXPIRETIME", "r", *fields)
    d.check("OBJECT", "ENCODING", "r")
    d.check("SELECT", "9")
    d.check("HPEXPIRETIME", "c9", *fields)
    d.check("SWAPDB", "9", "0")
    d.check("SELECT", "0")
    d.check("HPEXPIRETIME", "c9", *fields)
    _expire_now(d, "c9", "f3")
    d.check("RENAMENX", "c9", "n")
    d.check("HLEN", "n")
    d.check("HGET", "n", "f3")
    d.check("HLEN", "n")


def test_copy_of_expired_fields_and_overwrites(diff74):
    d = diff74
    _hash(d, "h", 3)
    _expire_now(d, "h", "f0")
    d.check("COPY", "h", "c")
    d.check("HLEN", "c")  # copied with it, expired
    d.check("HGETALL", "c")
    d.check("SET", "h", "str")  # a hash with deadlines overwritten by a string
    d.check("GET", "h")
    d.check("HSET", "h2", "a", "1")
    d.check("HPEXPIREAT", "h2", str(FAR), "FIELDS", "1", "a")
    d.check("RENAME", "c", "h2")  # and by another hash
    d.check("HPEXPIRETIME", "h2", "FIELDS", "3", "a", "f0", "f1")


# --- keyspace events -------------------------------------------------------------------------

def _events(server_port, script, flags="KEA", sleep_after=()):
    from resp import RawClient

    c, sub = RawClient("127.0.0.1", server_port), RawClient("127.0.0.1", server_port)
    try:
        c.call("FLUSHALL")
        c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        c.call("CONFIG", "SET", "notify-keyspace-events", flags)
        sub.call("PSUBSCRIBE", "__key*__:*")
        for i, cmd in enumerate(script):
            c.call(*cmd)
            if i in sleep_after:
                time.sleep(0.01)
        c.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        c.call("SET", "zzend", "1")
        log = []
        while True:
            m = sub.read()
            if m[2:] == [b"__keyevent@0__:set", b"zzend"]:
                return log
            log.append(tuple(m[2:]))
    finally:
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        c.close()
        sub.close()


def test_keyspace_events(pyredis_srv, real_redis):
    script = [("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"),
              ("HEXPIRE", "h", "100", "FIELDS", "2", "a", "nosuch"),  # hexpire
              ("HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"),  # nothing
              ("HPERSIST", "h", "FIELDS", "1", "a"),  # hpersist
              ("HPERSIST", "h", "FIELDS", "1", "a"),  # nothing
              ("HPEXPIRE", "h", "0", "FIELDS", "1", "a"),  # hdel
              ("HPEXPIRE", "h", "0", "FIELDS", "1", "b"),
              ("HPEXPIRE", "h", "1", "FIELDS", "3", "c", "d", "e"),  # then sleep
              ("HGET", "h", "c"),  # hexpired
              ("HMGET", "h", "d", "e"),  # hexpired once, del
              ("HSET", "g", "a", "1", "b", "2"),
              ("HPEXPIRE", "g", "1", "FIELDS", "2", "a", "b"),  # then sleep
              ("HMGET", "g", "b", "a"),  # b is not the last: hexpired, del
              ("HSET", "k", "a", "1"),
              ("HPEXPIRE", "k", "1", "FIELDS", "1", "a"),  # then sleep
              ("HMGET", "k", "a"),  # the last field: Redis sends nothing
              ("EXISTS", "k"),
              ("HSET", "m", "a", "1", "b", "2"),
              ("HPEXPIRE", "m", "1", "FIELDS", "1", "a"),  # then sleep
              ("HINCRBY", "m", "a", "1"),
              ("HPEXPIRE", "m", "1", "FIELDS", "2", "a", "b"),  # then sleep
              ("HSETNX", "m", "b", "1"),  # hexpired, hexpired+del, new, hset
              ("HSET", "r", "a", "1", "b", "2"),
              ("HPEXPIRE", "r", "1", "FIELDS", "2", "a", "b"),  # then sleep
              ("HRANDFIELD", "r"),
              ("HSET", "x", "a", "1"),
              ("HPEXPIRE", "x", "0", "FIELDS", "1", "a")]
    sleeps = {i for i, cmd in enumerate(script) if cmd[0] == "HPEXPIRE" and cmd[2] == "1"}
    for flags in ("KEA", "Kh", "Eg", "KEhgn"):
        ours = _events(pyredis_srv.port, script, flags, sleeps)
        theirs = _events(real_redis.port, script, flags, sleeps)
        assert ours == theirs, flags


# --- encodings, digests, DUMP ----------------------------------------------------------------

def test_object_encoding_and_digest(diff74):
    d = diff74
    d.check("HSET", "h", "a", "1", "b", "2")
    d.check("DEBUG", "DIGEST-VALUE", "h")
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "1", "a")
    d.check("OBJECT", "ENCODING", "h")
    d.check("DEBUG", "DIGEST-VALUE", "h")  # a field with a deadline changes the digest
    d.check("HPERSIST", "h", "FIELDS", "1", "a")
    d.check("DEBUG", "DIGEST-VALUE", "h")
    d.check("OBJECT", "ENCODING", "h")  # a listpackex for good
    d.check("DEBUG", "DIGEST")


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_dump_restore_both_ways(diff74, big):
    d = diff74
    _hash(d, "h", 4, big)
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "2", "f3", "f1")
    d.check("HPEXPIREAT", "h", str(FAR - 500), "FIELDS", "1", "f2")
    for src, dst in ((d.ours, d.theirs), (d.theirs, d.ours)):
        payload = src.call("DUMP", "h")
        assert dst.call("RESTORE", "r", "0", payload) == b"OK"
        assert dst.call("HPEXPIRETIME", "r", "FIELDS", "4", "f0", "f1", "f2", "f3") == [-1, FAR, FAR - 500, FAR]
        assert dst.call("OBJECT", "ENCODING", "r") == d.theirs.call("OBJECT", "ENCODING", "h")
        if not big:
            assert dst.call("HGETALL", "r") == d.theirs.call("HGETALL", "h")
        dst.call("DEL", "r")


# --- WATCH, tracking and the dirty counter --------------------------------------------------

def test_watch_sees_fields_expire(diff74, other74):
    """A field deleted by its deadline modifies the hash: a transaction watching it fails,
    whether a command met the field (lazy) or the active expiry reclaimed it; a field that is
    merely past its deadline does not."""
    d = diff74
    d.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    d.check("WATCH", "h")
    _expire_now(d, "h", "a")  # the HPEXPIRE itself touches h
    d.check("MULTI")
    d.check("HLEN", "h")
    d.check("EXEC")
    d.check("WATCH", "h")
    time.sleep(0.01)
    d.check("MULTI")
    d.check("HGETALL", "h")
    d.check("EXEC")  # past its deadline, not deleted: no change
    d.check("WATCH", "h")
    other74.check("HGET", "h", "a")  # another client meets it: deleted
    d.check("MULTI")
    d.check("HLEN", "h")
    d.check("EXEC")
    d.check("HPEXPIRE", "h", "1", "FIELDS", "1", "b")
    d.check("WATCH", "h")
    _active_expiry(d)
    deadline = time.time() + 5
    while time.time() < deadline and (d.ours.call("HLEN", "h") != 1 or d.theirs.call("HLEN", "h") != 1):
        time.sleep(0.02)
    _active_expiry(d, False)
    d.check("MULTI")
    d.check("HLEN", "h")
    d.check("EXEC")


def test_dirty_counter(diff74):
    d = diff74

    def changes():
        def pick(info):
            line = [x for x in info.decode().split("\r\n") if x.startswith("rdb_changes_since_last_save")][0]
            return int(line.split(":")[1])

        return tuple(pick(x) for x in d.both("INFO", "persistence"))

    base = changes()
    d.check("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4")
    d.check("HPEXPIREAT", "h", str(FAR), "FIELDS", "3", "a", "b", "nosuch")
    d.check("HPEXPIREAT", "h", str(FAR), "NX", "FIELDS", "2", "a", "b")
    d.check("HPEXPIRE", "h", "0", "FIELDS", "2", "a", "c")
    d.check("HPERSIST", "h", "FIELDS", "2", "b", "d")
    d.check("HPERSIST", "h", "FIELDS", "1", "b")
    _expire_now(d, "h", "d")
    d.check("HGET", "h", "d")
    ours, theirs = changes()
    assert ours - base[0] == theirs - base[1] == 10


def test_active_expiry_reclaims_fields(diff74):
    d = diff74
    _hash(d, "small", 3)
    _hash(d, "big", 3, big=True)
    d.check("HSET", "gone", "a", "1", "b", "2")
    d.check("HPEXPIRE", "small", "1", "FIELDS", "2", "f0", "f1")
    d.check("HPEXPIRE", "big", "1", "FIELDS", "3", "f0", "f1", "long")
    d.check("HPEXPIRE", "gone", "1", "FIELDS", "2", "a", "b")
    d.check("HPEXPIREAT", "big", str(FAR), "FIELDS", "1", "f2")
    _active_expiry(d)
    deadline = time.time() + 5
    while time.time() < deadline and (d.ours.call("EXISTS", "gone") or d.theirs.call("EXISTS", "gone")):
        time.sleep(0.02)
    _active_expiry(d, False)
    for k in ("small", "big", "gone"):
        d.check("HLEN", k)  # nothing left past its deadline: HLEN counts only the live fields
        d.check("HGETALL", k)
        d.check("EXISTS", k)
    d.check("HPEXPIRETIME", "big", "FIELDS", "2", "f2", "f1")
