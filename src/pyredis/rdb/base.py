"""RDB primitives: the format's constants (version, object types, opcodes), RdbError, CRC-64
(Jones, as Redis), and the two building blocks of every record - lengths and strings - written
with enc_len / enc_string (integer, LZF or raw encoding, as Redis chooses) and read with Reader.

API:
    enc_len(n) -> bytes; enc_string(s, compress=True) -> bytes
    r = Reader(data, pos); r.byte() / r.take(n) / r.length() / r.plain_length() / r.string()
        / r.binary_double() / r.old_double()       # RdbError at the end of the data
    crc64(data, crc=0) -> int
"""

from __future__ import annotations

import struct

import crcmod
import lzf

from ..util import string2ll

# The version written and the newest one read depend on the server's compat-version mode
# (version.Compat.rdb_version / rdb_accepts: 10 for Redis 7.0, 11 for 7.2 and Valkey 8.0, 12 for
# Redis 7.4): rdb_versions(cfg) gives both.


def rdb_versions(cfg) -> tuple[int, int]:
    """(the RDB version written, the newest one read) by a server with config `cfg`."""
    from ..version import DEFAULT_MODE, compat_for

    # (a plain dict of directives, as tools and tests pass, may leave the mode out: the default)
    c = compat_for(cfg.get("compat-version", DEFAULT_MODE) if isinstance(cfg, dict) else cfg["compat-version"])
    return c.rdb_version, c.rdb_accepts

# object types
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_MODULE_PRE_GA, T_MODULE_2 = 6, 7
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST = 9, 10, 11, 12, 13
T_LIST_QUICKLIST, T_STREAM_LISTPACKS, T_HASH_LISTPACK, T_ZSET_LISTPACK = 14, 15, 16, 17
T_LIST_QUICKLIST_2, T_STREAM_LISTPACKS_2, T_SET_LISTPACK, T_STREAM_LISTPACKS_3 = 18, 19, 20, 21
# hashes with field deadlines (Redis 7.4): _PRE_GA from its release candidates (absolute deadlines,
# no minimum up front), then the GA layouts (the hash's minimum deadline first)
T_HASH_METADATA_PRE_GA, T_HASH_LISTPACK_EX_PRE_GA, T_HASH_METADATA, T_HASH_LISTPACK_EX = 22, 23, 24, 25
# opcodes
OP_FUNCTION_PRE_GA, OP_FUNCTION2, OP_MODULE_AUX, OP_IDLE, OP_FREQ = 246, 245, 247, 248, 249
OP_AUX, OP_RESIZEDB, OP_EXPIRETIME_MS, OP_EXPIRETIME, OP_SELECTDB, OP_EOF = 250, 251, 252, 253, 254, 255

_crc64 = crcmod.mkCrcFun(0x1AD93D23594C935A9, initCrc=0, rev=True, xorOut=0)


def crc64(data: bytes, crc: int = 0) -> int:
    return _crc64(data, crc)


class RdbError(ValueError):
    """A malformed or unsupported RDB (message says what and where)."""




def enc_len(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def enc_string(s: bytes, compress: bool = True) -> bytes:
    if type(s) is bytearray:  # a string changed in place (lzf takes read-only buffers only)
        s = bytes(s)
    n = len(s)
    if n <= 11:
        v = string2ll(s) if n else None
        if v is not None:
            if -128 <= v <= 127:
                return b"\xc0" + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + struct.pack("<h", v)
            if -2147483648 <= v <= 2147483647:
                return b"\xc2" + struct.pack("<i", v)
    if compress and n > 20:
        c = lzf.compress(s, n - 4)  # only worth it when at least 4 bytes are saved, as Redis
        if c:
            return b"\xc3" + enc_len(len(c)) + enc_len(n) + c
    return enc_len(n) + s



class Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        p = self.pos
        if p + n > len(self.data):
            raise RdbError(f"unexpected end of file at offset {p}")
        self.pos = p + n
        return self.data[p : p + n]

    def byte(self) -> int:
        p = self.pos
        if p >= len(self.data):
            raise RdbError(f"unexpected end of file at offset {p}")
        self.pos = p + 1
        return self.data[p]

    def length(self) -> tuple[int, bool]:
        """(value, is_encoded): is_encoded means the special 11xxxxxx string encodings."""
        b = self.byte()
        t = b >> 6
        if t == 0:
            return b & 0x3F, False
        if t == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if t == 3:
            return b & 0x3F, True
        if b == 0x80:
            return struct.unpack(">I", self.take(4))[0], False
        if b == 0x81:
            return struct.unpack(">Q", self.take(8))[0], False
        raise RdbError(f"bad length encoding {b:#x} at offset {self.pos - 1}")

    def plain_length(self) -> int:
        n, enc = self.length()
        if enc:
            raise RdbError(f"unexpected encoded length at offset {self.pos - 1}")
        return n

    def string(self) -> bytes:
        n, enc = self.length()
        if not enc:
            return self.take(n)
        if n == 0:
            return b"%d" % struct.unpack("<b", self.take(1))[0]
        if n == 1:
            return b"%d" % struct.unpack("<h", self.take(2))[0]
        if n == 2:
            return b"%d" % struct.unpack("<i", self.take(4))[0]
        if n == 3:
            clen = self.plain_length()
            ulen = self.plain_length()
            comp = self.take(clen)
            try:
                out = lzf.decompress(comp, ulen) if ulen else b""
            except Exception as e:
                raise RdbError(f"LZF decompression failed at offset {self.pos}: {e}") from None
            if out is None or len(out) != ulen:
                raise RdbError(f"LZF decompression failed at offset {self.pos}")
            return out
        raise RdbError(f"unknown string encoding {n} at offset {self.pos - 1}")

    def binary_double(self) -> float:
        return struct.unpack("<d", self.take(8))[0]

    def old_double(self) -> float:
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        return float(self.take(n))
