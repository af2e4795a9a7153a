"""Sorted set commands (Redis 7.0 semantics, t_zset.c).

Each handler follows its Redis function: the order of the checks decides which error a
client sees (option parsing, then range parsing, then the key lookup and WRONGTYPE), so it
is kept as in Redis. Scores are replied as `Double` (RESP2: a %.17g bulk string, RESP3: a
double); WITHSCORES replies are flat [member, score, ...] arrays in RESP2 and arrays of
[member, score] pairs in RESP3, as Redis 7.0 sends them.
"""

from __future__ import annotations

import math
import random

from ..core.args import (
    LONG_MAX,
    Options,
    add_new,
    clamp_range,
    lookup_as,
    mpop_count,
    to_int,
    to_positive_int,
    to_range_int,
)
from ..core.blocking import Blocked, may_block, parse_timeout, propagate
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_ZSET
from ..core.spec import command
from ..errors import (
    LIMIT_NEGATIVE,
    NOT_FLOAT,
    NUMKEYS_NOT_POSITIVE,
    SYNTAX,
    VALUE_OUT_OF_RANGE,
    WRONGTYPE,
    CommandError,
    wrong_arity,
)
from ..keyspace.scan import EMPTY_SCAN, parse_cursor, scan_reply
from ..keyspace.zset import (
    listpack_score,
    ZSet,
    fresh_encoding,
    parse_lex_range,
    parse_score,
    parse_score_range,
)
from ..protocol.parser import string2ll
from ..protocol.replies import NULL_ARRAY, Double

try:
    from ..keyspace.set import RSet
except ImportError:  # pragma: no cover - the set module is written in parallel
    class RSet(set):  # type: ignore[no-redef]
        pass

from sortedcontainers import SortedList

NAN_ERR = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
_isnan = math.isnan



def _emit(items, withscores: bool, resp: int) -> list:
    """(score, member) pairs -> the reply of a range command."""
    if not withscores:
        return [m for _, m in items]
    if resp == 2:
        out = []
        ap = out.append
        for s, m in items:
            ap(m)
            ap(Double(s))
        return out
    return [[m, Double(s)] for s, m in items]


def _changed(ctx: Client, key: bytes, n: int, event: bytes) -> None:
    """signalModifiedKey once, server.dirty += n (Redis counts every element), and the
    keyspace event."""
    ctx.touched(key)
    if n > 1:
        ctx.server.dirty += n - 1
    ctx.notify(NOTIFY_ZSET, event, key)


def _store(ctx: Client, dst: bytes, value, event: bytes, type_: int = NOTIFY_ZSET) -> None:
    """setKey (+ the "new" event when the key did not exist) and the command's event."""
    db = ctx.db
    new = db.lookup(dst) is None
    db.set(dst, value)
    ctx.touched(dst)
    if new:
        ctx.notify(NOTIFY_NEW, b"new", dst)
    ctx.notify(type_, event, dst)


def _store_empty(ctx: Client, dst: bytes) -> None:
    """An empty result deletes the destination."""
    if ctx.db.delete(dst):
        ctx.touched(dst)
        ctx.notify(NOTIFY_GENERIC, b"del", dst)


# --- key positions for COMMAND GETKEYS -------------------------------------------------
def _atoi(b: bytes) -> int:
    i, n = 0, len(b)
    while i < n and b[i] in b" \t\n\v\f\r":
        i += 1
    neg = False
    if i < n and b[i] in b"+-":
        neg = b[i] == 45
        i += 1
    j = i
    while j < n and 48 <= b[j] <= 57:
        j += 1
    v = int(b[i:j]) if j > i else 0
    return -v if neg else v


def _keynum_getkeys(numidx: int, store: bool):
    """Key specs (a `keynum` search, after the destination for the *STORE commands); when
    numkeys is not a valid count or runs past the arguments, Redis falls back to
    genericGetKeys (atoi, destination last)."""

    def getkeys(argv: list[bytes]) -> list[int]:
        argc = len(argv)
        first = numidx + 1
        n = string2ll(argv[numidx]) if numidx < argc else None
        if n is not None and 0 < n <= argc - first:
            keys = [1] if store else []
            keys.extend(range(first, first + n))
            return keys
        num = _atoi(argv[numidx]) if numidx < argc else 0
        if num < 1 or num > argc - first:
            return []
        keys = list(range(first, first + num))
        if store:
            keys.append(1)
        return keys

    return getkeys


