"""A randomized scripting workload that must never crash the server (issue: the server never
crashes). Used by tests/commands/test_scripting_soak.py (a bounded run in CI) and runnable on
its own for long soaks:

    uv run python tests/lua_soak.py --steps 100000 --seed 7            # against pyredis
    uv run python tests/lua_soak.py --steps 2000 --server redis-server  # validate the workload
    uv run python tests/lua_soak.py --replay /tmp/soak.log              # resend a recorded run

The generator is seeded: the same --seed and --steps give the same commands. Each step is a
list of actions recorded as JSON lines in --log; --replay sends a recorded file again.

What it mixes: EVAL / EVAL_RO / EVALSHA / SCRIPT LOAD / SCRIPT FLUSH [ASYNC|SYNC] / FUNCTION
LOAD [REPLACE] / FCALL / FCALL_RO / FUNCTION DELETE / FUNCTION FLUSH [ASYNC|SYNC] / FUNCTION
DUMP + RESTORE; scripts that error, loop until killed (SCRIPT KILL / FUNCTION KILL from another
client, with BUSY checked meanwhile), return deep or cyclic tables, call redis.call with huge
argument lists, use pcall and coroutines, touch the sandbox, run inside MULTI, from RESP2 and
RESP3 clients. The server runs in a subprocess under faulthandler: a crash is reported with
its traceback and the last actions sent.

Checks after every action: the reply arrives (the connection and the server survive) and it
carries no Python text (RecursionError, Traceback, "internal error", lupa's messages).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

# Texts that must never reach a client: they are Python's, not Redis's.
FORBIDDEN = (b"internal error", b"RecursionError", b"Traceback", b"not a python object",
             b"LuaError", b"lupa", b"error during Python call", b" object at 0x", b"Exception")

BUSY_THRESHOLD_MS = 100
CRASH_ONLY = False  # --crash-only: look for crashes and hangs, not for Python texts

# --- the catalog ------------------------------------------------------------------------------
# EVAL bodies. "{N}" is replaced by a number chosen per step.
SCRIPTS = [
    "return 1",
    "return redis.call('set', KEYS[1], ARGV[1])",
    "return redis.call('get', KEYS[1])",
    "return redis.call('incr', KEYS[1])",
    "return redis.pcall('incr', KEYS[1])",
    "return redis.call('lpush', KEYS[1], ARGV[1])",
    "return redis.call('hset', KEYS[1], 'f', ARGV[1])",
    "redis.setresp(3) return redis.call('hgetall', KEYS[1])",
    "redis.setresp(3) return redis.call('config', 'get', 'maxmemory*')",
    "local t = {} t[1] = t return t",
    "local t = {} local c = t for i = 1, {N} do c[1] = {} c = c[1] end return t",
    "local t = {} local c = t for i = 1, {N} do c[1] = {i, {ok = 'x'}} c = c[1] end return t",
    "local t = {} t.x = t return {map = {a = t}}",
    "local t = {} t[1] = t return {set = {[t] = true}}",
    "local t = {} t[1] = t local m = {} m[t] = t return {map = m}",
    "return {err = 'My error'}",
    "return redis.error_reply('x')",
    "return redis.status_reply('FINE')",
    "return {1, 2, 3, nil, 5}",
    "return {double = 3.14}",
    "return {big_number = '123456789012345678901234567890'}",
    "return {verbatim_string = {format = 'txt', string = 'hello'}}",
    "return {1, {2, {3, {err = 'deep'}}}}",
    "error('boom')",
    "error({err = 'ERR table error'})",
    "error()",
    "return redis.call('nosuchcommand')",
    "return redis.call('get', {})",
    "return redis.call('set', KEYS[1], function() end)",
    "return redis.call()",
    "return redis.call('eval', 'return 1', 0)",
    "return redis.pcall('get', {})",
    "local ok, e = pcall(redis.call, 'get', {}) return {tostring(ok), type(e)}",
    "local ok, e = pcall(error, {err = 'x'}) return e",
    "local ok, e = pcall(function() return redis.call('incr', KEYS[1]) end) return {tostring(ok)}",
    "return select(2, pcall(redis.call, 'nosuch'))",
    "local ok, e = xpcall(function() error('x') end, function(m) return 'handled' end) return e",
    # the sandbox
    "setmetatable(_G, {})",
    "x = 1",
    "print('hi')",
    "dofile('/etc/passwd')",
    "loadfile('/etc/passwd')",
    "redis.call = function() return 1 end",
    "cjson.encode = nil",
    "rawset(_G, 'y', 1)",
    "return rawget(_G, 'redis') ~= nil",
    "local mt = getmetatable(_G) if mt then mt.__index = nil end return 1",
    "local f = loadstring('return 1') return f()",
    "return loadstring(string.dump(function() return 1 end))",
    "return tostring(redis.call)",
    "return type(cjson.encode)",
    "local t = setmetatable({}, {__index = function(t, k) error('idx') end}) return t.x",
    "local t = setmetatable({}, {__gc = function() end}) return 1",
    "return table.concat({'a', 'b'})",
    # the libraries
    "return cjson.encode({a = {1, 2, {b = 3}}})",
    "return cjson.decode(ARGV[1])",
    "return cjson.encode(cjson.decode(ARGV[1]))",
    "local t = {} t[1] = t return cjson.encode(t)",
    "local t = {} t[1] = t return cmsgpack.pack(t)",
    "return cmsgpack.unpack(ARGV[1])",
    "return cmsgpack.pack({1, {2, {3}}, 'x', 1.5, true})",
    "return cmsgpack.unpack(cmsgpack.pack({1, {2, {3}}, 'x'}))",
    "return bit.band(tonumber(ARGV[1]) or 0, 255)",
    "return bit.tohex(65535)",
    "return struct.pack('>I2', 7)",
    "return struct.unpack('>I2', ARGV[1])",
    "return redis.sha1hex(ARGV[1])",
    "redis.log(redis.LOG_DEBUG, 'soak') return 1",
    "return math.random(10)",
    "math.randomseed(7) return math.random(1000)",
    "return redis.set_repl(redis.REPL_NONE)",
    "return string.rep('x', {N})",
    # huge argument lists
    "return #{unpack({}, 1, {N})}",
    "local t = {} for i = 1, {N} do t[i] = 'k' .. i end return redis.call('del', unpack(t))",
    "local t = {} for i = 1, {N} do t[i] = 'v' end return redis.call('rpush', KEYS[1], unpack(t))",
    # coroutines made by the script
    "local co = coroutine.create(function() redis.call('set', KEYS[1], 'c') coroutine.yield(1) "
    "return redis.call('get', {}) end) local a = coroutine.resume(co) local b, e = coroutine.resume(co) "
    "return {tostring(a), tostring(b), type(e)}",
    "local co = coroutine.wrap(function(...) return cjson.encode({...}) end) return co(1, 2, {3})",
    "local co = coroutine.create(function() error({err = 'ERR in co'}) end) local ok, e = coroutine.resume(co) "
    "return type(e)",
    "local co = coroutine.wrap(function() local t = {} t[1] = t return t end) return co()",
    "return coroutine.running()",
    "coroutine.yield(1)",
    # garbage
    "local t = {} for i = 1, 2000 do t[i] = {i, tostring(i)} end collectgarbage() return #t",
    "collectgarbage('collect') return collectgarbage('count') > 0",
    "local s = 0 for i = 1, 200000 do s = s + i end return s",
]

# FUNCTION bodies: the body of function(keys, args).
FUNCTION_BODIES = [
    "return 1",
    "return redis.call('set', keys[1], args[1])",
    "return redis.call('get', keys[1])",
    "return redis.pcall('incr', keys[1])",
    "local t = {} t[1] = t return t",
    "local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end return t",
    "error('function boom')",
    "return redis.call('get', {})",
    "local ok, e = pcall(redis.call, 'get', {}) return type(e)",
    "local t = {} for i = 1, 300 do t[i] = {i} end collectgarbage() return #t",
    "state[#state + 1] = {args[1]} return #state",
    "return cjson.encode({n = #keys})",
    "x = 1",
    "local co = coroutine.wrap(function() return redis.call('ping') end) return co()",
    "local t = {} for i = 1, 9000 do t[i] = 'k' end return redis.call('exists', unpack(t))",
]

LIBS = ["lib0", "lib1", "lib2", "lib3"]
FUNCS = ["f%d" % i for i in range(8)]

# scripts that loop until killed: (command, killer)
BUSY_EVAL = [
    "while true do end",
    "local i = 0 while true do i = i + 1 end",
    "pcall(function() while true do end end)",
    "while true do pcall(function() error('x') end) end",
    "local co = coroutine.wrap(function() while true do end end) co()",
    "while true do redis.call('ping') end",
    "while true do local t = {} t[1] = t end",
    "local ok, e = pcall(function() while true do end end) return {ok, e}",
]
BUSY_LIB = ("#!lua name=spinlib\n"
            "redis.register_function('spin', function() while true do end end)\n"
            "redis.register_function{function_name = 'spin_ro', callback = function() "
            "local t = {} while true do t[1] = {t} end end, flags = {'no-writes'}}\n"
            "redis.register_function('spin_pcall', function() pcall(function() while true do end end) end)\n")


def _lib_code(rng: random.Random) -> str:
    name = rng.choice(LIBS)
    kind = rng.random()
    head = f"#!lua name={name}\n"
    if kind < 0.12:  # a library that fails to load
        return head + rng.choice([
            "error('load failed')",
            "redis.register_function('bad name', function() end)",
            "redis.register_function('f0')",
            "redis.register_function{function_name = 'f0'}",
            "redis.register_function{function_name = 'f0', callback = 1}",
            "redis.register_function('f0', function() end) redis.register_function('f0', function() end)",
            "redis.call('ping')",
            "local t = {} t[1] = t error(t)",
            "setmetatable(_G, {})",
            "redis.register_function{function_name = 'f0', callback = function() end, flags = {'bogus'}}",
        ])
    lines = [head, "local state = {}\n"]
    for fname in rng.sample(FUNCS, rng.randint(1, 3)):
        body = rng.choice(FUNCTION_BODIES)
        if rng.random() < 0.4:
            flags = rng.choice(["{}", "{'no-writes'}", "{'allow-oom', 'no-writes'}"])
            lines.append(f"redis.register_function{{function_name = '{fname}', "
                         f"callback = function(keys, args) {body} end, flags = {flags}}}\n")
        else:
            lines.append(f"redis.register_function('{fname}', function(keys, args) {body} end)\n")
    return "".join(lines)


def _json_arg(rng: random.Random) -> str:
    return rng.choice([
        '{"a": [1, 2, {"b": null}], "c": "d"}', "[" * rng.choice([10, 999, 1001, 5000]),
        "[" * 50 + "]" * 50, '"\\u00e9\\ud83d\\ude00"', "{", "[1, 2,", "nan", "-1e400",
        '{"k": ' * 1200 + "1" + "}" * 1200,
    ])


def _mp_arg(rng: random.Random) -> str:
    """msgpack input, as a latin-1 text (actions are logged as JSON; sent as bytes)."""
    return _mp_bytes(rng).decode("latin-1")


def _mp_bytes(rng: random.Random) -> bytes:
    return rng.choice([
        bytes([0x91]) * rng.choice([10, 1000, 100000]) + b"\x01",
        bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))),
        b"\x93\x01\x02\x03", b"\xdc\xff\xff", b"\xdf\x00\x00\x00\x10", b"\x81\xa1a\x91\xa1b",
    ])


def _script(rng: random.Random) -> tuple[str, list]:
    body = rng.choice(SCRIPTS)
    if "{N}" in body:
        body = body.replace("{N}", str(rng.choice([3, 100, 7000, 7990, 8000, 9000, 20000, 100000])))
    key = rng.choice(["k1", "k2", "k3", "h1"])
    if "cjson.decode" in body:
        arg: object = _json_arg(rng)
    elif "cmsgpack.unpack(ARGV" in body:
        arg = _mp_arg(rng)
    elif "struct.unpack" in body:
        arg = rng.choice(["\x00\x07", "\x00", ""])
    else:
        arg = rng.choice(["v", "1", "12", "x" * 100])
    return body, [1, key, arg]


def generate(seed: int, steps: int):
    """Yield steps: each a list of actions (dicts), deterministic for (seed, steps)."""
    rng = random.Random(seed)
    shas: list[str] = []
    dumps = 0
    for _ in range(steps):
        r = rng.random()
        cl = rng.choice(["A", "B"])
        if r < 0.30:
            body, rest = _script(rng)
            cmd = rng.choice(["EVAL", "EVAL", "EVAL_RO"])
            yield [{"c": cl, "cmd": [cmd, body, *rest]}]
        elif r < 0.36:
            body, rest = _script(rng)
            yield [{"c": cl, "cmd": ["SCRIPT", "LOAD", body]}, {"c": cl, "evalsha": True, "cmd": [body, *rest]}]
        elif r < 0.38:
            yield [{"c": cl, "cmd": ["SCRIPT", "FLUSH", *rng.choice([[], ["ASYNC"], ["SYNC"]])]}]
        elif r < 0.39:
            yield [{"c": cl, "cmd": ["SCRIPT", "EXISTS", "a" * 40, *shas[-3:]]}]
        elif r < 0.52:
            replace = ["REPLACE"] if rng.random() < 0.7 else []
            yield [{"c": cl, "cmd": ["FUNCTION", "LOAD", *replace, _lib_code(rng)]}]
        elif r < 0.72:
            fn = rng.choice(FUNCS)
            cmd = rng.choice(["FCALL", "FCALL", "FCALL_RO"])
            yield [{"c": cl, "cmd": [cmd, fn, 1, rng.choice(["k1", "k2"]), rng.choice(["a", "1"])]}]
        elif r < 0.76:
            yield [{"c": cl, "cmd": ["FUNCTION", "DELETE", rng.choice(LIBS)]}]
        elif r < 0.80:
            yield [{"c": cl, "cmd": ["FUNCTION", "FLUSH", *rng.choice([[], ["ASYNC"], ["SYNC"]])]}]
        elif r < 0.83:
            policy = rng.choice([[], ["FLUSH"], ["APPEND"], ["REPLACE"]])
            dumps += 1
            yield [{"c": cl, "dump_restore": policy}]
        elif r < 0.85:
            yield [{"c": cl, "cmd": ["FUNCTION", "LIST", *rng.choice([[], ["WITHCODE"]])]},
                   {"c": cl, "cmd": ["FUNCTION", "STATS"]}]
        elif r < 0.93:
            inner = []
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.5:
                    body, rest = _script(rng)
                    inner.append({"c": cl, "cmd": ["EVAL", body, *rest]})
                else:
                    inner.append({"c": cl, "cmd": ["FCALL", rng.choice(FUNCS), 0]})
            yield [{"c": cl, "cmd": ["MULTI"]}, *inner, {"c": cl, "cmd": ["EXEC"]}]
        elif r < 0.95:
            yield [{"c": cl, "cmd": ["EVAL", "collectgarbage() return 1", 0]},
                   {"c": cl, "cmd": ["FCALL", rng.choice(FUNCS), 0]}]
        elif r < 0.975:
            if rng.random() < 0.6:
                yield [{"c": "A", "busy": ["EVAL", rng.choice(BUSY_EVAL), 0], "kill": ["SCRIPT", "KILL"]}]
            else:
                fn = rng.choice(["spin", "spin_ro", "spin_pcall"])
                yield [{"c": "A", "cmd": ["FUNCTION", "LOAD", "REPLACE", BUSY_LIB]},
                       {"c": "A", "busy": ["FCALL_RO" if fn == "spin_ro" else "FCALL", fn, 0],
                        "kill": ["FUNCTION", "KILL"]}]
        else:
            yield [{"c": cl, "cmd": ["DEL", "k1", "k2", "k3", "h1"]}]


# --- a raw client that reads one whole reply without recursion ---------------------------------
def _enc(a) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, str):
        return a.encode("latin-1") if all(ord(ch) < 256 for ch in a) else a.encode()
    return str(a).encode()


def encode(args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = _enc(a)
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


class Conn:
    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()

    def close(self) -> None:
        self.sock.close()

    def send(self, args) -> None:
        self.sock.sendall(encode(args))

    def _fill(self) -> None:
        d = self.sock.recv(1 << 18)
        if not d:
            raise ConnectionError("connection closed by the server")
        self.buf += d

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[: i + 2])
                del self.buf[: i + 2]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read(self) -> bytes:
        """One complete reply, raw (nested aggregates counted, not recursed)."""
        out = []
        pending = 1
        while pending:
            line = self._line()
            out.append(line)
            pending -= 1
            t = line[:1]
            if t in (b"$", b"=", b"!"):
                n = int(line[1:-2])
                if n >= 0:
                    out.append(self._exact(n + 2))
            elif t in (b"*", b"~", b">"):
                n = int(line[1:-2])
                if n > 0:
                    pending += n
            elif t == b"%":
                pending += 2 * int(line[1:-2])
            elif t == b"|":
                pending += 2 * int(line[1:-2]) + 1
        return b"".join(out)

    def call(self, *args) -> bytes:
        self.send(args)
        return self.read()


class SoakFailure(AssertionError):
    pass


def _check(reply: bytes, action) -> None:
    if CRASH_ONLY:
        return
    for bad in FORBIDDEN:
        if bad in reply:
            i = reply.find(bad)
            raise SoakFailure(f"Python text {bad!r} in a reply to {_short(action)}: "
                              f"{reply[max(0, i - 200): i + 200]!r}")


def _short(action) -> str:
    s = json.dumps(action)
    return s if len(s) < 400 else s[:400] + "..."


class Runner:
    """Runs actions against a server on `port` with clients A, B (RESP3) and K (the killer)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conns = {"A": Conn(port), "B": Conn(port), "K": Conn(port, timeout=20)}
        self.conns["B"].call("HELLO", "3")
        self.conns["A"].call("CONFIG", "SET", "busy-reply-threshold", str(BUSY_THRESHOLD_MS))
        self.busy_steps = 0
        self.busy_seen = 0

    def close(self) -> None:
        for c in self.conns.values():
            c.close()

    def run(self, action) -> None:
        c = self.conns[action["c"]]
        if "busy" in action:
            self._busy(c, action)
        elif "dump_restore" in action:
            payload = c.call("FUNCTION", "DUMP")
            _check(payload, action)
            if payload.startswith(b"$") and not payload.startswith(b"$-1"):
                body = payload[payload.index(b"\r\n") + 2:-2]
                _check(c.call("FUNCTION", "RESTORE", body, *action["dump_restore"]), action)
        elif action.get("evalsha"):
            body, *rest = action["cmd"]
            import hashlib

            sha = hashlib.sha1(_enc(body)).hexdigest()
            _check(c.call("EVALSHA", sha, *rest), action)
        else:
            _check(c.call(*action["cmd"]), action)

    def _busy(self, c: Conn, action) -> None:
        self.busy_steps += 1
        c.send(action["busy"])
        k = self.conns["K"]
        time.sleep(BUSY_THRESHOLD_MS * 1.5 / 1000)
        deadline = time.time() + 15
        while True:
            pong = k.call("PING")
            _check(pong, action)
            if pong.startswith(b"-BUSY"):
                self.busy_seen += 1
            r = k.call(*action["kill"])
            _check(r, action)
            if r.startswith((b"+OK", b"-NOTBUSY")):
                break
            if time.time() > deadline:
                raise SoakFailure(f"could not kill {_short(action)}: {r!r}")
            time.sleep(0.02)
        _check(c.read(), action)
        _check(k.call("PING"), action)


