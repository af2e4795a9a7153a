"""Values <-> RDB objects: one value of each type as Redis 7.0 writes it (the type byte and its
payload), and every encoding Redis 7.0/7.2 writes read back. DUMP/RESTORE payloads are one
object followed by the RDB version and a CRC-64.

API:
    encode_object(value, config) -> (type byte, payload)
    read_object(reader, type byte, config) -> value
    dump_payload(value, config) -> bytes          # DUMP
    restore_payload(payload, config) -> value     # RESTORE (checks version and CRC; RdbError)

What pyredis writes: strings (integer / LZF / raw encodings as Redis chooses), lists as
QUICKLIST_2 of listpacks, hashes and sorted sets as listpacks while their encoding is listpack
and as plain HASH / ZSET_2 otherwise, sets as intsets or plain SET, streams as
STREAM_LISTPACKS_2 (stream.py) - the types Redis 7.0 itself writes, so real Redis loads them
and DUMP of a small value is byte-identical. The 7.2+ modes write what 7.2 writes: a listpack
set as SET_LISTPACK (its entries in order), streams as STREAM_LISTPACKS_3. Each mode reads
the object types its release's loader knows (rdbIsObjectType), no newer. A hash with field deadlines (Redis 7.4) is written
as Redis 7.4 writes it: a listpackex as HASH_LISTPACK_EX (its registered minimum deadline, as
Redis keeps it, then a listpack of field, value, deadline-or-0 triplets in deadline order), a
hashtable with deadlines as HASH_METADATA (the earliest deadline, then each field's deadline
relative to it, +1, or 0 for none). What it reads: everything Redis 7.0/7.2 writes,
including the legacy ziplist, zipmap and quicklist encodings, except module types.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from ..keyspace.hash import EXPIRE_TIME_MAX, make_hash, make_hash_ex
from ..keyspace.list import RList
from ..keyspace.set import load_intset, load_listpack_set, load_plain_set
from ..keyspace.types import type_name
from ..keyspace.zset import listpack_score, make_zset
from .base import (T_HASH, T_HASH_LISTPACK, T_HASH_LISTPACK_EX, T_HASH_LISTPACK_EX_PRE_GA, T_HASH_METADATA,
                   T_HASH_METADATA_PRE_GA, T_HASH_ZIPLIST, T_HASH_ZIPMAP, T_LIST,
                   T_LIST_QUICKLIST, T_LIST_QUICKLIST_2, T_LIST_ZIPLIST, T_MODULE_2, T_MODULE_PRE_GA, T_SET,
                   T_SET_INTSET, T_SET_LISTPACK, T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3,
                   T_STRING, T_ZSET, T_ZSET_2, T_ZSET_LISTPACK, T_ZSET_ZIPLIST, RdbError, Reader, crc64, enc_len,
                   enc_string, rdb_versions)
from .encodings import intset_build, intset_read, lp_build, lp_encode_entry, lp_read, zipmap_read, zl_read
from .stream import read_stream, write_stream

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


# Per-type serialisers: value -> (type byte, payload).
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
    if v.intset:
        return T_SET_INTSET, enc_string(intset_build([int(m) for m in v]), comp)
    if v.lp is not None:  # Redis 7.2+ (a listpack set exists in those modes only)
        return T_SET_LISTPACK, enc_string(lp_build(v.lp), comp)
    return T_SET, enc_len(len(v)) + b"".join(enc_string(m, comp) for m in v)


def _obj_hash(v, cfg) -> tuple[int, bytes]:
    comp = cfg["rdbcompression"]
    ttls = v.ttls
    if not v.ht:
        flat = []
        if ttls is None:
            for k, x in v.items():
                flat.append(k)
                flat.append(x)
            return T_HASH_LISTPACK, enc_string(lp_build(flat), comp)
        for k, x in v.items():
            flat.append(k)
            flat.append(x)
            flat.append(b"%d" % ttls.get(k, 0))
        head = struct.pack("<q", v.hmin or 0)  # the registered minimum, 0 when not registered
        return T_HASH_LISTPACK_EX, head + enc_string(lp_build(flat), comp)
    if ttls:
        low = min(ttls.values())
        out = [struct.pack("<q", low), enc_len(len(v))]
        for k, x in v.items():
            t = ttls.get(k)
            out.append(enc_len(0 if t is None else t - low + 1))
            out.append(enc_string(k, comp))
            out.append(enc_string(x, comp))
        return T_HASH_METADATA, b"".join(out)
    out = [enc_len(len(v))]
    for k, x in v.items():
        out.append(enc_string(k, comp))
        out.append(enc_string(x, comp))
    return T_HASH, b"".join(out)


def _obj_zset(v, cfg) -> tuple[int, bytes]:
    comp = cfg["rdbcompression"]
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
    b"stream": write_stream,
}


def encode_object(value, cfg) -> tuple[int, bytes]:
    w = OBJECT_WRITERS.get(type_name(value))
    if w is None:
        raise RdbError(f"cannot serialise a value of type {type(value).__name__}")
    return w(value, cfg)


def dump_payload(value, cfg) -> bytes:
    t, body = encode_object(value, cfg)
    data = bytes([t]) + body + struct.pack("<H", rdb_versions(cfg)[0])
    return data + struct.pack("<Q", crc64(data))


def _triplets(flat: list[bytes]) -> list[tuple[bytes, bytes, int]]:
    if len(flat) % 3:
        raise RdbError("Hash listpack integrity check failed.")
    out = []
    for i in range(0, len(flat), 3):
        t = int(flat[i + 2])
        if t < 0 or t > EXPIRE_TIME_MAX:
            raise RdbError("Hash listpack integrity check failed.")
        out.append((flat[i], flat[i + 1], t))
    return out


def _read_hash_metadata(r: Reader, t: int, cfg):
    """RDB_TYPE_HASH_METADATA(_PRE_GA): [minimum deadline] count, then per field its deadline
    (relative to the minimum, +1; absolute before GA; 0 for none), the field and the value."""
    low = struct.unpack("<q", r.take(8))[0] if t == T_HASH_METADATA else 0
    triplets = []
    for _ in range(r.plain_length()):
        ttl = r.plain_length()
        when = (ttl + low - 1 if ttl else 0) if t == T_HASH_METADATA else ttl
        if when < 0 or when > EXPIRE_TIME_MAX:
            raise RdbError(f"invalid expireAt time: {when}")
        triplets.append((r.string(), r.string(), when))
    return make_hash_ex(triplets, cfg, keep_order=False)


def _pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    if len(flat) % 2:
        raise RdbError("odd number of elements in a hash/zset encoding")
    return list(zip(flat[0::2], flat[1::2]))


def read_object(r: Reader, t: int, cfg):
    """Read one value of RDB type `t` and build pyredis' value for it."""
    if t == T_STRING:
        return r.string()
    if t == T_LIST:
        return RList(r.string() for _ in range(r.plain_length()))
    if t > T_STREAM_LISTPACKS_2 and t > _MAX_TYPE[rdb_versions(cfg)[1]]:
        raise RdbError(f"unknown object type {t} at offset {r.pos - 1}")
    if t == T_SET:
        return load_plain_set([r.string() for _ in range(r.plain_length())], cfg)
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
        return load_intset(intset_read(r.string()), cfg)
    if t == T_SET_LISTPACK:
        return load_listpack_set(lp_read(r.string()), cfg)
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
    if t in (T_HASH_LISTPACK_EX, T_HASH_LISTPACK_EX_PRE_GA):
        if t == T_HASH_LISTPACK_EX:
            r.take(8)  # the minimum deadline: Redis reads it and recomputes its own
        return make_hash_ex(_triplets(lp_read(r.string())), cfg, keep_order=True)
    if t in (T_HASH_METADATA, T_HASH_METADATA_PRE_GA):
        return _read_hash_metadata(r, t, cfg)
    if t in _STREAM_TYPES:
        return read_stream(r, t, cfg)
    if t in (T_MODULE_PRE_GA, T_MODULE_2):
        raise RdbError("module data types are not supported")
    raise RdbError(f"unknown object type {t} at offset {r.pos - 1}")


