"""Stream commands, as Redis 7.0.15's t_stream.c: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD
XREADGROUP XGROUP XACK XPENDING XCLAIM XAUTOCLAIM XSETID XINFO.

Propagation follows Redis: XADD with a generated id (or `~` trimming) propagates the id and
trim point it actually used; XREADGROUP, XCLAIM and XAUTOCLAIM propagate their effects as
`XCLAIM ... FORCE JUSTID LASTID` / `XGROUP SETID ... ENTRIESREAD` / `XGROUP CREATECONSUMER`
(never themselves), so an AOF replay rebuilds the same pending lists.
"""

from __future__ import annotations

import functools

from itertools import islice

from ..core.args import LONG_MAX, Options, lookup_as, lookup_existing, to_int, to_range_int
from ..core.blocking import Blocked, may_block, parse_timeout
from ..core.blocking import propagate as propagate_served
from ..core.client import Client
from ..core.notify import NOTIFY_NEW, NOTIFY_STREAM
from ..core.spec import command, container
from ..errors import COUNT_NOT_GT_ZERO, SYNTAX, WRONGTYPE, CommandError, wrong_arity
from ..keyspace.stream import INVALID_READ, MAX_ID, U64, Consumer, Group, Nack, Stream, fmt_id
from ..protocol.replies import NULL_ARRAY, OK, Simple
from ..util import string2ll

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
_NOGROUP_FOR_KEY = b"NOGROUP No such consumer group '%s' for key name '%s'"
_ID_NOT_GREATER = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
_WS = b" \t\n\v\f\r"


def _s2ull(b: bytes) -> int | None:
    """string2ull: string2ll, else strtoull on the whole string (which accepts leading
    blanks, a sign - negating modulo 2^64 - and leading zeros)."""
    v = string2ll(b)
    if v is not None:
        return v if v >= 0 else None
    n = len(b)
    i = 0
    while i < n and b[i] in _WS:
        i += 1
    neg = False
    if i < n and b[i] in b"+-":
        neg = b[i] == 45
        i += 1
    j = i
    while j < n and 48 <= b[j] <= 57:
        j += 1
    if j == i or j != n:
        return None
    v = int(b[i:j])
    if v > U64:
        return None
    return (-v) & U64 if neg else v


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False, seq_star: bool = False) -> tuple[int, bool]:
    """streamGenericParseIDOrReply -> (id, seq_given)."""
    if len(arg) > 127:
        raise CommandError(INVALID_ID)
    z = arg.find(0)
    if z >= 0:
        arg = arg[:z]
    if arg == b"-":
        if strict:
            raise CommandError(INVALID_ID)
        return 0, True
    if arg == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        return MAX_ID, True
    ms_s, dash, seq_s = arg.partition(b"-")
    ms = _s2ull(ms_s)
    if ms is None:
        raise CommandError(INVALID_ID)
    if dash:
        if seq_star and seq_s == b"*":
            return ms << 64, False
        seq = _s2ull(seq_s)
        if seq is None:
            raise CommandError(INVALID_ID)
    else:
        seq = missing_seq
    return (ms << 64) | seq, True


def strict_id(arg: bytes) -> int:
    return parse_id(arg, 0, True)[0]


def parse_interval(arg: bytes, missing_seq: int) -> tuple[int, bool]:
    """streamParseIntervalIDOrReply: `(id` is exclusive."""
    if len(arg) > 1 and arg[0] == 40:
        return parse_id(arg[1:], missing_seq, True)[0], True
    return parse_id(arg, missing_seq)[0], False


def interval_start(arg: bytes) -> int:
    """The first id of an interval (XRANGE, XPENDING, XAUTOCLAIM): `(id` starts after it."""
    start, exclusive = parse_interval(arg, 0)
    if exclusive:
        if start == MAX_ID:
            raise CommandError("ERR invalid start ID for the interval")
        start += 1
    return start


def interval_end(arg: bytes) -> int:
    """The last id of an interval: `(id` ends before it."""
    end, exclusive = parse_interval(arg, U64)
    if exclusive:
        if end == 0:
            raise CommandError("ERR invalid end ID for the interval")
        end -= 1
    return end


def _group_of(ctx: Client, key: bytes, gname: bytes) -> tuple[Stream, Group]:
    """The stream and its consumer group; NOGROUP when either is missing (XPENDING, XCLAIM,
    XAUTOCLAIM)."""
    s = lookup_as(ctx, key, Stream)
    g = s.groups.get(gname) if s is not None and s.groups else None
    if g is None:
        raise CommandError(b"NOGROUP No such key '%s' or consumer group '%s'" % (key, gname))
    return s, g


def _entries(s: Stream, ids: list[int]) -> list:
    ents = s.entries
    return [[fmt_id(i), ents[i]] for i in ids]


def _in_script(ctx: Client) -> bool:
    from ..core.lua import called_from_script

    return called_from_script(ctx)


# --- XADD / XTRIM ------------------------------------------------------------------------
class _TrimArgs:
    __slots__ = ("maxlen", "minid", "approx", "limit", "arg_idx", "nomk", "id", "id_given", "seq_given")

    def __init__(self) -> None:
        self.maxlen: int | None = None
        self.minid: int | None = None
        self.approx = False
        self.limit = 0
        self.arg_idx = 0
        self.nomk = False
        self.id = 0
        self.id_given = False
        self.seq_given = True


_BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"


