"""Record the keyspace notifications a script of commands produces on one server, so tests can
compare pyredis's events with redis-server's."""

from __future__ import annotations

import time

from resp import RawClient


def keyspace_events(port: int, script, flags: str, setup=()) -> list[tuple]:
    """FLUSHALL, run `setup`, enable `flags`, run `script` and return the (channel, message) pairs
    published on `__key*__:*`, up to a SET of a sentinel key. A PEXPIRE in the script is followed
    by a short sleep and a GET, so the key's lazy expiry (an `expired` event) happens there."""
    c, sub = RawClient("127.0.0.1", port), RawClient("127.0.0.1", port)
    c.call("FLUSHALL")
    for cmd in setup:
        c.call(*cmd)
    c.call("CONFIG", "SET", "notify-keyspace-events", flags)
    try:
        sub.call("PSUBSCRIBE", "__key*__:*")
        for cmd in script:
            c.call(*cmd)
            if cmd[0] == "PEXPIRE":
                time.sleep(0.01)
                c.call("GET", cmd[1])
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
        c.close()
        sub.close()
