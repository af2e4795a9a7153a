"""LuaEngine: one Lua state (EVAL scripts, or function libraries) of one server -- its runtime,
the sandbox (boot.lua), compiling, running a script or function as a coroutine with the busy
machinery (hook.py), converting its reply (Redis's luaReplyToRedisReply, without recursion),
converting replies for redis.call (redisProtocolToLuaType), FUNCTION LOAD's library run.

API:
    eng = engine(state) / function_engine(state)      the per-server engines (created on first use)
    eng.compile(body, chunkname) -> (fn, None) | (None, error)
    eng.run(ctx, fn, keys, args, name, is_eval, read_only) -> reply | Blocked | raises CommandError
    eng.load_library(lib, code)                       FUNCTION LOAD
    current_run(state) -> ScriptRun | None            the running script (SCRIPT KILL, FUNCTION STATS)
    sha1hex(body), stats(state)
"""

from __future__ import annotations

import ctypes
import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

import lupa.lua51 as lua51  # Lua 5.1, as embedded by Redis (lupa ships it as lupa.lua51)

from ...errors import CommandError
from ...protocol.encoder import format_double
from ...protocol.replies import (
    NULL_ARRAY,
    BigNumber,
    Boolean,
    Deep,
    Double,
    ErrorReply,
    MapPairs,
    MultiReply,
    Push,
    SetReply,
    Simple,
    Verbatim,
    VerbatimFormatted,
)
from . import hook
from .api import KILL_MSG, RedisLib
from .bridge import LuaRaise, c_llong, lua_callable, lua_tostring, push_error_text, sanitize
from .libs import make_libs

if TYPE_CHECKING:
    from ..client import Client
    from ..state import ServerState

lua_type = lua51.lua_type
_BOOT = (Path(__file__).parent / "boot.lua").read_text()

LOAD_TIMEOUT_MSG = "ERR FUNCTION LOAD timeout"
# Converting a script's reply: Lua's C stack limit as Redis meets it (see LuaEngine._convert).
_LUA_MAXCSTACK = 8000
_TOP_SLOTS = 2
_STACK_LIMIT = b"ERR reached lua stack limit"
_DEEP_SLOTS = 200  # past this, the reply is handed to the encoder as Deep (no recursion)


# --- a running script ------------------------------------------------------------------------
def _version_num(v: str) -> int:
    a, b, c = (int(x) for x in v.split("."))
    return (a << 16) | (b << 8) | c


class ScriptRun:
    __slots__ = (
        "engine", "client", "name", "is_eval", "read_only", "t0", "threshold", "killed", "dirty",
        "ptr", "step", "deferred", "slice_start", "may_defer", "hook_yielded", "resp", "loading",
        "saved", "marker", "argv", "capture", "kill_msg", "repl", "chain", "allow_oom",
    )

    def __init__(self, engine: LuaEngine, client, name: bytes, is_eval: bool, read_only: bool) -> None:
        self.engine = engine
        self.client = client
        self.name = name
        self.is_eval = is_eval
        self.read_only = read_only
        self.t0 = time.monotonic()
        self.threshold = 5.0
        self.killed = False
        self.dirty = False
        self.ptr = 0
        self.step = None
        self.deferred = False
        self.slice_start = 0.0
        self.may_defer = False
        self.hook_yielded = False
        self.resp = 2
        self.loading = False
        self.saved = None
        self.marker = None
        self.argv = None
        self.capture = 0  # the Propagation capture holding the script's effects
        self.kill_msg = KILL_MSG
        self.repl = 3
        # the lua_States resumed, outermost first: the script's coroutine, then the pcall and
        # script-made coroutines it resumed (the running one last)
        self.chain: list[int] = []
        # SCRIPT_ALLOW_OOM: a script or function declaring allow-oom runs denyoom commands
        # even when the command began over maxmemory
        self.allow_oom = False


