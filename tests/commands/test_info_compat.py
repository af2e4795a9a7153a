"""The INFO figures later releases added, against each mode's server: 7.2's blocking keys
and ACL denial counters, 7.4's (and Valkey 8's) pubsub/watching clients and watched keys.
Field names and order are test_server.py's test_info_sections_and_field_names_match_redis."""

from __future__ import annotations

import pytest

from oracles import ALL_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)

_CLIENTS = ("blocked_clients", "pubsub_clients", "watching_clients", "total_watched_keys", "total_blocking_keys",
            "total_blocking_keys_on_nokey")
_ACL = ("acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key", "acl_access_denied_channel")


def _info(client, section: str) -> dict[str, str]:
    text = bytes(client.call("INFO", section)).decode()
    if text.startswith("txt:"):
        text = text[4:]
    return dict(line.split(":", 1) for line in text.split("\r\n") if line and not line.startswith("#"))


def _pick(client, section: str, names) -> dict[str, str]:
    info = _info(client, section)
    return {k: info[k] for k in names if k in info}


def test_info_clients_watch_subscribe_block(both):
    def sc(env):
        w1, w2, sub, b1, b2, b3, p = (env.client() for _ in range(7))
        out = [_pick(p, "clients", _CLIENTS)]
        w1.call("WATCH", "a", "b")
        w2.call("WATCH", "b", "c")
        sub.call("SUBSCRIBE", "ch")
        sub.call("PSUBSCRIBE", "p*")
        p.call("XADD", "s", "1-1", "f", "v")
        p.call("XGROUP", "CREATE", "s", "g", "$")
        env.block(b1, "BLPOP", "l1", "l2", "0")
        env.block(b2, "BLPOP", "l2", "0")
        env.block(b3, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
        out.append(_pick(p, "clients", _CLIENTS))
        p.call("SET", "a", "1")  # w1's WATCH is spent: its keys are forgotten
        out.append(_pick(p, "clients", _CLIENTS))
        p.call("RPUSH", "l2", "x")
        out += [b1.read(), _pick(p, "clients", _CLIENTS)]
        w2.call("UNWATCH")
        p.call("DEL", "s")  # the stream's deletion ends XREADGROUP
        out += [b3.read(), _pick(p, "clients", _CLIENTS)]
        return out

    out = both(sc)
    if "total_blocking_keys" in out[1]:
        assert out[1]["total_blocking_keys"] == "3" and out[1]["total_blocking_keys_on_nokey"] == "1"
    if "watching_clients" in out[1]:
        assert out[1]["watching_clients"] == "2" and out[2]["total_watched_keys"] == "2"


def test_info_acl_denials(both):
    def sc(env):
        c, p = env.client(), env.client()
        before = _pick(p, "stats", _ACL)
        p.call("ACL", "SETUSER", "limited", "on", ">pw", "~k*", "&ch*", "+get", "+publish", "+auth", "+set")
        try:
            out = [c.call("AUTH", "limited", "wrong"), c.call("AUTH", "nosuchuser", "x"), c.call("AUTH", "limited", "pw")]
            out += [c.call("GET", "other"), c.call("GET", "k1"), c.call("DEL", "k1"), c.call("PUBLISH", "x", "m"),
                    c.call("PUBLISH", "ch1", "m"), c.call("SET", "k2", "v"), c.call("SET", "z", "v")]
            out.append(c.call("EVAL", "return 1", "0"))
            after = _pick(p, "stats", _ACL)
            out.append({k: int(after[k]) - int(before[k]) for k in after})
            p.call("CONFIG", "RESETSTAT")
            out.append(_pick(p, "stats", _ACL))
            return out
        finally:
            p.call("ACL", "DELUSER", "limited")

    out = both(sc)
    if out[-2]:
        assert out[-2] == {"acl_access_denied_auth": 2, "acl_access_denied_cmd": 2, "acl_access_denied_key": 2,
                           "acl_access_denied_channel": 1}


def test_commandstats_of_changed_commands(diff):
    """Commands a later release declares differently (ZRANK, WAIT...) count in commandstats
    like any other, and CONFIG RESETSTAT clears them."""
    c = diff.check
    c("CONFIG", "RESETSTAT")
    c("ZADD", "z", "1", "a")
    for _ in range(3):
        c("ZRANK", "z", "a")
    c("ZREVRANK", "z", "a", "WITHSCORE")
    c("WAIT", "0", "0")
    c("CLIENT", "SETINFO", "LIB-NAME", "x")
    c("XADD", "s", "1-1", "f", "v")
    c("XREAD", "STREAMS", "s", "0")
    a, b = diff.both("INFO", "commandstats")

    def stats(text):
        text = bytes(text).decode()
        out = {}
        for line in text.split("\r\n"):
            if line.startswith("cmdstat_"):
                name, _, rest = line.partition(":")
                fields = dict(kv.split("=") for kv in rest.split(","))
                out[name] = (fields["calls"], fields["rejected_calls"], fields["failed_calls"])
        return out

    sa, sb = stats(a), stats(b)
    assert sa == sb
    assert sa["cmdstat_zrank"][0] == "3"
