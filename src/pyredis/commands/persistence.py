"""SAVE, BGSAVE, BGREWRITEAOF (persistence/manager.py does the work)."""

from __future__ import annotations

from ..core.client import Client
from ..core.spec import command
from ..errors import SYNTAX, CommandError, PersistenceError
from ..protocol.replies import OK, Simple


def _p(ctx: Client):
    p = ctx.server.persistence
    if p is None:
        raise CommandError("ERR persistence is not available in this process")
    return p


@command("SAVE", arity=1, flags="admin noscript no_async_loading no_multi", group="server", since="1.0.0")
def save(ctx: Client):
    """Synchronously saves the database(s) to disk."""
    try:
        _p(ctx).save()
    except PersistenceError as e:
        raise CommandError(str(e)) from None
    return OK


@command("BGSAVE", arity=-1, flags="admin noscript no_async_loading", group="server", since="1.0.0")
def bgsave(ctx: Client, *args: bytes):
    """Asynchronously saves the database(s) to disk."""
    schedule = False
    if args:
        if len(args) > 1 or args[0].upper() != b"SCHEDULE":
            raise CommandError(SYNTAX)
        schedule = True
    try:
        return Simple(_p(ctx).bgsave(schedule).encode())
    except PersistenceError as e:
        raise CommandError(str(e)) from None


@command("BGREWRITEAOF", arity=1, flags="admin noscript no_async_loading", group="server", since="1.0.0")
def bgrewriteaof(ctx: Client):
    """Asynchronously rewrites the append-only file to disk."""
    try:
        return Simple(_p(ctx).rewrite_aof_background().encode())
    except PersistenceError as e:
        raise CommandError(str(e)) from None
