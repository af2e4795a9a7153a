"""The boundary between Lua and Python for the engine and the libraries (core/lua): how a
Python function is exposed to Lua (lua_callable), how it raises a Lua error (LuaRaise,
raise_str with the caller's position as luaL_error), and Lua's number conventions (fmt14 is
tostring of a number, c_llong the C cast Redis applies, lua_str2number Lua's string->number).

API:
    lua_callable(f, on_bug) -> the function Lua calls (never lets a Python exception holding Lua
                               values escape: see its docstring)
    raise LuaRaise(value, is_table, counted) / raise_str(msg)
    checked(f): an (ok, value...) helper as a function raising Lua errors
    WHERE[0](level) -> b"user_script:1: "   (set by core/lua/hook.py)
    lua_tostring(v), sanitize(text), push_error_text(err)   value texts as Redis makes them
"""

from __future__ import annotations

import math

from lupa.lua51 import LuaError, lua_type

LLONG_MIN = -(1 << 63)


class LuaRaise(Exception):
    """Raised by a Python function called from Lua: a Lua error whose value is `value` (a
    string, or the err string of an error table when is_table)."""

    def __init__(self, value: bytes, is_table: bool = False, counted: bool = False) -> None:
        self.value = value
        self.is_table = is_table
        self.counted = counted  # the error reply of a command, already in the error stats


# where(level) -> b"user_script:1: " (luaL_where of the running script), set by core/lua/hook.py
WHERE = [lambda level=1: b""]


def lua_callable(f, on_bug=None):
    """Wrap a Python function for Lua so that nothing of the call outlives it.

    lupa binds every Lua value it hands to Python to the lua_State it came from: for a call
    made inside a coroutine (every script runs in one) that is the coroutine's state, which
    Lua frees once the coroutine is collected. A wrapper that outlives its coroutine later
    touches freed memory (lupa issue #84: a segfault in FUNCTION FLUSH after many FCALLs).
    Arguments are dropped when the call returns, except through an exception: lupa keeps the
    last exception raised into Lua (with its traceback, whose frames hold the arguments) and
    Lua keeps it as the error value. So the error leaves as a fresh LuaRaise raised from a
    frame that no longer holds the arguments. Anything else (a bug, or an error of Lua code
    called from Python) becomes a Lua error too, never a Python exception inside Lua.
    Values kept beyond the call (register_function's callback) must be re-anchored on the
    main state by the callee (LuaEngine.anchor). on_bug(exc) is told of unexpected
    exceptions (the engine logs them with their traceback)."""
    def g(*args):
        try:
            return f(*args)
        except LuaRaise as e:
            err = LuaRaise(e.value, e.is_table, e.counted)
        except Exception as e:  # a Lua error of nested Lua code (lupa.LuaError), or a bug
            err = LuaRaise(_foreign_error_text(e, on_bug))
        del args
        raise err
    g.__name__ = getattr(f, "__name__", "lua_callable")
    g.__wrapped__ = f
    return g


def _foreign_error_text(e: Exception, on_bug) -> bytes:
    if isinstance(e, LuaError):  # a nested Lua call failed: its message, as Lua has it
        return str(e).encode("utf-8", "surrogateescape")
    if isinstance(e, MemoryError):
        return b"not enough memory"
    if on_bug is not None:
        on_bug(e)
    return b"internal error in a library call: " + type(e).__name__.encode()


def raise_str(msg) -> None:
    """luaL_error: the message with the caller's position."""
    if isinstance(msg, str):
        msg = msg.encode()
    raise LuaRaise(WHERE[0](1) + msg)


def checked(f):
    """Adapt an (ok, value...) helper into a function raising Lua errors."""
    def g(*args):
        r = f(*args)
        if not r[0]:
            raise_str(r[1])
        if len(r) == 2:
            return r[1]
        return r[1:]
    return g


def fmt14(x: float) -> bytes:
    """Lua's tostring of a number (%.14g)."""
    x = float(x)
    if x != x:
        return b"nan" if math.copysign(1, x) > 0 else b"-nan"
    if x in (math.inf, -math.inf):
        return b"inf" if x > 0 else b"-inf"
    return b"%.14g" % x


def c_llong(x: float) -> int:
    """(long long) of a double as x86-64 does it: out of range and NaN give LLONG_MIN."""
    if x != x or x >= 9.223372036854775807e18 or x < -9.223372036854775808e18:
        return LLONG_MIN
    return int(x)


def lua_str2number(b: bytes):
    """lua_tonumber of a string (strtod, or hex integers), None if not a number."""
    s = b.strip(b" \t\n\r\f\v")
    if not s:
        return None
    try:
        if s[:2].lower() in (b"0x",) or s[:3].lower() in (b"-0x", b"+0x"):
            return float(int(s, 16))
        if s.lower().lstrip(b"+-") in (b"inf", b"infinity", b"nan"):
            return float(s)
        return float(s)
    except ValueError:
        return None


def num(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, bytes):
        return lua_str2number(v)
    return None


def tname(v) -> str:
    """luaL_typename of an argument, None meaning it is absent ("no value")."""
    return "no value" if v is None else typename(v)


def typename(v) -> str:
    """Lua's type() name of a value lupa handed to Python."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return lua_type(v) or "userdata"


def argerr(n: int, fname: str, msg: str):
    return False, "bad argument #%d to '%s' (%s)" % (n, fname, msg)


def sanitize(b: bytes) -> bytes:
    if b"\r" in b or b"\n" in b:
        return b.replace(b"\r", b" ").replace(b"\n", b" ")
    return b


def lua_tostring(v) -> bytes:
    if v is None:
        return b"nil"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, bytes):
        return v
    if isinstance(v, (int, float)):
        return fmt14(v)
    return repr(v).encode()


def push_error_text(err: bytes) -> bytes:
    """luaPushErrorBuff: '-CODE msg' or 'msg' -> 'CODE msg' (ERR when no code)."""
    if err[:1] == b"-":
        sp = err.find(b" ")
        if sp < 0:
            code, msg = b"ERR", err[1:]
        else:
            code, msg = err[1:sp], err[sp + 1:]
    else:
        code, msg = b"ERR", err
    return code + b" " + msg.strip(b"\r\n")
