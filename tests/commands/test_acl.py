"""ACL (users, rules, selectors, permission checks, the ACL log), differential against
redis-server 7.0.15.

ACL state outlives a test, so this module runs its own pair of servers (pyredis in-process
and a redis-server), reset between tests: every user but `default` deleted, `default` back
to `on nopass ~* &* +@all`, the log emptied.

Two things Redis leaves to its hash tables and that are therefore compared up to order:
- the single-command rules at the end of a rules description (`+get +set`): Redis emits them
  in its command dict's order, which its random hash seed changes at every start;
- ACL CAT <category>, for the same reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyredis
from conftest import RealRedis
from resp import Err, Map, RawClient

class Pair:
    """One connection to each server; check() sends a command to both and compares."""

    def __init__(self, ours_port: int, theirs_port: int, resp: int = 2) -> None:
        self.ports = (ours_port, theirs_port)
        self.resp = resp
        self.ours = RawClient("127.0.0.1", ours_port)
        self.theirs = RawClient("127.0.0.1", theirs_port)
        if resp == 3:
            self.both("HELLO", "3")

    def both(self, *args):
        return self.ours.call(*args), self.theirs.call(*args)

    def check(self, *args, norm=None):
        a, b = self.both(*args)
        if norm is not None:
            a, b = norm(a), norm(b)
        assert a == b and type(a) is type(b), f"{args!r}: pyredis={a!r} redis={b!r}"
        return a

    def client(self, user: str | None = None, password: str = "pw") -> Pair:
        """Another connection pair, authenticated as `user` when given."""
        p = Pair(*self.ports, resp=self.resp)
        if user is not None:
            p.check("AUTH", user, password)
        return p

    def alive(self) -> tuple[bool, bool]:
        """Is each connection still open (any reply to PING, NOPERM included)?"""
        out = []
        for c in (self.ours, self.theirs):
            try:
                c.call("PING")
                out.append(True)
            except (ConnectionError, OSError):
                out.append(False)
        return tuple(out)

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    data = tmp_path_factory.mktemp("acl-pyredis")
    real = RealRedis()
    srv = pyredis.Server(port=0, dir=str(data), enable_debug_command="yes").start()
    yield srv, real
    srv.stop()
    real.stop()


def _reset(p: Pair) -> None:
    for c in (p.ours, p.theirs):
        c.call("CONFIG", "SET", "requirepass", "")
        for name in c.call("ACL", "USERS"):
            if name != b"default":
                c.call("ACL", "DELUSER", name)
        c.call("ACL", "SETUSER", "default", "clearselectors", "on", "nopass", "~*", "&*", "+@all")
        c.call("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
        c.call("CONFIG", "SET", "acllog-max-len", "128")
        c.call("ACL", "LOG", "RESET")
        c.call("FLUSHALL")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def acl(request, servers):
    srv, real = servers
    p = Pair(srv.port, real.port, request.param)
    _reset(p)
    opened: list[Pair] = []
    orig = p.client

    def client(user=None, password="pw"):
        c = orig(user, password)
        opened.append(c)
        return c

    p.client = client
    yield p
    for c in opened:
        c.close()
    _reset(p)
    p.close()


# --- rendering ------------------------------------------------------------------------------
_SINGLE = re.compile(rb"^[+-][^@]")


def norm_rules(text: bytes) -> bytes:
    """Sort each run of single-command rules (Redis emits them in hash-table order)."""
    toks: list[bytes] = []
    for t in text.split(b" "):
        pre = b"(" if t.startswith(b"(") else b""
        post = b")" if t.endswith(b")") and len(t) > len(pre) else b""
        core = t[len(pre):len(t) - len(post)] if post else t[len(pre):]
        if pre:
            toks.append(pre)
        toks.append(core)
        if post:
            toks.append(post)
    out: list[bytes] = []
    run: list[bytes] = []
    for t in toks + [b""]:
        if _SINGLE.match(t):
            run.append(t)
            continue
        out.extend(sorted(run))
        run = []
        out.append(t)
    return b" ".join(out[:-1])


def norm_reply(v):
    """ACL LIST / GETUSER replies with their command rules normalized."""
    if isinstance(v, (bytes, bytearray)) and not isinstance(v, Err):
        return type(v)(norm_rules(bytes(v)))
    if isinstance(v, Map):
        return Map({k: norm_reply(x) for k, x in v.items()})
    if isinstance(v, list):
        return type(v)(norm_reply(x) for x in v)
    return v


def same_user(p: Pair, name: str) -> None:
    p.check("ACL", "GETUSER", name, norm=norm_reply)
    p.check("ACL", "LIST", norm=norm_reply)


RULE_CASES = [
    [],
    ["reset"],
    ["on", ">pw", "~*", "&*", "+@all"],
    ["on", "nopass", "allkeys", "allchannels", "allcommands"],
    ["-@all", "+get", "+set", "+hset", "+lpush", "+zadd", "+client|id", "+config|get", "-@string", "+@hash", "-hget"],
    ["+@all", "-@string", "+get", "-hset", "+client|id"],
    ["-@all", "+@slow"],
    ["+@all", "-@dangerous", "-@admin", "+config|get", "-debug"],
    ["-@all", "+@read", "+@write", "-@keyspace", "+del"],
    ["-@all", "+select|0", "+select|1", "+select|0", "+SELECT|2"],
    ["-@all", "+select|0", "+select"],
    ["-@all", "+select|0", "-select"],
    ["-@all", "+client", "-client|kill", "-client|pause"],
    ["+@all", "-client", "+client|id", "+client|setname"],
    ["-@all", "+@pubsub", "-publish", "+@scripting", "-eval"],
    ["%R~r*", "%W~w*", "%RW~rw*", "~k", "%R~k", "%W~w*", "%R~w*"],
    ["%R", "%W~", "~"],
    ["&a", "&b*", "&a", "resetchannels", "&c"],
    ["allkeys", "resetkeys", "~x"],
    ["allchannels", "resetchannels", "&x"],
    [">a", ">b", ">a", "<b", "#" + "a" * 64, "!" + "a" * 64],
    [">a", "nopass"],
    ["nopass", ">a"],
    ["nopass", "resetpass"],
    ["on", "off", "on", "skip-sanitize-payload", "sanitize-payload", "skip-sanitize-payload"],
    ["(~x +get)", "(%R~y +@read -@keyspace)", "(&c* +publish)"],
    ["(~x", "+get)", "(", "+set", ")"],
    ["()", "(resetchannels)", "(nocommands)", "(allcommands allkeys allchannels)"],
    ["(~x +get)", "clearselectors", "(~y +set)"],
    ["(~x +get)", "reset"],
    ["ON", "NOPASS", "ALLKEYS", "+GET", "+@READ", "-@WRITE", "+@ALL", "-CONFIG|SET"],
    ["-@all", "nocommands", "+acl|whoami", "+acl|cat", "+command|docs"],
]


@pytest.mark.parametrize("rules", RULE_CASES, ids=[" ".join(r) or "none" for r in RULE_CASES])
def test_setuser_renders_as_redis(acl, rules):
    acl.check("ACL", "SETUSER", "u", *rules)
    same_user(acl, "u")


BAD_RULES = [
    ["bad"], ["+nosuch"], ["-nosuch"], ["+@nosuch"], ["-@nosuch"], ["+"], ["-"], ["+@"], ["+|"],
    ["+get|"], ["+config|"], ["+config|nosuch"], ["+config|get|x"], ["+a|b|c"], ["-get|x"], ["-config|nosuch"],
    ["%"], ["%~x"], ["%X~x"], ["%RR~x"], ["%WRW~x"], ["~a b"], ["&a b"], ["~*", "~x"], ["allkeys", "%R~x"],
    ["&*", "&x"], ["<nosuch"], ["!" + "a" * 64], ["#abc"], ["#" + "A" * 64], ["#" + "g" * 64], ["!x"],
    ["(on)"], ["(~x +get bad)"], ["(~x"], ["(~x", "+get"], ["(", "("], ["(+nosuch)"], ["(", "bad)"],
    ["on", "bad", "off"], ["x)"], ["(x"],
]


@pytest.mark.parametrize("rules", BAD_RULES, ids=[" ".join(r) for r in BAD_RULES])
def test_setuser_errors_as_redis(acl, rules):
    acl.check("ACL", "SETUSER", "u", "on", ">pw")
    acl.check("ACL", "SETUSER", "u", *rules)
    same_user(acl, "u")  # all or nothing: the user is unchanged


def test_setuser_user_names(acl):
    for name in ("a b", "a\tb", "a\x00b", "", "ü", "(x", "a|b"):
        acl.check("ACL", "SETUSER", name, "on")
    acl.check("ACL", "USERS")
    acl.check("ACL", "LIST", norm=norm_reply)


def test_acl_subcommand_errors(acl):
    for cmd in (("ACL",), ("ACL", "FOO"), ("ACL", "SETUSER"), ("ACL", "GETUSER"), ("ACL", "GETUSER", "a", "b"),
                ("ACL", "DELUSER"), ("ACL", "DELUSER", "default"), ("ACL", "DELUSER", "nosuch", "default"),
                ("ACL", "DELUSER", "nosuch", "x"), ("ACL", "LIST", "x"), ("ACL", "USERS", "x"),
                ("ACL", "WHOAMI", "x"), ("ACL", "CAT", "x", "y"), ("ACL", "CAT", "nosuch"), ("ACL", "CAT", "x" * 300),
                ("ACL", "GENPASS", "0"), ("ACL", "GENPASS", "4097"), ("ACL", "GENPASS", "x"),
                ("ACL", "GENPASS", "1", "2"), ("ACL", "LOG", "x"), ("ACL", "LOG", "1", "2"), ("ACL", "LOG", "-1"),
                ("ACL", "LOG", "RESET"), ("ACL", "SAVE"), ("ACL", "LOAD"), ("ACL", "LOAD", "x"),
                ("ACL", "DRYRUN", "nosuch", "get", "x"), ("ACL", "DRYRUN", "default", "nosuch"),
                ("ACL", "DRYRUN", "default", "get"), ("ACL", "DRYRUN", "default", "get", "x"),
                ("ACL", "DRYRUN", "default", "client"), ("ACL", "DRYRUN", "default", "client", "nosuch"),
                ("ACL", "DRYRUN", "default", "client", "id"), ("ACL", "HELP"), ("ACL", "HELP", "x"),
                ("ACL", "WHOAMI"), ("ACL", "USERS"), ("ACL", "GETUSER", "nosuch"), ("ACL", "GETUSER", "default")):
        acl.check(*cmd, norm=norm_reply)


def test_genpass_lengths(acl):
    for bits in (None, "1", "4", "5", "255", "256", "4096"):
        args = ("ACL", "GENPASS") + ((bits,) if bits else ())
        a, b = acl.both(*args)
        assert len(a) == len(b) and re.fullmatch(rb"[0-9a-f]*", a), (bits, a, b)
    a, _ = acl.both("ACL", "GENPASS")
    assert a != acl.ours.call("ACL", "GENPASS")


def test_acl_cat(acl):
    acl.check("ACL", "CAT")
    for cat in acl.ours.call("ACL", "CAT") + [b"READ", b"Admin"]:
        a, b = acl.both("ACL", "CAT", cat)
        assert sorted(a) == sorted(b), cat
        assert len(a) == len(set(a))


def test_deluser_deletes_and_counts(acl):
    acl.check("ACL", "SETUSER", "a")
    acl.check("ACL", "SETUSER", "b")
    acl.check("ACL", "DELUSER", "a", "nosuch", "b", "a")
    acl.check("ACL", "USERS")


# --- authentication -------------------------------------------------------------------------
def test_auth_with_users(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", ">pw2", "+@all", "~*")
    acl.check("ACL", "SETUSER", "off", "off", ">pw", "+@all")
    acl.check("ACL", "SETUSER", "np", "on", "nopass", "+acl|whoami")
    c = acl.client()
    for cmd in (("AUTH", "u", "bad"), ("AUTH", "nosuch", "pw"), ("AUTH", "off", "pw"), ("AUTH", "pw"),
                ("AUTH", "a", "b", "c"), ("AUTH", "u", "pw2"), ("ACL", "WHOAMI"), ("CLIENT", "INFO"),
                ("AUTH", "np", "anything"), ("ACL", "WHOAMI"), ("PING",), ("AUTH", "u", "pw"), ("ACL", "WHOAMI"),
                ("RESET",), ("ACL", "WHOAMI")):
        a, b = c.both(*cmd)
        if cmd == ("CLIENT", "INFO"):
            assert re.search(rb" user=u ", a) and re.search(rb" user=u ", b)
            continue
        assert a == b, (cmd, a, b)


def test_hello_auth_with_users(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    c = acl.client()
    for cmd in (("HELLO", "2", "AUTH", "u", "bad"), ("HELLO", "2", "AUTH", "nosuch", "x"), ("ACL", "WHOAMI"),
                ("HELLO", "2", "AUTH", "u")):
        c.check(*cmd)
    a, b = c.both("HELLO", str(acl.resp), "AUTH", "u", "pw")
    assert a[b"proto"] == b[b"proto"] if isinstance(a, Map) else a[5] == b[5]
    c.check("ACL", "WHOAMI")


def test_requirepass_is_the_default_users_password(acl):
    c = acl.client()
    c.check("PING")  # connected (accepted by the server) before the password is set
    acl.check("CONFIG", "SET", "requirepass", "secret")
    acl.check("ACL", "GETUSER", "default")
    acl.check("ACL", "LIST")
    c.check("PING")  # connected before: still authenticated
    n = acl.client()
    for cmd in (("PING",), ("AUTH", "bad"), ("AUTH", "default", "bad"), ("AUTH", "secret"), ("PING",)):
        n.check(*cmd)
    late = acl.client()
    late.check("GET", "x")  # NOAUTH
    acl.check("CONFIG", "SET", "requirepass", "")
    late.check("GET", "x")  # the default user needs no password any more
    late.check("AUTH", "x")
    acl.check("ACL", "GETUSER", "default")


def test_default_user_password_via_setuser(acl):
    acl.check("ACL", "SETUSER", "default", "resetpass", ">p1")
    n = acl.client()
    for cmd in (("PING",), ("HELLO",), ("AUTH", "p1"), ("PING",)):
        n.check(*cmd)
    acl.check("ACL", "SETUSER", "default", "nopass")


def test_disabled_default_user_requires_auth(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*", "&*")
    acl.check("ACL", "SETUSER", "default", "off")
    n = acl.client()
    for cmd in (("PING",), ("AUTH", "default", ""), ("AUTH", "u", "pw"), ("PING",)):
        n.check(*cmd)


# --- permissions ----------------------------------------------------------------------------
def _user(acl, *rules):
    acl.check("ACL", "SETUSER", "u", "reset", "on", ">pw", *rules)
    return acl.client("u")


def test_command_permissions(acl):
    c = _user(acl, "~*", "&*", "+@string", "-set", "+client|id", "+config|get", "+select|1", "+multi")
    for cmd in (("GET", "k"), ("SET", "k", "v"), ("APPEND", "k", "v"), ("HSET", "h", "f", "v"), ("CLIENT", "ID"),
                ("CLIENT", "SETNAME", "x"), ("CONFIG", "GET", "maxmemory"), ("CONFIG", "SET", "port", "1"),
                ("SELECT", "1"), ("SELECT", "2"), ("select", "1"), ("PING",), ("AUTH", "u", "pw"), ("HELLO",),
                ("NOSUCH",), ("GET",), ("CLIENT", "NOSUCH"), ("DEBUG", "SLEEP", "0")):
        if cmd == ("HELLO",):
            c.both(*cmd)
            continue
        if cmd == ("CLIENT", "ID"):
            a, b = c.both(*cmd)
            assert type(a) is int and type(b) is int
            continue
        c.check(*cmd)


def test_key_permissions_read_write(acl):
    c = _user(acl, "+@all", "%R~r*", "%W~w*", "~rw*")
    for cmd in (("SET", "r1", "v"), ("SET", "w1", "v"), ("GET", "r1"), ("GET", "w1"), ("SET", "rw1", "v"),
                ("GET", "rw1"), ("COPY", "r1", "w2"), ("COPY", "w1", "r2"), ("COPY", "rw1", "w3"), ("LMOVE", "r", "w", "LEFT", "RIGHT"),
                ("EXISTS", "r1", "w1"), ("STRLEN", "w1"), ("TYPE", "w1"), ("DEL", "r1"), ("DEL", "w1"), ("INCR", "w"),
                ("APPEND", "w", "x"), ("MSET", "w1", "a", "r1", "b"), ("MGET", "r1", "rw1", "w1"),
                ("SORT", "r", "STORE", "w"), ("SORT", "w"), ("SET", "w5", "x", "GET"), ("SET", "rw5", "x", "GET"),
                ("BITFIELD", "w", "GET", "u8", "0"), ("BITFIELD", "r", "GET", "u8", "0"),
                ("BITFIELD", "r", "SET", "u8", "0", "1"), ("EVAL", "return 1", "1", "x"),
                ("EVAL", "return 1", "1", "r1"), ("ZUNIONSTORE", "w", "2", "r1", "r2"),
                ("ZUNIONSTORE", "w", "2", "r1", "w2"), ("XREAD", "STREAMS", "r", "w", "0", "0"),
                ("MIGRATE", "127.0.0.1", "1", "", "0", "1", "KEYS", "r1"), ("DBSIZE",),
                ("OBJECT", "ENCODING", "w1"), ("GETDEL", "r1"), ("GETDEL", "rw1"), ("RENAME", "w1", "w2")):
        c.check(*cmd)
    for cmd in (("ACL", "DRYRUN", "u", "COPY", "r1", "w2"), ("ACL", "DRYRUN", "u", "GET", "w1"),
                ("ACL", "DRYRUN", "u", "SET", "w", "1", "GET"), ("ACL", "DRYRUN", "u", "MSET", "w", "1", "x", "2")):
        acl.check(*cmd)


def test_first_args(acl):
    c = _user(acl, "~*", "-@all", "+select|1", "+client|id")
    for cmd in (("SELECT", "1"), ("SELECT", "0"), ("CLIENT", "KILL", "ID", "1")):
        c.check(*cmd)


def test_selectors_permissions(acl):
    c = _user(acl, "~a*", "+get", "(~b* +set)", "(%R~c* +@read)")
    for cmd in (("GET", "a"), ("GET", "b"), ("SET", "b", "1"), ("SET", "a", "1"), ("GET", "c"), ("SET", "c", "1"),
                ("STRLEN", "c"), ("HGET", "a", "f"), ("HGET", "c", "f"), ("MGET", "a", "c"), ("MGET", "b")):
        c.check(*cmd)
    for cmd in (("GET", "b"), ("SET", "a", "1"), ("SET", "c", "1"), ("HSET", "c", "f", "v"), ("MGET", "b", "zz")):
        acl.check("ACL", "DRYRUN", "u", *cmd)


def test_channel_permissions(acl):
    c = _user(acl, "+@all", "~*", "resetchannels", "&news.*", "&chat")
    for cmd in (("PUBLISH", "news.1", "x"), ("PUBLISH", "chat", "x"), ("PUBLISH", "other", "x"),
                ("SPUBLISH", "other", "x"), ("SPUBLISH", "chat", "x"), ("SUBSCRIBE", "other"),
                ("PSUBSCRIBE", "news.*"), ("PSUBSCRIBE", "news.1"), ("SSUBSCRIBE", "x"), ("SSUBSCRIBE", "chat"),
                ("SUBSCRIBE", "news.2", "nope"), ("SUBSCRIBE", "news.2", "chat"), ("UNSUBSCRIBE", "nope"),
                ("PUNSUBSCRIBE", "x*")):
        c.check(*cmd)
    for cmd in (("PUBLISH", "chat", "x"), ("PUBLISH", "nope", "x"), ("SUBSCRIBE", "chat", "nope"),
                ("PSUBSCRIBE", "ch*")):
        acl.check("ACL", "DRYRUN", "u", *cmd)


def test_acl_pubsub_default(acl):
    acl.check("CONFIG", "SET", "acl-pubsub-default", "allchannels")
    acl.check("ACL", "SETUSER", "a")
    acl.check("ACL", "SETUSER", "b", "reset", "(+get)")
    acl.check("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
    acl.check("ACL", "SETUSER", "c", "(+get)")
    acl.check("ACL", "LIST", norm=norm_reply)


def test_multi_checks_at_queueing_and_at_exec(acl):
    c = _user(acl, "~*", "+multi", "+exec", "+get", "+set", "+discard")
    for cmd in (("MULTI",), ("GET", "a"), ("HSET", "h", "f", "v"), ("EXEC",)):
        c.check(*cmd)
    for cmd in (("MULTI",), ("GET", "a"), ("SET", "a", "1")):
        c.check(*cmd)
    acl.check("ACL", "SETUSER", "u", "-set")
    c.check("EXEC")
    for cmd in (("MULTI",), ("GET", "b")):
        c.check(*cmd)
    acl.check("ACL", "SETUSER", "u", "resetkeys", "~a")
    c.check("EXEC")
    acl.check("ACL", "SETUSER", "u", "-exec")
    c.check("EXEC")  # refused outside MULTI: EXECABORT as Redis
    c.check("MULTI")
    c.check("EXEC")
    c.check("DISCARD")


def test_scripts_run_as_their_caller(acl):
    c = _user(acl, "~x", "+eval", "+get", "+fcall", "+function|load", "+function|flush")
    for cmd in (("EVAL", "return redis.call('get', 'x')", "0"),
                ("EVAL", "return redis.call('set', 'x', '1')", "0"),
                ("EVAL", "return redis.pcall('set', 'x', '1')", "0"),
                ("EVAL", "return redis.call('get', 'y')", "0"),
                ("EVAL", "return redis.pcall('get', 'y')", "0"),
                ("EVAL", "return redis.acl_check_cmd('get', 'x')", "0"),
                ("EVAL", "return redis.acl_check_cmd('get', 'y')", "0"),
                ("EVAL", "return redis.acl_check_cmd('set', 'x')", "0"),
                ("EVAL", "return redis.acl_check_cmd('set')", "0"),
                ("EVAL", "return redis.acl_check_cmd('nosuch')", "0"),
                ("EVAL", "return redis.acl_check_cmd('client', 'nosuch')", "0"),
                ("EVAL", "return redis.acl_check_cmd()", "0"),
                ("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() "
                 "return redis.call('set', 'x', 1) end)"),
                ("FCALL", "f", "0")):
        c.check(*cmd)
    acl.check("FUNCTION", "FLUSH")
    admin = acl.client()
    admin.check("EVAL", "return redis.acl_check_cmd('set', 'x')", "0")


# --- the ACL log ----------------------------------------------------------------------------
_KEEP = ("name", "flags", "db", "sub", "psub", "ssub", "multi", "cmd", "user", "resp")


def norm_log(entries):
    out = []
    for e in entries:
        d = dict(e) if isinstance(e, Map) else dict(zip(e[::2], e[1::2]))
        assert float(d.pop(b"age-seconds")) < 30
        info = dict(f.split(b"=", 1) for f in d.pop(b"client-info").split(b" "))
        d[b"client-info"] = {k: info[k.encode()] for k in _KEEP}
        out.append(d)
    return out


def test_acl_log_entries_and_aggregation(acl):
    c = _user(acl, "~k*", "&ch", "+get", "+set", "+publish", "+multi", "+eval")
    for cmd in (("GET", "x"), ("GET", "x"), ("GET", "y"), ("HGET", "k", "f"), ("PUBLISH", "no", "m"),
                ("AUTH", "u", "bad"), ("auth", "nosuch", "x"), ("HELLO", "2", "AUTH", "u", "bad"),
                ("MULTI",), ("GET", "x"), ("HGET", "k", "f"), ("DISCARD",),
                ("EVAL", "return redis.pcall('get', 'z')", "0"), ("GET", "x")):
        c.both(*cmd)
    acl.check("ACL", "LOG", norm=norm_log)
    acl.check("ACL", "LOG", "2", norm=norm_log)
    acl.check("ACL", "LOG", "0", norm=norm_log)
    acl.check("CONFIG", "SET", "acllog-max-len", "3")
    c.both("GET", "new")
    acl.check("ACL", "LOG", "100", norm=norm_log)
    acl.check("ACL", "LOG", "RESET")
    acl.check("ACL", "LOG")


def test_acl_log_keeps_the_last_ten_for_grouping(acl):
    c = _user(acl, "~k*", "+get")
    for i in range(12):
        c.both("GET", "x%d" % i)
    c.both("GET", "x0")  # 12 entries back: a new entry
    c.both("GET", "x5")  # within the 10 most recent: counted
    acl.check("ACL", "LOG", "20", norm=norm_log)


# --- disconnections -------------------------------------------------------------------------
def test_deleted_user_clients_are_disconnected(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    c1 = acl.client("u")
    c2 = acl.client("u")
    other = acl.client()
    acl.check("ACL", "DELUSER", "u")
    time.sleep(0.1)
    assert c1.alive() == (False, False)
    assert c2.alive() == (False, False)
    assert other.alive() == (True, True)


def test_deleting_own_user_closes_after_reply(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    c = acl.client("u")
    c.check("ACL", "DELUSER", "u")
    time.sleep(0.1)
    assert c.alive() == (False, False)


def test_changed_user_keeps_its_clients(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    c = acl.client("u")
    acl.check("ACL", "SETUSER", "u", "off", "resetpass", "-@all")
    c.check("GET", "x")
    assert c.alive() == (True, True)
    c.check("ACL", "WHOAMI")


def test_subscribers_disconnected_when_channels_revoked(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*", "&*")
    subs = {}
    for name, cmd in (("ch", ("SUBSCRIBE", "ch")), ("pat", ("PSUBSCRIBE", "c*")), ("shard", ("SSUBSCRIBE", "s")),
                      ("news", ("SUBSCRIBE", "news"))):
        s = acl.client("u")
        s.check(*cmd)
        subs[name] = s
    plain = acl.client("u")
    acl.check("ACL", "SETUSER", "u", "resetchannels", "&c*", "&s", "&news")
    time.sleep(0.1)
    assert {k: s.alive() for k, s in subs.items()} == {k: (True, True) for k in subs}
    acl.check("ACL", "SETUSER", "u", "resetchannels", "&ch", "&s")
    time.sleep(0.1)
    assert {k: s.alive() for k, s in subs.items()} == {"ch": (True, True), "pat": (False, False),
                                                       "shard": (True, True), "news": (False, False)}
    acl.check("ACL", "SETUSER", "u", "resetchannels")
    time.sleep(0.1)
    assert subs["ch"].alive() == (False, False) and subs["shard"].alive() == (False, False)
    assert plain.alive() == (True, True)


def test_client_kill_user(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
    c = acl.client("u")
    acl.check("CLIENT", "KILL", "USER", "nosuch")
    acl.check("CLIENT", "KILL", "USER", "u")
    time.sleep(0.1)
    assert c.alive() == (False, False)
    acl.check("CLIENT", "KILL", "USER", "u")


# --- files and configuration ------------------------------------------------------------------
def _start_pair(tmp, *conf: list[str]):
    """A pyredis (config file) and a redis-server (the same lines as arguments)."""
    path = os.path.join(tmp, "redis.conf")
    with open(path, "w") as f:
        f.write("".join(" ".join('"%s"' % w for w in words) + "\n" for words in conf))
    real = RealRedis(*[x for words in conf for x in ["--" + words[0], *words[1:]]], dir=tmp)
    srv = pyredis.Server(port=0, dir=tmp, config_file=path).start()
    return srv, real


def test_aclfile_load_and_save(tmp_path):
    tmp = str(tmp_path)
    ours_file, theirs_file = os.path.join(tmp, "ours.acl"), os.path.join(tmp, "theirs.acl")
    base = "user default on nopass ~* &* +@all\nuser alice on >pw ~a* +get\n\n"
    for f in (ours_file, theirs_file):
        with open(f, "w") as fh:
            fh.write(base)
    srv, real = None, None
    try:
        real = RealRedis("--aclfile", theirs_file, dir=tmp)
        srv = pyredis.Server(port=0, dir=tmp, aclfile=ours_file).start()
        p = Pair(srv.port, real.port)
        p.check("ACL", "LIST", norm=norm_reply)
        alice = p.client("alice")
        p.check("ACL", "SETUSER", "bob", "on", ">x", "(~b +set)")
        p.check("ACL", "SAVE")
        with open(ours_file, "rb") as a, open(theirs_file, "rb") as b:
            assert norm_rules(a.read()) == norm_rules(b.read())
        for text in ("user bob on\nfoo bar\nuser x +nosuch\nuser y bad bad2 +nosuch2\n",
                     "user a on\nuser a off\n", "user a (~x +get\n", "user 'a b' on\n", "user\n",
                     "user c on ~x +@nosuch\n", "   \n\nuser d \"on\n"):
            for f in (ours_file, theirs_file):
                with open(f, "w") as fh:
                    fh.write(text)
            a, b = p.both("ACL", "LOAD")
            assert a.replace(ours_file.encode(), b"F") == b.replace(theirs_file.encode(), b"F"), text
        p.check("ACL", "LIST", norm=norm_reply)
        assert alice.alive() == (True, True)  # a refused load changes nothing
        for f in (ours_file, theirs_file):
            with open(f, "w") as fh:
                fh.write("user alice on >pw ~* +@all\nuser carol on nopass +ping\n")
        p.check("ACL", "LOAD")
        p.check("ACL", "LIST", norm=norm_reply)
        time.sleep(0.1)
        assert alice.alive() == (False, False)  # the old users' clients are dropped
        assert p.alive() == (True, True)  # the default user's stay
        os.unlink(ours_file)
        os.unlink(theirs_file)
        a, b = p.both("ACL", "LOAD")
        assert a.replace(ours_file.encode(), b"F") == b.replace(theirs_file.encode(), b"F")
        alice.close()
        p.close()
    finally:
        if srv is not None:
            srv.stop()
        if real is not None:
            real.stop()


def test_user_lines_in_config(tmp_path):
    srv, real = _start_pair(str(tmp_path), ["user", "alice", "on", ">pw", "~a*", "+get", "(~b* +set)"],
                            ["user", "default", "on", "nopass", "~*", "&*", "+@all", "-debug"],
                            ["enable-debug-command", "yes"])
    try:
        p = Pair(srv.port, real.port)
        p.check("ACL", "LIST", norm=norm_reply)
        c = p.client("alice")
        c.check("GET", "a1")
        c.check("GET", "b1")
        c.check("SET", "b1", "x")
        p.check("DEBUG", "SLEEP", "0")
        c.close()
        p.close()
    finally:
        srv.stop()
        real.stop()


def _refused(tmp: str, conf: str) -> tuple[str, str]:
    """Start both servers on `conf`: each must exit non-zero; their logs."""
    path = os.path.join(tmp, "bad.conf")
    with open(path, "w") as f:
        f.write(conf)
    from conftest import REDIS_SERVER, free_port

    out = []
    for cmd in ([REDIS_SERVER, path, "--port", str(free_port()), "--bind", "127.0.0.1", "--save", ""],
                [sys.executable, "-m", "pyredis", path, "--port", str(free_port()), "--bind", "127.0.0.1",
                 "--save", ""]):
        r = subprocess.run(cmd, capture_output=True, timeout=30, cwd=tmp, text=True)
        assert r.returncode != 0, (cmd, r.stdout, r.stderr)
        out.append(r.stdout + r.stderr)
    return out[1], out[0]


def test_users_and_aclfile_together_refused(tmp_path):
    acl_path = tmp_path / "users.acl"
    acl_path.write_text("user default on nopass ~* &* +@all\n")
    ours, theirs = _refused(str(tmp_path), f"user alice on\naclfile {acl_path}\n")
    msg = "please define either an ACL file or declare users directly in your redis.conf, but not both"
    assert msg in ours and msg in theirs


def test_bad_aclfile_refused_at_startup(tmp_path):
    acl_path = tmp_path / "users.acl"
    acl_path.write_text("user alice on bad\n")
    ours, theirs = _refused(str(tmp_path), f"aclfile {acl_path}\n")
    assert "Syntax error" in ours and "Syntax error" in theirs


def test_bad_user_line_refused(tmp_path):
    ours, theirs = _refused(str(tmp_path), "port 0\nuser bob on >pw\nuser alice on bad\n")
    text = "Reading the configuration file, at line 3\n>>> 'user alice on bad'\nError in user declaration 'alice': Syntax error"
    assert text in theirs
    assert text in ours


# --- robustness: random rules against both servers --------------------------------------------
COMMANDS = ["get", "set", "psync", "sync", "replconf", "restore-asking", "hset", "hget", "lpush", "zadd", "xadd", "ping", "publish", "subscribe", "eval", "debug",
            "select", "keys", "info", "client", "client|id", "client|kill", "config", "config|get", "config|set",
            "object|encoding", "object", "sort", "acl", "acl|whoami", "acl|setuser", "command|docs", "flushall",
            "del", "incr", "multi", "exec", "script|load", "function|load", "georadius", "bitfield"]
CATEGORIES = ["all", "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
              "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
              "connection", "transaction", "scripting"]
PATTERN = st.text(alphabet="abc*?[]^\\-", min_size=0, max_size=4)

rule = st.one_of(
    st.sampled_from(["on", "off", "nopass", "resetpass", "allkeys", "resetkeys", "allchannels", "resetchannels",
                     "allcommands", "nocommands", "reset", "clearselectors", "skip-sanitize-payload",
                     "sanitize-payload", "~*", "&*"]),
    st.builds(lambda s, c: s + c, st.sampled_from(["+", "-"]), st.sampled_from(COMMANDS)),
    st.builds(lambda s, c: s + "@" + c, st.sampled_from(["+", "-"]), st.sampled_from(CATEGORIES)),
    st.builds(lambda c, a: "+" + c + "|" + a, st.sampled_from(["select", "set", "get", "client", "config"]),
              st.sampled_from(["0", "1", "a", "A", "get", "id"])),
    st.builds(lambda p, x: p + x, st.sampled_from(["~", "%R~", "%W~", "%RW~", "&"]), PATTERN),
    st.builds(lambda p, x: p + x, st.sampled_from([">", "<"]), st.sampled_from(["p", "q", ""])),
)
selector = st.lists(rule.filter(lambda r: r not in ("on", "off", "nopass", "resetpass", "reset", "clearselectors",
                                                    "skip-sanitize-payload", "sanitize-payload")
                                and r[0] not in "<>"), max_size=4).map(lambda rs: "(" + " ".join(rs) + ")")


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(seq=st.lists(st.lists(st.one_of(rule, rule, rule, selector), min_size=1, max_size=7), min_size=1, max_size=4))
def test_random_rule_sequences_render_as_redis(servers, seq):
    srv, real = servers
    p = Pair(srv.port, real.port)
    try:
        p.both("ACL", "DELUSER", "r")
        for rules in seq:
            p.check("ACL", "SETUSER", "r", *rules)
        p.check("ACL", "GETUSER", "r", norm=norm_reply)
        p.check("ACL", "LIST", norm=norm_reply)
        for cmd in (("GET", "a"), ("SET", "ab", "1"), ("PUBLISH", "ab", "x"), ("SELECT", "1"), ("CLIENT", "ID"),
                    ("CONFIG", "GET", "x"), ("PSUBSCRIBE", "a*"), ("SORT", "a", "STORE", "b")):
            p.check("ACL", "DRYRUN", "r", *cmd)
    finally:
        p.both("ACL", "DELUSER", "r")
        p.close()


garbage = st.one_of(st.binary(max_size=12), st.text(max_size=12).map(lambda s: s.encode("utf-8")),
                    st.builds(lambda a, b: a + b, st.sampled_from([b"+", b"-", b"~", b"%", b"&", b"(", b")", b"#",
                                                                   b"!", b"<", b">", b"+@", b"-@", b"%R", b"%W"]),
                              st.binary(max_size=8)))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(rules=st.lists(garbage, min_size=1, max_size=5), auth=st.lists(garbage, min_size=1, max_size=3))
def test_garbage_rules_and_auth_payloads(servers, rules, auth):
    srv, real = servers
    p = Pair(srv.port, real.port)
    other = Pair(srv.port, real.port)
    try:
        p.both("ACL", "DELUSER", "g")
        p.check("ACL", "SETUSER", "g", *rules)
        p.check("ACL", "SETUSER", b"g", b"on", b">" + auth[0], *rules)
        p.check("ACL", "LIST", norm=norm_reply)
        c = Pair(srv.port, real.port)
        a, b = c.both("AUTH", *auth)
        assert a == b, (auth, a, b)
        a, b = c.both("AUTH", "g", *auth[:1])
        assert a == b, (auth, a, b)
        c.close()
        other.check("PING")
    finally:
        p.both("ACL", "DELUSER", "g")
        p.both("ACL", "LOG", "RESET")
        p.close()
        other.close()


# --- the cost of the acl step -------------------------------------------------------------------
def test_acl_gate_only_while_a_client_is_restricted():
    """The acl step costs nothing (GATE_ACL off) unless a connected client's user is restricted."""
    import pyredis.commands  # noqa: F401
    from pyredis.core.client import Client
    from pyredis.core.dispatch import GATE_ACL, execute
    from pyredis.core.state import ServerState

    state = ServerState()
    c = Client(state)
    state.clients[c.id] = c
    assert not state.gates & GATE_ACL and state.acl.default.full
    state.acl.set_user(b"u", [b"on", b"nopass", b"-lolwut", b"~*"])
    assert not state.gates & GATE_ACL  # a restricted user, but nobody uses it
    assert execute(c, [b"AUTH", b"u", b"x"]) == b"OK"
    assert state.gates & GATE_ACL
    assert execute(c, [b"LOLWUT"]).startswith(b"NOPERM")
    state.acl.set_user(b"u", [b"+@all", b"&*"])
    assert not state.gates & GATE_ACL  # u is full now
    state.acl.set_user(b"u", [b"resetkeys"])
    assert state.gates & GATE_ACL
    del state.clients[c.id]  # the client left: cron turns the gate off
    state.acl._gate_checked = 0.0
    state.acl._cron()
    assert not state.gates & GATE_ACL


