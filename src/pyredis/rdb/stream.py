"""Streams in RDB files and DUMP payloads (objects.py calls write_stream / read_stream).

Written as RDB_TYPE_STREAM_LISTPACKS_2 (19), what Redis 7.0 writes: the radix tree of
listpack nodes (16-byte big-endian master id, then the listpack: master entry + delta-encoded
entries, tombstones included), length, last id, first id, max deleted id, entries added, then
the consumer groups (name, last id, entries read, PEL with delivery time and count, consumers
with seen time and their PEL ids). Read: types 15 (5.0-6.2), 19 (7.0) and 21 (7.2/Valkey:
consumers also carry an active time).

API:
    write_stream(stream, config) -> (type byte, payload)
    read_stream(reader, type byte, config) -> Stream
"""

from __future__ import annotations

import struct

from ..keyspace.stream import (FLAG_DELETED, FLAG_SAMEFIELDS, INVALID_READ, U64, Consumer, Group, Nack, Node,
                               Stream, je_size, lp_int_size)
from .base import T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3, RdbError, enc_len, enc_string, rdb_versions
from .encodings import lp_build, lp_read


def _key16(i: int) -> bytes:
    return (i >> 64).to_bytes(8, "big") + (i & U64).to_bytes(8, "big")


def _node_listpack(n: Node) -> bytes:
    m = n.master
    mms, mseq = m >> 64, m & U64
    nf = len(n.mfields)
    el: list[bytes] = [b"%d" % n.count, b"%d" % n.deleted, b"%d" % nf, *n.mfields, b"0"]
    for eid, flags, vals in zip(n.ids, n.flags, n.vals):
        dms = ((eid >> 64) - mms) & U64
        dseq = ((eid & U64) - mseq) & U64
        if dms >> 63:
            dms -= 1 << 64
        if dseq >> 63:
            dseq -= 1 << 64
        el.append(b"%d" % flags)
        el.append(b"%d" % dms)
        el.append(b"%d" % dseq)
        k = len(vals) // 2
        if flags & FLAG_SAMEFIELDS:
            el.extend(vals[1::2])
            el.append(b"%d" % (k + 3))
        else:
            el.append(b"%d" % k)
            el.extend(vals)
            el.append(b"%d" % (2 * k + 4))
    return lp_build(el)


def _ms(t: int) -> bytes:
    return struct.pack("<q", t)


def write_stream(s: Stream, cfg) -> tuple[int, bytes]:
    """RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0), or _3 (7.2 and later: RDB 11+) with each
    consumer's active-time after its seen-time."""
    comp = cfg["rdbcompression"]
    v3 = rdb_versions(cfg)[0] >= 11
    out = [enc_len(len(s.nodes))]
    for n in s.nodes:
        out.append(enc_string(_key16(n.master), comp))
        out.append(enc_string(_node_listpack(n), comp))
    out.append(enc_len(len(s.ids)))
    for i in (s.last_id, s.first_id, s.max_deleted):
        out.append(enc_len(i >> 64))
        out.append(enc_len(i & U64))
    out.append(enc_len(s.entries_added))
    groups = s.sorted_groups()
    out.append(enc_len(len(groups)))
    for g in groups:
        out.append(enc_string(g.name, comp))
        out.append(enc_len(g.last_id >> 64))
        out.append(enc_len(g.last_id & U64))
        out.append(enc_len(g.entries_read & U64))
        out.append(enc_len(len(g.pel)))
        for eid, nack in g.pel.items():
            out.append(_key16(eid))
            out.append(_ms(nack.delivery_time))
            out.append(enc_len(nack.delivery_count))
        cons = g.sorted_consumers()
        out.append(enc_len(len(cons)))
        for c in cons:
            out.append(enc_string(c.name, comp))
            out.append(_ms(c.seen_time))
            if v3:
                out.append(_ms(c.active_time))
            out.append(enc_len(len(c.pel)))
            for eid in c.pel:
                out.append(_key16(eid))
    return (T_STREAM_LISTPACKS_3 if v3 else T_STREAM_LISTPACKS_2), b"".join(out)


