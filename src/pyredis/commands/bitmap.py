"""Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Bitmaps are string values. Bit 0 is the most significant bit of byte 0, as in Redis. A write
turns the string into a bytearray once (Redis's dbUnshareStringValue: a raw string) and
changes it in place from then on, growing it as needed: SETBIT on a large bitmap is O(1), a
512 MB bitmap made by one SETBIT costs 512 MB (the key keeps its TTL). The order of the checks follows Redis's
bitops.c, because it decides which error wins.
"""

from __future__ import annotations

from ..core.args import clamp_ends, lookup_as, unshare_string, to_int, to_range_int
from ..core.client import Client
from ..core.notify import NOTIFY_GENERIC, NOTIFY_NEW, NOTIFY_STRING
from ..core.spec import command
from ..errors import SYNTAX, CommandError
from ..protocol.parser import string2ll

BIT_OFFSET_ERR = "ERR bit offset is not an integer or out of range"
BITFIELD_TYPE_ERR = ("ERR Invalid bitfield type. Use something like i16 u8. "
                     "Note that u64 is not supported but i64 is.")
_M64 = (1 << 64) - 1


def _s64(x: int) -> int:
    """Wrap to a C int64_t."""
    x &= _M64
    return x - (1 << 64) if x >> 63 else x


def _bit_offset(ctx: Client, arg: bytes, hash_: bool = False, bits: int = 0) -> int:
    """getBitOffsetFromArgument."""
    usehash = hash_ and bits > 0 and arg[:1] == b"#"
    v = to_int(arg[1:] if usehash else arg, BIT_OFFSET_ERR)
    if usehash:
        v = _s64(v * bits)
    if v < 0 or (v >> 3) >= ctx.server.config["proto-max-bulk-len"]:
        raise CommandError(BIT_OFFSET_ERR)
    return v


# --- SETBIT / GETBIT -------------------------------------------------------------------
@command("SETBIT", arity=4, flags="write denyoom", keys=(1, 1, 1), group="bitmap", since="2.2.0",
         summary="Sets or clears the bit at offset in the string value stored at key",
         complexity="O(1)")
def setbit(ctx: Client, key: bytes, offset: bytes, value: bytes):
    bitoffset = _bit_offset(ctx, offset)
    on = to_range_int(value, 0, 1, "ERR bit is not an integer or out of range")
    old = lookup_as(ctx, key, bytes)
    byte = bitoffset >> 3
    bit = 7 - (bitoffset & 7)
    grown = old is None or byte >= len(old)
    buf = unshare_string(ctx, key, old, byte + 1)
    if grown:
        bitval = 0  # created or grown: always a change
    else:
        bitval = buf[byte] & (1 << bit)
        if (bitval != 0) == bool(on):
            return 1 if bitval else 0
    if on:
        buf[byte] |= 1 << bit
    else:
        buf[byte] &= ~(1 << bit) & 255
    ctx.touched(key)
    if ctx.server.notify_flags:
        if old is None:
            ctx.notify(NOTIFY_NEW, b"new", key)
        ctx.notify(NOTIFY_STRING, b"setbit", key)
    return 1 if bitval else 0


@command("GETBIT", arity=3, flags="readonly fast", keys=(1, 1, 1), group="bitmap", since="2.2.0",
         summary="Returns the bit value at offset in the string value stored at key",
         complexity="O(1)")
def getbit(ctx: Client, key: bytes, offset: bytes):
    bitoffset = _bit_offset(ctx, offset)
    v = lookup_as(ctx, key, bytes)
    if v is None:
        return 0
    byte = bitoffset >> 3
    if byte >= len(v):
        return 0
    return 1 if v[byte] & (1 << (7 - (bitoffset & 7))) else 0


# --- BITCOUNT / BITPOS ---------------------------------------------------------------------
def _bitrange(start: int, end: int, totlen: int, isbit: bool):
    """Shared index normalisation of BITCOUNT/BITPOS: (start, end, first_mask, last_mask)
    with start/end in bytes and the masks of the bits outside the range in the edge bytes."""
    if isbit:
        totlen <<= 3
    start, end = clamp_ends(start, end, totlen)
    first_mask = last_mask = 0
    if isbit and start <= end:
        first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
        last_mask = (1 << (7 - (end & 7))) - 1
        start >>= 3
        end >>= 3
    return start, end, first_mask, last_mask


