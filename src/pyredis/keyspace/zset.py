"""The sorted set value: a dict member -> score plus an ordered index of (score, member).

Redis keeps a sorted set in a listpack while it is small and converts it, once and for good,
to a skiplist + dict when it grows past `zset-max-listpack-entries` members or when a member
longer than `zset-max-listpack-value` bytes is added. `ZSet.lp` records that, so OBJECT
ENCODING answers like Redis. Sets built whole (ZUNIONSTORE, ZRANGESTORE...) are listpack iff
they fit (zsetConvertToListpackIfNeeded); see `fresh_encoding`.

The order is Redis's: by score, then by member bytes (memcmp). The index is a
sortedcontainers.SortedList of (score, member) tuples: O(log n) insert, delete, rank and
bisect by score; range by rank is a slice.

A listpack stores scores as text, and "-0" comes back as the integer 0: a -0.0 score added
while the set is a listpack is stored as 0.0 (the skiplist keeps -0.0), as in Redis.

API:
    z = ZSet(lp=True)
    len(z); z.scores[m] -> float; z.sl -> SortedList[(score, member)]
    z.insert(member, score)          # member must be absent; no encoding check
    z.set_score(member, old, new)    # member present with score `old`
    z.remove(member) -> bool
    z.rank(member) -> int | None     # 0-based ascending
    z.add_checked(member, score, cfg_values)  # ZADD's insert: converts to skiplist when needed
    z.score_bounds(min, minex, max, maxex) -> (lo, hi)   # indexes into z.sl, hi exclusive
    z.lex_bounds(spec, reverse) -> (lo, hi)               # see LexRange
    z.copy() -> ZSet
    fresh_encoding(z, cfg_values)    # listpack iff it fits (sets built whole, RDB load)
    make_zset(pairs, cfg_values)     # from (member, score) pairs, encoding as fresh_encoding
"""

from __future__ import annotations

import math
import re

from sortedcontainers import SortedList

from .types import register_type

try:
    from .types import register_copier
except ImportError:  # pragma: no cover
    register_copier = None

_nextafter = math.nextafter
_INF = math.inf


class ZSet:
    __slots__ = ("scores", "sl", "lp")

    def __init__(self, lp: bool = True) -> None:
        self.scores: dict[bytes, float] = {}
        self.sl = SortedList()
        self.lp = lp

    def __len__(self) -> int:
        return len(self.scores)

    def __repr__(self) -> str:
        return f"ZSet({list(self.sl)!r}, lp={self.lp})"

    def insert(self, member: bytes, score: float) -> None:
        if self.lp and score == 0.0:
            score = 0.0
        self.scores[member] = score
        self.sl.add((score, member))

    def set_score(self, member: bytes, old: float, new: float) -> None:
        if self.lp and new == 0.0:
            new = 0.0
        sl = self.sl
        sl.remove((old, member))
        sl.add((new, member))
        self.scores[member] = new

    def remove(self, member: bytes) -> bool:
        s = self.scores.pop(member, None)
        if s is None:
            return False
        self.sl.remove((s, member))
        return True

    def rank(self, member: bytes) -> int | None:
        s = self.scores.get(member)
        if s is None:
            return None
        return self.sl.index((s, member))

    def add_checked(self, member: bytes, score: float, cfg: dict) -> None:
        """zsetAdd for a new member: the listpack converts before the insert when it would
        exceed zset-max-listpack-entries or the member is too long."""
        if self.lp and (len(self.scores) + 1 > cfg["zset-max-listpack-entries"]
                        or len(member) > cfg["zset-max-listpack-value"]):
            self.lp = False
        self.insert(member, score)

    def copy(self) -> ZSet:
        z = ZSet(self.lp)
        z.scores = dict(self.scores)
        z.sl = SortedList(self.sl)
        return z

    # --- ranges ------------------------------------------------------------------------
    def score_bounds(self, mn: float, minex: bool, mx: float, maxex: bool) -> tuple[int, int]:
        """Indexes [lo, hi) of the elements with min <= score <= max (exclusive as asked)."""
        sl = self.sl
        if minex:
            if mn == _INF:
                return 0, 0
            lo = sl.bisect_left((_nextafter(mn, _INF), b""))
        else:
            lo = sl.bisect_left((mn, b""))
        if maxex:
            hi = sl.bisect_left((mx, b""))
        elif mx == _INF:
            hi = len(sl)
        else:
            hi = sl.bisect_left((_nextafter(mx, _INF), b""))
        if hi < lo:
            hi = lo
        return lo, hi

    def lex_bounds(self, r: LexRange, reverse: bool = False) -> tuple[int, int]:
        """Indexes [lo, hi) of the members in the lex range. Redis assumes equal scores; with
        mixed scores it walks the listpack from one end (zzlFirstInLexRange /
        zzlLastInLexRange) and stops at the first member out of range: so does this."""
        sl = self.sl
        n = len(sl)
        if n == 0 or r.empty():
            return 0, 0
        gte, lte = r.gte_min, r.lte_max
        if not gte(sl[-1][1]) or not lte(sl[0][1]):
            return 0, 0
        s0 = sl[0][0]
        if s0 == sl[-1][0]:
            # uniform scores: members are sorted, bisect
            if r.min is None:
                lo = 0
            elif r.minex:
                lo = sl.bisect_right((s0, r.min))
            else:
                lo = sl.bisect_left((s0, r.min))
            if r.max is None:
                hi = n
            elif r.maxex:
                hi = sl.bisect_left((s0, r.max))
            else:
                hi = sl.bisect_right((s0, r.max))
            return lo, max(lo, hi)
        if not reverse:
            i = 0
            while i < n and not gte(sl[i][1]):
                i += 1
            if i == n or not lte(sl[i][1]):
                return 0, 0
            j = i + 1
            while j < n and lte(sl[j][1]):
                j += 1
            return i, j
        j = n - 1
        while j >= 0 and not lte(sl[j][1]):
            j -= 1
        if j < 0 or not gte(sl[j][1]):
            return 0, 0
        i = j - 1
        while i >= 0 and gte(sl[i][1]):
            i -= 1
        return i + 1, j + 1


