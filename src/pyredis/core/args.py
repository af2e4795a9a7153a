"""The argument toolkit of command handlers: Redis's argument parsers and typed key lookups,
each raising the error text the Redis function it mirrors replies with (errors.py holds them).

Numbers (object.c):
    to_int(b, err=NOT_INTEGER)              getLongLongFromObjectOrReply / getLongFromObjectOrReply
    to_range_int(b, lo, hi, err=None)       getRangeLongFromObjectOrReply (err: one text for both failures)
    to_int32(b, err=None)                   getIntFromObjectOrReply (the int range)
    to_positive_int(b, err=POSITIVE)        getPositiveLongFromObjectOrReply (one text for both failures)
    to_float(b, err=NOT_FLOAT)              getDoubleFromObjectOrReply
    to_long_double(b, err=NOT_FLOAT)        getLongDoubleFromObjectOrReply (core/longdouble.py's LD)
    Timeouts are core/blocking.parse_timeout (getTimeoutFromObjectOrReply).

Ranges and indexes (the normalisation LRANGE, LTRIM, ZRANGE and LINDEX share):
    clamp_range(start, end, n) -> (start, end) | None   negative from the end, clipped; None: empty
    clamp_ends(start, end, n) -> (start, end)           GETRANGE/BITCOUNT's: both clipped to [0, n-1]
    clamp_index(i, n) -> i | None                       negative from the end; None: out of range

Typed lookups (db.c's lookupKey* + checkType; WRONGTYPE for a value of another type):
    check_type(v, cls) -> v                 checkType on a looked-up value (None passes)
    lookup_as(ctx, key, cls) -> v | None    lookupKeyRead/Write + checkType
    lookup_existing(ctx, key, cls, missing=NO_SUCH_KEY) -> v   lookupKey*OrReply with an error
    lookup_or_create(ctx, key, cls, make) -> v   *TypeLookupWriteOrCreate: make() added as new
    add_new(ctx, key, value)                dbAdd: store a new key and send the "new" event

Option tails:
    opts = Options(args); while opts: tok = opts.next_upper(); ... opts.value() / opts.int_value()
    mpop_count(args, start) -> count        the [COUNT count] tail of LMPOP/BLMPOP/ZMPOP/BZMPOP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import COUNT_NOT_POSITIVE, NO_SUCH_KEY, NOT_FLOAT, NOT_INTEGER, POSITIVE, SYNTAX, WRONGTYPE, CommandError
from ..util import parse_double, string2ll
from .longdouble import parse_ld
from .notify import NOTIFY_NEW

if TYPE_CHECKING:
    from collections.abc import Callable

    from .client import Client

LONG_MAX = (1 << 63) - 1
LONG_MIN = -(1 << 63)
INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)


# --- numbers ---------------------------------------------------------------------------
def to_int(b: bytes, err: str = NOT_INTEGER) -> int:
    """getLongLongFromObjectOrReply: a strict int64 (string2ll)."""
    v = string2ll(b)
    if v is None:
        raise CommandError(err)
    return v


def to_range_int(b: bytes, lo: int, hi: int, err: str | None = None) -> int:
    """getRangeLongFromObjectOrReply: an int64 in [lo, hi]. With `err`, that text for both
    failures; without, NOT_INTEGER or "value is out of range, value must between lo and hi"."""
    v = string2ll(b)
    if v is None:
        raise CommandError(err or NOT_INTEGER)
    if v < lo or v > hi:
        raise CommandError(err or "ERR value is out of range, value must between %d and %d" % (lo, hi))
    return v


def to_int32(b: bytes, err: str | None = None) -> int:
    """getIntFromObjectOrReply: an int64 that also fits a C int."""
    return to_range_int(b, INT_MIN, INT_MAX, err)


def to_positive_int(b: bytes, err: str = POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: an int64 >= 0, one text for both failures."""
    v = string2ll(b)
    if v is None or v < 0:
        raise CommandError(err)
    return v