def _parse_add_trim(ctx: Client, argv: list[bytes], xadd: bool) -> tuple[int, _TrimArgs]:
    """streamParseAddOrTrimArgsOrReply: returns the index of the ID (XADD) and the options."""
    t = _TrimArgs()
    n = len(argv)
    limit_given = False
    i = 2
    strategy = False
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        if xadd and opt == b"*":
            break
        lo = opt.lower()
        if lo == b"maxlen" and more:
            if strategy:
                raise CommandError(_BOTH)
            t.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                t.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            t.maxlen = to_int(argv[i + 1])
            if t.maxlen < 0:
                raise CommandError("ERR The MAXLEN argument must be >= 0.")
            i += 1
            strategy = True
            t.arg_idx = i
        elif lo == b"minid" and more:
            if strategy:
                raise CommandError(_BOTH)
            t.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                t.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            t.minid = strict_id(argv[i + 1])
            i += 1
            strategy = True
            t.arg_idx = i
        elif lo == b"limit" and more:
            t.limit = to_int(argv[i + 1])
            if t.limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and lo == b"nomkstream":
            t.nomk = True
        elif xadd:
            t.id, t.seq_given = parse_id(opt, 0, True, True)
            t.id_given = True
            break
        else:
            raise CommandError(SYNTAX)
        i += 1
    if t.limit and not strategy:
        raise CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and not strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if ctx.server.loading or ctx.is_master:  # mustObeyClient: the trim point was rewritten when propagated
        t.limit = 0
    elif limit_given:
        if not t.approx:
            raise CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif t.approx:
        lim = 100 * ctx.server.config["stream-node-max-entries"]
        t.limit = lim if 0 < lim <= 10000 else 10000
    else:
        t.limit = 0
    return i, t


def _trim_rewrite(s: Stream, t: _TrimArgs, argv: list[bytes]) -> list[bytes]:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument."""
    argv = list(argv)
    argv[t.arg_idx - 1] = b"="
    if t.maxlen is not None:
        argv[t.arg_idx] = b"%d" % len(s.ids)
    else:
        argv[t.arg_idx] = fmt_id(s.first_edge_id())
    return argv


def _do_trim(s: Stream, t: _TrimArgs) -> int:
    return s.trim(t.maxlen, t.minid, t.approx, t.limit)


@command("XADD", arity=-5, flags="write denyoom fast", keys=(1, 1, 1), group="stream", since="5.0.0")
def xadd(ctx: Client, key: bytes, *args: bytes):
    """Appends a new message to a stream. Creates the key if it doesn't exist."""
    argv = ctx.argv
    n = len(argv)
    if args[0] == b"*":  # fast path: XADD key * field value ...
        idpos = 2
        t = None
    else:
        idpos, t = _parse_add_trim(ctx, argv, True)
    fpos = idpos + 1
    if fpos >= n or (n - fpos) & 1:
        raise wrong_arity("xadd")
    if t is not None and t.id_given and t.seq_given and t.id == 0:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    s = lookup_as(ctx, key, Stream)
    if s is None:
        if t is not None and t.nomk:
            return None
        s = Stream()
        ctx.db.add(key, s)
        ctx.notify(NOTIFY_NEW, b"new", key)  # dbAdd's event
    last = s.last_id
    if last == MAX_ID:
        raise CommandError("ERR The stream has exhausted the last possible ID, unable to add more items")
    if t is None or not t.id_given:
        ms = ctx.server.now_ms
        new = ms << 64 if ms > last >> 64 else last + 1
    elif t.seq_given:
        new = t.id
    elif last >> 64 == t.id >> 64:
        if last & U64 == U64:
            raise CommandError(_ID_NOT_GREATER)
        new = last + 1
    else:
        new = t.id
    if new <= last:
        raise CommandError(_ID_NOT_GREATER)
    fields = tuple(argv[fpos:])
    if sum(map(len, fields)) > 1 << 30:
        raise CommandError("ERR Elements are too large to be stored")
    server = ctx.server
    cfg = server.config.values
    s.append(new, fields, cfg["stream-node-max-bytes"], cfg["stream-node-max-entries"])
    rid = b"%d-%d" % (new >> 64, new & U64)
    ctx.touched(key)
    if server.notify_flags:
        ctx.notify(NOTIFY_STREAM, b"xadd", key)
    prop = None
    if t is not None:
        if t.maxlen is not None or t.minid is not None:
            if _do_trim(s, t):
                ctx.notify(NOTIFY_STREAM, b"xtrim", key)
            if t.approx:
                prop = _trim_rewrite(s, t, argv)
        if not t.id_given or not t.seq_given:
            if prop is None:
                prop = list(argv)
            prop[idpos] = rid
    elif server.propagation.active:  # the id actually generated replaces `*`
        prop = list(argv)
        prop[2] = rid
    if prop is not None:
        ctx.propagate_as = [prop]
    return rid


@command("XTRIM", arity=-4, flags="write", keys=(1, 1, 1), group="stream", since="5.0.0")
def xtrim(ctx: Client, key: bytes, *args: bytes):
    """Deletes messages from the beginning of a stream."""
    _, t = _parse_add_trim(ctx, ctx.argv, False)
    s = lookup_as(ctx, key, Stream)
    if s is None:
        return 0
    deleted = _do_trim(s, t)
    if deleted:
        ctx.notify(NOTIFY_STREAM, b"xtrim", key)
        if t.approx:
            ctx.propagate_as = [_trim_rewrite(s, t, ctx.argv)]
        ctx.touched(key)
        ctx.server.dirty += deleted - 1
    return deleted


@command("XLEN", arity=2, flags="readonly fast", keys=(1, 1, 1), group="stream", since="5.0.0")
def xlen(ctx: Client, key: bytes):
    """Return the number of messages in a stream."""
    s = lookup_as(ctx, key, Stream)
    return 0 if s is None else len(s.ids)


def _xrange(ctx: Client, key: bytes, start_arg: bytes, end_arg: bytes, opts: tuple, rev: bool):
    start = interval_start(start_arg)
    end = interval_end(end_arg)
    count = -1
    o = Options(opts)
    while o:
        if o.next_upper() == b"COUNT" and o.has_more():
            count = max(o.int_value(), 0)
        else:
            raise CommandError(SYNTAX)
    s = lookup_as(ctx, key, Stream)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _entries(s, s.range(start, end, 0 if count == -1 else count, rev))


