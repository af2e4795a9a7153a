"""String commands: GET SET SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX APPEND
STRLEN INCR INCRBY INCRBYFLOAT DECR DECRBY GETRANGE SUBSTR SETRANGE LCS.

Strings are stored as plain `bytes`; integers too (b"42"). Expiry deadlines are absolute ms
in db.expires. The order of checks in each handler follows Redis's t_string.c, because it
decides which error wins when several apply.
"""

from __future__ import annotations

from ..core.args import Options, clamp_ends, frozen, lookup_as, to_int, to_long_double, unshare_string
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_STRING
from ..core.replication import already_expired
from ..core.spec import command
from ..core.longdouble import format_ld_human, ld_add
from ..keyspace.pairs import set_pairs
from ..errors import (
    INCR_FLOAT_NAN,
    INVALID_EXPIRE,
    NOT_INTEGER,
    OFFSET_RANGE,
    OVERFLOW,
    STRING_TOO_LONG,
    SYNTAX,
    WRONGTYPE,
    CommandError,
    wrong_arity,
)
from ..protocol.replies import OK

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)

# parseExtendedStringArgumentsOrReply flags
_NX, _XX, _GET, _KEEPTTL, _PERSIST, _EX, _PX, _EXAT, _PXAT = (1 << i for i in range(9))
_ANY_EXPIRE = _EX | _PX | _EXAT | _PXAT


def _notify(ctx: Client, key: bytes, new: bool, type_: int, event: bytes) -> None:
    """Keyspace events of a write: "new" first when the key was created (dbAdd), then `event`."""
    if new:
        ctx.notify(NOTIFY_NEW, b"new", key)
    ctx.notify(type_, event, key)


def _parse_ext(args: tuple[bytes, ...], for_set: bool):
    """parseExtendedStringArgumentsOrReply: (flags, expire argument or None)."""
    flags = 0
    expire = None
    o = Options(args)
    while o:
        opt = o.next_upper()
        has_next = o.has_more()
        if opt == b"NX" and for_set and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and for_set and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and for_set:
            flags |= _GET
        elif opt == b"KEEPTTL" and for_set and not flags & (_PERSIST | _ANY_EXPIRE):
            flags |= _KEEPTTL
        elif opt == b"PERSIST" and not for_set and not flags & (_ANY_EXPIRE | _KEEPTTL):
            flags |= _PERSIST
        elif opt == b"EX" and has_next and not flags & (_KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT):
            flags |= _EX
            expire = o.value()
        elif opt == b"PX" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT):
            flags |= _PX
            expire = o.value()
        elif opt == b"EXAT" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _PX | _PXAT):
            flags |= _EXAT
            expire = o.value()
        elif opt == b"PXAT" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PX):
            flags |= _PXAT
            expire = o.value()
        else:
            raise CommandError(SYNTAX)
    return flags, expire


