"""Hash commands (t_hash.c), with Redis 7.4's hash-field expiration.

Field deadlines (keyspace/hash.py: `h.ttls`, None for a hash no expiry command touched) are
honoured as Redis 7.4 does, command by command:

* HGET, HMGET, HEXISTS, HSTRLEN, HSETNX, HINCRBY, HINCRBYFLOAT (and SORT's BY/GET) expire the
  field they look at (hashTypeGetValue): it is deleted, counted in expired_subkeys, announced
  with `hexpired` (HMGET: once for the call), its HDEL propagated with the command's other
  effects, and a hash left empty is deleted (`del`).
* HGETALL, HKEYS, HVALS and HSCAN skip expired fields without deleting them; HRANDFIELD
  deletes every expired field first; HLEN counts them (as Redis's hashTypeLength(o, 0)).
* HSET/HMSET drop the deadline of the fields they write (an expired field that is still
  there is overwritten: an update, not a new field); HINCRBY/HINCRBYFLOAT keep it.
* The time is the command's (frozen in MULTI/EXEC and scripts): `db.clock_ms()`, which is
  before any deadline while a file loads, so nothing is deleted during a load.

The expiry commands (HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME,
HPEXPIRETIME, HPERSIST) answer one code per field (-2 no such field, -1 no deadline, 0 a
NX/XX/GT/LT condition not met, 1 done, 2 deleted because the time has passed). The setters
propagate as HPEXPIREAT with an absolute time and only the fields they changed, after an HDEL
per field they deleted (hexpireGenericCommand). They keep the hash registered in the
database's index for the active expiry (keyspace/expiry.py) as hashTypeSetExDone does.
"""

from __future__ import annotations

import random

from ..core.args import LONG_MAX, add_new, lookup_as, lookup_or_create, to_int, to_long_double, to_range_int
from ..core.client import Client
from ..core.longdouble import format_ld_human, ld_add
from ..core.notify import NOTIFY_GENERIC, NOTIFY_HASH
from ..core.spec import command
from ..errors import (INCR_FLOAT_NAN, INVALID_EXPIRE, OVERFLOW, SYNTAX, VALUE_OUT_OF_RANGE, CommandError,
                      wrong_arity)
from ..keyspace.hash import EXPIRE_TIME_MAX, HFE_MAX_ABS_TIME_MSEC, RHash, new_hash
from ..keyspace.scan import EMPTY_SCAN, parse_cursor, scan_reply
from ..protocol.replies import OK

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
# A negative count asks for that many picks with repetition. Redis streams them, so beyond a
# few hundred million it never finishes anyway; pyredis would build the list in memory first,
# so it refuses such counts instead of exhausting the machine's memory.
_MAX_REPEATS = 1 << 27

# hashTypeGetValue's answers
GETF_OK, GETF_NOT_FOUND, GETF_EXPIRED, GETF_EXPIRED_HASH = 0, 1, 2, 3
# Redis's EB_EXPIRE_TIME_INVALID: "no deadline", above every deadline
_NO_TTL = EXPIRE_TIME_MAX + 1
# HASH_NEW_EXPIRE_DIFF_THRESHOLD: a hash's registration moves only when its earliest deadline
# moves by at least this much
_REREGISTER_MS = 4000

FIELDS_MISSING = "ERR Mandatory argument FIELDS is missing or not at the right position"
NUMFIELDS_MISMATCH = "ERR The `numfields` parameter must match the number of arguments"
NUMFIELDS_SETTER = "ERR Parameter `numFields` should be greater than 0"
NUMFIELDS_POSITIVE = "ERR Number of fields must be a positive integer"


# --- lazy expiry of fields ----------------------------------------------------------------
def also_propagate(ctx: Client, argv: list[bytes]) -> None:
    """Redis's alsoPropagate from inside a command: an effect propagated before the command's
    own (the effects of one call travel in one MULTI/EXEC when there are several)."""
    if ctx.server.propagation.active:
        pending = ctx.propagate_as
        if pending is None:
            ctx.propagate_as = [argv]
        else:
            pending.append(argv)