@command("XRANGE", arity=-4, flags="readonly", keys=(1, 1, 1), group="stream", since="5.0.0")
def xrange(ctx: Client, key: bytes, start: bytes, end: bytes, *opts: bytes):
    """Returns the messages from a stream within a range of IDs."""
    return _xrange(ctx, key, start, end, opts, False)


@command("XREVRANGE", arity=-4, flags="readonly", keys=(1, 1, 1), group="stream", since="5.0.0")
def xrevrange(ctx: Client, key: bytes, end: bytes, start: bytes, *opts: bytes):
    """Returns the messages from a stream within a range of IDs in reverse order."""
    return _xrange(ctx, key, start, end, opts, True)


@command("XDEL", arity=-3, flags="write fast", keys=(1, 1, 1), group="stream", since="5.0.0")
def xdel(ctx: Client, key: bytes, *id_args: bytes):
    """Returns the number of messages after removing them from a stream."""
    s = lookup_as(ctx, key, Stream)
    if s is None:
        return 0
    ids = [strict_id(a) for a in id_args]
    deleted = 0
    first = False
    for i in ids:
        if s.delete(i):
            if i == s.first_id:
                first = True
            if i > s.max_deleted:
                s.max_deleted = i
            deleted += 1
    if deleted:
        if not s.ids:
            s.first_id = 0
        elif first:
            s.first_id = s.ids[0]
        ctx.touched(key)
        ctx.server.dirty += deleted - 1
        ctx.notify(NOTIFY_STREAM, b"xdel", key)
    return deleted


# --- groups: delivery --------------------------------------------------------------------
def _xclaim_argv(key: bytes, gname: bytes, g: Group, eid: bytes, nack: Nack) -> list[bytes]:
    return [b"XCLAIM", key, gname, nack.consumer.name, b"0", eid, b"TIME", b"%d" % nack.delivery_time,
            b"RETRYCOUNT", b"%d" % nack.delivery_count, b"FORCE", b"JUSTID", b"LASTID", fmt_id(g.last_id)]


def _setid_argv(key: bytes, gname: bytes, g: Group) -> list[bytes]:
    return [b"XGROUP", b"SETID", key, gname, fmt_id(g.last_id), b"ENTRIESREAD", b"%d" % g.entries_read]


def _lookup_consumer(ctx: Client, g: Group, name: bytes, key: bytes, emit) -> Consumer:
    c = g.consumers.get(name)
    now = ctx.now
    if c is None:
        c = g.consumers[name] = Consumer(name, now)
        ctx.server.dirty += 1
        ctx.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
        if emit is not None:
            emit([b"XGROUP", b"CREATECONSUMER", key, g.name, name])
    c.seen_time = now
    return c


def _claim_consumer(ctx: Client, g: Group, name: bytes, key: bytes, now: int) -> Consumer:
    """XCLAIM/XAUTOCLAIM in 7.2: the consumer exists (and is seen) whether anything is claimed."""
    c = g.consumers.get(name)
    if c is None:
        c = g.consumers[name] = Consumer(name, now)
        ctx.server.dirty += 1
        ctx.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
    c.seen_time = now
    return c


def _serve_new(ctx: Client, s: Stream, key: bytes, g: Group, consumer: Consumer, start: int, count: int,
               noack: bool, emit) -> list:
    """streamReplyWithRange with a group: deliver entries after the group's last id."""
    ids = s.range(start, MAX_ID, count)
    now = ctx.now
    ents = s.entries
    out = []
    prop_last = False
    gname = g.name
    for eid in ids:
        if eid > g.last_id:
            if g.entries_read != INVALID_READ and not s.range_has_tombstones(eid):
                g.entries_read += 1
            elif s.entries_added:
                g.entries_read = s.estimate_distance(eid)
            g.last_id = eid
            if noack:
                prop_last = True
        rid = fmt_id(eid)
        out.append([rid, ents[eid]])
        if not noack:
            nack = g.pel.get(eid)
            if nack is None:
                nack = Nack(consumer, now)
                g.pel[eid] = nack
            else:
                nack.consumer.pel.pop(eid, None)
                nack.consumer = consumer
                nack.delivery_time = now
                nack.delivery_count = 1
            consumer.pel[eid] = nack
            if emit is not None:
                emit(_xclaim_argv(key, gname, g, rid, nack))
    if prop_last and emit is not None:
        emit(_setid_argv(key, gname, g))
    if ids:
        ctx.server.dirty += 1
        if not noack:  # 7.2's XINFO CONSUMERS `inactive` (7.0 shows no such field): entries taken
            consumer.active_time = now
    return out


def _serve_history(ctx: Client, s: Stream, consumer: Consumer, start: int, count: int) -> list:
    """streamReplyWithRangeFromConsumerPEL: the consumer's pending entries after the id."""
    now = ctx.now
    ents = s.entries
    out = []
    it = consumer.pel.iter_from(start)
    if count:
        it = islice(it, count)
    for eid in list(it):
        f = ents.get(eid)
        if f is None:
            out.append([fmt_id(eid), NULL_ARRAY])
        else:
            nack = consumer.pel[eid]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([fmt_id(eid), f])
    return out


def _xread_keys(start: int):
    def keys(argv: list[bytes]) -> list[int]:
        n = len(argv)
        for i in range(start, n):
            if argv[i].lower() == b"streams":
                first = i + 1
                last = first + (n - first) // 2 - 1
                return list(range(first, min(last, n - 1) + 1))
        return []

    return keys