# --- the server under test ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """pyredis (or a given redis-server binary) in a subprocess; pyredis runs under faulthandler."""

    def __init__(self, server_cmd: str | None = None, workdir: str | None = None) -> None:
        self.port = _free_port()
        self.dir = workdir or tempfile.mkdtemp(prefix="lua-soak-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.out_path = os.path.join(self.dir, "server.out")
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                  "--dir", self.dir, "--loglevel", "notice", "--logfile", self.log_path]
        if server_cmd:
            cmd = [server_cmd, *common]
        else:
            cmd = [sys.executable, "-X", "faulthandler", "-m", "pyredis", *common]
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited at start-up: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("server did not start")
            time.sleep(0.05)

    def output(self) -> str:
        parts = []
        for p in (self.out_path, self.log_path):
            try:
                with open(p, "rb") as f:
                    data = f.read()
                parts.append(data[-6000:].decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(parts)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def on_pyredis(fn):
    """fn(port) against a pyredis subprocess under faulthandler; the server must survive it."""
    srv = ServerProcess()
    try:
        result = fn(srv.port)
    finally:
        alive = srv.alive()
        out = srv.output()
        srv.stop()
    if not alive:
        raise SoakFailure(f"pyredis died (exit status {srv.proc.returncode}):\n{out}")
    return result


def soak(steps: int, seed: int, server_cmd: str | None = None, log_path: str | None = None,
         replay: str | None = None, progress: bool = False) -> dict:
    """Run the workload; raises SoakFailure (with the server's output) on a crash or bad reply."""
    srv = ServerProcess(server_cmd)
    runner = None
    recent: list = []
    logf = open(log_path, "w") if log_path else None
    t0 = time.time()
    n = 0
    try:
        runner = Runner(srv.port)
        if replay:
            with open(replay) as f:
                source = ([json.loads(line)] for line in f if line.strip())
                for step in source:
                    _run_step(runner, step, recent, logf)
                    n += 1
        else:
            for step in generate(seed, steps):
                _run_step(runner, step, recent, logf)
                n += 1
                if progress and n % 1000 == 0:
                    print(f"{n} steps, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        if runner.conns["A"].call("PING") != b"+PONG\r\n":
            raise SoakFailure("no PONG at the end")
    except (OSError, ConnectionError, SoakFailure) as e:
        time.sleep(0.5)
        state = "alive" if srv.alive() else f"DEAD (exit status {srv.proc.returncode})"
        raise SoakFailure(
            f"step {n} (seed {seed}): {e}\nserver: {state}\nlast actions:\n"
            + "\n".join(_short(a) for a in recent[-15:]) + "\n--- server output ---\n" + srv.output()
        ) from None
    finally:
        if runner is not None:
            busy = (runner.busy_steps, runner.busy_seen)
            try:
                runner.close()
            except OSError:
                pass
        srv.stop()
        if logf:
            logf.close()
    return {"steps": n, "seconds": round(time.time() - t0, 1), "busy_scripts": busy[0], "busy_replies": busy[1]}


def _run_step(runner: Runner, step, recent: list, logf) -> None:
    for action in step:
        recent.append(action)
        if len(recent) > 50:
            del recent[:25]
        if logf:
            logf.write(json.dumps(action) + "\n")
        runner.run(action)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=100000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--server", default=None, help="a redis-server binary instead of pyredis")
    p.add_argument("--log", default=None, help="record the actions sent (JSON lines)")
    p.add_argument("--replay", default=None, help="send the actions of a recorded log")
    p.add_argument("--crash-only", action="store_true", help="do not check replies for Python texts")
    a = p.parse_args(argv)
    global CRASH_ONLY
    CRASH_ONLY = a.crash_only
    try:
        res = soak(a.steps, a.seed, a.server, a.log, a.replay, progress=True)
    except SoakFailure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