def test_secrets_are_redacted_in_slowlog_and_monitor(acl):
    acl.check("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*", "&*")
    mon = acl.client()
    mon.both("MONITOR")
    c = acl.client()
    for cmd in (("CONFIG", "SET", "slowlog-log-slower-than", "0"), ("SLOWLOG", "RESET"), ("AUTH", "u", "pw"),
                ("AUTH", "pw"), ("HELLO", "2", "AUTH", "u", "pw", "SETNAME", "n"), ("ACL", "SETUSER", "v", ">vpw"),
                ("CONFIG", "SET", "requirepass", "", "maxmemory", "0"),
                ("MIGRATE", "127.0.0.1", "1", "k", "0", "10", "AUTH", "mpw"),
                ("MIGRATE", "127.0.0.1", "1", "k", "0", "10", "AUTH2", "mu", "mpw"),
                ("CONFIG", "SET", "slowlog-log-slower-than", "10000")):
        c.both(*cmd)
    a, b = acl.both("SLOWLOG", "GET", "20")
    assert [e[3] for e in a] == [e[3] for e in b]
    assert not any(b"pw" in x for e in a for x in e[3])
    time.sleep(0.2)
    a, b = mon.ours.read_raw_available(0.5), mon.theirs.read_raw_available(0.5)

    def cmds(raw: bytes) -> list[bytes]:
        return [ln.split(b"] ", 1)[1] for ln in raw.split(b"\r\n") if b"] " in ln]

    assert cmds(a) == cmds(b) and b"pw" not in a, (a, b)


