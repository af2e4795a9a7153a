"""Sorted set commands, differentially against redis-server 7.0 (RESP2 and RESP3): every
command, its options and incompatibilities, the error texts and their order, score
formatting, encodings (listpack/skiplist), empty keys deleted, WRONGTYPE, blocking pops,
declarations (COMMAND INFO) and key positions (COMMAND GETKEYS)."""

from __future__ import annotations

import threading
import time

import pytest

import pyredis.commands  # noqa: F401  (registers every command)
from effects import Effects
from resp import RawClient, encode_command
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)

LONG = "x" * 65


@pytest.mark.parametrize("argv", [
    ["ZUNIONSTORE", "d", "2", "a", "b"], ["ZUNIONSTORE", "d", "5", "a", "b"], ["ZUNIONSTORE", "d", "0", "a"],
    ["ZINTERSTORE", "d", "1", "a", "WEIGHTS", "2"], ["ZDIFFSTORE", "d", "2", "a", "b"],
    ["ZUNION", "2", "a", "b", "WITHSCORES"], ["ZINTER", "3", "a", "b", "c"], ["ZDIFF", "1", "a"],
    ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"], ["ZMPOP", "2", "a", "b", "MIN"],
    ["BZMPOP", "0", "2", "a", "b", "MAX", "COUNT", "2"], ["ZRANGESTORE", "d", "s", "0", "-1"],
    ["BZPOPMIN", "a", "b", "0"], ["ZADD", "k", "1", "m"],
])
def test_getkeys(diff, argv):
    diff.check("COMMAND", "GETKEYS", *argv)


def test_zadd_basic_and_options(diff):
    c = diff.check
    c("ZADD", "z", "1", "a", "2", "b", "3", "c")
    c("ZADD", "z", "1", "a")
    c("ZADD", "z", "CH", "5", "a", "6", "new")
    c("ZADD", "z", "NX", "10", "a", "11", "nx")
    c("ZADD", "z", "XX", "10", "a", "11", "xx")
    c("ZADD", "z", "XX", "CH", "11", "a", "12", "b")
    c("ZADD", "z", "GT", "CH", "1", "a", "100", "b")
    c("ZADD", "z", "LT", "CH", "1", "a", "100", "c")
    c("ZADD", "z", "GT", "XX", "CH", "1000", "a", "5", "zz")
    c("ZADD", "z", "gt", "ch", "1000", "zz")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")
    c("ZADD", "z", "INCR", "5", "a")
    c("ZADD", "z", "INCR", "NX", "5", "a")
    c("ZADD", "z", "INCR", "XX", "5", "nonexisting")
    c("ZADD", "z", "INCR", "GT", "-1", "a")
    c("ZADD", "z", "INCR", "LT", "-1", "a")
    c("ZADD", "z", "INCR", "LT", "0", "a")
    c("ZADD", "z", "INCR", "GT", "0", "a")
    c("ZADD", "z", "INCR", "0", "a")
    c("ZADD", "missing", "XX", "1", "a")
    c("ZADD", "missing", "XX", "INCR", "1", "a")
    c("EXISTS", "missing")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")


def test_zadd_errors(diff):
    c = diff.check
    c("ZADD", "z", "1", "a")
    c("ZADD", "z", "NX", "XX", "1", "a")
    c("ZADD", "z", "GT", "LT", "1", "a")
    c("ZADD", "z", "GT", "NX", "1", "a")
    c("ZADD", "z", "LT", "NX", "1", "a")
    c("ZADD", "z", "NX", "XX", "GT", "1", "a")
    c("ZADD", "z", "INCR", "1", "a", "2", "b")
    c("ZADD", "z", "1", "a", "2")
    c("ZADD", "z", "NX")
    c("ZADD", "z", "NX", "XX")  # syntax error first (no pairs)
    c("ZADD", "z", "x", "a")
    c("ZADD", "z", "1", "a", "nan", "b")
    c("ZADD", "z", "1e999", "a")
    c("ZADD", "z", "1e-400", "a")
    c("ZADD", "z", " 1", "a")
    c("ZADD", "z", "1 ", "a")
    c("ZADD", "z", "", "a")
    c("ZADD", "z", "1e-310", "a")
    c("ZADD", "z", "0x10", "hex")
    c("ZADD", "z", "inf", "i", "-inf", "ni", "+inf", "pi", "-Infinity", "nn")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")
    c("ZADD", "z", "INCR", "-inf", "i")
    c("ZINCRBY", "z", "-inf", "i")
    c("ZINCRBY", "z", "+inf", "ni")
    c("ZSCORE", "z", "i")
    c("SET", "s", "x")
    c("ZADD", "s", "1", "a")
    c("ZADD", "s", "x", "a")  # score parse errors come before WRONGTYPE
    c("ZADD", "s", "XX", "1", "a")
    c("ZINCRBY", "s", "1", "a")
    c("ZADD", "z")
    c("ZADD", "z", "1")


def test_zincrby(diff):
    c = diff.check
    c("ZINCRBY", "z", "1.5", "a")
    c("ZINCRBY", "z", "1.1", "a")
    c("ZINCRBY", "z", "-10", "a")
    c("ZINCRBY", "z", "x", "a")
    c("ZINCRBY", "z", "nx", "a")
    c("ZINCRBY", "z", "incr", "a")
    c("ZINCRBY", "z", "1e308", "b")
    c("ZINCRBY", "z", "1e308", "b")
    c("ZINCRBY", "z", "-0", "zero")
    c("ZSCORE", "z", "zero")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")


def test_score_formatting(diff):
    c = diff.check
    scores = ["1.1", "0.1", "3", "-3", "1e20", "1.5e-7", "123456789012345678", "0.3", "2.5", "1e15",
              "4503599627370496", "-0", "1e-310"]
    for i, s in enumerate(scores):
        c("ZADD", "z", s, f"m{i}")
        c("ZSCORE", "z", f"m{i}")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")
    c("ZSCAN", "z", "0")
    c("ZMSCORE", "z", "m0", "nope", "m1")
    c("ZMSCORE", "nokey", "a", "b")
    with diff.config("zset-max-listpack-entries", "0"):
        for i, s in enumerate(scores):
            c("ZADD", "sk", s, f"m{i}")
        c("ZRANGE", "sk", "0", "-1", "WITHSCORES")
        c("ZSCAN", "sk", "0", "COUNT", "100", unordered=True)
        c("ZSCORE", "sk", "m11")
        c("ZINCRBY", "sk", "-0", "m11")


