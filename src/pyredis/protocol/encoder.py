"""encode(value, resp) -> bytes. The only place that knows RESP2 from RESP3.

Scores and doubles are formatted as Redis does (format_double: `inf`/`-inf`, integers without
`.0`): Redis 7.0 with %.17g; from 7.2 on (d2string with fpconv_dtoa) integral values within
+-2^62 as integers and the others as the shortest text that reads back as the same double.
The server running a 7.2+ mode selects the second for its thread (use_short_doubles): replies,
ZSCAN's listpack scores, the AOF rewrite and the Lua conversions all go through format_double.
"""

from __future__ import annotations

import math
import threading
from itertools import islice

from .replies import (
    NULL_ARRAY,
    BigNumber,
    Boolean,
    Deep,
    Double,
    DoubleText,
    ErrorReply,
    MapPairs,
    MultiReply,
    Push,
    SetReply,
    Simple,
    Verbatim,
    VerbatimFormatted,
)

_INT_CACHE = [b":%d\r\n" % i for i in range(-1, 10001)]
_LEN_CACHE = [b"$%d\r\n" % i for i in range(0, 1025)]
# A bulk's header with the CRLF that ends the bulk before it (_enc_items: two pieces per element
# of an aggregate of strings, not three)
_NEXT_CACHE = [b"\r\n$%d\r\n" % i for i in range(0, 1025)]
_SIMPLE_CACHE = {b"OK": b"+OK\r\n", b"PONG": b"+PONG\r\n", b"QUEUED": b"+QUEUED\r\n"}
_ARR_CACHE = [b"*%d\r\n" % i for i in range(0, 1025)]
# Aggregates longer than this are encoded in joined chunks of this many elements (_enc_chunked).
CHUNK = 1024
# The compiled build writes an aggregate of short strings with one byte-copying pass
# (_fill_bulks); interpreted, appending the pieces and joining them is faster.
_COMPILED = not __file__.endswith(".py")
# Aggregates longer than this (and up to CHUNK) are joined into one piece of the output: a
# pipeline of LRANGE replies leaves the connection as a few pieces, not three per element (the
# connection joins at most 2,048 pieces and writes more as they are, see server/connection.py).
JOIN_OVER = 16


_TLS = threading.local()


def use_short_doubles(on: bool) -> None:
    """Format doubles as Redis 7.2+ does in this thread (the server's event-loop thread)."""
    _TLS.short = on


def format_double(d: float) -> bytes:
    """Redis's humanfriendly-free double formatting for replies (inf/-inf/nan; %.17g, or 7.2's
    d2string where the thread's server runs a later mode)."""
    return _short_double(d) if getattr(_TLS, "short", False) else b"%.17g" % d


def _short_double(d: float) -> bytes:
    if d != d:
        return b"nan"
    if d == _INF or d == _NINF:
        return b"inf" if d > 0 else b"-inf"
    return d2string_short(d)


def _double_formatter():
    """format_double's choice for this thread, looked up once per aggregate. (%.17g prints
    inf, -inf and nan as Redis does.)"""
    return _short_double if getattr(_TLS, "short", False) else _percent_17g


def _percent_17g(d: float) -> bytes:
    return b"%.17g" % d


_INF = float("inf")
_NINF = float("-inf")


def digest_double(d: float) -> bytes:
    """A score as DEBUG DIGEST hashes it: %.17g in 7.0, fpconv_dtoa from 7.2 on."""
    if getattr(_TLS, "short", False):
        return fpconv_dtoa(d)
    return b"%.17g" % d


def d2string_short(d: float) -> bytes:
    """Redis 7.2's d2string for a finite double: 0/-0, an integer when the value is integral
    and within +-LLONG_MAX/2 (double2ll), else fpconv_dtoa."""
    if d == 0:
        return b"-0" if math.copysign(1.0, d) < 0 else b"0"
    if -4611686018427387903.0 <= d <= 4611686018427387903.0:
        i = int(d)  # (an int from Lua is within the range: itself)
        if i == d:
            return b"%d" % i
    return fpconv_dtoa(d)


