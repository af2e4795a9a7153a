"""Reply changes between releases, against each mode's server: 7.2's double formatting
(d2string with fpconv_dtoa: Grisu2's digits, almost always the shortest text that reads back), its timeout checks ("timeout
is out of range"), LPOS RANK's range; 7.4's (and Valkey 8's) SCAN cursor parsing."""

from __future__ import annotations

import time

import pytest

from oracles import ALL_MODES, LATER_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)

SCORES = ["1.1", "0.1", "2.6", "1e16", "1e21", "1e22", "123456789012345678", "1e-5", "1e-6", "1e-7", "0.0001",
          "1.5e300", "-0.0", "5e-324", "100", "1e15", "12345.678", "3.0", "-2.5e-8", "1e-310", "4611686018427387904",
          "4611686018427387903", "-4611686018427387904", "9007199254740993", "0.30000000000000004", "-1234.5e-10",
          "1.7976931348623157e308", "inf", "-inf",
          # Grisu2's digits are not always the shortest (Python's repr has one digit fewer)
          "2.9063010735361132", "-8.924770253480851e-5", "-56339845980235664", "8.92477025348085e-305"]


def test_double_replies(diff):
    c = diff.check
    for i, s in enumerate(SCORES):
        c("ZADD", "z", s, f"m{i}")
        c("ZSCORE", "z", f"m{i}")
        c("ZADD", "big", s, f"m{i}")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")
    c("ZINCRBY", "z", "0.1", "m0")
    c("ZINCRBY", "z", "1e-7", "m1")
    c("ZMSCORE", "z", "m0", "m1", "m2")
    c("ZUNION", "2", "z", "z", "WEIGHTS", "1", "0.3", "WITHSCORES")
    c("ZSCAN", "z", "0", "COUNT", "1000")  # a listpack: its stored score texts
    with diff.config("zset-max-listpack-entries", "4"):
        c("ZADD", "sk", *[x for i, s in enumerate(SCORES[:10]) for x in (s, f"m{i}")])
        c("OBJECT", "ENCODING", "sk")
        c("ZRANGE", "sk", "0", "-1", "WITHSCORES")
        diff.same("ZSCAN", "sk", "0", "COUNT", "1000")  # a skiplist: %.17g in every release
        c("DEBUG", "DIGEST-VALUE", "sk")
    c("DEBUG", "DIGEST-VALUE", "z")
    c("DUMP", "z")  # the listpack's score texts
    c("ZPOPMIN", "z", "3")


def test_random_double_replies(diff):
    """Two thousand doubles of every magnitude (random bit patterns, and random fractions of
    random powers of ten): ZRANGE WITHSCORES prints each as the mode's server does (%.17g in
    7.0, d2string with fpconv_dtoa's Grisu2 from 7.2 on)."""
    import random
    import struct

    rnd = random.Random(72)
    scores = []
    while len(scores) < 1000:
        d = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
        if d == d and abs(d) != float("inf"):
            scores.append(repr(d))
    scores += [repr(rnd.random() * 10.0 ** rnd.randint(-25, 25)) for _ in range(1000)]
    for chunk in range(0, len(scores), 500):
        args = [x for i, sc in enumerate(scores[chunk:chunk + 500], chunk) for x in (sc, f"m{i}")]
        diff.check("ZADD", "rz", *args)
    diff.check("ZRANGE", "rz", "0", "-1", "WITHSCORES")
    diff.check("ZSCORE", "rz", "m1500")


@pytest.mark.parametrize("num", ["0.1", "1e16", "3", "-2.5e-8", "123456789.125", "1e300", "2^62", "1/3"])
def test_lua_number_arguments(diff, num):
    diff.check("EVAL", f"redis.call('set', 'k', {num}) return redis.call('get', 'k')", "0")


