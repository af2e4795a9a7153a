"""AOF base files: the dataset as it is now, written by BGREWRITEAOF's child and when an AOF is
created. With aof-use-rdb-preamble yes the base is an RDB file (rdb/); otherwise it is the
dataset as commands (also the reference for what a rewrite must reproduce): function libraries
as FUNCTION LOAD, then per database SELECT and the commands rebuilding each key, expiries as
PEXPIREAT with absolute times. A hash with field deadlines is written as Redis 7.4's
rewriteHashObject does: HMSET field by field, each followed by HPEXPIREAT ... FIELDS 1 field
when the field has a deadline (expired or not: a load keeps it, the expiry deletes it later).

Streams come out as Redis's rewriteStreamObject writes them: XADDs (or the `XADD key MAXLEN 0
0-1 x y` trick for an empty stream), XSETID with ENTRIESADDED/MAXDELETEDID, XGROUP CREATE
with ENTRIESREAD, and XCLAIM ... JUSTID FORCE per pending entry (XGROUP CREATECONSUMER for
consumers without any).

API:
    write_base(state, path)                                  # atomically (temp file, fsync, rename)
    aof_command_chunks(state, functions) -> iterator of bytes (RESP commands)
"""

from __future__ import annotations

import os
import time

from .. import rdb
from ..core.functions import library_sources
from ..keyspace.set import ordered
from ..keyspace.stream import Stream, fmt_id
from ..keyspace.types import type_name
from ..protocol.encoder import format_double
from .aof import encode_command

BATCH = 64  # elements per command for big collections, like Redis's AOF_REWRITE_ITEMS_PER_CMD


def _value_commands(key: bytes, v):
    t = type_name(v)
    if t == b"string":
        yield [b"SET", key, v]
    elif t == b"list":
        items = list(v)
        for i in range(0, len(items), BATCH):
            yield [b"RPUSH", key, *items[i : i + BATCH]]
    elif t == b"set":
        items = ordered(v)  # the set's iteration order (intset ascending, listpack in order)
        for i in range(0, len(items), BATCH):
            yield [b"SADD", key, *items[i : i + BATCH]]
    elif t == b"hash" and v.hmin is not None:
        # registered for field expiry: field by field, each deadline as HPEXPIREAT (Redis 7.4)
        ttls = v.ttls
        for f, x in v.items():
            yield [b"HMSET", key, f, x]
            when = ttls.get(f)
            if when is not None:
                yield [b"HPEXPIREAT", key, b"%d" % when, b"FIELDS", b"1", f]
    elif t == b"hash":
        items = list(v.items())
        for i in range(0, len(items), BATCH):
            flat = [x for kv in items[i : i + BATCH] for x in kv]
            yield [b"HSET", key, *flat]
    elif t == b"zset":
        items = list(v.sl)
        for i in range(0, len(items), BATCH):
            flat = [x for s, m in items[i : i + BATCH] for x in (format_double(s), m)]
            yield [b"ZADD", key, *flat]
    elif t == b"stream":
        yield from _stream_commands(key, v)
    else:
        raise ValueError(f"no AOF rewrite for type {t!r}")


def _stream_commands(key: bytes, s: Stream):
    ents = s.entries
    if s.ids:
        for eid in s.ids:
            yield [b"XADD", key, fmt_id(eid), *ents[eid]]
    else:
        yield [b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]
    yield [b"XSETID", key, fmt_id(s.last_id), b"ENTRIESADDED", b"%d" % s.entries_added,
           b"MAXDELETEDID", fmt_id(s.max_deleted)]
    for g in s.sorted_groups():
        yield [b"XGROUP", b"CREATE", key, g.name, fmt_id(g.last_id), b"ENTRIESREAD", b"%d" % g.entries_read]
        for c in g.sorted_consumers():
            if not c.pel:
                yield [b"XGROUP", b"CREATECONSUMER", key, g.name, c.name]
                continue
            for eid, nack in c.pel.items():
                yield [b"XCLAIM", key, g.name, c.name, b"0", fmt_id(eid), b"TIME", b"%d" % nack.delivery_time,
                       b"RETRYCOUNT", b"%d" % nack.delivery_count, b"JUSTID", b"FORCE"]


def aof_command_chunks(state, functions=()):
    cfg = state.config
    if cfg["aof-timestamp-enabled"]:  # rewriteAppendOnlyFileRio: the time of the rewrite first
        yield b"#TS:%d\r\n" % int(time.time())
    for code in functions:
        yield encode_command([b"FUNCTION", b"LOAD", code])
    delay = cfg["rdb-key-save-delay"]
    for db in state.dbs:
        if not db.data:
            continue
        out = [encode_command([b"SELECT", b"%d" % db.id])]
        for key, v in db.data.items():
            if delay:
                rdb.debug_delay(delay)
            for argv in _value_commands(key, v):
                out.append(encode_command(argv))
            when = db.expires.get(key)
            if when is not None:
                out.append(encode_command([b"PEXPIREAT", key, b"%d" % when]))
            if len(out) > 1024:
                yield b"".join(out)
                out = []
        if out:
            yield b"".join(out)


def write_base(state, path: str) -> None:
    cfg = state.config
    funcs = library_sources(state)
    if cfg["aof-use-rdb-preamble"]:
        rdb.write_rdb_file(path, rdb.rdb_chunks(state, funcs, {b"aof-base": b"1"}), cfg["rdbchecksum"],
                           cfg["aof-rewrite-incremental-fsync"])
        return
    tmp = path + ".tmp"
    autosync = cfg["aof-rewrite-incremental-fsync"]
    with open(tmp, "wb") as f:
        written = synced = 0
        for chunk in aof_command_chunks(state, funcs):
            f.write(chunk)
            written += len(chunk)
            if autosync and written - synced >= rdb.AUTOSYNC_BYTES:  # rioSetAutoSync
                f.flush()
                os.fsync(f.fileno())
                synced = written
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
