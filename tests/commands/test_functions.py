"""FUNCTION / FCALL: differential against redis-server 7.0.15 (RESP2 and RESP3)."""

from __future__ import annotations

import pytest

# Redis 7.2 and 7.4 changed the sandbox, error texts and conversions: each against its server
# (Valkey 8 differs more: see README, compat-version)
pytestmark = pytest.mark.modes("7.0", "7.2", "7.4", "valkey-8.0")

F = "FUNCTION"


@pytest.fixture
def fdiff(diff):
    diff.both(F, "FLUSH")
    return diff


def lib(name: str, body: str) -> str:
    return "#!lua name=%s\n%s" % (name, body)


def run_cases(diff, cases, **kw):
    for c in cases:
        diff.check(*c, **kw)


def test_load_errors(fdiff):
    run_cases(fdiff, [
        (F, "LOAD", lib("lib1", "redis.register_function('f1', function(keys, args) return {keys, args} end)")),
        (F, "LOAD", lib("lib1", "redis.register_function('f1', function(keys, args) return 1 end)")),
        (F, "LOAD", "REPLACE", lib("lib1", "redis.register_function('f1', function(keys, args) return {keys, args} end)")),
        (F, "LOAD", "return 1"),
        (F, "LOAD", "#!lua"),
        (F, "LOAD", "#!lua name=lib2"),
        (F, "LOAD", "#!lua name=lib2 foo=bar\nredis.register_function('f2', function() return 1 end)"),
        (F, "LOAD", "#!lua x\nredis.register_function('f2', function() return 1 end)"),
        (F, "LOAD", "#!python name=lib2\nredis.register_function('f2', function() return 1 end)"),
        (F, "LOAD", "#!lua name=lib-2\nredis.register_function('f2', function() return 1 end)"),
        (F, "LOAD", lib("lib2", "redis.register_function('f-2', function() return 1 end)")),
        (F, "LOAD", lib("lib2", "redis.register_function('f1', function() return 1 end)")),
        (F, "LOAD", lib("lib2", "redis.register_function('F1', function() return 1 end)")),
        (F, "LOAD", lib("lib2", "redis.register_function('f2', function() return 1 end)\nredis.register_function('f2', function() return 1 end)")),
        (F, "LOAD", lib("lib2", "redis.register_function('f2')")),
        (F, "LOAD", lib("lib2", "redis.register_function('f2', 5)")),
        (F, "LOAD", lib("lib2", "redis.register_function()")),
        (F, "LOAD", lib("lib2", "redis.register_function({}, function() end)")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3', callback=function() return 2 end, flags={'bad-flag'}}")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3', callback=function() return 2 end, flags='no-writes'}")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3', callback=function() return 2 end, foo=1}")),
        (F, "LOAD", lib("lib3", "redis.register_function{callback=function() return 2 end}")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3'}")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3', callback='x'}")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3', callback=function() end, description={}}")),
        (F, "LOAD", lib("lib3", "redis.register_function{function_name='f3', callback=function() end, flags={1}}")),
        (F, "LOAD", lib("t1", "redis.call('PING')")),
        (F, "LOAD", lib("t2", "return +")),
        (F, "LOAD", lib("t3", "error('x')")),
        (F, "LOAD", lib("t4", "x = 1")),
        (F, "LOAD", lib("t5", "local a = y")),
        (F, "LOAD", lib("t6", "redis.log(redis.LOG_DEBUG, 'load')")),
        (F, "LOAD", lib("t7", "return redis.setresp(3)")),
        (F, "LOAD", lib("t8", "return redis.sha1hex('x')")),
        (F, "LOAD", lib("t10", "local t = {} for k in pairs(redis) do t[#t+1]=k end")),
        (F, "LOAD", lib("t12", "redis.register_function('f12', function() return 1 end) return string.len('x')")),
        (F, "LOAD", "#!lua name=libb\n"),
        (F, "LOAD", "#!lua   name=libb  \nredis.register_function('fb', function() return 1 end)"),
        (F, "LOAD", "#!luaname=libc\nredis.register_function('fc', function() return 1 end)"),
        (F, "LOAD", "#!lua name=\nredis.register_function('fc', function() return 1 end)"),
        (F, "LOAD", "#!lua name=libd name=libe\nredis.register_function('fd', function() return 1 end)"),
        (F, "LOAD", "#!lua name=libf\r\nredis.register_function('ff', function() return 1 end)"),
        (F, "LOAD", "#!LUA NAME=libg\nredis.register_function('fg', function() return 1 end)"),
        (F, "LOAD", "#!lua name=\"libh\"\nredis.register_function('fh', function() return 1 end)"),
        (F, "LOAD", lib("libi", "redis.register_function(1, function() return 1 end)")),
        (F, "LOAD", lib("libj", "redis.register_function{function_name=5, callback=function() return 5 end}")),
        (F, "LOAD", lib("libk", "redis.register_function('', function() return 1 end)")),
        (F, "LOAD"),
        (F, "LOAD", "REPLACE"),
        (F, "LOAD", "REPLACE", "x", "y"),
        (F, "LOAD", "x", "y"),
        ("FCALL", "1", "0"),
        ("FCALL", "5", "0"),
        ("FCALL", "fb", "0"),
        ("FCALL", "FB", "0"),
    ])


