"""SORT and SORT_RO (Redis 7.0 sort.c) over lists, sets and sorted sets.

BY/GET patterns substitute the first `*` with the element and may end in `->field` to read
a hash field; `GET #` is the element itself. Without sorting (BY a pattern with no `*`),
lists and sorted sets keep their order (reversed by DESC) and LIMIT takes a slice; a set
keeps its iteration order, except with STORE or inside a script, where Redis forces an ALPHA
sort so that the result is deterministic. Numeric sorting parses values with strtod and rejects
trailing junk, NaN and out-of-range values ("One or more scores can't be converted into
double"). Equal numeric scores are ordered by the element bytes; ALPHA compares bytes
(strcoll in the C locale: up to the first NUL, except with STORE, which compares whole
strings). Python's sort is stable, as glibc's qsort (a merge sort) is.

Like Redis, SORT converts a listpack sorted set to the skiplist encoding.
"""

from __future__ import annotations

from ..core.acl import unrestricted_key_access
from ..core.args import Options
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_LIST, NOTIFY_NEW
from ..core.spec import command
from ..errors import SYNTAX, WRONGTYPE, CommandError, _cstr
from ..keyspace.hash import RHash
from ..keyspace.list import RList
from ..keyspace.set import RSet, ordered
from ..keyspace.zset import ZSet, strtod_c
from .hash import get_field, propagate_self

CONVERT_ERR = "ERR One or more scores can't be converted into double"


def _sort_getkeys(argv: list[bytes]) -> list[int]:
    """sortGetKeys: the sorted key, and the last STORE target (LIMIT/GET/BY skip their
    arguments so that a STORE among them is not mistaken for the option)."""
    keys = [1]
    store = None
    i, n = 2, len(argv)
    while i < n:
        a = argv[i].lower()
        if a == b"limit":
            i += 2
        elif a == b"get" or a == b"by":
            i += 1
        elif a == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store is not None:
        keys.append(store)
    return keys


def _sort_ro_getkeys(argv: list[bytes]) -> list[int]:
    return [1]


def _lookup_by_pattern(ctx: Client, pattern: bytes, subst: bytes):
    """lookupKeyByPattern: the string value (or hash field) named by the pattern, or None. An
    expired hash field is deleted on the way (Redis 7.4's HFE_LAZY_EXPIRE)."""
    if pattern[:1] == b"#" and (len(pattern) == 1 or pattern[1] == 0):
        return subst
    z = pattern.find(b"\0")
    cpat = pattern if z < 0 else pattern[:z]
    p = cpat.find(b"*")
    if p < 0:
        return None
    f = cpat.find(b"->", p + 1)
    if f >= 0 and f + 2 < len(cpat):
        field = pattern[f + 2:]
        keyname = pattern[:p] + subst + pattern[p + 1:f]
    else:
        field = None
        keyname = pattern[:p] + subst + pattern[p + 1:]
    o = ctx.db.lookup(keyname)
    if o is None:
        return None
    if field is not None:
        if type(o) is not RHash:
            return None
        if o.ttls:
            return get_field(ctx, keyname, o, field)[0]
        return o.get(field)
    if type(o) is not bytes:
        return bytes(o) if type(o) is bytearray else None
    return o


def _in_script(ctx: Client) -> bool:
    """Redis's CLIENT_SCRIPT: this command was called by redis.call() from EVAL/FCALL."""
    from ..core.lua import called_from_script

    return called_from_script(ctx)


