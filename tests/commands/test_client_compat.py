"""CLIENT as each release has it, against each mode's server: 7.2's SETINFO (lib-name and
lib-ver in CLIENT LIST/INFO) and NO-TOUCH (flag T), 7.4's watch= field and KILL MAXAGE,
Valkey 8's tot-net-in/tot-net-out/tot-cmds, and CLIENT HELP's text. 7.0 answers the newer
subcommands with its unknown-subcommand error.

CLIENT INFO lines are compared field by field, in order, with the figures that depend on
the process (id, addresses, fd, ages, buffer and memory sizes) masked.
"""

from __future__ import annotations

import time

import pytest

from oracles import ALL_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)

_MASKED = {"id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp",
           "obl", "oll", "omem", "tot-mem", "events"}


def _fields(line: bytes, resp: int, net_out: bool = False) -> list[tuple[str, str]]:
    out = []
    text = bytes(line).decode().strip()
    if text.startswith("txt:"):  # a RESP3 verbatim string
        text = text[4:]
    for item in text.split(" "):
        k, _, v = item.partition("=")
        # bytes sent: earlier CLIENT INFO replies (and HELLO 3's, with the connection id) have
        # lengths of their own on each server
        # (tot-net-in too outside test_client_counters: a session's earlier tests can leave
        # Valkey counting a byte more on a connection)
        out.append((k, "*" if k in _MASKED or (k in ("tot-net-out", "tot-net-in") and not net_out) else v))
    return out


def _same_info(diff, *args) -> list[tuple[str, str]]:
    a, b = diff.both(*args)
    fa, fb = _fields(a, diff.resp), _fields(b, diff.resp)
    assert fa == fb, f"{args}: pyredis={a!r} server={b!r}"
    return fa


def test_client_setinfo(diff):
    c = diff.check
    c("CLIENT", "SETINFO", "LIB-NAME", "redis-py")
    c("CLIENT", "SETINFO", "lib-ver", "5.0.1")
    c("CLIENT", "SETINFO", "Lib-Name", "a b")
    c("CLIENT", "SETINFO", "LIB-VER", "x\ny")
    c("CLIENT", "SETINFO", "LIB-VER", "caf\xe9")
    c("CLIENT", "SETINFO", "LIB-NAME", "~!")
    c("CLIENT", "SETINFO", "nosuch", "x")
    c("CLIENT", "SETINFO", "LIB-NAME")
    c("CLIENT", "SETINFO", "LIB-NAME", "x", "y")
    info = _same_info(diff, "CLIENT", "INFO")
    if diff.mode != "7.0":
        assert ("lib-name", "~!") in info and ("lib-ver", "5.0.1") in info
    c("CLIENT", "SETINFO", "LIB-VER", "")  # an empty value clears it
    _same_info(diff, "CLIENT", "INFO")
    cid = diff.ours.call("CLIENT", "ID"), diff.theirs.call("CLIENT", "ID")
    a, b = diff.ours.call("CLIENT", "LIST", "ID", cid[0]), diff.theirs.call("CLIENT", "LIST", "ID", cid[1])
    assert _fields(a, diff.resp) == _fields(b, diff.resp)
    # RESET forgets the name, not the library
    c("CLIENT", "SETNAME", "conn")
    c("RESET")
    _same_info(diff, "CLIENT", "INFO")


def test_client_no_touch(diff):
    c = diff.check
    c("CLIENT", "NO-TOUCH", "maybe")
    c("CLIENT", "NO-TOUCH")
    c("CLIENT", "NO-TOUCH", "on")
    info = _same_info(diff, "CLIENT", "INFO")
    if diff.mode != "7.0":
        assert ("flags", "T") in info
    c("SET", "k", "v")
    c("GET", "k")
    c("TOUCH", "k")
    c("MULTI")
    c("CLIENT", "INFO")
    c("CLIENT", "NO-EVICT", "on")
    a, b = diff.both("EXEC")
    assert a[1] == b[1] == b"OK"
    assert _fields(a[0], diff.resp) == _fields(b[0], diff.resp)
    c("CLIENT", "NO-EVICT", "off")
    c("CLIENT", "NO-TOUCH", "OFF")
    _same_info(diff, "CLIENT", "INFO")
    c("CLIENT", "NO-TOUCH", "ON")
    c("RESET")
    _same_info(diff, "CLIENT", "INFO")


