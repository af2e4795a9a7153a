"""The Lua libraries Redis bundles for scripts, written for pyredis (lupa's Lua 5.1 has none
of them): cjson, cmsgpack, bit, struct. Behaviour and error texts follow the libraries
Redis 7.0 ships (lua-cjson 2.1, lua-cmsgpack 0.4, LuaBitOp 1.0, Roberto's struct).

Each library is a Lua table of small Lua wrappers that check arguments (raising with the
caller's position like luaL_argerror) and call Python helpers that return (ok, value).
"""

from __future__ import annotations

import math
import struct as _st
import sys

from lupa.lua51 import LuaError, lua_type

_LLONG_MIN = -(1 << 63)


class LuaRaise(Exception):
    """Raised by a Python function called from Lua: a Lua error whose value is `value` (a
    string, or the err string of an error table when is_table)."""

    def __init__(self, value: bytes, is_table: bool = False, counted: bool = False) -> None:
        self.value = value
        self.is_table = is_table
        self.counted = counted  # the error reply of a command, already in the error stats


# where(level) -> b"user_script:1: " (luaL_where of the running script), set by core/scripting
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


def _checked(f):
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
        return _LLONG_MIN
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


def _num(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, bytes):
        return lua_str2number(v)
    return None


def _tname(v) -> str:
    if v is None:
        return "no value"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return lua_type(v) or "userdata"


def _argerr(n: int, fname: str, msg: str):
    return False, "bad argument #%d to '%s' (%s)" % (n, fname, msg)


# --- bit (LuaBitOp) ---------------------------------------------------------------------------
def _tobit(x: float) -> int:
    b = int(round(x)) & 0xFFFFFFFF if math.isfinite(x) else 0
    return b - (1 << 32) if b & 0x80000000 else b


def _bits(fname, args, first_only=False):
    out = []
    for i, a in enumerate(args):
        n = _num(a)
        if n is None:
            return None, _argerr(i + 1, fname, "number expected, got " + _tname(a))
        out.append(_tobit(n))
    return out, None


def _mk_bitop(fname, op):
    def f(*args):
        if not args:
            return _argerr(1, fname, "number expected, got no value")
        xs, err = _bits(fname, args)
        if err:
            return err
        r = xs[0]
        for x in xs[1:]:
            r = op(r, x)
        return True, _tobit(r)
    return f


def _mk_shift(fname, op):
    def f(*args):
        a = args[0] if args else None
        b = args[1] if len(args) > 1 else None
        xs, err = _bits(fname, [a, b])
        if err:
            return err
        x, n = xs
        return True, _tobit(op(x & 0xFFFFFFFF, n & 31))
    return f


def _bnot(*args):
    xs, err = _bits("bnot", [args[0] if args else None])
    if err:
        return err
    return True, _tobit(~xs[0])


def _tobit_f(*args):
    xs, err = _bits("tobit", [args[0] if args else None])
    if err:
        return err
    return True, xs[0]


def _bswap(*args):
    xs, err = _bits("bswap", [args[0] if args else None])
    if err:
        return err
    b = xs[0] & 0xFFFFFFFF
    return True, _tobit(int.from_bytes(b.to_bytes(4, "little"), "big"))


def _tohex(*args):
    a = args[0] if args else None
    xs, err = _bits("tohex", [a])
    if err:
        return err
    n = 8
    if len(args) > 1 and args[1] is not None:
        nn = _num(args[1])
        if nn is None:
            return _argerr(2, "tohex", "number expected, got " + _tname(args[1]))
        n = _tobit(nn)
    upper = n < 0
    if n < 0:
        n = -n
    if n > 8:
        n = 8
    b = xs[0] & 0xFFFFFFFF
    s = ("%08X" if upper else "%08x") % b
    return True, s[8 - n:].encode() if n else b""


def _rol(x, n):
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF if n else x


def _ror(x, n):
    return ((x >> n) | (x << (32 - n))) & 0xFFFFFFFF if n else x


def _arshift(x, n):
    if x & 0x80000000:
        x -= 1 << 32
    return (x >> n) & 0xFFFFFFFF


