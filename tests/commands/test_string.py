"""String commands, differential against redis-server: replies, errors, option syntax, TTL
effects, wrong types, INCRBYFLOAT's long double formatting, LCS, and what each command
propagates (checked in-process against Redis's t_string.c rewrites)."""

from __future__ import annotations

import random
import time

import pytest

from effects import Effects

import pyredis.commands  # noqa: F401  (fills the command table TABLE)
from pyredis.core.longdouble import format_ld_human, ld_add, parse_ld
from pyredis.core.spec import TABLE
from oracles import ALL_MODES

# Every mode, each against its release's server (the data-type suites cover each mode's replies).
pytestmark = pytest.mark.modes(*ALL_MODES)

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)

STRING_COMMANDS = [
    "get", "set", "setnx", "setex", "psetex", "mget", "mset", "msetnx", "getset", "getdel", "getex",
    "append", "strlen", "incr", "incrby", "incrbyfloat", "decr", "decrby", "getrange", "substr",
    "setrange", "lcs",
]


def make_nonstring(diff, key: str) -> None:
    diff.check("RPUSH", key, "x")


def ttl_close(diff, key: str, unit: str = "pttl", tol: int = 50) -> int:
    """PTTL/TTL on both servers: equal when negative, within `tol` otherwise."""
    a, b = diff.both(unit, key)
    assert type(a) is int and type(b) is int, (a, b)
    if a < 0 or b < 0:
        assert a == b, (key, a, b)
    else:
        assert abs(a - b) <= tol, (key, a, b)
    return a


# --- declarations -------------------------------------------------------------------------

@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_declaration_matches_redis(name, real_redis):
    """arity, flags, key positions and ACL categories as COMMAND INFO shows them in Redis."""
    from resp import RawClient

    c = RawClient("127.0.0.1", real_redis.port)
    try:
        info = c.call("COMMAND", "INFO", name)[0]
    finally:
        c.close()
    spec = TABLE[name.encode()]
    assert info[1] == spec.arity
    assert [bytes(f).decode() for f in info[2]] == spec.flags
    assert (info[3], info[4], info[5]) == (spec.first_key, spec.last_key, spec.key_step)
    assert [bytes(f).decode().lstrip("@") for f in info[6]] == spec.acl


def test_command_info_differential(diff):
    for name in STRING_COMMANDS:
        a, b = diff.both("COMMAND", "INFO", name)
        # fields 1-7: name, arity, flags, first/last/step, ACL categories
        assert a[0][:7] == b[0][:7], name


# --- GET / SET ----------------------------------------------------------------------------

def test_get_set_basic(diff):
    diff.check("GET", "k")
    diff.check("SET", "k", "v")
    diff.check("GET", "k")
    diff.check("SET", "k", "")
    diff.check("GET", "k")
    diff.check("SET", "k", b"\x00\xff\r\n binary")
    diff.check("GET", "k")
    diff.check("SET", "k", "x" * 100000)
    diff.check("GET", "k")
    diff.check("SET", "k")
    diff.check("GET")
    diff.check("GET", "k", "k")


def test_set_nx_xx_get(diff):
    diff.check("SET", "k", "1", "XX")
    diff.check("GET", "k")
    diff.check("SET", "k", "1", "NX")
    diff.check("SET", "k", "2", "NX")
    diff.check("GET", "k")
    diff.check("SET", "k", "3", "XX")
    diff.check("GET", "k")
    diff.check("SET", "k", "4", "GET")
    diff.check("SET", "new", "4", "GET")
    diff.check("GET", "new")
    diff.check("SET", "k", "5", "NX", "GET")  # exists: old value, not set
    diff.check("GET", "k")
    diff.check("SET", "n2", "5", "NX", "GET")  # absent: nil, set
    diff.check("GET", "n2")
    diff.check("SET", "n3", "5", "XX", "GET")  # absent: nil, not set
    diff.check("GET", "n3")
    diff.check("SET", "k", "6", "XX", "GET")
    diff.check("GET", "k")
    diff.check("SET", "k", "7", "get", "GET", "nx", "NX")
    diff.check("SET", "k", "8", "xx", "XX")
    diff.check("GET", "k")


