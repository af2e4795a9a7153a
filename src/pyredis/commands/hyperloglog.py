"""HyperLogLog commands: PFADD PFCOUNT PFMERGE (the value format lives in keyspace/hll.py).

HLLs are string values: a key written by Redis can be read here and the other way round
(GET/SET, DUMP/RESTORE), and estimates are Redis's. PFDEBUG is Redis's; PFSELFTEST runs our own
checks (register packing, estimator error within 5 sigma up to 100k elements).
"""

from __future__ import annotations

from ..core.args import check_type
from ..core.client import Client
from ..core.notify import NOTIFY_NEW, NOTIFY_STRING
from ..core.spec import command
from ..errors import CommandError
from ..keyspace import hll
from ..protocol.replies import OK


def _hll_value(v) -> bytes:
    """isHLLObjectOrReply for an existing value."""
    check_type(v, bytes)
    if not hll.is_hll(v):
        raise CommandError(hll.WRONGTYPE_ERR)
    return v


@command("PFADD", arity=-2, flags="write denyoom fast", keys=(1, 1, 1), group="hyperloglog",
         since="2.8.9", summary="Adds the specified elements to the specified HyperLogLog.",
         complexity="O(1) to add every element.")
def pfadd(ctx: Client, key: bytes, *elements: bytes):
    db = ctx.db
    v = db.lookup(key)
    created = v is None
    if created:
        buf = hll.new_hll()
        updated = 1
    else:
        buf = bytearray(_hll_value(v))
        updated = 0
    if elements:
        n, buf, ok = hll.add(buf, elements, ctx.server.config["hll-sparse-max-bytes"])
        if not ok:
            if n:  # Redis changed the value in place before meeting the corruption (not counted as a write)
                db.set(key, bytes(buf), True)
            raise CommandError(hll.INVALID_ERR)
        updated += n
    if not updated:
        return 0
    buf[15] |= 0x80  # HLL_INVALIDATE_CACHE
    if created:
        db.add(key, bytes(buf))
    else:
        db.set(key, bytes(buf), True)
    ctx.touched(key)
    if updated > 1:
        ctx.server.dirty += updated - 1
    if ctx.server.notify_flags:
        if created:
            ctx.notify(NOTIFY_NEW, b"new", key)
        ctx.notify(NOTIFY_STRING, b"pfadd", key)
    return 1


def _merge_into(raw: bytearray | None, v: bytes, later: bool = False) -> bytearray:
    regs = hll.registers(v, later)  # (7.2's hllMerge stops at an overflowing run)
    if regs is None:
        raise CommandError(hll.INVALID_ERR)
    return regs if raw is None else hll.merge_max(raw, regs)


@command("PFCOUNT", arity=-2, flags="readonly", keys=(1, -1, 1), group="hyperloglog", since="2.8.9",
         summary="Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
         complexity="O(1) with a very small average constant time when called with a single key. "
         "O(N) with N being the number of keys, and much bigger constant times, when called with "
         "multiple keys.")
def pfcount(ctx: Client, *keys: bytes):
    db = ctx.db
    if len(keys) > 1:
        raw = None
        for k in keys:
            v = db.lookup(k)
            if v is None:
                continue
            raw = _merge_into(raw, _hll_value(v), ctx.server.compat.at_least("7.2"))
        if raw is None:
            return 0
        return hll.count_histogram(hll.raw_histogram(raw))
    key = keys[0]
    v = db.lookup(key)
    if v is None:
        return 0
    _hll_value(v)
    if not v[15] & 0x80:
        return int.from_bytes(v[8:16], "little")
    hist = hll.histogram(v)
    if hist is None:
        raise CommandError(hll.INVALID_ERR)
    card = hll.count_histogram(hist)
    db.set(key, v[:8] + card.to_bytes(8, "little") + v[16:], True)
    ctx.touched(key)
    # a read-only command that changed the value: Redis propagates it
    ctx.propagate_as = [list(ctx.argv) if ctx.argv else [b"PFCOUNT", key]]
    return card


