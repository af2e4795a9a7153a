"""Keyspace commands (Redis's "generic" group): DEL EXISTS TYPE FLUSHDB FLUSHALL DBSIZE ..."""

from __future__ import annotations

from ..core.client import Client
from ..core.spec import command
from ..errors import SYNTAX, CommandError
from ..keyspace.types import type_name
from ..protocol.replies import OK, Simple


@command("DEL", arity=-2, flags="write", keys=(1, -1, 1), group="generic")
def del_(ctx: Client, *keys: bytes):
    """Deletes one or more keys."""
    db = ctx.db
    n = 0
    for k in keys:
        if db.lookup(k) is not None:
            db.delete(k)
            ctx.touched(k)
            n += 1
    return n


@command("EXISTS", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic", since="1.0.0")
def exists(ctx: Client, *keys: bytes):
    """Determines whether one or more keys exist."""
    db = ctx.db
    return sum(1 for k in keys if db.lookup(k) is not None)


@command("TYPE", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic")
def type_(ctx: Client, key: bytes):
    """Determines the type of value stored at a key."""
    v = ctx.db.lookup(key)
    return Simple(b"none" if v is None else type_name(v))


def _flush_mode(args: tuple[bytes, ...]) -> None:
    if len(args) > 1:
        raise CommandError(SYNTAX)
    if args and args[0].upper() not in (b"SYNC", b"ASYNC"):
        raise CommandError(SYNTAX)


@command("FLUSHDB", arity=-1, flags="write", group="server")
def flushdb(ctx: Client, *args: bytes):
    """Remove all keys from the current database."""
    _flush_mode(args)
    ctx.server.dirty += len(ctx.db) + 1
    for hook in ctx.server.flush_hooks:
        hook(ctx.db)
    ctx.db.flush()
    return OK


@command("FLUSHALL", arity=-1, flags="write", group="server")
def flushall(ctx: Client, *args: bytes):
    """Removes all keys from all databases."""
    _flush_mode(args)
    for db in ctx.server.dbs:
        ctx.server.dirty += len(db)
        for hook in ctx.server.flush_hooks:
            hook(db)
        db.flush()
    ctx.server.dirty += 1
    return OK


@command("DBSIZE", arity=1, flags="readonly fast", group="server")
def dbsize(ctx: Client):
    """Returns the number of keys in the database."""
    return len(ctx.db)