def test_fcall(fdiff):
    run_cases(fdiff, [
        (F, "LOAD", lib("lib1", "redis.register_function('f1', function(keys, args) return {keys, args} end)")),
        ("FCALL", "f1", "2", "a", "b", "c"),
        ("FCALL", "f1", "3", "a", "b"),
        ("FCALL", "f1", "-1"),
        ("FCALL", "f1", "x"),
        ("FCALL", "nosuch", "0"),
        ("FCALL", "nosuch", "x"),
        ("FCALL_RO", "f1", "0"),
        ("FCALL", "f1"),
        (F, "LOAD", lib("lib4", "redis.register_function('w', function(k,a) return redis.call('SET',k[1],a[1]) end)\n"
                                "redis.register_function{function_name='r', callback=function(k,a) return redis.call('SET',k[1],a[1]) end, flags={'no-writes'}}\n"
                                "redis.register_function{function_name='g', callback=function(k,a) return redis.call('GET',k[1]) end, flags={'no-writes'}}\n"
                                "redis.register_function{function_name='p', callback=function(k,a) return redis.pcall('SET',k[1],'v') end, flags={'no-writes'}}")),
        ("FCALL", "w", "1", "x", "y"),
        ("FCALL_RO", "w", "1", "x", "y"),
        ("FCALL", "r", "1", "x", "y"),
        ("FCALL", "r", "1", "x"),
        ("FCALL_RO", "g", "1", "x"),
        ("FCALL", "G", "1", "x"),
        ("FCALL", "p", "1", "x"),
        (F, "LOAD", lib("lib5", "redis.register_function('e', function(k,a) error('boom') end)\n"
                                "redis.register_function('e2', function(k,a) return redis.call('nosuch') end)\n"
                                "redis.register_function('e3', function(k,a) return z end)\n"
                                "redis.register_function('e4', function(k,a) z = 1 end)\n"
                                "redis.register_function('e5', function(k,a) return KEYS end)\n"
                                "redis.register_function('e6', function(k,a) return redis.call('EVAL', 'return 1', '0') end)\n"
                                "local n = 0\n"
                                "redis.register_function('e7', function() n = n + 1 return n end)\n"
                                "local reg = redis.register_function\n"
                                "redis.register_function('e8', function() return reg('q', function() end) end)\n"
                                "redis.register_function('e9', function() return redis.setresp(3) or redis.call('HGETALL','nokey') end)\n"
                                "redis.register_function('e10', function() return {type(os), 1} end)\n"
                                "redis.register_function('e11', function() return {redis.REPL_ALL, redis.REDIS_VERSION, cjson.encode({1})} end)")),
        ("FCALL", "e", "0"),
        ("FCALL", "e2", "0"),
        ("FCALL", "e3", "0"),
        ("FCALL", "e4", "0"),
        ("FCALL", "e5", "0"),
        ("FCALL", "e6", "0"),
        ("FCALL", "e7", "0"),
        ("FCALL", "e7", "0"),
        ("FCALL", "e8", "0"),
        ("FCALL", "e9", "0"),
        ("FCALL", "e10", "0"),
        ("FCALL", "e11", "0"),
        (F, "LOAD", lib("lib6", "redis.register_function('f15', function() local t = {} for k in pairs(_G) do t[#t+1]=k end table.sort(t) return t end)")),
        ("FCALL", "f15", "0"),
    ])
    for name in ("fcall", "fcall_ro"):
        fdiff.check("COMMAND", "INFO", name)
    fdiff.check("COMMAND", "INFO", "function", unordered=True)
    fdiff.check("COMMAND", "GETKEYS", "FCALL", "f", "2", "k1", "k2", "a")


def test_list_delete_flush_stats(fdiff):
    run_cases(fdiff, [
        (F, "LIST"),
        (F, "STATS"),
        (F, "LOAD", lib("liba", "redis.register_function{function_name='fa', callback=function() return 2 end, "
                                "flags={'allow-oom','allow-stale','no-cluster','allow-cross-slot-keys','no-writes'}, description='d'}")),
        (F, "LIST"),
        (F, "LIST", "WITHCODE"),
        (F, "LIST", "LIBRARYNAME", "liba"),
        (F, "LIST", "LIBRARYNAME", "LIB*", "WITHCODE"),
        (F, "LIST", "WITHCODE", "LIBRARYNAME", "nomatch"),
        (F, "LIST", "LIBRARYNAME"),
        (F, "LIST", "foo"),
        (F, "LIST", "WITHCODE", "WITHCODE"),
        (F, "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"),
        (F, "LOAD", lib("libb", "redis.register_function{function_name='fb', callback=function() return 2 end, flags={'no-writes','no-writes'}}")),
        (F, "LIST", "LIBRARYNAME", "libb"),
        (F, "STATS"),
        (F, "STATS", "x"),
        (F, "DELETE", "nosuch"),
        (F, "DELETE", "LIBA"),
        (F, "DELETE", "liba"),
        ("FCALL", "fa", "0"),
        (F, "DELETE"),
        (F, "KILL"),
        (F, "FLUSH", "bad"),
        (F, "FLUSH", "ASYNC", "x"),
        (F, "HELP"),
        (F, "NOPE"),
        (F,),
        (F, "FLUSH", "SYNC"),
        (F, "LIST"),
        (F, "DUMP"),
        (F, "STATS"),
        (F, "FLUSH"),
    ])