@pytest.mark.parametrize("timeout", [
    "abc", "-1", "-0.5", "inf", "-inf", "+inf", "infinity", "nan", "1e300", " 1", "1 ", "", "0x",
    "1e-400000", "9223372036854775807", "9223372036854775.808", "1e16", "-1e-400000",
    "1.5.5", "--1",
])
def test_timeout_errors(diff, timeout):
    diff.check("BLPOP", "nokey", timeout)
    diff.check("BZPOPMIN", "nokey", timeout)
    diff.check("BLMPOP", timeout, "1", "nokey", "LEFT")


@pytest.mark.parametrize("timeout", ["-1", "x", "9223372036854775808", "1.5", "-9223372036854775808"])
def test_ms_timeout_errors(diff, timeout):
    diff.check("XREAD", "BLOCK", timeout, "STREAMS", "s", "$")
    diff.check("WAIT", "1", timeout)
    diff.check("WAITAOF", "0", "1", timeout)


# Deadlines past LLONG_MAX: 7.0 overflows and blocks (forever), 7.2 refuses them.
@pytest.mark.modes(*LATER_MODES)
@pytest.mark.parametrize("timeout", ["9223372036854775807", "9223372036854775806"])
def test_deadline_out_of_range(diff, timeout):
    diff.check("XREAD", "BLOCK", timeout, "STREAMS", "s", "$")
    diff.check("WAIT", "1", timeout)
    diff.check("WAITAOF", "0", "1", timeout)
    diff.check("BLPOP", "nokey", "9223372036854775.807")


def test_lpos_rank_range(diff):
    c = diff.check
    c("RPUSH", "l", "a", "b", "a", "b", "a")
    for rank in ("-9223372036854775808", "-9223372036854775807", "9223372036854775807", "-1", "1", "0", "x"):
        c("LPOS", "l", "b", "RANK", rank)
        c("LPOS", "l", "b", "RANK", rank, "COUNT", "0")


CURSORS = [" 1", "+1", "-1", "1 ", "18446744073709551615", "18446744073709551616", "0x1", "", " ", "01", "-0",
           "1.0", "9223372036854775808", "-9223372036854775808", "-18446744073709551615", "  5", "\t3", "0"]


@pytest.mark.parametrize("cursor", CURSORS)
def test_scan_cursor_parsing(diff, cursor):
    c = diff.check
    c("SADD", "s", "1")  # an intset: scanned whole whatever the cursor (7.2 would use a listpack for "a")
    c("HSET", "h", "f", "v")
    c("ZADD", "z", "1", "m")
    c("SSCAN", "s", cursor)
    c("HSCAN", "h", cursor)
    c("ZSCAN", "z", cursor)
    c("FLUSHALL")
    c("SCAN", cursor)


def test_script_show(diff):
    """Valkey 8's SCRIPT SHOW (an unknown subcommand before)."""
    c = diff.check
    sha = c("SCRIPT", "LOAD", "return 'shown'")
    c("SCRIPT", "SHOW", sha)
    c("SCRIPT", "SHOW", sha.upper())
    c("SCRIPT", "SHOW", "0" * 40)
    c("SCRIPT", "SHOW")
    c("SCRIPT", "SHOW", sha, "x")
    c("EVAL", "return server ~= nil and server.VALKEY_VERSION or redis.REDIS_VERSION", "0")


def test_hscan_novalues(diff):
    c = diff.check
    c("HSET", "h", "a", "1", "b", "2", "ab", "3")
    for opts in (("NOVALUES",), ("novalues", "MATCH", "a*"), ("MATCH", "novalues"), ("NOVALUES", "NOVALUES"),
                 ("COUNT", "5", "NOVALUES"), ("NOVALUES", "COUNT"), ("NOVALUE",)):
        c("HSCAN", "h", "0", *opts)
    c("HSCAN", "nokey", "0", "NOVALUES")
    c("SSCAN", "h", "0", "NOVALUES")
    c("SADD", "s", "1")
    c("SSCAN", "s", "0", "NOVALUES")
    c("ZADD", "z", "1", "m")
    c("ZSCAN", "z", "0", "NOVALUES")
    c("SCAN", "0", "NOVALUES")


