"""What a value would cost in redis-server 7.0: the size model behind `used_memory`.

pyredis has no allocator of its own (Python objects are several times larger than Redis's
structures, and the interpreter's heap is not the dataset), so `used_memory` - what INFO
reports and what eviction compares with `maxmemory` - is an estimate of what redis-server
(jemalloc 5.3) would have allocated for the same keys, values and clients. Every allocation
of Redis's encodings is modelled and rounded to jemalloc's size classes:

    a key               dictEntry (24 -> 32) + the key's sds        (+ 8 per bucket slot)
    a string value      int: the robj (16); <= 44 bytes: robj+sds in one block (embstr);
                        longer: robj + sds (raw)
    hash / zset         listpack: robj + the listpack; hashtable / skiplist: robj + dict +
                        bucket array + per element dictEntry, sds (and skiplist node)
    list                quicklist: robj + quicklist + nodes of listpacks (8 KB each)
    set                 intset: robj + the int array; listpack (7.2+ modes): robj + the
                        listpack; hashtable: as a hash without values
    stream              robj + stream + radix tree + the nodes' listpacks (their real
                        allocation, kept by keyspace/stream.py) + groups and PELs

Elements are summed exactly while a collection is in a compact encoding (a listpack holds
at most a few hundred short elements: one C-level pass); for the large encodings the
element sizes are averaged over a few elements and multiplied by the length, as
objectComputeSize does. A value's estimate is taken when it is stored and again once it was
modified in place (Database.resized marks it, Database.refresh re-estimates before
used_memory is read), never by walking the dataset. benchmarks/memory.py compares the result with redis-server's
used_memory per type.

API:
    string_size(b) -> bytes of a string value      key_size(key) -> the key's sds
    value_size(v) -> bytes of any value            ENTRY, BUCKET, dict_buckets(n)
    free_effort(v) -> lazyfreeGetFreeEffort (how many allocations freeing v releases)
"""

from __future__ import annotations

from itertools import islice

from ..util import lp_str_size
from .hash import RHash
from .list import RList
from .set import RSet
from .stream import Stream, je_size
from .zset import ZSet

ROBJ = 16
ENTRY = 32  # dictEntry: 24 bytes, a 32-byte jemalloc class
BUCKET = 8  # a bucket pointer of a dict's table
DICT = 64  # the dict struct (56 bytes in 7.0)
SAMPLES = 8  # elements averaged for the large encodings


def sds_header(n: int) -> int:
    """sdsReqType's header for a string of n bytes (sdshdr5 below 32)."""
    return 1 if n < 32 else 3 if n < 256 else 5 if n < 65536 else 9 if n < 2**32 else 17


def sds_alloc(n: int) -> int:
    return je_size(sds_header(n) + n + 1)


# Precomputed for the short lengths: a string value (embstr up to 44 bytes) and a key's sds.
_EMBSTR = [je_size(ROBJ + 3 + n + 1) for n in range(45)]
_KEY = [sds_alloc(n) for n in range(64)]


def string_size(v: bytes) -> int:
    """The value of a string key: int-encoded (digits only, at most 19 of them: the model
    does not single out leading zeros and negative numbers) is the robj alone; up to 44 bytes
    an embstr; longer a raw robj + sds. Small integers are not treated as shared objects: the
    estimate of a value depends on nothing but its bytes (Database.set relies on it)."""
    n = len(v)
    if n <= 44:
        if n < 20 and v.isdigit():
            return ROBJ
        return _EMBSTR[n]
    return ROBJ + je_size((3 if n < 256 else 5 if n < 65536 else 9) + n + 1)


def key_size(key: bytes) -> int:
    n = len(key)
    return _KEY[n] if n < 64 else sds_alloc(n)


def string_key_size(key: bytes, value: bytes) -> int:
    """key_size(key) + string_size(value) in one call, the short lengths looked up inline: a
    new string key (Database.set_strings stores a million of them from an AOF)."""
    k, n = len(key), len(value)
    if k < 64 and n <= 44:
        return _KEY[k] + (ROBJ if n < 20 and value.isdigit() else _EMBSTR[n])
    return key_size(key) + string_size(value)


def dict_buckets(n: int) -> int:
    """Slots of a Redis dict holding n entries (it grows to the next power of two >= n)."""
    return 0 if n == 0 else max(4, 1 << (n - 1).bit_length())


def _sds_avg(items) -> float:
    """Average sds allocation over a few elements."""
    tot = k = 0
    for x in items:
        tot += sds_alloc(len(x))
        k += 1
    return tot / k if k else 0.0


def _lp(payload: int) -> int:
    """A listpack holding `payload` bytes of entries (header 6 + terminator 1)."""
    return je_size(7 + payload)


def _hash_size(h: RHash) -> int:
    n = len(h)
    if not h.ht:
        # each entry: the data, a 1-byte encoding header and a 1-byte back-length
        return ROBJ + _lp(sum(map(len, h)) + sum(map(len, h.values())) + 4 * n)
    avg = _sds_avg(islice(h, SAMPLES)) + _sds_avg(islice(h.values(), SAMPLES))
    return ROBJ + DICT + BUCKET * dict_buckets(n) + int(n * (ENTRY + avg))