BIT = {
    "band": _mk_bitop("band", lambda a, b: a & b),
    "bor": _mk_bitop("bor", lambda a, b: a | b),
    "bxor": _mk_bitop("bxor", lambda a, b: a ^ b),
    "bnot": _bnot,
    "lshift": _mk_shift("lshift", lambda x, n: x << n),
    "rshift": _mk_shift("rshift", lambda x, n: x >> n),
    "arshift": _mk_shift("arshift", _arshift),
    "rol": _mk_shift("rol", _rol),
    "ror": _mk_shift("ror", _ror),
    "tobit": _tobit_f,
    "bswap": _bswap,
    "tohex": _tohex,
}


# --- cjson.decode -------------------------------------------------------------------------------
class _JsonError(Exception):
    pass


_WS = b" \t\n\r"
_PUNCT_TOKENS = {0x7B: "T_OBJ_BEGIN", 0x7D: "T_OBJ_END", 0x5B: "T_ARR_BEGIN", 0x5D: "T_ARR_END",
                 0x3A: "T_COLON", 0x2C: "T_COMMA"}
_NUM_CHARS = frozenset(b"0123456789+-.eE")


class _JsonParser:
    def __init__(self, s: bytes, null, table_from) -> None:
        self.s = s
        self.i = 0
        self.null = null
        self.tf = table_from
        self.depth = 0

    def err(self, exp: str, found: str, idx: int):
        raise _JsonError("Expected %s but found %s at character %d" % (exp, found, idx + 1))

    def token(self):
        """(type, value, index)"""
        s = self.s
        n = len(s)
        i = self.i
        while i < n and s[i] in _WS:
            i += 1
        self.i = i
        if i >= n:
            return "T_END", None, i
        ch = s[i]
        tok = _PUNCT_TOKENS.get(ch)
        if tok is not None:
            self.i = i + 1
            return tok, None, i
        if ch == 0x22:
            return self.string(i)
        if ch == 0x2D or 0x30 <= ch <= 0x39:
            return self.number(i)
        if s.startswith(b"true", i):
            self.i = i + 4
            return "T_BOOLEAN", True, i
        if s.startswith(b"false", i):
            self.i = i + 5
            return "T_BOOLEAN", False, i
        if s.startswith(b"null", i):
            self.i = i + 4
            return "T_NULL", None, i
        return "T_ERROR", "invalid token", i

    def number(self, i):
        s = self.s
        j = i
        n = len(s)
        while j < n and s[j] in _NUM_CHARS:
            j += 1
        text = s[i:j]
        # decode_invalid_numbers is on by default: strtod decides (leading zeros, hex...)
        body = text[1:] if text[:1] == b"-" else text
        if body[:2] in (b"0x", b"0X"):
            k = i + len(text) - len(body) + 2
            while k < n and s[k:k + 1] in b"0123456789abcdefABCDEF.pP+-":
                k += 1
            try:
                v = float.fromhex(s[i:k].decode())
                self.i = k
                return "T_NUMBER", v, i
            except ValueError:
                pass
        try:
            v = float(text)
        except ValueError:
            # strtod takes the longest valid prefix
            k = len(text)
            v = None
            while k > 0:
                try:
                    v = float(text[:k])
                    break
                except ValueError:
                    k -= 1
            if v is None:
                return "T_ERROR", "invalid number", i
            j = i + k
        self.i = j
        return "T_NUMBER", v, i

    def string(self, i):
        s = self.s
        n = len(s)
        j = i + 1
        out = bytearray()
        while True:
            if j >= n:
                return "T_ERROR", "unexpected end of string", j
            ch = s[j]
            if ch == 0x22:
                break
            if ch == 0x5C:
                if j + 1 >= n:
                    return "T_ERROR", "unexpected end of string", j
                e = s[j + 1]
                if e == 0x75:
                    cp, k = self._unicode(j)
                    if cp is None:
                        return "T_ERROR", "invalid unicode escape code", j
                    out += chr(cp).encode("utf-8", "surrogatepass")
                    j = k
                    continue
                m = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\b", 0x66: b"\f", 0x6E: b"\n",
                     0x72: b"\r", 0x74: b"\t"}.get(e)
                if m is None:
                    return "T_ERROR", "invalid escape code", j
                out += m
                j += 2
                continue
            out.append(ch)
            j += 1
        self.i = j + 1
        return "T_STRING", bytes(out), i

    def _unicode(self, j):
        s = self.s

        def hex4(p):
            h = s[p:p + 4]
            if len(h) != 4:
                return None
            try:
                return int(h, 16)
            except ValueError:
                return None
        cp = hex4(j + 2)
        if cp is None:
            return None, j
        k = j + 6
        if 0xD800 <= cp <= 0xDBFF:
            if s[k:k + 2] != b"\\u":
                return None, j
            lo = hex4(k + 2)
            if lo is None or not 0xDC00 <= lo <= 0xDFFF:
                return None, j
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
            k += 6
        elif 0xDC00 <= cp <= 0xDFFF:
            return None, j
        return cp, k

    def value(self, tok):
        t, v, idx = tok
        if t == "T_OBJ_BEGIN":
            return self.obj(idx)
        if t == "T_ARR_BEGIN":
            return self.arr(idx)
        if t in ("T_STRING", "T_NUMBER", "T_BOOLEAN"):
            return v
        if t == "T_NULL":
            return self.null
        self.err("value", v if t == "T_ERROR" else t, idx)

    def _nest(self, idx):
        self.depth += 1
        if self.depth > 1000:
            raise _JsonError("Found too many nested data structures (%d) at character %d" % (self.depth, idx + 1))

    def obj(self, idx):
        self._nest(idx)
        t = self.tf()
        tok = self.token()
        if tok[0] == "T_OBJ_END":
            self.depth -= 1
            return t
        while True:
            if tok[0] != "T_STRING":
                self.err("object key string", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            key = tok[1]
            tok = self.token()
            if tok[0] != "T_COLON":
                self.err("colon", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            t[key] = self.value(self.token())
            tok = self.token()
            if tok[0] == "T_OBJ_END":
                self.depth -= 1
                return t
            if tok[0] != "T_COMMA":
                self.err("comma or object end", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            tok = self.token()

    def arr(self, idx):
        self._nest(idx)
        t = self.tf()
        tok = self.token()
        if tok[0] == "T_ARR_END":
            self.depth -= 1
            return t
        i = 1
        while True:
            t[i] = self.value(tok)
            i += 1
            tok = self.token()
            if tok[0] == "T_ARR_END":
                self.depth -= 1
                return t
            if tok[0] != "T_COMMA":
                self.err("comma or array end", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
            tok = self.token()


def _mk_decode(rt, null):
    tf = rt.table

    def decode(*args):
        if len(args) != 1:
            return False, "bad argument #1 to 'decode' (expected 1 argument)"
        s = args[0]
        if isinstance(s, (int, float)) and not isinstance(s, bool):
            s = fmt14(float(s))
        if not isinstance(s, bytes):
            return _argerr(1, "decode", "string expected, got " + _tname(s))
        p = _JsonParser(s, null, tf)
        limit = sys.getrecursionlimit()
        if limit < 8000:
            sys.setrecursionlimit(8000)  # 1000 nesting levels, a few frames each
        try:
            v = p.value(p.token())
            tok = p.token()
            if tok[0] != "T_END":
                p.err("the end", tok[1] if tok[0] == "T_ERROR" else tok[0], tok[2])
        except _JsonError as e:
            return False, str(e)
        finally:
            if limit < 8000:
                sys.setrecursionlimit(limit)
        return True, v
    return decode


# --- cmsgpack ----------------------------------------------------------------------------------
def _mp_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + _st.pack(">B", n)
        elif n <= 0xFFFF:
            out += b"\xcd" + _st.pack(">H", n)
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + _st.pack(">I", n)
        else:
            out += b"\xcf" + _st.pack(">Q", n & 0xFFFFFFFFFFFFFFFF)
    else:
        if n >= -32:
            out.append(n & 0xFF)
        elif n >= -128:
            out += b"\xd0" + _st.pack(">b", n)
        elif n >= -32768:
            out += b"\xd1" + _st.pack(">h", n)
        elif n >= -2147483648:
            out += b"\xd2" + _st.pack(">i", n)
        else:
            out += b"\xd3" + _st.pack(">q", max(n, _LLONG_MIN))


def _mp_encode(v, out: bytearray, level: int) -> None:
    if v is None:
        out.append(0xC0)
    elif v is True:
        out.append(0xC3)
    elif v is False:
        out.append(0xC2)
    elif isinstance(v, bytes):
        n = len(v)
        if n < 32:
            out.append(0xA0 | n)
        elif n <= 0xFF:
            out += b"\xd9" + bytes([n])
        elif n <= 0xFFFF:
            out += b"\xda" + _st.pack(">H", n)
        else:
            out += b"\xdb" + _st.pack(">I", n)
        out += v
    elif isinstance(v, int):
        _mp_int(v, out)
    elif isinstance(v, float):
        if math.isfinite(v) and c_llong(v) == v:  # IS_INT64_EQUIVALENT
            _mp_int(int(v), out)
        else:
            f = _st.unpack(">f", _st.pack(">f", v))[0] if abs(v) < 3.5e38 or not math.isfinite(v) else None
            if f is not None and (f == v or (v != v and f != f)):
                out += b"\xca" + _st.pack(">f", v)
            else:
                out += b"\xcb" + _st.pack(">d", v)
    elif lua_type(v) == "table":
        if level >= 16:
            out.append(0xC0)
            return
        items = list(v.items())
        is_array = True
        mx = 0
        for k, _ in items:
            if not isinstance(k, (int, float)) or isinstance(k, bool) or k <= 0 or k != int(k):
                is_array = False
                break
            mx = max(mx, int(k))
        if is_array and mx == len(items):
            n = mx
            if n < 16:
                out.append(0x90 | n)
            elif n <= 0xFFFF:
                out += b"\xdc" + _st.pack(">H", n)
            else:
                out += b"\xdd" + _st.pack(">I", n)
            for i in range(1, n + 1):
                _mp_encode(v[i], out, level + 1)
        else:
            n = len(items)
            if n < 16:
                out.append(0x80 | n)
            elif n <= 0xFFFF:
                out += b"\xde" + _st.pack(">H", n)
            else:
                out += b"\xdf" + _st.pack(">I", n)
            for k, x in items:
                _mp_encode(k, out, level + 1)
                _mp_encode(x, out, level + 1)
    else:
        out.append(0xC0)


def _mp_pack(*args):
    if not args:
        return False, "bad argument #1 to 'pack' (MessagePack pack needs input.)"
    out = bytearray()
    for a in args:
        _mp_encode(a, out, 0)
    return True, bytes(out)


class _MpError(Exception):
    pass


_LUA_MAXCSTACK = 8000  # lua_checkstack's limit: lua-cmsgpack's stack checks meet it
_MP_FIXED = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i",
             0xD3: ">q", 0xCA: ">f", 0xCB: ">d"}
_MP_STR = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4}
_NO_KEY = object()


def _mp_decode(s: bytes, i: int, tf, slots: int):
    """One MessagePack value from s[i:] as a Lua value, without recursion. `slots` is the Lua
    stack in use where lua-cmsgpack would start decoding it: its luaL_checkstack calls (one per
    value, one per array: +2 per array level, +1 per map level) fail past LUAI_MAXCSTACK with
    "stack overflow (...)" -- so a 100,000-deep input errs as in Redis."""
    n = len(s)
    frames: list = []  # [table, items left, is_map, next array index or pending map key, slots]
    while True:
        if slots + 1 > _LUA_MAXCSTACK:
            raise _MpError("stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")
        if i >= n:
            raise _MpError("Missing bytes in input.")
        c = s[i]
        i += 1
        ln = -1  # aggregate length
        is_map = False
        if c <= 0x7F:
            value = c
        elif c >= 0xE0:
            value = c - 256
        elif 0xA0 <= c <= 0xBF:
            k = c & 0x1F
            if i + k > n:
                raise _MpError("Missing bytes in input.")
            value = s[i:i + k]
            i += k
        elif 0x90 <= c <= 0x9F or c in (0xDC, 0xDD, 0x80, 0xDE, 0xDF) or 0x80 <= c <= 0x8F:
            is_map = c <= 0x8F or c in (0xDE, 0xDF)
            if c <= 0x9F:
                ln = c & 0x0F
            else:
                k = 2 if c in (0xDC, 0xDE) else 4
                if i + k > n:
                    raise _MpError("Missing bytes in input.")
                ln = int.from_bytes(s[i:i + k], "big")
                i += k
            if not is_map and slots + 2 > _LUA_MAXCSTACK:
                raise _MpError("stack overflow (in function mp_decode_to_lua_array)")
            value = tf()
        elif c == 0xC0:
            value = None
        elif c == 0xC2:
            value = False
        elif c == 0xC3:
            value = True
        elif c in _MP_FIXED:
            fmt = _MP_FIXED[c]
            k = _st.calcsize(fmt)
            if i + k > n:
                raise _MpError("Missing bytes in input.")
            value = _st.unpack_from(fmt, s, i)[0]
            i += k
        elif c in _MP_STR:
            k = _MP_STR[c]
            if i + k > n:
                raise _MpError("Missing bytes in input.")
            m = int.from_bytes(s[i:i + k], "big")
            i += k
            if i + m > n:
                raise _MpError("Missing bytes in input.")
            value = s[i:i + m]
            i += m
        else:
            raise _MpError("Bad data format in input.")
        if ln > 0:  # descend: the first element (array: after its index slot) or key
            frames.append([value, ln, is_map, _NO_KEY if is_map else 1, slots])
            slots += 1 if is_map else 2
            continue
        # a complete value: store it in its container, climbing while containers complete
        while frames:
            f = frames[-1]
            t = f[0]
            if f[2]:  # map
                if f[3] is _NO_KEY:
                    f[3] = value
                    slots = f[4] + 2
                    break
                key = f[3]
                if key is None:
                    raise LuaRaise(b"table index is nil")  # lua_settable's own error, no position
                if key != key:
                    raise LuaRaise(b"table index is NaN")
                t[key] = value
                f[3] = _NO_KEY
                slots = f[4] + 1
            else:
                t[f[3]] = value
                f[3] += 1
                slots = f[4] + 2
            f[1] -= 1
            if f[1]:
                break
            frames.pop()
            value = t
            slots = f[4]
        else:
            return value, i


def _mk_mp_unpack(rt, fname, mode):
    tf = rt.table

    def unpack(*args):
        s = args[0] if args else None
        if not isinstance(s, bytes):
            if isinstance(s, (int, float)) and not isinstance(s, bool):
                s = fmt14(float(s))
            else:
                return _argerr(1, fname, "string expected, got " + _tname(s))
        limit = 0
        offset = 0
        if mode == "limit":
            limit = int(_num(args[1]) or 0) if len(args) > 1 else 0
            offset = int(_num(args[2]) or 0) if len(args) > 2 else 0
        elif mode == "one":
            limit = 1
            offset = int(_num(args[1]) or 0) if len(args) > 1 else 0
        out = []
        i = offset
        try:
            while i < len(s) and (limit <= 0 or len(out) < limit):
                v, i = _mp_decode(s, i, tf, 1 + len(out))  # the string argument, then each value
                out.append(v)
        except _MpError as e:
            return False, str(e)
        if mode != "all":
            out.insert(0, -1 if i >= len(s) else i)
        t = tf()
        for j, v in enumerate(out):
            t[j + 1] = v
        return True, t, len(out)
    return unpack


# --- struct ------------------------------------------------------------------------------------
class _StructError(Exception):
    pass


def _struct_items(fmt: bytes):
    """Yield (option, size, endian) from a struct format, like struct.c's getoption."""
    i = 0
    n = len(fmt)
    endian = "<"
    align = 1
    while i < n:
        ch = chr(fmt[i])
        i += 1

        def num(default):
            nonlocal i
            if i < n and 48 <= fmt[i] <= 57:
                v = 0
                while i < n and 48 <= fmt[i] <= 57:
                    v = v * 10 + fmt[i] - 48
                    i += 1
                return v
            return default
        if ch in " ":
            continue
        if ch == ">":
            endian = ">"
            continue
        if ch in "<=":
            endian = "<"
            continue
        if ch == "!":
            align = num(8)
            continue
        if ch in "bB":
            yield ch, 1, endian, align
        elif ch in "hH":
            yield ch, 2, endian, align
        elif ch in "lL":
            yield ch, 8, endian, align
        elif ch == "T":
            yield ch, 8, endian, align
        elif ch in "iI":
            sz = num(4)
            if sz > 32:
                raise _StructError("integral size %d is larger than limit of 32" % sz)
            yield ch, sz, endian, align
        elif ch == "f":
            yield ch, 4, endian, align
        elif ch == "d":
            yield ch, 8, endian, align
        elif ch == "c":
            yield ch, num(1), endian, align
        elif ch == "s":
            yield ch, 0, endian, align
        elif ch == "x":
            yield ch, 1, endian, align
        else:
            raise _StructError("invalid format option '%s'" % ch)


def _pad(pos: int, size: int, align: int, opt: str) -> int:
    if opt in "csx" or align <= 1 or size <= 1:
        return 0
    a = min(size, align)
    if a & (a - 1):
        raise _StructError("alignment must be power of 2")
    return (a - (pos & (a - 1))) & (a - 1)


def _struct_pack(*args):
    fmt = args[0] if args else None
    if not isinstance(fmt, bytes):
        return _argerr(1, "pack", "string expected, got " + _tname(fmt))
    out = bytearray()
    argi = 1
    try:
        for opt, size, endian, align in _struct_items(fmt):
            out += b"\x00" * _pad(len(out), size, align, opt)
            if opt == "x":
                out.append(0)
                continue
            argi += 1
            a = args[argi - 1] if argi - 1 < len(args) else None
            if opt in "bBhHlLTiI":
                v = _num(a)
                if v is None:
                    return _argerr(argi, "pack", "number expected, got " + _tname(a))
                iv = int(v) & ((1 << (8 * size)) - 1) if size else 0
                out += iv.to_bytes(size, "big" if endian == ">" else "little")
            elif opt in "fd":
                v = _num(a)
                if v is None:
                    return _argerr(argi, "pack", "number expected, got " + _tname(a))
                out += _st.pack(endian + opt, float(v))
            elif opt == "c":
                if not isinstance(a, bytes):
                    if isinstance(a, (int, float)) and not isinstance(a, bool):
                        a = fmt14(float(a))
                    else:
                        return _argerr(argi, "pack", "string expected, got " + _tname(a))
                ln = size if size else len(a)
                if len(a) < ln:
                    return _argerr(argi, "pack", "string too short")
                out += a[:ln]
            elif opt == "s":
                if not isinstance(a, bytes):
                    if isinstance(a, (int, float)) and not isinstance(a, bool):
                        a = fmt14(float(a))
                    else:
                        return _argerr(argi, "pack", "string expected, got " + _tname(a))
                if b"\x00" in a:
                    return _argerr(argi, "pack", "string contains zeros")
                out += a + b"\x00"
    except _StructError as e:
        return _argerr(1, "pack", str(e))
    return True, bytes(out)


def _struct_unpack(*args):
    fmt = args[0] if args else None
    data = args[1] if len(args) > 1 else None
    if not isinstance(fmt, bytes):
        return _argerr(1, "unpack", "string expected, got " + _tname(fmt))
    if not isinstance(data, bytes):
        return _argerr(2, "unpack", "string expected, got " + _tname(data))
    pos = 0
    if len(args) > 2 and args[2] is not None:
        p = _num(args[2])
        if p is None:
            return _argerr(3, "unpack", "number expected, got " + _tname(args[2]))
        pos = int(p) - 1
        if pos < 0:
            pos = 0
    out = []
    ld = len(data)
    try:
        for opt, size, endian, align in _struct_items(fmt):
            pos += _pad(pos, size, align, opt)
            if opt != "s" and pos + size > ld:
                return _argerr(2, "unpack", "data string too short")
            if opt == "x":
                pos += 1
                continue
            if opt in "bBhHlLTiI":
                raw = data[pos:pos + size]
                v = int.from_bytes(raw, "big" if endian == ">" else "little")
                if opt in "bhli" and size and v >= 1 << (8 * size - 1):
                    v -= 1 << (8 * size)
                out.append(v)
                pos += size
            elif opt in "fd":
                out.append(_st.unpack_from(endian + opt, data, pos)[0])
                pos += size
            elif opt == "c":
                ln = size
                if ln == 0:
                    if not out or not isinstance(out[-1], (int, float)):
                        return _argerr(1, "unpack", "format `c0' needs a previous size")
                    ln = int(out.pop())
                    if pos + ln > ld:
                        return _argerr(2, "unpack", "data string too short")
                out.append(data[pos:pos + ln])
                pos += ln
            elif opt == "s":
                e = data.find(b"\x00", pos)
                if e < 0:
                    return _argerr(2, "unpack", "unfinished string in data")
                out.append(data[pos:e])
                pos = e + 1
    except _StructError as e:
        return _argerr(1, "unpack", str(e))
    out.append(pos + 1)
    return True, out


def _struct_size(*args):
    fmt = args[0] if args else None
    if not isinstance(fmt, bytes):
        return _argerr(1, "size", "string expected, got " + _tname(fmt))
    pos = 0
    try:
        for opt, size, endian, align in _struct_items(fmt):
            pos += _pad(pos, size, align, opt)
            if opt == "s" or (opt == "c" and size == 0):
                return _argerr(1, "size", "options 'c0' - 's' have undefined sizes")
            pos += size
    except _StructError as e:
        return _argerr(1, "size", str(e))
    return True, pos


# --- the Lua side -------------------------------------------------------------------------------
_LIBS_LUA = r"""
local py = ...
local _error, _type, _unpack, _next, _tostring, _format, _rawget, _pcall, _setmetatable, _floor =
      error, type, unpack, next, tostring, string.format, rawget, pcall, setmetatable, math.floor
local bit = {}
for name, f in _next, py.bit do bit[name] = f end

-- cjson
local null = newproxy(true)
getmetatable(null).__tostring = function() return 'userdata: (nil)' end
local cjson = {_NAME = 'cjson', _VERSION = '2.1.0', null = null}
cjson.encode = py.encode
cjson.decode = py.decode
local function cfg(default) return function(...) return default end end
cjson.encode_sparse_array = function() return false, 2, 10 end
cjson.encode_max_depth = cfg(1000)
cjson.decode_max_depth = cfg(1000)
cjson.encode_number_precision = cfg(14)
cjson.encode_keep_buffer = cfg(true)
cjson.encode_invalid_numbers = cfg(false)
cjson.decode_invalid_numbers = cfg(true)
cjson.new = function() return cjson end

local cmsgpack = {_NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0',
  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo', _DESCRIPTION = 'MessagePack C implementation for Lua'}
cmsgpack.pack = py.mp_pack
cmsgpack.unpack = py.mp_unpack
cmsgpack.unpack_one = py.mp_unpack_one
cmsgpack.unpack_limit = py.mp_unpack_limit

local struct = {}
struct.pack = py.st_pack
struct.unpack = py.st_unpack
struct.size = py.st_size

return {bit = bit, cjson = cjson, cmsgpack = cmsgpack, struct = struct}, null
"""


_JSON_ESC = {0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n",
             0x0D: b"\\r", 0x09: b"\\t", 0x7F: b"\\u007f"}
for _i in range(32):
    _JSON_ESC.setdefault(_i, b"\\u%04x" % _i)
_JSON_TRANS = [(_JSON_ESC.get(_i) or bytes([_i])) for _i in range(256)]


def _json_str(s: bytes, out: list) -> None:
    for ch in s:
        if ch < 0x20 or ch in (0x22, 0x5C, 0x2F, 0x7F):
            break
    else:
        out.append(b'"' + s + b'"')
        return
    out.append(b'"' + b"".join([_JSON_TRANS[c] for c in s]) + b'"')


def _json_num(x) -> bytes:
    if isinstance(x, float) and not math.isfinite(x):
        raise _JsonError("Cannot serialise number: must not be NaN or Inf")
    return b"%.14g" % x


def _mk_encode(is_null, unproxy_box):
    def enc(v, depth, out):
        if isinstance(v, bytes):
            _json_str(v, out)
        elif v is True:
            out.append(b"true")
        elif v is False:
            out.append(b"false")
        elif isinstance(v, (int, float)):
            out.append(_json_num(v))
        elif v is None:
            out.append(b"null")
        else:
            lt = lua_type(v)
            if lt == "userdata" and is_null(v):
                out.append(b"null")
                return
            if lt is None and callable(v):
                lt = "function"
            if lt != "table":
                raise _JsonError("Cannot serialise %s: type not supported" % (lt or "userdata"))
            v = unproxy_box[0](v)
            depth += 1
            if depth > 1000:
                raise _JsonError("Cannot serialise, excessive nesting (%d)" % depth)
            items = list(v.items())
            mx = 0
            is_array = True
            for k, _x in items:
                if isinstance(k, (int, float)) and not isinstance(k, bool) and k >= 1 and k == int(k):
                    if k > mx:
                        mx = int(k)
                else:
                    is_array = False
                    break
            if is_array and mx > 0:
                if mx > 10 and mx > len(items) * 2:
                    raise _JsonError("Cannot serialise table: excessively sparse array")
                d = dict(items)
                out.append(b"[")
                for i in range(1, mx + 1):
                    if i > 1:
                        out.append(b",")
                    enc(d.get(i), depth, out)
                out.append(b"]")
                return
            out.append(b"{")
            first = True
            for k, x in items:
                if not first:
                    out.append(b",")
                first = False
                if isinstance(k, bytes):
                    _json_str(k, out)
                elif isinstance(k, (int, float)) and not isinstance(k, bool):
                    out.append(b'"' + _json_num(k) + b'"')
                else:
                    raise _JsonError("Cannot serialise %s: table key must be a number or string" % _tname(k))
                out.append(b":")
                enc(x, depth, out)
            out.append(b"}")

    def encode(*args):
        if len(args) != 1:
            raise_str("bad argument #1 to 'encode' (expected 1 argument)")
        out: list = []
        limit = sys.getrecursionlimit()
        if limit < 8000:
            sys.setrecursionlimit(8000)
        try:
            enc(args[0], 0, out)
        except _JsonError as e:
            raise_str(str(e))
        finally:
            if limit < 8000:
                sys.setrecursionlimit(limit)
        return b"".join(out)
    return encode


def make_libs(rt, on_bug=None) -> dict:
    """Build the library tables in runtime rt; returns {name: table, '_null': cjson.null}.
    Every Python function is exposed through lua_callable (see there why)."""
    _decode = [None]
    _encode = [None]

    def decode(*args):
        return _decode[0](*args)

    def encode(*args):
        return _encode[0](*args)

    mp_unpack = _mk_mp_unpack(rt, "unpack", "all")
    mp_one = _mk_mp_unpack(rt, "unpack_one", "one")
    mp_limit = _mk_mp_unpack(rt, "unpack_limit", "limit")

    def multi(f):
        def g(*args):
            r = f(*args)
            if not r[0]:
                raise_str(r[1])
            return tuple(r[1][i] for i in range(1, r[2] + 1))
        return g

    def st_unpack(*args):
        r = _struct_unpack(*args)
        if not r[0]:
            raise_str(r[1])
        return tuple(r[1])

    def lc(f):
        return lua_callable(f, on_bug)

    pyt = rt.table_from({
        b"bit": rt.table_from({k.encode(): lc(_checked(v)) for k, v in BIT.items()}),
        b"decode": lc(decode),
        b"encode": lc(encode),
        b"mp_pack": lc(_checked(_mp_pack)),
        b"mp_unpack": lc(multi(mp_unpack)),
        b"mp_unpack_one": lc(multi(mp_one)),
        b"mp_unpack_limit": lc(multi(mp_limit)),
        b"st_pack": lc(_checked(_struct_pack)),
        b"st_unpack": lc(st_unpack),
        b"st_size": lc(_checked(_struct_size)),
    })
    tables, null = rt.execute(_LIBS_LUA, pyt)
    _decode[0] = _checked(_mk_decode(rt, null))
    unproxy_box = [lambda t: t]
    _encode[0] = _mk_encode(rt.eval("function(n) return function(v) return v == n end end")(null), unproxy_box)
    out = {(k if isinstance(k, bytes) else str(k).encode()): v for k, v in tables.items()}
    out["_null"] = null
    out["_unproxy"] = unproxy_box
    return out
