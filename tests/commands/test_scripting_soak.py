"""The server never crashes under scripting: the randomized workload of tests/lua_soak.py
(bounded here; `uv run python tests/lua_soak.py --steps 100000` for the long soak), the
lifetime of Lua values across FUNCTION LOAD / FLUSH (lupa issue #84), and deep or cyclic
values compared byte for byte with redis-server (EVAL and FCALL, RESP2 and RESP3).

Each pyredis here runs in a subprocess under faulthandler: a crash fails the test with its
Python traceback instead of taking pytest down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import lua_soak
from conftest import REDIS_SERVER, RealRedis, require_binary
from lua_soak import Conn, ServerProcess

SOAK_STEPS = int(os.environ.get("PYREDIS_SOAK_STEPS", "2500"))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", [1, 2])
def test_randomized_scripting_workload_never_crashes(seed):
    res = lua_soak.soak(SOAK_STEPS, seed)
    assert res["steps"] == SOAK_STEPS
    assert res["busy_scripts"] > 0 and res["busy_replies"] == res["busy_scripts"]


@pytest.mark.timeout(600)
def test_functions_replaced_and_flushed_after_garbage_collection():
    """The crash of the issue: functions registered in a coroutine that Lua has since freed,
    dropped by FUNCTION LOAD REPLACE / FUNCTION FLUSH (segfaulted within ~400 rounds)."""
    def rounds(port: int) -> None:
        c = Conn(port)
        for i in range(1500):
            lib = ("#!lua name=lib%d\nredis.register_function('f%d', function(k, a) local t = {} "
                   "for i = 1, 300 do t[i] = {i} end collectgarbage() return #t end)" % (i % 5, i))
            assert c.call("FUNCTION", "LOAD", "REPLACE", lib).startswith(b"$")
            assert c.call("FCALL", "f%d" % i, 0) == b":300\r\n"
            if i % 7 == 0:
                assert c.call("FUNCTION", "FLUSH", "ASYNC" if i % 2 else "SYNC") == b"+OK\r\n"
        c.close()

    lua_soak.on_pyredis(rounds)


@pytest.mark.timeout(120)
def test_errors_carrying_tables_are_released_safely():
    """An error raised by a library call keeps no Lua value of its (freed) coroutine alive."""
    def rounds(port: int) -> None:
        c = Conn(port)
        for i in range(3000):
            r = c.call("EVAL", "return redis.call('get', {%d})" % i, 0)
            assert r.startswith(b"-ERR Lua redis lib command arguments must be strings or integers"), r
            assert c.call("EVAL", "local t = {} for i = 1, 50 do t[i] = {} end collectgarbage() return 1", 0) == b":1\r\n"
        c.close()

    lua_soak.on_pyredis(rounds)


# --- deep and cyclic values, byte for byte ---------------------------------------------------
LIB = ("#!lua name=deep\n"
       "redis.register_function('cyc', function() local t = {} t[1] = t return t end)\n"
       "redis.register_function('deep', function(k, a) local t = {} local c = t "
       "for i = 1, tonumber(a[1]) do c[1] = {} c = c[1] end return t end)\n"
       "redis.register_function('cycmap', function() local t = {} local m = {} t.map = m m['k'] = t return t end)\n"
       "redis.register_function('cycset', function() local t = {} local m = {} t.set = m m[t] = true return t end)\n")

DEEP_CASES = [
    ("EVAL", "local t = {} t[1] = t return t", "0"),
    ("EVAL", "local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end return t", "0"),
    ("EVAL", "local t = {} local c = t for i = 1, 7994 do c[1] = {} c = c[1] end return t", "0"),
    ("EVAL", "local t = {} local c = t for i = 1, 7995 do c[1] = {} c = c[1] end return t", "0"),
    ("EVAL", "local t = {} local c = t for i = 1, 3000 do c[1] = {i, {ok = 'x'}, {double = 1.5}} c = c[1] end return t", "0"),
    ("EVAL", "local t = {} local m = {} t.map = m m['k'] = t return t", "0"),
    ("EVAL", "local t = {} local m = {} t.map = m m[t] = 1 return t", "0"),
    ("EVAL", "local t = {} local m = {} t.set = m m[t] = true return t", "0"),
    ("EVAL", "local t = {} t.x = t return {map = {a = t}}", "0"),
    ("EVAL", "return {verbatim_string = {format = 'mkd', string = 'x'}}", "0"),
    ("EVAL", "return {verbatim_string = {format = 'markdown', string = 'x'}}", "0"),
    ("EVAL", "return {verbatim_string = {format = 'm', string = 'x'}}", "0"),
    ("EVAL", "return {1, {err = 'My err'}, {err = 'ERR x'}, {ok = 'fine'}, {double = 1.5}, "
             "{big_number = '12'}, true, false}", "0"),
    ("EVAL", "redis.setresp(3) return {true, false, {map = {a = 1}}, {set = {b = true}}}", "0"),
    ("EVAL", "return {map = {a = 1, b = {1, 2}}}", "0"),
    ("FCALL", "cyc", "0"),
    ("FCALL", "deep", "0", "10000"),
    ("FCALL", "deep", "0", "7995"),
    ("FCALL", "cycmap", "0"),
    ("FCALL", "cycset", "0"),
    # the libraries Redis bundles, at and past their nesting limits
    ("EVAL", "return cmsgpack.unpack(ARGV[1])", "0", b"\x91" * 100000 + b"\x01"),
    ("EVAL", "return cmsgpack.unpack(ARGV[1])", "0", b"\x91" * 3999 + b"\x01"),
    ("EVAL", "return cmsgpack.unpack(ARGV[1])", "0", b"\x81" * 5000 + b"\x01\x02" * 5000),
    ("EVAL", "return cmsgpack.unpack(ARGV[1])", "0", b"\x81\xc0\x01"),
    ("EVAL", "return #{cmsgpack.unpack(ARGV[1])}", "0", b"\x01" * 7999),
    ("EVAL", "return #{cmsgpack.unpack(ARGV[1])}", "0", b"\x01" * 8000),
    ("EVAL", "return {cmsgpack.unpack_one(ARGV[1])}", "0", b"\x92\x91\x01\x92\x02\x03\x05"),
    ("EVAL", "return cjson.decode(ARGV[1])", "0", "[" * 100000),
    ("EVAL", "return cjson.decode(ARGV[1])", "0", '{"k": ' * 1200 + "1" + "}" * 1200),
    ("EVAL", "return cjson.decode(ARGV[1])", "0", "[" * 1000 + "]" * 1000),
    ("EVAL", "local t = {} t[1] = t return cjson.encode(t)", "0"),
    ("EVAL", "local t = {} t[1] = t return cmsgpack.pack(t)", "0"),
    ("EVAL", "local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return cjson.encode(t)", "0"),
    # huge argument lists
    ("EVAL", "return #{unpack({}, 1, 1e7)}", "0"),
    ("EVAL", "local t = {} for i = 1, 100000 do t[i] = 'a' end return redis.call('del', unpack(t))", "0"),
    ("EVAL", "local t = {} for i = 1, 7000 do t[i] = 'a' end return redis.call('del', unpack(t))", "0"),
]


def _replies(port: int, resp3: bool) -> list[bytes]:
    c = Conn(port)
    try:
        if resp3:
            c.call("HELLO", "3")
        c.call("FUNCTION", "LOAD", "REPLACE", LIB)
        out = [c.call(*case) for case in DEEP_CASES]
        info = c.call("INFO", "errorstats")
        out.append(b"\n".join(sorted(line for line in info.split(b"\r\n") if line.startswith(b"errorstat_"))))
        return out
    finally:
        c.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_deep_and_cyclic_values_as_redis(resp3):
    ours = lua_soak.on_pyredis(lambda port: _replies(port, resp3))
    rr = RealRedis()
    try:
        theirs = _replies(rr.port, resp3)
    finally:
        rr.stop()
    for case, a, b in zip([*DEEP_CASES, ("INFO", "errorstats")], ours, theirs, strict=True):
        assert a == b, f"{case[:2]}: pyredis {a[:200]!r}...{a[-200:]!r} redis {b[:200]!r}...{b[-200:]!r}"
        for bad in lua_soak.FORBIDDEN:
            assert bad not in a


# --- busy loops where the hook has to reach through coroutines ----------------------------------
KILLABLE = [
    "local co = coroutine.wrap(function() while true do end end) co()",
    "local co = coroutine.create(function() while true do end end) return {coroutine.resume(co)}",
    "local co = coroutine.wrap(function() pcall(function() while true do end end) end) co() return 1",
    "local co = coroutine.wrap(function() local inner = coroutine.wrap(function() while true do end end) inner() end) co()",
    "return {xpcall(function() while true do end end, function(e) return e end)}",
]


def _busy_outcomes(port: int) -> list:
    a, b = Conn(port), Conn(port, timeout=20)
    out: list = [b.call("CONFIG", "SET", "busy-reply-threshold", "100")]
    try:
        for body in KILLABLE:
            a.send(["EVAL", body, "0"])
            time.sleep(0.3)
            out.append(b.call("PING"))  # BUSY: the server answers while the script loops
            out.append(b.call("SCRIPT", "KILL"))
            out.append(a.read())
            out.append(b.call("PING"))
    finally:
        b.call("CONFIG", "SET", "busy-reply-threshold", "5000")
        a.close()
        b.close()
    return out


@pytest.mark.timeout(120)
def test_busy_loops_inside_coroutines_answer_busy_and_die_by_script_kill():
    ours = lua_soak.on_pyredis(_busy_outcomes)
    rr = RealRedis()
    try:
        theirs = _busy_outcomes(rr.port)
    finally:
        rr.stop()
    assert ours == theirs
    assert ours[1].startswith(b"-BUSY") and ours[2] == b"+OK\r\n"


def test_coroutine_library_as_lua(diff):
    for body in [
        "local co = coroutine.create(function(a, b) local c = coroutine.yield(a + b) return c * 2 end) "
        "local r1 = {coroutine.resume(co, 1, 2)} local r2 = {coroutine.resume(co, 10)} "
        "local r3 = {coroutine.resume(co)} return {tostring(r1[1]), r1[2], tostring(r2[1]), r2[2], tostring(r3[1]), r3[2]}",
        "local f = coroutine.wrap(function() error('in wrap') end) f()",
        "local f = coroutine.wrap(function() error({err = 'ERR tbl'}) end) f()",
        "local f = coroutine.wrap(function() redis.call('nosuch') end) f()",
        "local f = coroutine.wrap(function() return redis.call('get', {}) end) f()",
        "local f = coroutine.wrap(function() local x = nil + 1 end) f()",
        # (not `return f()` nor `return coroutine.resume(1)`: a tail call to these two Lua-made
        # functions loses the caller's position in their errors, where Lua's C versions keep
        # it -- a known difference, see core/lua/__init__.py)
        "local f = coroutine.wrap(function() coroutine.yield(1) end) f() f() local r = f() return r",
        "return coroutine.create(1)",
        "return coroutine.wrap(redis.call)",
        "return coroutine.create(print)",
        "local r = coroutine.resume(1) return r",
        "return coroutine.status(coroutine.create(function() end))",
        "local co = coroutine.create(function() return coroutine.running() == nil end) return {coroutine.resume(co)}",
        "local co = coroutine.create(function() pcall(function() coroutine.yield(1) end) end) return {coroutine.resume(co)}",
        "return pcall(coroutine.yield, 1)",
        "return {xpcall(function() error('x') end, function(e) return 'handled: ' .. e end)}",
        "return {xpcall(function() return 1, 2 end, function(e) return e end)}",
        "return {xpcall(function() error({err = 'ERR t'}) end, function(e) return type(e) end)}",
        "return {xpcall(function() redis.call('nosuch') end, function(e) return e end)}",
        "return {xpcall(function() error('x') end, function(e) error('again') end)}",
        "return {xpcall(function() error('x') end, function(e) return 1, 2 end)}",
        "return {xpcall(function() error('x') end)}",
        "return {xpcall(redis.call, function(e) return e end)}",
        "return {xpcall(function() coroutine.yield(1) end, function(e) return e end)}",
    ]:
        diff.check("EVAL", body, "0")


# --- the crash report --------------------------------------------------------------------------
def _crash(argv: list[str], logfile: str, port: int, command: list[str]) -> int:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
            assert time.time() < deadline, "server did not start"
        c = Conn(port)
        c.send(command)
        try:
            c.read()
        except (ConnectionError, OSError):
            pass
        c.close()
        return proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sub,sig", [("segfault", signal.SIGSEGV), ("panic", signal.SIGABRT)])
def test_fatal_signal_writes_a_crash_report_to_the_log(sub, sig):
    d = tempfile.mkdtemp(prefix="crash-")
    port = lua_soak._free_port()
    common = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--enable-debug-command", "yes", "--dir", d]
    import sys

    ours_log = os.path.join(d, "pyredis.log")
    rc = _crash([sys.executable, "-m", "pyredis", *common, "--logfile", ours_log], ours_log, port,
                ["debug", sub])
    require_binary(REDIS_SERVER, "redis-server")
    theirs_log = os.path.join(d, "redis.log")
    port2 = lua_soak._free_port()
    common[1] = str(port2)
    rc_redis = _crash([REDIS_SERVER, *common, "--logfile", theirs_log], theirs_log, port2, ["debug", sub])
    assert rc == rc_redis == -sig
    ours = open(ours_log, encoding="utf-8", errors="replace").read()
    theirs = open(theirs_log, encoding="utf-8", errors="replace").read()
    expected = ["BUG REPORT START", "argv[0]: '\"debug\"'", "argv[1]: '\"%s\"'" % sub, "BUG REPORT END"]
    if sub == "panic":
        expected.append("Guru Meditation: DEBUG PANIC called at Unix time")
    else:
        expected.append("crashed by signal: %d" % sig)
    for text in expected:
        assert text in theirs and text in ours, text
    # the Python stacks of every thread, down to the command being executed
    assert "Fatal Python error" in ours and "in debug" in ours and "dispatch.py" in ours


def test_debug_segfault_refused_without_enable_debug_command():
    replies = []
    for cmd in (None, REDIS_SERVER):
        if cmd is None or REDIS_SERVER is not None:
            srv = ServerProcess(cmd)  # enable-debug-command: its default, no
            try:
                c = Conn(srv.port)
                replies.append(c.call("DEBUG", "SEGFAULT"))
                replies.append(c.call("PING"))
                c.close()
            finally:
                srv.stop()
    assert replies[0].startswith(b"-ERR DEBUG command not allowed") and replies[1] == b"+PONG\r\n"
    if len(replies) > 2:
        assert replies[:2] == replies[2:]
