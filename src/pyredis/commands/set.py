"""Set commands (t_set.c): Redis 7.0's semantics, and in the 7.2+ modes 7.2's listpack-encoded
small sets (keyspace/set.py) with what they change: the encodings of created and computed sets
(SADD's size hint, SMOVE, SINTERSTORE/SUNIONSTORE/SDIFFSTORE, SPOP's rebuilt set), replies in
listpack order, SPOP's propagation in SREM batches of 1024 members (UNLINK under
lazyfree-lazy-server-del when it empties the set)."""

from __future__ import annotations

import random
from itertools import islice

from ..core.args import (
    LONG_MAX,
    Options,
    add_new,
    check_type,
    lookup_as,
    lookup_or_create,
    to_positive_int,
    to_range_int,
)
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_SET
from ..core.spec import command
from ..errors import LIMIT_NEGATIVE, NUMKEYS_NOT_POSITIVE, SYNTAX, TOO_MANY_KEYS, VALUE_OUT_OF_RANGE, CommandError
from ..keyspace.scan import EMPTY_SCAN, parse_cursor, scan_reply
from ..keyspace.set import RSet, intset_of, listpack_of, lp_limits, maybe_to_intset, new_set, ordered
from ..protocol.parser import string2ll
from ..protocol.replies import SetReply

# SRANDMEMBER with a negative count: see commands/hash.py (HRANDFIELD).
_MAX_REPEATS = 1 << 27


def _rand_member(s: RSet) -> bytes:
    """A uniformly random member. A Python set has no random access: O(N), at C speed."""
    n = len(s)
    if n <= 1024:
        return random.choice(tuple(s))
    return next(islice(s, random.randrange(n), None))


def _members(s: RSet):
    """The members in Redis's iteration order where it has one (intset, listpack), else the set."""
    return s if not s.intset and s.lp is None else ordered(s)


def _sample_in_order(s: RSet, count: int) -> list:
    """`count` distinct random members of a listpack set in listpack order (lpNextRandom's
    single pass), a random sample otherwise."""
    if s.lp is not None:
        items = list(s.lp)
        return [items[i] for i in sorted(random.sample(range(len(items)), count))]
    return random.sample(tuple(s), count)



@command("SADD", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="set", since="1.0.0")
def sadd(ctx: Client, key: bytes, *members: bytes):
    """Adds one or more members to a set. Creates the key if it doesn't exist."""
    config = ctx.server.config
    s = lookup_or_create(ctx, key, RSet, lambda: new_set(members[0], config, len(members)))
    if s.intset or s.lp is not None:
        s.maybe_convert(len(members), config)
        added = s.add_members(members, config)
    else:
        n = len(s)
        if len(members) == 1:
            s.add(members[0])
        else:
            s.update(members)
        added = len(s) - n
    if added:
        if added > 1:
            ctx.server.dirty += added - 1  # one change per new member, as Redis counts
        ctx.touched(key)
        if ctx.server.notify_flags:
            ctx.notify(NOTIFY_SET, b"sadd", key)
    return added


@command("SREM", arity=-3, flags="write fast", keys=(1, 1, 1), group="set", since="1.0.0")
def srem(ctx: Client, key: bytes, *members: bytes):
    """Removes one or more members from a set. Deletes the set if the last member was removed."""
    s = lookup_as(ctx, key, RSet)
    if s is None:
        return 0
    removed = s.remove_members(members)
    if removed:
        ctx.server.dirty += removed - 1
        ctx.touched(key)
        ctx.notify(NOTIFY_SET, b"srem", key)
        if not s:
            ctx.db.delete(key)
            ctx.notify(NOTIFY_GENERIC, b"del", key)
    return removed


@command("SMEMBERS", arity=2, flags="readonly", keys=(1, 1, 1), group="set", since="1.0.0")
def smembers(ctx: Client, key: bytes):
    """Returns all members of a set."""
    s = lookup_as(ctx, key, RSet)
    if s is None:
        return SetReply()
    return SetReply(ordered(s))


@command("SISMEMBER", arity=3, flags="readonly fast", keys=(1, 1, 1), group="set", since="1.0.0")
def sismember(ctx: Client, key: bytes, member: bytes):
    """Determines whether a member belongs to a set."""
    s = lookup_as(ctx, key, RSet)
    return 1 if s is not None and member in s else 0