def fpconv_dtoa(d: float) -> bytes:
    """Redis 7.2's fpconv_dtoa: Grisu2's digits (_grisu2: not always the shortest that read
    back as d - 2.9063010735361132 keeps its 17 digits, where Python's repr finds 16), laid
    out as fpconv does: plain digits padded with zeros while the exponent stays under the
    digit count + 7, a plain decimal for negative exponents above -7 (or when fewer than 4
    places from the point), otherwise d.ddde[+-]x (at most 18 digits, 17 when negative)."""
    if d == 0:
        return b"-0" if math.copysign(1.0, d) < 0 else b"0"
    if d == _INF or d == _NINF:
        return b"inf" if d > 0 else b"-inf"
    if d != d:
        return b"nan"
    neg = d < 0
    digits, k = _grisu2(d)
    nd = len(digits)
    exp = abs(k + nd - 1)
    if k >= 0 and exp < nd + 7:
        out = digits + b"0" * k
    elif k < 0 and (k > -7 or exp < 4):
        offset = nd + k
        if offset <= 0:
            out = b"0." + b"0" * -offset + digits
        else:
            out = digits[:offset] + b"." + digits[offset:]
    else:
        nd = min(nd, 18 - neg)
        out = digits[:1] + (b"." + digits[1:nd] if nd > 1 else b"") + (b"e-" if k + nd - 1 < 0 else b"e+") + b"%d" % exp
    return b"-" + out if neg else out


# --- Grisu2 (Loitsch, "Printing floating-point numbers quickly and accurately", 2010), with
# the choices of the fpconv library Redis 7.2 bundles: cached powers 10^-348 .. 10^340 in steps
# of 8, the product's exponent kept within [-60, -32], the boundaries narrowed by one unit, and
# the last digit moved towards the value while it stays within them.
_M64 = (1 << 64) - 1
_HIDDEN = 1 << 52
_B31 = 1 << 31