def _resizing(keys_of):
    """Consumer-group commands change the stream without signalling the key (Redis calls no
    signalModifiedKey for them, so ctx.touched is not called): re-estimate the streams they
    name once they ran (used_memory)."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(ctx: Client, *args: bytes):
            try:
                return fn(ctx, *args)
            finally:
                argv = ctx.argv
                for i in keys_of(argv):
                    ctx.resized(argv[i])

        return wrapper

    return deco


def _key_at(i: int):
    return lambda argv: (i,) if len(argv) > i else ()


class _MapKey(bytes):
    """A map key compared by identity: XREAD STREAMS s s 0 0 answers a RESP3 map with the key
    twice, as Redis does."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other) -> bool:
        return self is other


def _read_reply(ctx: Client, pairs: list):
    if ctx.resp == 2:
        return [[k, v] for k, v in pairs]
    if len(pairs) == 1:
        return {pairs[0][0]: pairs[0][1]}
    return {_MapKey(k): v for k, v in pairs}


def _xread(ctx: Client, group_mode: bool):
    argv = ctx.argv
    n = len(argv)
    timeout = -1
    count = 0
    streams_arg = 0
    nstreams = 0
    noack = False
    gname = cname = None
    i = 1
    while i < n:
        more = n - i - 1
        o = argv[i].lower()
        if o == b"block" and more:
            if _in_script(ctx) and not ctx.server.compat.at_least("7.4", "valkey-8.0"):
                # (7.4 and Valkey 8 run it from scripts without blocking)
                raise CommandError(b"ERR %s command is not allowed with BLOCK option from scripts" % argv[0])
            i += 1
            timeout = parse_timeout(argv[i], seconds=False, ctx=ctx)
        elif o == b"count" and more:
            i += 1
            count = to_int(argv[i])
            if count < 0:
                count = 0
        elif o == b"streams" and more:
            streams_arg = i + 1
            nstreams = n - streams_arg
            if nstreams % 2:
                if ctx.server.compat.at_least("7.2"):  # the command's own name and ID
                    raise CommandError("ERR Unbalanced '%s' list of streams: for each stream key an ID or '%s' must "
                                       "be specified." % ("xreadgroup" if group_mode else "xread",
                                                          ">" if group_mode else "$"))
                # 7.0 names XREAD and '$' for both commands
                raise CommandError("ERR Unbalanced XREAD list of streams: for each stream key an ID or "
                                   "'$' must be specified.")
            nstreams //= 2
            break
        elif o == b"group" and more >= 2:
            if not group_mode:
                raise CommandError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
            gname, cname = argv[i + 1], argv[i + 2]
            i += 2
        elif o == b"noack":
            if not group_mode:
                raise CommandError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
            noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if streams_arg == 0:
        raise CommandError(SYNTAX)
    if group_mode and gname is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    db = ctx.db
    keys = argv[streams_arg : streams_arg + nstreams]
    gts: list[int] = []
    groups: list[Group | None] = []
    last_entry: dict = {}  # 7.4's '+': key -> the id of the entry read (that one only)
    for j in range(nstreams):
        key = keys[j]
        arg = argv[streams_arg + nstreams + j]
        s = lookup_as(ctx, key, Stream)
        g = None
        if gname is not None:
            g = s.groups.get(gname) if s is not None and s.groups else None
            if g is None:
                raise CommandError(b"NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
                                   % (key, gname))
        groups.append(g)
        if arg == b"$":
            if group_mode:
                raise CommandError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
                    "just return an empty result set.")
            gts.append(s.last_id if s is not None else 0)
            continue
        if arg == b"+" and ctx.server.compat.at_least("7.4", "valkey-8.0"):  # 7.4, Valkey 8: the last entry
            if group_mode:
                raise CommandError(
                    "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of "
                    "this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would "
                    "just return an empty result set.")
            if s is not None and s.ids:
                last_entry[key] = s.ids[-1]
                gts.append(s.ids[-1] - 1)
            else:
                gts.append(s.last_id if s is not None else 0)  # nothing yet: as '$'
            continue
        if arg == b">":
            if not group_mode:
                raise CommandError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                                   "<group> <consumer> option.")
            gts.append(MAX_ID)
            continue
        gts.append(strict_id(arg))
    props: list = []
    if group_mode:
        ctx.propagate_as = props  # never propagated as itself (preventCommandPropagation)
    emit = props.append if ctx.server.propagation.active else None
    if group_mode and ctx.server.compat.at_least("7.2"):
        # 7.2 creates (and marks seen) the consumer in every group read, served or not
        for j in range(nstreams):
            _lookup_consumer(ctx, groups[j], cname, keys[j], emit)
    out = []
    for j in range(nstreams):
        key = keys[j]
        s = db.lookup(key)
        if s is None:
            continue
        gt = gts[j]
        g = groups[j]
        if g is not None:
            history = gt != MAX_ID
            serve = history
            if not history and s.ids and s.ids[-1] > g.last_id:
                serve = True
                gt = g.last_id
            if serve:  # 7.0.15 creates the consumer only when it serves it something
                consumer = _lookup_consumer(ctx, g, cname, key, emit)
                start = gt + 1 if gt < MAX_ID else gt
                if history:
                    out.append((key, _serve_history(ctx, s, consumer, start, count)))
                else:
                    out.append((key, _serve_new(ctx, s, key, g, consumer, start, count, noack, emit)))
        elif key in last_entry:
            out.append((key, _entries(s, [last_entry[key]])))
        elif s.ids and s.ids[-1] > gt:
            out.append((key, _entries(s, s.range(gt + 1, MAX_ID, count))))
    if out:
        return _read_reply(ctx, out)
    if timeout != -1:
        if not may_block(ctx):
            return NULL_ARRAY
        ids = {}
        for j in range(nstreams):
            ids.setdefault(keys[j], gts[j])
        retry = _served_read(ids, count or 1000, gname, cname, noack)
        if gname is None:
            return Blocked(list(keys), timeout, retry, NULL_ARRAY)
        _install_deletion_hooks(ctx.server)
        return Blocked(list(keys), timeout, retry, NULL_ARRAY, deleted=_stream_gone(gname))
    return NULL_ARRAY


