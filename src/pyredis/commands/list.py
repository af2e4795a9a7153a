"""List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
LTRIM LPOS LMOVE RPOPLPUSH LMPOP, the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, and
CLIENT UNBLOCK (the generic end of the blocking machinery, core/blocking.py).

The order of checks in each handler follows Redis 7.0's t_list.c, since it decides which
error wins when several apply.
"""

from __future__ import annotations

from itertools import islice

from ..core.args import (
    LONG_MAX,
    LONG_MIN,
    Options,
    add_new,
    clamp_index,
    clamp_range,
    lookup_as,
    lookup_existing,
    mpop_count,
    to_int,
    to_positive_int,
    to_range_int,
)
from ..core.blocking import Blocked, may_block, parse_timeout
from ..core.blocking import manager as blocking_manager
from ..core.blocking import propagate as propagate_served
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_LIST
from ..core.spec import command
from ..errors import NUMKEYS_NOT_POSITIVE, OUT_OF_RANGE, SYNTAX, CommandError, wrong_arity
from ..keyspace.list import RList
from ..protocol.parser import string2ll
from ..protocol.replies import NULL_ARRAY, OK

def _where(b: bytes) -> bool:
    """getListPositionFromObjectOrReply: True for LEFT (head)."""
    u = b.upper()
    if u == b"LEFT":
        return True
    if u == b"RIGHT":
        return False
    raise CommandError(SYNTAX)


def _deleted_if_empty(ctx: Client, key: bytes, lst: RList) -> None:
    if not lst:
        ctx.db.delete(key)
        ctx.notify(NOTIFY_GENERIC, b"del", key)


def _signal(ctx: Client, key: bytes) -> None:
    """signalModifiedKey without counting a change (LTRIM that removed nothing)."""
    ctx.resized(key)
    server = ctx.server
    if server.key_change_hooks:
        server.signal_modified(ctx.db, key)


# --- pushes ---------------------------------------------------------------------------
def _push(ctx: Client, key: bytes, values: tuple[bytes, ...], left: bool, create: bool) -> int:
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        if not create:
            return 0
        lst = RList()
        add_new(ctx, key, lst)
    if left:
        lst.extendleft(values)
    else:
        lst.extend(values)
    ctx.server.dirty += len(values) - 1
    ctx.touched(key)
    ctx.notify(NOTIFY_LIST, b"lpush" if left else b"rpush", key)
    return len(lst)