def to_float(b: bytes, err: str = NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply: strtod of the whole string, no NaN."""
    v = parse_double(b)
    if v is None:
        raise CommandError(err)
    return v


def to_long_double(b: bytes, err: str = NOT_FLOAT):
    """getLongDoubleFromObjectOrReply: string2ld as an LD of core/longdouble.py (may be
    "inf"/"-inf": callers refuse infinities with their own text)."""
    v = parse_ld(b)
    if v is None:
        raise CommandError(err)
    return v


# --- ranges and indexes ----------------------------------------------------------------
def clamp_range(start: int, end: int, n: int) -> tuple[int, int] | None:
    """The start/end normalisation of LRANGE, LTRIM, ZRANGE (by rank): negative indexes
    count from the end, start is clipped to 0 and end to n-1; None when the range is empty
    (start > end or start >= n)."""
    if start < 0:
        start = max(start + n, 0)
    if end < 0:
        end += n
    if start > end or start >= n:
        return None
    return start, min(end, n - 1)


def clamp_ends(start: int, end: int, n: int) -> tuple[int, int]:
    """The start/end normalisation of GETRANGE, BITCOUNT, BITPOS: negative indexes count from
    the end, both are clipped to [0, n-1]; the range is empty when start > end."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    return max(start, 0), min(max(end, 0), n - 1)


def clamp_index(i: int, n: int) -> int | None:
    """LINDEX/LSET's index: negative counts from the end; None when outside [0, n)."""
    if i < 0:
        i += n
    if i < 0 or i >= n:
        return None
    return i


# --- typed lookups ---------------------------------------------------------------------
def check_type(v, cls: type):
    """checkType: `v` (None for a missing key) unless it holds a value of another type. A
    string (cls bytes) may be a bytearray: a value changed in place (keyspace/types.py)."""
    if v is None or type(v) is cls or (cls is bytes and type(v) is bytearray):
        return v
    raise CommandError(WRONGTYPE)


def frozen(v):
    """A string value as it is now: a bytearray (a string changed in place) copied to bytes,
    for a reply or anything else that outlives the command; other values unchanged."""
    return bytes(v) if type(v) is bytearray else v


def unshare_string(ctx: Client, key: bytes, old, size: int) -> bytearray:
    """dbUnshareStringValue + the growth of SETRANGE/SETBIT/BITFIELD: the string at key as a
    bytearray changed in place from now on (Redis makes it raw even when nothing changes),
    created zero-filled with `size` bytes when the key is missing (`old` None), zero-extended
    to `size` when shorter. A bytearray grown in place is re-priced by the caller's
    ctx.touched / ctx.resized."""
    db = ctx.db
    if old is None:
        buf = bytearray(size)
        db.add(key, buf)
        return buf
    buf = old if type(old) is bytearray else bytearray(old)
    if len(buf) < size:
        buf.extend(bytes(size - len(buf)))
    if buf is not old:
        db.set(key, buf, True)
    return buf


def lookup_as(ctx: Client, key: bytes, cls: type):
    """lookupKeyRead/lookupKeyWrite + checkType: the value, None when the key is missing,
    WRONGTYPE when it holds another type."""
    v = ctx.db.lookup(key)
    if v is None or type(v) is cls or (cls is bytes and type(v) is bytearray):
        return v
    raise CommandError(WRONGTYPE)


def lookup_existing(ctx: Client, key: bytes, cls: type, missing: str = NO_SUCH_KEY):
    """lookupKey*OrReply with an error reply: `missing` when the key does not exist, then
    checkType."""
    v = ctx.db.lookup(key)
    if v is None:
        raise CommandError(missing)
    if type(v) is not cls:
        raise CommandError(WRONGTYPE)
    return v


def add_new(ctx: Client, key: bytes, value) -> None:
    """dbAdd: store a key known to be missing and send its "new" keyspace event."""
    ctx.db.add(key, value)
    ctx.notify(NOTIFY_NEW, b"new", key)


def lookup_or_create(ctx: Client, key: bytes, cls: type, make: Callable[[], object]):
    """hashTypeLookupWriteOrCreate and friends: the value of type `cls`, created with make()
    (added with its "new" event) when the key is missing; WRONGTYPE for another type."""
    v = ctx.db.lookup(key)
    if v is None:
        v = make()
        add_new(ctx, key, v)
        return v
    if type(v) is not cls:
        raise CommandError(WRONGTYPE)
    return v


# --- option tails ----------------------------------------------------------------------
class Options:
    """A cursor over an option tail, for Redis's `for (j = ...; j < c->argc; j++)` loops:

        opts = Options(args)
        while opts:
            tok = opts.next_upper()
            if tok == b"COUNT" and opts.has_more():
                count = opts.int_value()
            else:
                raise CommandError(SYNTAX)
    """

    __slots__ = ("args", "i")

    def __init__(self, args: tuple[bytes, ...] | list[bytes], start: int = 0) -> None:
        self.args = args
        self.i = start

    def __bool__(self) -> bool:
        return self.i < len(self.args)

    def next_upper(self) -> bytes:
        """The next token, upper-cased (option names are case-insensitive)."""
        a = self.args[self.i]
        self.i += 1
        return a.upper()

    def has_more(self, n: int = 1) -> bool:
        """At least n arguments remain (the values an option needs)."""
        return self.i + n <= len(self.args)

    def value(self) -> bytes:
        """The argument after an option keyword; syntax error when missing."""
        if self.i >= len(self.args):
            raise CommandError(SYNTAX)
        a = self.args[self.i]
        self.i += 1
        return a

    def int_value(self, err: str = NOT_INTEGER) -> int:
        """The next argument as an int64 (getLongLongFromObjectOrReply)."""
        return to_int(self.value(), err)


def mpop_count(args: tuple[bytes, ...] | list[bytes], start: int) -> int:
    """The optional `COUNT count` tail of LMPOP/BLMPOP/ZMPOP/BZMPOP (1 when absent): given at
    most once, in 1..LONG_MAX; anything else is a syntax error."""
    count = -1
    o = Options(args, start)
    while o:
        if o.next_upper() == b"COUNT" and count == -1 and o.has_more():
            count = to_range_int(o.value(), 1, LONG_MAX, COUNT_NOT_POSITIVE)
        else:
            raise CommandError(SYNTAX)
    return 1 if count == -1 else count