_GONE = "UNBLOCKED the stream key no longer exists"


def _no_group(key: bytes, gname: bytes) -> CommandError:
    return CommandError(b"NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
                        % (key, gname))


def _stream_gone(gname: bytes):
    """XREADGROUP clients whose stream was deleted are unblocked (XREAD ones keep waiting):
    7.0.15 with its UNBLOCKED error; 7.2 runs the command again, which finds no key."""

    def gone(ctx: Client, key: bytes):
        if ctx.server.compat.at_least("7.2"):
            raise _no_group(key, gname)
        raise CommandError(_GONE)

    return gone


def _install_deletion_hooks(state) -> None:
    """Deletions that do not go through ctx.touched() (FLUSHALL/FLUSHDB, expiry) must still
    wake XREADGROUP waiters: signal their keys too (once per server)."""
    if getattr(state, "_stream_deletion_hooks", False):
        return
    state._stream_deletion_hooks = True
    from ..core.blocking import manager

    def serve_later(bl) -> None:
        # the active expire cycle runs outside any command: nothing else would serve them
        if bl.ready and not state.time_frozen:
            bl.handle_ready()

    def expired(db, key):
        bl = state.blocking
        if bl is not None and (db.id, key) in bl.waiters:
            bl.signal_ready(db, key)
            if state.scheduler is not None:  # (no loop: embedded use without a server)
                state.scheduler.call_soon(serve_later, bl)

    def flushed(db):
        bl = state.blocking
        if bl is not None and bl.waiters:
            for dbid, key in list(bl.waiters):
                if dbid == db.id and key in db.data:
                    bl.signal_ready(db, key)

    manager(state)
    state.expire_hooks.append(expired)
    state.flush_hooks.append(flushed)


def _served_read(ids: dict, count: int, gname, cname, noack: bool):
    """retry() for XREAD/XREADGROUP BLOCK (serveClientsBlockedOnStreamKey)."""

    def retry(ctx: Client, key: bytes):
        s = ctx.db.lookup(key)
        if type(s) is not Stream:
            if gname is not None and s is not None:  # overwritten by another type
                # 7.2 runs the command again, which finds the wrong type
                raise CommandError(WRONGTYPE if ctx.server.compat.at_least("7.2") else _GONE)
            return None
        gt = ids[key]
        g = None
        if gname is not None:
            g = s.groups.get(gname) if s.groups else None
            if g is None:
                if ctx.server.compat.at_least("7.2"):
                    raise _no_group(key, gname)
                raise CommandError("NOGROUP the consumer group this client was blocked on no longer exists")
            gt = ids[key] = g.last_id
        if s.last_id <= gt:
            return None
        start = gt + 1
        if g is not None:
            props: list = []
            consumer = _lookup_consumer(ctx, g, cname, key, props.append)
            data = _serve_new(ctx, s, key, g, consumer, start, count, noack, props.append)
            for argv in props:
                propagate_served(ctx, argv)
        else:
            data = _entries(s, s.range(start, MAX_ID, count))
        if not data and ctx.server.compat.at_least("7.2"):
            return None  # 7.2 runs the command again: nothing to read, it keeps waiting
        return _read_reply(ctx, [(key, data)])

    return retry


@command("XREAD", arity=-4, flags="readonly blocking", group="stream", since="5.0.0", getkeys=_xread_keys(1))
def xread(ctx: Client, *args: bytes):
    """Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."""
    return _xread(ctx, False)


@command("XREADGROUP", arity=-7, flags="write blocking", group="stream", since="5.0.0", getkeys=_xread_keys(4))
@_resizing(_xread_keys(4))
def xreadgroup(ctx: Client, *args: bytes):
    """Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."""
    return _xread(ctx, True)


# --- XGROUP ------------------------------------------------------------------------------
container("XGROUP", group="stream", summary="A container for consumer groups commands.", since="5.0.0")

_XGROUP_HELP = [
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
]


def _xgroup_syntax(sub: bytes):
    return CommandError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try XGROUP HELP." % sub[:128])


def _xgroup_common(ctx: Client, sub: str, key: bytes, gname: bytes, opts: tuple, mkstream_ok: bool):
    """xgroupCommand's shared prologue: options, key, group."""
    argv = ctx.argv
    mkstream = False
    entries_read = INVALID_READ
    if sub in ("create", "setid"):
        i = 0
        while i < len(opts):
            o = opts[i].lower()
            if mkstream_ok and o == b"mkstream":
                mkstream = True
                i += 1
            elif o == b"entriesread" and i + 1 < len(opts):
                entries_read = to_int(opts[i + 1])
                if entries_read < 0 and entries_read != INVALID_READ:
                    raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
                i += 2
            else:
                raise _xgroup_syntax(argv[1])
    s = lookup_as(ctx, key, Stream)
    g = None
    if not mkstream:
        if s is None:
            raise CommandError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                               "want to use the MKSTREAM option to create an empty stream automatically.")
        g = s.groups.get(gname) if s.groups else None
        if g is None and sub in ("setid", "createconsumer", "delconsumer"):
            raise CommandError(_NOGROUP_FOR_KEY % (gname, key))
    return s, g, mkstream, entries_read


@command("XGROUP|CREATE", arity=-5, flags="write denyoom", keys=(2, 2, 1), group="stream", since="5.0.0")
@_resizing(_key_at(2))
def xgroup_create(ctx: Client, key: bytes, gname: bytes, id_arg: bytes, *opts: bytes):
    """Creates a consumer group."""
    s, g, mkstream, entries_read = _xgroup_common(ctx, "create", key, gname, opts, True)
    if len(ctx.argv) > 8:
        raise _xgroup_syntax(ctx.argv[1])
    if id_arg == b"$":
        eid = s.last_id if s is not None else 0
    else:
        eid = strict_id(id_arg)
    if s is None:
        s = Stream()
        ctx.db.add(key, s)
        ctx.notify(NOTIFY_NEW, b"new", key)  # dbAdd's event
        ctx.touched(key)
        ctx.server.dirty -= 1
    if s.groups is None:
        s.groups = {}
    if gname in s.groups:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    s.groups[gname] = Group(gname, eid, entries_read)
    ctx.server.dirty += 1
    ctx.notify(NOTIFY_STREAM, b"xgroup-create", key)
    return OK