def _bit_unit(arg: bytes) -> bool:
    u = arg.lower()
    if u == b"bit":
        return True
    if u == b"byte":
        return False
    raise CommandError(SYNTAX)


@command("BITCOUNT", arity=-2, flags="readonly", keys=(1, 1, 1), group="bitmap", since="2.6.0",
         summary="Count set bits in a string", complexity="O(N)")
def bitcount(ctx: Client, key: bytes, *args: bytes):
    n = len(args)
    valkey = ctx.server.compat.valkey
    if n and ctx.server.compat.at_least("7.4", "valkey-8.0"):  # 7.4 reads the arguments first
        if n == 2 or n == 3:
            to_int(args[0])
            to_int(args[1])
            if n == 3:
                _bit_unit(args[2])
        elif n == 1 and valkey:  # Valkey 8: a start alone counts to the end
            to_int(args[0])
        else:
            raise CommandError(SYNTAX)
    p = lookup_as(ctx, key, bytes)
    if p is None:
        return 0
    first_mask = last_mask = 0
    if n == 1 and valkey:
        args = (args[0], b"-1")
        n = 2
    if n == 2 or n == 3:
        start = to_int(args[0])
        end = to_int(args[1])
        if start < 0 and end < 0 and start > end:
            return 0
        isbit = _bit_unit(args[2]) if n == 3 else False
        start, end, first_mask, last_mask = _bitrange(start, end, len(p), isbit)
    elif n == 0:
        start, end = 0, len(p) - 1
    else:
        raise CommandError(SYNTAX)
    if start > end:
        return 0
    count = int.from_bytes(p[start:end + 1], "big").bit_count()
    if first_mask:
        count -= (p[start] & first_mask).bit_count()
    if last_mask:
        count -= (p[end] & last_mask).bit_count()
    return count


@command("BITPOS", arity=-3, flags="readonly", keys=(1, 1, 1), group="bitmap", since="2.8.7",
         summary="Find first bit set or clear in a string", complexity="O(N)")
def bitpos(ctx: Client, key: bytes, bit_arg: bytes, *args: bytes):
    bit = to_int(bit_arg)
    if bit != 0 and bit != 1:
        raise CommandError("ERR The bit argument must be 1 or 0.")
    n = len(args)
    if n and ctx.server.compat.at_least("7.4", "valkey-8.0"):  # 7.4 reads the arguments first
        if n > 3:
            raise CommandError(SYNTAX)
        to_int(args[0])
        if n >= 2:
            to_int(args[1])
        if n == 3:
            _bit_unit(args[2])
    p = lookup_as(ctx, key, bytes)
    if p is None:
        return -1 if bit else 0
    n = len(args)
    end_given = False
    first_mask = last_mask = 0
    strlen = len(p)
    if 1 <= n <= 3:
        start = to_int(args[0])
        isbit = _bit_unit(args[2]) if n == 3 else False
        if n >= 2:
            end = to_int(args[1])
            end_given = True
        else:
            end = (strlen << 3) + 7 if isbit else strlen - 1
        start, end, first_mask, last_mask = _bitrange(start, end, strlen, isbit)
    elif n == 0:
        start, end = 0, strlen - 1
    else:
        raise CommandError(SYNTAX)
    if start > end:
        return -1
    nbits = (end - start + 1) << 3
    v = int.from_bytes(p[start:end + 1], "big")
    if not bit:
        v ^= (1 << nbits) - 1
    if first_mask:
        v &= ~(first_mask << (nbits - 8))
    if last_mask:
        v &= ~last_mask
    if v:
        return (start << 3) + nbits - v.bit_length()
    if bit or end_given:
        return -1
    return (end + 1) << 3


# --- BITOP ---------------------------------------------------------------------------------
@command("BITOP", arity=-4, flags="write denyoom", keys=(2, -1, 1), group="bitmap", since="2.6.0",
         summary="Perform bitwise operations between strings", complexity="O(N)")
