"""struct: Roberto Ierusalimschy's struct library as Redis 7.0 bundles it: pack, unpack, size.

API: struct_pack, struct_unpack, struct_size (each returning (ok, value...)).
"""

from __future__ import annotations

import struct as _st


from .bridge import argerr, fmt14, num, tname

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


def struct_pack(*args):
    fmt = args[0] if args else None
    if not isinstance(fmt, bytes):
        return argerr(1, "pack", "string expected, got " + tname(fmt))
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
                v = num(a)
                if v is None:
                    return argerr(argi, "pack", "number expected, got " + tname(a))
                iv = int(v) & ((1 << (8 * size)) - 1) if size else 0
                out += iv.to_bytes(size, "big" if endian == ">" else "little")
            elif opt in "fd":
                v = num(a)
                if v is None:
                    return argerr(argi, "pack", "number expected, got " + tname(a))
                out += _st.pack(endian + opt, float(v))
            elif opt == "c":
                if not isinstance(a, bytes):
                    if isinstance(a, (int, float)) and not isinstance(a, bool):
                        a = fmt14(float(a))
                    else:
                        return argerr(argi, "pack", "string expected, got " + tname(a))
                ln = size if size else len(a)
                if len(a) < ln:
                    return argerr(argi, "pack", "string too short")
                out += a[:ln]
            elif opt == "s":
                if not isinstance(a, bytes):
                    if isinstance(a, (int, float)) and not isinstance(a, bool):
                        a = fmt14(float(a))
                    else:
                        return argerr(argi, "pack", "string expected, got " + tname(a))
                if b"\x00" in a:
                    return argerr(argi, "pack", "string contains zeros")
                out += a + b"\x00"
    except _StructError as e:
        return argerr(1, "pack", str(e))
    return True, bytes(out)


def struct_unpack(*args):
    fmt = args[0] if args else None
    data = args[1] if len(args) > 1 else None
    if not isinstance(fmt, bytes):
        return argerr(1, "unpack", "string expected, got " + tname(fmt))
    if not isinstance(data, bytes):
        return argerr(2, "unpack", "string expected, got " + tname(data))
    pos = 0
    if len(args) > 2 and args[2] is not None:
        p = num(args[2])
        if p is None:
            return argerr(3, "unpack", "number expected, got " + tname(args[2]))
        pos = int(p) - 1
        if pos < 0:
            pos = 0
    out = []
    ld = len(data)
    try:
        for opt, size, endian, align in _struct_items(fmt):
            pos += _pad(pos, size, align, opt)
            if opt != "s" and pos + size > ld:
                return argerr(2, "unpack", "data string too short")
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
                        return argerr(1, "unpack", "format `c0' needs a previous size")
                    ln = int(out.pop())
                    if pos + ln > ld:
                        return argerr(2, "unpack", "data string too short")
                out.append(data[pos:pos + ln])
                pos += ln
            elif opt == "s":
                e = data.find(b"\x00", pos)
                if e < 0:
                    return argerr(2, "unpack", "unfinished string in data")
                out.append(data[pos:e])
                pos = e + 1
    except _StructError as e:
        return argerr(1, "unpack", str(e))
    out.append(pos + 1)
    return True, out


def struct_size(*args):
    fmt = args[0] if args else None
    if not isinstance(fmt, bytes):
        return argerr(1, "size", "string expected, got " + tname(fmt))
    pos = 0
    try:
        for opt, size, endian, align in _struct_items(fmt):
            pos += _pad(pos, size, align, opt)
            if opt == "s" or (opt == "c" and size == 0):
                return argerr(1, "size", "options 'c0' - 's' have undefined sizes")
            pos += size
    except _StructError as e:
        return argerr(1, "size", str(e))
    return True, pos