@command("XGROUP|SETID", arity=-5, flags="write", keys=(2, 2, 1), group="stream", since="5.0.0")
@_resizing(_key_at(2))
def xgroup_setid(ctx: Client, key: bytes, gname: bytes, id_arg: bytes, *opts: bytes):
    """Sets the last-delivered ID of a consumer group."""
    s, g, _, entries_read = _xgroup_common(ctx, "setid", key, gname, opts, False)
    if len(ctx.argv) not in (5, 7):
        raise _xgroup_syntax(ctx.argv[1])
    eid = s.last_id if id_arg == b"$" else parse_id(id_arg)[0]
    g.last_id = eid
    g.entries_read = entries_read
    ctx.server.dirty += 1
    ctx.notify(NOTIFY_STREAM, b"xgroup-setid", key)
    return OK


@command("XGROUP|DESTROY", arity=4, flags="write", keys=(2, 2, 1), group="stream", since="5.0.0")
@_resizing(_key_at(2))
def xgroup_destroy(ctx: Client, key: bytes, gname: bytes):
    """Destroys a consumer group."""
    s, g, _, _ = _xgroup_common(ctx, "destroy", key, gname, (), False)
    if g is None:
        return 0
    del s.groups[gname]
    ctx.server.dirty += 1
    ctx.notify(NOTIFY_STREAM, b"xgroup-destroy", key)
    _signal_ready(ctx, key)  # unblock XREADGROUP clients of that group with -NOGROUP
    return 1


def _signal_ready(ctx: Client, key: bytes) -> None:
    bl = ctx.server.blocking
    if bl is not None:
        bl.signal_ready(ctx.db, key)


@command("XGROUP|CREATECONSUMER", arity=5, flags="write denyoom", keys=(2, 2, 1), group="stream", since="6.2.0")
@_resizing(_key_at(2))
def xgroup_createconsumer(ctx: Client, key: bytes, gname: bytes, cname: bytes):
    """Creates a consumer in a consumer group."""
    s, g, _, _ = _xgroup_common(ctx, "createconsumer", key, gname, (), False)
    if cname in g.consumers:
        return 0
    g.consumers[cname] = Consumer(cname, ctx.now)
    ctx.server.dirty += 1
    ctx.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
    return 1


@command("XGROUP|DELCONSUMER", arity=5, flags="write", keys=(2, 2, 1), group="stream", since="5.0.0")
@_resizing(_key_at(2))
def xgroup_delconsumer(ctx: Client, key: bytes, gname: bytes, cname: bytes):
    """Deletes a consumer from a consumer group."""
    s, g, _, _ = _xgroup_common(ctx, "delconsumer", key, gname, (), False)
    c = g.consumers.pop(cname, None)
    if c is None:
        return 0
    pending = len(c.pel)
    for eid in c.pel:
        del g.pel[eid]
    ctx.server.dirty += 1
    ctx.notify(NOTIFY_STREAM, b"xgroup-delconsumer", key)
    return pending


@command("XGROUP|HELP", arity=2, flags="loading stale", group="stream", since="5.0.0")
def xgroup_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return [Simple(x.encode()) for x in _XGROUP_HELP]


# --- XACK / XPENDING / XCLAIM / XAUTOCLAIM / XSETID --------------------------------------
@command("XACK", arity=-4, flags="write fast", keys=(1, 1, 1), group="stream", since="5.0.0")
@_resizing(_key_at(1))
def xack(ctx: Client, key: bytes, gname: bytes, *id_args: bytes):
    """Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."""
    s = lookup_as(ctx, key, Stream)
    g = s.groups.get(gname) if s is not None and s.groups else None
    if g is None:
        return 0
    ids = [strict_id(a) for a in id_args]
    n = 0
    pel = g.pel
    for eid in ids:
        nack = pel.pop(eid, None)
        if nack is not None:
            del nack.consumer.pel[eid]
            n += 1
    if n:
        ctx.server.dirty += n
    return n


@command("XPENDING", arity=-3, flags="readonly", keys=(1, 1, 1), group="stream", since="5.0.0")
def xpending(ctx: Client, key: bytes, gname: bytes, *args: bytes):
    """Returns the information and entries from a stream consumer group's pending entries list."""
    argc = len(args) + 3
    if argc != 3 and (argc < 6 or argc > 9):
        raise CommandError(SYNTAX)
    minidle = 0
    cname = None
    if argc >= 6:
        si = 0
        if args[0].lower() == b"idle":
            minidle = to_int(args[1])
            if argc < 8:
                raise CommandError(SYNTAX)
            si = 2
        count = to_int(args[si + 2])
        if count < 0:
            count = 0
        start = interval_start(args[si])
        end = interval_end(args[si + 1])
        if si + 3 < len(args):
            cname = args[si + 3]
    s, g = _group_of(ctx, key, gname)
    if argc == 3:
        pel = g.pel
        if not pel:
            return [0, None, None, NULL_ARRAY]
        cons = [[c.name, b"%d" % len(c.pel)] for c in g.sorted_consumers() if c.pel]
        return [len(pel), fmt_id(pel.first()), fmt_id(pel.last()), cons]
    if cname is not None:
        c = g.consumers.get(cname)
        if c is None:
            return []
        pel = c.pel
    else:
        pel = g.pel
    now = ctx.now
    out = []
    if count:
        for eid in pel.irange(start, end):
            nack = pel[eid]
            if minidle and now - nack.delivery_time < minidle:
                continue
            elapsed = now - nack.delivery_time
            out.append([fmt_id(eid), nack.consumer.name, elapsed if elapsed > 0 else 0, nack.delivery_count])
            count -= 1
            if not count:
                break
    return out