@command("PFMERGE", arity=-2, flags="write denyoom", keys=(1, -1, 1), group="hyperloglog", since="2.8.9",
         summary="Merge N different HyperLogLogs into a single one.",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.")
def pfmerge(ctx: Client, dest: bytes, *sources: bytes):
    db = ctx.db
    raw = None
    use_dense = False
    for k in (dest, *sources):
        v = db.lookup(k)
        if v is None:
            continue
        _hll_value(v)
        if v[4] == hll.DENSE:
            use_dense = True
        raw = _merge_into(raw, v, ctx.server.compat.at_least("7.2"))
    v = db.lookup(dest)
    created = v is None
    buf = hll.new_hll() if created else bytearray(v)
    if use_dense:
        d = hll.sparse_to_dense(buf)
        if d is None:
            raise CommandError(hll.INVALID_ERR)
        buf = d
    if raw is not None and any(raw):
        if buf[4] == hll.DENSE:
            cur = hll.dense_registers(buf)
            buf[hll.HDR:] = hll.pack_dense(hll.merge_max(cur, raw))
        else:
            max_bytes = ctx.server.config["hll-sparse-max-bytes"]
            hint = [hll.HDR, 0, -1]  # registers are set in increasing order: resume the scans
            for j, c in enumerate(raw):
                if not c:
                    continue
                if buf[4] == hll.DENSE:
                    hll.dense_set(buf, j, c)
                else:
                    _, buf = hll.sparse_set(buf, j, c, max_bytes, hint)
    buf[15] |= 0x80
    if created:
        db.add(dest, bytes(buf))
    else:
        db.set(dest, bytes(buf), True)
    ctx.touched(dest)
    if ctx.server.notify_flags:
        if created:
            ctx.notify(NOTIFY_NEW, b"new", dest)
        ctx.notify(NOTIFY_STRING, b"pfadd", dest)
    return OK


@command("PFDEBUG", arity=3, flags="write denyoom admin", keys=(2, 2, 1), group="hyperloglog",
         since="2.8.9", summary="Internal commands for debugging HyperLogLog values",
         complexity="N/A")
def pfdebug(ctx: Client, sub: bytes, key: bytes):
    db = ctx.db
    v = db.lookup(key)
    if v is None:
        raise CommandError("ERR The specified key does not exist")
    _hll_value(v)
    cmd = sub.lower()
    if cmd in (b"getreg", b"todense"):
        conv = 0
        if v[4] == hll.SPARSE:
            d = hll.sparse_to_dense(v)
            if d is None:
                raise CommandError(hll.INVALID_ERR)
            v = bytes(d)
            db.set(key, v, True)
            ctx.server.dirty += 1  # Redis forces propagation, without signalling the key
            conv = 1
        if cmd == b"todense":
            return conv
        return list(hll.dense_registers(v))
    if cmd == b"decode":
        if v[4] != hll.SPARSE:
            raise CommandError("ERR HLL encoding is not sparse")
        parts = []
        p, end = hll.HDR, len(v)
        while p < end:
            c = v[p]
            if c & 0x80:
                parts.append(b"v:%d,%d" % (((c >> 2) & 0x1F) + 1, (c & 3) + 1))
                p += 1
            elif c & 0x40:
                parts.append(b"Z:%d" % ((((c & 0x3F) << 8) | (v[p + 1] if p + 1 < end else 0)) + 1))
                p += 2
            else:
                parts.append(b"z:%d" % ((c & 0x3F) + 1))
                p += 1
        return b" ".join(parts)
    if cmd == b"encoding":
        from ..protocol.replies import Simple

        return Simple(b"dense" if v[4] == hll.DENSE else b"sparse")
    z = sub.find(b"\0")
    raise CommandError(b"ERR Unknown PFDEBUG subcommand '" + (sub if z < 0 else sub[:z]) + b"'")


@command("PFSELFTEST", arity=1, flags="admin", group="hyperloglog", since="2.8.9",
         summary="An internal command for testing HyperLogLog values", complexity="N/A")
def pfselftest(ctx: Client):
    """Checks the dense register packing and the estimator's error, as Redis's self test."""
    import random

    rnd = random.Random()
    for _ in range(10):
        raw = bytes(rnd.randrange(64) for _ in range(hll.HLL_REGISTERS))
        buf = bytearray(b"HYLL" + bytes(12)) + hll.pack_dense(raw)
        if hll.dense_registers(buf) != bytearray(raw):
            raise CommandError("TESTFAILED Register error")
        for j in range(0, hll.HLL_REGISTERS, 97):
            val = rnd.randrange(64)
            buf2 = bytearray(buf)
            expected = max(raw[j], val)
            hll.dense_set(buf2, j, val)
            if hll.dense_registers(buf2)[j] != expected:
                raise CommandError("TESTFAILED Register error at %d" % j)
    buf = hll.new_hll()
    relerr = 1.04 / (hll.HLL_REGISTERS ** 0.5)
    seed = rnd.getrandbits(32)
    checkpoint = 1
    n = 0
    while n < 100000:
        batch = [b"%d:%d" % (seed, n + i) for i in range(checkpoint - n)]
        _, buf, ok = hll.add(buf, batch, ctx.server.config["hll-sparse-max-bytes"])
        if not ok:
            raise CommandError("TESTFAILED Corrupted HLL")
        n = checkpoint
        card = hll.count_histogram(hll.histogram(buf))
        abserr = abs(card - n)
        maxerr = max(relerr * 5 * n, 5)  # 5 sigma, and a floor for the tiny counts
        if abserr > maxerr:
            raise CommandError("TESTFAILED Too big error. card:%d abserr:%f" % (card, abserr))
        checkpoint = checkpoint * 10 if checkpoint < 1000 else checkpoint + 20000
    return OK