def _cached_powers() -> list:
    """(64-bit significand with its top bit set, binary exponent) of 10^k, rounded to nearest."""
    out = []
    for k in range(-348, 341, 8):
        if k >= 0:
            n = 10 ** k
            e = n.bit_length() - 64
            f = (n + (1 << (e - 1))) >> e if e > 0 else n << -e
        else:
            den = 10 ** -k
            s = den.bit_length() + 63
            f = ((1 << s) + den // 2) // den
            e = -s
            if f.bit_length() > 64:
                f >>= 1
                e += 1
        out.append((f, e))
    return out


_POWERS = _cached_powers()


def _mul(af: int, ae: int, bf: int, be: int) -> tuple:
    """The upper 64 bits of the 128-bit product, rounded as fpconv's 32-bit halves do."""
    lo = 0xFFFFFFFF
    ah, al, bh, bl = af >> 32, af & lo, bf >> 32, bf & lo
    ah_bl = ah * bl
    al_bh = al * bh
    mid = (ah_bl & lo) + (al_bh & lo) + ((al * bl) >> 32) + _B31
    return (ah * bh + (ah_bl >> 32) + (al_bh >> 32) + (mid >> 32)) & _M64, ae + be + 64


def _grisu2(d: float) -> tuple:
    """The decimal digits (ASCII bytes) and the power of ten K of the last one."""
    # the significand and exponent of the IEEE fields, from frexp (|d| = m * 2^e, m in
    # [0.5, 1): exact): a normal double is m * 2^53 (the hidden bit included) * 2^(e - 53), a
    # subnormal its 52-bit field * 2^-1074
    m, e = math.frexp(abs(d))
    if e > -1022:
        frac = int(m * 9007199254740992.0)
        exp = e - 53
    else:
        frac = int(math.ldexp(m, e + 1074))
        exp = -1074
    # the upper and lower boundaries (halfway to the neighbours), on the upper one's exponent
    uf, ue = (frac << 1) + 1, exp - 1
    while not uf & (_HIDDEN << 1):
        uf <<= 1
        ue -= 1
    uf <<= 10
    ue -= 10
    ls = 2 if frac == _HIDDEN else 1
    lf = ((frac << ls) - 1) << (exp - ls - ue)
    wf, we = frac, exp
    while not wf & _HIDDEN:  # (normalized: the top bit of 64 set)
        wf <<= 1
        we -= 1
    wf <<= 11
    we -= 11
    idx = int((int(-(ue + 87) * 0.30102999566398114) + 348) / 8)
    while True:
        cur = ue + _POWERS[idx][1] + 64
        if cur < -60:
            idx += 1
        elif cur > -32:
            idx -= 1
        else:
            break
    cf, ce = _POWERS[idx]
    wf = _mul(wf, we, cf, ce)[0]
    lf = _mul(lf, ue, cf, ce)[0]  # (the lower boundary is on the upper one's exponent)
    uf, ue = _mul(uf, ue, cf, ce)
    lf += 1
    uf -= 1
    k = 348 - idx * 8  # the cached power was 10^-k
    wdist = uf - wf
    delta = uf - lf
    shift = -ue
    one = 1
    one <<= shift  # (a 64-bit shift in the compiled build: `one` is typed, a literal 1 is a C int)
    part1 = uf >> shift
    part2 = uf & (one - 1)
    digits = bytearray()  # ASCII digits, as fpconv's char buffer
    kappa = 10
    div = 1000000000
    while kappa > 0:
        digit = part1 // div
        if digit or digits:
            digits.append(48 + digit)
        part1 -= digit * div
        kappa -= 1
        rest = (part1 << shift) + part2
        if rest <= delta:
            _round_digit(digits, delta, rest, div << shift, wdist)
            return bytes(digits), k + kappa
        div //= 10
    unit = 10
    while True:
        part2 = (part2 * 10) & _M64
        delta = (delta * 10) & _M64
        kappa -= 1
        digit = part2 >> shift
        if digit or digits:
            digits.append(48 + digit)
        part2 &= one - 1
        if part2 < delta:
            _round_digit(digits, delta, part2, one, (wdist * unit) & _M64)
            return bytes(digits), k + kappa
        unit *= 10


def _round_digit(digits: bytearray, delta: int, rem: int, kappa: int, frac: int) -> None:
    # (fpconv's unsigned 64-bit arithmetic: rem + kappa wraps as in C, in both builds)
    while rem < frac and delta - rem >= kappa and (
            (rem + kappa) & _M64 < frac or frac - rem > ((rem + kappa) & _M64) - frac):
        digits[-1] -= 1
        rem += kappa


def encode(v, resp: int) -> bytes:
    out: list[bytes] = []
    _enc(v, resp, out)
    return b"".join(out)


def encode_into(v, resp: int, out: list[bytes]) -> None:
    # The common replies inline, as in _enc and _enc_items: on the hot path a function call per
    # reply or per element is what these repeated few lines save.
    t = type(v)
    if t is bytes:
        n = len(v)
        out.append(_LEN_CACHE[n] if n <= 1024 else b"$%d\r\n" % n)
        out.append(v)
        out.append(b"\r\n")
    elif t is Simple:
        out.append(_SIMPLE_CACHE.get(v) or b"+" + v + b"\r\n")
    elif t is int:
        out.append(_INT_CACHE[v + 1] if -1 <= v <= 10000 else b":%d\r\n" % v)
    elif v is None:
        out.append(b"$-1\r\n" if resp == 2 else b"_\r\n")
    else:
        _enc(v, resp, out)


def _enc(v, resp: int, out: list[bytes]) -> None:
    t = type(v)
    if t is bytes:
        n = len(v)
        out.append(_LEN_CACHE[n] if n <= 1024 else b"$%d\r\n" % n)
        out.append(v)
        out.append(b"\r\n")
    elif t is int:
        out.append(_INT_CACHE[v + 1] if -1 <= v <= 10000 else b":%d\r\n" % v)
    elif t is list or t is tuple:
        n = len(v)
        out.append(_ARR_CACHE[n] if n <= 1024 else b"*%d\r\n" % n)
        _enc_elements(v, n, resp, out)
    elif v is None:
        out.append(b"$-1\r\n" if resp == 2 else b"_\r\n")
    elif t is Simple:
        out.append(b"+" + v + b"\r\n")
    elif t is ErrorReply:
        out.append(b"-" + v + b"\r\n")
    elif t is dict:
        if resp == 2:
            out.append(b"*%d\r\n" % (2 * len(v)))
        else:
            out.append(b"%%%d\r\n" % len(v))
        for k, x in v.items():
            if type(k) is bytes and type(x) is bytes:  # HGETALL and CONFIG GET's fields
                out.append(_LEN_CACHE[len(k)] if len(k) <= 1024 else b"$%d\r\n" % len(k))
                out.append(k)
                out.append(b"\r\n")
                out.append(_LEN_CACHE[len(x)] if len(x) <= 1024 else b"$%d\r\n" % len(x))
                out.append(x)
                out.append(b"\r\n")
            else:
                _enc(k, resp, out)
                _enc(x, resp, out)
    elif t is set or t is frozenset or t is SetReply:
        out.append((b"*%d\r\n" if resp == 2 else b"~%d\r\n") % len(v))
        _enc_elements(v, len(v), resp, out)
    elif t is Double:
        if resp == 2:
            _enc(format_double(v), resp, out)
        else:
            out.append(b"," + format_double(v) + b"\r\n")
    elif v is NULL_ARRAY:
        out.append(b"*-1\r\n" if resp == 2 else b"_\r\n")
    elif t is Boolean:
        if resp == 2:
            out.append(b":1\r\n" if v else b":0\r\n")
        else:
            out.append(b"#t\r\n" if v else b"#f\r\n")
    elif t is MultiReply:
        _enc_items(v, resp, out)
    elif t is Push:
        out.append((b"*%d\r\n" if resp == 2 else b">%d\r\n") % len(v))
        _enc_items(v, resp, out)
    elif t is Verbatim:
        if resp == 2:
            _enc(bytes(v), resp, out)
        else:
            out.append(b"=%d\r\ntxt:" % (len(v) + 4))
            out.append(v)
            out.append(b"\r\n")
    elif t is DoubleText:
        if resp == 2:
            _enc(bytes(v), resp, out)
        else:
            out.append(b"," + v + b"\r\n")
    elif t is BigNumber:
        if resp == 2:
            _enc(bytes(v), resp, out)
        else:
            out.append(b"(" + v + b"\r\n")
    elif t is MapPairs:
        out.append((b"*%d\r\n" if resp == 2 else b"%%%d\r\n") % (len(v) if resp == 2 else len(v) // 2))
        _enc_items(v, resp, out)
    elif t is VerbatimFormatted:
        if resp == 2:
            _enc(v[4:], resp, out)
        else:
            out.append(b"=%d\r\n" % len(v))
            out.append(v)
            out.append(b"\r\n")
    elif t is Deep:
        _enc_deep(v.value, resp, out)
    elif t is bytearray:  # a string changed in place: copied, the keyspace may change it later
        _enc(bytes(v), resp, out)
    elif t is bool:
        _enc(int(v), resp, out)
    elif t is float:
        _enc(Double(v), resp, out)
    elif isinstance(v, bytes):  # bytes subclasses not listed above
        _enc(bytes(v), resp, out)
    elif isinstance(v, (list, tuple)):
        _enc(list(v), resp, out)
    else:
        raise TypeError(f"cannot encode reply of type {t.__name__}: {v!r}")


def _enc_items(v, resp: int, out: list[bytes]) -> None:
    """The elements of an aggregate: bulk strings, scores (WITHSCORES: member, score, ...) and
    small integers without a call each, anything else through _enc."""
    fmt = None
    crlf = False  # the last element was a bulk whose CRLF is not written yet
    for x in v:
        tx = type(x)
        if tx is bytes:
            m = len(x)
            if m <= 1024:
                out.append(_NEXT_CACHE[m] if crlf else _LEN_CACHE[m])
            else:
                out.append(b"\r\n$%d\r\n" % m if crlf else b"$%d\r\n" % m)
            out.append(x)
            crlf = True
            continue
        if crlf:
            out.append(b"\r\n")
            crlf = False
        if tx is Double:
            if fmt is None:
                fmt = _double_formatter()
            d = fmt(x)
            if resp == 2:
                out.append(_LEN_CACHE[len(d)])
                out.append(d)
                out.append(b"\r\n")
            else:
                out.append(b"," + d + b"\r\n")
        elif tx is int and -1 <= x <= 10000:
            out.append(_INT_CACHE[x + 1])
        else:
            _enc(x, resp, out)
    if crlf:
        out.append(b"\r\n")


def _enc_elements(v, n: int, resp: int, out: list[bytes]) -> None:
    """The n elements of an array or set after its header: piece by piece when few, joined into
    one piece up to CHUNK, chunk by chunk beyond."""
    if n > CHUNK:
        _enc_chunked(v, resp, out)
    elif n > JOIN_OVER:
        out.append(_joined_items(v, resp))
    else:
        _enc_items(v, resp, out)


def _joined_items(v, resp: int) -> bytes:
    """The elements of an aggregate of up to CHUNK elements encoded as one piece."""
    if _COMPILED:
        joined = _fill_bulks(v)
        if joined is not None:
            return joined
    part: list[bytes] = []
    _enc_items(v, resp, part)
    return b"".join(part)


def _fill_bulks(v) -> bytes | None:
    """The bulk strings of v's elements as one bytes object when every element is a bytes of at
    most 256 bytes (None otherwise): the size summed first, then each header and string copied
    by byte loops into the one buffer (for longer strings b"".join's memcpy is faster). Written
    for the compiled build (encoder.pxd makes the buffers char pointers and the loops C loops:
    no piece per element to append and join); interpreted, _joined_items appends and joins
    instead (this .py form runs only in the tests)."""
    total = 0
    for x in v:
        if type(x) is not bytes:
            return None
        m = len(x)
        if m > 256:
            return None
        h = _LEN_CACHE[m]
        total += len(h) + m + 2
    buf = bytearray(total)
    dst = buf
    p = 0
    for x in v:
        src = x
        m = len(x)
        h = _LEN_CACHE[m]
        hs = h
        k = len(h)
        for j in range(k):
            dst[p + j] = hs[j]
        p += k
        for j in range(m):
            dst[p + j] = src[j]
        p += m
        dst[p] = 13
        dst[p + 1] = 10
        p += 2
    return bytes(buf)


def _enc_chunked(v, resp: int, out: list[bytes]) -> None:
    """The elements of a large aggregate, CHUNK at a time, each chunk joined into one bytes
    object: a reply of millions of elements holds one object per chunk, not three per element
    (SRANDMEMBER s -10000000 peaks at a few times its size, not forty)."""
    it = iter(v)
    if _COMPILED:  # each chunk through _fill_bulks's one pass where it can
        while True:
            chunk = list(islice(it, CHUNK))
            if not chunk:
                return
            out.append(_joined_items(chunk, resp))
    part: list[bytes] = []
    while True:
        _enc_items(islice(it, CHUNK), resp, part)
        if not part:  # (every element adds at least one piece)
            return
        out.append(b"".join(part))
        part.clear()


def _enc_deep(v, resp: int, out: list[bytes]) -> None:
    """_enc without recursion: aggregates push an iterator of their elements on a stack, so a
    reply nested thousands of levels deep is encoded in constant Python stack depth."""
    stack = [iter((v,))]
    while stack:
        for x in stack[-1]:
            t = type(x)
            if t is list or t is tuple or t is SetReply or t is set or t is frozenset or t is Push:
                if t is list or t is tuple:
                    out.append(b"*%d\r\n" % len(x))
                elif t is Push:
                    out.append((b"*%d\r\n" if resp == 2 else b">%d\r\n") % len(x))
                else:
                    out.append((b"*%d\r\n" if resp == 2 else b"~%d\r\n") % len(x))
                stack.append(iter(x))
                break
            if t is MapPairs:
                out.append((b"*%d\r\n" if resp == 2 else b"%%%d\r\n") % (len(x) if resp == 2 else len(x) // 2))
                stack.append(iter(x))
                break
            if t is dict:
                out.append((b"*%d\r\n" if resp == 2 else b"%%%d\r\n") % (2 * len(x) if resp == 2 else len(x)))
                stack.append(iter([e for kv in x.items() for e in kv]))
                break
            if t is MultiReply:
                stack.append(iter(x))
                break
            _enc(x, resp, out)  # not an aggregate: no recursion
        else:
            stack.pop()
