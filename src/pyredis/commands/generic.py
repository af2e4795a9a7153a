"""Keyspace commands (Redis's "generic" group, plus the keyspace-wide server commands):
DEL UNLINK EXISTS TYPE TOUCH KEYS SCAN RANDOMKEY RENAME RENAMENX MOVE COPY, the EXPIRE
family with TTL/PTTL/EXPIRETIME/PEXPIRETIME/PERSIST, OBJECT, FLUSHDB FLUSHALL SWAPDB DBSIZE
(WAIT is in replication.py).

Each handler follows the corresponding function of Redis 7.0 (db.c, expire.c, object.c):
the order of checks decides which error a client sees, so it is kept as in Redis.
"""

from __future__ import annotations

import random
from itertools import islice

from ..core.args import Options, to_int, to_int32, to_positive_int, to_range_int
from ..core.blocking import may_block, parse_timeout
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_NEW
from ..core.replication import already_expired
from ..core.spec import command, container
from ..core.waitaof import waitaof_block
from ..errors import _cstr, _error_line, INVALID_DB, INVALID_EXPIRE, NO_SUCH_KEY, SYNTAX, CommandError
from ..keyspace.scan import parse_cursor, parse_scan_options
from ..keyspace.types import copy_value, encoding, type_name
from ..protocol.parser import string2ll
from ..protocol.replies import OK, Simple
from ..util import compile_glob

INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1
SAME_OBJECT = "ERR source and destination objects are the same"


def _db_by_index(ctx: Client, dbid: int):
    dbs = ctx.server.dbs
    if dbid < 0 or dbid >= len(dbs):
        raise CommandError(INVALID_DB)
    return dbs[dbid]


# --- deletion and existence ----------------------------------------------------------------

def _del(ctx: Client, keys: tuple[bytes, ...], lazy: bool) -> int:
    """delGenericCommand: large values go to the lazy free when `lazy` (core/lazyfree.py)."""
    db = ctx.db
    n = 0
    for k in keys:
        if not db.expire_if_needed(k) and db.delete(k, lazy):
            ctx.touched(k)
            ctx.notify(NOTIFY_GENERIC, b"del", k)
            n += 1
    return n


@command("DEL", arity=-2, flags="write", keys=(1, -1, 1), group="generic")
def del_(ctx: Client, *keys: bytes):
    """Deletes one or more keys."""
    return _del(ctx, keys, ctx.server.config["lazyfree-lazy-user-del"])


@command("UNLINK", arity=-2, flags="write fast", keys=(1, -1, 1), group="generic", since="4.0.0")
def unlink(ctx: Client, *keys: bytes):
    """Asynchronously deletes one or more keys."""
    return _del(ctx, keys, True)