@command("SMISMEMBER", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="set", since="6.2.0")
def smismember(ctx: Client, key: bytes, *members: bytes):
    """Determines whether multiple members belong to a set."""
    s = lookup_as(ctx, key, RSet)
    if s is None:
        return [0] * len(members)
    return [1 if m in s else 0 for m in members]


@command("SCARD", arity=2, flags="readonly fast", keys=(1, 1, 1), group="set", since="1.0.0")
def scard(ctx: Client, key: bytes):
    """Returns the number of members in a set."""
    s = lookup_as(ctx, key, RSet)
    return 0 if s is None else len(s)


@command("SPOP", arity=-2, flags="write fast", keys=(1, 1, 1), group="set", since="1.0.0")
def spop(ctx: Client, key: bytes, *args: bytes):
    """Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."""
    if args:
        if len(args) > 1:
            raise CommandError(SYNTAX)
        count = to_positive_int(args[0])
        s = lookup_as(ctx, key, RSet)
        if s is None or count == 0:
            return SetReply()
        size = len(s)
        config = ctx.server.config
        later = lp_limits(config) is not None
        ctx.notify(NOTIFY_SET, b"spop", key)
        if count >= size:
            popped = ordered(_union([s], config, _valkey_ht(ctx, [s])))  # the reply is SUNION's of the one set
            ctx.db.delete(key)
            ctx.server.dirty += size - 1
            ctx.touched(key)
            ctx.notify(NOTIFY_GENERIC, b"del", key)
            # 7.0 propagates DEL even with lazyfree-lazy-server-del (7.0.15's AOF shows); 7.2
            # UNLINK then
            ctx.propagate_as = [[b"UNLINK" if later and config["lazyfree-lazy-server-del"] else b"DEL", key]]
            return SetReply(popped)
        remaining = size - count
        if remaining * 5 > count:  # SPOP_MOVE_STRATEGY_MUL: pop `count` random members
            popped = _sample_in_order(s, count)
            s.remove_members(popped)
        else:  # keep `remaining` random members in a new set, reply with the others
            keep = _sample_in_order(s, remaining)
            if s.intset:
                new = intset_of(keep, config)
            elif later:  # 7.2 rebuilds a listpack (or a hashtable's survivors) as a listpack
                new = listpack_of(keep, config)
            else:  # 7.0: setTypeCreate of the first one kept (an intset for an integer)
                new = new_set(keep[0], config)
                new.add_members(keep, config)
            popped = [m for m in ordered(s) if m not in new]
            s.clear()
            s.update(new)
            s.intset, s.lp = new.intset, new.lp
        ctx.server.dirty += count - 1
        ctx.touched(key)
        # Redis 7.0 propagates one SREM per popped member, 7.2 one per 1024 of them; wrapped
        # in MULTI/EXEC (EXEC and scripts wrap what they run themselves).
        step = 1024 if later else 1
        ctx.propagate_as = [[b"SREM", key, *popped[i:i + step]] for i in range(0, count, step)]
        return SetReply(popped)
    s = lookup_as(ctx, key, RSet)
    if s is None:
        return None
    m = _rand_member(s)
    s.remove_members((m,))
    ctx.touched(key)
    ctx.notify(NOTIFY_SET, b"spop", key)
    if not s:
        ctx.db.delete(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)
    ctx.propagate_as = [[b"SREM", key, m]]
    return m


@command("SRANDMEMBER", arity=-2, flags="readonly", keys=(1, 1, 1), group="set", since="1.0.0")
def srandmember(ctx: Client, key: bytes, *args: bytes):
    """Get one or multiple random members from a set."""
    if not args:
        s = lookup_as(ctx, key, RSet)
        if s is None:
            return None
        return _rand_member(s)
    if len(args) > 1:
        raise CommandError(SYNTAX)
    count = to_range_int(args[0], -LONG_MAX, LONG_MAX)
    s = lookup_as(ctx, key, RSet)
    if s is None or count == 0:
        return []
    if count < 0:
        if count < -_MAX_REPEATS:
            raise CommandError(VALUE_OUT_OF_RANGE)
        return random.choices(tuple(s), k=-count)
    if count >= len(s):
        return ordered(s)
    return _sample_in_order(s, count)


