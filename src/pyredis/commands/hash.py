"""Hash commands (Redis 7.0 semantics, t_hash.c)."""

from __future__ import annotations

import random

from ..core.args import LONG_MAX, lookup_as, lookup_or_create, to_int, to_long_double, to_range_int
from ..core.client import Client
from ..core.longdouble import format_ld_human, ld_add
from ..core.notify import NOTIFY_GENERIC, NOTIFY_HASH
from ..core.spec import command
from ..errors import INCR_FLOAT_NAN, OVERFLOW, SYNTAX, VALUE_OUT_OF_RANGE, CommandError, wrong_arity
from ..keyspace.hash import RHash, new_hash
from ..keyspace.scan import EMPTY_SCAN, parse_cursor, scan_reply
from ..protocol.replies import OK

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
# A negative count asks for that many picks with repetition. Redis streams them, so beyond a
# few hundred million it never finishes anyway; pyredis would build the list in memory first,
# so it refuses such counts instead of exhausting the machine's memory.
_MAX_REPEATS = 1 << 27



def _set_one(ctx: Client, h: RHash, field: bytes, value: bytes) -> None:
    """hashTypeSet: long field/value or too many fields convert a listpack."""
    h[field] = value
    if not h.ht:
        cv = ctx.server.config.values
        limit = cv["hash-max-listpack-value"]
        if len(field) > limit or len(value) > limit or len(h) > cv["hash-max-listpack-entries"]:
            h.ht = True