def bitop(ctx: Client, op: bytes, dest: bytes, *srckeys: bytes):
    o = op.lower()
    if o not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(SYNTAX)
    if o == b"not" and len(srckeys) != 1:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    db = ctx.db
    vals = []
    maxlen = 0
    for k in srckeys:
        v = lookup_as(ctx, k, bytes)
        if v is None:
            vals.append(b"")
            continue
        vals.append(v)
        if len(v) > maxlen:
            maxlen = len(v)
    if maxlen:
        ints = [int.from_bytes(v, "big") << ((maxlen - len(v)) << 3) for v in vals]
        acc = ints[0]
        if o == b"and":
            for x in ints[1:]:
                acc &= x
        elif o == b"or":
            for x in ints[1:]:
                acc |= x
        elif o == b"xor":
            for x in ints[1:]:
                acc ^= x
        else:
            acc ^= (1 << (maxlen << 3)) - 1
        res = acc.to_bytes(maxlen, "big")
        new = db.lookup(dest) is None
        db.set(dest, bytearray(res))  # a raw string (createObject), as Redis stores it
        ctx.touched(dest)
        if ctx.server.notify_flags:
            if new:
                ctx.notify(NOTIFY_NEW, b"new", dest)
            ctx.notify(NOTIFY_STRING, b"set", dest)
    elif db.delete(dest):
        ctx.touched(dest)
        ctx.notify(NOTIFY_GENERIC, b"del", dest)
    return maxlen


# --- BITFIELD ------------------------------------------------------------------------------
_GET, _SET, _INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2


def _bf_type(arg: bytes):
    c = arg[:1]
    if c == b"i":
        sign = True
    elif c == b"u":
        sign = False
    else:
        raise CommandError(BITFIELD_TYPE_ERR)
    rest = arg[1:]
    z = rest.find(b"\0")
    if z >= 0:
        rest = rest[:z]
    bits = string2ll(rest)
    if bits is None or bits < 1 or (sign and bits > 64) or (not sign and bits > 63):
        raise CommandError(BITFIELD_TYPE_ERR)
    return sign, bits


def _get_bits(buf, offset: int, bits: int) -> int:
    """The unsigned value of `bits` bits at bit `offset` (bits past the end read as 0)."""
    b0 = offset >> 3
    b1 = (offset + bits - 1) >> 3
    chunk = buf[b0:b1 + 1]
    nb = b1 - b0 + 1
    v = int.from_bytes(chunk, "big") << ((nb - len(chunk)) << 3)
    return (v >> ((nb << 3) - (offset & 7) - bits)) & ((1 << bits) - 1)