@command("EXISTS", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic", since="1.0.0")
def exists(ctx: Client, *keys: bytes):
    """Determines whether one or more keys exist."""
    lookup = ctx.db.lookup_notouch  # LOOKUP_NOTOUCH: EXISTS does not count as an access
    n = 0
    for k in keys:
        if lookup(k) is not None:
            n += 1
    return n


@command("TOUCH", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic", since="3.2.1")
def touch(ctx: Client, *keys: bytes):
    """Returns the number of existing keys out of those specified after updating the time they were last accessed."""
    lookup = ctx.db.lookup
    n = 0
    for k in keys:
        if lookup(k) is not None:
            n += 1
    return n


@command("TYPE", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic")
def type_(ctx: Client, key: bytes):
    """Determines the type of value stored at a key."""
    v = ctx.db.lookup_notouch(key)
    if v is None:
        return _NONE_TYPE
    name = type_name(v)
    r = _TYPE_REPLIES.get(name)
    if r is None:
        r = _TYPE_REPLIES[name] = Simple(name)
    return r


_NONE_TYPE = Simple(b"none")
_TYPE_REPLIES: dict[bytes, Simple] = {}


# --- iteration -------------------------------------------------------------------------------

@command("KEYS", arity=2, flags="readonly", group="generic", acl="keyspace dangerous")
def keys_(ctx: Client, pattern: bytes):
    """Returns all key names that match a pattern."""
    db = ctx.db
    data = db.data
    if pattern == b"*":
        names = list(data)
    else:
        match = compile_glob(pattern)
        names = [k for k in data if match(k)]
    expires = db.expires
    if expires and names:
        # keysCommand skips expired keys without deleting them.
        now = ctx.now
        names = [k for k in names if (w := expires.get(k)) is None or w > now]
    return names


@command("SCAN", arity=-2, flags="readonly", group="generic", since="2.8.0")
def scan(ctx: Client, cursor: bytes, *options: bytes):
    """Iterates over the key names in the database."""
    cur = parse_cursor(cursor, ctx.server.compat.at_least("7.4", "valkey-8.0"))
    compat = ctx.server.compat
    count, pattern, typ = parse_scan_options(options, True, compat.at_least("7.4", "valkey-8.0"),
                                             compat.at_least("valkey-8.0"))
    db = ctx.db
    nxt, batch = ctx.server.scan_cursors.scan(("db", db.id), db.data.keys, cur, count)
    if pattern is not None:
        match = compile_glob(pattern)
        batch = [k for k in batch if match(k)]
    lookup = db.lookup_notouch
    if typ is None:
        batch = [k for k in batch if lookup(k) is not None]
    else:
        want = typ.lower()
        out = []
        for k in batch:
            v = lookup(k)
            if v is not None and type_name(v) == want:
                out.append(k)
        batch = out
    return [b"%d" % nxt, batch]


@command("RANDOMKEY", arity=1, flags="readonly", group="generic")
def randomkey(ctx: Client):
    """Returns a random key name from the database."""
    db = ctx.db
    data = db.data
    while data:
        n = len(data)
        if n <= _RANDOM_WALK_MAX:
            i = random.randrange(n)
            # No random access into a dict: walk from the nearer end (C speed).
            if i < n // 2:
                key = next(islice(iter(data), i, None))
            else:
                key = next(islice(reversed(data), n - 1 - i, None))
        else:
            key = _random_from_sample(ctx, db)
            if key is None:
                continue
        if db.lookup_notouch(key) is not None:
            return key
    return None


# Above this size RANDOMKEY draws from a cached list of the keys instead of walking the dict
# (O(n)); the list is rebuilt when it drifted: after a miss (a key gone since), or once the
# database size moved by an eighth, or after n/8 draws, so new keys get their chance too.
_RANDOM_WALK_MAX = 20_000


def _random_from_sample(ctx: Client, db):
    data = db.data
    n = len(data)
    samples = ctx.server.scan_cursors.random_samples
    cached = samples.get(db.id)
    if cached is None or cached[1] <= 0 or cached[2] is not data or abs(len(cached[0]) - n) * 8 > n:
        keys = list(data)
        cached = [keys, n // 8, data]
        samples[db.id] = cached
    cached[1] -= 1
    keys = cached[0]
    key = keys[random.randrange(len(keys))]
    if key not in data:
        cached[1] = 0  # stale: rebuild on the next draw
        return None
    return key


# --- renaming, moving, copying -------------------------------------------------------------

def _rename(ctx: Client, src: bytes, dst: bytes, nx: bool):
    db = ctx.db
    v = db.lookup(src)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    expire = db.get_expire(src)
    if db.lookup(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    db.add(dst, v, db.lru.get(src))
    ctx.notify(NOTIFY_NEW, b"new", dst)
    if expire is not None:
        db.set_expire(dst, expire)
    db.delete(src)
    ctx.touched(src)
    ctx.touched(dst)
    ctx.server.dirty -= 1  # Redis counts one change for the rename
    ctx.notify(NOTIFY_GENERIC, b"rename_from", src)
    ctx.notify(NOTIFY_GENERIC, b"rename_to", dst)
    return 1 if nx else OK


@command("RENAME", arity=3, flags="write", keys=(1, 2, 1), group="generic")
def rename(ctx: Client, src: bytes, dst: bytes):
    """Renames a key and overwrites the destination."""
    return _rename(ctx, src, dst, False)


@command("RENAMENX", arity=3, flags="write fast", keys=(1, 2, 1), group="generic")
def renamenx(ctx: Client, src: bytes, dst: bytes):
    """Renames a key only when the target key name doesn't exist."""
    return _rename(ctx, src, dst, True)


@command("MOVE", arity=3, flags="write fast", keys=(1, 1, 1), group="generic")
def move(ctx: Client, key: bytes, dbarg: bytes):
    """Moves a key to another database."""
    src = ctx.db
    dst = _db_by_index(ctx, to_int32(dbarg))
    if dst is src:
        raise CommandError(SAME_OBJECT)
    v = src.lookup(key)
    if v is None:
        return 0
    expire = src.get_expire(key)
    if dst.lookup(key) is not None:
        return 0
    dst.add(key, v, src.lru.get(key))
    ctx.notify(NOTIFY_NEW, b"new", key, dst)
    if expire is not None:
        dst.set_expire(key, expire)
    src.delete(key)
    ctx.touched(key, src)
    ctx.touched(key, dst)
    ctx.server.dirty -= 1
    ctx.notify(NOTIFY_GENERIC, b"move_from", key, src)
    ctx.notify(NOTIFY_GENERIC, b"move_to", key, dst)
    return 1


@command("COPY", arity=-3, flags="write denyoom", keys=(1, 2, 1), group="generic", since="6.2.0")
def copy_(ctx: Client, src_key: bytes, dst_key: bytes, *options: bytes):
    """Copies the value of a key to a new key."""
    src = dst = ctx.db
    replace = False
    o = Options(options)
    while o:
        opt = o.next_upper()
        if opt == b"REPLACE":
            replace = True
        elif opt == b"DB" and o.has_more():
            dst = _db_by_index(ctx, to_int32(o.value()))
        else:
            raise CommandError(SYNTAX)
    if src is dst and src_key == dst_key:
        raise CommandError(SAME_OBJECT)
    v = src.lookup(src_key)
    if v is None:
        return 0
    expire = src.get_expire(src_key)
    if dst.lookup(dst_key) is not None:
        if not replace:
            return 0
        dst.delete(dst_key)
    dst.add(dst_key, copy_value(v))
    ctx.notify(NOTIFY_NEW, b"new", dst_key, dst)
    if expire is not None:
        dst.set_expire(dst_key, expire)
    ctx.touched(dst_key, dst)
    ctx.notify(NOTIFY_GENERIC, b"copy_to", dst_key, dst)
    return 1


# --- expiry --------------------------------------------------------------------------------

_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_FLAGS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}


def _expire_generic(ctx: Client, key: bytes, param: bytes, options: tuple[bytes, ...],
                    relative: bool, seconds: bool, name: str):
    """expireGenericCommand (basetime is the command's time for EXPIRE/PEXPIRE, 0 for *AT)."""
    flags = 0
    if options:
        for opt in options:
            f = _EXPIRE_FLAGS.get(opt.lower())
            if f is None:
                raise CommandError(_error_line(b"ERR Unsupported option " + _cstr(opt)))
            flags |= f
        if flags & _NX and flags & (_XX | _GT | _LT):
            raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
        if flags & _GT and flags & _LT:
            raise CommandError("ERR GT and LT options at the same time are not compatible")
    server = ctx.server
    now = server.now_ms
    basetime = now if relative else 0
    when = to_int(param)
    if seconds:
        if when > LLONG_MAX // 1000 or when < -(LLONG_MAX // 1000):
            raise CommandError(INVALID_EXPIRE % name)
        when *= 1000
    if when > LLONG_MAX - basetime:
        raise CommandError(INVALID_EXPIRE % name)
    when += basetime
    db = ctx.db
    if db.lookup(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & _NX and current is not None:
            return 0
        if flags & _XX and current is None:
            return 0
        if flags & _GT and (current is None or when <= current):
            return 0
        if flags & _LT and current is not None and when >= current:
            return 0
    if already_expired(server, when):
        db.delete(key, db.lazy_expire)
        ctx.touched(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
        ctx.propagate_as = [[b"UNLINK" if server.config["lazyfree-lazy-expire"] else b"DEL", key]]
        return 1
    db.set_expire(key, when)
    ctx.touched(key)
    ctx.notify(NOTIFY_GENERIC, b"expire", key)
    ctx.propagate_as = [[b"PEXPIREAT", key, b"%d" % when, *options]]
    return 1


@command("EXPIRE", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic")
def expire(ctx: Client, key: bytes, seconds: bytes, *options: bytes):
    """Sets the expiration time of a key in seconds."""
    return _expire_generic(ctx, key, seconds, options, True, True, "expire")


@command("PEXPIRE", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic", since="2.6.0")
def pexpire(ctx: Client, key: bytes, ms: bytes, *options: bytes):
    """Sets the expiration time of a key in milliseconds."""
    return _expire_generic(ctx, key, ms, options, True, False, "pexpire")


@command("EXPIREAT", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic", since="1.2.0")
def expireat(ctx: Client, key: bytes, ts: bytes, *options: bytes):
    """Sets the expiration time of a key to a Unix timestamp."""
    return _expire_generic(ctx, key, ts, options, False, True, "expireat")


@command("PEXPIREAT", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic", since="2.6.0")
def pexpireat(ctx: Client, key: bytes, ts: bytes, *options: bytes):
    """Sets the expiration time of a key to a Unix milliseconds timestamp."""
    return _expire_generic(ctx, key, ts, options, False, False, "pexpireat")


def _ttl(ctx: Client, key: bytes, ms: bool, absolute: bool) -> int:
    """ttlGenericCommand (LOOKUP_NOTOUCH)."""
    db = ctx.db
    if db.lookup_notouch(key) is None:
        return -2
    expire = db.get_expire(key)
    if expire is None:
        return -1
    # Redis 7.0 measures against mstime(), not the command's (or script's) frozen time: inside
    # a long script a key can report TTL 0 and still exist; 7.2 (commandTimeSnapshot) uses the
    # frozen time
    if absolute:
        ttl = expire
    else:
        ttl = expire - (ctx.now if ctx.server.compat.at_least("7.2") else ctx.server.clock_ms())
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("TTL", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic")
def ttl(ctx: Client, key: bytes):
    """Returns the expiration time in seconds of a key."""
    return _ttl(ctx, key, False, False)


@command("PTTL", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic", since="2.6.0")
def pttl(ctx: Client, key: bytes):
    """Returns the expiration time in milliseconds of a key."""
    return _ttl(ctx, key, True, False)


@command("EXPIRETIME", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic", since="7.0.0")
def expiretime(ctx: Client, key: bytes):
    """Returns the expiration time of a key as a Unix timestamp."""
    return _ttl(ctx, key, False, True)


@command("PEXPIRETIME", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic", since="7.0.0")
def pexpiretime(ctx: Client, key: bytes):
    """Returns the expiration time of a key as a Unix milliseconds timestamp."""
    return _ttl(ctx, key, True, True)


@command("PERSIST", arity=2, flags="write fast", keys=(1, 1, 1), group="generic", since="2.2.0")
def persist(ctx: Client, key: bytes):
    """Removes the expiration time of a key."""
    db = ctx.db
    if db.lookup(key) is not None and db.persist(key):
        ctx.touched(key)
        ctx.notify(NOTIFY_GENERIC, b"persist", key)
        return 1
    return 0


# --- OBJECT ----------------------------------------------------------------------------------

container("OBJECT", group="generic", summary="A container for object introspection commands.", since="2.2.3")

_LFU_INIT_VAL = 5
_SHARED_INTEGERS = 10000
_OBJECT_HELP = [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
]


# Subcommands are declared in the order Redis 7.0 lists them (COMMAND INFO OBJECT).
def _lfu_policy(ctx: Client) -> bool:
    return "lfu" in str(ctx.server.config["maxmemory-policy"])


@command("OBJECT|HELP", arity=2, flags="loading stale", group="generic", since="6.2.0")
def object_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return [Simple(line.encode()) for line in _OBJECT_HELP]


@command("OBJECT|FREQ", arity=3, flags="readonly", keys=(2, 2, 1), group="generic", since="4.0.0")
def object_freq(ctx: Client, key: bytes):
    """Returns the logarithmic access frequency counter of a Redis object."""
    db = ctx.db
    if db.lookup_notouch(key) is None:
        return None
    if not _lfu_policy(ctx):
        raise CommandError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
            "that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    return db.freq(key, ctx.server.evictor.lfu)  # LFUDecrAndReturn: decayed, not touched


@command("OBJECT|IDLETIME", arity=3, flags="readonly", keys=(2, 2, 1), group="generic", since="2.2.3")
def object_idletime(ctx: Client, key: bytes):
    """Returns the time since the last access to a Redis object."""
    db = ctx.db
    if db.lookup_notouch(key) is None:
        return None
    if _lfu_policy(ctx):
        raise CommandError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will take some time to adjust.")
    return db.idle_ms(key) // 1000


@command("OBJECT|ENCODING", arity=3, flags="readonly", keys=(2, 2, 1), group="generic", since="2.2.3")
def object_encoding(ctx: Client, key: bytes):
    """Returns the internal encoding of a Redis object."""
    v = ctx.db.lookup_notouch(key)
    if v is None:
        return None
    return encoding(v, ctx.server.config)


@command("OBJECT|REFCOUNT", arity=3, flags="readonly", keys=(2, 2, 1), group="generic", since="2.2.3")
def object_refcount(ctx: Client, key: bytes):
    """Returns the reference count of a value of a key."""
    v = ctx.db.lookup_notouch(key)
    if v is None:
        return None
    if type(v) is bytes and len(v) <= 5:
        # Small integers stored by SET are Redis's shared objects (refcount INT_MAX),
        # unless an LRU/LFU maxmemory policy forbids sharing.
        n = string2ll(v)
        if n is not None and 0 <= n < _SHARED_INTEGERS:
            cfg = ctx.server.config
            policy = str(cfg["maxmemory-policy"])
            if not cfg["maxmemory"] or not ("lru" in policy or "lfu" in policy):
                return INT_MAX
    return 1


# --- whole databases ----------------------------------------------------------------------

def _flush_mode(ctx: Client, args: tuple[bytes, ...]) -> bool:
    """getFlushCommandFlags: True for ASYNC (lazyfree-lazy-user-flush without an argument)."""
    if len(args) > 1:
        raise CommandError(SYNTAX)
    if not args:
        return ctx.server.config["lazyfree-lazy-user-flush"]
    mode = args[0].upper()
    if mode not in (b"SYNC", b"ASYNC"):
        raise CommandError(SYNTAX)
    return mode == b"ASYNC"


def _flush(ctx: Client, db, lazy: bool) -> None:
    """emptyData for one database; ASYNC hands the old tables to the lazy free."""
    ctx.server.dirty += len(db)
    for hook in ctx.server.flush_hooks:
        hook(db)
    db.flush(lazy and len(db) > 0)
    # emptyDbAsync makes new tables (made on demand) even for an empty database; 7.4 runs a
    # SYNC flush that way too, the client blocked until it is done, where it may block
    if lazy or (ctx.server.compat.at_least("7.4") and may_block(ctx)):
        db.made = db.emade = False


@command("FLUSHDB", arity=-1, flags="write", group="server", acl="keyspace dangerous")
def flushdb(ctx: Client, *args: bytes):
    """Remove all keys from the current database."""
    _flush(ctx, ctx.db, _flush_mode(ctx, args))
    ctx.server.dirty += 1  # forceCommandPropagation: replicated even when already empty
    return OK


@command("FLUSHALL", arity=-1, flags="write", group="server", acl="keyspace dangerous")
def flushall(ctx: Client, *args: bytes):
    """Removes all keys from all databases."""
    lazy = _flush_mode(ctx, args)
    server = ctx.server
    for db in server.dbs:
        _flush(ctx, db, lazy)
    server.dirty += 1
    # flushAllDataAndResetRDB: with save points configured the now empty dataset is saved at
    # once, so dirty ends at 0: FLUSHALL is still propagated (forceCommandPropagation).
    mgr = server.persistence
    if mgr is not None and mgr.reset_after_flushall():
        ctx.propagate_as = [[b"FLUSHALL", *args]]
    return OK


@command("SWAPDB", arity=3, flags="write fast", group="server", acl="keyspace dangerous", since="4.0.0")
def swapdb(ctx: Client, index1: bytes, index2: bytes):
    """Swaps two Redis databases."""
    id1 = to_int32(index1, "ERR invalid first DB index")
    id2 = to_int32(index2, "ERR invalid second DB index")
    dbs = ctx.server.dbs
    if id1 < 0 or id1 >= len(dbs) or id2 < 0 or id2 >= len(dbs):
        raise CommandError(INVALID_DB)
    if id1 != id2:
        db1, db2 = dbs[id1], dbs[id2]
        db1.swap_with(db2)
        db1.avg_ttl, db2.avg_ttl = db2.avg_ttl, db1.avg_ttl
        for hook in ctx.server.swapdb_hooks:
            hook(db1, db2)
    ctx.server.dirty += 1
    return OK


@command("DBSIZE", arity=1, flags="readonly fast", group="server", acl="keyspace")
def dbsize(ctx: Client):
    """Returns the number of keys in the database."""
    return len(ctx.db)


# --- WAITAOF (WAIT: commands/replication.py) ------------------------------------------------

@command("WAITAOF", arity=4, flags="noscript", group="generic", acl="connection", since="7.2.0",
         changed={("7.4", "valkey-8.0"): dict(flags="blocking")})
def waitaof(ctx: Client, numlocal: bytes, numreplicas: bytes, timeout: bytes):
    """Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas."""
    nlocal = to_range_int(numlocal, 0, 1)
    nrepl = to_positive_int(numreplicas)
    t = parse_timeout(timeout, seconds=False, ctx=ctx)
    state = ctx.server
    if nlocal and not state.config["appendonly"]:
        raise CommandError("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.")
    # [the local fsync done, replicas that fsynced]: at once when it is already true (or inside
    # MULTI / a script), else when the AOF has the client's writes (core/waitaof.py), or at the
    # timeout; a standalone server has no replica to count.
    acklocal = 1 if state.fsynced_reploff >= ctx.woff else 0
    if (nrepl == 0 and acklocal >= nlocal) or not may_block(ctx):
        return [acklocal, 0]
    return waitaof_block(ctx, nlocal, nrepl, t)