def propagate_self(ctx: Client, argv: list[bytes]) -> None:
    """The command's own effect, after what also_propagate queued (when it queued anything:
    otherwise dispatch propagates argv itself)."""
    if ctx.propagate_as is not None:
        ctx.propagate_as.append(argv)


def expire_field(ctx: Client, key: bytes, h: RHash, field: bytes, notify: bool = True) -> bool:
    """Delete an expired field met by a command (the tail of hashTypeGetValue); True when
    that emptied the hash and deleted the key."""
    h.remove(field)
    state = ctx.server
    state.stats.expired_subkeys += 1
    also_propagate(ctx, [b"HDEL", key, field])
    if notify:
        ctx.notify(NOTIFY_HASH, b"hexpired", key)
    deleted = False
    if not h:
        if notify:
            ctx.notify(NOTIFY_GENERIC, b"del", key)
        ctx.db.delete(key)
        deleted = True
    ctx.db.resized(key)  # used_memory: the hash lost a field
    if state.key_change_hooks:
        state.signal_modified(ctx.db, key)
    return deleted


def get_field(ctx: Client, key: bytes, h: RHash, field: bytes, notify: bool = True) -> tuple[bytes | None, int]:
    """hashTypeGetValue for a hash with deadlines: (value, GETF_*); an expired field is deleted."""
    v = h.get(field)
    if v is None:
        return None, GETF_NOT_FOUND
    when = h.ttls.get(field)
    if when is None or when >= ctx.db.clock_ms():
        return v, GETF_OK
    return None, GETF_EXPIRED_HASH if expire_field(ctx, key, h, field, notify) else GETF_EXPIRED


def _alive(ctx: Client, h: RHash):
    """A test `field -> not expired` for the commands that skip expired fields."""
    ttls = h.ttls
    now = ctx.db.clock_ms()
    return lambda f: (t := ttls.get(f)) is None or t >= now


