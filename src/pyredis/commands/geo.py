"""Geo commands: GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEOSEARCHSTORE GEORADIUS
GEORADIUSBYMEMBER GEORADIUS_RO GEORADIUSBYMEMBER_RO.

A geo key is a sorted set whose scores are 52-bit geohashes (keyspace/geohash.py). GEOADD is
ZADD with computed scores (it propagates as ZADD, as Redis rewrites it); searches follow
georadiusGeneric: the 9 boxes of the search area, members of each box's score range in
sorted-set order, filtered by the shape, then optionally sorted by distance.
"""

from __future__ import annotations

from ..core.args import lookup_as, to_float, to_int
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_ZSET
from ..core.spec import command
from ..errors import COUNT_NOT_GT_ZERO, SYNTAX, CommandError, _cstr
from ..keyspace import geohash as gh
from ..keyspace.zset import ZSet, make_zset
from ..protocol.replies import NULL_ARRAY, DoubleText
from .sorted_set import _zadd_generic

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def _lonlat(a: bytes, b: bytes) -> tuple[float, float]:
    """extractLongLatOrReply."""
    x = to_float(a)
    y = to_float(b)
    if x < gh.LONG_MIN or x > gh.LONG_MAX or y < gh.LAT_MIN or y > gh.LAT_MAX:
        raise CommandError(b"ERR invalid longitude,latitude pair %s,%s" % (_pct_f(x), _pct_f(y)))
    return x, y


def _pct_f(x: float) -> bytes:
    if x != x:
        return b"-nan" if str(x)[0] == "-" else b"nan"
    return b"%f" % x


def _unit(arg: bytes) -> float:
    u = _UNITS.get(arg.lower())
    if u is None:
        raise CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
    return u


def human(x: float) -> bytes:
    """ld2string(LD_STR_HUMAN) of a double: "%.17Lf" without trailing zeros."""
    s = b"%.17f" % x
    s = s.rstrip(b"0")
    if s.endswith(b"."):
        s = s[:-1]
    if s == b"-0":
        s = b"0"
    return s


def _coords(score: float):
    x, y = gh.decode_score(score)
    return [DoubleText(human(x)), DoubleText(human(y))]


# --- GEOADD ------------------------------------------------------------------------------------
@command("GEOADD", arity=-5, flags="write denyoom", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Add one or more geospatial items in the geospatial index represented using a sorted set",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.")
def geoadd(ctx: Client, key: bytes, *args: bytes):
    xx = nx = False
    i, n = 0, len(args)
    while i < n:
        o = args[i].lower()
        if o == b"nx":
            nx = True
        elif o == b"xx":
            xx = True
        elif o != b"ch":
            break
        i += 1
    if (n - i) % 3 or (xx and nx):
        raise CommandError(SYNTAX)
    zargs = list(args[:i])
    for j in range(i, n, 3):
        lon, lat = _lonlat(args[j], args[j + 1])
        zargs.append(b"%d" % gh.encode(lon, lat))
        zargs.append(args[j + 2])
    dirty = ctx.server.dirty
    reply = _zadd_generic(ctx, key, tuple(zargs), False)
    if ctx.server.dirty != dirty:
        # Redis rewrites the command vector: replicas and the AOF see the ZADD
        ctx.propagate_as = [[b"zadd", key, *zargs]]
    return reply


# --- GEOPOS / GEODIST / GEOHASH ---------------------------------------------------------------
@command("GEOPOS", arity=-2, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Returns longitude and latitude of members of a geospatial index",
         complexity="O(N) where N is the number of members requested.")
def geopos(ctx: Client, key: bytes, *members: bytes):
    zs = lookup_as(ctx, key, ZSet)
    out = []
    scores = zs.scores if zs is not None else {}
    for m in members:
        s = scores.get(m)
        out.append(NULL_ARRAY if s is None else _coords(s))
    return out