# --- ZADD / ZINCRBY -------------------------------------------------------------------
def _zadd_generic(ctx: Client, key: bytes, args: tuple, incr: bool):
    nx = xx = gt = lt = ch = False
    i, n = 0, len(args)
    while i < n:
        o = args[i].lower()
        if o == b"nx":
            nx = True
        elif o == b"xx":
            xx = True
        elif o == b"ch":
            ch = True
        elif o == b"incr":
            incr = True
        elif o == b"gt":
            gt = True
        elif o == b"lt":
            lt = True
        else:
            break
        i += 1
    elements = n - i
    if elements % 2 or not elements:
        raise CommandError(SYNTAX)
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    pairs = []
    for j in range(i, n, 2):
        s = parse_score(args[j])
        if s is None:
            raise CommandError(NOT_FLOAT)
        pairs.append((s, args[j + 1]))
    zs = lookup_as(ctx, key, ZSet)
    cfg = ctx.server.config.values
    entries = cfg["zset-max-listpack-entries"]
    hinted = ctx.server.compat.at_least("7.2")  # 7.2's zsetTypeCreate/MaybeConvert: the pair count
    # Valkey 8.0 also hints the longest member (7.2/7.4: the first one, when the key is new), so
    # a skiplist made before the first insert keeps a -0 score a listpack would store as 0
    valkey = ctx.server.compat.at_least("valkey-8.0")
    longest = max(len(m) for _, m in pairs) if valkey else len(pairs[0][1])
    if zs is None:
        if xx:
            return None if incr else 0
        fits = len(pairs) <= entries if hinted else entries != 0
        zs = ZSet(fits and longest <= cfg["zset-max-listpack-value"])
        add_new(ctx, key, zs)
    elif hinted and zs.lp and (len(pairs) > entries or (valkey and longest > cfg["zset-max-listpack-value"])):
        zs.lp = False
    scores = zs.scores
    added = updated = processed = 0
    score = 0.0
    for s, m in pairs:
        cur = scores.get(m)
        if cur is not None:
            if nx:
                continue
            if incr:
                s += cur
                if _isnan(s):
                    raise CommandError(NAN_ERR)
            if (lt and s >= cur) or (gt and s <= cur):
                continue
            processed += 1
            score = s
            if s != cur:
                zs.set_score(m, cur, s)
                updated += 1
        elif not xx:
            zs.add_checked(m, s, cfg)
            added += 1
            processed += 1
            score = s
    if added or updated:
        _changed(ctx, key, added + updated, b"zincr" if incr else b"zadd")
    if incr:
        return Double(score) if processed else None
    return added + updated if ch else added