class LexRange:
    """zlexrangespec: min/max are bytes, or None for '-' (min) / '+' (max) infinities.
    A '+' as min or '-' as max makes the range empty (they sort after/before everything)."""

    __slots__ = ("min", "minex", "max", "maxex", "min_inf", "max_inf")

    def __init__(self, mn, minex, mx, maxex, min_inf=0, max_inf=0) -> None:
        # min_inf/max_inf: -1 for '-', +1 for '+', 0 for a string
        self.min, self.minex, self.max, self.maxex = mn, minex, mx, maxex
        self.min_inf, self.max_inf = min_inf, max_inf

    def empty(self) -> bool:
        c = _cmplex(self.min, self.min_inf, self.max, self.max_inf)
        return c > 0 or (c == 0 and (self.minex or self.maxex))

    def gte_min(self, m: bytes) -> bool:
        if self.min_inf:
            return self.min_inf < 0
        return m > self.min if self.minex else m >= self.min

    def lte_max(self, m: bytes) -> bool:
        if self.max_inf:
            return self.max_inf > 0
        return m < self.max if self.maxex else m <= self.max


def _cmplex(a, ai, b, bi) -> int:
    """sdscmplex with shared.minstring/maxstring."""
    if ai or bi:
        if ai == bi:
            return 0
        if ai < 0 or bi > 0:
            return -1
        return 1
    return (a > b) - (a < b)


def parse_lex_item(b: bytes):
    """zslParseLexRangeItem -> (value, exclusive, inf) or None."""
    if not b:
        return None
    c = b[0]
    if c == 43 or c == 45:  # '+' '-'
        if len(b) > 1 and b[1] != 0:
            return None
        return None, True, (1 if c == 43 else -1)
    if c == 40:  # '('
        return b[1:], True, 0
    if c == 91:  # '['
        return b[1:], False, 0
    return None


def parse_lex_range(mn: bytes, mx: bytes) -> LexRange | None:
    a = parse_lex_item(mn)
    if a is None:
        return None
    b = parse_lex_item(mx)
    if b is None:
        return None
    return LexRange(a[0], a[1], b[0], b[1], a[2], b[2])


# --- number parsing ----------------------------------------------------------------------
_DEC = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_HEX = re.compile(rb"([+-]?)(0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?)\Z")
_INFRE = re.compile(rb"[+-]?(?:inf|infinity)\Z", re.I)
_NONZERO = re.compile(rb"[1-9a-fA-F]")
_CSPACE = b" \t\n\v\f\r"


_INF_WORDS = {b"inf": _INF, b"+inf": _INF, b"-inf": -_INF, b"infinity": _INF, b"+infinity": _INF,
              b"-infinity": -_INF}


