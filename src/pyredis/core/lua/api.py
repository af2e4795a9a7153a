"""The Python side of the `redis` table (and of the helpers boot.lua receives as `py`): redis.call
and redis.pcall through core/dispatch (resolve() + call() with the calling client as context),
error_reply/status_reply, sha1hex, log, setresp, set_repl, acl_check_cmd, math.random as
Redis's rand48, register_function for FUNCTION LOAD, and the coroutine plumbing of busy
scripts (which threads the count hook may yield).

Every method listed in RedisLib.callables() is exposed to Lua through bridge.lua_callable.

API:
    lib = RedisLib(engine); lib.callables() -> {b"call": ..., ...}
    FunctionInfo, FUNCTION_FLAGS, valid_name(name)      (function libraries)
    parse_shebang(body) -> (flags, compat, offset); SCRIPT_FLAGS, flag_names(flags)   EVAL's shebang
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from lupa.lua51 import lua_type

from ...errors import OOM, CommandError
from ...protocol.encoder import format_double
from ...util import sdssplitargs
from ...protocol.replies import ErrorReply
from ..dispatch import GATE_READONLY, GATE_STALE
from ..dispatch import call as _dcall
from ..dispatch import resolve as _resolve
from . import hook
from .bridge import LuaRaise, fmt14, lua_str2number, lua_tostring, push_error_text, raise_str, typename

if TYPE_CHECKING:
    from .engine import LuaEngine

KILL_MSG = "ERR Script killed by user with SCRIPT KILL..."


# --- rand48, as Redis's math.random ------------------------------------------------------
class Rand48:
    __slots__ = ("x",)
    MASK = (1 << 48) - 1

    def __init__(self) -> None:
        self.x = 0x1234ABCD330E

    def seed(self, s: int) -> None:
        self.x = (((s & 0xFFFFFFFF) << 16) | 0x330E) & self.MASK

    def next31(self) -> int:
        self.x = (0x5DEECE66D * self.x + 0xB) & self.MASK
        return self.x >> 17


_RAND = Rand48()  # process-wide, as Redis's C static state


FUNCTION_FLAGS = ["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]
# An EVAL script's shebang flags (evalExtractShebangFlags), as a bit mask.
SCRIPT_FLAGS = {"no-writes": 1, "allow-oom": 2, "allow-stale": 4, "no-cluster": 8, "allow-cross-slot-keys": 16}
FLAG_NO_WRITES = 1
FLAG_ALLOW_OOM = 2


def parse_shebang(body: bytes):
    """evalExtractShebangFlags: (flags, compat mode, offset of the code)."""
    if not body.startswith(b"#!"):
        return 0, True, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = sdssplitargs(body[:end])
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError(b"ERR Unexpected engine in script shebang: " + parts[0])
    flags = 0
    for p in parts[1:]:
        if p.startswith(b"flags="):
            for f in p[6:].split(b","):
                if not f and p[6:] == b"":
                    continue
                v = SCRIPT_FLAGS.get(f.decode("latin-1"))
                if v is None:
                    raise CommandError(b"ERR Unexpected flag in script shebang: " + f)
                flags |= v
        else:
            raise CommandError(b"ERR Unknown lua shebang option: " + p)
    return flags, False, end


def flag_names(flags: int) -> set[str]:
    return {name for name, bit in SCRIPT_FLAGS.items() if flags & bit}


class FunctionInfo:
    __slots__ = ("name", "fn", "desc", "flags")

    def __init__(self, name: bytes, fn, desc: bytes | None, flags: list[str]) -> None:
        self.name = name
        self.fn = fn
        self.desc = desc
        self.flags = flags


def valid_name(name: bytes) -> bool:
    if not name:
        return False
    for ch in name:
        if not (48 <= ch <= 57 or 65 <= ch <= 90 or 97 <= ch <= 122 or ch == 95):
            return False
    return True


def _argmsg(n: int, fname: str, msg: str) -> str:
    return "bad argument #%d to '%s' (%s)" % (n, fname, msg)


def _lua_number(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, bytes):
        return lua_str2number(v)
    return None


def _lua_typename_nv(args, i: int) -> str:
    return typename(args[i]) if i < len(args) else "no value"


_REPL_GATES = GATE_READONLY | GATE_STALE
_MAY_REPLICATE = frozenset([b"publish", b"spublish", b"pfcount"])


# Valkey 8's own wording of these (the others: `redis.` read `server.`)
_VALKEY_TEXTS = {
    b"Unknown Redis command called from script": b"Unknown command called from script",
    b"Lua redis lib command arguments must be strings or integers": b"Command arguments must be strings or integers",
    b"Wrong number of args calling Redis command from script": b"Wrong number of args calling command from script",
    b"Please specify at least one argument for this redis lib call":
        b"Please specify at least one argument for this call",
}


class RedisLib:
    """The callables of one engine (self.e): redis.* and the coroutine plumbing."""

    def __init__(self, engine: LuaEngine) -> None:
        self.e = engine

    def callables(self) -> dict:
        return {
            b"call": self._call, b"pcall": self._pcall, b"unwrap": self._unwrap,
            b"error_reply": self._error_reply, b"status_reply": self._status_reply,
            b"rawset": self._rawset, b"setmetatable": self._setmetatable,
            b"reg_thread": self._reg_thread, b"push_thread": self._push_thread,
            b"pop_thread": self._pop_thread, b"hook_yielding": self._hook_yielding,
            b"replicate_commands": lambda *a: True, b"breakpoint": lambda *a: False, b"debug": lambda *a: None,
            b"sha1hex": self._sha1hex, b"log": self._log, b"setresp": self._setresp,
            b"set_repl": self._set_repl, b"acl_check_cmd": self._acl_check_cmd,
            b"random": self._random, b"randomseed": self._randomseed,
            b"register": self._register, b"killmsg": self._killmsg,
            b"co_create": self._co_create, b"co_wrap": self._co_wrap,
            b"getmetatable": self._getmetatable, b"load": self._load, b"loadstring": self._loadstring,
        }

    def _loadstring(self, *args):
        s = args[0] if args else None
        if not isinstance(s, (bytes, int, float)) or isinstance(s, bool):
            raise_str("bad argument #1 to 'loadstring' (string expected, got %s)" % _lua_typename_nv(args, 0))
        return self.e.lua_sandbox_loadstring(*args[:2])

    def _load(self, *args):
        if not args or lua_type(args[0]) != "function":
            raise_str("bad argument #1 to 'load' (function expected, got %s)" % _lua_typename_nv(args, 0))
        return self.e.lua_sandbox_load(*args[:2])

    def _getmetatable(self, *args):
        if not args:
            raise_str("bad argument #1 to 'getmetatable' (value expected)")
        return self.e.lua_metatable_of(args[0])

    def _err(self, text: str | bytes) -> bytes:
        if isinstance(text, str):
            text = text.encode()
        if self.e.state.compat.valkey:  # Valkey names its scripting API `server`
            text = _VALKEY_TEXTS.get(text) or text.replace(b"redis.", b"server.")
        return push_error_text(text)

    def _raise(self, text: str | bytes) -> LuaRaise:
        return LuaRaise(self._err(text), True)

    def _call(self, *argv):
        ok, v = self._do_call(argv, True)
        if ok:
            return v
        if type(v) is tuple:
            raise LuaRaise(v[0], True, True)
        raise LuaRaise(v, True)

    def _pcall(self, *argv):
        ok, v = self._do_call(argv, False)
        if ok:
            return v
        if type(v) is tuple:
            return self.e.table_from({b"err": v[0], b"ignore_error_stats_update": True})
        return self.e.table_from({b"err": v})

    def _unwrap(self, e):
        if isinstance(e, LuaRaise):
            if e.is_table:
                if e.counted:
                    return self.e.table_from({b"err": e.value, b"ignore_error_stats_update": True})
                return self.e.table_from({b"err": e.value})
            return e.value
        return e

    def _reg_thread(self, ptr: bytes):
        """Put the count hook on a coroutine (debug.sethook(c, killer, 'l') replaced it)."""
        hook.install_count_hook(hook.thread_addr(ptr))

    def _push_thread(self, ptr: bytes):
        run = hook.RUNNING.run
        if run is not None:
            run.chain.append(hook.thread_addr(ptr))

    def _pop_thread(self):
        run = hook.RUNNING.run
        if run is not None and len(run.chain) > 1:
            run.chain.pop()

    def _hook_yielding(self):
        """Is the coroutine that just came back suspended by the count hook (not by the script)?"""
        run = hook.RUNNING.run
        return run is not None and run.hook_yielded

    def _co_create(self, *args):
        f = args[0] if args else None
        if not self.e.lua_is_lua_function(f):
            raise_str("bad argument #1 to 'create' (Lua function expected)")
        return self.e.lua_co_create(f)

    def _co_wrap(self, *args):
        f = args[0] if args else None
        if not self.e.lua_is_lua_function(f):
            raise_str("bad argument #1 to 'wrap' (Lua function expected)")
        return self.e.lua_make_wrap(f)

    def _rawset(self, *args):
        t = args[0] if args else None
        if lua_type(t) != "table":
            raise_str(_argmsg(1, "rawset", "table expected, got " + _lua_typename_nv(args, 0)))
        if len(args) < 2:
            raise_str(_argmsg(2, "rawset", "value expected"))
        if len(args) < 3:
            raise_str(_argmsg(3, "rawset", "value expected"))
        if self.e.lua_is_proxy(t):
            raise LuaRaise(b"Attempt to modify a readonly table")
        if args[1] is None:
            raise_str("table index is nil")
        return self.e.lua_rawset(t, args[1], args[2])

    def _setmetatable(self, *args):
        t = args[0] if args else None
        if lua_type(t) != "table":
            raise_str(_argmsg(1, "setmetatable", "table expected, got " + _lua_typename_nv(args, 0)))
        m = args[1] if len(args) > 1 else None
        if len(args) < 2 or (m is not None and lua_type(m) != "table"):
            raise_str(_argmsg(2, "setmetatable", "nil or table expected"))
        if self.e.lua_is_proxy(t):
            raise LuaRaise(b"Attempt to modify a readonly table")
        return self.e.lua_setmetatable(t, m)

    def _error_reply(self, *args):
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self.e.table_from({b"err": self._err("wrong number or type of arguments")})
        e = args[0]
        if e[:1] != b"-":
            e = b"-" + e
        return self.e.table_from({b"err": push_error_text(e)})

    def _status_reply(self, *args):
        if len(args) != 1 or not isinstance(args[0], bytes):
            return self.e.table_from({b"err": self._err("wrong number or type of arguments")})
        return self.e.table_from({b"ok": args[0]})

    def _do_call(self, argv, raise_error: bool):
        run = hook.RUNNING.run
        if run is None or run.engine is not self.e or run.loading:
            return False, self._err("-ERR redis.call can only be called inside a script invocation")
        if not argv:
            return False, self._err("Please specify at least one argument for this redis lib call")
        args = []
        for a in argv:
            ta = type(a)
            if ta is bytes:
                args.append(a)
            elif ta is int or ta is float:  # lupa gives integral numbers as int: format the double
                args.append(format_double(a))  # %.17g; 7.2: d2string
            else:
                return False, self._err("Lua redis lib command arguments must be strings or integers")
        spec = _resolve(args, self.e.state.commands)
        if type(spec) is CommandError:
            if spec.text.startswith(b"ERR wrong number"):
                return False, self._err("Wrong number of args calling Redis command from script")
            return False, self._err("Unknown Redis command called from script")
        if spec.noscript and not self.e.state.script_disable_deny_script:
            return False, self._err("This Redis command is not allowed from script")
        c = run.client
        if not c.acl_user.full:  # the script runs with its caller's ACL user
            denied = c.server.acl.script_check(c, spec, args)
            if denied is not None:
                return False, self._err(denied)
        if run.read_only and (spec.write or spec.may_replicate or spec.name_bytes in _MAY_REPLICATE):
            return False, self._err("Write commands are not allowed from read-only scripts.")
        if c.server.gates & _REPL_GATES:  # a replica, or min-replicas-to-write
            from ..replication import call_refusal

            denied = call_refusal(c.server, c, spec, run.dirty)
            if denied is not None:
                return False, self._err(denied)
        state = self.e.state
        # scriptVerifyOOM: over maxmemory when the script began, its first write may not be a
        # denyoom command (after a write it cannot stop half way)
        if (spec.denyoom and state.pre_command_oom and not run.allow_oom and not run.dirty
                and state.config["maxmemory"] and not state.loading):
            spec.rejected_calls += 1  # incrCommandStatsOnError(ERROR_COMMAND_REJECTED)
            return False, self._err(b"-" + OOM.encode())
        if spec.write:
            run.dirty = True
        c = run.client
        if (spec.name_bytes == b"xread" or spec.name_bytes == b"xreadgroup") and not state.compat.at_least("7.4", "valkey-8.0"):
            # (7.4 and Valkey 8 run it without blocking instead)
            for x in args[1:]:
                if x.lower() == b"block":
                    return False, self._err(b"%s command is not allowed with BLOCK option from scripts"
                                            % args[0])  # as the script spelled it
                if x.lower() == b"streams":
                    break
        c.resp = run.resp
        if run.repl:
            reply = _dcall(c, spec, args)
        else:  # redis.set_repl(redis.REPL_NONE): the command's effects are not propagated
            prop = state.propagation
            prop.muted += 1
            try:
                reply = _dcall(c, spec, args)
            finally:
                prop.muted -= 1
        if not state.time_frozen:  # pragma: no cover - restored by the outer run
            state.time_frozen = 1
        t = type(reply)
        if t is ErrorReply:
            return False, (push_error_text(b"-" + bytes(reply)),)  # tuple: counted already
        try:
            return True, self.e.to_lua(reply, run.resp)
        except Exception:  # pragma: no cover
            return True, False

    def _sha1hex(self, *args):
        if len(args) != 1:
            raise self._raise("wrong number of arguments")
        s = args[0]
        if isinstance(s, bytes):
            data = s
        elif isinstance(s, (int, float)) and not isinstance(s, bool):
            data = fmt14(s)
        else:
            data = b""
        return hashlib.sha1(data).hexdigest().encode()

    def _log(self, *args):
        if len(args) < 2:
            raise self._raise("redis.log() requires two arguments or more.")
        level = args[0]
        if type(level) not in (int, float) or isinstance(level, bool):
            if isinstance(level, bytes):
                try:
                    level = int(float(level))
                except ValueError:
                    raise self._raise("First argument must be a number (log level).")
            else:
                raise self._raise("First argument must be a number (log level).")
        level = int(level)
        if level < 0 or level > 3:
            raise self._raise("Invalid log level." if self.e.state.compat.at_least("7.4", "valkey-8.0")
                              else "Invalid debug level.")
        parts = []
        for a in args[1:]:
            if isinstance(a, bytes):
                parts.append(a)
            elif isinstance(a, (int, float)) and not isinstance(a, bool):
                parts.append(lua_tostring(a))
        srv = self.e.state.server
        if srv is not None:
            srv.log(("debug", "verbose", "notice", "warning")[level], b" ".join(parts).decode("utf-8", "replace"))
        return None

    def _setresp(self, *args):
        if len(args) != 1:
            raise self._raise("redis.setresp() requires one argument.")
        v = _lua_number(args[0])
        n = int(v) if v is not None else 0
        if n != 2 and n != 3:
            raise self._raise("RESP version must be 2 or 3.")
        run = hook.RUNNING.run
        if run is not None:
            run.resp = n
            run.client.resp = n
        return None

    def _set_repl(self, *args):
        if len(args) != 1:
            raise self._raise("redis.set_repl() requires one argument." if self.e.state.compat.at_least("7.2")
                              else "redis.set_repl() requires two arguments.")
        v = _lua_number(args[0])
        n = int(v) if v is not None else 0
        if n & ~3:
            raise self._raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        run = hook.RUNNING.run
        if run is not None:
            run.repl = n
        return None

    def _acl_check_cmd(self, *args):
        if not args:
            raise self._raise("Please specify at least one argument for this redis lib call")
        argv = [a if isinstance(a, bytes) else lua_tostring(a) for a in args]
        from ..acl import OK, check_user, lookup_argv

        spec = lookup_argv(argv, self.e.state.commands)
        if spec is None:
            raise self._raise("Invalid command passed to redis.acl_check_cmd()")
        run = hook.RUNNING.run
        if run is None:
            return True

        return check_user(run.client.acl_user, spec, argv)[0] == OK

    def _random(self, *args):
        r = (_RAND.next31() % 2147483647) / 2147483647.0
        n = len(args)
        if n == 0:
            return r
        if n == 1:
            u = _lua_number(args[0])
            if u is None:
                raise_str(_argmsg(1, "random", "number expected, got " + typename(args[0])))
            u = int(u)
            if u < 1:
                raise_str(_argmsg(1, "random", "interval is empty"))
            return float(int(r * u) + 1)
        if n == 2:
            lo = _lua_number(args[0])
            if lo is None:
                raise_str(_argmsg(1, "random", "number expected, got " + typename(args[0])))
            hi = _lua_number(args[1])
            if hi is None:
                raise_str(_argmsg(2, "random", "number expected, got " + typename(args[1])))
            lo, hi = int(lo), int(hi)
            if lo > hi:
                raise_str(_argmsg(2, "random", "interval is empty"))
            return float(int(r * (hi - lo + 1)) + lo)
        raise_str("wrong number of arguments")

    def _randomseed(self, *args):
        v = _lua_number(args[0]) if args else None
        if v is None:
            raise_str(_argmsg(1, "randomseed", "number expected, got "
                                  + (typename(args[0]) if args else "no value")))
        _RAND.seed(int(v))
        return None

    def _killmsg(self):
        run = hook.RUNNING.run
        msg = run.kill_msg if run is not None else KILL_MSG
        return self.e.table_from({b"err": msg.encode()})

    def _register(self, *args):
        lib = self.e.loading_lib
        if lib is None:
            raise self._raise("redis.register_function can only be called on FUNCTION LOAD command")
        n = len(args)
        if n < 1 or n > 2:
            raise self._raise("wrong number of arguments to redis.register_function")
        desc = None
        flags: list[str] = []
        if n == 1:
            t = args[0]
            if lua_type(t) != "table":
                raise self._raise("calling redis.register_function with a single argument is only "
                                        "applicable to Lua table (representing named arguments).")
            name = None
            cb = None
            cnt, ks, vs = self.e.lua_pairs(t)
            for i in range(1, cnt + 1):
                k, v = ks[i], vs[i]
                if not isinstance(k, (bytes, int, float)) or isinstance(k, bool):
                    raise self._raise("named argument key given to redis.register_function is not a string")
                key = lua_tostring(k).lower()
                if key == b"function_name":
                    if not isinstance(v, (bytes, int, float)) or isinstance(v, bool):
                        raise self._raise("function_name argument given to redis.register_function must be a string")
                    name = lua_tostring(v)
                elif key == b"description":
                    if not isinstance(v, (bytes, int, float)) or isinstance(v, bool):
                        raise self._raise("description argument given to redis.register_function must be a string")
                    desc = lua_tostring(v)
                elif key == b"callback":
                    if lua_type(v) != "function":
                        raise self._raise("callback argument given to redis.register_function must be a function")
                    cb = v
                elif key == b"flags":
                    if lua_type(v) != "table":
                        raise self._raise("flags argument to redis.register_function must be a table "
                                                "representing function flags")
                    fc, fks, fvs = self.e.lua_pairs(v)
                    for j in range(1, fc + 1):
                        fv = fvs[j]
                        if not isinstance(fv, bytes) or fv.decode("latin-1") not in FUNCTION_FLAGS:
                            raise self._raise("unknown flag given")
                        flags.append(fv.decode("latin-1"))
                else:
                    raise self._raise("unknown argument given to redis.register_function")
            if name is None:
                raise self._raise("redis.register_function must get a function name argument")
            if cb is None:
                raise self._raise("redis.register_function must get a callback argument")
        else:
            name, cb = args
            if not isinstance(name, (bytes, int, float)) or isinstance(name, bool):
                raise self._raise("first argument to redis.register_function must be a string")
            name = lua_tostring(name)
            if lua_type(cb) != "function":
                raise self._raise("second argument to redis.register_function must be a function")
        if not valid_name(name):
            raise self._raise("Library names can only contain letters, numbers, or underscores(_) and "
                                    "must be at least one character long")
        if name in lib.functions:
            raise self._raise("Function already exists in the library")
        # cb came in through this call: bound to the loading coroutine, which Lua frees soon.
        lib.functions[name] = FunctionInfo(name, self.e.anchor(cb), desc, [f for f in FUNCTION_FLAGS if f in flags])
        return None