def test_zrem_zcard_deletes_empty(diff):
    c = diff.check
    c("ZADD", "z", "1", "a", "2", "b")
    c("ZREM", "z", "a", "x", "a")
    c("ZCARD", "z")
    c("ZREM", "z", "b", "c")
    c("EXISTS", "z")
    c("ZCARD", "z")
    c("ZREM", "z", "a")
    c("SET", "s", "v")
    c("ZREM", "s", "a")
    c("ZCARD", "s")
    c("ZSCORE", "s", "a")
    c("ZMSCORE", "s", "a")
    c("ZRANK", "s", "a")


def test_rank(diff):
    c = diff.check
    c("ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d", "-inf", "e")
    for m in "abcdex":
        c("ZRANK", "z", m)
        c("ZREVRANK", "z", m)
    c("ZRANK", "nokey", "a")
    c("ZRANK", "z", "a", "WITHSCORE")
    c("ZREVRANK", "z", "a", "WITHSCORE")


def _fill(diff, key="z"):
    diff.check("ZADD", key, "1", "a", "2", "b", "2", "bb", "3", "c", "4.5", "d", "-inf", "ninf", "+inf", "pinf",
               "0", "zero")


@pytest.mark.parametrize("r", [("0", "-1"), ("1", "3"), ("-3", "-1"), ("-100", "100"), ("5", "2"), ("20", "30"),
                               ("-1", "-1"), ("0", "0"), ("x", "1"), ("1", "y"), ("3", "-100")])