@pytest.mark.parametrize("opts", [
    ["NX", "XX"], ["XX", "NX"], ["EX", "10", "PX", "100"], ["PX", "100", "EX", "10"],
    ["EX", "10", "EXAT", "100"], ["EXAT", "100", "PXAT", "100"], ["PXAT", "100", "KEEPTTL"],
    ["KEEPTTL", "EX", "10"], ["KEEPTTL", "PX", "10"], ["KEEPTTL", "EXAT", "10"], ["KEEPTTL", "PXAT", "10"],
    ["EX"], ["PX"], ["EXAT"], ["PXAT"], ["NX", "EX"], ["PERSIST"], ["FOO"], ["EX", "10", "FOO"],
    ["GETT"], ["N"], ["NXX"], ["E", "1"], ["KEEP"], ["KEEPTTLX"], [""],
    ["EX", "10", "KEEPTTL"], ["EX", "10", "EX", "20"], ["PX", "10000", "PX", "20000"],
    ["NX", "NX"], ["XX", "XX"], ["KEEPTTL", "KEEPTTL"], ["EXAT", "99999999999", "EXAT", "99999999998"],
    ["ex", "100"], ["Px", "100000"], ["keepttl"], ["nX"], ["Get"],
])
def test_set_option_syntax(diff, opts):
    diff.check("SET", "k", "old")
    diff.check("SET", "k", "v", *opts)
    diff.check("GET", "k")


