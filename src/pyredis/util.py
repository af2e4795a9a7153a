"""Small pure helpers shared by every layer: Redis's glob matching and number parsing."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from .protocol.parser import string2ll

__all__ = ["glob_match", "string2ll", "parse_double", "compile_glob"]


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _match(p: bytes, pi: int, s: bytes, si: int, nocase: bool, nesting: int, skip: list[bool]) -> bool:
    """A port of Redis's stringmatchlen_impl (util.c), index-based."""
    if nesting > 1000:
        return False
    plen, slen = len(p), len(s)
    while pi < plen and si < slen:
        c = p[pi]
        if c == 42:  # '*'
            while pi + 1 < plen and p[pi + 1] == 42:
                pi += 1
            if pi + 1 == plen:
                return True
            while si < slen:
                if _match(p, pi + 1, s, si, nocase, nesting + 1, skip):
                    return True
                if skip[0]:
                    return False
                si += 1
            skip[0] = True
            return False
        elif c == 63:  # '?'
            si += 1
        elif c == 91:  # '['
            pi += 1
            neg = pi < plen and p[pi] == 94
            if neg:
                pi += 1
            matched = False
            sc = s[si]
            while True:
                pc = p[pi] if pi < plen else 0
                if pc == 92 and plen - pi >= 2:
                    pi += 1
                    if p[pi] == sc:
                        matched = True
                elif pc == 93:
                    break
                elif pi >= plen:
                    pi -= 1
                    break
                elif plen - pi >= 3 and p[pi + 1] == 45:
                    start, end, x = p[pi], p[pi + 2], sc
                    if start > end:
                        start, end = end, start
                    if nocase:
                        start, end, x = _lower(start), _lower(end), _lower(x)
                    pi += 2
                    if start <= x <= end:
                        matched = True
                else:
                    if (pc == sc) if not nocase else (_lower(pc) == _lower(sc)):
                        matched = True
                pi += 1
            if neg:
                matched = not matched
            if not matched:
                return False
            si += 1
        else:
            if c == 92 and plen - pi >= 2:
                pi += 1
                c = p[pi]
            if (c != s[si]) if not nocase else (_lower(c) != _lower(s[si])):
                return False
            si += 1
        pi += 1
        if si == slen:
            while pi < plen and p[pi] == 42:
                pi += 1
            break
    return pi == plen and si == slen


_SPECIAL = re.compile(rb"[*?\[\\]")


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes, nocase: bool = False):
    """Return a predicate bytes -> bool equivalent to stringmatchlen(pattern, ...)."""
    if pattern == b"*":
        return lambda s: True
    m = _SPECIAL.search(pattern)
    if m is None:
        if nocase:
            pl = pattern.lower()
            return lambda s: s.lower() == pl
        return lambda s: s == pattern
    if not nocase and m.start() == len(pattern) - 1 and pattern[-1] == 42:
        prefix = pattern[:-1]
        return lambda s: s.startswith(prefix)
    return lambda s: _match(pattern, 0, s, 0, nocase, 0, [False])


def glob_match(pattern: bytes, s: bytes, nocase: bool = False) -> bool:
    return compile_glob(pattern, nocase)(s)


_FLOAT_RE = re.compile(rb"\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)\s*", re.I)


def parse_double(s: bytes) -> float | None:
    """Redis's string2d / getDoubleFromObject: strtod of the whole string, no spaces, no NaN."""
    if not s or len(s) > 5000 or s[0:1].isspace() or s[-1:].isspace():
        return None
    try:
        t = s.decode("ascii")
    except UnicodeDecodeError:
        return None
    tl = t.lower()
    if "nan" in tl:
        return None
    if "x" in tl:  # strtod accepts hex floats
        try:
            return float.fromhex(t)
        except ValueError:
            return None
    if "_" in t:
        return None
    try:
        v = float(t)
    except ValueError:
        return None
    if math.isnan(v):
        return None
    return v