@command("GEODIST", arity=-4, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Returns the distance between two members of a geospatial index",
         complexity="O(log(N))")
def geodist(ctx: Client, key: bytes, m1: bytes, m2: bytes, *rest: bytes):
    to_meter = 1.0
    if len(rest) == 1:
        to_meter = _unit(rest[0])
    elif rest:
        raise CommandError(SYNTAX)
    zs = lookup_as(ctx, key, ZSet)
    if zs is None:
        return None
    s1 = zs.scores.get(m1)
    s2 = zs.scores.get(m2)
    if s1 is None or s2 is None:
        return None
    x1, y1 = gh.decode_score(s1)
    x2, y2 = gh.decode_score(s2)
    return b"%.4f" % (gh.distance(x1, y1, x2, y2) / to_meter)


@command("GEOHASH", arity=-2, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.0",
         summary="Returns members of a geospatial index as standard geohash strings",
         complexity="O(log(N)) for each member requested, where N is the number of elements in the sorted set.")
def geohash_(ctx: Client, key: bytes, *members: bytes):
    zs = lookup_as(ctx, key, ZSet)
    scores = zs.scores if zs is not None else {}
    out = []
    for m in members:
        s = scores.get(m)
        out.append(None if s is None else gh.geohash_string(s))
    return out


# --- searches ----------------------------------------------------------------------------------
_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16


def _distance_arg(a: bytes, unit: bytes):
    d = to_float(a, "ERR need numeric radius")
    if d < 0:
        raise CommandError("ERR radius cannot be negative")
    return d, _unit(unit)


def _member_pos(zs: ZSet, member: bytes):
    s = zs.scores.get(member)
    if s is None:
        raise CommandError("ERR could not decode requested zset member")
    return gh.decode_score(s)


