"""Redis's compact in-RDB encodings: listpack (read and write), ziplist, intset and zipmap
(read only: Redis 7 still loads them from older files).

Every reader returns a list of elements, each `bytes` (integers are rendered in decimal as
Redis returns them to clients). Malformed input raises ValueError.
"""

from __future__ import annotations

import struct

from ..util import lp_backlen_size, string2ll

# --- listpack ---------------------------------------------------------------------------


def _lp_backlen(n: int) -> bytes:
    """lpEncodeBacklen: the entry length, 7 bits per byte, read right to left."""
    if n <= 127:
        return bytes([n])
    if n < 16383:
        return bytes([n >> 7, (n & 127) | 128])
    if n < 2097151:
        return bytes([n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128])
    if n < 268435455:
        return bytes([n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128])
    return bytes([n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128])


def lp_encode_entry(e: bytes) -> bytes:
    """One listpack entry (encoding + data + backlen), choosing ints as lpEncodeGetType does."""
    if len(e) <= 20:
        v = string2ll(e)
    else:
        v = None
    if v is not None:
        if 0 <= v <= 127:
            body = bytes([v])
        elif -4096 <= v <= 4095:
            u = v & 0x1FFF
            body = bytes([0xC0 | (u >> 8), u & 0xFF])
        elif -32768 <= v <= 32767:
            body = b"\xf1" + struct.pack("<h", v)
        elif -8388608 <= v <= 8388607:
            body = b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little")
        elif -2147483648 <= v <= 2147483647:
            body = b"\xf3" + struct.pack("<i", v)
        else:
            body = b"\xf4" + struct.pack("<q", v)
    else:
        n = len(e)
        if n < 64:
            body = bytes([0x80 | n]) + e
        elif n < 4096:
            body = bytes([0xE0 | (n >> 8), n & 0xFF]) + e
        else:
            body = b"\xf0" + struct.pack("<I", n) + e
    return body + _lp_backlen(len(body))


def lp_build(entries) -> bytes:
    parts = [lp_encode_entry(e) for e in entries]
    count = len(parts)
    body = b"".join(parts)
    total = 6 + len(body) + 1
    return struct.pack("<IH", total, count if count < 65535 else 65535) + body + b"\xff"


def lp_entry_size(e: bytes) -> int:
    return len(lp_encode_entry(e))


def lp_read(data: bytes) -> list[bytes]:
    if len(data) < 7:
        raise ValueError("listpack too short")
    total, _count = struct.unpack_from("<IH", data, 0)
    if total != len(data) or data[-1] != 0xFF:
        raise ValueError("listpack length mismatch")
    out: list[bytes] = []
    i = 6
    end = len(data) - 1
    while i < end:
        b = data[i]
        if b < 0x80:
            v: bytes | int = b
            size = 1
        elif b < 0xC0:
            n = b & 0x3F
            v = data[i + 1 : i + 1 + n]
            size = 1 + n
        elif b < 0xE0:
            u = ((b & 0x1F) << 8) | data[i + 1]
            v = u - 0x2000 if u >= 0x1000 else u
            size = 2
        elif b < 0xF0:
            n = ((b & 0x0F) << 8) | data[i + 1]
            v = data[i + 2 : i + 2 + n]
            size = 2 + n
        elif b == 0xF0:
            n = struct.unpack_from("<I", data, i + 1)[0]
            v = data[i + 5 : i + 5 + n]
            size = 5 + n
        elif b == 0xF1:
            v = struct.unpack_from("<h", data, i + 1)[0]
            size = 3
        elif b == 0xF2:
            u = int.from_bytes(data[i + 1 : i + 4], "little")
            v = u - 0x1000000 if u >= 0x800000 else u
            size = 4
        elif b == 0xF3:
            v = struct.unpack_from("<i", data, i + 1)[0]
            size = 5
        elif b == 0xF4:
            v = struct.unpack_from("<q", data, i + 1)[0]
            size = 9
        else:
            raise ValueError(f"bad listpack encoding byte {b:#x}")
        if i + size > end:
            raise ValueError("listpack entry overflows")
        out.append(v if type(v) is bytes else b"%d" % v)
        i += size + lp_backlen_size(size)
    if i != end:
        raise ValueError("listpack entries overflow")
    return out