class LuaEngine:
    """One Lua state (eval scripts, or function libraries) of one server."""

    def __init__(self, state: ServerState, kind: str) -> None:
        hook.init()
        self.state = state
        self.kind = kind
        self.rt = rt = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True,
                                        register_eval=False, register_builtins=False)
        self.table_from = rt.table_from
        self.scripts: dict[bytes, object] = {}  # sha -> compiled function (eval)
        self.run_ctx: ScriptRun | None = None
        self.loading_lib = None  # Library being loaded (functions)
        lib_tables = make_libs(rt, self._log_bug)
        self.null = lib_tables.pop("_null")
        unproxy_box = lib_tables.pop("_unproxy")
        # Every Python function Lua can call goes through lua_callable (bridge.py: why).
        self.api = RedisLib(self)
        pyt = rt.table_from({
            **{k: lua_callable(f, self._log_bug) for k, f in self.api.callables().items()},
            b"version": state.compat.redis_version.encode(), b"version_num": state.compat.redis_version_num,
            b"deprecated_api": bool(state.config["lua-enable-deprecated-api"]),
            b"libs": rt.table_from(lib_tables),
            **({b"valkey_version": state.compat.valkey_version.encode(),
                b"valkey_version_num": _version_num(state.compat.valkey_version)} if state.compat.valkey else {}),
        })
        # anchor(v): the same Lua value, held by a wrapper bound to the main lua_State (which
        # lives as long as the runtime) instead of the coroutine it was received in.
        self.anchor = rt.eval("function(v) return v end")
        boot = self.boot = rt.execute(_BOOT, pyt, kind.encode(), self.state.compat.at_least("7.2"),
                                         self.state.compat.at_least("7.4", "valkey-8.0"))
        self.lua_start, self.lua_compile, self.lua_set_keys = boot[b"start"], boot[b"compile"], boot[b"set_keys"]
        self.lua_set_loading, self.lua_classify, self.lua_pairs = boot[b"set_loading"], boot[b"classify"], boot[b"pairs_of"]
        self.G, self.lua_is_proxy, self.lua_rawset = boot[b"G"], boot[b"is_proxy"], boot[b"raw_set"]
        self.lua_setmetatable, self.lua_real_of, self.lua_slice = boot[b"set_mt"], boot[b"get_real"], boot[b"slice"]
        self.lua_co_create, self.lua_is_lua_function = boot[b"co_create"], boot[b"is_lua_function"]
        self.lua_make_wrap, self.lua_metatable_of = boot[b"make_wrap"], boot[b"metatable_of"]
        self.lua_sandbox_load, self.lua_sandbox_loadstring = boot[b"sandbox_load"], boot[b"sandbox_loadstring"]
        unproxy_box[0] = rt.eval("function(isp, rs) return function(t) return isp(t) and rs(t) or t end end")(
            self.lua_is_proxy, self.lua_real_of)
        # The address of Lua's own hook dispatcher (ldblib's hookf), read once; the lua_State
        # layout the count hook relies on, verified once per process.
        step, ptr = self.lua_start(rt.eval("function() end"))
        p = hook.thread_addr(ptr)
        self.hookf = hook.gethook(p)
        hook.verify_yield(p)

    def _log_bug(self, e: Exception) -> None:
        srv = self.state.server
        if srv is not None:
            import traceback

            srv.log("warning", "Internal error in a Lua library call: %s" % "".join(traceback.format_exception(e)))

    # --- compile ---------------------------------------------------------------------
    def flush(self) -> None:
        """SCRIPT FLUSH: forget the cached scripts (globals are read-only, nothing else to reset)."""
        self.scripts.clear()
        if self.state.compat.at_least("7.2"):
            self.boot[b"reset_strings"]()
        self.rt.execute("collectgarbage()")

    def compile(self, body: bytes, chunkname: bytes):
        r = self.lua_compile(body, chunkname)
        if isinstance(r, tuple):
            return None, r[1]
        return r, None

    # --- running -----------------------------------------------------------------------
    def run(self, c: Client, fn, keys: list[bytes], args: list[bytes], name: bytes, is_eval: bool,
            read_only: bool, may_defer: bool = True, allow_oom: bool = False):
        """Run a compiled script / function for client c. Returns the reply, a Blocked marker
        (busy script continuing in the background), or raises CommandError."""
        state = self.state
        run = ScriptRun(self, c, name, is_eval, read_only)
        run.allow_oom = allow_oom
        run.threshold = max(0, state.config["busy-reply-threshold"]) / 1000.0
        run.may_defer = (may_defer and not c.in_exec and state.scheduler is not None and not state.time_frozen)
        run.argv = c.argv
        tf = self.table_from
        if is_eval:
            step, ptr = self.lua_start(fn, tf(keys), tf(args), True)
        else:
            step, ptr = self.lua_start(fn, tf(keys), tf(args))
        run.step = step
        run.ptr = hook.thread_addr(ptr)
        run.chain = [run.ptr]
        hook.install_count_hook(run.ptr)
        # client and server state for the duration of the script
        run.saved = (c.resp, c.db, state.time_frozen)
        c.resp = 2
        state.now_ms  # noqa: B018  (fix the script's time)
        state.time_frozen += 1
        prop = state.propagation
        run.capture = prop.capture() if prop.active else 0  # the effects leave as one MULTI/EXEC
        self.run_ctx = run
        return self._step(run)

    def _step(self, run: ScriptRun):
        prev = hook.RUNNING.run
        hook.RUNNING.run = run
        try:
            res = run.step()
        except Exception as e:  # pragma: no cover - a lupa failure outside the script's pcall
            self._restore(run)
            raise CommandError("ERR Error running script: %s" % e) from None
        finally:
            hook.RUNNING.run = prev
        code = res[0] if isinstance(res, tuple) else res
        if code == 1:
            if run.hook_yielded:
                run.hook_yielded = False
                if not run.deferred:
                    return self._go_busy(run)
                self._schedule(run)
                return None
        return self._finish(run, res)

    def _go_busy(self, run: ScriptRun):
        from ..blocking import Blocked

        run.deferred = True
        state = self.state
        srv = state.server
        if srv is not None:
            srv.log("warning", "Slow script detected: still in execution after %d milliseconds. "
                    "You can try killing the script using the %s command. Script name is: %s." % (
                        int((time.monotonic() - run.t0) * 1000),
                        "SCRIPT KILL" if run.is_eval else "FUNCTION KILL", run.name.decode("utf-8", "replace")))
        state.busy_script = run  # dispatch's busy step answers everybody else
        run.marker = Blocked([], 0, _never, None)
        self._schedule(run)
        return run.marker

    def _schedule(self, run: ScriptRun) -> None:
        self.state.scheduler.call_soon(self._continue, run)

    def _continue(self, run: ScriptRun) -> None:
        run.slice_start = time.monotonic()
        c = run.client
        # the client's per-command state while the script continues
        c.resp = run.resp
        try:
            reply = self._step(run)
        except Exception as e:
            if not isinstance(e, CommandError):  # pragma: no cover - never leave the server BUSY
                e = CommandError("ERR Error running script: %s" % e)
                if self.run_ctx is run:
                    self._restore(run)
            reply = ErrorReply(e.text)
            self.state.stats.count_error(e.text)
        if run.deferred and self.run_ctx is run:
            return  # still running (rescheduled)
        # finished: release the busy state and answer the caller
        from ..blocking import manager

        if self.state.busy_script is run:
            self.state.busy_script = None
        marker = run.marker
        if marker.spec is not None:  # the script's whole run is its duration (slowlog, commandstats)
            wall = (time.perf_counter_ns() - marker.t0) // 1000
            marker.spec.usec += wall - marker.usec
            if wall >= self.state.slowlog_threshold >= 0:
                self.state.slowlog_push(c, marker.spec, marker.argv, wall)
        m = manager(self.state)
        m.release(c.id, reply)
        if m.ready:
            m.handle_ready()

    def _restore(self, run: ScriptRun) -> None:
        c = run.client
        state = self.state
        resp, db, frozen = run.saved
        c.resp = resp
        c.db = db
        c.argv = run.argv
        state.time_frozen = frozen
        if run.capture:
            prop = state.propagation
            prop.emit_all(prop.release(run.capture))
            run.capture = 0
        if self.run_ctx is run:
            self.run_ctx = None

    def _finish(self, run: ScriptRun, res):
        self._restore(run)
        if res == 1 or (isinstance(res, tuple) and res[0] == 1):
            # the script itself yielded at top level (cannot happen: coroutine.yield is guarded)
            return None
        code = res[0]
        if code == 0:
            value = res[1] if len(res) > 1 else None
            return self.to_reply(value, run.resp)
        err = res[1] if len(res) > 1 else None
        src = res[2] if len(res) > 2 else None
        line = res[3] if len(res) > 3 else None
        text = self.error_text(err, run.name, src, line)
        if isinstance(err, LuaRaise) and err.counted:
            return ErrorReply(text)  # the failed command was counted already (ignore_error_stats_update)
        raise CommandError(text)

    def error_text(self, err, name: bytes, src, line) -> bytes:
        if isinstance(err, LuaRaise):
            msg = err.value if err.is_table else b"ERR " + err.value
        elif lua_type(err) == "table":
            m = err[b"err"]
            if isinstance(m, (bytes, int, float)):
                msg = lua_tostring(m)
            else:
                msg = b"ERR unknown error"
        else:
            msg = b"ERR " + lua_tostring(err)
        if src is not None and line is not None:
            msg = msg + b" script: " + name + b", on " + src + b":" + b"%d" % line + b"."
        if self.state.compat.at_least("7.2"):  # 7.2 sends the error as the script raised it
            return msg
        return sanitize(msg)

    # --- Lua value -> reply -----------------------------------------------------------
    def to_reply(self, v, resp: int):
        """A script's return value as a reply (Redis's luaReplyToRedisReply); `resp` is the
        script's redis.setresp() protocol (it decides how booleans convert)."""
        t = type(v)
        if t is bytes or t is int:
            return v
        if t is float:
            return c_llong(v)
        if t is bool or v is None:
            return self._scalar(v, resp)
        if lua_type(v) != "table":
            return None
        cl = self.lua_classify(v)
        if cl[0] == b"err":  # at top level: the command's error
            if len(cl) > 2 and cl[2]:
                return ErrorReply(sanitize(cl[1]))  # ignore_error_stats_update
            raise CommandError(sanitize(cl[1]))
        return self._convert(v, cl, resp)

    def _scalar(self, v, resp: int):
        t = type(v)
        if t is bytes or t is int:
            return v
        if t is float:
            return c_llong(v)
        if t is bool:
            if resp == 2:
                return 1 if v else None
            return Boolean(1 if v else 0)
        return None  # nil, functions, userdata, threads

    def _convert(self, v, cl, resp: int):
        """Convert a table without recursion. Redis recurses in C and checks before each value
        that 4 more slots fit on the Lua stack (LUAI_MAXCSTACK): past that the value becomes
        the error "reached lua stack limit". The same limit is kept here by counting the
        slots Redis's walk would use: 2 at the top, +1 per array level, +3 for map values
        and set members, +4 for map keys."""
        stats = self.state.stats
        holder: list = []
        work = [(v, _TOP_SLOTS, holder, cl)]
        deepest = 0
        while work:
            x, slots, target, cl = work.pop()
            if slots + 4 > _LUA_MAXCSTACK:
                stats.count_error(_STACK_LIMIT)
                target.append(ErrorReply(_STACK_LIMIT))
                continue
            if cl is None:
                t = type(x)
                if t is bytes or t is int or t is float or t is bool or x is None or lua_type(x) != "table":
                    target.append(self._scalar(x, resp))
                    continue
                cl = self.lua_classify(x)
            if slots > deepest:
                deepest = slots
            kind = cl[0]
            if kind == b"array":
                out: list = []
                target.append(out)
                items = self._items(x, cl[1])
                for item in reversed(items):
                    work.append((item, slots + 1, out, None))
            elif kind == b"err":
                text = sanitize(cl[1])
                if not (len(cl) > 2 and cl[2]):
                    stats.count_error(text)
                target.append(ErrorReply(text))
            elif kind == b"ok":
                target.append(Simple(sanitize(cl[1])))
            elif kind == b"double":
                target.append(Double(cl[1]))
            elif kind == b"big_number":
                target.append(BigNumber(sanitize(cl[1])))
            elif kind == b"verbatim":
                fmt = (cl[2][:3]).ljust(3, b" ")
                target.append(Verbatim(cl[1]) if fmt == b"txt" else VerbatimFormatted(fmt + b":" + cl[1]))
            elif kind in (b"map", b"set"):
                n, ks, vs = self.lua_pairs(cl[1])
                keys = self._items(ks, n)
                if kind == b"map":
                    pairs = MapPairs()
                    target.append(pairs)
                    values = self._items(vs, n)
                    for i in range(n - 1, -1, -1):
                        work.append((values[i], slots + 3, pairs, None))
                        work.append((keys[i], slots + 4, pairs, None))
                else:
                    members = SetReply()
                    target.append(members)
                    for k in reversed(keys):
                        work.append((k, slots + 3, members, None))
            else:
                target.append(None)
        reply = holder[0]
        return Deep(reply) if deepest > _DEEP_SLOTS else reply

    def _items(self, t, n: int) -> list:
        """t[1..n] in one Lua call per 4000 values (not one per element)."""
        out: list = []
        for i in range(1, n + 1, 4000):
            j = min(n, i + 3999)
            r = self.lua_slice(t, i, j)
            if i == j:
                out.append(r)
            else:
                out.extend(r)
        return out

    # --- reply -> Lua value ------------------------------------------------------------
    def to_lua(self, r, resp: int):
        t = type(r)
        if t is bytes:
            return r
        if t is int:
            return r
        if r is None or r is NULL_ARRAY:
            return False if resp == 2 else None
        if t is list or t is tuple or t is MultiReply or t is Push:
            tl = self.to_lua
            return self.table_from([tl(x, resp) for x in r])
        if t is Simple:
            return self.table_from({b"ok": bytes(r)})
        if t is ErrorReply:
            return self.table_from({b"err": push_error_text(b"-" + bytes(r))})
        if t is Double:
            if resp == 2:
                return format_double(r)
            return self.table_from({b"double": float(r)})
        if t is dict:
            tl = self.to_lua
            if resp == 2:
                flat = []
                for k, x in r.items():
                    flat.append(tl(k, resp))
                    flat.append(tl(x, resp))
                return self.table_from(flat)
            m = self.rt.table()
            for k, x in r.items():
                m[tl(k, resp)] = tl(x, resp)
            return self.table_from({b"map": m})
        if t is set or t is frozenset or t is SetReply:
            tl = self.to_lua
            if resp == 2:
                return self.table_from([tl(x, resp) for x in r])
            m = self.rt.table()
            for x in r:
                m[tl(x, resp)] = True
            return self.table_from({b"set": m})
        if t is Boolean or t is bool:
            if resp == 2:
                return 1 if r else 0
            return bool(r)
        if t is BigNumber:
            if resp == 2:
                return bytes(r)
            return self.table_from({b"big_number": bytes(r)})
        if t is Verbatim:
            if resp == 2:
                return bytes(r)
            return self.table_from({b"verbatim_string": self.table_from({b"format": b"txt", b"string": bytes(r)})})
        if t is float:
            return self.to_lua(Double(r), resp)
        if isinstance(r, (bytes, bytearray)):  # (a bytearray: a slice of a string changed in place)
            return bytes(r)
        if isinstance(r, (list, tuple)):
            return self.to_lua(list(r), resp)
        return False if resp == 2 else None

    def load_library(self, lib, code: bytes) -> None:
        """Run a library's code with the load-time API; raises CommandError."""
        fn, err = self.compile(code, b"@user_function")
        if fn is None:
            raise CommandError(b"ERR Error compiling function: " + sanitize(err))
        run = ScriptRun(self, None, lib.name, False, False)
        run.loading = True
        run.kill_msg = LOAD_TIMEOUT_MSG
        step, ptr = self.lua_start(fn)
        run.step = step
        run.ptr = hook.thread_addr(ptr)
        run.chain = [run.ptr]
        hook.install_count_hook(run.ptr)
        self.loading_lib = lib
        self.lua_set_loading(True)
        prev = hook.RUNNING.run
        hook.RUNNING.run = run
        try:
            res = step()
        finally:
            hook.RUNNING.run = prev
            self.loading_lib = None
            self.lua_set_loading(False)
        code_ = res[0] if isinstance(res, tuple) else res
        if code_ == 2:
            err = res[1]
            if isinstance(err, LuaRaise):
                msg = err.value if err.is_table else b"ERR " + err.value
            elif lua_type(err) == "table":
                m = err[b"err"]
                msg = lua_tostring(m) if isinstance(m, (bytes, int, float)) else b"ERR unknown error"
            else:
                msg = b"ERR " + lua_tostring(err)
            raise CommandError(sanitize(b"ERR Error registering functions: " + msg))