@command("HSET", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hset(ctx: Client, key: bytes, *args: bytes):
    """Creates or modifies the value of a field in a hash."""
    n = len(args)
    if n & 1:
        raise wrong_arity("hset")
    h = lookup_or_create(ctx, key, RHash, new_hash)
    before = len(h)
    if n == 2:
        f, v = args
        h[f] = v
        if not h.ht:
            cv = ctx.server.config.values
            limit = cv["hash-max-listpack-value"]
            if len(f) > limit or len(v) > limit or len(h) > cv["hash-max-listpack-entries"]:
                h.ht = True
    else:
        if not h.ht:
            h.check_value_len(ctx.server.config, args)
        h.update(zip(args[::2], args[1::2]))
        if not h.ht and len(h) > ctx.server.config.values["hash-max-listpack-entries"]:
            h.ht = True
        ctx.server.dirty += n // 2 - 1  # Redis counts one change per pair
    ctx.touched(key)
    if ctx.server.notify_flags:
        ctx.notify(NOTIFY_HASH, b"hset", key)
    return len(h) - before


@command("HMSET", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hmset(ctx: Client, key: bytes, *args: bytes):
    """Sets the values of multiple fields."""
    if len(args) & 1:
        raise wrong_arity("hmset")
    hset(ctx, key, *args)
    return OK


@command("HSETNX", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hsetnx(ctx: Client, key: bytes, field: bytes, value: bytes):
    """Sets the value of a field in a hash only when the field doesn't exist."""
    h = lookup_or_create(ctx, key, RHash, new_hash)
    if field in h:
        return 0
    _set_one(ctx, h, field, value)
    ctx.touched(key)
    ctx.notify(NOTIFY_HASH, b"hset", key)
    return 1


@command("HGET", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hget(ctx: Client, key: bytes, field: bytes):
    """Returns the value of a field in a hash."""
    h = lookup_as(ctx, key, RHash)
    return None if h is None else h.get(field)


@command("HMGET", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hmget(ctx: Client, key: bytes, *fields: bytes):
    """Returns the values of all fields in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return [None] * len(fields)
    g = h.get
    return [g(f) for f in fields]


@command("HDEL", arity=-3, flags="write fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hdel(ctx: Client, key: bytes, *fields: bytes):
    """Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return 0
    n = 0
    removed = False
    for f in fields:
        if f in h:
            del h[f]
            n += 1
            if not h:
                ctx.db.delete(key)
                removed = True
                break
    if n:
        ctx.server.dirty += n - 1
        ctx.touched(key)
        ctx.notify(NOTIFY_HASH, b"hdel", key)
        if removed:
            ctx.notify(NOTIFY_GENERIC, b"del", key)
    return n


@command("HLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hlen(ctx: Client, key: bytes):
    """Returns the number of fields in a hash."""
    h = lookup_as(ctx, key, RHash)
    return 0 if h is None else len(h)


@command("HSTRLEN", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="3.2.0")
def hstrlen(ctx: Client, key: bytes, field: bytes):
    """Returns the length of the value of a field."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return 0
    v = h.get(field)
    return 0 if v is None else len(v)


@command("HEXISTS", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hexists(ctx: Client, key: bytes, field: bytes):
    """Determines whether a field exists in a hash."""
    h = lookup_as(ctx, key, RHash)
    return 1 if h is not None and field in h else 0


@command("HKEYS", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0")
def hkeys(ctx: Client, key: bytes):
    """Returns all fields in a hash."""
    h = lookup_as(ctx, key, RHash)
    return [] if h is None else list(h)


@command("HVALS", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0")
def hvals(ctx: Client, key: bytes):
    """Returns all values in a hash."""
    h = lookup_as(ctx, key, RHash)
    return [] if h is None else list(h.values())


@command("HGETALL", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0")
def hgetall(ctx: Client, key: bytes):
    """Returns all fields and values in a hash."""
    h = lookup_as(ctx, key, RHash)
    return {} if h is None else dict(h)


@command("HINCRBY", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hincrby(ctx: Client, key: bytes, field: bytes, increment: bytes):
    """Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."""
    incr = to_int(increment)
    h = lookup_or_create(ctx, key, RHash, new_hash)
    cur = h.get(field)
    old = 0 if cur is None else to_int(cur, "ERR hash value is not an integer")
    new = old + incr
    if new > _I64_MAX or new < _I64_MIN:
        raise CommandError(OVERFLOW)
    _set_one(ctx, h, field, b"%d" % new)
    ctx.touched(key)
    ctx.notify(NOTIFY_HASH, b"hincrby", key)
    return new


@command("HINCRBYFLOAT", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.6.0")
def hincrbyfloat(ctx: Client, key: bytes, field: bytes, increment: bytes):
    """Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."""
    incr = to_long_double(increment)
    if type(incr) is str:  # inf
        raise CommandError("ERR value is NaN or Infinity")
    h = lookup_or_create(ctx, key, RHash, new_hash)
    cur = h.get(field)
    if cur is None:
        new = incr
    else:
        old = to_long_double(cur, "ERR hash value is not a float")
        new = None if type(old) is str else ld_add(old, incr)
    if new is None:
        raise CommandError(INCR_FLOAT_NAN)
    text = format_ld_human(new)
    _set_one(ctx, h, field, text)
    ctx.touched(key)
    ctx.notify(NOTIFY_HASH, b"hincrbyfloat", key)
    ctx.propagate_as = [[b"HSET", key, field, text]]
    return text


@command("HRANDFIELD", arity=-2, flags="readonly", keys=(1, 1, 1), group="hash", since="6.2.0")
def hrandfield(ctx: Client, key: bytes, *args: bytes):
    """Returns one or more random fields from a hash."""
    if not args:
        h = lookup_as(ctx, key, RHash)
        if h is None:
            return None
        return random.choice(list(h))
    count = to_range_int(args[0], -LONG_MAX, LONG_MAX)
    withvalues = False
    if len(args) > 2 or (len(args) == 2 and args[1].lower() != b"withvalues"):
        raise CommandError(SYNTAX)
    if len(args) == 2:
        withvalues = True
        if count < -(LONG_MAX // 2) or count > LONG_MAX // 2:
            raise CommandError(VALUE_OUT_OF_RANGE)
    h = lookup_as(ctx, key, RHash)
    if h is None or count == 0:
        return []
    size = len(h)
    if count < 0:
        if count < -_MAX_REPEATS:
            raise CommandError(VALUE_OUT_OF_RANGE)
        fields = random.choices(list(h), k=-count)
    elif count >= size:
        fields = list(h)
    else:
        fields = random.sample(list(h), count)
    if not withvalues:
        return fields
    if ctx.resp == 2:
        out = []
        for f in fields:
            out.append(f)
            out.append(h[f])
        return out
    return [[f, h[f]] for f in fields]


@command("HSCAN", arity=-3, flags="readonly", keys=(1, 1, 1), group="hash", since="2.8.0")
def hscan(ctx: Client, key: bytes, cursor: bytes, *options: bytes):
    """Iterates over fields and values of a hash."""
    later = ctx.server.compat.at_least("7.4", "valkey-8.0")
    cur = parse_cursor(cursor, later)
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return EMPTY_SCAN
    novalues = False
    if later:  # 7.4's NOVALUES: the fields only (a word of its own among the option pairs)
        opts: list[bytes] = []
        i = 0
        while i < len(options):
            if options[i].lower() == b"novalues":
                novalues = True
                i += 1
                continue
            opts += options[i:i + 2]
            i += 2
        options = tuple(opts)
    return scan_reply(ctx, (ctx.db.id, key, id(h)), cur, options, lambda: list(h), small=not h.ht,
                      contains=h.__contains__, value=None if novalues else h.__getitem__)
