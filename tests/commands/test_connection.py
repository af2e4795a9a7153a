"""Connection commands, differentially against redis-server 7.0 (RESP2 and RESP3): PING ECHO
SELECT QUIT AUTH HELLO RESET, and CLIENT ID INFO LIST SETNAME GETNAME KILL REPLY NO-EVICT
TRACKING (argument errors) GETREDIR UNBLOCK (arguments) PAUSE UNPAUSE HELP.

CLIENT INFO / LIST lines are compared field by field: the names and their order, and every
value except those that differ between any two connections or servers by nature (id, addr,
laddr, fd, age, idle) and the allocator's memory figures (qbuf ... tot-mem, which must still be
integers). Scenarios with several connections run through blocking_env's `both` fixture.

Elsewhere: CLIENT TRACKING's invalidations in test_tracking.py, CLIENT UNBLOCK's wake-ups and
CLIENT REPLY SKIP with blocked replies in test_blocking.py, PING and subscriber mode in
test_pubsub.py, requirepass for new connections in test_config.py.
"""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager

import pytest
from oracles import ALL_MODES
from resp import Map, RawClient, encode_command

VOLATILE = {"id", "addr", "laddr", "fd", "age", "idle"}
MEMORY = {"qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem"}


def client_fields(line: bytes, ignore: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """One CLIENT INFO / CLIENT LIST line as (field, value) pairs, volatile values masked.
    Fields in `ignore` keep their name but not their value (a dedicated test compares them)."""
    text = bytes(line).decode()
    if text.startswith("txt:"):  # RESP3 verbatim string
        text = text[4:]
    out = []
    for tok in text.rstrip("\n").split(" "):
        name, value = tok.split("=", 1)
        if name in MEMORY:
            assert value.lstrip("-").isdigit(), (name, value)
            value = "<n>"
        elif name in VOLATILE or name in ignore:
            value = "<masked>"
        out.append((name, value))
    return out


def info(c: RawClient, ignore: tuple[str, ...] = ("cmd",)) -> tuple[str, list]:
    """CLIENT INFO of connection c: its RESP type and masked fields. `cmd` is ignored unless
    asked for: test_client_info_cmd_field is about it."""
    reply = c.call("CLIENT", "INFO")
    return type(reply).__name__, client_fields(reply, ignore)


def listed(admin: RawClient, cid: int, ignore: tuple[str, ...] = ("cmd",)) -> list:
    """The CLIENT LIST line of client `cid`, seen from `admin`."""
    lines = bytes(admin.call("CLIENT", "LIST", "ID", str(cid))).split(b"\n")
    assert len(lines) == 2 and lines[1] == b"", lines
    return client_fields(lines[0], ignore)


def field(fields: list, name: str) -> str:
    return dict(fields)[name]


def closed(c: RawClient, wait: float = 5.0) -> tuple[bytes, bool]:
    """What the server still sends on c, and whether it then closes the connection (within
    `wait` seconds)."""
    c.sock.settimeout(wait)
    out, c.buf = c.buf, b""
    try:
        while True:
            data = c.sock.recv(1 << 16)
            if not data:
                return out, True
            out += data
    except (TimeoutError, socket.timeout):
        return out, False
    except ConnectionResetError:
        return out, True


def wait_gone(admin: RawClient, cid: int) -> None:
    """Wait until the server has forgotten client `cid` (a closed connection)."""
    deadline = time.monotonic() + 5
    while bytes(admin.call("CLIENT", "LIST", "ID", str(cid))).removeprefix(b"txt:"):
        assert time.monotonic() < deadline, f"client {cid} still listed"
        time.sleep(0.01)


def hello_masked(reply):
    """HELLO's reply (a map in RESP3, a flat array in RESP2) with the connection id masked."""
    if isinstance(reply, Map):
        assert isinstance(reply[b"id"], int)
        return Map({k: ("<id>" if k == b"id" else v) for k, v in reply.items()})
    if isinstance(reply, list) and b"id" in reply:
        i = reply.index(b"id") + 1
        assert isinstance(reply[i], int)
        return [*reply[:i], "<id>", *reply[i + 1:]]
    return reply


@contextmanager
def requirepass(env, password: str):
    """CONFIG SET requirepass on the scenario's server for the block (connections already open
    stay authenticated)."""
    assert env.admin.call("CONFIG", "SET", "requirepass", password) == b"OK"
    try:
        yield
    finally:
        env.admin.call("CONFIG", "SET", "requirepass", "")


# --- PING ECHO SELECT ---------------------------------------------------------------------

def test_ping_and_echo(diff):
    for cmd in (("PING",), ("ping",), ("PING", "hello"), ("PING", ""), ("PING", b"\x00\xff\r\n"), ("PING", "a", "b"),
                ("ECHO", "hi"), ("ECHO", ""), ("ECHO", b"\x00\xff\r\n"), ("ECHO", "x" * 100000), ("ECHO",),
                ("ECHO", "a", "b")):
        diff.check(*cmd)


def test_ping_in_subscriber_mode(both):
    """RESP2: PING answers [pong, message] while subscribed (channels, patterns or shard
    channels); other commands are refused. RESP3: everything as usual."""
    def sc(env):
        c = env.client()
        out = []
        for sub, unsub, name in (("SUBSCRIBE", "UNSUBSCRIBE", "ch"), ("PSUBSCRIBE", "PUNSUBSCRIBE", "p*"),
                                 ("SSUBSCRIBE", "SUNSUBSCRIBE", "sh")):
            out.append(c.call(sub, name))
            for cmd in (("PING",), ("PING", "m"), ("PING", ""), ("PING", "a", "b"), ("ECHO", "x"), ("SELECT", "1"),
                        ("CLIENT", "ID")):
                r = c.call(*cmd)
                out.append("<id>" if cmd == ("CLIENT", "ID") and isinstance(r, int) else r)
            out.append(c.call(unsub, name))
            out.append(c.call("PING"))
        return out

    both(sc)


def test_select(diff):
    c = diff.check
    for db in ("0", "15", "16", "-1", "x", "1.5", "", " 1", "01", "+1", "99999999999999999999", "0x1", "2147483647",
               "2147483648", "-2147483649", "9223372036854775807"):
        c("SELECT", db)
    c("SELECT")
    c("SELECT", "0", "1")
    c("SET", "k", "zero")
    c("SELECT", "7")
    c("GET", "k")
    c("SET", "k", "seven")
    c("MULTI")
    c("SELECT", "0")
    c("GET", "k")
    c("SELECT", "99")
    c("EXEC")
    c("GET", "k")  # the SELECT inside EXEC stays in force
    c("SELECT", "7")
    c("GET", "k")
    assert field(info(diff.ours)[1], "db") == field(info(diff.theirs)[1], "db") == "7"
    c("SELECT", "0")


# --- QUIT ---------------------------------------------------------------------------------

def test_quit(both):
    """+OK, then the server closes the connection; what was pipelined after QUIT never runs."""
    def sc(env):
        c, other = env.client(), env.client()
        c.send(encode_command(["QUIT"]) + encode_command(["SET", "after-quit", "1"]))
        out = [closed(c), other.call("EXISTS", "after-quit")]
        c = env.client()
        c.send(encode_command(["QUIT", "with", "arguments"]))
        out.append(closed(c))
        c = env.client()
        c.send(encode_command(["MULTI"]) + encode_command(["QUIT"]))
        out.append(closed(c))
        return out

    out = both(sc)
    assert out[0] == (b"+OK\r\n", True) and out[1] == 0


# --- AUTH HELLO ---------------------------------------------------------------------------

def test_auth_without_a_password(diff):
    for cmd in (("AUTH",), ("AUTH", "x"), ("AUTH", ""), ("AUTH", "default", "anything"), ("AUTH", "nouser", "x"),
                ("AUTH", "a", "b", "c"), ("PING",)):
        diff.check(*cmd)


def test_auth_with_requirepass(both):
    def sc(env):
        with requirepass(env, "pw"):
            c = env.client() if env.resp == 2 else RawClient("127.0.0.1", env.port)  # HELLO 3 needs AUTH now
            env.clients.append(c)
            out = []
            for cmd in (("PING",), ("CLIENT", "ID"), ("AUTH",), ("AUTH", "wrong"), ("AUTH", "default", "wrong"),
                        ("AUTH", "nouser", "pw"), ("AUTH", "a", "b", "c"), ("HELLO", "3", "AUTH", "default", "wrong"),
                        ("HELLO", "3", "AUTH", "default"), ("PING",),
                        ("HELLO", str(env.resp), "AUTH", "default", "pw", "SETNAME", "authed"), ("PING",),
                        ("CLIENT", "GETNAME"), ("RESET",), ("PING",), ("CLIENT", "GETNAME"), ("AUTH", "pw"), ("PING",),
                        ("AUTH", "default", "pw"), ("AUTH", "wrong"), ("PING",)):
                out.append(hello_masked(c.call(*cmd)))
            return out

    out = both(sc)
    assert out[0].startswith(b"NOAUTH") and out[13] == b"RESET" and out[14].startswith(b"NOAUTH")


@pytest.mark.modes(*ALL_MODES)  # 7.2's text names <proto>
def test_hello_before_auth_is_refused(both):
    def sc(env):
        with requirepass(env, "pw"):
            c = RawClient("127.0.0.1", env.port)
            env.clients.append(c)
            return [c.call(*cmd) for cmd in (("HELLO",), ("HELLO", "3"), ("HELLO", "2", "SETNAME", "x"), ("PING",))]

    both(sc)


def test_hello(diff):
    for cmd in (("HELLO",), ("HELLO", "1"), ("HELLO", "4"), ("HELLO", "0"), ("HELLO", "-1"), ("HELLO", "x"),
                ("HELLO", ""), ("HELLO", "3.0"), ("HELLO", "99999999999999999999"), ("HELLO", "3", "foo"),
                ("HELLO", "3", "AUTH"), ("HELLO", "3", "AUTH", "default"), ("HELLO", "3", "SETNAME"),
                ("HELLO", "AUTH", "default", "x"), ("HELLO", "SETNAME", "x"),
                ("HELLO", "3", "SETNAME", "bad name"), ("PING",),  # refused: still the same protocol
                ("HELLO", "2", "SETNAME", "a\nb"), ("PING",), ("CLIENT", "GETNAME"),
                ("HELLO", "2", "AUTH", "nouser", "x"), ("PING",),
                ("HELLO",), ("HELLO", "3"), ("PING",), ("HELLO", "2"), ("PING",),
                ("HELLO", "3", "auth", "default", "anything", "setname", "h1"), ("CLIENT", "GETNAME"), ("PING",),
                ("HELLO", "2", "SETNAME", "n1", "SETNAME", "n2"), ("CLIENT", "GETNAME"),
                ("HELLO", "2", "SETNAME", ""), ("CLIENT", "GETNAME"), ("HELLO", str(diff.resp))):
        a, b = diff.both(*cmd)
        a, b = hello_masked(a), hello_masked(b)
        assert a == b and type(a) is type(b), f"{cmd!r}: pyredis={a!r} redis={b!r}"


def test_hello_reply_follows_the_protocol(both):
    def sc(env):
        c = env.client()
        cid = c.call("CLIENT", "ID")
        out = []
        for ver in ("2", "3", "2"):
            r = c.call("HELLO", ver)
            rid = r[b"id"] if isinstance(r, Map) else r[r.index(b"id") + 1]
            out += [type(r).__name__, hello_masked(r), rid == cid, field(info(c)[1], "resp")]
        return out

    both(sc)


# --- RESET --------------------------------------------------------------------------------

def test_reset_clears_connection_state(both):
    """RESET: db 0, no name, MULTI discarded (and WATCH), tracking off, RESP2, replies on,
    subscriptions dropped without unsubscribe messages."""
    def sc(env):
        c, other = env.client(), env.client()
        for cmd in (("SELECT", "3"), ("CLIENT", "SETNAME", "n"), ("CLIENT", "TRACKING", "ON", "BCAST"),
                    ("WATCH", "k"), ("MULTI",), ("SET", "a", "1")):
            c.call(*cmd)
        out = [c.call("RESET"), info(c), c.call("CLIENT", "GETNAME"), c.call("CLIENT", "TRACKINGINFO"),
               c.call("CLIENT", "GETREDIR"), c.call("EXEC"), c.call("DBSIZE"), other.call("EXISTS", "a")]
        c.send(encode_command(["CLIENT", "REPLY", "OFF"]) + encode_command(["PING"]) + encode_command(["RESET"]))
        out += [c.read(), c.call("PING")]
        if env.resp == 3:
            c.call("HELLO", "3")
        for cmd in (("SUBSCRIBE", "rc"), ("PSUBSCRIBE", "rp*"), ("SSUBSCRIBE", "rs")):
            c.call(*cmd)
        out += [c.call("RESET"), c.call("PING"), other.call("PUBSUB", "NUMSUB", "rc"), other.call("PUBSUB", "NUMPAT"),
                other.call("PUBSUB", "SHARDNUMSUB", "rs"), other.call("PUBLISH", "rc", "m"), c.call("GET", "x"), info(c)]
        out.append(c.call("RESET", "extra"))
        return out

    both(sc)


def test_reset_ends_transaction_and_watch(diff, other):
    diff.check("WATCH", "k")
    diff.check("MULTI")
    diff.check("SET", "a", "1")
    diff.check("RESET")
    other.check("SET", "k", "1")
    diff.check("EXEC")
    diff.check("MULTI")
    diff.check("PING")
    diff.check("EXEC")
    diff.check("EXISTS", "a")


def test_reset_keeps_client_no_evict(both):
    def sc(env):
        c = env.client()
        c.call("CLIENT", "NO-EVICT", "ON")
        return [c.call("RESET"), field(info(c)[1], "flags")]

    assert both(sc)[1] == "e"


# --- CLIENT ID INFO LIST ------------------------------------------------------------------

def test_client_subcommand_errors(diff):
    for cmd in (("CLIENT",), ("CLIENT", "FOO"), ("CLIENT", "foo", "bar"), ("CLIENT", "ID", "x"), ("CLIENT", "INFO", "x"),
                ("CLIENT", "GETNAME", "x"), ("CLIENT", "SETNAME"), ("CLIENT", "GETREDIR", "x"), ("CLIENT", "REPLY"),
                ("CLIENT", "NO-EVICT"), ("CLIENT", "KILL"), ("CLIENT", "TRACKING"), ("CLIENT", "CACHING"),
                ("CLIENT", "UNBLOCK"), ("CLIENT", "PAUSE"), ("CLIENT", "UNPAUSE", "x"), ("CLIENT", "TRACKINGINFO", "x")):
        diff.check(*cmd)


def test_client_help(diff):
    diff.check("CLIENT", "HELP")
    diff.check("CLIENT", "help")


def test_client_id(both):
    def sc(env):
        a, b = env.client(), env.client()
        ia, ib = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        hello = a.call("HELLO", str(env.resp))
        return [type(ia).__name__, ib > ia, (hello[b"id"] if isinstance(hello, Map) else hello[hello.index(b"id") + 1]) == ia,
                int(bytes(a.call("CLIENT", "INFO")).split(b"id=")[1].split(b" ")[0]) == ia,
                a.call("CLIENT", "LIST", "ID", str(ib)).split(b" ")[0].endswith(b"=%d" % ib)]

    assert both(sc) == ["int", True, True, True, True]


def test_client_info_fields(both):
    """Field names in order and every deterministic value, in a few connection states."""
    def sc(env):
        c, other = env.client(), env.client()
        oid = other.call("CLIENT", "ID")
        out = [info(c)]
        c.call("SELECT", "5")
        c.call("CLIENT", "SETNAME", "me")
        out.append(info(c))
        c.call("MULTI")
        c.call("SET", "x", "1")
        c.send(encode_command(["CLIENT", "INFO"]))
        assert c.read() == b"QUEUED"
        done = c.call("EXEC")
        out.append(client_fields(done[1], ignore=("cmd",)))  # inside EXEC: flags=x, multi=<queued>
        other.call("CLIENT", "SETNAME", "other")
        other.call("MULTI")
        other.call("PING")
        out.append(listed(c, oid))  # a client in MULTI seen by another
        other.call("DISCARD")
        other.call("SUBSCRIBE", "ch1")
        other.call("PSUBSCRIBE", "p*")
        other.call("SSUBSCRIBE", "sh")
        out += [listed(c, oid)]
        other.call("RESET")
        env.block(other, "BLPOP", "nokey", "0")
        out.append(listed(c, oid))  # blocked
        c.call("CLIENT", "UNBLOCK", str(oid))
        out.append(other.read())
        return out

    both(sc)


def test_client_info_cmd_field(both):
    """cmd= is the command being run (client|info, exec inside EXEC) and, for a client in
    MULTI, the last command it queued (Redis sets c->lastcmd at lookup)."""
    def sc(env):
        c, other = env.client(), env.client()
        oid = other.call("CLIENT", "ID")
        c.call("SET", "k", "v")
        out = [field(info(c, ignore=())[1], "cmd")]
        c.call("MULTI")
        c.call("GET", "k")
        c.call("CLIENT", "INFO")
        out.append(field(client_fields(c.call("EXEC")[1]), "cmd"))
        other.call("MULTI")
        other.call("PING")
        out.append(field(listed(c, oid, ignore=()), "cmd"))
        return out

    assert both(sc) == ["client|info", "exec", "ping"]


def test_client_info_flags_of_no_evict_and_tracking(both):
    def sc(env):
        c, other = env.client(), env.client()
        oid = other.call("CLIENT", "ID")
        out = []
        for cmd in (("CLIENT", "NO-EVICT", "ON"), ("CLIENT", "TRACKING", "ON"), ("CLIENT", "NO-EVICT", "OFF"),
                    ("CLIENT", "TRACKING", "ON", "REDIRECT", str(oid)), ("CLIENT", "TRACKING", "OFF")):
            c.call(*cmd)
            f = info(c)[1]
            out.append((field(f, "flags"), field(f, "redir").replace(str(oid), "<other>")))
        return out

    both(sc)


def test_client_list_filters(both):
    def sc(env):
        c, sub = env.client(), env.client()
        c.call("CLIENT", "SETNAME", "lister")
        sub.call("CLIENT", "SETNAME", "subscriber")
        sub.call("SUBSCRIBE", "ch")
        out = []
        for args in ((), ("TYPE", "normal"), ("TYPE", "NORMAL"), ("TYPE", "pubsub"), ("TYPE", "master"),
                     ("TYPE", "replica"), ("TYPE", "slave")):
            reply = c.call("CLIENT", "LIST", *args)
            mine = [client_fields(line, ignore=("cmd",)) for line in bytes(reply).split(b"\n")
                    if b" name=lister " in line or b" name=subscriber " in line]
            out.append((type(reply).__name__, mine))
        for args in (("foo",), ("TYPE",), ("TYPE", "foo"), ("TYPE", "normal", "x"), ("ID",), ("ID", "x"),
                     ("ID", "1", "x"), ("ID", "99999999"), ("ID", "99999999999999999999"), ("ID", "1.5")):
            out.append(c.call("CLIENT", "LIST", *args))
        return out

    both(sc)


def test_client_list_id_arguments(both):
    def sc(env):
        a, b = env.client(), env.client()
        ia, ib = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        out = [a.call("CLIENT", "LIST", "ID", "0"), a.call("CLIENT", "LIST", "ID", "-1")]
        lines = bytes(a.call("CLIENT", "LIST", "ID", str(ib), str(ia), str(ib))).split(b"\n")
        out.append([line.split(b" ")[0].replace(b"%d" % ia, b"<a>").replace(b"%d" % ib, b"<b>") for line in lines])
        out.append(a.call("CLIENT", "LIST", "TYPE", "normal", "ID", str(ia)))
        return out

    both(sc)


# --- CLIENT SETNAME GETNAME ---------------------------------------------------------------

def test_client_setname_getname(diff):
    c = diff.check
    c("CLIENT", "GETNAME")
    for name in ("conn-1", "a b", "a\nb", "a\x00b", b"\x7f", b"\x1f", "é", "~!@#$%^&*()_+{}|:<>?", "", "x" * 1000):
        c("CLIENT", "SETNAME", name)
        c("CLIENT", "GETNAME")
    c("CLIENT", "SETNAME", "named")
    c("CLIENT", "SETNAME", "two", "args")
    c("CLIENT", "setname", "lower")
    c("CLIENT", "GETNAME")
    assert field(info(diff.ours)[1], "name") == field(info(diff.theirs)[1], "name") == "lower"
    c("CLIENT", "SETNAME", "")
    c("CLIENT", "GETNAME")


# --- CLIENT KILL --------------------------------------------------------------------------

def test_client_kill_errors(diff):
    for args in (("1.2.3.4:5",), ("nohost",), ("ID",), ("ID", "x"), ("ID", "0"), ("ID", "-1"), ("ID", "1.5"),
                 ("ID", "99999999999999999999"), ("ID", "999999"), ("ID", "1", "extra"), ("TYPE", "foo"),
                 ("TYPE", "master"), ("TYPE", "replica"), ("TYPE", "slave"), ("foo", "bar"), ("SKIPME", "maybe"),
                 ("ID", "999999", "SKIPME", "maybe"), ("ID", "999999", "SKIPME", "NO"), ("ID", "999999", "ID", "x"),
                 ("ADDR", "1.2.3.4:5"), ("LADDR", "1.2.3.4:5"), ("MAXAGE", "1"), ("USER", "default", "ID", "999999"),
                 ("ID", "x", "SKIPME"), ("TYPE", "foo", "ID"), ("SKIPME", "maybe", "ID"), ("ID", "999999", "TYPE"),
                 ("ADDR", "1.2.3.4:5", "LADDR"), ("id", "999999", "type", "NORMAL", "skipme", "YES")):
        diff.check("CLIENT", "KILL", *args)


def test_client_kill_user_must_exist(diff):
    diff.check("CLIENT", "KILL", "USER", "nosuchuser")
    diff.check("CLIENT", "KILL", "USER", "nosuchuser", "ID", "999999")


def test_client_kill_filters(both):
    """Each filter kills the victim (always narrowed by ID: the servers have other clients)."""
    def sc(env):
        me = env.client()
        out = []

        def victim():
            v = env.client()
            return v, v.call("CLIENT", "ID")

        v, vid = victim()
        out += [me.call("CLIENT", "KILL", "ID", str(vid)), closed(v), me.call("CLIENT", "KILL", "ID", str(vid))]
        v, vid = victim()
        addr = bytes(me.call("CLIENT", "LIST", "ID", str(vid))).split(b" addr=")[1].split(b" ")[0]
        out += [me.call("CLIENT", "KILL", addr), closed(v), me.call("CLIENT", "KILL", addr)]
        v, vid = victim()
        addr = bytes(me.call("CLIENT", "LIST", "ID", str(vid))).split(b" addr=")[1].split(b" ")[0]
        laddr = bytes(me.call("CLIENT", "LIST", "ID", str(vid))).split(b" laddr=")[1].split(b" ")[0]
        out += [me.call("CLIENT", "KILL", "ADDR", addr, "ID", str(vid), "LADDR", laddr, "SKIPME", "yes"), closed(v)]
        v, vid = victim()
        out += [me.call("CLIENT", "KILL", "ID", str(vid), "TYPE", "normal", "USER", "default"), closed(v)]
        v, vid = victim()
        v.call("SUBSCRIBE", "kch")
        out += [me.call("CLIENT", "KILL", "ID", str(vid), "TYPE", "normal"),
                me.call("CLIENT", "KILL", "ID", str(vid), "TYPE", "pubsub"), closed(v)]
        v, vid = victim()
        out += [me.call("CLIENT", "KILL", "ID", str(vid), "ADDR", "1.2.3.4:5"), v.call("PING")]  # no match: alive
        myid = me.call("CLIENT", "ID")
        out += [me.call("CLIENT", "KILL", "ID", str(myid)),  # SKIPME yes by default
                me.call("CLIENT", "KILL", "ID", str(myid), "SKIPME", "no"), closed(me)]
        me = env.client()
        addr = bytes(me.call("CLIENT", "INFO")).split(b" addr=")[1].split(b" ")[0]
        out += [me.call("CLIENT", "KILL", addr), closed(me)]  # the old form kills the caller too
        return out

    both(sc)


# --- CLIENT REPLY NO-EVICT ----------------------------------------------------------------

def test_client_reply_modes(both):
    """OFF silences every reply (errors too) until ON; SKIP silences the next command's."""
    def sc(env):
        c = env.client()
        cmds = [["CLIENT", "REPLY", "OFF"], ["SET", "a", "1"], ["GET", "a", "b"], ["NOSUCHCOMMAND"],
                ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["GET", "a"], ["CLIENT", "REPLY", "SKIP"],
                ["GET", "a"], ["PING"], ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "SKIP"], ["PING", "x"],
                ["PING", "y"], ["CLIENT", "REPLY", "OFF"], ["CLIENT", "REPLY", "SKIP"], ["PING", "z"],
                ["CLIENT", "REPLY", "ON"], ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["ECHO", "end"]]
        c.send(b"".join(encode_command(cmd) for cmd in cmds))
        out = []
        while not out or out[-1] != b"end":
            out.append(c.read())
        for cmd in (("CLIENT", "REPLY", "on"), ("CLIENT", "REPLY", "foo"), ("CLIENT", "REPLY", "ON", "x")):
            out.append(c.call(*cmd))
        return out

    both(sc)