_STREAM_TYPES = frozenset((T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3))
_EMPTY_IS_BAD = frozenset((b"list", b"set", b"hash", b"zset"))
# rdbIsObjectType: the newest object type a loader of each RDB version knows (7.0 stops at
# STREAM_LISTPACKS_2, 7.2 and Valkey 8.0 at STREAM_LISTPACKS_3, 7.4 at HASH_LISTPACK_EX)
_MAX_TYPE = {10: T_STREAM_LISTPACKS_2, 11: T_STREAM_LISTPACKS_3, 12: T_HASH_LISTPACK_EX}


def restore_payload(payload: bytes, cfg, skip_checksum: bool = False):
    """Check DUMP payload footer (version, CRC unless skip_checksum: DEBUG
    SET-SKIP-CHECKSUM-VALIDATION) and decode the value; RdbError if invalid."""
    if len(payload) < 10:
        raise RdbError("DUMP payload version or checksum are wrong")
    body, footer = payload[:-10], payload[-10:]
    ver = struct.unpack("<H", footer[:2])[0]
    crc = struct.unpack("<Q", footer[2:])[0]
    if ver > rdb_versions(cfg)[1] or (not skip_checksum and crc64(payload[:-8]) != crc):
        raise RdbError("DUMP payload version or checksum are wrong")
    r = Reader(body)
    t = r.byte()
    try:
        value = read_object(r, t, cfg)
    except RdbError:
        raise
    except (ValueError, struct.error, IndexError):
        raise RdbError("Bad data format") from None
    if type_name(value) in _EMPTY_IS_BAD and not len(value):
        raise RdbError("Bad data format")  # rdbLoadObject's empty key: RESTORE refuses it
    if r.pos != len(body):
        raise RdbError("Bad data format")
    return value
