"""String commands."""

from __future__ import annotations

from ..core.client import Client
from ..core.spec import command
from ..errors import WRONGTYPE, CommandError
from ..protocol.replies import OK


def get_string(ctx: Client, key: bytes) -> bytes | None:
    v = ctx.db.lookup(key)
    if v is None or type(v) is bytes:
        return v
    raise CommandError(WRONGTYPE)


@command("GET", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string")
def get(ctx: Client, key: bytes):
    """Returns the string value of a key."""
    return get_string(ctx, key)


@command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string")
def set_(ctx: Client, key: bytes, value: bytes, *options: bytes):
    """Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."""
    if options:
        raise CommandError("ERR syntax error")
    ctx.db.set(key, value)
    ctx.touched(key)
    return OK