def _expire_ms(ctx: Client, expire: bytes, flags: int, name: str) -> int:
    """getExpireMillisecondsOrReply: the absolute deadline in ms."""
    ms = to_int(expire)
    seconds = flags & (_EX | _EXAT)
    if ms <= 0 or (seconds and ms > LLONG_MAX // 1000):
        raise CommandError(INVALID_EXPIRE % name)
    if seconds:
        ms *= 1000
    if flags & (_EX | _PX):
        ms += ctx.now
        if ms > LLONG_MAX:  # signed overflow in Redis
            raise CommandError(INVALID_EXPIRE % name)
    return ms


def _set_generic(ctx: Client, flags: int, key: bytes, value: bytes, expire: bytes | None, name: str,
                 ok_reply=OK, abort_reply=None):
    """setGenericCommand."""
    when = 0
    if expire is not None:
        when = _expire_ms(ctx, expire, flags, name)
    db = ctx.db
    old = None
    if flags & _GET:
        old = frozen(lookup_as(ctx, key, bytes))
        found = old is not None
        if found and db.lfu is not None:
            db.lookup(key)  # ...then lookupKeyWrite: two accesses for the LFU counter
    else:
        found = db.lookup(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return old if flags & _GET else abort_reply
    if expire is not None and when <= ctx.now and ctx.server.compat.valkey:
        # Valkey 8 (checkAlreadyExpired): a deadline already past deletes the key instead
        ctx.propagate_as = []
        if found:
            db.delete(key)
            ctx.propagate_as = [[b"DEL", key]]
            ctx.touched(key)
            ctx.notify(NOTIFY_GENERIC, b"del", key)
        return old if flags & _GET else ok_reply
    db.set(key, value, flags & _KEEPTTL)
    notify = ctx.server.notify_flags
    if notify:
        _notify(ctx, key, not found, NOTIFY_STRING, b"set")
    if expire is not None:
        db.set_expire(key, when)
        ctx.propagate_as = [[b"SET", key, value, b"PXAT", b"%d" % when]]
        if notify:
            ctx.notify(NOTIFY_GENERIC, b"expire", key)
    elif flags & _GET:
        argv = ctx.argv
        ctx.propagate_as = [list(argv[:3]) + [a for a in argv[3:] if a.upper() != b"GET"]]
    ctx.touched(key)
    return old if flags & _GET else ok_reply


@command("GET", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key", since="1.0.0", complexity="O(1)")
def get(ctx: Client, key: bytes):
    v = ctx.db.lookup(key)  # lookup_as inlined: GET is the hottest command
    if v is None or type(v) is bytes:
        return v
    if type(v) is bytearray:
        return bytes(v)  # a string changed in place: the reply is a copy of it now
    raise CommandError(WRONGTYPE)


@command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the string value of a key", since="1.0.0", complexity="O(1)")
def set_(ctx: Client, key: bytes, value: bytes, *options: bytes):
    if not options:
        db = ctx.db
        if ctx.server.notify_flags or db.lfu is not None:  # events; LFU: lookupKeyWrite's touch
            return _set_generic(ctx, 0, key, value, None, "set")
        if db.expires:  # lookupKeyWrite: an expired key is first expired (stats, DEL propagated)
            db.expire_if_needed(key)
        db.set(key, value)
        # ctx.touched(key) inlined: a string stored leaves no collection estimate to refresh
        server = ctx.server
        server.dirty += 1
        if server.key_change_hooks:
            server.signal_modified(db, key)
        return OK
    flags, expire = _parse_ext(options, True)
    return _set_generic(ctx, flags, key, value, expire, "set")


@command("SETNX", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Set the value of a key, only if the key does not exist", since="1.0.0",
         complexity="O(1)")
def setnx(ctx: Client, key: bytes, value: bytes):
    db = ctx.db
    if db.lookup(key) is not None:
        return 0
    db.set(key, value)
    if ctx.server.notify_flags:
        _notify(ctx, key, True, NOTIFY_STRING, b"set")
    ctx.touched(key)
    return 1


@command("SETEX", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the value and expiration of a key", since="2.0.0", complexity="O(1)")
def setex(ctx: Client, key: bytes, seconds: bytes, value: bytes):
    return _set_generic(ctx, _EX, key, value, seconds, "setex")


@command("PSETEX", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Set the value and expiration in milliseconds of a key", since="2.6.0",
         complexity="O(1)")
def psetex(ctx: Client, key: bytes, milliseconds: bytes, value: bytes):
    return _set_generic(ctx, _PX, key, value, milliseconds, "psetex")


@command("MGET", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="string",
         summary="Get the values of all the given keys", since="1.0.0",
         complexity="O(N) where N is the number of keys to retrieve.")
def mget(ctx: Client, *keys: bytes):
    lookup = ctx.db.lookup
    out = []
    for k in keys:
        v = lookup(k)
        out.append(v if type(v) is bytes else bytes(v) if type(v) is bytearray else None)
    return out


@command("MSET", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         summary="Set multiple keys to multiple values", since="1.0.1",
         complexity="O(N) where N is the number of keys to set.")
def mset(ctx: Client, *args: bytes):
    n = len(args)
    if n & 1:
        raise wrong_arity("mset")
    db = ctx.db
    server = ctx.server
    notify = server.notify_flags
    if not notify and db.lfu is None and not db.expires and not server.key_change_hooks:
        # the common case: no TTL to check, nobody watching; a string stored leaves no
        # collection estimate to refresh (Database.set), so ctx.touched comes down to the
        # dirty count
        set_pairs(db, args)
        server.dirty += n >> 1
        return OK
    dbset = db.set
    touched = ctx.touched
    if notify or db.lfu is not None:  # events; LFU: setKey's lookupKeyWrite touches the key
        for i in range(0, n, 2):
            k = args[i]
            new = db.lookup(k) is None
            dbset(k, args[i + 1])
            if notify:
                _notify(ctx, k, new, NOTIFY_STRING, b"set")
            touched(k)
        return OK
    # a TTL in the database (each key expired first if due) or key watchers
    expire_if_needed = db.expire_if_needed if db.expires else None
    for i in range(0, n, 2):
        k = args[i]
        if expire_if_needed is not None:
            expire_if_needed(k)
        dbset(k, args[i + 1])
        touched(k)
    return OK


@command("MSETNX", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         summary="Set multiple keys to multiple values, only if none of the keys exist",
         since="1.0.1", complexity="O(N) where N is the number of keys to set.")
def msetnx(ctx: Client, *args: bytes):
    n = len(args)
    if n & 1:
        raise wrong_arity("msetnx")
    db = ctx.db
    for i in range(0, n, 2):
        if db.lookup(args[i]) is not None:
            return 0
    notify = ctx.server.notify_flags
    for i in range(0, n, 2):
        k = args[i]
        new = notify and db.lookup(k) is None  # a key repeated in the arguments exists by now
        db.set(k, args[i + 1])
        if notify:
            _notify(ctx, k, new, NOTIFY_STRING, b"set")
        ctx.touched(k)
    return 1


@command("GETSET", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Set the string value of a key and return its old value", since="1.0.0",
         complexity="O(1)")
def getset(ctx: Client, key: bytes, value: bytes):
    old = frozen(lookup_as(ctx, key, bytes))
    ctx.db.set(key, value)
    ctx.propagate_as = [[b"SET", key, value]]
    if ctx.server.notify_flags:
        _notify(ctx, key, old is None, NOTIFY_STRING, b"set")
    ctx.touched(key)
    return old


@command("GETDEL", arity=2, flags="write fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key and delete the key", since="6.2.0", complexity="O(1)")
def getdel(ctx: Client, key: bytes):
    old = frozen(lookup_as(ctx, key, bytes))
    if old is not None:
        ctx.db.delete(key)
        ctx.propagate_as = [[b"DEL", key]]
        ctx.touched(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
    return old


@command("GETEX", arity=-2, flags="write fast", keys=(1, 1, 1), group="string",
         summary="Get the value of a key and optionally set its expiration", since="6.2.0",
         complexity="O(1)")
def getex(ctx: Client, key: bytes, *options: bytes):
    flags, expire = _parse_ext(options, False)
    v = frozen(lookup_as(ctx, key, bytes))
    if v is None:
        return None
    when = 0
    if expire is not None:
        when = _expire_ms(ctx, expire, flags, "getex")
    db = ctx.db
    if flags & (_EXAT | _PXAT) and already_expired(ctx.server, when):
        db.delete(key)
        ctx.propagate_as = [[b"DEL", key]]
        ctx.touched(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
    elif expire is not None:
        db.set_expire(key, when)
        if flags & _PXAT:
            ctx.propagate_as = [list(ctx.argv)]
        else:
            ctx.propagate_as = [[b"PEXPIREAT", key, b"%d" % when]]
        ctx.touched(key)
        ctx.notify(NOTIFY_GENERIC, b"expire", key)
    elif flags & _PERSIST:
        if db.persist(key):
            ctx.propagate_as = [[b"PERSIST", key]]
            ctx.touched(key)
            ctx.notify(NOTIFY_GENERIC, b"persist", key)
    return v


@command("APPEND", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Append a value to a key", since="2.0.0",
         complexity="O(1). The amortized time complexity is O(1) assuming the appended value "
         "is small and the already present value is of any size, since the dynamic string "
         "library used by Redis will double the free space available on every reallocation.")
def append(ctx: Client, key: bytes, value: bytes):
    db = ctx.db
    old = lookup_as(ctx, key, bytes)
    if old is None:
        db.set(key, value)
        total = len(value)
    else:
        total = len(old) + len(value)
        if total > ctx.server.config["proto-max-bulk-len"]:
            raise CommandError(STRING_TOO_LONG)
        if type(old) is bytearray:
            old += value  # grown in place, amortized as Redis's sdsMakeRoomFor (ctx.touched re-prices it)
        else:
            new = bytearray(old)  # Redis's dbUnshareStringValue: a raw string from now on
            new += value
            db.set(key, new, True)
    ctx.touched(key)
    if ctx.server.notify_flags:
        _notify(ctx, key, old is None, NOTIFY_STRING, b"append")
    return total


@command("STRLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         summary="Get the length of the value stored in a key", since="2.2.0", complexity="O(1)")
def strlen(ctx: Client, key: bytes):
    v = lookup_as(ctx, key, bytes)
    return 0 if v is None else len(v)


def _incr(ctx: Client, key: bytes, incr: int):
    """incrDecrCommand: the TTL of an existing key is kept."""
    v = lookup_as(ctx, key, bytes)
    if v is None:
        new = incr
    else:
        new = to_int(v) + incr
        if new > LLONG_MAX or new < LLONG_MIN:
            raise CommandError(OVERFLOW)
    return _store_int(ctx, key, v, new)


def _store_int(ctx: Client, key: bytes, v, new: int) -> int:
    """The integer `new` stored over the looked-up value `v` (None: a new key), TTL kept."""
    db = ctx.db
    if type(v) is bytes:
        db.replace_int(key, v, b"%d" % new)
    else:  # new, or a raw string holding digits: replaced by an integer object, as Redis
        db.set(key, b"%d" % new, True)
    ctx.touched(key)
    if ctx.server.notify_flags:
        _notify(ctx, key, v is None, NOTIFY_STRING, b"incrby")
    return new


@command("INCR", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by one", since="1.0.0", complexity="O(1)")
def incr(ctx: Client, key: bytes):
    v = lookup_as(ctx, key, bytes)
    if v is None:
        new = 1
    else:
        # string2ll, inlined: int() then a canonical-form check (no '+', spaces, '_', leading
        # zeros or "-0"), which is cheaper than validating the digits first.
        try:
            new = int(v) if len(v) <= 20 else None
        except ValueError:
            new = None
        if new is None or b"%d" % new != v or new < LLONG_MIN or new > LLONG_MAX:
            raise CommandError(NOT_INTEGER)
        if new == LLONG_MAX:
            raise CommandError(OVERFLOW)
        new += 1
    return _store_int(ctx, key, v, new)


@command("DECR", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by one", since="1.0.0", complexity="O(1)")
def decr(ctx: Client, key: bytes):
    return _incr(ctx, key, -1)


@command("INCRBY", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the integer value of a key by the given amount", since="1.0.0",
         complexity="O(1)")
def incrby(ctx: Client, key: bytes, increment: bytes):
    return _incr(ctx, key, to_int(increment))


@command("DECRBY", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Decrement the integer value of a key by the given number", since="1.0.0",
         complexity="O(1)")
def decrby(ctx: Client, key: bytes, decrement: bytes):
    n = to_int(decrement)
    if n == LLONG_MIN:
        raise CommandError("ERR decrement would overflow")
    return _incr(ctx, key, -n)


@command("INCRBYFLOAT", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         summary="Increment the float value of a key by the given amount", since="2.6.0",
         complexity="O(1)")
def incrbyfloat(ctx: Client, key: bytes, increment: bytes):
    db = ctx.db
    v = lookup_as(ctx, key, bytes)
    cur = (1, 0, 0) if v is None else to_long_double(v)
    inc = to_long_double(increment)
    total = ld_add(cur, inc)
    if total is None:
        raise CommandError(INCR_FLOAT_NAN)
    new = format_ld_human(total)
    db.set(key, new, True)
    # Replicated as SET ... KEEPTTL so replicas and the AOF cannot round differently.
    ctx.propagate_as = [[b"SET", key, new, b"KEEPTTL"]]
    ctx.touched(key)
    if ctx.server.notify_flags:
        _notify(ctx, key, v is None, NOTIFY_STRING, b"incrbyfloat")
    return new


_GETRANGE_COMPLEXITY = (
    "O(N) where N is the length of the returned string. The complexity is ultimately "
    "determined by the returned length, but because creating a substring from an existing "
    "string is very cheap, it can be considered O(1) for small strings."
)


@command("GETRANGE", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", since="2.4.0",
         complexity=_GETRANGE_COMPLEXITY)
def getrange(ctx: Client, key: bytes, start: bytes, end: bytes):
    s = to_int(start)
    e = to_int(end)
    v = lookup_as(ctx, key, bytes)
    if v is None:
        return b""
    if s < 0 and e < 0 and s > e:
        return b""
    n = len(v)
    s, e = clamp_ends(s, e, n)
    if s > e or n == 0:
        return b""
    return v[s:e + 1]


@command("SUBSTR", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         summary="Get a substring of the string stored at a key", since="1.0.0",
         complexity=_GETRANGE_COMPLEXITY)
def substr(ctx: Client, key: bytes, start: bytes, end: bytes):
    return getrange(ctx, key, start, end)


@command("SETRANGE", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         summary="Overwrite part of a string at key starting at the specified offset",
         since="2.2.0",
         complexity="O(1), not counting the time taken to copy the new string in place. "
         "Usually, this string is very small so the amortized complexity is O(1). Otherwise, "
         "complexity is O(M) with M being the length of the value argument.")
def setrange(ctx: Client, key: bytes, offset: bytes, value: bytes):
    off = to_int(offset)
    if off < 0:
        raise CommandError(OFFSET_RANGE)
    old = lookup_as(ctx, key, bytes)
    vlen = len(value)
    if vlen == 0:
        return 0 if old is None else len(old)
    if off + vlen > ctx.server.config["proto-max-bulk-len"]:
        raise CommandError(STRING_TOO_LONG)
    created = old is None
    buf = unshare_string(ctx, key, old, off + vlen)  # raw, zero-filled past the old end
    old = None  # (the old bytes are released by the store)
    buf[off:off + vlen] = value
    ctx.touched(key)
    if ctx.server.notify_flags:
        _notify(ctx, key, created, NOTIFY_STRING, b"setrange")
    return len(buf)


def _lcs_rows(a: bytes, b: bytes) -> list[int]:
    """Bit-parallel LCS (Allison-Dix / Hyyrö): rows[i] is a bit vector over b whose zero bits,
    below bit j, count LCS(a[:i], b[:j])."""
    blen = len(b)
    full = (1 << blen) - 1
    masks: dict[int, int] = {}
    for j, ch in enumerate(b):
        masks[ch] = masks.get(ch, 0) | (1 << j)
    v = full
    rows = [v]
    for ch in a:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)
    return rows


@command("LCS", arity=-3, flags="readonly", keys=(1, 2, 1), group="string",
         summary="Find longest common substring", since="7.0.0",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively")
def lcs(ctx: Client, key1: bytes, key2: bytes, *options: bytes):
    db = ctx.db
    oa = db.lookup(key1)
    ob = db.lookup(key2)
    if (oa is not None and type(oa) is not bytes and type(oa) is not bytearray) or (
            ob is not None and type(ob) is not bytes and type(ob) is not bytearray):
        raise CommandError("ERR The specified keys must contain string values")
    a = oa or b""
    b = ob or b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    o = Options(options)
    while o:
        opt = o.next_upper()
        if opt == b"IDX":
            getidx = True
        elif opt == b"LEN":
            getlen = True
        elif opt == b"WITHMATCHLEN":
            withmatchlen = True
        elif opt == b"MINMATCHLEN" and o.has_more():
            minmatchlen = max(o.int_value(), 0)
        else:
            raise CommandError(SYNTAX)
    if getidx and getlen:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    alen, blen = len(a), len(b)
    if alen >= 0xFFFFFFFE or blen >= 0xFFFFFFFE:
        raise CommandError("ERR String too long for LCS")
    if (alen + 1) * (blen + 1) * 4 > ctx.server.config["proto-max-bulk-len"]:
        raise CommandError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    rows = _lcs_rows(a, b)
    total = blen - rows[alen].bit_count()
    if getlen and not getidx:
        return total

    def L(i: int, j: int) -> int:  # LCS(a[:i], b[:j])
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    result = bytearray(total)
    idx = total
    matches = []
    arange_start = alen  # alen: no range being tracked
    arange_end = brange_start = brange_end = 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if arange_start == alen:
                arange_start = arange_end = i - 1
                brange_start = brange_end = j - 1
            elif arange_start == i and brange_start == j:
                arange_start -= 1
                brange_start -= 1
            else:
                emit = True
            if arange_start == 0 or brange_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if L(i - 1, j) > L(i, j - 1):
                i -= 1
            else:
                j -= 1
            if arange_start != alen:
                emit = True
        if emit:
            match_len = arange_end - arange_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                m = [[arange_start, arange_end], [brange_start, brange_end]]
                if withmatchlen:
                    m.append(match_len)
                matches.append(m)
            arange_start = alen
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(result)
