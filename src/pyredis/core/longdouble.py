"""x86-64 `long double` (80-bit extended precision) emulation for INCRBYFLOAT.

Redis parses these operands with strtold, adds them in long double, and prints the result with
"%.17Lf" minus trailing zeros (ld2string LD_STR_HUMAN). Doing that with Python floats gives
different digits (10.5 + 0.1 would print 10.59999999999999964), so values here are exact
binary numbers `sign * m * 2**q` with a 64-bit significand, rounded half-to-even like the FPU.
Magnitudes up to LDBL_MAX (~1.19e4932) work, printed in full as Redis does.

API:
    parse_ld(b) -> LD | None         # Redis's string2ld: None when not a valid long double
    ld_add(a, b) -> LD | None        # None when the sum is +-inf (or NaN)
    format_ld_human(x) -> bytes      # ld2string(..., LD_STR_HUMAN)
An LD is a tuple (sign, m, q): sign in (1, -1), m >= 0 integer; or the string "inf"/"-inf".
"""

from __future__ import annotations

import re

_MANT_BITS = 64
_QMIN = -16445  # exponent of the smallest subnormal: 2**-16445
_QMAX = 16320  # largest finite value is (2**64 - 1) * 2**16320
_MAX_CHARS = 5 * 1024  # MAX_LONG_DOUBLE_CHARS

_NUM_RE = re.compile(
    rb"([+-]?)(?:"
    rb"(inf(?:inity)?)"
    rb"|(nan(?:\([0-9a-z_]*\))?)"
    rb"|0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?[0-9]+))?"
    rb"|([0-9]*)(?:\.([0-9]*))?(?:e([+-]?[0-9]+))?"
    rb")\Z",
    re.I,
)


def _round(n: int, d: int, shift: int):
    """Round the positive rational n/d * 2**shift to a long double: (m, q) or None on overflow."""
    k = n.bit_length() - d.bit_length()  # floor(log2(n/d)) is k or k-1
    if (n << -k if k < 0 else n) < (d << k if k > 0 else d):
        k -= 1
    q = k + shift - (_MANT_BITS - 1)
    if q < _QMIN:
        q = _QMIN
    e = q - shift  # m = n / (d * 2**e)
    if e >= 0:
        num, den = n, d << e
    else:
        num, den = n << -e, d
    m, r = divmod(num, den)
    r2 = r << 1
    if r2 > den or (r2 == den and m & 1):
        m += 1
        if m == 1 << _MANT_BITS:
            m >>= 1
            q += 1
    if q > _QMAX:
        return None
    return m, q


def _exp(b: bytes | None) -> int:
    """An exponent's value, clamped far beyond any representable magnitude."""
    if not b:
        return 0
    neg = b[:1] == b"-"
    digits = b.lstrip(b"+-").lstrip(b"0")
    v = int(digits or b"0") if len(digits) <= 9 else 10**9
    return -v if neg else v


def _dec_int(digits: bytes) -> int:
    """int(digits) without tripping Python's 4300-digit conversion limit."""
    if len(digits) <= 4000:
        return int(digits)
    return _dec_int(digits[:-4000]) * 10**4000 + int(digits[-4000:])


def _int_str(n: int) -> bytes:
    """b"%d" % n (n >= 0) without tripping Python's 4300-digit conversion limit."""
    if n < 10**4000:
        return b"%d" % n
    head, tail = divmod(n, 10**4000)
    return _int_str(head) + b"%04000d" % tail


def parse_ld(s: bytes):
    """string2ld: the whole string must be a strtold number; no leading space, no NaN,
    no overflow, no underflow to zero."""
    n = len(s)
    if n == 0 or n >= _MAX_CHARS:
        return None
    m = _NUM_RE.match(s)  # an embedded NUL fails the match, as strtold stops short of slen
    if m is None:
        return None
    sign_b, inf, nan, hint, hfrac, hexp, dint, dfrac, dexp = m.groups()
    sign = -1 if sign_b == b"-" else 1
    if nan is not None:
        return None
    if inf is not None:
        return "-inf" if sign < 0 else "inf"
    if hint is not None:
        hfrac = hfrac or b""
        digits = (hint + hfrac).lstrip(b"0")
        if not hint and not hfrac:
            return None
        if not digits:
            return (sign, 0, 0)
        exp2 = _exp(hexp) - 4 * len(hfrac)
        top = len(digits) * 4 + exp2
        if top > _QMAX + _MANT_BITS + 8:
            return None
        if top < _QMIN - 8:
            return None
        r = _round(int(digits, 16), 1, exp2)
    else:
        dint = dint or b""
        dfrac = dfrac or b""
        if not dint and not dfrac:
            return None
        digits = (dint + dfrac).lstrip(b"0")
        if not digits:
            return (sign, 0, 0)
        exp10 = _exp(dexp) - len(dfrac)
        mag = len(digits) + exp10  # the value is in [10**(mag-1), 10**mag)
        if mag > 4934:  # beyond LDBL_MAX (1.19e4932)
            return None
        if mag < -4952:  # below half the smallest subnormal (3.6e-4951)
            return None
        mant = _dec_int(digits)
        if exp10 >= 0:
            r = _round(mant * 10**exp10, 1, 0)
        else:
            r = _round(mant, 10**-exp10, 0)
    if r is None or r[0] == 0:
        return None  # ERANGE: overflow, or underflow to zero
    return (sign, r[0], r[1])


def ld_add(a, b):
    """a + b rounded to long double; None when the result is infinite or NaN."""
    if type(a) is str or type(b) is str:
        return None  # inf + x is inf, inf - inf is NaN: both refused by the caller
    sa, ma, qa = a
    sb, mb, qb = b
    if ma == 0:
        return b if mb else (1, 0, 0)
    if mb == 0:
        return a
    q = qa if qa < qb else qb
    n = sa * (ma << (qa - q)) + sb * (mb << (qb - q))
    if n == 0:
        return (1, 0, 0)
    r = _round(abs(n), 1, q)
    if r is None:
        return None
    return (1 if n > 0 else -1, r[0], r[1])


def format_ld_human(x) -> bytes:
    """ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros (and "-0" as "0")."""
    if type(x) is str:
        return x.encode()
    sign, m, q = x
    if q >= 0:
        scaled = (m << q) * 10**17
    else:  # round(m * 2**q * 10**17), ties to even
        den = 1 << -q
        scaled, r = divmod(m * 10**17, den)
        r2 = r << 1
        if r2 > den or (r2 == den and scaled & 1):
            scaled += 1
    ip, fp = divmod(scaled, 10**17)
    s = (_int_str(ip) + b".%017d" % fp).rstrip(b"0")
    if s.endswith(b"."):
        s = s[:-1]
    if sign < 0 and s != b"0":
        s = b"-" + s
    return s