def _id16(b: bytes) -> int:
    if len(b) != 16:
        raise RdbError("Stream node key entry is not the size of a stream ID")
    return (int.from_bytes(b[:8], "big") << 64) | int.from_bytes(b[8:], "big")


def _load_node(s: Stream, master: int, blob: bytes) -> None:
    try:
        el = lp_read(blob)
    except ValueError as e:
        raise RdbError(f"bad stream listpack: {e}") from None
    if not el:
        raise RdbError("Empty listpack inside stream")
    it = iter(el)
    try:
        count = int(next(it))
        deleted = int(next(it))
        nf = int(next(it))
        mfields = tuple(next(it) for _ in range(nf))
        if next(it) != b"0":
            raise RdbError("bad stream master entry terminator")
        node = Node.__new__(Node)
        node.master = master
        node.mfields = mfields
        node.ids, node.flags, node.vals = [], [], []
        node.count, node.deleted = count, deleted
        node.nbytes = len(blob) - 7 - lp_int_size(count) - lp_int_size(deleted)
        node.alloc = je_size(len(blob))  # loaded as one exact allocation
        mms, mseq = master >> 64, master & U64
        for fl in it:
            flags = int(fl)
            ms = (mms + int(next(it))) & U64
            seq = (mseq + int(next(it))) & U64
            eid = (ms << 64) | seq
            if flags & FLAG_SAMEFIELDS:
                flat = []
                for f in mfields:
                    flat.append(f)
                    flat.append(next(it))
            else:
                k = int(next(it))
                flat = [next(it) for _ in range(2 * k)]
            next(it)  # lp-count
            vals = tuple(flat)
            node.ids.append(eid)
            node.flags.append(flags)
            node.vals.append(vals)
            if not flags & FLAG_DELETED:
                s.ids.append(eid)
                s.entries[eid] = vals
    except StopIteration:
        raise RdbError("truncated stream listpack") from None
    s.nodes.append(node)
    s.node_ids.append(master)


def read_stream(r, t: int, cfg) -> Stream:
    s = Stream()
    nnodes = r.plain_length()
    for _ in range(nnodes):
        master = _id16(r.string())
        blob = r.string()
        _load_node(s, master, blob)
    length = r.plain_length()
    if length != len(s.ids):
        raise RdbError("stream length does not match its entries")
    s.last_id = (r.plain_length() << 64) | r.plain_length()
    if t >= T_STREAM_LISTPACKS_2:
        s.first_id = (r.plain_length() << 64) | r.plain_length()
        s.max_deleted = (r.plain_length() << 64) | r.plain_length()
        s.entries_added = r.plain_length()
    else:
        s.entries_added = len(s.ids)
        s.first_id = s.ids[0] if s.ids else 0
    ngroups = r.plain_length()
    if ngroups:
        s.groups = {}
    for _ in range(ngroups):
        name = r.string()
        last = (r.plain_length() << 64) | r.plain_length()
        if t >= T_STREAM_LISTPACKS_2:
            er = r.plain_length()
            er = INVALID_READ if er == U64 else er
        else:
            er = s.estimate_distance(last)
        g = Group(name, last, er)
        if name in s.groups:
            raise RdbError("Duplicated consumer group name")
        s.groups[name] = g
        for _ in range(r.plain_length()):
            eid = _id16(r.take(16))
            when = struct.unpack("<q", r.take(8))[0]
            cnt = r.plain_length()
            g.pel[eid] = Nack(None, when, cnt)
        for _ in range(r.plain_length()):
            cname = r.string()
            c = Consumer(cname, struct.unpack("<q", r.take(8))[0])
            if t >= T_STREAM_LISTPACKS_3:
                c.active_time = struct.unpack("<q", r.take(8))[0]
            g.consumers[cname] = c
            for _ in range(r.plain_length()):
                eid = _id16(r.take(16))
                nack = g.pel.get(eid)
                if nack is None:
                    raise RdbError("Consumer entry not found in group global PEL")
                nack.consumer = c
                c.pel[eid] = nack
        for nack in g.pel.values():
            if nack.consumer is None:
                raise RdbError("Stream CG PEL entry without consumer")
    return s