def test_zrange_rank(diff, r):
    _fill(diff)
    diff.check("ZRANGE", "z", *r)
    diff.check("ZRANGE", "z", *r, "WITHSCORES")
    diff.check("ZREVRANGE", "z", *r)
    diff.check("ZREVRANGE", "z", *r, "WITHSCORES")
    diff.check("ZRANGE", "z", *r, "REV", "WITHSCORES")
    diff.check("ZRANGESTORE", "dst", "z", *r)
    diff.check("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    diff.check("ZREMRANGEBYRANK", "z", *r)
    diff.check("ZRANGE", "z", "0", "-1", "WITHSCORES")


SCORE_RANGES = [("-inf", "+inf"), ("1", "3"), ("(1", "3"), ("1", "(3"), ("(1", "(3"), ("2", "2"), ("(2", "2"),
                ("3", "1"), ("-inf", "-inf"), ("inf", "inf"), ("(inf", "inf"), ("-inf", "(-inf"), ("(-inf", "(inf"),
                ("", ""), ("(", "10"), (" 1", "4.5"), ("0x1", "0x3"), ("1e0", "4.5e0"), ("x", "1"), ("1", "x"),
                ("((1", "2"), ("1 ", "2"), (" ", "2"), ("nan", "1"), ("1e999", "inf"), ("-1e999", "0"),
                ("-0", "0"), ("(0", "(4.5"), ("2.0", "2.00")]


@pytest.mark.parametrize("r", SCORE_RANGES)
def test_score_ranges(diff, r):
    _fill(diff)
    c = diff.check
    c("ZCOUNT", "z", *r)
    c("ZRANGEBYSCORE", "z", *r)
    c("ZRANGEBYSCORE", "z", *r, "WITHSCORES")
    c("ZREVRANGEBYSCORE", "z", r[1], r[0], "WITHSCORES")
    c("ZRANGE", "z", *r, "BYSCORE", "WITHSCORES")
    c("ZRANGE", "z", r[1], r[0], "BYSCORE", "REV")
    for off, cnt in (("0", "2"), ("1", "1"), ("2", "-1"), ("-1", "2"), ("0", "0"), ("100", "1"), ("1", "-5")):
        c("ZRANGEBYSCORE", "z", *r, "LIMIT", off, cnt)
        c("ZREVRANGEBYSCORE", "z", r[1], r[0], "WITHSCORES", "LIMIT", off, cnt)
        c("ZRANGE", "z", *r, "BYSCORE", "LIMIT", off, cnt, "WITHSCORES")
        c("ZRANGE", "z", r[1], r[0], "BYSCORE", "REV", "LIMIT", off, cnt)
    c("ZRANGESTORE", "dst", "z", *r, "BYSCORE")
    c("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    c("ZRANGESTORE", "dst2", "z", r[1], r[0], "BYSCORE", "REV", "LIMIT", "1", "2")
    c("ZRANGE", "dst2", "0", "-1", "WITHSCORES")
    c("ZREMRANGEBYSCORE", "z", *r)
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")


def test_zadd_encoding_hint_keeps_negative_zero(diff):
    """Valkey 8.0 makes the skiplist before inserting when any member of the ZADD is too long
    for a listpack (7.2/7.4 hint the first member of a new key only): a -0 score stays -0."""
    c = diff.check
    long = "x" * 70
    c("ZADD", "c", "-0", "m", "0", long)
    c("ZADD", "d", "-0", long, "0", "m")
    c("ZADD", "f", "1", "a")
    c("ZADD", "f", "-0", long)
    c("ZADD", "g", "1", "a")
    c("ZADD", "g", "NX", "-0", "b", "-0", long)
    c("ZADD", "h", "1", "a")
    c("ZADD", "h", "XX", "-0", long)  # converted even though nothing is added
    c("ZINCRBY", "i", "-0", long)
    for k in "cdfghi":
        c("OBJECT", "ENCODING", k)
        c("ZRANGE", k, "0", "-1", "WITHSCORES")


@pytest.mark.parametrize("entries", ["0", "128"], ids=["skiplist", "listpack"])
def test_negative_limit_offset(diff, entries):
    """Over a skiplist Redis 7.4 and Valkey 8.0 count a negative offset from the end of the
    range (zslNthInRange, zslNthInLexRange); a listpack, and 7.0/7.2, answer nothing."""
    c = diff.check
    with diff.config("zset-max-listpack-entries", entries):
        c("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f", "6", "g")
        c("ZADD", "l", *[x for m in ("a", "b", "bb", "c", "d", "e", "f") for x in ("0", m)])
        c("OBJECT", "ENCODING", "z")
        for off, cnt in (("-1", "2"), ("-2", "10"), ("-1", "-1"), ("-3", "1"), ("-7", "-1"), ("-8", "3"),
                         ("-1", "0"), ("-100", "1")):
            for r in (("-inf", "+inf"), ("2", "5"), ("(2", "(6"), ("3", "3"), ("(3", "4"), ("7", "9"),
                      ("5", "2")):
                c("ZRANGEBYSCORE", "z", *r, "LIMIT", off, cnt, "WITHSCORES")
                c("ZREVRANGEBYSCORE", "z", r[1], r[0], "LIMIT", off, cnt)
                c("ZRANGE", "z", *r, "BYSCORE", "LIMIT", off, cnt)
                c("ZRANGE", "z", r[1], r[0], "BYSCORE", "REV", "LIMIT", off, cnt, "WITHSCORES")
            for r in (("-", "+"), ("[b", "(e"), ("(a", "[c"), ("[x", "+"), ("[c", "[c")):
                c("ZRANGEBYLEX", "l", *r, "LIMIT", off, cnt)
                c("ZREVRANGEBYLEX", "l", r[1], r[0], "LIMIT", off, cnt)
                c("ZRANGE", "l", r[1], r[0], "BYLEX", "REV", "LIMIT", off, cnt)
            c("ZRANGESTORE", "dst", "z", "2", "5", "BYSCORE", "LIMIT", off, cnt)
            c("ZRANGE", "dst", "0", "-1", "WITHSCORES")
            c("ZRANGESTORE", "dst", "l", "-", "+", "BYLEX", "LIMIT", off, cnt)
            c("ZRANGE", "dst", "0", "-1", "WITHSCORES")


LEX_RANGES = [("-", "+"), ("[a", "[c"), ("(a", "(c"), ("[b", "(bb"), ("[b", "[bb"), ("(b", "+"), ("-", "(c"),
              ("+", "-"), ("-", "-"), ("+", "+"), ("[c", "[a"), ("[a", "[a"), ("(a", "[a"), ("[", "+"),
              ("a", "[b"), ("[a", "b"), ("", "+"), ("-x", "+"), ("-", "+x"), ("[\x00", "[\xff"), ("(", "(")]


@pytest.mark.parametrize("r", LEX_RANGES)
def test_lex_ranges(diff, r):
    c = diff.check
    c("ZADD", "z", "0", "a", "0", "b", "0", "bb", "0", "c", "0", "d", "0", "", "0", "B")
    c("ZLEXCOUNT", "z", *r)
    c("ZRANGEBYLEX", "z", *r)
    c("ZREVRANGEBYLEX", "z", r[1], r[0])
    c("ZRANGE", "z", *r, "BYLEX")
    c("ZRANGE", "z", r[1], r[0], "BYLEX", "REV")
    for off, cnt in (("0", "2"), ("1", "1"), ("2", "-1"), ("-1", "2"), ("0", "0"), ("100", "1")):
        c("ZRANGEBYLEX", "z", *r, "LIMIT", off, cnt)
        c("ZREVRANGEBYLEX", "z", r[1], r[0], "LIMIT", off, cnt)
        c("ZRANGE", "z", r[1], r[0], "BYLEX", "REV", "LIMIT", off, cnt)
    c("ZRANGESTORE", "dst", "z", *r, "BYLEX")
    c("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    c("ZREMRANGEBYLEX", "z", *r)
    c("ZRANGE", "z", "0", "-1")


def test_lex_mixed_scores_listpack(diff):
    """With different scores Redis walks the listpack from one end: same here."""
    c = diff.check
    c("ZADD", "z", "1", "d", "2", "a", "3", "c", "4", "b", "5", "e")
    for r in (("[b", "[d"), ("-", "[c"), ("[a", "+"), ("(a", "(e"), ("[c", "+"), ("[b", "[c"), ("[a", "[d")):
        c("ZLEXCOUNT", "z", *r)
        c("ZRANGEBYLEX", "z", *r)
        c("ZREVRANGEBYLEX", "z", r[1], r[0])
        for lim in (("1", "2"), ("2", "-1"), ("3", "1")):
            c("ZRANGEBYLEX", "z", *r, "LIMIT", *lim)
            c("ZREVRANGEBYLEX", "z", r[1], r[0], "LIMIT", *lim)
    c("ZADD", "y", "0", "n", "0", "o", "1", "m")
    c("ZRANGE", "y", "-", "[n", "BYLEX", "LIMIT", "2", "1")  # the offset skips out-of-range members
    c("ZRANGE", "y", "[o", "-", "BYLEX", "REV", "LIMIT", "1", "5")


def test_range_errors_and_order(diff):
    c = diff.check
    _fill(diff)
    c("SET", "s", "x")
    c("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1")
    c("ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1")  # -1 is "no limit": accepted
    c("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")
    c("ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX")
    c("ZRANGE", "z", "0", "-1", "REV", "REV")
    c("ZRANGE", "z", "0", "-1", "LIMIT", "0")
    c("ZRANGE", "z", "0", "-1", "LIMIT", "x", "1", "BYSCORE")
    c("ZRANGE", "z", "0", "-1", "FOO")
    c("ZRANGE", "s", "0", "-1")
    c("ZRANGE", "s", "x", "-1")
    c("ZRANGE", "s", "x", "-1", "BYSCORE")
    c("ZRANGE", "s", "a", "b", "BYLEX")
    c("ZRANGE", "nokey", "0", "-1")
    c("ZRANGE", "nokey", "x", "-1")
    c("ZREVRANGE", "z", "0", "-1", "REV")
    c("ZREVRANGE", "z", "0", "-1", "BYSCORE")
    c("ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1")
    c("ZRANGEBYSCORE", "z", "0", "1", "BYSCORE")
    c("ZRANGEBYSCORE", "z", "0", "1", "REV")
    c("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES")
    c("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "a", "b")
    c("ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "0", "99999999999999999999")
    c("ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES")
    c("ZRANGESTORE", "d", "s", "0", "-1")
    c("ZRANGESTORE", "d", "z", "a", "b", "BYSCORE")
    c("ZCOUNT", "s", "0", "1")
    c("ZCOUNT", "s", "x", "1")
    c("ZCOUNT", "nokey", "0", "1")
    c("ZLEXCOUNT", "s", "-", "+")
    c("ZLEXCOUNT", "s", "a", "+")
    c("ZLEXCOUNT", "nokey", "-", "+")
    c("ZREMRANGEBYRANK", "s", "0", "1")
    c("ZREMRANGEBYRANK", "s", "x", "1")
    c("ZREMRANGEBYSCORE", "s", "x", "1")
    c("ZREMRANGEBYLEX", "s", "x", "+")
    c("ZREMRANGEBYLEX", "nokey", "-", "+")
    c("ZREMRANGEBYSCORE", "nokey", "-inf", "+inf")


def test_zrangestore_negative_zero_while_a_listpack(diff):
    """ZRANGESTORE adds the members one by one to a new listpack: a -0 added before the set
    converts (a member over zset-max-listpack-value, or past zset-max-listpack-entries) is
    stored as 0, one added after keeps its sign (found by the zset hypothesis machine)."""
    c = diff.check
    long = "x" * 70
    c("ZADD", "src", "0", long, "-0", "m", "-0", "a")
    for args in (("-inf", "+inf", "BYSCORE"), ("+inf", "-inf", "BYSCORE", "REV"), ("0", "-1"), ("0", "-1", "REV"),
                 ("-", "+", "BYLEX")):
        c("ZRANGESTORE", "dst", "src", *args)
        c("ZRANGE", "dst", "0", "-1", "WITHSCORES")
        c("OBJECT", "ENCODING", "dst")
    c("CONFIG", "SET", "zset-max-listpack-entries", "1")
    try:
        c("ZADD", "small", "-0", "a", "-0", "b", "-0", "c")
        for args in (("-inf", "+inf", "BYSCORE"), ("0", "-1"), ("0", "0")):
            c("ZRANGESTORE", "dst", "small", *args)
            c("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    finally:
        diff.both("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_zrangestore_overwrites_and_deletes(diff):
    c = diff.check
    _fill(diff)
    c("SET", "dst", "string")
    c("EXPIRE", "dst", "100")
    c("ZRANGESTORE", "dst", "z", "0", "2")
    c("TYPE", "dst")
    c("TTL", "dst")
    c("ZRANGESTORE", "dst", "z", "10", "20")
    c("EXISTS", "dst")
    c("ZRANGESTORE", "dst", "z", "0", "-1")
    c("ZRANGESTORE", "dst", "nokey", "0", "-1")
    c("EXISTS", "dst")
    c("ZRANGESTORE", "z", "z", "1", "2")
    c("ZRANGE", "z", "0", "-1", "WITHSCORES")


def test_zpop(diff):
    c = diff.check
    _fill(diff)
    c("ZPOPMIN", "z")
    c("ZPOPMAX", "z")
    c("ZPOPMIN", "z", "2")
    c("ZPOPMAX", "z", "2")
    c("ZPOPMIN", "z", "0")
    c("ZPOPMIN", "z", "-1")
    c("ZPOPMIN", "z", "x")
    c("ZPOPMIN", "z", "1", "2")
    c("ZPOPMAX", "z", "100")
    c("EXISTS", "z")
    c("ZPOPMIN", "z")
    c("ZPOPMIN", "z", "3")
    c("ZPOPMIN", "z", "0")
    c("SET", "s", "x")
    c("ZPOPMIN", "s")
    c("ZPOPMIN", "s", "0")
    c("ZPOPMAX", "s", "-1")


def test_zmpop(diff):
    c = diff.check
    c("ZADD", "b", "1", "x", "2", "y", "3", "z")
    c("ZMPOP", "2", "a", "b", "MIN")
    c("ZMPOP", "2", "a", "b", "MAX", "COUNT", "5")
    c("ZMPOP", "2", "a", "b", "MAX")
    c("EXISTS", "b")
    c("ZMPOP", "0", "a", "MIN")
    c("ZMPOP", "-1", "a", "MIN")
    c("ZMPOP", "x", "a", "MIN")
    c("ZMPOP", "3", "a", "b", "MIN")
    c("ZMPOP", "1", "a", "FOO")
    c("ZMPOP", "1", "a", "MIN", "COUNT", "0")
    c("ZMPOP", "1", "a", "MIN", "COUNT", "x")
    c("ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "1")
    c("ZMPOP", "1", "a", "MIN", "COUNT")
    c("ZMPOP", "1", "a", "MIN", "FOO")
    c("SET", "s", "x")
    c("ZADD", "b", "1", "x")
    c("ZMPOP", "2", "s", "b", "MIN")
    c("ZMPOP", "2", "b", "s", "MIN")
    c("ZMPOP", "2", "nokey", "s", "MIN")


def test_zrandmember_deterministic(diff):
    c = diff.check
    c("ZRANDMEMBER", "nokey")
    c("ZRANDMEMBER", "nokey", "5")
    c("ZRANDMEMBER", "nokey", "5", "WITHSCORES")
    c("ZADD", "one", "1.5", "a")
    c("ZRANDMEMBER", "one")
    c("ZRANDMEMBER", "one", "1")
    c("ZRANDMEMBER", "one", "-3")
    c("ZRANDMEMBER", "one", "-3", "WITHSCORES")
    c("ZRANDMEMBER", "one", "0")
    c("ZRANDMEMBER", "one", "0", "WITHSCORES")
    _fill(diff)
    c("ZRANDMEMBER", "z", "100")
    c("ZRANDMEMBER", "z", "8", "WITHSCORES")
    c("ZADD", "t", "1", "a", "1", "b", "1", "c")
    c("ZRANDMEMBER", "t", "3", "WITHSCORES")
    c("ZRANDMEMBER", "z", "x")
    c("ZRANDMEMBER", "z", "1", "2")
    c("ZRANDMEMBER", "z", "1", "WITHSCORES", "x")
    c("ZRANDMEMBER", "z", "-9223372036854775808")
    c("ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES")
    c("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES")
    c("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES")
    c("SET", "s", "x")
    c("ZRANDMEMBER", "s")
    c("ZRANDMEMBER", "s", "1")
    with diff.config("zset-max-listpack-entries", "0"):
        c("ZADD", "big", "1", "a", "2", "b", "3", "c")
        c("ZRANDMEMBER", "big", "3", "WITHSCORES")


def test_zrandmember_random(diff):
    ours = diff.ours
    _fill(diff)
    members = set(diff.theirs.call("ZRANGE", "z", "0", "-1"))
    for n in (1, 3, 7):
        got = ours.call("ZRANDMEMBER", "z", str(n))
        assert len(got) == n and len(set(got)) == n and set(got) <= members
    got = ours.call("ZRANDMEMBER", "z", "-20")
    assert len(got) == 20 and set(got) <= members
    got = ours.call("ZRANDMEMBER", "z", "-5", "WITHSCORES")
    theirs = diff.theirs.call("ZRANDMEMBER", "z", "-5", "WITHSCORES")
    if diff.resp == 3:
        assert len(got) == 5 and all(len(p) == 2 and p[0] in members for p in got)
        assert type(got[0][1]) is type(theirs[0][1])
    else:
        assert len(got) == 10 and set(got[::2]) <= members
    assert ours.call("ZRANDMEMBER", "z") in members
    seen = {ours.call("ZRANDMEMBER", "z") for _ in range(200)}
    assert len(seen) > 3


def test_zscan(diff):
    c = diff.check
    c("ZSCAN", "nokey", "0")
    c("ZSCAN", "nokey", "x")
    c("ZSCAN", "nokey", "0", "FOO")
    _fill(diff)
    c("ZSCAN", "z", "0")
    c("ZSCAN", "z", "0", "MATCH", "b*")
    c("ZSCAN", "z", "0", "MATCH", "*", "COUNT", "1")
    c("ZSCAN", "z", "0", "COUNT", "0")
    c("ZSCAN", "z", "0", "COUNT", "x")
    c("ZSCAN", "z", "0", "TYPE", "zset")
    c("ZSCAN", "z", "0", "MATCH")
    c("ZSCAN", "z", "abc")
    c("ZSCAN", "z", " 1")
    c("ZSCAN", "z", "")
    c("SET", "s", "x")
    c("ZSCAN", "s", "0")
    c("ZSCAN", "s", "x")


def test_zscan_skiplist_full_iteration(diff):
    with diff.config("zset-max-listpack-entries", "4"):
        args = []
        for i in range(300):
            args += [str(i * 1.1), f"m{i}"]
        diff.check("ZADD", "big", *args)
        diff.check("OBJECT", "ENCODING", "big")

        def full_scan(client) -> dict:
            cur, seen = b"0", {}
            while True:
                cur, items = client.call("ZSCAN", "big", cur, "COUNT", "20")
                for i in range(0, len(items), 2):
                    seen[items[i]] = items[i + 1]
                if cur == b"0":
                    return seen

        # every member once, its score as the server's ZSCAN writes it (%.17g for a skiplist,
        # where 7.2's ZRANGE writes the shortest form): the two full iterations agree
        seen = full_scan(diff.ours)
        assert seen == full_scan(diff.theirs)
        assert len(seen) == 300
        assert diff.ours.call("ZSCAN", "big", "0", "MATCH", "m1?", "COUNT", "1000")[1] != []


def _sets(diff):
    c = diff.check
    c("ZADD", "z1", "1", "a", "2", "b", "3", "c", "inf", "i")
    c("ZADD", "z2", "10", "b", "20", "c", "30", "d", "-inf", "i")
    c("ZADD", "z3", "0.1", "c", "0.2", "e", "0.3", "a")
    c("SADD", "s1", "a", "d", "x")
    c("SADD", "si", "1", "2", "3")
    c("ZADD", "zi", "5", "1", "6", "3")


SETOPS = [
    ["2", "z1", "z2"], ["3", "z1", "z2", "z3"], ["2", "z1", "nokey"], ["1", "nokey"], ["2", "z1", "s1"],
    ["2", "s1", "z2"], ["2", "si", "zi"], ["2", "z1", "z1"], ["2", "z1", "z2", "WEIGHTS", "2", "3"],
    ["2", "z1", "z2", "WEIGHTS", "0", "1"], ["2", "z1", "z2", "WEIGHTS", "-1", "1", "AGGREGATE", "MIN"],
    ["2", "z1", "z2", "AGGREGATE", "MAX"], ["2", "z1", "z2", "AGGREGATE", "min"],
    ["3", "z1", "z2", "z3", "WEIGHTS", "1", "2", "3", "AGGREGATE", "SUM"],
    ["2", "z1", "z2", "WEIGHTS", "1"], ["2", "z1", "z2", "WEIGHTS", "1", "x"], ["2", "z1", "z2", "AGGREGATE", "AVG"],
    ["2", "z1", "z2", "AGGREGATE"], ["2", "z1", "z2", "FOO"], ["0", "z1"], ["-1", "z1"], ["x", "z1"],
    ["3", "z1", "z2"], ["2", "z1", "str"], ["2", "str", "nokey", "x"], ["2", "z1", "z2", "WEIGHTS", "nan", "1"],
    ["2", "z1", "z2", "WEIGHTS", "inf", "1"], ["2", "z1", "z2", "WEIGHTS", "inf", "-inf"],
    ["2", "z1", "z2", "WEIGHTS", "1", "1", "WEIGHTS", "2", "2"], ["1", "z1", "LIMIT", "1"],
]


@pytest.mark.parametrize("args", SETOPS)
@pytest.mark.parametrize("op", ["ZUNION", "ZINTER", "ZDIFF"])
def test_setops(diff, op, args):
    _sets(diff)
    c = diff.check
    c("SET", "str", "x")
    c(op, *args)
    c(op, *args, "WITHSCORES")
    c(op + "STORE", "dst", *args)
    c("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    c("OBJECT", "ENCODING", "dst")
    c(op + "STORE", "dst", *args, "WITHSCORES")
    if op == "ZINTER":
        c("ZINTERCARD", *args)


def test_setstore_deletes_and_encoding(diff):
    c = diff.check
    _sets(diff)
    c("SET", "dst", "x")
    c("ZINTERSTORE", "dst", "2", "z1", "nokey")
    c("EXISTS", "dst")
    c("ZUNIONSTORE", "dst", "1", "z1")
    c("OBJECT", "ENCODING", "dst")
    c("ZADD", "long", "1", LONG)
    c("OBJECT", "ENCODING", "long")
    c("ZUNIONSTORE", "dst", "2", "z1", "long")
    c("OBJECT", "ENCODING", "dst")
    c("ZDIFFSTORE", "dst", "2", "long", "z1")
    c("OBJECT", "ENCODING", "dst")
    c("ZDIFFSTORE", "dst", "2", "z1", "long")
    c("OBJECT", "ENCODING", "dst")
    with diff.config("zset-max-listpack-entries", "2"):
        c("ZUNIONSTORE", "dst", "2", "z1", "z2")
        c("OBJECT", "ENCODING", "dst")
        c("ZRANGESTORE", "dst", "z1", "0", "1")
        c("OBJECT", "ENCODING", "dst")
        c("ZRANGESTORE", "dst", "z1", "0", "2")
        c("OBJECT", "ENCODING", "dst")
        c("ZRANGESTORE", "dst", "z1", "-inf", "+inf", "BYSCORE")
        c("OBJECT", "ENCODING", "dst")
        c("ZUNIONSTORE", "z1", "1", "z1")
        c("OBJECT", "ENCODING", "z1")


def test_zintercard(diff):
    c = diff.check
    _sets(diff)
    c("ZINTERCARD", "2", "z1", "z2")
    c("ZINTERCARD", "2", "z1", "z2", "LIMIT", "0")
    c("ZINTERCARD", "2", "z1", "z2", "LIMIT", "1")
    c("ZINTERCARD", "2", "z1", "z2", "LIMIT", "-1")
    c("ZINTERCARD", "2", "z1", "z2", "LIMIT", "x")
    c("ZINTERCARD", "2", "z1", "z2", "LIMIT")
    c("ZINTERCARD", "2", "z1", "z2", "WEIGHTS", "1", "2")
    c("ZINTERCARD", "2", "z1", "z2", "AGGREGATE", "SUM")
    c("ZINTERCARD", "2", "z1", "z2", "WITHSCORES")
    c("ZINTERCARD", "2", "z1", "s1")
    c("ZINTERCARD", "0", "z1")
    c("ZINTERCARD", "x", "z1")
    c("ZINTERCARD", "2", "z1")


def test_encoding_conversions(diff):
    c = diff.check
    c("ZADD", "z", "1", "a")
    c("OBJECT", "ENCODING", "z")
    c("ZADD", "z", "1", LONG)
    c("OBJECT", "ENCODING", "z")
    c("ZREM", "z", LONG)
    c("OBJECT", "ENCODING", "z")
    c("ZADD", "l", "1", LONG)
    c("OBJECT", "ENCODING", "l")
    args = []
    for i in range(128):
        args += [str(i), f"m{i}"]
    c("ZADD", "n", *args)
    c("OBJECT", "ENCODING", "n")
    c("ZADD", "n", "1000", "one-more")
    c("OBJECT", "ENCODING", "n")
    c("ZPOPMIN", "n", "100")
    c("OBJECT", "ENCODING", "n")
    with diff.config("zset-max-listpack-entries", "0"):
        c("ZADD", "e", "1", "a")
        c("OBJECT", "ENCODING", "e")
    with diff.config("zset-max-listpack-value", "2"):
        c("ZADD", "v", "1", "abc", "2", "a")
        c("OBJECT", "ENCODING", "v")
        c("ZADD", "w", "1", "a", "2", "abc")
        c("OBJECT", "ENCODING", "w")
        c("ZADD", "w2", "1", "a")
        c("ZINCRBY", "w2", "1", "abc")
        c("OBJECT", "ENCODING", "w2")
    c("TYPE", "z")


def test_wrongtype_everywhere(diff):
    c = diff.check
    c("SET", "s", "x")
    for cmd in (["ZADD", "s", "1", "a"], ["ZINCRBY", "s", "1", "a"], ["ZREM", "s", "a"], ["ZCARD", "s"],
                ["ZCOUNT", "s", "0", "1"], ["ZLEXCOUNT", "s", "-", "+"], ["ZSCORE", "s", "a"],
                ["ZMSCORE", "s", "a"], ["ZRANK", "s", "a"], ["ZREVRANK", "s", "a"], ["ZRANGE", "s", "0", "1"],
                ["ZRANGESTORE", "d", "s", "0", "1"], ["ZRANGEBYSCORE", "s", "0", "1"],
                ["ZREVRANGEBYSCORE", "s", "0", "1"], ["ZRANGEBYLEX", "s", "-", "+"],
                ["ZREVRANGEBYLEX", "s", "+", "-"], ["ZREVRANGE", "s", "0", "1"],
                ["ZREMRANGEBYRANK", "s", "0", "1"], ["ZREMRANGEBYSCORE", "s", "0", "1"],
                ["ZREMRANGEBYLEX", "s", "-", "+"], ["ZPOPMIN", "s"], ["ZPOPMAX", "s"], ["ZMPOP", "1", "s", "MIN"],
                ["ZRANDMEMBER", "s"], ["ZUNION", "1", "s"], ["ZINTER", "1", "s"], ["ZDIFF", "1", "s"],
                ["ZUNIONSTORE", "d", "1", "s"], ["ZINTERSTORE", "d", "1", "s"], ["ZDIFFSTORE", "d", "1", "s"],
                ["ZINTERCARD", "1", "s"], ["ZSCAN", "s", "0"], ["BZPOPMIN", "s", "0"], ["BZPOPMAX", "s", "0"],
                ["BZMPOP", "0", "1", "s", "MIN"]):
        c(*cmd)
    c("ZADD", "z", "1", "a")
    c("LPUSH", "l", "a")
    c("ZUNION", "2", "z", "l")
    c("ZDIFFSTORE", "d", "2", "z", "l")


def test_arity(diff):
    c = diff.check
    for cmd in (["ZADD", "k", "1"], ["ZINCRBY", "k", "1"], ["ZREM", "k"], ["ZCARD"], ["ZCOUNT", "k", "0"],
                ["ZSCORE", "k"], ["ZMSCORE", "k"], ["ZRANK", "k"], ["ZRANGE", "k", "0"], ["ZRANGESTORE", "d", "k", "0"],
                ["ZPOPMIN"], ["ZMPOP", "1", "k"], ["ZRANDMEMBER"], ["ZUNION", "1"], ["ZUNIONSTORE", "d", "1"],
                ["ZINTERCARD", "1"], ["ZSCAN", "k"], ["BZPOPMIN", "k"], ["BZMPOP", "0", "1", "k"],
                ["ZREMRANGEBYRANK", "k", "0"]):
        c(*cmd)


# --- blocking ------------------------------------------------------------------------------------
def test_bzpop_immediate(diff):
    c = diff.check
    c("ZADD", "b", "1", "x", "2", "y", "3", "z")
    c("BZPOPMIN", "a", "b", "0")
    c("BZPOPMAX", "a", "b", "0")
    c("BZMPOP", "0", "2", "a", "b", "MIN", "COUNT", "10")
    c("EXISTS", "b")
    c("BZPOPMIN", "a", "b", "0.01")
    c("BZMPOP", "0.01", "2", "a", "b", "MIN")
    c("BZPOPMIN", "a", "x")
    c("BZPOPMIN", "a", "-1")
    c("BZMPOP", "x", "1", "a", "MIN")
    c("BZMPOP", "0", "0", "a", "MIN")
    c("BZMPOP", "x", "0", "a", "MIN")
    c("BZMPOP", "0", "1", "a", "FOO")
    c("BZMPOP", "0", "1", "a", "MIN", "COUNT", "0")
    c("MULTI")
    c("BZPOPMIN", "a", "0")
    c("BZMPOP", "0", "1", "a", "MAX")
    c("EXEC")


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("cmd,push,expect_key", [
    (["BZPOPMIN", "q1", "q2", "5"], ["ZADD", "q2", "1", "a", "2", "b"], True),
    (["BZPOPMAX", "q1", "q2", "5"], ["ZADD", "q2", "1", "a", "2", "b"], True),
    (["BZMPOP", "5", "2", "q1", "q2", "MAX", "COUNT", "5"], ["ZADD", "q1", "1.5", "a", "2", "b"], True),
])
def test_blocking_served(pyredis_srv, real_redis, resp, cmd, push, expect_key):
    replies = []
    for port in (pyredis_srv.port, real_redis.port):
        waiter = RawClient("127.0.0.1", port)
        pusher = RawClient("127.0.0.1", port)
        pusher.call("FLUSHALL")
        if resp == 3:
            waiter.call("HELLO", "3")
        out = []
        t = threading.Thread(target=lambda w=waiter, o=out: o.append(w.call(*cmd)))
        t.start()
        time.sleep(0.2)
        pusher.call("SET", "unrelated", "1")
        pusher.call("ZADD", "q1x", "1", "a")
        pusher.call(*push)
        t.join(5)
        out.append(pusher.call("ZRANGE", "q1", "0", "-1", "WITHSCORES"))
        out.append(pusher.call("ZRANGE", "q2", "0", "-1", "WITHSCORES"))
        replies.append(out)
        waiter.close()
        pusher.close()
    assert replies[0] == replies[1]


def test_blocking_timeout(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    t0 = time.time()
    from resp import NullArray
    assert c.call("BZPOPMIN", "nothing", "0.2") == NullArray()
    assert c.call("BZMPOP", "0.2", "1", "nothing", "MIN") == NullArray()
    assert time.time() - t0 >= 0.35
    c.close()


# --- keyspace notifications ------------------------------------------------------------------
def test_keyspace_events(diff, pyredis_srv, real_redis):
    subs = [RawClient("127.0.0.1", pyredis_srv.port), RawClient("127.0.0.1", real_redis.port)]
    try:
        for s in subs:
            s.call("PSUBSCRIBE", "__key*__:*")
            s.call("SUBSCRIBE", "sync")
        for c in (diff.ours, diff.theirs):
            assert c.call("CONFIG", "SET", "notify-keyspace-events", "KEgzln") == b"OK"
        for cmd in [
            ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "INCR", "1", "a"),
            ("ZINCRBY", "z", "1", "a"), ("ZADD", "z", "XX", "1", "new"), ("ZREM", "z", "nope"), ("ZREM", "z", "a"),
            ("ZADD", "z", "5", "d", "6", "e"), ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYSCORE", "z", "5", "5"),
            ("ZREMRANGEBYLEX", "z", "-", "+"), ("ZREMRANGEBYLEX", "z", "-", "+"),
            ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "5"), ("ZPOPMIN", "z"),
            ("ZADD", "z", "1", "a", "2", "b"), ("ZMPOP", "1", "z", "MAX"), ("BZPOPMIN", "z", "0"),
            ("ZADD", "z", "1", "a", "2", "b"), ("ZRANGESTORE", "d", "z", "0", "0"), ("ZRANGESTORE", "d", "z", "0", "1"),
            ("ZRANGESTORE", "d", "z", "5", "9"), ("ZRANGESTORE", "d", "z", "5", "9"),
            ("ZUNIONSTORE", "u", "1", "z"), ("ZINTERSTORE", "u", "1", "z"), ("ZDIFFSTORE", "u", "2", "z", "z"),
            ("ZDIFFSTORE", "u", "2", "z", "z"),
            ("RPUSH", "l", "2", "1"), ("SORT", "l", "STORE", "s"), ("SORT", "l", "STORE", "s"),
            ("SORT", "nokey", "STORE", "s"), ("SORT", "nokey", "STORE", "s"),
        ]:
            diff.check(*cmd)
        for c in (diff.ours, diff.theirs):
            c.call("PUBLISH", "sync", "end")
        got = []
        for s in subs:
            msgs = []
            while True:
                m = s.read()
                if m[0] == b"message" and m[1] == b"sync":
                    break
                msgs.append(m)
            got.append(msgs)
        assert len(got[1]) > 50
        # RPUSH's own "new" event belongs to the lists module: compare ours without it
        ours = [m for m in got[0] if m[2:] != [b"__keyspace@0__:l", b"new"] and m[2:] != [b"__keyevent@0__:new", b"l"]]
        theirs = [m for m in got[1] if m[2:] != [b"__keyspace@0__:l", b"new"] and m[2:] != [b"__keyevent@0__:new", b"l"]]
        assert ours == theirs
    finally:
        for c in (diff.ours, diff.theirs):
            c.call("CONFIG", "SET", "notify-keyspace-events", "")
        for s in subs:
            s.close()


def _scenario(port: int, resp: int, steps):
    """Run `steps` against one server: ("block", name, argv) starts a waiting client on a
    thread, ("do", argv) runs a command on a control client, ("join", name) collects a reply."""
    ctl = RawClient("127.0.0.1", port)
    ctl.call("FLUSHALL")
    waiters, threads, out = {}, {}, []
    for step in steps:
        if step[0] == "block":
            w = RawClient("127.0.0.1", port)
            if resp == 3:
                w.call("HELLO", "3")
            res: list = []
            t = threading.Thread(target=lambda w=w, a=step[2], r=res: r.append(w.call(*a)))
            t.start()
            waiters[step[1]] = (w, res)
            threads[step[1]] = t
            time.sleep(0.15)
        elif step[0] == "do":
            out.append(ctl.call(*step[1]))
            time.sleep(0.05)
        else:
            threads[step[1]].join(5)
            w, res = waiters[step[1]]
            out.append((step[1], res))
    for w, _ in waiters.values():
        w.close()
    ctl.close()
    return out


@pytest.mark.parametrize("resp", [2, 3])
def test_blocking_fifo_and_types(pyredis_srv, real_redis, resp):
    steps = [
        ("block", "w1", ["BZPOPMIN", "k", "5"]),
        ("block", "w2", ["BZMPOP", "5", "2", "other", "k", "MAX", "COUNT", "2"]),
        ("do", ["SET", "k", "string"]),  # wrong type: both keep waiting
        ("do", ["DEL", "k"]),
        ("do", ["MULTI"]), ("do", ["ZADD", "k", "1", "a", "2", "b", "3", "c"]), ("do", ["ZADD", "k", "4", "d"]),
        ("do", ["EXEC"]),
        ("join", "w1"), ("join", "w2"),
        ("do", ["ZRANGE", "k", "0", "-1", "WITHSCORES"]),
        ("block", "w3", ["BZPOPMAX", "k2", "0.3"]),
        ("join", "w3"),
    ]
    assert _scenario(pyredis_srv.port, resp, steps) == _scenario(real_redis.port, resp, steps)


def test_propagation(pyredis_srv):
    """What reaches AOF/replicas (Redis's rewriteClientCommandVector / alsoPropagate):
    ZMPOP and the blocking pops as ZPOPMIN/ZPOPMAX, no-op writes not at all."""
    state = pyredis_srv.state
    got = sink = Effects(argv_only=True)
    c = RawClient("127.0.0.1", pyredis_srv.port)
    w = RawClient("127.0.0.1", pyredis_srv.port)
    try:
        c.call("FLUSHALL")
        state.propagation.add_sink(sink)
        c.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
        c.call("ZADD", "z", "1", "a")          # no change: not propagated
        c.call("ZPOPMIN", "z", "0")            # nothing popped
        c.call("ZMPOP", "1", "z", "MAX", "COUNT", "2")
        c.call("ZMPOP", "1", "nokey", "MIN")
        c.call("BZPOPMIN", "z", "0")
        c.call("BZMPOP", "0", "1", "z", "MIN")
        c.call("ZRANGE", "z", "0", "-1")
        c.call("SORT", "z", "ALPHA")           # read-only use of SORT: nothing
        w.send(encode_command(["BZPOPMAX", "q", "0"]))
        time.sleep(0.1)
        c.call("ZADD", "q", "1", "x", "2", "y")
        assert w.read() == [b"q", b"y", b"2"]
        w.send(encode_command(["BZMPOP", "0", "1", "q2", "MIN", "COUNT", "5"]))
        time.sleep(0.1)
        c.call("ZADD", "q2", "1", "x", "3", "z")
        assert w.read() == [b"q2", [[b"x", b"1"], [b"z", b"3"]]]
    finally:
        state.propagation.remove_sink(sink)
        c.close()
        w.close()
    assert got == [
        [b"ZADD", b"z", b"1", b"a", b"2", b"b", b"3", b"c", b"4", b"d", b"5", b"e"],
        [b"ZPOPMAX", b"z", b"2"],
        [b"ZPOPMIN", b"z"],
        [b"ZPOPMIN", b"z", b"1"],
        [b"ZADD", b"q", b"1", b"x", b"2", b"y"],
        [b"ZPOPMAX", b"q"],
        [b"ZADD", b"q2", b"1", b"x", b"3", b"z"],
        [b"ZPOPMIN", b"q2", b"2"],
    ]