@command("LPUSH", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list")
def lpush(ctx: Client, key: bytes, *values: bytes):
    """Prepends one or more elements to a list. Creates the key if it doesn't exist."""
    return _push(ctx, key, values, True, True)


@command("RPUSH", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list")
def rpush(ctx: Client, key: bytes, *values: bytes):
    """Appends one or more elements to a list. Creates the key if it doesn't exist."""
    return _push(ctx, key, values, False, True)


@command("LPUSHX", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list", since="2.2.0")
def lpushx(ctx: Client, key: bytes, *values: bytes):
    """Prepends one or more elements to a list only when the list exists."""
    return _push(ctx, key, values, True, False)


@command("RPUSHX", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list", since="2.2.0")
def rpushx(ctx: Client, key: bytes, *values: bytes):
    """Appends an element to a list only when the list exists."""
    return _push(ctx, key, values, False, False)


# --- pops -----------------------------------------------------------------------------
def _pop_n(lst: RList, left: bool, n: int) -> list[bytes]:
    pop = lst.popleft if left else lst.pop
    return [pop() for _ in range(min(n, len(lst)))]


def _pop(ctx: Client, args: tuple[bytes, ...], left: bool):
    key = args[0]
    if len(args) > 2:
        raise wrong_arity("lpop" if left else "rpop")
    hascount = len(args) == 2
    count = 0
    if hascount:
        count = to_positive_int(args[1])
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return NULL_ARRAY if hascount else None
    if hascount and not count:
        return []
    if not hascount:
        v = lst.popleft() if left else lst.pop()
        out = v
        n = 1
    else:
        out = _pop_n(lst, left, count)
        n = len(out)
    ctx.notify(NOTIFY_LIST, b"lpop" if left else b"rpop", key)
    _deleted_if_empty(ctx, key, lst)
    ctx.server.dirty += n - 1
    ctx.touched(key)
    return out


@command("LPOP", arity=-2, flags="write fast", keys=(1, 1, 1), group="list")
def lpop(ctx: Client, *args: bytes):
    """Returns the first elements in a list after removing it. Deletes the list if the last element was popped."""
    return _pop(ctx, args, True)


@command("RPOP", arity=-2, flags="write fast", keys=(1, 1, 1), group="list")
def rpop(ctx: Client, *args: bytes):
    """Returns and removes the last elements of a list. Deletes the list if the last element was popped."""
    return _pop(ctx, args, False)


# --- reads ----------------------------------------------------------------------------
@command("LLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), group="list")
def llen(ctx: Client, key: bytes):
    """Returns the length of a list."""
    lst = lookup_as(ctx, key, RList)
    return 0 if lst is None else len(lst)


@command("LRANGE", arity=4, flags="readonly", keys=(1, 1, 1), group="list")
def lrange(ctx: Client, key: bytes, start: bytes, stop: bytes):
    """Returns a range of elements from a list."""
    s = to_int(start)
    e = to_int(stop)
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return []
    n = len(lst)
    r = clamp_range(s, e, n)
    if r is None:
        return []
    s, e = r
    if s == 0 and e == n - 1:
        return list(lst)
    if s > n - 1 - e:  # closer to the tail: walk backwards
        out = list(islice(reversed(lst), n - 1 - e, n - s))
        out.reverse()
        return out
    return list(islice(lst, s, e + 1))


@command("LINDEX", arity=3, flags="readonly", keys=(1, 1, 1), group="list")
def lindex(ctx: Client, key: bytes, index: bytes):
    """Returns an element from a list by its index."""
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return None
    i = clamp_index(to_int(index), len(lst))
    return None if i is None else lst[i]


@command("LPOS", arity=-3, flags="readonly", keys=(1, 1, 1), group="list", since="6.0.6")
def lpos(ctx: Client, key: bytes, element: bytes, *opts: bytes):
    """Returns the index of matching elements in a list."""
    rank = 1
    count = -1
    maxlen = 0
    o = Options(opts)
    while o:
        opt = o.next_upper()
        if opt == b"RANK" and o.has_more():
            if ctx.server.compat.at_least("7.2"):  # 7.2 refuses LLONG_MIN (its negation overflows)
                rank = to_range_int(o.value(), -LONG_MAX, LONG_MAX)
            else:
                rank = o.int_value()
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                    "or use negative to start from the end of the list")
        elif opt == b"COUNT" and o.has_more():
            count = to_positive_int(o.value(), "ERR COUNT can't be negative")
        elif opt == b"MAXLEN" and o.has_more():
            maxlen = to_positive_int(o.value(), "ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
    forward = True
    if rank < 0:
        forward = False
        rank = -rank  # LLONG_MIN stays negative in C: every match then qualifies
        if rank > LONG_MAX:
            rank = LONG_MIN
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return [] if count != -1 else None
    llen = len(lst)
    it = iter(lst) if forward else reversed(lst)
    if maxlen:
        it = islice(it, maxlen)
    matches = 0
    out = []
    for idx, v in enumerate(it):
        if v == element:
            matches += 1
            if matches >= rank:
                pos = idx if forward else llen - idx - 1
                if count == -1:
                    return pos
                out.append(pos)
                if count:
                    got = (matches - rank + 1 + (1 << 63)) % (1 << 64) - (1 << 63)  # C long wrap
                    if got >= count:
                        break
    if count == -1:
        return None
    return out


# --- in-place edits -------------------------------------------------------------------
@command("LSET", arity=4, flags="write denyoom", keys=(1, 1, 1), group="list")
def lset(ctx: Client, key: bytes, index: bytes, element: bytes):
    """Sets the value of an element in a list by its index."""
    lst = lookup_existing(ctx, key, RList)
    n = to_int(index)
    if ctx.server.compat.at_least("7.2"):
        # 7.2's listTypeReplaceAtIndex takes the index as a C int: a long is truncated to 32 bits
        n = ((n + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    i = clamp_index(n, len(lst))
    if i is None:
        raise CommandError(OUT_OF_RANGE)
    lst[i] = element
    ctx.touched(key)
    ctx.notify(NOTIFY_LIST, b"lset", key)
    return OK


@command("LINSERT", arity=5, flags="write denyoom", keys=(1, 1, 1), group="list", since="2.2.0")
def linsert(ctx: Client, key: bytes, where: bytes, pivot: bytes, element: bytes):
    """Inserts an element before or after another element in a list."""
    w = where.upper()
    if w == b"AFTER":
        after = True
    elif w == b"BEFORE":
        after = False
    else:
        raise CommandError(SYNTAX)
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return 0
    try:
        i = lst.index(pivot)
    except ValueError:
        return -1
    lst.insert(i + 1 if after else i, element)
    ctx.touched(key)
    ctx.notify(NOTIFY_LIST, b"linsert", key)
    return len(lst)


@command("LREM", arity=4, flags="write", keys=(1, 1, 1), group="list")
def lrem(ctx: Client, key: bytes, count: bytes, element: bytes):
    """Removes elements from a list. Deletes the list if the last element was removed."""
    c = to_int(count)
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return 0
    removed = 0
    if c == 0:
        n = len(lst)
        kept = [v for v in lst if v != element]
        removed = n - len(kept)
        if removed:
            lst.clear()
            lst.extend(kept)
    else:
        limit = abs(c)
        items = list(lst) if c > 0 else list(reversed(lst))
        kept = []
        for idx, v in enumerate(items):
            if v == element:
                removed += 1
                if removed == limit:
                    kept.extend(items[idx + 1:])
                    break
            else:
                kept.append(v)
        if removed:
            if c < 0:
                kept.reverse()
            lst.clear()
            lst.extend(kept)
    if removed:
        ctx.notify(NOTIFY_LIST, b"lrem", key)
        _deleted_if_empty(ctx, key, lst)
        ctx.server.dirty += removed - 1
        ctx.touched(key)
    return removed


@command("LTRIM", arity=4, flags="write", keys=(1, 1, 1), group="list")
def ltrim(ctx: Client, key: bytes, start: bytes, stop: bytes):
    """Removes elements from both ends a list. Deletes the list if all elements were trimmed."""
    s = to_int(start)
    e = to_int(stop)
    lst = lookup_as(ctx, key, RList)
    if lst is None:
        return OK
    n = len(lst)
    r = clamp_range(s, e, n)
    ltrim_n, rtrim_n = (n, 0) if r is None else (r[0], n - r[1] - 1)
    if ltrim_n + rtrim_n == n:
        lst.clear()
    else:
        if ltrim_n:
            if ltrim_n == 1:
                lst.popleft()
            else:
                lst.rotate(-ltrim_n)
                for _ in range(ltrim_n):
                    lst.pop()
        for _ in range(rtrim_n):
            lst.pop()
    ctx.notify(NOTIFY_LIST, b"ltrim", key)
    _deleted_if_empty(ctx, key, lst)
    _signal(ctx, key)
    ctx.server.dirty += ltrim_n + rtrim_n
    return OK


# --- moves ----------------------------------------------------------------------------
def _push_moved(ctx: Client, dst: bytes, dlist, value: bytes, to_left: bool) -> None:
    """The destination half of LMOVE/BLMOVE: create the list if needed, push, signal, notify."""
    if dlist is None:
        dlist = RList()
        add_new(ctx, dst, dlist)
    if to_left:
        dlist.appendleft(value)
    else:
        dlist.append(value)
    ctx.touched(dst)
    ctx.notify(NOTIFY_LIST, b"lpush" if to_left else b"rpush", dst)


def _move(ctx: Client, src: bytes, dst: bytes, from_left: bool, to_left: bool):
    """lmoveGenericCommand: the moved element, or None when the source is missing.
    Raises WRONGTYPE for a source or destination of another type."""
    slist = lookup_as(ctx, src, RList)
    if slist is None:
        return None
    dlist = lookup_as(ctx, dst, RList)
    value = slist.popleft() if from_left else slist.pop()
    _push_moved(ctx, dst, dlist, value, to_left)
    ctx.notify(NOTIFY_LIST, b"lpop" if from_left else b"rpop", src)
    _deleted_if_empty(ctx, src, slist)
    _signal(ctx, src)
    return value


@command("LMOVE", arity=5, flags="write denyoom", keys=(1, 2, 1), group="list", since="6.2.0")
def lmove(ctx: Client, src: bytes, dst: bytes, wherefrom: bytes, whereto: bytes):
    """Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."""
    f = _where(wherefrom)
    t = _where(whereto)
    return _move(ctx, src, dst, f, t)


@command("RPOPLPUSH", arity=3, flags="write denyoom", keys=(1, 2, 1), group="list", since="1.2.0")
def rpoplpush(ctx: Client, src: bytes, dst: bytes):
    """Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."""
    return _move(ctx, src, dst, False, True)


# --- LMPOP ----------------------------------------------------------------------------
def _mpop_keys(argv: list[bytes], idx: int) -> list[int]:
    n = string2ll(argv[idx]) if len(argv) > idx else None
    if n is None or n <= 0 or idx + n >= len(argv):
        return []
    return list(range(idx + 1, idx + 1 + n))


def _parse_mpop(args: tuple[bytes, ...]):
    """lmpopGenericCommand's parsing: (keys, left, count)."""
    numkeys = to_range_int(args[0], 1, LONG_MAX, NUMKEYS_NOT_POSITIVE)
    where_idx = numkeys + 1
    if where_idx >= len(args):
        raise CommandError(SYNTAX)
    left = _where(args[where_idx])
    count = mpop_count(args, where_idx + 1)
    return args[1:where_idx], left, count


def _mpop_from(ctx: Client, key: bytes, lst: RList, left: bool, count: int) -> list:
    out = _pop_n(lst, left, count)
    ctx.notify(NOTIFY_LIST, b"lpop" if left else b"rpop", key)
    _deleted_if_empty(ctx, key, lst)
    ctx.server.dirty += len(out) - 1
    ctx.touched(key)
    ctx.propagate_as = [[b"LPOP" if left else b"RPOP", key, b"%d" % len(out)]]
    return [key, out]


@command("LMPOP", arity=-4, flags="write", group="list", since="7.0.0",
         getkeys=lambda argv: _mpop_keys(argv, 1))
def lmpop(ctx: Client, *args: bytes):
    """Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."""
    keys, left, count = _parse_mpop(args)
    for key in keys:
        lst = lookup_as(ctx, key, RList)
        if lst is not None:
            return _mpop_from(ctx, key, lst, left, count)
    return NULL_ARRAY


# --- blocking variants ----------------------------------------------------------------
def _served_pop(left: bool):
    """retry() for BLPOP/BRPOP: pop one element from the ready key."""

    def retry(ctx: Client, key: bytes):
        lst = ctx.db.lookup(key)
        if type(lst) is not RList or not lst:
            return None
        v = lst.popleft() if left else lst.pop()
        propagate_served(ctx, [b"LPOP" if left else b"RPOP", key])
        ctx.server.dirty += 1
        ctx.notify(NOTIFY_LIST, b"lpop" if left else b"rpop", key)
        _deleted_if_empty(ctx, key, lst)
        return [key, v]

    return retry


def _blocking_pop(ctx: Client, keys, left: bool, timeout_arg: bytes):
    timeout = parse_timeout(timeout_arg, ctx=ctx)
    for key in keys:
        lst = lookup_as(ctx, key, RList)
        if lst is None:
            continue
        v = lst.popleft() if left else lst.pop()
        ctx.notify(NOTIFY_LIST, b"lpop" if left else b"rpop", key)
        _deleted_if_empty(ctx, key, lst)
        ctx.touched(key)
        ctx.propagate_as = [[b"LPOP" if left else b"RPOP", key]]
        return [key, v]
    if not may_block(ctx):
        return NULL_ARRAY
    return Blocked(keys, timeout, _served_pop(left), NULL_ARRAY)


@command("BLPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list", since="2.0.0",
         changed={"7.2": dict(flags="write blocking")})
def blpop(ctx: Client, *args: bytes):
    """Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."""
    return _blocking_pop(ctx, args[:-1], True, args[-1])


@command("BRPOP", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list", since="2.0.0",
         changed={"7.2": dict(flags="write blocking")})
def brpop(ctx: Client, *args: bytes):
    """Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."""
    return _blocking_pop(ctx, args[:-1], False, args[-1])


def _served_move(dst: bytes, from_left: bool, to_left: bool, as_rpoplpush: bool):
    def retry(ctx: Client, key: bytes):
        db = ctx.db
        slist = db.lookup(key)
        if type(slist) is not RList or not slist:
            return None
        dlist = lookup_as(ctx, dst, RList)  # WRONGTYPE: the client is unblocked with the error
        value = slist.popleft() if from_left else slist.pop()
        _push_moved(ctx, dst, dlist, value, to_left)  # wakes waiters on dst (BLMOVE chains)
        if as_rpoplpush:
            propagate_served(ctx, [b"RPOPLPUSH", key, dst])
        else:
            propagate_served(ctx, [b"LMOVE", key, dst, b"LEFT" if from_left else b"RIGHT",
                                   b"LEFT" if to_left else b"RIGHT"])
        ctx.notify(NOTIFY_LIST, b"lpop" if from_left else b"rpop", key)
        _deleted_if_empty(ctx, key, slist)
        return value

    return retry


def _blocking_move(ctx: Client, src: bytes, dst: bytes, from_left: bool, to_left: bool,
                   timeout_arg: bytes, as_rpoplpush: bool):
    timeout = parse_timeout(timeout_arg, ctx=ctx)
    slist = lookup_as(ctx, src, RList)
    if slist is None:
        if not may_block(ctx):
            return None
        return Blocked((src,), timeout, _served_move(dst, from_left, to_left, as_rpoplpush), NULL_ARRAY)
    v = _move(ctx, src, dst, from_left, to_left)
    if as_rpoplpush:
        ctx.propagate_as = [[b"RPOPLPUSH", src, dst]]
    else:
        ctx.propagate_as = [[b"LMOVE", src, dst, b"LEFT" if from_left else b"RIGHT",
                             b"LEFT" if to_left else b"RIGHT"]]
    return v


@command("BLMOVE", arity=6, flags="write denyoom noscript blocking", keys=(1, 2, 1), group="list", since="6.2.0",
         changed={"7.2": dict(flags="write denyoom blocking")})
def blmove(ctx: Client, src: bytes, dst: bytes, wherefrom: bytes, whereto: bytes, timeout: bytes):
    """Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."""
    f = _where(wherefrom)
    t = _where(whereto)
    return _blocking_move(ctx, src, dst, f, t, timeout, False)


@command("BRPOPLPUSH", arity=4, flags="write denyoom noscript blocking", keys=(1, 2, 1), group="list", since="2.2.0",
         changed={"7.2": dict(flags="write denyoom blocking")})
def brpoplpush(ctx: Client, src: bytes, dst: bytes, timeout: bytes):
    """Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."""
    return _blocking_move(ctx, src, dst, False, True, timeout, True)


def _served_mpop(left: bool, count: int):
    def retry(ctx: Client, key: bytes):
        lst = ctx.db.lookup(key)
        if type(lst) is not RList or not lst:
            return None
        out = _pop_n(lst, left, count)
        propagate_served(ctx, [b"LPOP" if left else b"RPOP", key, b"%d" % len(out)])
        ctx.server.dirty += len(out)
        ctx.notify(NOTIFY_LIST, b"lpop" if left else b"rpop", key)
        _deleted_if_empty(ctx, key, lst)
        return [key, out]

    return retry


@command("BLMPOP", arity=-5, flags="write blocking", group="list", since="7.0.0",
         getkeys=lambda argv: _mpop_keys(argv, 2))
def blmpop(ctx: Client, timeout_arg: bytes, *args: bytes):
    """Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."""
    keys, left, count = _parse_mpop(args)
    timeout = parse_timeout(timeout_arg, ctx=ctx)
    for key in keys:
        lst = lookup_as(ctx, key, RList)
        if lst is not None:
            return _mpop_from(ctx, key, lst, left, count)
    if not may_block(ctx):
        return NULL_ARRAY
    return Blocked(keys, timeout, _served_mpop(left, count), NULL_ARRAY)


# --- CLIENT UNBLOCK -------------------------------------------------------------------
@command("CLIENT|UNBLOCK", arity=-3, flags="admin noscript loading stale", group="connection", since="5.0.0")
def client_unblock(ctx: Client, client_id: bytes, *reason: bytes):
    """Unblocks a client blocked by a blocking command from a different connection."""
    if len(reason) > 1:
        raise CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try CLIENT HELP."
                           % ctx.argv[1].decode("utf-8", "replace")[:128])
    error = False
    if reason:
        r = reason[0].upper()
        if r == b"ERROR":
            error = True
        elif r != b"TIMEOUT":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    cid = to_int(client_id)
    if ctx.server.blocking is None:
        return 0
    return 1 if blocking_manager(ctx.server).unblock_client(cid, error) else 0
