"""Cursors for SCAN, HSCAN, SSCAN and ZSCAN, and the reply helper they share.

Redis walks its hash table in reverse-binary bucket order so that a cursor stays valid while
the table grows or shrinks. A Python dict exposes no buckets, so pyredis iterates over a
snapshot of the keys taken when an iteration starts (cursor 0): an element present for the
whole iteration is in the snapshot and therefore returned (Redis's guarantee); elements
deleted meanwhile are skipped when their turn comes; elements added meanwhile may or may
not be returned (as in Redis). The snapshot is a list of references (8 bytes per element),
taken once per iteration, not once per call.

A cursor is `(snapshot id << 32) | offset`. Snapshots live in an LRU per server bounded by
count and by total size (MAX_SNAPSHOTS, MAX_SNAPSHOT_ITEMS); a cursor whose snapshot was
evicted restarts a snapshot at its offset (best effort, never an error: only then can an
iteration miss an element).

API:
    cursors = ScanCursors()                       # one per server: state.scan_cursors
    next_cursor, items = cursors.scan(owner, source, cursor, count)
        owner:  hashable identity of what is scanned (db id, or (db id, key))
        source: a callable returning an iterable of the current elements (called on cursor 0)

    parse_cursor(arg) -> int                      # Redis's parseScanCursorOrReply (strtoul)
    scan_reply(ctx, owner, cursor, options, members, small=..., contains=..., value=...)
        The whole HSCAN/SSCAN/ZSCAN reply once the key was looked up and type-checked.
        Redis's order in those commands is: parse_cursor -> lookup (missing key: reply
        EMPTY_SCAN) -> WRONGTYPE -> scan_reply (which parses MATCH/COUNT; TYPE is a syntax
        error there).
            members():     iterable of members (fields for HSCAN), in the collection's order
            small:         True when Redis would hold the value as listpack/intset: Redis then
                           returns every element in one reply with cursor 0, whatever COUNT is
            contains(m):   is m still in the collection (snapshots may hold deleted members)
            value(m):      HSCAN/ZSCAN: the bytes emitted after member m (field value, score
                           formatted as Redis does); None for SSCAN
        COUNT counts reply entries as Redis does (a field and its value are two), and MATCH
        filters after the COUNT elements were picked, so a reply may be short or empty while
        the cursor is not 0.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from ..errors import NOT_INTEGER, SYNTAX, CommandError
from ..protocol.parser import string2ll
from ..util import compile_glob

MAX_SNAPSHOTS = 1024
MAX_SNAPSHOT_ITEMS = 8_000_000  # references kept by all live snapshots (8 bytes each)
INVALID_CURSOR = "ERR invalid cursor"
_ULONG = 1 << 64
EMPTY_SCAN = [b"0", []]
_SPACE = b" \t\n\v\f\r"


class ScanCursors:
    def __init__(self) -> None:
        self._snaps: OrderedDict[int, tuple[object, list]] = OrderedDict()
        self._next_id = 1
        self._items = 0  # total length of the live snapshots
        # RANDOMKEY on large databases: db id -> [key list, draws left, the dict it lists]
        self.random_samples: dict[int, list] = {}

    def scan(self, owner: object, source: Callable[[], Iterable], cursor: int, count: int) -> tuple[int, list]:
        sid, offset = cursor >> 32, cursor & 0xFFFFFFFF
        snap = self._snaps.get(sid) if sid else None
        if snap is None or snap[0] != owner:
            items = list(source())
            sid = self._next_id
            self._next_id = (self._next_id % 0x7FFFFFFF) + 1
            self._snaps[sid] = (owner, items)
            self._items += len(items)
            while len(self._snaps) > MAX_SNAPSHOTS or (self._items > MAX_SNAPSHOT_ITEMS and len(self._snaps) > 1):
                self._items -= len(self._snaps.popitem(last=False)[1][1])
            if cursor == 0:
                offset = 0
        else:
            self._snaps.move_to_end(sid)
            items = snap[1]
        end = min(offset + max(count, 1), len(items))
        batch = items[offset:end]
        if end >= len(items):
            done = self._snaps.pop(sid, None)
            if done is not None:
                self._items -= len(done[1])
            return 0, batch
        return (sid << 32) | end, batch

    def clear(self) -> None:
        self._snaps.clear()
        self._items = 0
        self.random_samples.clear()

    def __len__(self) -> int:
        return len(self._snaps)


def parse_cursor(arg: bytes, ull: bool = False) -> int:
    """strtoul(arg, &end, 10) with Redis's checks: no leading space, nothing after the
    digits, no overflow. '' is cursor 0 and '-N' wraps around, as in Redis. ull=True: Redis
    7.4's (and Valkey 8's) string2ull instead: a strict integer must not be negative,
    anything else goes to strtoull (leading spaces, '+', '-N' wrapping, '' refused)."""
    if ull:
        return _string2ull(arg)
    if not arg:
        return 0
    if arg[0] in _SPACE:
        raise CommandError(INVALID_CURSOR)
    neg = arg[0] == 45
    digits = arg[1:] if arg[0] in (43, 45) else arg
    if not digits or not digits.isdigit():
        raise CommandError(INVALID_CURSOR)
    v = int(digits)
    if v >= _ULONG:
        raise CommandError(INVALID_CURSOR)
    return (_ULONG - v) % _ULONG if neg else v


def _string2ull(arg: bytes) -> int:
    ll = string2ll(arg)
    if ll is not None:
        if ll < 0:
            raise CommandError(INVALID_CURSOR)
        return ll
    body = arg.lstrip(_SPACE)
    neg = body[:1] == b"-"
    digits = body[1:] if body[:1] in (b"+", b"-") else body
    if not arg or not digits or not digits.isdigit():
        raise CommandError(INVALID_CURSOR)
    v = int(digits)
    if v >= _ULONG:
        raise CommandError(INVALID_CURSOR)
    return (_ULONG - v) % _ULONG if neg else v


_TYPE_NAMES = frozenset((b"string", b"list", b"set", b"zset", b"hash", b"stream"))


def parse_scan_options(args, allow_type: bool, novalues_known: bool = False,
                       type_checked: bool = False) -> tuple[int, bytes | None, bytes | None]:
    """MATCH / COUNT (/ TYPE for SCAN) as scanGenericCommand parses them: (count, pattern or
    None for no filtering, type name or None). novalues_known: a 7.4+ server, which knows
    HSCAN's NOVALUES and says so to the other SCANs. type_checked: Valkey 8.0 refuses a TYPE
    it does not know (Redis 7.4 has the check commented out until 8.0)."""
    count = 10
    pattern = typ = None
    i, n = 0, len(args)
    while i < n:
        opt = args[i].lower()
        more = n - i >= 2
        if opt == b"count" and more:
            v = string2ll(args[i + 1])
            if v is None:
                raise CommandError(NOT_INTEGER)
            if v < 1:
                raise CommandError(SYNTAX)
            count = v
        elif opt == b"match" and more:
            pattern = args[i + 1]
            if pattern == b"*":
                pattern = None
        elif opt == b"type" and allow_type and more:
            typ = args[i + 1]
            if type_checked and typ.lower() not in _TYPE_NAMES:
                raise CommandError(b"ERR unknown type name '" + typ + b"'")
        elif opt == b"novalues" and novalues_known:
            raise CommandError("ERR NOVALUES option can only be used in HSCAN")
        else:
            raise CommandError(SYNTAX)
        i += 2
    return count, pattern, typ


def scan_reply(ctx, owner: object, cursor: int, options, members: Callable[[], Iterable[bytes]], *,
               small: bool, contains: Callable[[bytes], bool],
               value: Callable[[bytes], bytes] | None = None) -> list:
    count, pattern, _ = parse_scan_options(options, False, ctx.server.compat.at_least("7.4", "valkey-8.0"))
    if small:
        batch = list(members())
        nxt = 0
    else:
        per_call = (count + 1) // 2 if value is not None else count
        nxt, batch = ctx.server.scan_cursors.scan(owner, members, cursor, per_call)
        batch = [m for m in batch if contains(m)]
    if pattern is not None:
        match = compile_glob(pattern)
        batch = [m for m in batch if match(m)]
    if value is None:
        return [b"%d" % nxt, batch]
    out = []
    for m in batch:
        out.append(m)
        out.append(value(m))
    return [b"%d" % nxt, out]