def test_set_with_a_past_deadline(diff):
    """Valkey 8 deletes the key (a `del` event) where Redis stores it already expired."""
    c = diff.check
    c("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        sub = diff.ours.__class__("127.0.0.1", diff.ours.sock.getpeername()[1]), \
            diff.theirs.__class__("127.0.0.1", diff.theirs.sock.getpeername()[1])
        for s in sub:
            s.call("PSUBSCRIBE", "__keyevent@0__:*")
        c("SET", "k", "v")
        c("SET", "k", "v2", "PXAT", "1")
        c("EXISTS", "k")
        c("SET", "q", "v", "PXAT", "1")
        c("SET", "k", "v")
        c("SET", "k", "v3", "EXAT", "1", "GET")
        c("SET", "k", "v4", "PXAT", "1", "NX")
        # (DBSIZE counts the keys stored already expired until an expire cycle takes them:
        # Redis's fast cycle in beforeSleep usually has, pyredis's runs with the cron)
        diff.both("DBSIZE")
        for srv in (diff.ours, diff.theirs):  # each server's active expiry takes the keys stored expired
            deadline = time.time() + 5
            while srv.call("DBSIZE") != 0 and time.time() < deadline:
                time.sleep(0.02)
        c("PUBLISH", "__keyevent@0__:end", "x")
        events = []
        for s in sub:
            got = []
            while True:
                m = s.read()
                got.append(m)
                if m[2] == b"__keyevent@0__:end":
                    break
            events.append(got)
            s.close()
        # the active cycles take the keys stored expired in their own table order
        assert sorted(events[0]) == sorted(events[1])
        assert [e for e in events[0] if e[2] != b"__keyevent@0__:expired"] == \
            [e for e in events[1] if e[2] != b"__keyevent@0__:expired"]
    finally:
        c("CONFIG", "SET", "notify-keyspace-events", "")


def test_bit_arguments_read_before_the_key(diff):
    """7.4 (and Valkey 8) check BITCOUNT/BITPOS arguments before looking the key up."""
    c = diff.check
    c("RPUSH", "wt", "a")
    c("SET", "s", "\xff\x00")
    for key in ("missing", "wt", "s"):
        for args in (("0",), ("0", "1", "FOO"), ("a", "b"), ("0", "1", "BIT", "x"), ("0", "x"), ("0", "1", "BIT"),
                     ("0", "-1"), ()):
            c("BITCOUNT", key, *args)
        for args in (("1", "x"), ("1", "0", "x"), ("1", "0", "1", "FOO"), ("1", "0", "1", "BIT", "x"), ("0", "0", "1", "BIT"),
                     ("0", "5"), ("2", "0"), ("1",)):
            c("BITPOS", key, *args)


def test_bitcount_start_alone(diff):
    c = diff.check
    c("SET", "s", "xyz")
    for start in ("0", "1", "-1", "2", "5", "-100", "x"):
        c("BITCOUNT", "s", start)
        c("BITCOUNT", "missing", start)


def test_list_encoding(diff):
    """7.2: a list that fits one quicklist node is a listpack (7.0: always a quicklist)."""
    c = diff.check
    c("RPUSH", "l", "a", "1", "-5000", "70000", "x" * 100)
    c("OBJECT", "ENCODING", "l")
    for i in range(80):
        c("RPUSH", "l", "y" * 100)
        c("OBJECT", "ENCODING", "l")
    with diff.config("list-max-listpack-size", "4"):
        c("RPUSH", "c", "1", "2", "3", "4")
        c("OBJECT", "ENCODING", "c")
        c("RPUSH", "c", "5")
        c("OBJECT", "ENCODING", "c")
        c("LPUSH", "big", "z" * 9000)
        c("OBJECT", "ENCODING", "big")
    with diff.config("list-max-listpack-size", "-1"):
        c("RPUSH", "m", *["w" * 60] * 60)
        c("OBJECT", "ENCODING", "m")
        c("RPUSH", "m", *["w" * 60] * 10)
        c("OBJECT", "ENCODING", "m")
    c("SORT", "l", "ALPHA", "LIMIT", "0", "3", "STORE", "d")
    c("OBJECT", "ENCODING", "d")
