"""The dataset as commands: the base file when aof-use-rdb-preamble is no (and the reference
for what a rewrite must reproduce). Expiries become PEXPIREAT with absolute times."""

from __future__ import annotations

from ..keyspace.types import type_name
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
        items = list(v)
        for i in range(0, len(items), BATCH):
            yield [b"SADD", key, *items[i : i + BATCH]]
    elif t == b"hash":
        items = list(v.items())
        for i in range(0, len(items), BATCH):
            flat = [x for kv in items[i : i + BATCH] for x in kv]
            yield [b"HSET", key, *flat]
    elif t == b"zset":
        from ..protocol.encoder import format_double

        items = list(v.sl)
        for i in range(0, len(items), BATCH):
            flat = [x for s, m in items[i : i + BATCH] for x in (format_double(s), m)]
            yield [b"ZADD", key, *flat]
    else:
        writer = VALUE_COMMANDS.get(t)
        if writer is None:
            raise ValueError(f"no AOF rewrite for type {t!r}")
        yield from writer(key, v)


# later types (streams) register: type name -> generator of argvs
VALUE_COMMANDS: dict = {}


def aof_command_chunks(state, functions=()):
    for code in functions:
        yield encode_command([b"FUNCTION", b"LOAD", code])
    for db in state.dbs:
        if not db.data:
            continue
        out = [encode_command([b"SELECT", b"%d" % db.id])]
        for key, v in db.data.items():
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