@command("ZADD", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zadd(ctx: Client, key: bytes, *args: bytes):
    """Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."""
    if len(args) == 2:  # the common `ZADD key score member`: no option can be a valid score
        s = parse_score(args[0])
        if s is not None:
            return _zadd_one(ctx, key, s, args[1])
    return _zadd_generic(ctx, key, args, False)


def _zadd_one(ctx: Client, key: bytes, s: float, m: bytes) -> int:
    zs = lookup_as(ctx, key, ZSet)
    cfg = ctx.server.config.values
    if zs is None:
        zs = ZSet(cfg["zset-max-listpack-entries"] != 0 and len(m) <= cfg["zset-max-listpack-value"])
        add_new(ctx, key, zs)
    elif zs.lp and ctx.server.compat.at_least("7.2") and (
            cfg["zset-max-listpack-entries"] == 0
            or (len(m) > cfg["zset-max-listpack-value"] and ctx.server.compat.at_least("valkey-8.0"))):
        zs.lp = False  # zsetTypeMaybeConvert: one pair is over a limit of 0 (Valkey: or its member)
    cur = zs.scores.get(m)
    if cur is None:
        zs.add_checked(m, s, cfg)
        _changed(ctx, key, 1, b"zadd")
        return 1
    if s != cur:
        zs.set_score(m, cur, s)
        _changed(ctx, key, 1, b"zadd")
    return 0


@command("ZINCRBY", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zincrby(ctx: Client, key: bytes, *args: bytes):
    """Increments the score of a member in a sorted set."""
    return _zadd_generic(ctx, key, args, True)


# --- simple reads and ZREM ---------------------------------------------------------------
@command("ZREM", arity=-3, flags="write fast", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zrem(ctx: Client, key: bytes, *members: bytes):
    """Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."""
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return 0
    n = 0
    removed = False
    for m in members:
        if zs.remove(m):
            n += 1
            if not zs.scores:
                ctx.db.delete(key)
                removed = True
                break
    if n:
        _changed(ctx, key, n, b"zrem")
        if removed:
            ctx.notify(NOTIFY_GENERIC, b"del", key)
    return n


@command("ZCARD", arity=2, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zcard(ctx: Client, key: bytes):
    """Returns the number of members in a sorted set."""
    zs = lookup_as(ctx, key, ZSet)
    return 0 if zs is None else len(zs.scores)


@command("ZSCORE", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zscore(ctx: Client, key: bytes, member: bytes):
    """Returns the score of a member in a sorted set."""
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return None
    s = zs.scores.get(member)
    return None if s is None else Double(s)


@command("ZMSCORE", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="6.2.0")
def zmscore(ctx: Client, key: bytes, *members: bytes):
    """Returns the score of one or more members in a sorted set."""
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return [None] * len(members)
    get = zs.scores.get
    out = []
    for m in members:
        s = get(m)
        out.append(None if s is None else Double(s))
    return out


def _zrank(ctx: Client, key: bytes, member: bytes, reverse: bool, opts: tuple[bytes, ...]):
    """zrankGenericCommand. WITHSCORE is Redis 7.2's: the 7.0 table's arity (3) never lets it
    through, the 7.2 one (-3) does."""
    if len(opts) > 1:
        raise wrong_arity("zrevrank" if reverse else "zrank")
    withscore = False
    if opts:
        if opts[0].lower() != b"withscore":
            raise CommandError(SYNTAX)
        withscore = True
    miss = NULL_ARRAY if withscore else None
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return miss
    r = zs.rank(member)
    if r is None:
        return miss
    rank = len(zs.scores) - 1 - r if reverse else r
    return [rank, Double(zs.scores[member])] if withscore else rank


@command("ZRANK", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="2.0.0",
         changed={"7.2": dict(arity=-3)})
def zrank(ctx: Client, key: bytes, member: bytes, *opts: bytes):
    """Returns the index of a member in a sorted set ordered by ascending scores."""
    return _zrank(ctx, key, member, False, opts)


@command("ZREVRANK", arity=3, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="2.0.0",
         changed={"7.2": dict(arity=-3)})
def zrevrank(ctx: Client, key: bytes, member: bytes, *opts: bytes):
    """Returns the index of a member in a sorted set ordered by descending scores."""
    return _zrank(ctx, key, member, True, opts)


@command("ZCOUNT", arity=4, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="2.0.0")
def zcount(ctx: Client, key: bytes, mn: bytes, mx: bytes):
    """Returns the count of members in a sorted set that have scores within a range."""
    r = parse_score_range(mn, mx)
    if r is None:
        raise CommandError(NOT_FLOAT_RANGE)
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return 0
    lo, hi = zs.score_bounds(*r)
    return hi - lo


@command("ZLEXCOUNT", arity=4, flags="readonly fast", keys=(1, 1, 1), group="sorted_set", since="2.8.9")
def zlexcount(ctx: Client, key: bytes, mn: bytes, mx: bytes):
    """Returns the number of members in a sorted set within a lexicographical range."""
    r = parse_lex_range(mn, mx)
    if r is None:
        raise CommandError(NOT_LEX_RANGE)
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return 0
    lo, hi = zs.lex_bounds(r)
    return hi - lo


# --- ZRANGE and friends ------------------------------------------------------------------
_AUTO, _RANK, _SCORE, _LEX = 0, 1, 2, 3
_FWD, _REV = 1, 2


def _slice(zs: ZSet, lo: int, hi: int, offset: int, limit: int, rev: bool) -> list:
    """Elements [lo, hi) after LIMIT offset count, in the traversal order."""
    if offset < 0:
        return []
    cnt = hi - lo - offset
    if 0 <= limit < cnt:
        cnt = limit
    if cnt <= 0:
        return []
    if rev:
        return list(zs.sl.islice(hi - offset - cnt, hi - offset, reverse=True))
    return list(zs.sl.islice(lo + offset, lo + offset + cnt))


def _nth_from_the_end(zs: ZSet, lo: int, hi: int, offset: int, limit: int, rev: bool) -> list:
    """A negative LIMIT offset over a skiplist in Redis 7.4 and Valkey 8.0 (zslNthInRange /
    zslNthInLexRange with a negative n): the range's `-offset`-th element counted from the
    end the traversal does not start at, then the walk goes on in the traversal's direction
    while in range. Forward: from index hi + offset (none before lo), towards hi. Reverse:
    from index lo - offset - 1 (none from hi on), down towards lo. (A listpack, and 7.0/7.2,
    skip elements one by one for ever: nothing.)"""
    sl = zs.sl
    if rev:
        i = lo - offset - 1
        if i >= hi:
            return []
        end = lo if limit < 0 else max(lo, i + 1 - limit)
        return list(sl.islice(end, i + 1, reverse=True))
    i = hi + offset
    if i < lo:
        return []
    end = hi if limit < 0 else min(hi, i + limit)
    return list(sl.islice(i, end))


def _lex_walk(zs: ZSet, rng, lo: int, hi: int, offset: int, limit: int, rev: bool) -> list:
    """Mixed scores: Redis skips `offset` elements from the first one in range without
    checking them, then emits while in range (only the far end is checked)."""
    sl = zs.sl
    n = len(sl)
    out = []
    if rev:
        i = hi - 1 - offset
        gte = rng.gte_min
        while i >= 0 and limit != 0 and gte(sl[i][1]):
            out.append(sl[i])
            i -= 1
            limit -= 1
    else:
        i = lo + offset
        lte = rng.lte_max
        while i < n and limit != 0 and lte(sl[i][1]):
            out.append(sl[i])
            i += 1
            limit -= 1
    return out


def _zrange_generic(ctx: Client, args: tuple, ks: int, dst: bytes | None, rtype: int, direction: int):
    """zrangeGenericCommand: args are the arguments after the command name, the source key
    is args[ks]."""
    offset = 0
    limit = -1
    withscores = False
    o = Options(args, ks + 3)
    while o:
        opt = o.next_upper()
        if dst is None and opt == b"WITHSCORES":
            withscores = True
        elif opt == b"LIMIT" and o.has_more(2):
            offset = o.int_value()
            limit = o.int_value()
        elif direction == _AUTO and opt == b"REV":
            direction = _REV
        elif rtype == _AUTO and opt == b"BYLEX":
            rtype = _LEX
        elif rtype == _AUTO and opt == b"BYSCORE":
            rtype = _SCORE
        else:
            raise CommandError(SYNTAX)
    if rtype == _AUTO:
        rtype = _RANK
    rev = direction == _REV
    if limit != -1 and rtype == _RANK:
        raise CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rtype == _LEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    mi, ma = args[ks + 1], args[ks + 2]
    if rev and rtype != _RANK:
        mi, ma = ma, mi
    if rtype == _RANK:
        start = to_int(mi)
        end = to_int(ma)
    elif rtype == _SCORE:
        rng = parse_score_range(mi, ma)
        if rng is None:
            raise CommandError(NOT_FLOAT_RANGE)
    else:
        rng = parse_lex_range(mi, ma)
        if rng is None:
            raise CommandError(NOT_LEX_RANGE)
    zs = lookup_as(ctx, args[ks], ZSet)
    if zs is None:
        if dst is not None:
            _store_empty(ctx, dst)
            return 0
        return []
    if rtype == _RANK:
        llen = len(zs.scores)
        r = clamp_range(start, end, llen)
        if r is None:
            items = []
        else:
            start, end = r
            if rev:
                items = list(zs.sl.islice(llen - 1 - end, llen - start, reverse=True))
            else:
                items = list(zs.sl.islice(start, end + 1))
    elif rtype == _SCORE:
        lo, hi = zs.score_bounds(*rng)
        if offset < 0 and not zs.lp and ctx.server.compat.at_least("7.4", "valkey-8.0"):
            items = _nth_from_the_end(zs, lo, hi, offset, limit, rev)
        else:
            items = _slice(zs, lo, hi, offset, limit, rev)
    else:
        lo, hi = zs.lex_bounds(rng, rev)
        if offset < 0 and not zs.lp and ctx.server.compat.at_least("7.4", "valkey-8.0"):
            items = _nth_from_the_end(zs, lo, hi, offset, limit, rev)
        elif offset > 0 and hi > lo and zs.sl[0][0] != zs.sl[-1][0]:
            items = _lex_walk(zs, rng, lo, hi, offset, limit, rev)
        else:
            items = _slice(zs, lo, hi, offset, limit, rev)
    if dst is None:
        return _emit(items, withscores, ctx.resp)
    if not items:
        _store_empty(ctx, dst)
        return 0
    cfg = ctx.server.config.values
    # zrangeResultBeginStore makes a listpack (a rank range of more than
    # zset-max-listpack-entries members: a skiplist) and zsetAdd adds the members one by one in
    # the reply's order: a -0 added while it is still a listpack is stored as 0 (zzlInsertAt's
    # double2ll), one added after its conversion keeps its sign.
    if rtype != _RANK or len(items) <= cfg["zset-max-listpack-entries"]:
        items = _listpack_prefix_zeros(items, cfg)
    z = ZSet(False)
    z.scores = {m: s for s, m in items}
    z.sl = SortedList(items)
    fresh_encoding(z, cfg)
    _store(ctx, dst, z, b"zrangestore")
    return len(items)


def _listpack_prefix_zeros(items: list, cfg) -> list:
    """(score, member) pairs in the order zsetAdd receives them, the -0 scores of those added
    while the set would still be a listpack made 0."""
    entries = cfg["zset-max-listpack-entries"]
    vmax = cfg["zset-max-listpack-value"]
    out = list(items)
    for i, (sc, m) in enumerate(items):
        if i >= entries or len(m) > vmax:
            break  # zsetAdd converts it to a skiplist here
        if sc == 0.0:
            out[i] = (0.0, m)
    return out


@command("ZRANGE", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zrange(ctx: Client, *args: bytes):
    """Returns members in a sorted set within a range of indexes."""
    return _zrange_generic(ctx, args, 0, None, _AUTO, _AUTO)


@command("ZRANGESTORE", arity=-5, flags="write denyoom", keys=(1, 2, 1), group="sorted_set", since="6.2.0")
def zrangestore(ctx: Client, dst: bytes, *args: bytes):
    """Stores a range of members from sorted set in a key."""
    return _zrange_generic(ctx, args, 0, dst, _AUTO, _AUTO)


@command("ZREVRANGE", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zrevrange(ctx: Client, *args: bytes):
    """Returns members in a sorted set within a range of indexes in reverse order."""
    return _zrange_generic(ctx, args, 0, None, _RANK, _REV)


@command("ZRANGEBYSCORE", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="1.0.5")
def zrangebyscore(ctx: Client, *args: bytes):
    """Returns members in a sorted set within a range of scores."""
    return _zrange_generic(ctx, args, 0, None, _SCORE, _FWD)


@command("ZREVRANGEBYSCORE", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="2.2.0")
def zrevrangebyscore(ctx: Client, *args: bytes):
    """Returns members in a sorted set within a range of scores in reverse order."""
    return _zrange_generic(ctx, args, 0, None, _SCORE, _REV)


@command("ZRANGEBYLEX", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="2.8.9")
def zrangebylex(ctx: Client, *args: bytes):
    """Returns members in a sorted set within a lexicographical range."""
    return _zrange_generic(ctx, args, 0, None, _LEX, _FWD)


@command("ZREVRANGEBYLEX", arity=-4, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="2.8.9")
def zrevrangebylex(ctx: Client, *args: bytes):
    """Returns members in a sorted set within a lexicographical range in reverse order."""
    return _zrange_generic(ctx, args, 0, None, _LEX, _REV)


# --- ZREMRANGEBY* ----------------------------------------------------------------------
_REM_EVENTS = {_RANK: b"zremrangebyrank", _SCORE: b"zremrangebyscore", _LEX: b"zremrangebylex"}

def _zremrange(ctx: Client, key: bytes, a: bytes, b: bytes, rtype: int):
    if rtype == _RANK:
        start = to_int(a)
        end = to_int(b)
    elif rtype == _SCORE:
        rng = parse_score_range(a, b)
        if rng is None:
            raise CommandError(NOT_FLOAT_RANGE)
    else:
        rng = parse_lex_range(a, b)
        if rng is None:
            raise CommandError(NOT_LEX_RANGE)
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return 0
    if rtype == _RANK:
        r = clamp_range(start, end, len(zs.scores))
        if r is None:
            return 0
        lo, hi = r[0], r[1] + 1
    elif rtype == _SCORE:
        lo, hi = zs.score_bounds(*rng)
    else:
        lo, hi = zs.lex_bounds(rng)
    n = hi - lo
    if n <= 0:
        return 0
    sl = zs.sl
    scores = zs.scores
    for _, m in sl.islice(lo, hi):
        del scores[m]
    del sl[lo:hi]
    _changed(ctx, key, n, _REM_EVENTS[rtype])
    if not scores:
        ctx.db.delete(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
    return n


@command("ZREMRANGEBYRANK", arity=4, flags="write", keys=(1, 1, 1), group="sorted_set", since="2.0.0")
def zremrangebyrank(ctx: Client, key: bytes, start: bytes, stop: bytes):
    """Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."""
    return _zremrange(ctx, key, start, stop, _RANK)


@command("ZREMRANGEBYSCORE", arity=4, flags="write", keys=(1, 1, 1), group="sorted_set", since="1.2.0")
def zremrangebyscore(ctx: Client, key: bytes, mn: bytes, mx: bytes):
    """Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."""
    return _zremrange(ctx, key, mn, mx, _SCORE)


@command("ZREMRANGEBYLEX", arity=4, flags="write", keys=(1, 1, 1), group="sorted_set", since="2.8.9")
def zremrangebylex(ctx: Client, key: bytes, mn: bytes, mx: bytes):
    """Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."""
    return _zremrange(ctx, key, mn, mx, _LEX)


# --- pops --------------------------------------------------------------------------------
def _pop_items(ctx: Client, key: bytes, zs: ZSet, count: int, maxp: bool) -> list:
    """Remove up to `count` elements from one end, with the zpop* event; the key goes (with
    a del event) when it is empty. Does not signal the key or count dirty."""
    sl = zs.sl
    n = min(count, len(sl))
    if maxp:
        items = list(sl.islice(len(sl) - n, len(sl), reverse=True))
        del sl[len(sl) - n:]
    else:
        items = list(sl.islice(0, n))
        del sl[:n]
    scores = zs.scores
    for _, m in items:
        del scores[m]
    ctx.notify(NOTIFY_ZSET, b"zpopmax" if maxp else b"zpopmin", key)
    if not scores:
        ctx.db.delete(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
    return items


def _pop_reply(key: bytes, items: list, emitkey: bool, nested: bool) -> list:
    if nested:
        pairs = [[m, Double(s)] for s, m in items]
        return [key, pairs] if emitkey else pairs
    out = [key] if emitkey else []
    ap = out.append
    for s, m in items:
        ap(m)
        ap(Double(s))
    return out


def _zpop_generic(ctx: Client, keys, maxp: bool, emitkey: bool, count: int, nested: bool, nil_when_empty: bool):
    """genericZpopCommand. Returns (reply, key popped from or None)."""
    zs = None
    key = None
    for k in keys:
        zs = lookup_as(ctx, k, ZSet)
        if zs is not None:
            key = k
            break
    if zs is None:
        return (NULL_ARRAY if nil_when_empty else []), None
    if count == 0:
        return [], None
    if count == -1:
        count = 1
    items = _pop_items(ctx, key, zs, count, maxp)
    ctx.touched(key)
    ctx.server.dirty += len(items) - 1
    return _pop_reply(key, items, emitkey, nested), key


def _zpop_cmd(ctx: Client, key: bytes, rest: tuple, maxp: bool):
    if len(rest) > 1:
        raise CommandError(SYNTAX)
    count = -1
    if rest:
        count = to_positive_int(rest[0])
    reply, _ = _zpop_generic(ctx, (key,), maxp, False, count, ctx.resp > 2 and count != -1, False)
    return reply


@command("ZPOPMIN", arity=-2, flags="write fast", keys=(1, 1, 1), group="sorted_set", since="5.0.0")
def zpopmin(ctx: Client, key: bytes, *rest: bytes):
    """Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."""
    return _zpop_cmd(ctx, key, rest, False)


@command("ZPOPMAX", arity=-2, flags="write fast", keys=(1, 1, 1), group="sorted_set", since="5.0.0")
def zpopmax(ctx: Client, key: bytes, *rest: bytes):
    """Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."""
    return _zpop_cmd(ctx, key, rest, True)


def _pop_name(maxp: bool) -> bytes:
    return b"ZPOPMAX" if maxp else b"ZPOPMIN"


def _zmpop_parse(args: tuple, numidx: int):
    """zmpopGenericCommand's parsing: (keys, maxp, count)."""
    numkeys = to_range_int(args[numidx], 1, LONG_MAX, NUMKEYS_NOT_POSITIVE)
    where_idx = numidx + numkeys + 1
    if where_idx >= len(args):
        raise CommandError(SYNTAX)
    w = args[where_idx].lower()
    if w == b"min":
        maxp = False
    elif w == b"max":
        maxp = True
    else:
        raise CommandError(SYNTAX)
    count = mpop_count(args, where_idx + 1)
    return args[numidx + 1:where_idx], maxp, count


@command("ZMPOP", arity=-4, flags="write", group="sorted_set", since="7.0.0",
         getkeys=_keynum_getkeys(1, False))
def zmpop(ctx: Client, *args: bytes):
    """Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."""
    keys, maxp, count = _zmpop_parse(args, 0)
    reply, key = _zpop_generic(ctx, keys, maxp, True, count, True, True)
    if key is not None:
        ctx.propagate_as = [[_pop_name(maxp), key, b"%d" % count]]
    return reply


def _serve_blocked(maxp: bool, count: int, nested: bool):
    """The retry callback of a blocked BZPOP*/BZMPOP client."""

    def retry(c: Client, key: bytes):
        zs = c.db.lookup(key)
        if zs is None or type(zs) is not ZSet or not zs.scores:
            return None
        items = _pop_items(c, key, zs, 1 if count == -1 else count, maxp)
        c.server.dirty += len(items)
        if count == -1:
            propagate(c, [_pop_name(maxp), key])
        else:
            propagate(c, [_pop_name(maxp), key, b"%d" % len(items)])
        return _pop_reply(key, items, True, nested)

    return retry


def _blocking_zpop(ctx: Client, keys, maxp: bool, timeout_arg: bytes, count: int, nested: bool):
    """blockingGenericZpopCommand."""
    timeout = parse_timeout(timeout_arg, ctx=ctx)
    for k in keys:
        v = lookup_as(ctx, k, ZSet)
        if v is None or not v.scores:
            continue
        reply, _ = _zpop_generic(ctx, (k,), maxp, True, count, nested, False)
        if count == -1:
            ctx.propagate_as = [[_pop_name(maxp), k]]
        else:
            ctx.propagate_as = [[_pop_name(maxp), k, b"%d" % count]]
        return reply
    if not may_block(ctx):
        return NULL_ARRAY
    return Blocked(list(keys), timeout, _serve_blocked(maxp, count, nested), NULL_ARRAY)


@command("BZPOPMIN", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1), group="sorted_set",
         since="5.0.0",
         changed={"7.2": dict(flags="write blocking fast")})
def bzpopmin(ctx: Client, *args: bytes):
    """Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."""
    return _blocking_zpop(ctx, args[:-1], False, args[-1], -1, False)


@command("BZPOPMAX", arity=-3, flags="write noscript blocking fast", keys=(1, -2, 1), group="sorted_set",
         since="5.0.0",
         changed={"7.2": dict(flags="write blocking fast")})
def bzpopmax(ctx: Client, *args: bytes):
    """Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."""
    return _blocking_zpop(ctx, args[:-1], True, args[-1], -1, False)


@command("BZMPOP", arity=-5, flags="write blocking", group="sorted_set", since="7.0.0",
         getkeys=_keynum_getkeys(2, False))
def bzmpop(ctx: Client, *args: bytes):
    """Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."""
    keys, maxp, count = _zmpop_parse(args, 1)
    return _blocking_zpop(ctx, keys, maxp, args[0], count, True)


# --- ZRANDMEMBER ---------------------------------------------------------------------------
@command("ZRANDMEMBER", arity=-2, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="6.2.0")
def zrandmember(ctx: Client, key: bytes, *rest: bytes):
    """Returns one or more random members from a sorted set."""
    if rest:
        lv = to_range_int(rest[0], -LONG_MAX, LONG_MAX)
        if len(rest) > 2 or (len(rest) == 2 and rest[1].lower() != b"withscores"):
            raise CommandError(SYNTAX)
        withscores = len(rest) == 2
        if withscores and (lv < -(LONG_MAX // 2) or lv > LONG_MAX // 2):
            raise CommandError(VALUE_OUT_OF_RANGE)
        return _zrandmember_count(ctx, key, lv, withscores)
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return None
    sl = zs.sl
    return sl[random.randrange(len(sl))][1]


def _zrandmember_count(ctx: Client, key: bytes, lv: int, withscores: bool):
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return []
    sl = zs.sl
    size = len(sl)
    uniq = lv >= 0
    count = lv if uniq else -lv
    if count == 0:
        return []
    resp = ctx.resp
    if not uniq or count == 1:
        rr = random.randrange
        items = [sl[rr(size)] for _ in range(count)]
    elif count >= size:
        items = list(sl.islice(0, size, reverse=True))
    else:
        idx = random.sample(range(size), count)
        items = [sl[i] for i in idx]
    return _emit(items, withscores, resp)


_lp_score = listpack_score


# --- ZSCAN -------------------------------------------------------------------------------
@command("ZSCAN", arity=-3, flags="readonly", keys=(1, 1, 1), group="sorted_set", since="2.8.0")
def zscan(ctx: Client, key: bytes, cursor: bytes, *options: bytes):
    """Iterates over members and scores of a sorted set."""
    cur = parse_cursor(cursor, ctx.server.compat.at_least("7.4", "valkey-8.0"))
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return EMPTY_SCAN
    scores = zs.scores
    if zs.lp:
        return scan_reply(ctx, (ctx.db.id, key, id(zs)), cur, options, lambda: [m for _, m in zs.sl], small=True,
                          contains=scores.__contains__, value=lambda m: _lp_score(scores[m]))
    return scan_reply(ctx, (ctx.db.id, key, id(zs)), cur, options, lambda: list(scores), small=False,
                      contains=scores.__contains__, value=lambda m: _g17(scores[m]))


def _g17(d: float) -> bytes:
    """ZSCAN of a skiplist zset prints its scores with %.17g in every release (7.2 included)."""
    return b"%.17g" % d


# --- ZUNION / ZINTER / ZDIFF (+STORE) / ZINTERCARD ----------------------------------------
_UNION, _INTER, _DIFF = 0, 1, 2
_SUM, _MIN, _MAX = 0, 1, 2
_STORE_EVENTS = {_UNION: b"zunionstore", _INTER: b"zinterstore", _DIFF: b"zdiffstore"}


def _src_items(v):
    if type(v) is ZSet:
        return v.scores.items()
    return ((m, 1.0) for m in v)


def _src_score(v, m):
    if type(v) is ZSet:
        return v.scores.get(m)
    return 1.0 if m in v else None


def _zsetop(ctx: Client, args: tuple, numidx: int, op: int, dst: bytes | None, card_only: bool, name: str):
    """zunionInterDiffGenericCommand; args are the arguments after the command name."""
    setnum = to_int(args[numidx])
    if setnum < 1:
        raise CommandError("ERR at least 1 input key is needed for '%s' command" % name)
    n = len(args)
    if setnum > n - (numidx + 1):
        raise CommandError(SYNTAX)
    db = ctx.db
    srcs = []
    for j in range(numidx + 1, numidx + 1 + setnum):
        v = db.lookup(args[j])
        if v is not None and type(v) is not ZSet and type(v) is not RSet:
            raise CommandError(WRONGTYPE)
        srcs.append(v)
    weights = [1.0] * setnum
    agg = _SUM
    withscores = False
    limit = 0
    j = numidx + 1 + setnum
    while j < n:
        remaining = n - j
        o = args[j].lower()
        if op != _DIFF and not card_only and remaining >= setnum + 1 and o == b"weights":
            j += 1
            for i in range(setnum):
                w = parse_score(args[j])
                if w is None:
                    raise CommandError("ERR weight value is not a float")
                weights[i] = w
                j += 1
        elif op != _DIFF and not card_only and remaining >= 2 and o == b"aggregate":
            a = args[j + 1].lower()
            if a == b"sum":
                agg = _SUM
            elif a == b"min":
                agg = _MIN
            elif a == b"max":
                agg = _MAX
            else:
                raise CommandError(SYNTAX)
            j += 2
        elif dst is None and not card_only and o == b"withscores":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and o == b"limit":
            limit = to_positive_int(args[j + 1], LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(SYNTAX)

    pairs = list(zip(srcs, weights))
    if op != _DIFF:
        pairs.sort(key=lambda p: 0 if p[0] is None else len(p[0]))  # stable, as glibc's merge sort

    result: dict[bytes, float] = {}
    if op == _INTER:
        first, w0 = pairs[0]
        card = 0
        if first:
            rest = pairs[1:]
            for m, s in list(_src_items(first)):
                score = w0 * s
                if score != score:
                    score = 0.0
                for v, w in rest:
                    if v is first:
                        val = s * w
                    else:
                        val = _src_score(v, m)
                        if val is None:
                            break
                        val *= w
                    if agg == _SUM:
                        score = score + val
                        if score != score:
                            score = 0.0
                    elif agg == _MIN:
                        score = val if val < score else score
                    else:
                        score = val if val > score else score
                else:
                    if card_only:
                        card += 1
                        if limit and card >= limit:
                            break
                    else:
                        result[m] = score
        if card_only:
            return card
    elif op == _UNION:
        get = result.get
        for v, w in pairs:
            if not v:
                continue
            for m, s in list(_src_items(v)):
                score = w * s
                if score != score:
                    score = 0.0
                cur = get(m)
                if cur is None:
                    result[m] = score
                elif agg == _SUM:
                    t = cur + score
                    result[m] = 0.0 if t != t else t
                elif agg == _MIN:
                    if score < cur:
                        result[m] = score
                elif score > cur:
                    result[m] = score
    else:
        first = srcs[0]
        if first:
            others = [v for v in srcs[1:] if v]
            for m, s in list(_src_items(first)):
                for v in others:
                    if m in (v.scores if type(v) is ZSet else v):
                        break
                else:
                    result[m] = s

    if dst is not None:
        if result:
            z = ZSet(False)
            z.scores = result
            z.sl = SortedList((s, m) for m, s in result.items())
            fresh_encoding(z, ctx.server.config.values)
            _store(ctx, dst, z, _STORE_EVENTS[op])
            return len(result)
        _store_empty(ctx, dst)
        return 0
    items = sorted((s, m) for m, s in result.items())
    return _emit(items, withscores, ctx.resp)


@command("ZUNION", arity=-3, flags="readonly", group="sorted_set", since="6.2.0",
         getkeys=_keynum_getkeys(1, False))
def zunion(ctx: Client, *args: bytes):
    """Returns the union of multiple sorted sets."""
    return _zsetop(ctx, args, 0, _UNION, None, False, "zunion")


@command("ZINTER", arity=-3, flags="readonly", group="sorted_set", since="6.2.0",
         getkeys=_keynum_getkeys(1, False))
def zinter(ctx: Client, *args: bytes):
    """Returns the intersect of multiple sorted sets."""
    return _zsetop(ctx, args, 0, _INTER, None, False, "zinter")


@command("ZDIFF", arity=-3, flags="readonly", group="sorted_set", since="6.2.0",
         getkeys=_keynum_getkeys(1, False))
def zdiff(ctx: Client, *args: bytes):
    """Returns the difference between multiple sorted sets."""
    return _zsetop(ctx, args, 0, _DIFF, None, False, "zdiff")


@command("ZUNIONSTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="sorted_set", since="2.0.0",
         getkeys=_keynum_getkeys(2, True))
def zunionstore(ctx: Client, dst: bytes, *args: bytes):
    """Stores the union of multiple sorted sets in a key."""
    return _zsetop(ctx, args, 0, _UNION, dst, False, "zunionstore")


@command("ZINTERSTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="sorted_set", since="2.0.0",
         getkeys=_keynum_getkeys(2, True))
def zinterstore(ctx: Client, dst: bytes, *args: bytes):
    """Stores the intersect of multiple sorted sets in a key."""
    return _zsetop(ctx, args, 0, _INTER, dst, False, "zinterstore")


@command("ZDIFFSTORE", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="sorted_set", since="6.2.0",
         getkeys=_keynum_getkeys(2, True))
def zdiffstore(ctx: Client, dst: bytes, *args: bytes):
    """Stores the difference of multiple sorted sets in a key."""
    return _zsetop(ctx, args, 0, _DIFF, dst, False, "zdiffstore")


@command("ZINTERCARD", arity=-3, flags="readonly", group="sorted_set", since="7.0.0",
         getkeys=_keynum_getkeys(1, False))
def zintercard(ctx: Client, *args: bytes):
    """Returns the number of members of the intersect of multiple sorted sets."""
    return _zsetop(ctx, args, 0, _INTER, None, True, "zintercard")