def test_masteruser_and_acl_configs(acl):
    for cmd in (("CONFIG", "SET", "masteruser", "repl"), ("CONFIG", "GET", "masteruser"),
                ("CONFIG", "SET", "masteruser", ""), ("CONFIG", "GET", "acl*"), ("CONFIG", "SET", "acllog-max-len", "-1"),
                ("CONFIG", "SET", "acl-pubsub-default", "bad"), ("CONFIG", "SET", "aclfile", "x"),
                ("CONFIG", "GET", "requirepass")):
        acl.check(*cmd, norm=lambda r: sorted(zip(r[::2], r[1::2])) if isinstance(r, list) else
                  sorted(r.items()) if isinstance(r, Map) else r)


def test_config_rewrite_writes_the_users(tmp_path):
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    ours_dir.mkdir()
    theirs_dir.mkdir()
    base = "# users\nuser alice on >pw ~a* +get\nhz 10\nuser bob off\n"
    (ours_dir / "redis.conf").write_text(base)
    (theirs_dir / "redis.conf").write_text(base)
    from test_config import _RealWithConfigFile

    real = _RealWithConfigFile(str(theirs_dir / "redis.conf"), str(theirs_dir))
    try:
        with pyredis.Server(port=0, config_file=str(ours_dir / "redis.conf"), dir=str(ours_dir)) as srv:
            p = Pair(srv.port, real.port)
            p.check("ACL", "SETUSER", "carol", "on", "nopass", "(~c* +set)")
            p.check("ACL", "DELUSER", "alice")
            p.check("CONFIG", "REWRITE")
            p.close()

            def users(path):
                return [norm_rules(ln.encode()) for ln in path.read_text().splitlines() if ln.startswith("user ")]

            assert users(ours_dir / "redis.conf") == users(theirs_dir / "redis.conf")
            assert users(ours_dir / "redis.conf")[0].startswith(b"user bob off")
    finally:
        real.stop()


def test_sort_by_and_get_need_unrestricted_read_access(acl):
    c = _user(acl, "+@all", "~l*", "%R~*")
    acl.check("RPUSH", "l", "2", "1")
    for cmd in (("SORT", "l", "GET", "#"), ("SORT", "l", "BY", "w_*"), ("SORT_RO", "l", "GET", "x*")):
        c.check(*cmd)
    acl.check("ACL", "SETUSER", "u", "resetkeys", "~l*", "(~* +sort)")
    for cmd in (("SORT", "l", "GET", "#"), ("SORT", "l", "BY", "nosort"), ("SORT", "l", "BY", "w_*"),
                ("SORT_RO", "l", "GET", "#"), ("SORT", "l", "GET", "#", "BAD"),
                ("EVAL", "return redis.pcall('sort', 'l', 'get', '#')", "0")):
        c.check(*cmd)