def expire_all(ctx: Client, key: bytes, h: RHash) -> bool:
    """hashTypeExpireIfNeeded (HRANDFIELD): delete every expired field; True when the hash
    was emptied and deleted. The hash is registered again under its next deadline."""
    now = ctx.db.clock_ms()
    m = h.min_ttl()
    if m is None or m >= now:
        return False
    db = ctx.db
    fields = h.expired_fields(now)
    for f in fields:
        h.remove(f)
        also_propagate(ctx, [b"HDEL", key, f])
    state = ctx.server
    state.stats.expired_subkeys += len(fields)
    ctx.notify(NOTIFY_HASH, b"hexpired", key)
    deleted = not h
    if deleted:
        db.delete(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
    else:
        db.hfe_unregister(key, h)
        nxt = h.min_ttl()
        if nxt is not None:
            db.hfe_register(key, h, nxt)
    db.resized(key)  # used_memory: the hash lost fields
    if state.key_change_hooks:
        state.signal_modified(db, key)
    return deleted



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
    ttls = h.ttls
    if n == 2:
        f, v = args
        if ttls and f in ttls:
            h.persist(f)  # HSET drops the field's deadline (a listpackex moves it to its end)
        h[f] = v
        if not h.ht:
            cv = ctx.server.config.values
            limit = cv["hash-max-listpack-value"]
            if len(f) > limit or len(v) > limit or len(h) > cv["hash-max-listpack-entries"]:
                h.ht = True
    else:
        if not h.ht:
            h.check_value_len(ctx.server.config, args)
        if ttls:
            for i in range(0, n, 2):
                f = args[i]
                if f in ttls:
                    h.persist(f)
                h[f] = args[i + 1]
        else:
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
    if h.ttls:
        _, res = get_field(ctx, key, h, field)
        if res == GETF_OK:
            return 0
        if res == GETF_EXPIRED_HASH:  # the expired field was the last one: a new hash
            h = new_hash()
            add_new(ctx, key, h)
    elif field in h:
        return 0
    _set_one(ctx, h, field, value)
    ctx.touched(key)
    ctx.notify(NOTIFY_HASH, b"hset", key)
    propagate_self(ctx, list(ctx.argv))
    return 1


@command("HGET", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hget(ctx: Client, key: bytes, field: bytes):
    """Returns the value of a field in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return None
    if h.ttls:
        return get_field(ctx, key, h, field)[0]
    return h.get(field)


@command("HMGET", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hmget(ctx: Client, key: bytes, *fields: bytes):
    """Returns the values of all fields in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return [None] * len(fields)
    if h.ttls:
        return _hmget_ex(ctx, key, h, fields)
    g = h.get
    return [g(f) for f in fields]


def _hmget_ex(ctx: Client, key: bytes, h: RHash, fields) -> list:
    """HMGET over a hash with deadlines: one `hexpired` (and `del`) for the whole call, sent
    only when some expired field did not empty the hash (Redis counts those apart)."""
    out = []
    expired = deleted = 0
    for f in fields:
        if deleted:
            out.append(None)
            continue
        v, res = get_field(ctx, key, h, f, notify=False)
        out.append(v)
        if res == GETF_EXPIRED:
            expired += 1
        elif res == GETF_EXPIRED_HASH:
            deleted += 1
    if expired:
        ctx.notify(NOTIFY_HASH, b"hexpired", key)
        if deleted:
            ctx.notify(NOTIFY_GENERIC, b"del", key)
    return out


@command("HDEL", arity=-3, flags="write fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hdel(ctx: Client, key: bytes, *fields: bytes):
    """Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return 0
    n = 0
    removed = False
    ttls = h.ttls
    for f in fields:
        if f in h:
            del h[f]
            if ttls:
                ttls.pop(f, None)
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
    v = get_field(ctx, key, h, field)[0] if h.ttls else h.get(field)
    return 0 if v is None else len(v)


@command("HEXISTS", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hexists(ctx: Client, key: bytes, field: bytes):
    """Determines whether a field exists in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return 0
    if h.ttls:
        return 1 if get_field(ctx, key, h, field)[1] == GETF_OK else 0
    return 1 if field in h else 0


@command("HKEYS", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0")
def hkeys(ctx: Client, key: bytes):
    """Returns all fields in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return []
    if h.ttls:
        return list(filter(_alive(ctx, h), h))
    return list(h)


@command("HVALS", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0")
def hvals(ctx: Client, key: bytes):
    """Returns all values in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return []
    if h.ttls:
        alive = _alive(ctx, h)
        return [v for f, v in h.items() if alive(f)]
    return list(h.values())


@command("HGETALL", arity=2, flags="readonly", keys=(1, 1, 1), group="hash", since="2.0.0")
def hgetall(ctx: Client, key: bytes):
    """Returns all fields and values in a hash."""
    h = lookup_as(ctx, key, RHash)
    if h is None:
        return {}
    if h.ttls:
        alive = _alive(ctx, h)
        return {f: v for f, v in h.items() if alive(f)}
    return dict(h)


@command("HINCRBY", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0")
def hincrby(ctx: Client, key: bytes, field: bytes, increment: bytes):
    """Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."""
    incr = to_int(increment)
    h = lookup_or_create(ctx, key, RHash, new_hash)
    cur = _get_for_update(ctx, key, h, field) if h.ttls else h.get(field)
    if cur is _RECREATE:
        h, cur = _recreate(ctx, key), None
    old = 0 if cur is None else to_int(cur, "ERR hash value is not an integer")
    new = old + incr
    if new > _I64_MAX or new < _I64_MIN:
        raise CommandError(OVERFLOW)
    _set_one(ctx, h, field, b"%d" % new)  # a field keeps its deadline (HASH_SET_KEEP_TTL)
    ctx.touched(key)
    ctx.notify(NOTIFY_HASH, b"hincrby", key)
    propagate_self(ctx, list(ctx.argv))
    return new


_RECREATE = object()


def _get_for_update(ctx: Client, key: bytes, h: RHash, field: bytes):
    """The field's value for HINCRBY/HINCRBYFLOAT (None when missing or expired), or
    _RECREATE when expiring it deleted the hash (the command then works on a new one)."""
    v, res = get_field(ctx, key, h, field)
    return _RECREATE if res == GETF_EXPIRED_HASH else v


def _recreate(ctx: Client, key: bytes) -> RHash:
    h = new_hash()
    add_new(ctx, key, h)
    return h


@command("HINCRBYFLOAT", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="2.6.0")
def hincrbyfloat(ctx: Client, key: bytes, field: bytes, increment: bytes):
    """Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."""
    incr = to_long_double(increment)
    if type(incr) is str:  # inf
        raise CommandError("ERR value is NaN or Infinity")
    h = lookup_or_create(ctx, key, RHash, new_hash)
    cur = _get_for_update(ctx, key, h, field) if h.ttls else h.get(field)
    if cur is _RECREATE:
        h, cur = _recreate(ctx, key), None
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
    argv = [b"HSET", key, field, text]
    if ctx.propagate_as is None:
        ctx.propagate_as = [argv]
    else:
        ctx.propagate_as.append(argv)
    return text


@command("HRANDFIELD", arity=-2, flags="readonly", keys=(1, 1, 1), group="hash", since="6.2.0")
def hrandfield(ctx: Client, key: bytes, *args: bytes):
    """Returns one or more random fields from a hash."""
    if not args:
        h = lookup_as(ctx, key, RHash)
        if h is None:
            return None
        if h.ttls and expire_all(ctx, key, h):
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
    if h is None:
        return []
    if h.ttls and expire_all(ctx, key, h):
        return []
    if count == 0:
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
    value = None if novalues else h.__getitem__
    if h.ttls:  # expired fields are skipped, not deleted
        alive = _alive(ctx, h)
        return scan_reply(ctx, (ctx.db.id, key, id(h)), cur, options, lambda: list(filter(alive, h)),
                          small=not h.ht, contains=lambda f: f in h and alive(f), value=value)
    return scan_reply(ctx, (ctx.db.id, key, id(h)), cur, options, lambda: list(h), small=not h.ht,
                      contains=h.__contains__, value=value)


# --- hash-field expiration (Redis 7.4) ------------------------------------------------------
_NX, _XX, _GT, _LT = 1, 2, 4, 8
_CONDITIONS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}


def _fields_arg(args: tuple[bytes, ...], at: int, numfields_error: str) -> tuple[bytes, ...]:
    """`FIELDS numfields field ...` starting at args[at], checked in Redis's order."""
    if at >= len(args) or args[at].lower() != b"fields":
        raise CommandError(FIELDS_MISSING)
    n = to_range_int(args[at + 1], 1, LONG_MAX, numfields_error) if at + 1 < len(args) else 0
    fields = args[at + 2:]
    if n != len(fields):
        raise CommandError(NUMFIELDS_MISMATCH)
    return fields


def _hexpire_generic(ctx: Client, name: str, key: bytes, when_arg: bytes, rest: tuple[bytes, ...],
                     basetime: int, unit_ms: int):
    """hexpireGenericCommand: HEXPIRE/HPEXPIRE/HEXPIREAT/HPEXPIREAT key time [NX|XX|GT|LT]
    FIELDS numfields field..."""
    h = lookup_as(ctx, key, RHash)  # lookupKeyWrite + checkType, before the arguments
    expire = to_int(when_arg)
    if expire < 0:
        raise CommandError("ERR invalid expire time, must be >= 0")
    if unit_ms == 1000:
        if expire > HFE_MAX_ABS_TIME_MSEC // 1000:
            raise CommandError(INVALID_EXPIRE % name)
        expire *= 1000
    if expire > HFE_MAX_ABS_TIME_MSEC - basetime:
        raise CommandError(INVALID_EXPIRE % name)
    expire += basetime
    cond = _CONDITIONS.get(rest[0].lower(), 0)
    at = 1 if cond else 0
    fields = _fields_arg(rest, at, NUMFIELDS_SETTER)
    if h is None:
        return [-2] * len(fields)
    db = ctx.db
    state = ctx.server
    h.attach_ttls()  # hashTypeSetExInit: a listpack becomes a listpackex, fields set or not
    ttls = h.ttls
    registered = _NO_TTL if h.hmin is None else h.hmin
    min_fields = _NO_TTL  # the deadlines this call moved (minExpireFields)
    now = db.clock_ms()  # checkAlreadyExpired: never while loading
    out = []
    kept = []
    updated = deleted = 0
    for f in fields:
        if f not in h:
            out.append(-2)
            continue
        prev = ttls.get(f)
        if prev is None:
            if cond & (_XX | _GT):  # a field without deadline passes LT, not XX or GT
                out.append(0)
                continue
        else:
            if (cond == _GT and prev >= expire) or (cond == _LT and prev <= expire) or cond == _NX:
                out.append(0)
                continue
            if prev < min_fields:
                min_fields = prev
        if expire <= now:
            also_propagate(ctx, [b"HDEL", key, f])
            h.remove(f)
            state.stats.expired_subkeys += 1
            deleted += 1
            out.append(2)
            continue
        if expire < min_fields:
            min_fields = expire
        h.set_ttl(f, expire)
        updated += 1
        kept.append(f)
        out.append(1)
    if updated + deleted:  # hashTypeSetExDone
        state.dirty += updated + deleted
        db.resized(key)  # used_memory: fields deleted or given a deadline
        if deleted and not h:
            db.delete(key)
            if state.key_change_hooks:
                state.signal_modified(db, key)
            ctx.notify(NOTIFY_HASH, b"hdel", key)
            ctx.notify(NOTIFY_GENERIC, b"del", key)
        else:
            if state.key_change_hooks:
                state.signal_modified(db, key)
            ctx.notify(NOTIFY_HASH, b"hdel" if deleted else b"hexpire", key)
            _reregister(db, key, h, registered, min_fields)
    if updated:
        # propagated as HPEXPIREAT with the absolute time and the fields it set
        argv = list(ctx.argv)
        if name != "hpexpireat":
            argv[0] = b"HPEXPIREAT"
        if basetime or unit_ms == 1000:
            argv[2] = b"%d" % expire
        if updated != len(fields):
            nf = 4 + at
            argv[nf] = b"%d" % updated
            del argv[nf + 1:]
            argv.extend(kept)
        if ctx.propagate_as is None:
            ctx.propagate_as = [argv]
        else:
            ctx.propagate_as.append(argv)
    # nothing set: only the HDELs queued above are propagated
    return out


def _reregister(db, key: bytes, h: RHash, registered: int, min_fields: int) -> None:
    """hashTypeSetExDone: move the hash's registration for the active expiry when the earliest
    deadline may have moved, and moved by 4 s or more."""
    if registered < min_fields:
        return
    new = h.min_ttl()
    newv = _NO_TTL if new is None else new
    if abs(registered - newv) < _REREGISTER_MS:
        return
    if registered != _NO_TTL:
        db.hfe_unregister(key, h)
    if new is not None:
        db.hfe_register(key, h, new)


@command("HEXPIRE", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hexpire(ctx: Client, key: bytes, seconds: bytes, *rest: bytes):
    """Set expiry for hash field using relative time to expire (seconds)"""
    return _hexpire_generic(ctx, "hexpire", key, seconds, rest, ctx.now, 1000)


@command("HPEXPIRE", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hpexpire(ctx: Client, key: bytes, milliseconds: bytes, *rest: bytes):
    """Set expiry for hash field using relative time to expire (milliseconds)"""
    return _hexpire_generic(ctx, "hpexpire", key, milliseconds, rest, ctx.now, 1)


@command("HEXPIREAT", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hexpireat(ctx: Client, key: bytes, unix_time_seconds: bytes, *rest: bytes):
    """Set expiry for hash field using an absolute Unix timestamp (seconds)"""
    return _hexpire_generic(ctx, "hexpireat", key, unix_time_seconds, rest, 0, 1000)


@command("HPEXPIREAT", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hpexpireat(ctx: Client, key: bytes, unix_time_milliseconds: bytes, *rest: bytes):
    """Set expiry for hash field using an absolute Unix timestamp (milliseconds)"""
    return _hexpire_generic(ctx, "hpexpireat", key, unix_time_milliseconds, rest, 0, 1)


def _httl_generic(ctx: Client, key: bytes, args: tuple[bytes, ...], basetime: int, unit_ms: int):
    """httlGenericCommand: HTTL/HPTTL/HEXPIRETIME/HPEXPIRETIME key FIELDS numfields field..."""
    h = lookup_as(ctx, key, RHash)
    fields = _fields_arg(args, 0, NUMFIELDS_POSITIVE)
    if h is None:
        return [-2] * len(fields)
    ttls = h.ttls
    if ttls is None:
        return [-1 if f in h else -2 for f in fields]
    now = ctx.now
    listpack = not h.ht  # a listpackex answers -2 from the deadline's millisecond on
    out = []
    for f in fields:
        if f not in h:
            out.append(-2)
            continue
        t = ttls.get(f)
        if t is None:
            out.append(-1)
        elif t < now or (listpack and t == now):
            out.append(-2)
        elif unit_ms == 1000:
            out.append((t + 999 - basetime) // 1000)
        else:
            out.append(t - basetime)
    return out


@command("HTTL", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def httl(ctx: Client, key: bytes, *args: bytes):
    """Returns the TTL in seconds of a hash field."""
    return _httl_generic(ctx, key, args, ctx.now, 1000)


@command("HPTTL", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hpttl(ctx: Client, key: bytes, *args: bytes):
    """Returns the TTL in milliseconds of a hash field."""
    return _httl_generic(ctx, key, args, ctx.now, 1)


@command("HEXPIRETIME", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hexpiretime(ctx: Client, key: bytes, *args: bytes):
    """Returns the expiration time of a hash field as a Unix timestamp, in seconds."""
    return _httl_generic(ctx, key, args, 0, 1000)


@command("HPEXPIRETIME", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hpexpiretime(ctx: Client, key: bytes, *args: bytes):
    """Returns the expiration time of a hash field as a Unix timestamp, in msec."""
    return _httl_generic(ctx, key, args, 0, 1)


@command("HPERSIST", arity=-5, flags="write fast", keys=(1, 1, 1), group="hash", since="7.4.0")
def hpersist(ctx: Client, key: bytes, *args: bytes):
    """Removes the expiration time for each specified field"""
    h = lookup_as(ctx, key, RHash)
    fields = _fields_arg(args, 0, NUMFIELDS_POSITIVE)
    if h is None:
        return [-2] * len(fields)
    ttls = h.ttls
    if ttls is None:
        return [-1 if f in h else -2 for f in fields]
    now = ctx.now
    out = []
    changed = False
    for f in fields:
        if f not in h:
            out.append(-2)
            continue
        t = ttls.get(f)
        if t is None:
            out.append(-1)
        elif t < now:  # already expired: as if there were no such field
            out.append(-2)
        else:
            h.persist(f)  # the registration stays (the active expiry corrects it)
            out.append(1)
            changed = True
    if changed:
        ctx.notify(NOTIFY_HASH, b"hpersist", key)
        ctx.touched(key)
    return out
