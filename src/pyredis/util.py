"""Small pure helpers shared by every layer: Redis's glob matching, number parsing and
sdssplitargs word splitting (the bytes splitter lives in protocol/parser.py, below this layer,
because the inline protocol needs it), and setcpuaffinity's CPU lists (*_cpulist directives)."""

from __future__ import annotations

import math
import os
import re
from functools import lru_cache

from .protocol.parser import sdssplitargs, string2ll

__all__ = ["parse_cpulist", "set_affinity", "glob_match", "string2ll", "parse_double", "compile_glob", "sdscatrepr",
           "sdssplitargs", "sdssplitargs_str", "lp_backlen_size", "lp_int_size", "lp_str_size"]


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _signed(c: int) -> int:
    """C `char` is signed: bytes >= 0x80 compare as negative numbers in [a-z] ranges."""
    return c - 256 if c > 127 else c


def _match(p: bytes, s: bytes, nocase: bool) -> bool:
    """Redis's stringmatchlen_impl (util.c, 7.0), without recursion.

    In Redis, a '*' tries the rest of the pattern at every later position of the string,
    recursively; when the innermost '*' runs out of positions it sets skipLongerMatches and
    every enclosing '*' gives up too. So only the most recent '*' is ever backtracked to:
    one (pattern, string) restart point is the whole state, and patterns with thousands of
    stars need no Python recursion. Like Redis (with its abusive-pattern protection), a
    pattern needing more than 1000 nested '*' levels matches nothing.
    """
    plen, slen = len(p), len(s)
    pi = si = 0
    star_pi = -1  # pattern index after the most recent '*'
    star_si = 0  # string index the rest of the pattern was last tried at
    depth = 0  # Redis's recursion depth: one level per '*' (backtracking never pops one)
    while True:
        failed = False
        while pi < plen and si < slen:
            c = p[pi]
            if c == 42:  # '*'
                while pi + 1 < plen and p[pi + 1] == 42:
                    pi += 1
                if pi + 1 == plen:
                    return True
                # Redis gives up on patterns nesting more than 1000 '*' recursions deep.
                depth += 1
                if depth > 1000:
                    return False
                pi += 1
                star_pi, star_si = pi, si
                continue
            if c == 63:  # '?'
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
                        lo, hi, x = _signed(p[pi]), _signed(p[pi + 2]), _signed(sc)
                        if lo > hi:
                            lo, hi = hi, lo
                        if nocase:
                            lo, hi, x = _lower(lo), _lower(hi), _lower(x)
                        pi += 2
                        if lo <= x <= hi:
                            matched = True
                    elif (pc == sc) if not nocase else (_lower(pc) == _lower(sc)):
                        matched = True
                    pi += 1
                if neg:
                    matched = not matched
                if not matched:
                    failed = True
                    break
                si += 1
            else:
                if c == 92 and plen - pi >= 2:
                    pi += 1
                    c = p[pi]
                if (c != s[si]) if not nocase else (_lower(c) != _lower(s[si])):
                    failed = True
                    break
                si += 1
            pi += 1
            if si == slen:
                while pi < plen and p[pi] == 42:
                    pi += 1
                break
        if not failed and pi == plen and si == slen:
            return True
        # Back to the most recent '*': let it swallow one more byte.
        if star_pi < 0:
            return False
        star_si += 1
        if star_si >= slen:
            return False
        pi, si = star_pi, star_si


_SPECIAL = re.compile(rb"[*?\[\\]")


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes, nocase: bool = False):
    """Return a predicate bytes -> bool equivalent to stringmatchlen(pattern, ...)."""
    if pattern == b"*":
        return bool  # stringmatchlen("*", "") is 0: the empty string matches no pattern
    m = _SPECIAL.search(pattern)
    if m is None:
        if nocase:
            pl = pattern.lower()
            return lambda s: s.lower() == pl
        return lambda s: s == pattern
    if not nocase and m.start() == len(pattern) - 1 and pattern[-1] == 42:
        prefix = pattern[:-1]
        return lambda s: s.startswith(prefix)
    return lambda s: _match(pattern, s, nocase)


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


_REPR_ESCAPES = {0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x07: "\\a", 0x08: "\\b"}


def sdscatrepr(s: bytes) -> str:
    """Redis's sdscatrepr: a double-quoted string with C escapes for the non-printable bytes
    (MONITOR lines, redis-cli's formatting)."""
    out = ['"']
    for b in s:
        e = _REPR_ESCAPES.get(b)
        if e is not None:
            out.append(e)
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)


def sdssplitargs_str(line: str) -> list[str] | None:
    """sdssplitargs for text read as str (redis.conf, the AOF manifest): the line's UTF-8
    bytes (surrogate escapes for undecodable bytes) are split and each word decoded back."""
    words = sdssplitargs(line.encode("utf-8", "surrogateescape"))
    if words is None:
        return None
    return [w.decode("utf-8", "surrogateescape") for w in words]


def parse_cpulist(text: str) -> set[int] | None:
    """setcpuaffinity's list: `0,2,4-7,8-15:2`; anything it cannot read is ignored (None), as
    Redis ignores it."""
    if not text:
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        rng, _, step_text = part.partition(":")
        lo_text, dash, hi_text = rng.partition("-")
        if not _digits(lo_text) or (dash and not _digits(hi_text)) or (step_text and not dash):
            return None
        a = int(lo_text)
        b = int(hi_text) if dash else a
        s = 1
        if step_text or part.endswith(":"):
            if not _digits(step_text) or int(step_text) == 0:
                return None
            s = int(step_text)
        if a > b:
            return None
        cpus.update(range(a, b + 1, s))
    return cpus


def _digits(t: str) -> bool:
    return bool(t) and t.isascii() and t.isdigit()


def set_affinity(text: str, tid: int = 0) -> None:
    """redisSetCpuAffinity for the calling thread (tid 0) or the thread `tid`."""
    cpus = parse_cpulist(text)
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(tid, cpus)
    except OSError:
        pass


def lp_backlen_size(n: int) -> int:
    """The bytes a listpack entry's back-length takes for an entry of n bytes (lpEncodeBacklen)."""
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


# --- listpack element sizes (encoding + data + backlen), as listpack.c --------------------
def lp_int_size(v: int) -> int:
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def lp_str_size(s: bytes) -> int:
    n = len(s)
    if n <= 20:
        v = string2ll(s)
        if v is not None:
            return lp_int_size(v)
    if n < 64:
        b = 1 + n
    elif n < 4096:
        b = 2 + n
    else:
        b = 5 + n
    return b + lp_backlen_size(b)