def _set_bits(buf: bytearray, offset: int, bits: int, value: int) -> None:
    b0 = offset >> 3
    b1 = (offset + bits - 1) >> 3
    nb = b1 - b0 + 1
    shift = (nb << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    v = int.from_bytes(buf[b0:b1 + 1], "big")
    v = (v & ~mask) | ((value & ((1 << bits) - 1)) << shift)
    buf[b0:b1 + 1] = v.to_bytes(nb, "big")


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def _check_unsigned(value: int, incr: int, bits: int, owtype: int):
    """checkUnsignedBitfieldOverflow -> (overflow, limit). value is a uint64."""
    mx = (1 << bits) - 1
    maxincr = _s64(mx - value)
    minincr = _s64(-value)
    if value > mx or (incr > 0 and incr > maxincr):
        if owtype == _WRAP:
            return True, (value + incr) & mx
        return True, mx if owtype == _SAT else 0
    if incr < 0 and incr < minincr:
        if owtype == _WRAP:
            return True, (value + incr) & mx
        return True, 0
    return False, 0


def _check_signed(value: int, incr: int, bits: int, owtype: int):
    """checkSignedBitfieldOverflow -> (overflow, limit), with C's int64 arithmetic."""
    mx = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
    mn = -mx - 1
    maxincr = _s64(mx - value)
    minincr = _s64(mn - value)
    if value > mx or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
        if owtype == _WRAP:
            return True, _signed((value + incr) & ((1 << bits) - 1), bits)
        return True, mx if owtype == _SAT else 0
    if value < mn or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
        if owtype == _WRAP:
            return True, _signed((value + incr) & ((1 << bits) - 1), bits)
        return True, mn if owtype == _SAT else 0
    return False, 0


def _bitfield(ctx: Client, key: bytes, args: tuple, ro: bool):
    ops = []
    owtype = _WRAP
    readonly = True
    highest = 0
    j, n = 0, len(args)
    while j < n:
        rem = n - j - 1
        sub = args[j].lower()
        if sub == b"get" and rem >= 2:
            opcode = _GET
        elif sub == b"set" and rem >= 3:
            opcode = _SET
        elif sub == b"incrby" and rem >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and rem >= 1:
            t = args[j + 1].lower()
            if t == b"wrap":
                owtype = _WRAP
            elif t == b"sat":
                owtype = _SAT
            elif t == b"fail":
                owtype = _FAIL
            else:
                raise CommandError("ERR Invalid OVERFLOW type specified")
            j += 2
            continue
        else:
            raise CommandError(SYNTAX)
        sign, bits = _bf_type(args[j + 1])
        offset = _bit_offset(ctx, args[j + 2], True, bits)
        i64 = 0
        if opcode != _GET:
            readonly = False
            if highest < offset + bits - 1:
                highest = offset + bits - 1
            i64 = to_int(args[j + 3])
        ops.append((opcode, offset, i64, owtype, bits, sign))
        j += 3 if opcode == _GET else 4
    if readonly:
        src = lookup_as(ctx, key, bytes)
        out = []
        for _op, offset, _v, _ow, bits, sign in ops:
            if src is None:
                out.append(0)
                continue
            v = _get_bits(src, offset, bits)
            out.append(_signed(v, bits) if sign else v)
        return out
    if ro:
        raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
    old = lookup_as(ctx, key, bytes)
    size = (highest >> 3) + 1
    # lookupStringForBitCommand's dirty: the key is created or grows; otherwise a write
    # counts (dirty, propagation) only where it changes the stored value.
    grown = old is None or len(old) < size
    buf = unshare_string(ctx, key, old, size)
    if old is None and ctx.server.notify_flags:
        ctx.notify(NOTIFY_NEW, b"new", key)
    out = []
    changes = 0
    for opcode, offset, i64, ow, bits, sign in ops:
        if opcode == _GET:
            v = _get_bits(buf, offset, bits)
            out.append(_signed(v, bits) if sign else v)
            continue
        raw = _get_bits(buf, offset, bits)
        if sign:
            oldval = _signed(raw, bits)
            if opcode == _INCRBY:
                overflow, wrapped = _check_signed(oldval, i64, bits, ow)
                newval = wrapped if overflow else _s64(oldval + i64)
                retval = newval
            else:
                overflow, wrapped = _check_signed(i64, 0, bits, ow)
                newval = wrapped if overflow else i64
                retval = oldval
        else:
            oldval = raw
            if opcode == _INCRBY:
                newval = (oldval + i64) & _M64
                overflow, wrapped = _check_unsigned(oldval, i64, bits, ow)
                if overflow:
                    newval = wrapped
                retval = newval
            else:
                newval = i64 & _M64
                overflow, wrapped = _check_unsigned(newval, 0, bits, ow)
                if overflow:
                    newval = wrapped
                retval = oldval
        if overflow and ow == _FAIL:
            out.append(None)
        else:
            out.append(retval)
            _set_bits(buf, offset, bits, newval)
            if grown or oldval != newval:
                changes += 1
    if grown and not changes:
        ctx.resized(key)  # used_memory: the string grew in place
    if changes:
        ctx.touched(key)
        if changes > 1:
            ctx.server.dirty += changes - 1
        ctx.notify(NOTIFY_STRING, b"setbit", key)
    return out


@command("BITFIELD", arity=-2, flags="write denyoom", keys=(1, 1, 1), group="bitmap", since="3.2.0",
         summary="Perform arbitrary bitfield integer operations on strings",
         complexity="O(1) for each subcommand specified")
def bitfield(ctx: Client, key: bytes, *args: bytes):
    return _bitfield(ctx, key, args, False)


@command("BITFIELD_RO", arity=-2, flags="readonly fast", keys=(1, 1, 1), group="bitmap", since="6.0.0",
         summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
         complexity="O(1) for each subcommand specified")
def bitfield_ro(ctx: Client, key: bytes, *args: bytes):
    return _bitfield(ctx, key, args, True)