def _entry_or_none(s: Stream, eid: int):
    f = s.entries.get(eid)
    return None if f is None else [fmt_id(eid), f]


@command("XCLAIM", arity=-6, flags="write fast", keys=(1, 1, 1), group="stream", since="5.0.0")
@_resizing(_key_at(1))
def xclaim(ctx: Client, key: bytes, gname: bytes, cname: bytes, minidle_arg: bytes, *args: bytes):
    """Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."""
    s, g = _group_of(ctx, key, gname)
    minidle = to_int(minidle_arg, "ERR Invalid min-idle-time argument for XCLAIM")
    if minidle < 0:
        minidle = 0
    ids = []
    j = 0
    n = len(args)
    while j < n:
        try:
            ids.append(strict_id(args[j]))
        except CommandError:
            break
        j += 1
    now = ctx.now
    retrycount = -1
    deliverytime = -1
    force = justid = False
    last_id = 0
    while j < n:
        more = n - 1 - j
        o = args[j].lower()
        if o == b"force":
            force = True
        elif o == b"justid":
            justid = True
        elif o == b"idle" and more:
            j += 1
            deliverytime = now - to_int(args[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif o == b"time" and more:
            j += 1
            deliverytime = to_int(args[j], "ERR Invalid TIME option argument for XCLAIM")
        elif o == b"retrycount" and more:
            j += 1
            retrycount = to_int(args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif o == b"lastid" and more:
            j += 1
            last_id = strict_id(args[j])
        else:
            raise CommandError(b"ERR Unrecognized XCLAIM option '%s'" % args[j].split(b"\0")[0])
        j += 1
    props: list = []
    ctx.propagate_as = props
    prop_last = False
    if last_id > g.last_id:
        g.last_id = last_id
        prop_last = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    consumer = _claim_consumer(ctx, g, cname, key, now) if ctx.server.compat.at_least("7.2") else None
    out = []
    pel = g.pel
    for eid in ids:
        nack = pel.get(eid)
        rid = fmt_id(eid)
        if eid not in s.entries:
            if nack is not None:
                props.append(_xclaim_argv(key, gname, g, rid, nack))
                prop_last = False
                ctx.server.dirty += 1
                del pel[eid]
                del nack.consumer.pel[eid]
            continue
        if force and nack is None:
            nack = Nack(None, now)  # streamCreateNACK(NULL)
            pel[eid] = nack
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = g.consumers.get(cname)
            if consumer is None:
                consumer = g.consumers[cname] = Consumer(cname, now)
                ctx.server.dirty += 1
                ctx.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
            consumer.seen_time = now
        if nack.consumer is not consumer and nack.consumer is not None:
            del nack.consumer.pel[eid]
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[eid] = nack
            nack.consumer = consumer
        consumer.active_time = now
        out.append(rid if justid else _entry_or_none(s, eid))
        props.append(_xclaim_argv(key, gname, g, rid, nack))
        prop_last = False
        ctx.server.dirty += 1
    if prop_last:
        props.append(_setid_argv(key, gname, g))
        ctx.server.dirty += 1
    return out


@command("XAUTOCLAIM", arity=-6, flags="write fast", keys=(1, 1, 1), group="stream", since="6.2.0")
@_resizing(_key_at(1))
def xautoclaim(ctx: Client, key: bytes, gname: bytes, cname: bytes, minidle_arg: bytes, start_arg: bytes,
               *opts: bytes):
    """Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."""
    minidle = to_int(minidle_arg, "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    if minidle < 0:
        minidle = 0
    start = interval_start(start_arg)
    count = 100
    justid = False
    o = Options(opts)
    while o:
        opt = o.next_upper()
        if opt == b"COUNT" and o.has_more():
            count = to_range_int(o.value(), 1, LONG_MAX // 16, COUNT_NOT_GT_ZERO)
        elif opt == b"JUSTID":
            justid = True
        else:
            raise CommandError(SYNTAX)
    s, g = _group_of(ctx, key, gname)
    if count * 16 > 80 << 40:
        # ztrymalloc(count * sizeof(streamID)) fails (the limit seen with jemalloc on Linux x86-64)
        raise CommandError("ERR Insufficient memory, failed allocating transient memory, COUNT too high.")
    props: list = []
    ctx.propagate_as = props
    attempts = count * 10
    pel = g.pel
    cand = list(islice(pel.iter_from(start), attempts + 1))
    now = ctx.now
    consumer = _claim_consumer(ctx, g, cname, key, now) if ctx.server.compat.at_least("7.2") else None
    out = []
    deleted = []
    i = 0
    ents = s.entries
    while attempts and count and i < len(cand):
        attempts -= 1
        eid = cand[i]
        i += 1
        nack = pel[eid]
        if eid not in ents:
            rid = fmt_id(eid)
            props.append(_xclaim_argv(key, gname, g, rid, nack))
            ctx.server.dirty += 1
            del pel[eid]
            del nack.consumer.pel[eid]
            deleted.append(rid)
            count -= 1
            continue
        if minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = g.consumers.get(cname)
            if consumer is None:
                consumer = g.consumers[cname] = Consumer(cname, now)
                ctx.server.dirty += 1
                ctx.notify(NOTIFY_STREAM, b"xgroup-createconsumer", key)
            consumer.seen_time = now
        if nack.consumer is not consumer:
            del nack.consumer.pel[eid]
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel[eid] = nack
            nack.consumer = consumer
        rid = fmt_id(eid)
        consumer.active_time = now
        out.append(rid if justid else [rid, ents[eid]])
        count -= 1
        props.append(_xclaim_argv(key, gname, g, rid, nack))
        ctx.server.dirty += 1
    cursor = fmt_id(cand[i]) if i < len(cand) else b"0-0"
    return [cursor, out, deleted]


@command("XSETID", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="stream", since="5.0.0")
@_resizing(_key_at(1))
def xsetid(ctx: Client, key: bytes, id_arg: bytes, *opts: bytes):
    """An internal command for replicating stream values."""
    eid = strict_id(id_arg)
    entries_added = -1
    max_xdel = 0
    o = Options(opts)
    while o:
        opt = o.next_upper()
        if opt == b"ENTRIESADDED" and o.has_more():
            entries_added = o.int_value()
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
        elif opt == b"MAXDELETEDID" and o.has_more():
            max_xdel = strict_id(o.value())
            if eid < max_xdel:
                raise CommandError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
        else:
            raise CommandError(SYNTAX)
    s = lookup_existing(ctx, key, Stream)
    if eid < s.max_deleted and ctx.server.compat.at_least("7.2"):  # 7.2 checks this first
        raise CommandError("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
    if s.ids:
        if eid < s.ids[-1]:
            raise CommandError("ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and len(s.ids) > entries_added:
            raise CommandError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    if eid < s.max_deleted:
        raise CommandError("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
    s.last_id = eid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted = max_xdel
    ctx.server.dirty += 1  # 7.0 does not signal the key: WATCH and blocked readers see nothing
    ctx.notify(NOTIFY_STREAM, b"xsetid", key)
    return OK


# --- XINFO -------------------------------------------------------------------------------
container("XINFO", group="stream", summary="A container for stream introspection commands.", since="5.0.0")

_XINFO_HELP = [
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
]


@command("XINFO|HELP", arity=2, flags="loading stale", group="stream", since="5.0.0")
def xinfo_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return [Simple(x.encode()) for x in _XINFO_HELP]


@command("XINFO|CONSUMERS", arity=4, flags="readonly", keys=(2, 2, 1), group="stream", since="5.0.0")
def xinfo_consumers(ctx: Client, key: bytes, gname: bytes):
    """Returns a list of the consumers in a consumer group."""
    s = lookup_existing(ctx, key, Stream)
    g = s.groups.get(gname) if s.groups else None
    if g is None:
        raise CommandError(_NOGROUP_FOR_KEY % (gname, key))
    now = ctx.now
    later = ctx.server.compat.at_least("7.2")
    out = []
    for c in g.sorted_consumers():
        idle = now - c.seen_time
        item = {b"name": c.name, b"pending": len(c.pel), b"idle": idle if idle > 0 else 0}
        if later:  # 7.2: since the consumer last got entries (-1: never)
            item[b"inactive"] = now - c.active_time if c.active_time != -1 else -1
        out.append(item)
    return out


@command("XINFO|GROUPS", arity=3, flags="readonly", keys=(2, 2, 1), group="stream", since="5.0.0")
def xinfo_groups(ctx: Client, key: bytes):
    """Returns a list of the consumer groups of a stream."""
    s = lookup_existing(ctx, key, Stream)
    out = []
    for g in s.sorted_groups():
        out.append({
            b"name": g.name, b"consumers": len(g.consumers), b"pending": len(g.pel),
            b"last-delivered-id": fmt_id(g.last_id),
            b"entries-read": g.entries_read if g.entries_read != INVALID_READ else None,
            b"lag": s.lag(g),
        })
    return out


@command("XINFO|STREAM", arity=-3, flags="readonly", keys=(2, 2, 1), group="stream", since="5.0.0")
def xinfo_stream(ctx: Client, key: bytes, *args: bytes):
    """Returns information about a stream."""
    s = lookup_existing(ctx, key, Stream)
    full = True
    count = 10
    bad = CommandError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try XINFO HELP."
                       % ctx.argv[1][:128])
    if not args:
        full = False
    elif len(args) in (1, 3):
        if args[0].lower() != b"full":
            raise bad
        if len(args) == 3:
            if args[1].lower() != b"count":
                raise bad
            count = to_int(args[2])
            if count < 0:
                count = 10
    else:
        raise bad
    r = {
        b"length": len(s.ids), b"radix-tree-keys": len(s.nodes), b"radix-tree-nodes": s.rax_nodes(),
        b"last-generated-id": fmt_id(s.last_id), b"max-deleted-entry-id": fmt_id(s.max_deleted),
        b"entries-added": s.entries_added, b"recorded-first-entry-id": fmt_id(s.first_id),
    }
    if not full:
        r[b"groups"] = len(s.groups) if s.groups else 0
        r[b"first-entry"] = _entry_or_none(s, s.ids[0]) if s.ids else None
        r[b"last-entry"] = _entry_or_none(s, s.ids[-1]) if s.ids else None
        return r
    r[b"entries"] = _entries(s, s.range(0, MAX_ID, count))
    groups = []
    for g in s.sorted_groups():
        pend = []
        for eid, nack in (islice(g.pel.iter_items(), count) if count else g.pel.items()):
            pend.append([fmt_id(eid), nack.consumer.name, nack.delivery_time, nack.delivery_count])
        cons = []
        for c in g.sorted_consumers():
            cp = []
            for eid, nack in (islice(c.pel.iter_items(), count) if count else c.pel.items()):
                cp.append([fmt_id(eid), nack.delivery_time, nack.delivery_count])
            ci = {b"name": c.name, b"seen-time": c.seen_time}
            if ctx.server.compat.at_least("7.2"):
                ci[b"active-time"] = c.active_time
            ci[b"pel-count"] = len(c.pel)
            ci[b"pending"] = cp
            cons.append(ci)
        groups.append({
            b"name": g.name, b"last-delivered-id": fmt_id(g.last_id),
            b"entries-read": g.entries_read if g.entries_read != INVALID_READ else None,
            b"lag": s.lag(g), b"pel-count": len(g.pel), b"pending": pend, b"consumers": cons,
        })
    r[b"groups"] = groups
    return r