def _georadius(ctx: Client, argv: tuple, src_idx: int, flags: int):
    """georadiusGeneric. argv[0] is the command name."""
    storekey = None
    storedist = False
    zs = lookup_as(ctx, argv[src_idx], ZSet)
    shape = gh.Shape()
    if flags & _COORDS:
        base = 6
        shape.lon, shape.lat = _lonlat(argv[2], argv[3])
        shape.radius, shape.conversion = _distance_arg(argv[4], argv[5])
    elif flags & _MEMBER:
        base = 5
        if zs is not None:
            shape.lon, shape.lat = _member_pos(zs, argv[2])
            shape.radius, shape.conversion = _distance_arg(argv[3], argv[4])
    else:
        base = 2
        if flags & _SEARCHSTORE:
            base = 3
            storekey = argv[1]
    withdist = withhash = withcoords = False
    frommember = fromloc = byradius = bybox = False
    sort = 0  # 1 asc, -1 desc
    any_ = False
    count = 0
    argc = len(argv)
    i = base
    while i < argc:
        a = argv[i].lower()
        rem = argc - i - 1  # arguments after this one
        if a == b"withdist":
            withdist = True
        elif a == b"withhash":
            withhash = True
        elif a == b"withcoord":
            withcoords = True
        elif a == b"any":
            any_ = True
        elif a == b"asc":
            sort = 1
        elif a == b"desc":
            sort = -1
        elif a == b"count" and rem >= 1:
            count = to_int(argv[i + 1])
            if count <= 0:
                raise CommandError(COUNT_NOT_GT_ZERO)
            i += 1
        elif a in (b"store", b"storedist") and rem >= 1 and not flags & (_NOSTORE | _SEARCH):
            storekey = argv[i + 1]
            storedist = a == b"storedist"
            i += 1
        elif a == b"storedist" and flags & _SEARCH and flags & _SEARCHSTORE:
            storedist = True
        elif a == b"frommember" and rem >= 1 and flags & _SEARCH and not fromloc:
            if zs is not None:
                shape.lon, shape.lat = _member_pos(zs, argv[i + 1])
            frommember = True
            i += 1
        elif a == b"fromlonlat" and rem >= 2 and flags & _SEARCH and not frommember:
            shape.lon, shape.lat = _lonlat(argv[i + 1], argv[i + 2])
            fromloc = True
            i += 2
        elif a == b"byradius" and rem >= 2 and flags & _SEARCH and not bybox:
            shape.radius, shape.conversion = _distance_arg(argv[i + 1], argv[i + 2])
            shape.box = False
            byradius = True
            i += 2
        elif a == b"bybox" and rem >= 3 and flags & _SEARCH and not byradius:
            w = to_float(argv[i + 1], "ERR need numeric width")
            h = to_float(argv[i + 2], "ERR need numeric height")
            if h < 0 or w < 0:
                raise CommandError("ERR height or width cannot be negative")
            shape.conversion = _unit(argv[i + 3])
            shape.width, shape.height = w, h
            shape.box = True
            bybox = True
            i += 3
        else:
            raise CommandError(SYNTAX)
        i += 1

    if storekey is not None and (withdist or withhash or withcoords):
        raise CommandError("ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                           % ("GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"))
    if flags & _SEARCH and not (frommember or fromloc):
        raise CommandError(b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "
                           + _cstr(argv[0]))
    if flags & _SEARCH and not (byradius or bybox):
        raise CommandError(b"ERR exactly one of BYRADIUS and BYBOX can be specified for " + _cstr(argv[0]))
    if any_ and not count:
        raise CommandError("ERR the ANY argument requires COUNT argument")

    db = ctx.db
    if zs is None:
        if storekey is not None:
            if db.delete(storekey):
                ctx.touched(storekey)
                ctx.notify(NOTIFY_GENERIC, b"del", storekey)
            return 0
        return []

    if count and not sort and not any_:
        sort = 1
    limit = count if any_ else 0
    points = _search(zs, shape, limit)
    if not points and storekey is None:
        return []
    returned = len(points) if not count or len(points) < count else count
    if sort:
        points.sort(key=lambda p: p[0], reverse=sort < 0)
    conv = shape.conversion
    if storekey is None:
        out = []
        opts = withdist or withhash or withcoords
        for dist, score, member, lon, lat in points[:returned]:
            if not opts:
                out.append(member)
                continue
            item = [member]
            if withdist:
                item.append(b"%.4f" % (dist / conv))
            if withhash:
                item.append(int(score))
            if withcoords:
                item.append([DoubleText(human(lon)), DoubleText(human(lat))])
            out.append(item)
        return out
    if returned:
        pairs = [(member, dist / conv if storedist else score)
                 for dist, score, member, _lo, _la in points[:returned]]
        z = make_zset(pairs, ctx.server.config.values)
        new = db.lookup(storekey) is None
        db.set(storekey, z)
        ctx.touched(storekey)
        if returned > 1:
            ctx.server.dirty += returned - 1
        if ctx.server.notify_flags:
            if new:
                ctx.notify(NOTIFY_NEW, b"new", storekey)
            ctx.notify(NOTIFY_ZSET, b"geosearchstore" if flags & _SEARCH else b"georadiusstore", storekey)
    elif db.delete(storekey):
        ctx.touched(storekey)
        ctx.notify(NOTIFY_GENERIC, b"del", storekey)
    return returned


def _name(ctx: Client, default: bytes) -> bytes:
    """The command name as the client spelled it (Redis prints c->argv[0] in errors)."""
    argv = ctx.argv
    if argv and argv[0].lower() == default:
        return argv[0]
    return default


def _search(zs: ZSet, shape: gh.Shape, limit: int) -> list:
    """membersOfAllNeighbors -> [(dist_m, score, member, lon, lat)] in Redis's order."""
    boxes = gh.areas(shape)
    out = []
    last = 0
    within = gh.within
    decode = gh.decode_score
    sl = zs.sl
    for i, box in enumerate(boxes):
        if box is None or (box[0] == 0 and box[1] == 0):
            continue
        if last and box == boxes[last]:
            continue
        if out and limit and len(out) >= limit:
            break
        mn, mx = gh.box_range(*box)
        lo, hi = zs.score_bounds(float(mn), False, float(mx), True)
        for score, member in sl.islice(lo, hi):
            lon, lat = decode(score)
            d = within(shape, lon, lat)
            if d is None:
                continue
            out.append((d, score, member, lon, lat))
            if limit and len(out) >= limit:
                break
        last = i
    return out


def _store_keys(startfrom: int):
    """The key specs of GEORADIUS[BYMEMBER]: the source key, then the key after the first
    STORE and after the first STOREDIST keyword at or after `startfrom` (the last argument
    is never taken as the keyword, as Redis's keyword search stops before it)."""

    def getkeys(argv: list[bytes]) -> list[int]:
        keys = [1]
        argc = len(argv)
        for kw in (b"store", b"storedist"):
            for i in range(startfrom, argc - 1):
                if argv[i].lower() == kw:
                    keys.append(i + 1)
                    break
        return keys

    return getkeys


@command("GEORADIUS", arity=-6, flags="write denyoom", keys=(1, 1, 1), group="geo", since="3.2.0",
         getkeys=_store_keys(6),
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
         "maximum distance from a point",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of the "
         "circular area delimited by center and radius and M is the number of items inside the index.")
def georadius(ctx: Client, *args: bytes):
    return _georadius(ctx, (_name(ctx, b"georadius"), *args), 1, _COORDS)


@command("GEORADIUSBYMEMBER", arity=-5, flags="write denyoom", keys=(1, 1, 1), group="geo", since="3.2.0",
         getkeys=_store_keys(5),
         summary="Query a sorted set representing a geospatial index to fetch members matching a given "
         "maximum distance from a member",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of the "
         "circular area delimited by center and radius and M is the number of items inside the index.")
def georadiusbymember(ctx: Client, *args: bytes):
    return _georadius(ctx, (_name(ctx, b"georadiusbymember"), *args), 1, _MEMBER)


@command("GEORADIUS_RO", arity=-6, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.10",
         summary="A read-only variant for GEORADIUS",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of the "
         "circular area delimited by center and radius and M is the number of items inside the index.")
def georadius_ro(ctx: Client, *args: bytes):
    return _georadius(ctx, (_name(ctx, b"georadius_ro"), *args), 1, _COORDS | _NOSTORE)


@command("GEORADIUSBYMEMBER_RO", arity=-5, flags="readonly", keys=(1, 1, 1), group="geo", since="3.2.10",
         summary="A read-only variant for GEORADIUSBYMEMBER",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of the "
         "circular area delimited by center and radius and M is the number of items inside the index.")
def georadiusbymember_ro(ctx: Client, *args: bytes):
    return _georadius(ctx, (_name(ctx, b"georadiusbymember_ro"), *args), 1, _MEMBER | _NOSTORE)


@command("GEOSEARCH", arity=-7, flags="readonly", keys=(1, 1, 1), group="geo", since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a "
         "box or a circle.",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
         "around the shape provided as the filter and M is the number of items inside the shape")
def geosearch(ctx: Client, *args: bytes):
    return _georadius(ctx, (_name(ctx, b"geosearch"), *args), 1, _SEARCH)


@command("GEOSEARCHSTORE", arity=-8, flags="write denyoom", keys=(1, 2, 1), group="geo", since="6.2.0",
         summary="Query a sorted set representing a geospatial index to fetch members inside an area of a "
         "box or a circle, and store the result in another key.",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
         "around the shape provided as the filter and M is the number of items inside the shape")
def geosearchstore(ctx: Client, *args: bytes):
    return _georadius(ctx, (_name(ctx, b"geosearchstore"), *args), 2, _SEARCH | _SEARCHSTORE)