def _never(ctx, key):
    return None


# Commands Redis flags CMD_MAY_REPLICATE (hidden by COMMAND INFO, so the table may not say it):
# read-only scripts refuse them as writes.


# --- per-server engines -------------------------------------------------------------------
# Lua runtimes are never garbage collected: a runtime freed by Python's cycle collector
# before the Lua objects (functions, tables) still referring to it crashes in lupa
# (luaL_unref on a closed lua_State). One runtime per server and kind, reused across
# SCRIPT FLUSH / FUNCTION FLUSH, so this is bounded.
_KEEP: list = []


def _keep_forever(e: LuaEngine) -> None:
    """Pin an engine's runtime past interpreter finalization: CPython's final collections
    would otherwise free a LuaRuntime before LuaObjects that still refer to it, and lupa
    crashes (segfault at exit). One extra reference makes it immortal; the OS reclaims it."""
    _KEEP.append(e)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(e.rt))
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(e))


def engine(state: ServerState) -> LuaEngine:
    e = getattr(state, "lua", None)
    if e is None:
        e = state.lua = LuaEngine(state, "eval")
        _keep_forever(e)
    return e


def function_engine(state: ServerState) -> LuaEngine:
    e = getattr(state, "lua_functions", None)
    if e is None:
        e = state.lua_functions = LuaEngine(state, "function")
        _keep_forever(e)
    return e


def current_run(state: ServerState) -> ScriptRun | None:
    for attr in ("lua", "lua_functions"):
        e = getattr(state, attr, None)
        if e is not None and e.run_ctx is not None:
            return e.run_ctx
    return None


def sha1hex(body: bytes) -> bytes:
    return hashlib.sha1(body).hexdigest().encode()


def stats(state: ServerState) -> dict:
    """Numbers for INFO memory / MEMORY STATS: cached EVAL scripts, functions, libraries."""
    e = getattr(state, "lua", None)
    libs_ = getattr(state, "lua_function_libs", None)
    return {
        "number_of_cached_scripts": len(e.scripts) if e is not None else 0,
        "number_of_functions": len(libs_.functions) if libs_ is not None else 0,
        "number_of_libraries": len(libs_.libraries) if libs_ is not None else 0,
    }