# --- ziplist (read only) ------------------------------------------------------------------


def zl_read(data: bytes) -> list[bytes]:
    if len(data) < 11:
        raise ValueError("ziplist too short")
    zlbytes, _tail, _n = struct.unpack_from("<IIH", data, 0)
    if zlbytes != len(data) or data[-1] != 0xFF:
        raise ValueError("ziplist length mismatch")
    out: list[bytes] = []
    i = 10
    end = len(data) - 1
    while i < end:
        i += 1 if data[i] < 254 else 5  # prevlen
        b = data[i]
        t = b >> 6
        if t == 0:
            n = b & 0x3F
            out.append(data[i + 1 : i + 1 + n])
            i += 1 + n
        elif t == 1:
            n = ((b & 0x3F) << 8) | data[i + 1]
            out.append(data[i + 2 : i + 2 + n])
            i += 2 + n
        elif b == 0x80:
            n = struct.unpack_from(">I", data, i + 1)[0]
            out.append(data[i + 5 : i + 5 + n])
            i += 5 + n
        elif b == 0xC0:
            out.append(b"%d" % struct.unpack_from("<h", data, i + 1)[0])
            i += 3
        elif b == 0xD0:
            out.append(b"%d" % struct.unpack_from("<i", data, i + 1)[0])
            i += 5
        elif b == 0xE0:
            out.append(b"%d" % struct.unpack_from("<q", data, i + 1)[0])
            i += 9
        elif b == 0xF0:
            u = int.from_bytes(data[i + 1 : i + 4], "little")
            out.append(b"%d" % (u - 0x1000000 if u >= 0x800000 else u))
            i += 4
        elif b == 0xFE:
            out.append(b"%d" % struct.unpack_from("<b", data, i + 1)[0])
            i += 2
        elif 0xF1 <= b <= 0xFD:
            out.append(b"%d" % ((b & 0x0F) - 1))
            i += 1
        else:
            raise ValueError(f"bad ziplist encoding byte {b:#x}")
    if i != end:
        raise ValueError("ziplist entries overflow")
    return out


# --- intset ----------------------------------------------------------------------------------


def intset_read(data: bytes) -> list[bytes]:
    enc, n = struct.unpack_from("<II", data, 0)
    fmt = {2: "h", 4: "i", 8: "q"}.get(enc)
    if fmt is None or len(data) != 8 + enc * n:
        raise ValueError("bad intset")
    return [b"%d" % v for v in struct.unpack_from("<%d%s" % (n, fmt), data, 8)]


def intset_build(values: list[int]) -> bytes:
    values = sorted(values)
    lo = values[0] if values else 0
    hi = values[-1] if values else 0
    if -32768 <= lo and hi <= 32767:
        enc, fmt = 2, "h"
    elif -2147483648 <= lo and hi <= 2147483647:
        enc, fmt = 4, "i"
    else:
        enc, fmt = 8, "q"
    return struct.pack("<II", enc, len(values)) + struct.pack("<%d%s" % (len(values), fmt), *values)


# --- zipmap (read only) -------------------------------------------------------------------------


def zipmap_read(data: bytes) -> list[bytes]:
    out: list[bytes] = []
    i = 1
    while i < len(data) and data[i] != 0xFF:
        for is_value in (False, True):
            b = data[i]
            if b < 254:
                n = b
                i += 1
            elif b == 254:
                n = struct.unpack_from("<I", data, i + 1)[0]
                i += 5
            else:
                raise ValueError("bad zipmap")
            free = 0
            if is_value:
                free = data[i]
                i += 1
            out.append(data[i : i + n])
            i += n + free
    return out
