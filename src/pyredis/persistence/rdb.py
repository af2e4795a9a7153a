"""RDB: Redis's snapshot format, written at version 10 (Redis 7.0) and read up to version 11
(Redis 7.2, Valkey 7.2/8). The same object encoding serves DUMP/RESTORE payloads and the
RDB preamble of the AOF base file.

API:
    data = rdb_bytes(state, functions=b"...")     # a whole RDB file in memory
    save(state, path)                             # atomically: temp file, fsync, rename
    load(path_or_bytes, state) -> RdbInfo          # fills state.dbs (and function libraries)
    dump_payload(value, config) -> bytes          # DUMP
    restore_payload(payload, config) -> value     # RESTORE (checks version and CRC)

What pyredis writes: strings (integer / LZF / raw encodings as Redis chooses), lists as
QUICKLIST_2 of listpacks, hashes and sorted sets as listpacks while their encoding is listpack
and as plain HASH / ZSET_2 otherwise, sets as intsets or plain SET - the types Redis 7.0
itself writes, so real Redis loads them and DUMP of a small value is byte-identical.
What it reads: everything Redis 7.0/7.2 writes, including the legacy ziplist, zipmap and
quicklist encodings, except module types.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable

import crcmod
import lzf

from ..keyspace.types import type_name
from ..util import string2ll
from .encodings import intset_build, intset_read, lp_build, lp_encode_entry, lp_read, zipmap_read, zl_read

RDB_VERSION = 10
MAX_READ_VERSION = 11

# object types
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_MODULE_PRE_GA, T_MODULE_2 = 6, 7
T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST = 9, 10, 11, 12, 13
T_LIST_QUICKLIST, T_STREAM_LISTPACKS, T_HASH_LISTPACK, T_ZSET_LISTPACK = 14, 15, 16, 17
T_LIST_QUICKLIST_2, T_STREAM_LISTPACKS_2, T_SET_LISTPACK, T_STREAM_LISTPACKS_3 = 18, 19, 20, 21
# opcodes
OP_FUNCTION_PRE_GA, OP_FUNCTION2, OP_MODULE_AUX, OP_IDLE, OP_FREQ = 246, 245, 247, 248, 249
OP_AUX, OP_RESIZEDB, OP_EXPIRETIME_MS, OP_EXPIRETIME, OP_SELECTDB, OP_EOF = 250, 251, 252, 253, 254, 255

_crc64 = crcmod.mkCrcFun(0x1AD93D23594C935A9, initCrc=0, rev=True, xorOut=0)


def crc64(data: bytes, crc: int = 0) -> int:
    return _crc64(data, crc)


class RdbError(ValueError):
    """A malformed or unsupported RDB (message says what and where)."""


# ============================================================================ writing


def enc_len(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def enc_string(s: bytes, compress: bool = True) -> bytes:
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


def _enc_raw(s: bytes) -> bytes:
    return enc_len(len(s)) + s


QUICKLIST_LIMITS = {-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536}
SIZE_ESTIMATE_OVERHEAD = 8
PACKED_THRESHOLD = 1 << 30


def quicklist_nodes(items, fill: int) -> list[tuple[int, bytes]]:
    """Split a list into quicklist nodes as RPUSHes into a fresh quicklist would: (container, bytes)."""
    nodes: list[tuple[int, bytes]] = []
    cur: list[bytes] = []
    cur_sz = 0
    limit = QUICKLIST_LIMITS.get(fill, 8192) if fill < 0 else 8192
    for e in items:
        if len(e) >= PACKED_THRESHOLD:
            if cur:
                nodes.append((2, lp_build(cur)))
                cur, cur_sz = [], 0
            nodes.append((1, e))
            continue
        if cur:
            new_sz = cur_sz + len(e) + SIZE_ESTIMATE_OVERHEAD
            exceeds = (len(cur) + 1 > fill or new_sz > 8192) if fill >= 0 else new_sz > limit
            if exceeds:
                nodes.append((2, lp_build(cur)))
                cur, cur_sz = [], 0
        if not cur:
            cur_sz = 7  # empty listpack header + terminator
        cur.append(e)
        cur_sz += len(lp_encode_entry(e))
    if cur:
        nodes.append((2, lp_build(cur)))
    return nodes


# Per-type serialisers: value -> (type byte, payload). Collection modules are imported lazily
# so this module stays loadable on its own (check tools).
def _obj_string(v: bytes, cfg) -> tuple[int, bytes]:
    return T_STRING, enc_string(v, cfg["rdbcompression"])


def _obj_list(v, cfg) -> tuple[int, bytes]:
    comp = cfg["rdbcompression"]
    out = []
    nodes = quicklist_nodes(v, cfg["list-max-listpack-size"])
    out.append(enc_len(len(nodes)))
    for container, blob in nodes:
        out.append(enc_len(container))
        out.append(enc_string(blob, comp) if container == 2 else enc_string(blob, comp))
    return T_LIST_QUICKLIST_2, b"".join(out)


def _obj_set(v, cfg) -> tuple[int, bytes]:
    comp = cfg["rdbcompression"]
    if getattr(v, "intset", False):
        return T_SET_INTSET, enc_string(intset_build([int(m) for m in v]), comp)
    return T_SET, enc_len(len(v)) + b"".join(enc_string(m, comp) for m in v)


def _obj_hash(v, cfg) -> tuple[int, bytes]:
    comp = cfg["rdbcompression"]
    if not getattr(v, "ht", True):
        flat = []
        for k, x in v.items():
            flat.append(k)
            flat.append(x)
        return T_HASH_LISTPACK, enc_string(lp_build(flat), comp)
    out = [enc_len(len(v))]
    for k, x in v.items():
        out.append(enc_string(k, comp))
        out.append(enc_string(x, comp))
    return T_HASH, b"".join(out)


def _obj_zset(v, cfg) -> tuple[int, bytes]:
    comp = cfg["rdbcompression"]
    from ..keyspace.zset import listpack_score

    if v.lp:
        flat = []
        for score, member in v.sl:
            flat.append(member)
            flat.append(listpack_score(score))
        return T_ZSET_LISTPACK, enc_string(lp_build(flat), comp)
    # ZSET_2 is written from the highest score down, as Redis walks its skiplist backwards.
    out = [enc_len(len(v))]
    for score, member in reversed(v.sl):
        out.append(enc_string(member, comp))
        out.append(struct.pack("<d", score))
    return T_ZSET_2, b"".join(out)


OBJECT_WRITERS: dict[bytes, Callable] = {
    b"string": _obj_string, b"list": _obj_list, b"set": _obj_set, b"hash": _obj_hash, b"zset": _obj_zset,
}


def register_writer(type_name_: bytes, fn: Callable) -> None:
    """Streams and other later types register their serialiser here."""
    OBJECT_WRITERS[type_name_] = fn


def encode_object(value, cfg) -> tuple[int, bytes]:
    w = OBJECT_WRITERS.get(type_name(value))
    if w is None:
        raise RdbError(f"cannot serialise a value of type {type(value).__name__}")
    return w(value, cfg)


def dump_payload(value, cfg) -> bytes:
    t, body = encode_object(value, cfg)
    data = bytes([t]) + body + struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def rdb_chunks(state, functions: list[bytes] | None = None, aux_extra: dict[bytes, bytes] | None = None):
    """Yield an RDB file as chunks (for streaming to disk)."""
    from ..version import __version__, REDIS_VERSION

    cfg = state.config
    comp = cfg["rdbcompression"]
    head = [b"REDIS%04d" % RDB_VERSION]
    aux = {
        b"redis-ver": REDIS_VERSION.encode(),
        b"redis-bits": b"64",
        b"ctime": str(int(time.time())).encode(),
        b"used-mem": b"%d" % _rss(),
        b"aof-base": b"0",
        b"pyredis-ver": __version__.encode(),
    }
    if aux_extra:
        aux.update(aux_extra)
    for k, v in aux.items():
        head.append(bytes([OP_AUX]) + enc_string(k, False) + enc_string(v, False))
    for code in functions or ():
        head.append(bytes([OP_FUNCTION2]) + enc_string(code, comp))
    yield b"".join(head)
    for db in state.dbs:
        if not db.data:
            continue
        expires = db.expires
        yield bytes([OP_SELECTDB]) + enc_len(db.id) + bytes([OP_RESIZEDB]) + enc_len(len(db.data)) + enc_len(len(expires))
        buf = []
        size = 0
        for key, value in db.data.items():
            when = expires.get(key) if expires else None
            t, body = encode_object(value, cfg)
            rec = (bytes([OP_EXPIRETIME_MS]) + struct.pack("<q", when) if when is not None else b"") + bytes([t]) + enc_string(key, comp) + body
            buf.append(rec)
            size += len(rec)
            if size > 1 << 20:
                yield b"".join(buf)
                buf, size = [], 0
        if buf:
            yield b"".join(buf)
    yield bytes([OP_EOF])


def rdb_bytes(state, functions: list[bytes] | None = None) -> bytes:
    data = b"".join(rdb_chunks(state, functions))
    return data + struct.pack("<Q", crc64(data) if state.config["rdbchecksum"] else 0)


def write_rdb_file(path: str, chunks, checksum: bool = True) -> int:
    """Write chunks + CRC to `path` atomically (temp file, fsync, rename). Returns bytes written."""
    tmp = f"{path}.tmp-{os.getpid()}"
    crc = 0
    n = 0
    with open(tmp, "wb") as f:
        for chunk in chunks:
            if checksum:
                crc = crc64(chunk, crc)
            f.write(chunk)
            n += len(chunk)
        f.write(struct.pack("<Q", crc if checksum else 0))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(os.path.abspath(path)))
    return n + 8


def save(state, path: str, functions: list[bytes] | None = None) -> int:
    return write_rdb_file(path, rdb_chunks(state, functions), state.config["rdbchecksum"])


def _fsync_dir(d: str) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


# ============================================================================ reading


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


def _pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    if len(flat) % 2:
        raise RdbError("odd number of elements in a hash/zset encoding")
    return list(zip(flat[0::2], flat[1::2]))


def read_object(r: Reader, t: int, cfg):
    """Read one value of RDB type `t` and build pyredis' value for it."""
    from ..keyspace.hash import make_hash
    from ..keyspace.list import RList
    from ..keyspace.set import make_set
    from ..keyspace.zset import make_zset

    if t == T_STRING:
        return r.string()
    if t == T_LIST:
        return RList(r.string() for _ in range(r.plain_length()))
    if t == T_SET:
        return make_set([r.string() for _ in range(r.plain_length())], cfg)
    if t in (T_ZSET, T_ZSET_2):
        n = r.plain_length()
        pairs = []
        for _ in range(n):
            m = r.string()
            s = r.binary_double() if t == T_ZSET_2 else r.old_double()
            pairs.append((m, s))
        return make_zset(pairs, cfg)
    if t == T_HASH:
        n = r.plain_length()
        return make_hash([(r.string(), r.string()) for _ in range(n)], cfg)
    if t == T_HASH_ZIPMAP:
        return make_hash(_pairs(zipmap_read(r.string())), cfg)
    if t == T_LIST_ZIPLIST:
        return RList(zl_read(r.string()))
    if t == T_SET_INTSET:
        return make_set(intset_read(r.string()), cfg)
    if t == T_SET_LISTPACK:
        return make_set(lp_read(r.string()), cfg)
    if t == T_ZSET_ZIPLIST:
        return make_zset([(m, float(s)) for m, s in _pairs(zl_read(r.string()))], cfg)
    if t == T_ZSET_LISTPACK:
        return make_zset([(m, float(s)) for m, s in _pairs(lp_read(r.string()))], cfg)
    if t == T_HASH_ZIPLIST:
        return make_hash(_pairs(zl_read(r.string())), cfg, check_values=False)
    if t == T_HASH_LISTPACK:
        # Redis keeps a listpack payload a listpack even with long values (only the entry
        # count converts it), as rdbLoadObject does.
        return make_hash(_pairs(lp_read(r.string())), cfg, check_values=False)
    if t == T_LIST_QUICKLIST:
        items = RList()
        for _ in range(r.plain_length()):
            items.extend(zl_read(r.string()))
        return items
    if t == T_LIST_QUICKLIST_2:
        items = RList()
        for _ in range(r.plain_length()):
            container = r.plain_length()
            blob = r.string()
            if container == 1:
                items.append(blob)
            elif container == 2:
                items.extend(lp_read(blob))
            else:
                raise RdbError(f"bad quicklist container {container}")
        return items
    reader = OBJECT_READERS.get(t)
    if reader is not None:
        return reader(r, t, cfg)
    if t in (T_MODULE_PRE_GA, T_MODULE_2):
        raise RdbError("module data types are not supported")
    raise RdbError(f"unknown object type {t} at offset {r.pos - 1}")