def test_multiple_libraries_listing(fdiff):
    for i in range(4):
        fdiff.check(F, "LOAD", lib("m%d" % i, "redis.register_function('mf%d', function() return %d end)\n"
                                               "redis.register_function('mg%d', function() return 0 end)" % (i, i, i)))
    fdiff.check(F, "LIST", unordered=True)
    fdiff.check(F, "LIST", "WITHCODE", "LIBRARYNAME", "m[12]", unordered=True)
    fdiff.check(F, "STATS")
    for i in range(4):
        fdiff.check("FCALL", "MF%d" % i, "0")


def test_restore_errors(fdiff):
    run_cases(fdiff, [
        (F, "RESTORE", "bad"),
        (F, "RESTORE", "bad", "FLUSH"),
        (F, "RESTORE", "bad", "nope"),
        (F, "RESTORE", "0123456789"),
        (F, "RESTORE"),
    ])


def test_dump_restore_both_ways(fdiff):
    """Payloads written by redis-server load into pyredis and the other way round."""
    code1 = lib("d1", "redis.register_function('df1', function() return 'one' end)")
    code2 = lib("d2", "redis.register_function{function_name='df2', callback=function(k, a) return {k[1], a[1]} end, "
                      "flags={'no-writes'}, description='" + "long description " * 10 + "'}")
    fdiff.check(F, "LOAD", code1)
    fdiff.check(F, "LOAD", code2)
    ours, theirs = fdiff.both(F, "DUMP")
    assert isinstance(ours, bytes) and isinstance(theirs, bytes)
    for payload in (ours, theirs):
        fdiff.check(F, "DELETE", "d2")
        fdiff.check(F, "RESTORE", payload)  # APPEND: library d1 exists
        fdiff.check(F, "RESTORE", payload, "REPLACE")
        fdiff.check(F, "LIST", "WITHCODE", unordered=True)
        fdiff.check(F, "FLUSH")
        fdiff.check(F, "RESTORE", payload)
        fdiff.check(F, "LIST", "WITHCODE", unordered=True)
        fdiff.check("FCALL", "df2", "1", "k", "a")
        fdiff.check("FCALL_RO", "df2", "1", "k", "a")
        fdiff.check(F, "LOAD", lib("other", "redis.register_function('df1', function() return 'clash' end)"))
        fdiff.check(F, "DELETE", "d1")
        fdiff.check(F, "LOAD", lib("other", "redis.register_function('df1', function() return 'clash' end)"))
        fdiff.check(F, "RESTORE", payload, "REPLACE")
        fdiff.check(F, "RESTORE", payload, "FLUSH")
        fdiff.check(F, "LIST", unordered=True)
        fdiff.check("FCALL", "df1", "0")
        fdiff.check(F, "FLUSH")
        fdiff.check(F, "LOAD", code1)
        fdiff.check(F, "LOAD", code2)


def _payload(items, version=10):
    from pyredis.commands.functions import crc64

    out = bytearray()
    for t, code in items:
        out.append(t)
        n = len(code)
        out += bytes([n]) if n < 64 else bytes([0x40 | (n >> 8), n & 0xFF])
        out += code
    out += version.to_bytes(2, "little")
    out += crc64(bytes(out)).to_bytes(8, "little")
    return bytes(out)


def test_restore_crafted_payloads(fdiff):
    ok = b"#!lua name=x\nredis.register_function('a', function() return 'a' end)"
    for p in [
        _payload([(245, b"#!lua name=x\nreturn +")]),
        _payload([(245, ok), (245, b"#!lua name=x\nredis.register_function('b', function() end)")]),
        _payload([(245, ok), (245, b"#!lua name=y\nredis.register_function('a', function() end)")]),
        _payload([(1, ok)]),
        _payload([(245, b"no shebang")]),
        _payload([]),
        _payload([], version=11),
        _payload([(245, ok)])[:-1] + b"\x00",
        _payload([(245, ok)]),
    ]:
        fdiff.check(F, "FLUSH")
        fdiff.check(F, "RESTORE", p)
        fdiff.check(F, "LIST", "WITHCODE")
    fdiff.check("FCALL", "a", "0")