def _strtod_whole(t: bytes) -> tuple[float, bool] | None:
    """strtod of the whole of `t` (no leading space): (value, erange) or None."""
    if not t.translate(None, b"0123456789"):
        # plain digits: float() and strtod agree; only overflow is possible
        v = float(t)
        return v, v == _INF
    w = _INF_WORDS.get(t)
    if w is not None:
        return w, False
    if _DEC.match(t):
        v = float(t)
        if v == _INF or v == -_INF:
            return v, True
        if v == 0.0:
            mant = t.split(b"e")[0].split(b"E")[0]
            return v, bool(_NONZERO.search(mant))
        return v, False
    m = _HEX.match(t)
    if m is not None:
        sign, body = m.groups()
        try:
            v = float.fromhex(body.decode())
        except OverflowError:
            return (-_INF if sign == b"-" else _INF), True
        if sign == b"-":
            v = -v
        if v == 0.0:
            mant = re.split(rb"[pP]", body[2:])[0]
            return v, bool(_NONZERO.search(mant))
        return v, False
    if _INFRE.match(t):
        return (-_INF if t[:1] == b"-" else _INF), False
    return None


def parse_score(b: bytes) -> float | None:
    """string2d (ZADD scores, ZINCRBY increments, WEIGHTS): the whole string, no leading
    space, no NaN, and no overflow or underflow to zero."""
    if not b or b[0] in _CSPACE:
        return None
    r = _strtod_whole(b)
    if r is None:
        return None
    v, erange = r
    if erange and (v == _INF or v == -_INF or v == 0.0):
        return None
    return v


def parse_range_float(b: bytes) -> float | None:
    """strtod as zslParseRange uses it: a C string (stops at NUL), leading spaces allowed,
    an empty string is 0, overflow gives +-inf; only NaN and trailing junk are rejected."""
    z = b.find(b"\0")
    if z >= 0:
        b = b[:z]
    if not b:
        return 0.0
    t = b.lstrip(_CSPACE)
    if not t:
        return None
    r = _strtod_whole(t)
    if r is None:
        return None
    return r[0]


_DBL_MIN = 2.2250738585072014e-308


def strtod_c(b: bytes, check_erange: bool = False) -> float | None:
    """strtod over a C string as SORT uses it: stops at NUL, leading spaces allowed, an empty
    string is 0; with check_erange, overflow, underflow and subnormal results (glibc sets
    ERANGE for them) are rejected too."""
    z = b.find(b"\0")
    if z >= 0:
        b = b[:z]
    if not b:
        return 0.0
    t = b.lstrip(_CSPACE)
    if not t:
        return None
    r = _strtod_whole(t)
    if r is None:
        return None
    v, erange = r
    if check_erange and (erange or (v != 0.0 and -_DBL_MIN < v < _DBL_MIN)):
        return None
    return v


def parse_score_range(mn: bytes, mx: bytes):
    """zslParseRange -> (min, minex, max, maxex) or None."""
    minex = mn[:1] == b"("
    a = parse_range_float(mn[1:] if minex else mn)
    if a is None:
        return None
    maxex = mx[:1] == b"("
    b = parse_range_float(mx[1:] if maxex else mx)
    if b is None:
        return None
    return a, minex, b, maxex


# --- encoding ----------------------------------------------------------------------------
def fresh_encoding(z: ZSet, cfg: dict) -> None:
    """zsetConvertToListpackIfNeeded for a set built whole."""
    if len(z.scores) > cfg["zset-max-listpack-entries"]:
        z.lp = False
        return
    limit = cfg["zset-max-listpack-value"]
    for m in z.scores:
        if len(m) > limit:
            z.lp = False
            return
    z.lp = True
    _normalize_zero(z)


def _normalize_zero(z: ZSet) -> None:
    if z.lp:
        for m, s in z.scores.items():
            if s == 0.0 and math.copysign(1.0, s) < 0:
                z.sl.remove((s, m))
                z.scores[m] = 0.0
                z.sl.add((0.0, m))


def listpack_score(s: float) -> bytes:
    """A score as a listpack holds it (zzlInsertAt, 7.0): an integer when double2ll accepts it
    (integral, |s| <= 2^62; so -0 becomes 0), else d2string's %.17g. Used by ZSCAN replies and
    by the RDB writer, so DUMP bytes equal Redis's."""
    if -4611686018427387904.0 <= s <= 4611686018427387904.0:
        i = int(s)
        if i == s:
            return b"%d" % i
    from ..protocol.encoder import format_double

    return format_double(s)


def make_zset(pairs, cfg: dict) -> ZSet:
    """A sorted set built whole from (member, score) pairs (last score wins)."""
    z = ZSet(False)
    sc = z.scores
    for m, s in pairs:
        sc[m] = s
    z.sl = SortedList((s, m) for m, s in sc.items())
    fresh_encoding(z, cfg)
    return z


def _encoding(z: ZSet, config) -> bytes:
    return b"listpack" if z.lp else b"skiplist"


register_type(ZSet, b"zset", _encoding)
if register_copier is not None:
    register_copier(ZSet, ZSet.copy)