def _set_size(s: RSet) -> int:
    n = len(s)
    if s.intset:
        if not n:
            return ROBJ + je_size(8)
        w = max(map(len, s))
        return ROBJ + je_size(8 + n * (2 if w <= 4 else 4 if w <= 9 else 8))
    if s.lp is not None:
        return ROBJ + _lp(sum(map(lp_str_size, s)))
    return ROBJ + DICT + BUCKET * dict_buckets(n) + int(n * (ENTRY + _sds_avg(islice(s, SAMPLES))))


# A listpack fits 8 KB (list-max-listpack-size -2); a node is a 32-byte struct (48 class).
_QL_NODE_BYTES = 8192 - 7


def _list_nodes(lst: RList) -> tuple[int, int]:
    """(listpack payload bytes, quicklist nodes) of a list: elements summed up to 256 of
    them, else averaged over a few at each end."""
    n = len(lst)
    if n <= 256:
        payload = sum(map(len, lst)) + 2 * n
    else:
        ends = sum(map(len, islice(lst, SAMPLES))) + sum(map(len, islice(reversed(lst), SAMPLES)))
        payload = n * 2 + ends * n // (2 * SAMPLES)
    return payload, max(1, -(-payload // _QL_NODE_BYTES))


def _list_size(lst: RList) -> int:
    payload, nodes = _list_nodes(lst)
    return ROBJ + 48 + nodes * (48 + _lp(payload // nodes))


def _score_bytes(s: float) -> int:
    """A score in a listpack: an integer entry when integral, else its %.17g text."""
    if s.is_integer() and -(2**63) <= s < 2**63:
        i = int(s)
        n = 1 if 0 <= i <= 127 else 2 if -4096 <= i <= 4095 else 3 if -32768 <= i <= 32767 else 4 if -(2**23) <= i < 2**23 else 5 if -(2**31) <= i < 2**31 else 9
        return n + 1
    return len(repr(s)) + 2


# A skiplist node: 24 bytes + 16 per level (levels with p = 1/4): the jemalloc-rounded average.
_ZSL_NODE = 0.75 * 48 + 0.1875 * 64 + 0.046875 * 80 + 0.015625 * 96
_ZSL_FIXED = 16 + 32 + 640  # the zset struct, the zskiplist, its 32-level header node


def _zset_size(z: ZSet) -> int:
    n = len(z.scores)
    if z.lp:
        sc = z.scores
        members = sum(map(len, sc)) + 2 * n
        if n <= SAMPLES:
            scores = sum(map(_score_bytes, sc.values()))
        else:
            scores = sum(map(_score_bytes, islice(sc.values(), SAMPLES))) * n // SAMPLES
        return ROBJ + _lp(members + scores)
    avg = _sds_avg(islice(z.scores, SAMPLES))
    return ROBJ + _ZSL_FIXED + DICT + BUCKET * dict_buckets(n) + int(n * (ENTRY + _ZSL_NODE + avg))


def _stream_size(s: Stream) -> int:
    nodes = s.nodes
    k = len(nodes)
    size = ROBJ + 80 + 32 + 48 * k + 16  # robj, stream, rax and its nodes (about one per listpack)
    if k <= 64:
        size += sum(n.alloc for n in nodes)
    else:  # the nodes' listpacks, from 64 spread over the stream (the first ones are not typical)
        step = (k - 1) // 64
        picked = nodes[0:k - 1:step]
        size += sum(n.alloc for n in picked) * (k - 1) // len(picked) + nodes[-1].alloc
    if s.groups:
        for g in s.groups.values():
            # streamCG + its PEL rax; a NACK (24 -> 32) and two rax entries per pending id;
            # a consumer and its own rax
            size += 48 + 32 + len(g.pel) * (32 + 2 * 24) + len(g.consumers) * (48 + 32)
    return size


_SIZERS = {RHash: _hash_size, RSet: _set_size, RList: _list_size, ZSet: _zset_size, Stream: _stream_size}


def raw_string_size(n: int) -> int:
    """A raw string (robj + sds) of n bytes: a value changed in place (a bytearray)."""
    return ROBJ + je_size((1 if n < 32 else 3 if n < 256 else 5 if n < 65536 else 9) + n + 1)


def value_size(v) -> int:
    if type(v) is bytes:
        return string_size(v)
    if type(v) is bytearray:
        return raw_string_size(len(v))
    f = _SIZERS.get(type(v))
    return f(v) if f is not None else ROBJ + 64


def free_effort(v) -> int:
    """lazyfreeGetFreeEffort: the allocations freeing v releases (1 for the single-block
    encodings: strings, listpacks, intsets)."""
    t = type(v)
    if t is RList:
        return _list_nodes(v)[1]
    if t is RSet:
        return 1 if v.intset or v.lp is not None else len(v)
    if t is RHash:
        return len(v) if v.ht else 1
    if t is ZSet:
        return 1 if v.lp else len(v.scores)
    if t is Stream:
        effort = len(v.nodes)
        if v.groups:
            first = next(iter(v.groups.values()))
            effort += len(v.groups) * (1 + len(first.pel))
        return effort
    return 1


def walk_used(db) -> int:
    """Database.used recomputed from scratch (a walk of every key): what the incremental
    figure must equal once db.refresh() has run. For tests, never on a hot path."""
    return sum(key_size(k) + value_size(v) for k, v in db.data.items())
