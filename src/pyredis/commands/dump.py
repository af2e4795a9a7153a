"""DUMP and RESTORE: values serialised in Redis's RDB object format (rdb/objects.py),
so a payload from Redis restores into pyredis and back."""

from __future__ import annotations

from ..core.args import Options, to_int
from ..core.client import Client
from ..core.replication import already_expired
from ..core.spec import command
from ..errors import BAD_PAYLOAD, SYNTAX, CommandError
from ..rdb import RdbError, dump_payload, restore_payload
from ..protocol.replies import OK


@command("DUMP", arity=2, flags="readonly", keys=(1, 1, 1), group="generic", since="2.6.0")
def dump(ctx: Client, key: bytes):
    """Returns a serialized representation of the value stored at a key."""
    v = ctx.db.lookup(key)
    if v is None:
        return None
    return dump_payload(v, ctx.server.config)


@command("RESTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="generic", acl="keyspace dangerous",
         since="2.6.0")
def restore(ctx: Client, key: bytes, ttl_arg: bytes, payload: bytes, *options: bytes):
    """Creates a key from the serialized representation of a value."""
    replace = absttl = False
    idle = freq = -1
    o = Options(options)
    while o:
        opt = o.next_upper()
        if opt == b"REPLACE":
            replace = True
        elif opt == b"ABSTTL":
            absttl = True
        elif opt == b"IDLETIME" and o.has_more() and freq == -1:
            idle = o.int_value()
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
        elif opt == b"FREQ" and o.has_more() and idle == -1:
            freq = o.int_value()
            if freq < 0 or freq > 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
        else:
            raise CommandError(SYNTAX)
    ttl = to_int(ttl_arg)
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    db = ctx.db
    if not replace and db.lookup(key) is not None:
        raise CommandError("BUSYKEY Target key name already exists.")
    try:
        value = restore_payload(payload, ctx.server.config, ctx.server.skip_checksum_validation)
    except RdbError as e:
        text = str(e)
        if "version or checksum" in text:
            raise CommandError(BAD_PAYLOAD) from None
        raise CommandError("ERR Bad data format") from None
    when = None
    if ttl:
        when = ttl if absttl else ctx.now + ttl
    existed = db.lookup(key) is not None
    if when is not None and already_expired(ctx.server, when):
        # Already expired: the key is not created (an existing one is deleted under REPLACE).
        if existed:
            db.delete(key)
            ctx.touched(key)
            ctx.propagate_as = [[b"DEL", key]]
        return OK
    if existed:
        db.delete(key)
    db.add(key, value)
    db.set_access(key, freq, idle)  # objectSetLRUOrLFU
    if when is not None:
        db.set_expire(key, when)
        if not absttl:
            argv = list(ctx.argv)
            argv[2] = b"%d" % when
            argv.append(b"ABSTTL")
            ctx.propagate_as = [argv]
    ctx.touched(key)
    from ..core.notify import NOTIFY_GENERIC

    ctx.notify(NOTIFY_GENERIC, b"restore", key)
    return OK
