"""The `new` keyspace event (notify-keyspace-events n): Redis 7.0's dbAdd publishes it for
every key a command creates, before the command's own event. Every creating command is run
on both servers and the event streams compared in order."""

from __future__ import annotations

from events import keyspace_events

SCRIPT = [
    ("XADD", "x1", "*", "a", "1"), ("XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"),
    ("SET", "s", "v"), ("DUMP", "s"), ("RENAME", "s", "s2"), ("COPY", "s2", "s3"), ("MOVE", "s3", "1"),
    ("PFADD", "h1", "a"), ("PFMERGE", "h2", "h1"), ("SETBIT", "b1", "3", "1"), ("BITFIELD", "b2", "SET", "u8", "0", "1"),
    ("SETRANGE", "r", "2", "x"), ("APPEND", "a", "x"), ("LPUSH", "l", "1"), ("SADD", "st", "1"), ("ZADD", "z", "1", "m"),
    ("HSET", "hh", "f", "v"), ("SORT", "l", "STORE", "l2"), ("SUNIONSTORE", "st2", "st"), ("GEOADD", "g", "1", "1", "m"),
    ("LMOVE", "l", "l3", "LEFT", "RIGHT"), ("SMOVE", "st", "st4", "1"), ("ZUNIONSTORE", "z2", "1", "z"), ("BITOP", "OR", "b3", "b1"),
    ("INCR", "i"), ("MSET", "m1", "1", "m2", "2"), ("MSETNX", "m3", "1"), ("SETEX", "se", "100", "v"), ("GETSET", "gs", "v"),
    ("INCRBYFLOAT", "f", "1.5"), ("HINCRBY", "hi", "f", "1"), ("ZINCRBY", "zi", "1", "m"), ("LINSERT", "l3", "BEFORE", "1", "0"),
    ("RPOPLPUSH", "l3", "l5"), ("ZRANGESTORE", "z5", "z", "0", "-1"), ("GEOSEARCHSTORE", "g2", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "100", "km"),
    ("SINTERSTORE", "st6", "st2", "st2"), ("SDIFFSTORE", "st7", "st2", "x"), ("ZDIFFSTORE", "z7", "1", "z"), ("ZINTERSTORE", "z8", "1", "z"),
    ("XGROUP", "CREATE", "x1", "g", "$"), ("SETNX", "nx", "1"), ("SET", "px", "1", "PX", "100000"), ("PSETEX", "ps", "100000", "v"),
    ("RESTORE", "rs", "0", b"\x00\x01v\n\x00\xd1\x8e\xb5\xd6\xe6\xc3\x8c\x06"),
]


def test_every_command_that_creates_a_key_publishes_new(pyredis_srv, real_redis):
    theirs = keyspace_events(real_redis.port, SCRIPT, "KEA" + "n")
    ours = keyspace_events(pyredis_srv.port, SCRIPT, "KEA" + "n")
    assert ours == theirs
    assert (b"__keyevent@0__:new", b"x1") in theirs and (b"__keyevent@0__:new", b"x2") in theirs