# Later types (streams) register readers: type byte -> f(reader, type, cfg) -> value
OBJECT_READERS: dict[int, Callable] = {}


def restore_payload(payload: bytes, cfg):
    """Check DUMP payload footer (version, CRC) and decode the value; RdbError if invalid."""
    if len(payload) < 10:
        raise RdbError("DUMP payload version or checksum are wrong")
    body, footer = payload[:-10], payload[-10:]
    ver = struct.unpack("<H", footer[:2])[0]
    crc = struct.unpack("<Q", footer[2:])[0]
    if ver > MAX_READ_VERSION or crc64(payload[:-8]) != crc:
        raise RdbError("DUMP payload version or checksum are wrong")
    r = Reader(body)
    t = r.byte()
    value = read_object(r, t, cfg)
    if r.pos != len(body):
        raise RdbError("Bad data format")
    return value


class RdbInfo:
    def __init__(self) -> None:
        self.version = 0
        self.aux: dict[bytes, bytes] = {}
        self.keys = 0
        self.expired_skipped = 0
        self.functions: list[bytes] = []
        self.end = 0  # offset just past the checksum (where an AOF tail may continue)


def load_bytes(data: bytes, state, source: str = "RDB", skip_expired: bool = True, empty_first: bool = True) -> RdbInfo:
    info = RdbInfo()
    if len(data) < 9 or data[:5] != b"REDIS":
        raise RdbError(f"{source}: wrong signature trying to load DB from file")
    try:
        info.version = int(data[5:9])
    except ValueError:
        raise RdbError(f"{source}: bad RDB version") from None
    if info.version < 1 or info.version > MAX_READ_VERSION:
        raise RdbError(f"{source}: can't handle RDB format version {info.version}")
    cfg = state.config
    if empty_first:
        for db in state.dbs:
            db.flush()
    r = Reader(data, 9)
    db = state.dbs[0]
    now = state.clock.ms()
    expire_at: int | None = None
    while True:
        t = r.byte()
        if t == OP_EXPIRETIME_MS:
            expire_at = struct.unpack("<q", r.take(8))[0]
            continue
        if t == OP_EXPIRETIME:
            expire_at = struct.unpack("<i", r.take(4))[0] * 1000
            continue
        if t == OP_FREQ:
            r.byte()
            continue
        if t == OP_IDLE:
            r.plain_length()
            continue
        if t == OP_EOF:
            break
        if t == OP_SELECTDB:
            n = r.plain_length()
            if n >= len(state.dbs):
                raise RdbError(f"{source}: FATAL: Data file was created with a Redis server configured to handle more than {len(state.dbs)} databases. Exiting")
            db = state.dbs[n]
            continue
        if t == OP_RESIZEDB:
            r.plain_length()
            r.plain_length()
            continue
        if t == OP_AUX:
            k = r.string()
            v = r.string()
            info.aux[k] = v
            continue
        if t == OP_MODULE_AUX:
            raise RdbError(f"{source}: module auxiliary data is not supported")
        if t == OP_FUNCTION2:
            info.functions.append(r.string())
            continue
        if t == OP_FUNCTION_PRE_GA:
            raise RdbError(f"{source}: pre-release function format is not supported")
        key = r.string()
        try:
            value = read_object(r, t, cfg)
        except RdbError:
            raise
        except (ValueError, struct.error, IndexError) as e:
            raise RdbError(f"{source}: bad data for key {key!r} at offset {r.pos}: {e}") from None
        if expire_at is not None and skip_expired and expire_at <= now:
            info.expired_skipped += 1
        elif _nonempty(value):
            db.data[key] = value
            if expire_at is not None:
                db.expires[key] = expire_at
            info.keys += 1
        expire_at = None
    if info.version >= 5:
        stored = r.take(8)
        expect = struct.unpack("<Q", stored)[0]
        if expect and cfg["rdbchecksum"] and crc64(data[: r.pos - 8]) != expect:
            raise RdbError(f"{source}: RDB CRC error (wrong checksum)")
    info.end = r.pos
    return info


def _nonempty(value) -> bool:
    try:
        return len(value) > 0 or type(value) is bytes
    except TypeError:
        return True


def load(path: str, state, **kw) -> RdbInfo:
    with open(path, "rb") as f:
        data = f.read()
    return load_bytes(data, state, source=path, **kw)
