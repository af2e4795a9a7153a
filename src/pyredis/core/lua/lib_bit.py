"""bit: LuaBitOp 1.0 as Redis 7.0 bundles it (32-bit operations on Lua numbers).

API: BIT (name -> helper returning (ok, value...)), wrapped by libs.make_libs.
"""

from __future__ import annotations

import math


from .bridge import argerr, num, tname

def _tobit(x: float) -> int:
    b = int(round(x)) & 0xFFFFFFFF if math.isfinite(x) else 0
    return b - (1 << 32) if b & 0x80000000 else b


def _bits(fname, args, first_only=False):
    out = []
    for i, a in enumerate(args):
        n = num(a)
        if n is None:
            return None, argerr(i + 1, fname, "number expected, got " + tname(a))
        out.append(_tobit(n))
    return out, None


def _mk_bitop(fname, op):
    def f(*args):
        if not args:
            return argerr(1, fname, "number expected, got no value")
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
        nn = num(args[1])
        if nn is None:
            return argerr(2, "tohex", "number expected, got " + tname(args[1]))
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
