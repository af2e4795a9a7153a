"""encode(value, resp) -> bytes. The only place that knows RESP2 from RESP3.

Scores and doubles are formatted as Redis does (%.17g, `inf`/`-inf`, integers without `.0`
in RESP2 bulk form via format_double).
"""

from __future__ import annotations

import math

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
_SIMPLE_CACHE = {b"OK": b"+OK\r\n", b"PONG": b"+PONG\r\n", b"QUEUED": b"+QUEUED\r\n"}
_ARR_CACHE = [b"*%d\r\n" % i for i in range(0, 1025)]
# Aggregates longer than this are encoded in joined chunks of this many elements (_enc_chunked).
CHUNK = 1024


def format_double(d: float) -> bytes:
    """Redis's humanfriendly-free double formatting for replies (%.17g; inf/-inf/nan)."""
    if math.isinf(d):
        return b"inf" if d > 0 else b"-inf"
    if d != d:
        return b"nan"
    # Redis uses %.17g, which prints integers without a decimal point.
    s = b"%.17g" % d
    return s


def encode(v, resp: int) -> bytes:
    out: list[bytes] = []
    _enc(v, resp, out)
    return b"".join(out)


def encode_into(v, resp: int, out: list[bytes]) -> None:
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
        if n > CHUNK:
            _enc_chunked(v, resp, out)
            return
        for x in v:
            tx = type(x)
            if tx is bytes:
                m = len(x)
                out.append(_LEN_CACHE[m] if m <= 1024 else b"$%d\r\n" % m)
                out.append(x)
                out.append(b"\r\n")
            else:
                _enc(x, resp, out)
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
            _enc(k, resp, out)
            _enc(x, resp, out)
    elif t is set or t is frozenset or t is SetReply:
        out.append((b"*%d\r\n" if resp == 2 else b"~%d\r\n") % len(v))
        if len(v) > CHUNK:
            _enc_chunked(v, resp, out)
            return
        for x in v:
            _enc(x, resp, out)
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
        for x in v:
            _enc(x, resp, out)
    elif t is Push:
        out.append((b"*%d\r\n" if resp == 2 else b">%d\r\n") % len(v))
        for x in v:
            _enc(x, resp, out)
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
        for x in v:
            _enc(x, resp, out)
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


def _enc_chunked(v, resp: int, out: list[bytes]) -> None:
    """The elements of a large aggregate, CHUNK at a time, each chunk joined into one bytes
    object: a reply of millions of elements holds one object per chunk, not three per element
    (SRANDMEMBER s -10000000 peaks at a few times its size, not forty)."""
    part: list[bytes] = []
    append = part.append
    k = 0
    for x in v:
        if type(x) is bytes:
            m = len(x)
            append(_LEN_CACHE[m] if m <= 1024 else b"$%d\r\n" % m)
            append(x)
            append(b"\r\n")
        else:
            _enc(x, resp, part)
        k += 1
        if k == CHUNK:
            out.append(b"".join(part))
            part.clear()
            k = 0
    if part:
        out.append(b"".join(part))


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