def _sort(ctx: Client, key: bytes, args: tuple, readonly: bool):
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    storekey = sortby = None
    getops: list[bytes] = []
    o = Options(args)
    while o:
        opt = o.next_upper()
        if opt == b"ASC":
            desc = False
        elif opt == b"DESC":
            desc = True
        elif opt == b"ALPHA":
            alpha = True
        elif opt == b"LIMIT" and o.has_more(2):
            limit_start = o.int_value()
            limit_count = o.int_value()
        elif not readonly and opt == b"STORE" and o.has_more():
            storekey = o.value()
        elif opt == b"BY" and o.has_more():
            sortby = o.value()
            if b"*" not in _cstr(sortby):
                dontsort = True
            elif not unrestricted_key_access(ctx):  # a pattern reads keys ACL rules cannot see
                raise CommandError("ERR BY option of SORT denied due to insufficient ACL permissions.")
        elif opt == b"GET" and o.has_more():
            if not unrestricted_key_access(ctx):
                raise CommandError("ERR GET option of SORT denied due to insufficient ACL permissions.")
            getops.append(o.value())
        else:
            raise CommandError(SYNTAX)

    db = ctx.db
    sortval = db.lookup(key)
    t = type(sortval)
    if sortval is not None and t is not RList and t is not RSet and t is not ZSet:
        raise CommandError(WRONGTYPE)
    if sortval is None:
        sortval, t = RList(), RList

    if dontsort and t is RSet and (storekey is not None or _in_script(ctx)):
        # Force ALPHA sorting so that the result does not depend on hash order (scripts and
        # replication must see the same thing).
        dontsort, alpha, sortby = False, True, None
    if t is ZSet and sortval.lp:
        sortval.lp = False  # zsetConvert(sortval, OBJ_ENCODING_SKIPLIST)
        ctx.resized(key)  # a new encoding, not a change Redis signals

    vectorlen = len(sortval)
    start = min(max(limit_start, 0), vectorlen)
    limit_count = min(max(limit_count, -1), vectorlen)
    end = vectorlen - 1 if limit_count < 0 else start + limit_count - 1
    if start >= vectorlen:
        start, end = vectorlen - 1, vectorlen - 2
    if end >= vectorlen:
        end = vectorlen - 1

    if dontsort:
        if t is RList:
            vector = list(reversed(sortval)) if desc else list(sortval)
        elif t is ZSet:
            sl = sortval.sl
            vector = [m for _, m in (sl.islice(0, len(sl), reverse=True) if desc else sl)]
        else:
            vector = ordered(sortval)
    else:
        if t is ZSet:
            vector = list(sortval.scores)
        elif t is RSet:
            vector = ordered(sortval)
        else:
            vector = list(sortval)
        store = storekey is not None
        if alpha:
            if sortby is not None:
                keys = []
                for e in vector:
                    v = _lookup_by_pattern(ctx, sortby, e)
                    keys.append((0, b"") if v is None else (1, v if store else _cstr(v)))
            elif store:
                keys = vector
            else:
                keys = [_cstr(e) for e in vector]
        else:
            keys = []
            bad = False
            for e in vector:
                if sortby is not None:
                    v = _lookup_by_pattern(ctx, sortby, e)
                    if v is None:
                        keys.append((0.0, e))
                        continue
                else:
                    v = e
                d = strtod_c(v, True)
                if d is None:
                    bad = True
                    d = 0.0
                keys.append((d, e))
            if bad:
                raise CommandError(CONVERT_ERR)
        order = sorted(range(len(vector)), key=keys.__getitem__, reverse=desc)
        vector = [vector[i] for i in order]

    out = vector[start:end + 1] if end >= start else []
    if storekey is None:
        if not getops:
            return out
        reply = []
        for e in out:
            for pat in getops:
                reply.append(_lookup_by_pattern(ctx, pat, e))
        return reply
    if getops:
        result = RList()
        for e in out:
            for pat in getops:
                v = _lookup_by_pattern(ctx, pat, e)
                result.append(b"" if v is None else v)
    else:
        result = RList(out)
    outputlen = len(result)
    dirty = ctx.server.dirty
    if outputlen:
        new = db.lookup(storekey) is None
        db.set(storekey, result)
        ctx.touched(storekey)
        ctx.server.dirty += outputlen - 1
        if new:
            ctx.notify(NOTIFY_NEW, b"new", storekey)
        ctx.notify(NOTIFY_LIST, b"sortstore", storekey)
    elif db.delete(storekey):
        ctx.touched(storekey)
        ctx.notify(NOTIFY_GENERIC, b"del", storekey)
    if ctx.server.dirty != dirty:
        propagate_self(ctx, list(ctx.argv))  # after the HDELs of expired fields, if any
    return outputlen


@command("SORT", arity=-2, flags="write denyoom", keys=(1, 1, 1), group="generic",
         acl="set sortedset list dangerous", getkeys=_sort_getkeys, since="1.0.0")
def sort(ctx: Client, key: bytes, *args: bytes):
    """Sorts the elements in a list, a set, or a sorted set, optionally storing the result."""
    return _sort(ctx, key, args, False)


@command("SORT_RO", arity=-2, flags="readonly", keys=(1, 1, 1), group="generic",
         acl="set sortedset list dangerous", getkeys=_sort_ro_getkeys, since="7.0.0")
def sort_ro(ctx: Client, key: bytes, *args: bytes):
    """Returns the sorted elements of a list, a set, or a sorted set."""
    return _sort(ctx, key, args, True)