def test_client_info_flags_and_watch(diff):
    c = diff.check
    c("WATCH", "a", "b", "c")
    info = _same_info(diff, "CLIENT", "INFO")
    if diff.mode in ("7.4", "valkey-8.0"):
        assert ("watch", "3") in info
    c("SET", "a", "1")  # the watched key changes: flag d
    _same_info(diff, "CLIENT", "INFO")
    c("MULTI")
    c("CLIENT", "INFO")
    c("EXEC")
    c("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p")
    _same_info(diff, "CLIENT", "INFO")
    c("CLIENT", "TRACKING", "off")
    _same_info(diff, "CLIENT", "INFO")


def test_client_counters(diff):
    """Valkey's per-connection totals: bytes in (this request included), bytes out (before
    this reply), commands called (those rejected before running are not)."""
    c = diff.check
    c("PING")
    c("NOSUCHCOMMAND")
    c("GET")
    c("MULTI")
    c("SET", "a", "1")
    c("GET", "a")
    c("EXEC")
    c("ECHO", "x" * 100)
    a, b = diff.both("CLIENT", "INFO")
    info = _fields(a, diff.resp, net_out=diff.resp == 2)
    assert info == _fields(b, diff.resp, net_out=diff.resp == 2), (a, b)
    if diff.mode == "valkey-8.0":  # FLUSHALL (HELLO), PING, MULTI, EXEC, SET, GET, ECHO
        assert ("tot-cmds", str(7 + (diff.resp == 3))) in info


def test_client_help(diff):
    diff.check("CLIENT", "HELP")


def test_client_kill_maxage(diff, other):
    c = diff.check
    c("CLIENT", "KILL", "MAXAGE", "x")
    c("CLIENT", "KILL", "MAXAGE", "0")
    c("CLIENT", "KILL", "MAXAGE", "-5")
    c("CLIENT", "KILL", "MAXAGE", "99999999999999999999")
    c("CLIENT", "KILL", "MAXAGE")
    ids = other.ours.call("CLIENT", "ID"), other.theirs.call("CLIENT", "ID")
    a = diff.ours.call("CLIENT", "KILL", "ID", ids[0], "MAXAGE", "1000")
    b = diff.theirs.call("CLIENT", "KILL", "ID", ids[1], "MAXAGE", "1000")
    assert a == b
    time.sleep(2.2)  # the other connection is now more than a second old
    a = diff.ours.call("CLIENT", "KILL", "ID", ids[0], "MAXAGE", "1")
    b = diff.theirs.call("CLIENT", "KILL", "ID", ids[1], "MAXAGE", "1")
    assert a == b
    if diff.mode in ("7.4", "valkey-8.0"):
        assert a == 1


def test_names_with_nul(diff):
    """7.2 checks names and library attributes as C strings: up to the first NUL."""
    c = diff.check
    c("CLIENT", "SETNAME", "a\x00b")
    c("CLIENT", "SETNAME", "a\x00 b")
    c("CLIENT", "GETNAME")
    c("CLIENT", "SETINFO", "LIB-NAME", "x\x00 y")
    c("CLIENT", "SETINFO", "LIB-VER", " \x00y")
    a, b = diff.both("HELLO", "2", "SETNAME", "n\x00 m")  # (its reply has the connection id)
    assert type(a) is type(b)
    c("CLIENT", "GETNAME")


def test_no_touch_keeps_access_frequency(diff):
    """With CLIENT NO-TOUCH on (7.2), reads leave a key's LFU counter as it was; TOUCH still
    counts. (A fresh key's counter goes from 5 to 6 at its first access: probability 1.)"""
    c = diff.check
    # lfu-log-factor 0: every access increments (in 7.0, where NO-TOUCH is unknown, the second
    # GET's increment is otherwise a 1-in-11 draw on each server)
    with diff.config("maxmemory-policy", "allkeys-lfu"), diff.config("lfu-log-factor", "0"):
        c("SET", "k", "v")
        c("SET", "j", "v")
        c("OBJECT", "FREQ", "k")
        c("CLIENT", "NO-TOUCH", "on")
        c("GET", "k")
        c("OBJECT", "FREQ", "k")
        c("TOUCH", "j")
        c("OBJECT", "FREQ", "j")
        c("CLIENT", "NO-TOUCH", "off")
        c("GET", "k")
        c("OBJECT", "FREQ", "k")
