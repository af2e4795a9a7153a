"""Blocking changes between releases, against each mode's server: 7.2 runs a blocked
XREADGROUP again when its stream is deleted, replaced or loses the group (NOGROUP /
WRONGTYPE as a fresh call answers) where 7.0 answered with UNBLOCKED or its own NOGROUP text."""

from __future__ import annotations

import pytest

from oracles import ALL_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)


@pytest.mark.parametrize("action", [("DEL", "s"), ("XGROUP", "DESTROY", "s", "g"), ("SET", "s", "x"), ("FLUSHALL",),
                                    ("RENAME", "s", "s2"), ("XGROUP", "DELCONSUMER", "s", "g", "c"),
                                    ("XTRIM", "s", "MAXLEN", "0")])
def test_xreadgroup_when_the_stream_goes(both, action):
    def sc(env):
        c, p = env.client(), env.client()
        p.call("XADD", "s", "1-1", "f", "v")
        p.call("XGROUP", "CREATE", "s", "g", "$")
        env.block(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        out = [p.call(*action)]
        if env.nothing_pending(c):
            out.append("still blocked")
            p.call("DEL", "s")  # (a deletion ends it in every mode)
        out.append(c.read())
        return out

    both(sc)


def test_xreadgroup_several_streams_one_goes(both):
    def sc(env):
        c, p = env.client(), env.client()
        for k in ("s1", "s2"):
            p.call("XADD", k, "1-1", "f", "v")
            p.call("XGROUP", "CREATE", k, "g", "$")
        env.block(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s1", "s2", ">", ">")
        return [p.call("DEL", "s2"), c.read(), p.call("XADD", "s1", "2-1", "a", "b")]

    both(sc)


def test_woken_reader_finds_nothing(both):
    """An entry added and deleted in one transaction: 7.0 answers the blocked readers with an
    empty reply, 7.2 runs them again and they keep waiting (until the next entry)."""
    def sc(env):
        c1, c2, p = env.client(), env.client(), env.client()
        p.call("XADD", "s", "1-0", "f", "v")
        p.call("XGROUP", "CREATE", "s", "g", "$")
        env.block(c1, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        env.block(c2, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        out = [p.call("MULTI"), p.call("XADD", "s", "6-0", "f", "v"), p.call("XDEL", "s", "6-0"), p.call("EXEC")]
        out += [env.nothing_pending(c1), env.nothing_pending(c2)]
        if out[-1]:
            p.call("XADD", "s", "7-0", "g", "w")
        out += [c1.read(), c2.read(), p.call("XINFO", "GROUPS", "s")]
        return out

    both(sc)