@command("SMOVE", arity=4, flags="write fast", keys=(1, 2, 1), group="set", since="1.0.0")
def smove(ctx: Client, source: bytes, destination: bytes, member: bytes):
    """Moves a member from one set to another."""
    db = ctx.db
    src = db.lookup(source)
    dst = db.lookup(destination)
    if src is None:
        return 0
    check_type(src, RSet)
    check_type(dst, RSet)
    if src is dst:
        return 1 if member in src else 0
    if member not in src:
        return 0
    src.remove_members((member,))
    ctx.notify(NOTIFY_SET, b"srem", source)
    if not src:
        db.delete(source)
        ctx.notify(NOTIFY_GENERIC, b"del", source)
    if dst is None:
        dst = new_set(member, ctx.server.config, 1)
        add_new(ctx, destination, dst)
    ctx.touched(source)
    if dst.add_members((member,), ctx.server.config):
        ctx.touched(destination)
        ctx.notify(NOTIFY_SET, b"sadd", destination)
    return 1


def _lookup_sets(ctx: Client, keys) -> list:
    """Every key looked up and type-checked (missing keys are None), as Redis does before computing."""
    return [lookup_as(ctx, k, RSet) for k in keys]


def _inter(sets: list, limit: int = 0) -> list | None:
    """Members of the intersection in Redis's order (the smallest set's iteration order);
    None when a set is missing."""
    if any(s is None for s in sets):
        return None
    sets = sorted(sets, key=len)
    first, rest = sets[0], sets[1:]
    out: list = []
    for m in ordered(first):
        for other in rest:
            if other is not first and m not in other:
                break
        else:
            out.append(m)
            if limit and len(out) >= limit:
                break
    return out


def _store(ctx: Client, dest: bytes, result: RSet, event: bytes) -> int:
    db = ctx.db
    if result:
        if db.lookup(dest) is None:
            ctx.notify(NOTIFY_NEW, b"new", dest)
        db.set(dest, result)
        ctx.touched(dest)
        ctx.notify(NOTIFY_SET, event, dest)
        return len(result)
    if db.delete(dest):
        ctx.touched(dest)
        ctx.notify(NOTIFY_GENERIC, b"del", dest)
    return 0


@command("SINTER", arity=-2, flags="readonly", keys=(1, -1, 1), group="set", since="1.0.0")
def sinter(ctx: Client, *keys: bytes):
    """Returns the intersect of multiple sets."""
    res = _inter(_lookup_sets(ctx, keys))
    return SetReply(res) if res else SetReply()


def _sintercard_keys(argv: list[bytes]) -> list[int]:
    n = string2ll(argv[1]) if len(argv) > 1 else None
    if n is None or n <= 0 or 2 + n > len(argv):
        return []
    return list(range(2, 2 + n))


@command("SINTERCARD", arity=-3, flags="readonly", group="set", since="7.0.0", getkeys=_sintercard_keys)
def sintercard(ctx: Client, numkeys: bytes, *args: bytes):
    """Returns the number of members of the intersect of multiple sets."""
    n = to_range_int(numkeys, 1, LONG_MAX, NUMKEYS_NOT_POSITIVE)
    if n > len(args):
        raise CommandError(TOO_MANY_KEYS)
    limit = 0
    o = Options(args, n)
    while o:
        if o.next_upper() == b"LIMIT" and o.has_more():
            limit = to_positive_int(o.value(), LIMIT_NEGATIVE)
        else:
            raise CommandError(SYNTAX)
    res = _inter(_lookup_sets(ctx, args[:n]), limit)
    return 0 if res is None else len(res)