@pytest.mark.parametrize("opt", ["EX", "PX", "EXAT", "PXAT"])
@pytest.mark.parametrize("val", ["0", "-1", "abc", "1.5", "", " 1", "+1", "01",
                                 str(LLONG_MAX), str(LLONG_MIN), "9223372036854775808",
                                 str(LLONG_MAX // 1000), str(LLONG_MAX // 1000 + 1),
                                 str(LLONG_MAX - 1000), "9223372036854775"])
def test_set_expire_values(diff, opt, val):
    diff.check("SET", "k", "old")
    diff.check("SET", "k", "v", opt, val)
    diff.check("SET", "k", "v", opt, val, "GET")
    diff.check("GET", "k")


def test_set_expire_errors_before_get_and_nx(diff):
    make_nonstring(diff, "w")
    diff.check("SET", "w", "v", "GET", "EX", "0")  # expire error wins over WRONGTYPE
    diff.check("SET", "w", "v", "GET", "EX", "x")
    diff.check("SET", "w", "v", "GET")  # WRONGTYPE, nothing written
    diff.check("TYPE", "w")
    diff.check("SET", "w", "v", "GET", "NX")
    diff.check("SET", "w", "v", "NX")
    diff.check("TYPE", "w")
    diff.check("SET", "w", "v")  # plain SET overwrites any type
    diff.check("GET", "w")


def test_set_ttl_effects(diff):
    diff.check("SET", "k", "v", "EX", "100")
    ttl_close(diff, "k", "ttl", 1)
    diff.check("SET", "k", "v2", "KEEPTTL")
    ttl_close(diff, "k", "ttl", 1)
    diff.check("SET", "k", "v3")
    ttl_close(diff, "k")
    diff.check("SET", "k", "v", "PX", "100000")
    ttl_close(diff, "k")
    now = int(time.time())
    diff.check("SET", "k", "v", "EXAT", now + 1000)
    ttl_close(diff, "k", "ttl", 1)
    diff.check("SET", "k", "v", "PXAT", (now + 2000) * 1000)
    ttl_close(diff, "k", "ttl", 1)
    diff.check("SET", "k", "v", "XX", "KEEPTTL", "GET")
    ttl_close(diff, "k", "ttl", 1)
    diff.check("SET", "k", "v", "NX", "EX", "5")  # not set: TTL untouched
    ttl_close(diff, "k", "ttl", 1)


def test_set_past_absolute_expire(diff):
    diff.check("SET", "k", "v", "PXAT", "1")
    diff.check("GET", "k")
    diff.check("SET", "k", "v", "EXAT", int(time.time()) - 10, "GET")
    diff.check("GET", "k")
    diff.check("EXISTS", "k")
    diff.check("SET", "k", "v", "NX", "PXAT", "1")
    diff.check("SET", "k", "v2", "NX")  # the expired key counts as absent
    diff.check("GET", "k")


def test_set_short_expire_really_expires(diff):
    diff.check("SET", "a", "1", "PX", "30")
    diff.check("PSETEX", "b", "30", "1")
    diff.check("SET", "c", "1", "PX", "2000")
    diff.check("GETEX", "c", "PERSIST")
    time.sleep(0.15)
    diff.check("GET", "a")
    diff.check("GET", "b")
    diff.check("GET", "c")
    diff.check("MGET", "a", "b", "c")


# --- SETNX / SETEX / PSETEX ---------------------------------------------------------------

def test_setnx(diff):
    diff.check("SETNX", "k", "1")
    diff.check("SETNX", "k", "2")
    diff.check("GET", "k")
    diff.check("SETNX", "k")
    diff.check("SETNX", "k", "1", "2")
    make_nonstring(diff, "w")
    diff.check("SETNX", "w", "1")


def test_setex_psetex(diff):
    diff.check("SETEX", "k", "100", "v")
    diff.check("GET", "k")
    ttl_close(diff, "k", "ttl", 1)
    diff.check("PSETEX", "p", "100000", "v")
    diff.check("GET", "p")
    ttl_close(diff, "p")
    for cmd in ("SETEX", "PSETEX"):
        for bad in ("0", "-5", "x", "", "1.5", str(LLONG_MAX), "9223372036854775808",
                    str(LLONG_MAX // 1000 + 1), str(LLONG_MAX // 1000)):
            diff.check(cmd, "k", bad, "v")
        diff.check(cmd, "k", "10")
        diff.check(cmd, "k", "10", "v", "x")
    make_nonstring(diff, "w")
    diff.check("SETEX", "w", "100", "v")
    diff.check("GET", "w")


# --- MGET / MSET / MSETNX -----------------------------------------------------------------

def test_mget_mset(diff):
    diff.check("MSET", "a", "1", "b", "2", "c", "3")
    diff.check("MGET", "a", "b", "c", "d")
    diff.check("MSET", "a", "x", "a", "y")
    diff.check("MGET", "a", "a")
    diff.check("MSET", "a")
    diff.check("MSET", "a", "1", "b")
    diff.check("MSET")
    diff.check("MGET")
    make_nonstring(diff, "w")
    diff.check("MGET", "a", "w", "nokey")  # non-strings read as nil
    diff.check("MSET", "w", "s")
    diff.check("GET", "w")


def test_mset_clears_ttl(diff):
    diff.check("SET", "a", "1", "EX", "100")
    diff.check("MSET", "a", "2")
    ttl_close(diff, "a")


def test_msetnx(diff):
    diff.check("MSETNX", "a", "1", "b", "2")
    diff.check("MSETNX", "b", "x", "c", "3")
    diff.check("MGET", "a", "b", "c")
    diff.check("MSETNX", "c", "3", "c", "4")
    diff.check("GET", "c")
    diff.check("MSETNX", "a")
    diff.check("MSETNX", "a", "1", "b")
    make_nonstring(diff, "w")
    diff.check("MSETNX", "w", "1", "z", "2")
    diff.check("GET", "z")


# --- GETSET / GETDEL / GETEX --------------------------------------------------------------

def test_getset(diff):
    diff.check("GETSET", "k", "1")
    diff.check("GETSET", "k", "2")
    diff.check("GET", "k")
    diff.check("SET", "t", "v", "EX", "100")
    diff.check("GETSET", "t", "w")
    ttl_close(diff, "t")  # GETSET clears the TTL
    make_nonstring(diff, "w")
    diff.check("GETSET", "w", "1")
    diff.check("TYPE", "w")


def test_getdel(diff):
    diff.check("GETDEL", "k")
    diff.check("SET", "k", "v")
    diff.check("GETDEL", "k")
    diff.check("GETDEL", "k")
    diff.check("EXISTS", "k")
    diff.check("GETDEL", "k", "x")
    make_nonstring(diff, "w")
    diff.check("GETDEL", "w")
    diff.check("EXISTS", "w")


@pytest.mark.parametrize("opts", [
    [], ["PERSIST"], ["EX", "100"], ["PX", "100000"], ["KEEPTTL"], ["NX"], ["XX"], ["GET"],
    ["EX"], ["PX"], ["EXAT"], ["PXAT"], ["EX", "0"], ["EX", "-1"], ["EX", "x"], ["PX", "0"],
    ["EXAT", "0"], ["PXAT", "-1"], ["PERSIST", "EX", "10"], ["EX", "10", "PERSIST"],
    ["EX", "10", "PX", "10"], ["PERSIST", "PERSIST"], ["EX", "100", "EX", "200"],
    ["EX", str(LLONG_MAX)], ["PX", str(LLONG_MAX)], ["EX", "9223372036854775"],
    ["FOO"], ["persist"], ["ex", "100"],
])
def test_getex_options(diff, opts):
    diff.check("SET", "k", "v", "EX", "1000")
    diff.check("GETEX", "k", *opts)
    diff.check("GET", "k")
    ttl_close(diff, "k", "ttl", 1)
    diff.check("GETEX", "nokey", *opts)
    diff.check("EXISTS", "nokey")


def test_getex_absolute(diff):
    now = int(time.time())
    diff.check("SET", "k", "v")
    diff.check("GETEX", "k", "EXAT", now + 500)
    ttl_close(diff, "k", "ttl", 1)
    diff.check("GETEX", "k", "PXAT", (now + 600) * 1000)
    ttl_close(diff, "k", "ttl", 1)
    diff.check("GETEX", "k", "PERSIST")
    ttl_close(diff, "k")
    diff.check("GETEX", "k", "PXAT", "1")  # returns the value, then deletes
    diff.check("EXISTS", "k")
    diff.check("SET", "k", "v")
    diff.check("GETEX", "k", "EXAT", now - 1)
    diff.check("GET", "k")


def test_getex_wrongtype_and_order(diff):
    make_nonstring(diff, "w")
    diff.check("GETEX", "w")
    diff.check("GETEX", "w", "EX", "0")  # WRONGTYPE before the expire check
    diff.check("GETEX", "w", "FOO")  # syntax before WRONGTYPE
    diff.check("GETEX", "nokey", "EX", "abc")  # missing key: nil before the expire check


# --- APPEND / STRLEN ----------------------------------------------------------------------

def test_append_strlen(diff):
    diff.check("STRLEN", "k")
    diff.check("APPEND", "k", "hello")
    diff.check("APPEND", "k", " world")
    diff.check("APPEND", "k", "")
    diff.check("GET", "k")
    diff.check("STRLEN", "k")
    diff.check("APPEND", "e", "")
    diff.check("EXISTS", "e")
    diff.check("STRLEN", "e")
    diff.check("SET", "n", "12")
    diff.check("APPEND", "n", "34")
    diff.check("INCR", "n")
    diff.check("STRLEN", "n")
    diff.check("SET", "t", "v", "EX", "100")
    diff.check("APPEND", "t", "x")
    ttl_close(diff, "t", "ttl", 1)  # APPEND keeps the TTL
    make_nonstring(diff, "w")
    diff.check("APPEND", "w", "x")
    diff.check("STRLEN", "w")
    diff.check("STRLEN", "k", "x")
    diff.check("APPEND", "k")


# --- INCR family --------------------------------------------------------------------------

def test_incr_decr(diff):
    for cmd in (("INCR", "k"), ("INCR", "k"), ("DECR", "k"), ("DECR", "k"), ("DECR", "k"),
                ("INCRBY", "k", "100"), ("DECRBY", "k", "50"), ("INCRBY", "k", "-7"),
                ("DECRBY", "k", "-7"), ("INCRBY", "k", "0"), ("GET", "k"),
                ("DECR", "d"), ("GET", "d"), ("DECRBY", "e", "5"), ("INCRBY", "f", "5")):
        diff.check(*cmd)


@pytest.mark.parametrize("value", [
    "", " 1", "1 ", "+1", "01", "-0", "0", "-", "1.0", "1e3", "abc", "0x10", "18446744073709551616",
    str(LLONG_MAX), str(LLONG_MIN), "9223372036854775808", "-9223372036854775809",
    "00", "12345678901234567890", "-1", "\x001",
])
def test_incr_stored_values(diff, value):
    for cmd in ("INCR", "DECR"):
        diff.check("SET", "k", value)
        diff.check(cmd, "k")
        diff.check("GET", "k")
    for by in ("1", "-1", "0", str(LLONG_MAX), str(LLONG_MIN)):
        diff.check("SET", "k", value)
        diff.check("INCRBY", "k", by)
        diff.check("GET", "k")
        diff.check("SET", "k", value)
        diff.check("DECRBY", "k", by)
        diff.check("GET", "k")


@pytest.mark.parametrize("by", ["", "x", "1.5", " 1", "+1", "01", "9223372036854775808",
                                str(LLONG_MIN), str(LLONG_MAX), "-9223372036854775809"])
def test_incrby_arguments(diff, by):
    diff.check("SET", "k", "5")
    diff.check("INCRBY", "k", by)
    diff.check("DECRBY", "k", by)
    diff.check("INCRBY", "nokey", by)
    diff.check("DECRBY", "nokey2", by)
    diff.check("MGET", "k", "nokey", "nokey2")


def test_incr_wrongtype_and_ttl(diff):
    make_nonstring(diff, "w")
    for cmd in (("INCR", "w"), ("DECR", "w"), ("INCRBY", "w", "1"), ("DECRBY", "w", "1"),
                ("INCRBYFLOAT", "w", "1"), ("INCRBY", "w", "x"), ("INCRBYFLOAT", "w", "x")):
        diff.check(*cmd)
    diff.check("SET", "t", "1", "EX", "100")
    diff.check("INCR", "t")
    diff.check("INCRBYFLOAT", "t", "1.5")
    ttl_close(diff, "t", "ttl", 1)  # INCR keeps the TTL
    diff.check("INCR")
    diff.check("INCRBY", "k")
    diff.check("INCR", "a", "b")


# --- INCRBYFLOAT --------------------------------------------------------------------------

@pytest.mark.parametrize("start,incr", [
    (None, "10.5"), ("10.5", "0.1"), (None, "3.0e3"), ("5", "1e400"), ("5", "1e4000"),
    ("0", "1e-400"), ("1", "1e-5000"), ("1", "1e5000"), (None, "0x1p3"), (None, "0X1.8P1"),
    (None, " 1"), (None, "1 "), (None, "inf"), (None, "-inf"), (None, "nan"), (None, "infinity"),
    ("inf", "1"), (None, "1e"), (None, "1e+"), (None, ".5"), (None, "5."), (None, "."), (None, "+.5e1"),
    (None, "-0"), ("-0", "-0"), ("1", "-1"), ("3", "-3.0"), (None, "1.23456789012345678901234567890"),
    (None, "0.1"), ("0.1", "0.2"), ("1e17", "1"), ("1.5", "-0.00000000000000001"),
    (None, "-0.000000000000000001"), (None, "0.000000000000000005"), (None, "0.000000000000000015"),
    (None, "123456789012345678901234567890"), ("9223372036854775807", "1"), (None, ""),
    (None, "abc"), ("abc", "1"), ("", "1"), (" 1", "1"), ("1\x00x", "1"), (None, "1\x00abc"),
    (None, "0x"), (None, "0x.8"), (None, "0xg"), (None, "1_000"), (None, "١"),
    (None, "1e-4950"), (None, "1e-4951"), (None, "1.18973149535723176502e+4932"),
    (None, "1.18973149535723176509e+4932"), (None, "1e999999999999"), (None, "1e-999999999999"),
    (None, "0e999999999999"), (None, "0x1p16383"), (None, "0x1p16384"), (None, "0x1p-16445"),
    (None, "0x1p-16446"), (None, "0x1.8p-16446"), (None, "2.5e-4951"),
    (None, "1" + "0" * 4500), (None, "0." + "0" * 4500 + "1"), (None, "1" * 5200),
])
def test_incrbyfloat_cases(diff, start, incr):
    if start is not None:
        diff.check("SET", "k", start)
    diff.check("INCRBYFLOAT", "k", incr)
    diff.check("GET", "k")


def test_incrbyfloat_random(diff):
    rnd = random.Random(1234)
    for _ in range(300):
        diff.check("DEL", "k")
        parts = []
        for _ in range(rnd.randint(1, 4)):
            kind = rnd.random()
            if kind < 0.3:
                parts.append(repr(rnd.uniform(-1000, 1000)))
            elif kind < 0.5:
                parts.append("%.*f" % (rnd.randint(0, 20), rnd.uniform(-1e6, 1e6)))
            elif kind < 0.7:
                parts.append("%de%d" % (rnd.randint(-99, 99), rnd.randint(-30, 30)))
            elif kind < 0.85:
                parts.append(str(rnd.randint(-10**20, 10**20)))
            else:
                parts.append(float(rnd.uniform(-1, 1)).hex())
        for p in parts:
            diff.check("INCRBYFLOAT", "k", p)


def test_longdouble_unit():
    """Spot values of the emulation whose Redis output is known (x86-64 glibc)."""
    def add(a, b):
        return format_ld_human(ld_add(parse_ld(a), parse_ld(b)))
    assert add(b"10.5", b"0.1") == b"10.6"
    assert add(b"0", b"3.0e3") == b"3000"
    assert add(b"0.1", b"0.2") == b"0.3"
    assert add(b"1", b"-1") == b"0"
    assert add(b"0", b"-0.000000000000000001") == b"0"
    assert parse_ld(b"1e-5000") is None and parse_ld(b"nan") is None and parse_ld(b" 1") is None
    assert ld_add(parse_ld(b"inf"), parse_ld(b"1")) is None


# --- GETRANGE / SUBSTR / SETRANGE ---------------------------------------------------------

def test_getrange_table(diff):
    diff.check("SET", "k", "Hello World")
    diff.check("SET", "e", "")
    diff.check("SET", "n", "1234")
    vals = ["0", "1", "3", "-1", "-2", "-3", "-11", "-12", "-100", "10", "11", "12", "100",
            str(LLONG_MAX), str(LLONG_MIN)]
    for key in ("k", "e", "n", "nokey"):
        for s in vals:
            for e in vals:
                diff.check("GETRANGE", key, s, e)
        diff.check("SUBSTR", key, "0", "-1")
        diff.check("SUBSTR", key, "2", "4")
    for bad in ("x", "1.5", "", "9223372036854775808"):
        diff.check("GETRANGE", "k", bad, "1")
        diff.check("GETRANGE", "k", "1", bad)
        diff.check("GETRANGE", "nokey", bad, "1")
    make_nonstring(diff, "w")
    diff.check("GETRANGE", "w", "0", "-1")
    diff.check("GETRANGE", "w", "x", "-1")
    diff.check("SUBSTR", "w", "0", "-1")
    diff.check("GETRANGE", "k", "0")


def test_setrange(diff):
    diff.check("SETRANGE", "k", "0", "")
    diff.check("EXISTS", "k")
    diff.check("SETRANGE", "k", "5", "")
    diff.check("EXISTS", "k")
    diff.check("SETRANGE", "k", "5", "hi")
    diff.check("GET", "k")
    diff.check("SETRANGE", "k", "0", "abc")
    diff.check("GET", "k")
    diff.check("SETRANGE", "k", "6", "xyz")
    diff.check("GET", "k")
    diff.check("SETRANGE", "k", "12", "end")
    diff.check("GET", "k")
    diff.check("SETRANGE", "k", "3", "")
    diff.check("GET", "k")
    diff.check("SETRANGE", "k", "1", "Z")
    diff.check("GET", "k")
    diff.check("SET", "n", "1234")
    diff.check("SETRANGE", "n", "1", "9")
    diff.check("INCR", "n")
    for off in ("-1", "x", "1.5", "", "9223372036854775808", str(LLONG_MAX), str(LLONG_MIN),
                "536870911", "536870912"):  # (a boundary that fits would allocate 512MB: see test_append_limit)
        diff.check("SETRANGE", "k", off, "ab")
        diff.check("SETRANGE", "nokey", off, "ab")
        diff.check("SETRANGE", "nokey", off, "")
        diff.check("SETRANGE", "k", off, "")
    diff.check("EXISTS", "nokey")
    diff.check("SET", "t", "v", "EX", "100")
    diff.check("SETRANGE", "t", "3", "x")
    ttl_close(diff, "t", "ttl", 1)
    make_nonstring(diff, "w")
    diff.check("SETRANGE", "w", "0", "x")
    diff.check("SETRANGE", "w", "0", "")
    diff.check("SETRANGE", "w", "-1", "x")
    diff.check("SETRANGE", "k", "0")


def test_append_limit(diff):
    for c in (diff.ours, diff.theirs):
        c.call("CONFIG", "SET", "proto-max-bulk-len", "1048576")
    try:
        diff.check("SETRANGE", "k", "1048575", "a")
        diff.check("SETRANGE", "k", "1048575", "ab")
        diff.check("APPEND", "k", "")
        diff.check("APPEND", "k", "b")
        diff.check("STRLEN", "k")
    finally:
        for c in (diff.ours, diff.theirs):
            c.call("CONFIG", "SET", "proto-max-bulk-len", "536870912")


# --- LCS ----------------------------------------------------------------------------------

LCS_OPTIONS = [
    [], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"],
    ["IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"], ["WITHMATCHLEN"], ["MINMATCHLEN", "3"],
    ["LEN", "IDX"], ["IDX", "LEN"], ["len"], ["idx", "withmatchlen", "minmatchlen", "-5"],
    ["MINMATCHLEN"], ["MINMATCHLEN", "x"], ["IDX", "MINMATCHLEN", "1.5"], ["FOO"], ["IDX", "FOO"],
    ["LEN", "MINMATCHLEN", "100"], ["IDX", "IDX"], ["LEN", "WITHMATCHLEN"],
]


@pytest.mark.parametrize("opts", LCS_OPTIONS)
def test_lcs_options(diff, opts):
    diff.check("MSET", "a", "ohmytext", "b", "mynewtext", "c", "", "n", "12345")
    diff.check("LCS", "a", "b", *opts)
    diff.check("LCS", "b", "a", *opts)
    diff.check("LCS", "a", "c", *opts)
    diff.check("LCS", "a", "nokey", *opts)
    diff.check("LCS", "nokey", "nokey", *opts)
    diff.check("LCS", "a", "a", *opts)
    diff.check("LCS", "n", "a", *opts)


def test_lcs_random(diff):
    rnd = random.Random(99)
    for _ in range(60):
        la, lb = rnd.randint(0, 40), rnd.randint(0, 40)
        alpha = "ab" if rnd.random() < 0.5 else "abcdxyz"
        a = "".join(rnd.choice(alpha) for _ in range(la))
        b = "".join(rnd.choice(alpha) for _ in range(lb))
        diff.check("MSET", "a", a, "b", b)
        diff.check("LCS", "a", "b")
        diff.check("LCS", "a", "b", "LEN")
        diff.check("LCS", "a", "b", "IDX", "WITHMATCHLEN")
        diff.check("LCS", "a", "b", "IDX", "MINMATCHLEN", str(rnd.randint(0, 4)))


def test_lcs_long_strings(diff):
    rnd = random.Random(7)
    a = "".join(rnd.choice("ACGT") for _ in range(1500))
    b = "".join(rnd.choice("ACGT") for _ in range(1200))
    diff.check("MSET", "a", a, "b", b)
    diff.check("LCS", "a", "b", "LEN")
    diff.check("LCS", "a", "b")
    diff.check("LCS", "a", "b", "IDX", "MINMATCHLEN", "6", "WITHMATCHLEN")


def test_lcs_memory_limit_and_types(diff):
    diff.check("MSET", "a", "x" * 12000, "b", "y" * 12000)  # (12001**2)*4 > 512MB
    diff.check("LCS", "a", "b")
    diff.check("LCS", "a", "b", "LEN")
    diff.check("MSET", "a", "x" * 11000, "b", "y" * 11000)  # just under the limit
    diff.check("LCS", "a", "b", "LEN")
    make_nonstring(diff, "w")
    diff.check("LCS", "a", "w")
    diff.check("LCS", "w", "a", "FOO")  # type error before syntax
    diff.check("LCS", "a")


# --- wrong arity of every command ---------------------------------------------------------

@pytest.mark.parametrize("name", STRING_COMMANDS)
def test_arity(diff, name):
    arity = TABLE[name.encode()].arity
    n = abs(arity)
    diff.check(name, *["k"] * (n - 2))
    if arity > 0:
        diff.check(name, *["k"] * n)


# --- propagation --------------------------------------------------------------------------

@pytest.fixture
def propagated(pyredis_srv, r):
    state = pyredis_srv.state
    with Effects(state, argv_only=True) as seen:
        yield seen


def _ms_arg(v: bytes, lo: int, hi: int) -> bool:
    return lo <= int(v) <= hi


def test_propagation(r, propagated):
    seen = propagated
    t0 = int(time.time() * 1000)
    r.execute_command("SET", "k", "v")
    r.execute_command("SET", "k", "v", "EX", "100")
    r.execute_command("SET", "k", "v", "PX", "5000", "GET")
    r.execute_command("SET", "k", "v", "EXAT", "4000000000", "NX")  # not set: nothing
    r.execute_command("SET", "k", "w", "GET", "XX", "get")
    r.execute_command("SETEX", "k", "10", "v")
    r.execute_command("PSETEX", "k", "10000", "v")
    r.execute_command("GETSET", "k", "g")
    r.execute_command("GETEX", "k", "EX", "50")
    r.execute_command("GETEX", "k", "PXAT", "4000000000000")
    r.execute_command("GETEX", "k", "PERSIST")
    r.execute_command("GETEX", "k", "PERSIST")  # no TTL: nothing
    r.execute_command("GETEX", "k")  # nothing
    r.execute_command("INCRBYFLOAT", "f", "1.5")
    r.execute_command("GETDEL", "k")
    r.execute_command("GETDEL", "k")  # nothing
    r.execute_command("SET", "k", "v")
    r.execute_command("GETEX", "k", "EXAT", "1")
    r.execute_command("SETNX", "k", "v")
    r.execute_command("SETNX", "k", "v")  # nothing
    t1 = int(time.time() * 1000)
    expect = [
        [b"SET", b"k", b"v"],
        [b"SET", b"k", b"v", b"PXAT", (t0 + 100000, t1 + 100000)],
        [b"SET", b"k", b"v", b"PXAT", (t0 + 5000, t1 + 5000)],
        [b"SET", b"k", b"w", b"XX"],
        [b"SET", b"k", b"v", b"PXAT", (t0 + 10000, t1 + 10000)],
        [b"SET", b"k", b"v", b"PXAT", (t0 + 10000, t1 + 10000)],
        [b"SET", b"k", b"g"],
        [b"PEXPIREAT", b"k", (t0 + 50000, t1 + 50000)],
        [b"GETEX", b"k", b"PXAT", b"4000000000000"],
        [b"PERSIST", b"k"],
        [b"SET", b"f", b"1.5", b"KEEPTTL"],
        [b"DEL", b"k"],
        [b"SET", b"k", b"v"],
        [b"DEL", b"k"],
        [b"SETNX", b"k", b"v"],
    ]
    assert len(seen) == len(expect), seen
    for got, exp in zip(seen, expect):
        assert len(got) == len(exp), (got, exp)
        for g, e in zip(got, exp):
            if isinstance(e, tuple):
                assert _ms_arg(g, *e), (got, exp)
            else:
                assert g == e, (got, exp)


# --- keyspace notifications ---------------------------------------------------------------

def _set_notify(diff, flags: str) -> None:
    diff.check("CONFIG", "SET", "notify-keyspace-events", flags)


def test_keyspace_events(diff, pyredis_srv, real_redis):
    from resp import RawClient

    subs = [RawClient("127.0.0.1", pyredis_srv.port), RawClient("127.0.0.1", real_redis.port)]
    try:
        for s in subs:
            s.call("PSUBSCRIBE", "__key*__:*")
            s.call("SUBSCRIBE", "sync")
        _set_notify(diff, "KEg$xn")  # not "A": see notes/strings-notify-A-n.md
        now = int(time.time())
        for cmd in [
            ("SET", "k", "v"), ("SET", "k", "v", "EX", "100"), ("SET", "k", "v", "PXAT", "1"),
            ("GET", "k"), ("SETNX", "n", "1"), ("SETNX", "n", "1"), ("SETEX", "k", "10", "v"),
            ("PSETEX", "k", "10000", "v"), ("SET", "k", "v", "NX"), ("SET", "k2", "v", "XX"),
            ("MSET", "a", "1", "b", "2", "a", "3"), ("MSETNX", "c", "1", "c", "2"), ("MSETNX", "c", "1"),
            ("GETSET", "a", "2"), ("GETSET", "z", "2"), ("GETDEL", "a"), ("GETDEL", "a"),
            ("GETEX", "b", "EX", "100"), ("GETEX", "b", "PERSIST"), ("GETEX", "b", "PERSIST"),
            ("GETEX", "b", "EXAT", now + 100), ("GETEX", "b", "PXAT", "1"), ("GETEX", "b"),
            ("APPEND", "x", "1"), ("APPEND", "x", ""), ("INCR", "i"), ("DECR", "i"), ("INCRBY", "i", "5"),
            ("DECRBY", "i", "3"), ("INCR", "k"), ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "x"),
            ("SETRANGE", "s", "0", ""), ("SETRANGE", "s", "2", "ab"), ("SETRANGE", "s", "0", "c"),
            ("SET", "k", "v", "GET"), ("SET", "k", "w", "KEEPTTL", "XX"), ("SET", "k", "w", "NX", "GET"),
            ("SET", "q", "w", "GET", "PX", "100000"),
        ]:
            diff.check(*cmd)
        diff.ours.call("PUBLISH", "sync", "end")
        diff.theirs.call("PUBLISH", "sync", "end")
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
        assert got[0] == got[1]
    finally:
        _set_notify(diff, "")
        for s in subs:
            s.close()


def _expired_keys(client) -> bytes:
    info = client.call("INFO", "stats")
    return [ln for ln in bytes(info).split(b"\r\n") if ln.startswith(b"expired_keys:")][0]


@pytest.mark.parametrize("cmd", [("SET", "k", "v2"), ("MSET", "x", "1", "k", "v2"), ("SET", "k", "v2", "NX"),
                                 ("GETSET", "k", "v2"), ("INCR", "k"), ("APPEND", "k", "x")])
def test_overwriting_an_expired_key_counts_it(diff, cmd):
    for c in (diff.ours, diff.theirs):
        c.call("CONFIG", "RESETSTAT")
    diff.check("SET", "k", "v", "PXAT", "1")
    diff.check(*cmd)
    diff.check("GET", "k")
    # Redis counts the expired key it finds (1); Valkey 8.0 deletes a key set with a past
    # deadline at once, so there is none to count (0): the count is the reference server's
    assert _expired_keys(diff.ours) == _expired_keys(diff.theirs)


def test_string_errors_inside_exec(diff):
    for cmd in (("MULTI",), ("SET", "a", "x"), ("INCR", "a"), ("SET", "a", "v", "EX", "0"),
                ("SET", "a", "v", "FOO"), ("GETEX", "a", "PX", "100000"), ("INCRBYFLOAT", "a", "1"),
                ("APPEND", "a", "y"), ("GET", "a"), ("LCS", "a", "a", "IDX"), ("EXEC",)):
        diff.check(*cmd)
    diff.check("SET", "w", "1")
    diff.check("WATCH", "w")
    diff.check("SET", "w", "1", "NX")  # not set: the watch stays clean
    diff.check("MULTI")
    diff.check("GET", "w")
    diff.check("EXEC")
    diff.check("WATCH", "w")
    diff.check("SETRANGE", "w", "0", "2")
    diff.check("MULTI")
    diff.check("GET", "w")
    diff.check("EXEC")