def test_client_no_evict(diff):
    for mode in ("ON", "off", "on", "OFF", "maybe", ""):
        diff.check("CLIENT", "NO-EVICT", mode)
    diff.check("CLIENT", "NO-EVICT", "ON", "x")


# --- CLIENT TRACKING errors, GETREDIR -----------------------------------------------------

def test_client_tracking_errors(diff):
    """Argument errors and mode switches (test_tracking.py has the scenario with invalidations)."""
    c = diff.check
    for cmd in (("CLIENT", "TRACKING", "foo"), ("CLIENT", "TRACKING", "ON", "FOO"), ("CLIENT", "TRACKING", "ON", "REDIRECT"),
                ("CLIENT", "TRACKING", "ON", "REDIRECT", "x"), ("CLIENT", "TRACKING", "ON", "REDIRECT", "0"),
                ("CLIENT", "TRACKING", "ON", "REDIRECT", "-1"), ("CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
                ("CLIENT", "TRACKING", "ON", "PREFIX"), ("CLIENT", "TRACKING", "ON", "PREFIX", "a"),
                ("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"), ("CLIENT", "TRACKING", "ON", "BCAST", "OPTOUT"),
                ("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"), ("CLIENT", "TRACKING", "OFF", "BCAST"),
                ("CLIENT", "TRACKING", "OFF"), ("CLIENT", "CACHING", "YES"), ("CLIENT", "CACHING", "maybe"),
                ("CLIENT", "GETREDIR"),
                ("CLIENT", "TRACKING", "ON", "BCAST"), ("CLIENT", "TRACKING", "ON"), ("CLIENT", "TRACKING", "ON", "BCAST"),
                ("CLIENT", "CACHING", "YES"),
                ("CLIENT", "TRACKING", "OFF"), ("CLIENT", "TRACKING", "ON", "OPTIN"),
                ("CLIENT", "TRACKING", "ON", "OPTOUT"), ("CLIENT", "TRACKING", "ON", "BCAST"),
                ("CLIENT", "CACHING", "NO"), ("CLIENT", "CACHING", "maybe"), ("CLIENT", "CACHING", "YES"),
                ("CLIENT", "CACHING", "yes"), ("CLIENT", "TRACKING", "ON", "OPTIN"), ("CLIENT", "GETREDIR"),
                ("CLIENT", "TRACKING", "OFF"), ("CLIENT", "TRACKING", "ON", "OPTOUT"), ("CLIENT", "CACHING", "YES"),
                ("CLIENT", "CACHING", "NO"), ("CLIENT", "TRACKING", "OFF"), ("CLIENT", "CACHING", "NO")):
        c(*cmd)


def test_client_tracking_prefixes_must_not_overlap(diff):
    c = diff.check
    c("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a")
    c("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "a")
    c("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab")
    c("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "abc")
    c("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a")
    c("CLIENT", "TRACKINGINFO")
    c("CLIENT", "TRACKING", "OFF")
    c("CLIENT", "TRACKING", "ON", "BCAST")  # every key: the empty prefix
    c("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p1")
    c("CLIENT", "TRACKINGINFO")
    c("CLIENT", "TRACKING", "OFF")


def test_client_getredir(both):
    """-1 when tracking is off, 0 when on without redirection, the target's id otherwise (even
    once the target has gone)."""
    def sc(env):
        c, target = env.client(), env.client()
        tid = target.call("CLIENT", "ID")
        out = [c.call("CLIENT", "GETREDIR"), c.call("CLIENT", "TRACKING", "ON"), c.call("CLIENT", "GETREDIR"),
               c.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(tid)), c.call("CLIENT", "GETREDIR") == tid]
        target.close()
        env.clients.remove(target)
        wait_gone(c, tid)
        out += [c.call("CLIENT", "GETREDIR") == tid, c.call("CLIENT", "TRACKING", "OFF"), c.call("CLIENT", "GETREDIR")]
        return out

    assert both(sc) == [-1, b"OK", 0, b"OK", True, True, b"OK", -1]


def test_tracking_broken_redirect_appears_with_the_first_lost_invalidation(both):
    def sc(env):
        c, target, writer = env.client(), env.client(), env.client()
        tid = target.call("CLIENT", "ID")
        c.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(tid))
        c.call("GET", "tk")
        target.close()
        env.clients.remove(target)
        wait_gone(writer, tid)

        def trackinginfo():
            reply = c.call("CLIENT", "TRACKINGINFO")
            items = list(reply.items()) if isinstance(reply, Map) else list(zip(reply[::2], reply[1::2]))
            return [(k, "<target>" if k == b"redirect" and v == tid else v) for k, v in items]

        out = [trackinginfo()]
        writer.call("SET", "tk", "1")
        c.send(encode_command(["PING"]))  # RESP3: the tracking-redir-broken push comes first
        while (r := c.read()) != b"PONG":
            out.append([x if x != tid else "<target>" for x in r])
        out.append(trackinginfo())
        return out

    both(sc)


# --- CLIENT UNBLOCK PAUSE UNPAUSE ---------------------------------------------------------

def test_client_unblock_arguments(diff):
    """Not blocked, unknown or invalid ids (test_blocking.py unblocks real waiters)."""
    own = diff.ours.call("CLIENT", "ID"), diff.theirs.call("CLIENT", "ID")
    assert [c.call("CLIENT", "UNBLOCK", str(i)) for c, i in zip((diff.ours, diff.theirs), own)] == [0, 0]
    for args in (("999999",), ("0",), ("-1",), ("x",), ("1.5",), ("99999999999999999999",), ("999999", "TIMEOUT"),
                 ("999999", "error"), ("999999", "foo"), ("x", "foo"), ("999999", "TIMEOUT", "x")):
        diff.check("CLIENT", "UNBLOCK", *args)


def test_client_pause_unpause(diff):
    for args in (("x",), ("1.5",), ("",), ("99999999999999999999",), ("0",), ("1", "WRITE"), ("1", "all"), ("1",)):
        diff.check("CLIENT", "PAUSE", *args)
        diff.check("CLIENT", "UNPAUSE")
    diff.check("CLIENT", "UNPAUSE")


def test_client_pause_argument_errors(diff):
    try:
        for args in (("-1",), ("10", "FOO"), ("10", "WRITE", "x"), ("10", "ALL", "WRITE")):
            diff.check("CLIENT", "PAUSE", *args)
    finally:
        diff.both("CLIENT", "UNPAUSE")


def test_client_pause_write_holds_writes_until_it_ends(both):
    """Reads go on, a write waits (listed as blocked) until CLIENT UNPAUSE; test_client_pause.py
    has the rest of CLIENT PAUSE."""
    def sc(env):
        c, other = env.client(), env.client()
        try:
            out = [c.call("CLIENT", "PAUSE", "100000", "WRITE"), other.call("GET", "k")]
            env.block(other, "SET", "k", "v")
            out += [c.call("GET", "k"), c.call("CLIENT", "UNPAUSE"), other.read(), c.call("GET", "k")]
            return out
        finally:
            env.admin.call("CLIENT", "UNPAUSE")

    assert both(sc) == [b"OK", None, None, b"OK", b"OK", b"v"]


def test_client_list_flags_combined(both):
    """flags= with several letters, in Redis's order (O P x b t R B d c U r e), seen by
    another client: MONITOR, WATCH made dirty, MULTI, subscriptions (RESP3 may run anything),
    blocking, tracking with a broken redirect."""
    def sc(env):
        c, admin, victim = env.client(), env.client(), env.client()
        cid, vid = c.call("CLIENT", "ID"), victim.call("CLIENT", "ID")
        out = []

        def flags():
            return [field(listed(admin, cid), f).replace(str(vid), "<victim>") for f in ("flags", "redir", "sub")]

        c.call("WATCH", "w")
        admin.call("SET", "w", "1")
        out.append(flags())  # d
        c.call("MULTI")
        c.call("PING")
        out.append(flags())  # x d
        c.call("DISCARD")
        c.call("CLIENT", "NO-EVICT", "ON")
        c.call("CLIENT", "TRACKING", "ON", "REDIRECT", str(vid))
        c.call("GET", "tk")
        victim.close()
        env.clients.remove(victim)
        wait_gone(admin, vid)
        admin.call("SET", "tk", "1")  # the invalidation finds the target gone: R
        c.send(encode_command(["PING"]))
        while c.read() != b"PONG":  # RESP3: the tracking-redir-broken push first
            pass
        out.append(flags())  # t R e
        if env.resp == 3:
            c.call("SUBSCRIBE", "ch")
            c.call("MULTI")
            out.append(flags())  # P x t R e
            c.call("DISCARD")
            c.call("UNSUBSCRIBE", "ch")
        c.call("CLIENT", "TRACKING", "OFF")
        c.call("CLIENT", "TRACKING", "ON", "BCAST")
        c.send(encode_command(["BLPOP", "nokey", "0"]))
        deadline = time.monotonic() + 5
        while "b" not in flags()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        out.append(flags())  # b t B e
        admin.call("CLIENT", "UNBLOCK", str(cid))
        c.read()
        c.call("MONITOR")
        out.append(flags())  # O t B e
        return out

    both(sc)