@command("SINTERSTORE", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set", since="1.0.0")
def sinterstore(ctx: Client, destination: bytes, *keys: bytes):
    """Stores the intersect of multiple sets in a key."""
    config = ctx.server.config
    sets = _lookup_sets(ctx, keys)
    res = _inter(sets)
    if not res or lp_limits(config) is None:  # 7.0: an intset, setTypeAdd of each member
        return _store(ctx, destination, intset_of(res or (), config), b"sinterstore")
    # 7.2: an intset when the smallest set is one, else a listpack (converted as it grows);
    # a result of integers only ends as an intset when it fits one
    first = min(sets, key=len)
    dst = intset_of(res, config) if first.intset else listpack_of(res, config)
    if not dst.intset and all(string2ll(m) is not None for m in res):
        maybe_to_intset(dst, config)
    return _store(ctx, destination, dst, b"sinterstore")


def _valkey_ht(ctx: Client, sets: list) -> bool:
    """Valkey 8.0's SUNION/SDIFF (and SPOP of a whole set) without a destination compute into
    a hashtable, not an intset, when a set is a listpack or a hashtable (its reply order is then
    the hashtable's)."""
    return ctx.server.compat.at_least("valkey-8.0") and any(s is not None and not s.intset for s in sets)


def _start(config, ht: bool) -> RSet:
    if ht:
        out = RSet()
        out.intset, out.lp = False, None
        return out
    return intset_of((), config)


def _union(sets: list, config, ht: bool = False) -> RSet:
    out = _start(config, ht)
    for s in sets:
        if s is not None:
            out.add_members(_members(s), config)
    return out


def _diff(sets: list, config, ht: bool = False) -> RSet:
    first = sets[0]
    if first is None:
        return intset_of((), config)
    algo_one = algo_two = 0
    for s in sets:
        if s is not None:
            algo_one += len(first)
            algo_two += len(s)
    algo_one //= 2
    if algo_one <= algo_two:
        # Algorithm 1: each member of the first set no other set has, in the first set's order
        rest = []
        for s in sets[1:]:
            if s is first:
                return intset_of((), config)
            if s is not None:
                rest.append(s)
        out = _start(config, ht)
        out.add_members([m for m in _members(first) if not any(m in s for s in rest)], config)
        return out
    # Algorithm 2 adds the whole first set, then removes: the encoding follows the first set.
    out = _start(config, ht)
    out.add_members(_members(first), config)
    for s in sets[1:]:
        if s is not None:
            out.remove_members(list(s))
            if not out:
                break
    return out


@command("SUNION", arity=-2, flags="readonly", keys=(1, -1, 1), group="set", since="1.0.0")
def sunion(ctx: Client, *keys: bytes):
    """Returns the union of multiple sets."""
    sets = _lookup_sets(ctx, keys)
    return SetReply(ordered(_union(sets, ctx.server.config, _valkey_ht(ctx, sets))))


@command("SUNIONSTORE", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set", since="1.0.0")
def sunionstore(ctx: Client, destination: bytes, *keys: bytes):
    """Stores the union of multiple sets in a key."""
    return _store(ctx, destination, _union(_lookup_sets(ctx, keys), ctx.server.config), b"sunionstore")


@command("SDIFF", arity=-2, flags="readonly", keys=(1, -1, 1), group="set", since="1.0.0")
def sdiff(ctx: Client, *keys: bytes):
    """Returns the difference of multiple sets."""
    sets = _lookup_sets(ctx, keys)
    return SetReply(ordered(_diff(sets, ctx.server.config, _valkey_ht(ctx, sets))))


@command("SDIFFSTORE", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set", since="1.0.0")
def sdiffstore(ctx: Client, destination: bytes, *keys: bytes):
    """Stores the difference of multiple sets in a key."""
    return _store(ctx, destination, _diff(_lookup_sets(ctx, keys), ctx.server.config), b"sdiffstore")


@command("SSCAN", arity=-3, flags="readonly", keys=(1, 1, 1), group="set", since="2.8.0")
def sscan(ctx: Client, key: bytes, cursor: bytes, *options: bytes):
    """Iterates over members of a set."""
    cur = parse_cursor(cursor, ctx.server.compat.at_least("7.4", "valkey-8.0"))
    s = lookup_as(ctx, key, RSet)
    if s is None:
        return EMPTY_SCAN
    return scan_reply(ctx, (ctx.db.id, key, id(s)), cur, options, lambda: ordered(s), small=s.intset or s.lp is not None,
                      contains=s.__contains__)
