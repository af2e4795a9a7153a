"""cmsgpack: lua-cmsgpack 0.4 as Redis 7.0 bundles it: pack (16-level nesting, then nil) and
unpack / unpack_one / unpack_limit, decoded without recursion with the library's Lua stack
checks.

API: mp_pack(*args), make_mp_unpack(rt, fname, mode).
"""

from __future__ import annotations

import math
import struct as _st

from lupa.lua51 import lua_type

from .bridge import LLONG_MIN, LuaRaise, argerr, c_llong, fmt14, num, tname

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
            out += b"\xd3" + _st.pack(">q", max(n, LLONG_MIN))


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


def mp_pack(*args):
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
_MP_STR = {0xD9: 1, 0xDA: 2, 0xDB: 4}  # (no bin 8/16/32: lua-cmsgpack finds them a bad format)
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
            if value > 0x7FFFFFFFFFFFFFFF:  # uint64 past a C long: lua_pushunsigned is
                value -= 1 << 64            # lua_pushinteger on 64 bits, a signed lua_Integer
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


def make_mp_unpack(rt, fname, mode):
    tf = rt.table

    def unpack(*args):
        s = args[0] if args else None
        if not isinstance(s, bytes):
            if isinstance(s, (int, float)) and not isinstance(s, bool):
                s = fmt14(float(s))
            else:
                return argerr(1, fname, "string expected, got " + tname(s))
        limit = 0
        offset = 0
        if mode == "limit":
            limit = int(num(args[1]) or 0) if len(args) > 1 else 0
            offset = int(num(args[2]) or 0) if len(args) > 2 else 0
        elif mode == "one":
            limit = 1
            offset = int(num(args[1]) or 0) if len(args) > 1 else 0
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
