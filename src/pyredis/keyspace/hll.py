"""HyperLogLog values, byte-compatible with Redis 7.0's hyperloglog.c.

A HyperLogLog is a plain string value:

    "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (8 bytes LE,
    bit 7 of the last byte set = cache invalid) | registers

Dense: 16384 registers of 6 bits, packed little-endian (register i = bits 6i..6i+5 of the
byte stream, LSB first). Sparse: run-length opcodes ZERO (00xxxxxx: 1..64 zero registers),
XZERO (01xxxxxx yyyyyyyy: 1..16384 zero registers) and VAL (1vvvvvxx: 1..4 registers of value
1..32). Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
register, the run of zeros above them (+1) is the candidate value. The estimator is Redis's
(Ertl's improved raw estimator: hllSigma/hllTau over the register histogram).

Dense register work uses whole-array byte operations (bytes.translate over 3-byte lanes,
big-int additions of non-overlapping bit fields, slice assignment) instead of per-register
Python loops; the sparse updates follow hllSparseSet step by step, because the exact byte
layout (opcode splits and merges, promotion at hll-sparse-max-bytes) is observable with GET.

API:
    murmur64a(data) -> int
    pat_len(element) -> (index, count)
    new_hll() -> bytearray (empty sparse, cache valid = 0)
    is_hll(value) -> bool                       # isHLLObjectOrReply's checks (bytes values)
    add(buf, elements, max_bytes) -> (updated, buf) | None   # None: corrupted sparse
    sparse_to_dense(buf) -> bytearray | None
    registers(buf) -> bytearray(16384) | None   # raw registers (None: corrupted sparse)
    histogram(buf) -> list | None
    count_histogram(hist) -> int                # hllCount's estimator
    merge_max(a, b) -> bytearray                # elementwise max of raw registers
"""

from __future__ import annotations

import math
import re
import struct

HLL_P = 14
HLL_Q = 64 - HLL_P
HLL_REGISTERS = 1 << HLL_P
HLL_P_MASK = HLL_REGISTERS - 1
HDR = 16
DENSE_SIZE = HDR + (HLL_REGISTERS * 6 + 7) // 8  # 12304
DENSE, SPARSE = 0, 1
ALPHA_INF = 0.721347520444481703680
INVALID_ERR = "INVALIDOBJ Corrupted HLL object detected"
WRONGTYPE_ERR = "WRONGTYPE Key is not a valid HyperLogLog string value."

_M64 = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
_SEED = 0xADC83B19


def murmur64a(key: bytes) -> int:
    n = len(key)
    m = _MUL
    M = _M64
    h = _SEED ^ ((n * m) & M)
    nb = n >> 3
    if nb:
        for k in struct.unpack_from("<%dQ" % nb, key):
            k = (k * m) & M
            k ^= k >> 47
            h ^= (k * m) & M
            h = (h * m) & M
    if n & 7:
        h ^= int.from_bytes(key[nb << 3:], "little")
        h = (h * m) & M
    h ^= h >> 47
    h = (h * m) & M
    return h ^ (h >> 47)


def pat_len(ele: bytes) -> tuple[int, int]:
    h = murmur64a(ele)
    x = (h >> HLL_P) | (1 << HLL_Q)
    return h & HLL_P_MASK, (x & -x).bit_length()


def new_hll() -> bytearray:
    """createHLLObject: an empty sparse HLL (one XZERO opcode covering every register)."""
    return bytearray(b"HYLL\x01" + bytes(11) + b"\x7f\xff")


def is_hll(v: bytes) -> bool:
    return (len(v) >= HDR and v[:4] == b"HYLL" and v[4] <= 1
            and (v[4] != DENSE or len(v) == DENSE_SIZE))


# --- dense ----------------------------------------------------------------------------------
def dense_set(buf: bytearray, index: int, count: int) -> bool:
    """hllDenseSet on a whole value (registers after the header)."""
    pos = index * 6
    b = HDR + (pos >> 3)
    fb = pos & 7
    if fb <= 2:
        if (buf[b] >> fb) & 63 >= count:
            return False
        buf[b] = (buf[b] & ~(63 << fb)) | (count << fb)
        return True
    fb8 = 8 - fb
    if ((buf[b] >> fb) | (buf[b + 1] << fb8)) & 63 >= count:
        return False
    buf[b] = (buf[b] & ((1 << fb) - 1)) | ((count << fb) & 0xFF)
    buf[b + 1] = (buf[b + 1] & ~(63 >> fb8)) | (count >> fb8)
    return True


_T_AND63 = bytes(i & 63 for i in range(256))
_T_SHR6 = bytes(i >> 6 for i in range(256))
_T_AND15_SHL2 = bytes((i & 15) << 2 for i in range(256))
_T_SHR4 = bytes(i >> 4 for i in range(256))
_T_AND3_SHL4 = bytes((i & 3) << 4 for i in range(256))
_T_SHR2 = bytes(i >> 2 for i in range(256))
# packing (register values are < 64)
_T_AND3_SHL6 = bytes(((i & 3) << 6) for i in range(256))
_T_AND15_SHL4 = bytes(((i & 15) << 4) & 0xFF for i in range(256))
_T_SHL2 = bytes((i << 2) & 0xFF for i in range(256))
_LANE = HLL_REGISTERS // 4  # 4096


def _add_lanes(a: bytes, b: bytes) -> bytes:
    """Bytewise a + b where no byte sum exceeds 255 (disjoint bit fields): one big-int add."""
    return (int.from_bytes(a, "little") + int.from_bytes(b, "little")).to_bytes(len(a), "little")


def dense_registers(v) -> bytearray:
    regs = bytes(v[HDR:DENSE_SIZE])
    b0, b1, b2 = regs[0::3], regs[1::3], regs[2::3]
    raw = bytearray(HLL_REGISTERS)
    raw[0::4] = b0.translate(_T_AND63)
    raw[1::4] = _add_lanes(b0.translate(_T_SHR6), b1.translate(_T_AND15_SHL2))
    raw[2::4] = _add_lanes(b1.translate(_T_SHR4), b2.translate(_T_AND3_SHL4))
    raw[3::4] = b2.translate(_T_SHR2)
    return raw


def pack_dense(raw) -> bytes:
    """The dense register bytes of raw register values (each < 64)."""
    raw = bytes(raw)
    r0, r1, r2, r3 = raw[0::4], raw[1::4], raw[2::4], raw[3::4]
    out = bytearray(DENSE_SIZE - HDR)
    out[0::3] = _add_lanes(r0, r1.translate(_T_AND3_SHL6))
    out[1::3] = _add_lanes(r1.translate(_T_SHR2), r2.translate(_T_AND15_SHL4))
    out[2::3] = _add_lanes(r2.translate(_T_SHR4), r3.translate(_T_SHL2))
    return bytes(out)


# --- sparse ---------------------------------------------------------------------------------
def _val(value: int, length: int) -> int:
    return 0x80 | ((value - 1) << 2) | (length - 1)


def _zero_run(seq: bytearray, length: int) -> None:
    if length > 64:
        length -= 1
        seq.append(0x40 | (length >> 8))
        seq.append(length & 0xFF)
    else:
        seq.append(length - 1)


# Sparse opcodes expanded to register bytes without a per-opcode Python loop: every byte of
# the opcode stream is a one-byte opcode (ZERO, VAL) except the XZERO opcodes (first byte
# 0x40..0x7f) and the byte after each. XZERO starts are found among the bytes in 0x40..0x7f:
# such a byte starts an XZERO unless it is the second byte of the XZERO just before it.
_EXPAND = [bytes(((v >> 2) & 0x1F) + 1 for _ in range((v & 3) + 1)) if v & 0x80 else
           (b"" if v & 0x40 else bytes((v & 0x3F) + 1)) for v in range(256)]
_XZERO_BYTE = re.compile(rb"[\x40-\x7f]")


def _xzero_starts(data) -> list[int]:
    out = []
    second = -1
    for m in _XZERO_BYTE.finditer(data):
        q = m.start()
        if q != second:
            out.append(q)
            second = q + 1
    return out


def _expand(data, starts: list[int]) -> bytes:
    """The opcodes' runs as register bytes, in order, stopping once they pass HLL_REGISTERS
    (the value is corrupted then, whatever follows)."""
    parts = []
    total = 0
    pos = 0
    n = len(data)
    get = _EXPAND.__getitem__
    for x in (*starts, n):
        if x > pos:
            part = b"".join(map(get, data[pos:x]))
            parts.append(part)
            total += len(part)
        if x == n or total > HLL_REGISTERS:
            break
        run = (((data[x] & 0x3F) << 8) | (data[x + 1] if x + 1 < n else 0)) + 1  # past the end reads 0
        parts.append(bytes(run))
        total += run
        pos = x + 2
        if total > HLL_REGISTERS:
            break
    return b"".join(parts)


def sparse_registers(buf) -> bytearray | None:
    """Raw registers of a sparse HLL as hllMerge / hllSparseToDense read them; None when
    corrupted: the runs must cover exactly the 16384 registers (redis-server 7.0.15 refuses a
    VAL opcode past the last register, so nothing may follow a complete run)."""
    data = bytes(buf[HDR:])
    raw = _expand(data, _xzero_starts(data))
    return bytearray(raw) if len(raw) == HLL_REGISTERS else None


def sparse_to_dense(buf) -> bytearray | None:
    """hllSparseToDense: the header is copied (cached cardinality included)."""
    if buf[4] == DENSE:
        return bytearray(buf)
    raw = sparse_registers(buf)
    if raw is None:
        return None
    out = bytearray(buf[:HDR])
    out[4] = DENSE
    out += pack_dense(raw)
    return out


def sparse_set(buf: bytearray, index: int, count: int, max_bytes: int, hint: list | None = None):
    """hllSparseSet -> (result, buf): 1 updated, 0 unchanged, -1 corrupted; `buf` is a new
    dense value when the HLL was promoted.

    `hint` ([p, first, prev], updated in place) lets a caller setting registers in increasing
    order resume the opcode scan instead of starting over: an opcode boundary p covering
    registers from `first`, with `prev` its predecessor (-1 for none). The scan from there
    visits exactly what a scan from the start would, since everything before p is unchanged
    (an update rewrites the buffer from the predecessor of the touched opcode on)."""
    if count <= 32:
        end = len(buf)
        if hint is not None and index >= hint[1]:
            p, first, prev = hint
            pprev = -2  # unknown: do not hand out a hint older than `prev`
        else:
            p, first, prev = HDR, 0, -1
            pprev = -1
        prev_first = 0
        span = 0
        while p < end:
            c = buf[p]
            if not c & 0xC0:
                span = (c & 0x3F) + 1
                oplen = 1
            elif c & 0x80:
                span = (c & 3) + 1
                oplen = 1
            else:
                span = (((c & 0x3F) << 8) | (buf[p + 1] if p + 1 < end else 0)) + 1
                oplen = 2
            if index <= first + span - 1:
                break
            pprev = prev
            prev = p
            prev_first = first
            p += oplen
            first += span
        if span == 0 or p >= end:
            return -1, buf
        if hint is not None:
            if prev < 0:
                hint[0], hint[1], hint[2] = HDR, 0, -1
            elif pprev != -2:
                hint[0], hint[1], hint[2] = prev, prev_first, pprev
            else:
                # the break came at the hint itself: its predecessor may be rewritten by the
                # merge step, so the next scan starts over
                hint[0], hint[1], hint[2] = HDR, 0, -1
        c = buf[p]
        is_val = c & 0x80
        is_xzero = not is_val and c & 0x40
        done = False
        if is_val:
            if ((c >> 2) & 0x1F) + 1 >= count:
                return 0, buf
            if span == 1:
                buf[p] = _val(count, 1)
                done = True
        elif not is_xzero and span == 1:
            buf[p] = _val(count, 1)
            done = True
        if not done:
            last = first + span - 1
            seq = bytearray()
            if not is_val:
                if index != first:
                    _zero_run(seq, index - first)
                seq.append(_val(count, 1))
                if index != last:
                    _zero_run(seq, last - index)
            else:
                curval = ((c >> 2) & 0x1F) + 1
                if index != first:
                    seq.append(_val(curval, index - first))
                seq.append(_val(count, 1))
                if index != last:
                    seq.append(_val(curval, last - index))
            oldlen = 2 if is_xzero else 1
            delta = len(seq) - oldlen
            if not (delta > 0 and len(buf) + delta > max_bytes):
                buf[p:p + oldlen] = seq
                done = True
        if done:
            # Step 4: merge adjacent VAL opcodes, up to 5 opcodes from prev.
            end = len(buf)
            p = prev if prev >= 0 else HDR
            scanlen = 5
            while p < end and scanlen:
                scanlen -= 1
                c = buf[p]
                if not c & 0x80:
                    p += 2 if c & 0x40 else 1
                    continue
                if p + 1 < end:
                    d = buf[p + 1]
                    if d & 0x80 and (c & 0x7C) == (d & 0x7C):
                        ln = (c & 3) + (d & 3) + 2
                        if ln <= 4:
                            buf[p + 1] = (c & 0xFC) | (ln - 1)
                            del buf[p]
                            end -= 1
                            continue
                p += 1
            buf[15] |= 0x80
            return 1, buf
    dense = sparse_to_dense(buf)
    if dense is None:
        return -1, buf
    dense_set(dense, index, count)
    return 1, dense


def add(buf: bytearray, elements, max_bytes: int) -> tuple[int, bytearray, bool]:
    """hllAdd for each element -> (number of updates, buf, ok). ok is False when an element
    met a corrupted HLL: as in Redis, the updates made for the elements before it stay in
    buf (pfaddCommand returns its error with the value already changed)."""
    updated = 0
    enc = buf[4]
    hint = [HDR, 0, -1]
    for ele in elements:
        index, count = pat_len(ele)
        if enc == DENSE:
            if dense_set(buf, index, count):
                updated += 1
        elif enc == SPARSE:
            r, buf = sparse_set(buf, index, count, max_bytes, hint)
            if r < 0:
                return updated, buf, False
            if r:
                updated += 1
                enc = buf[4]
        else:
            return updated, buf, False
    return updated, buf, True


# --- counting -------------------------------------------------------------------------------
def registers(buf, stop_at_overflow: bool = False) -> bytearray | None:
    """The raw registers as hllMerge reads them (None: corrupted). stop_at_overflow: Redis
    7.2's hllMerge, which stops at a VAL run going past the last register and accepts what
    it read when that covers exactly the 16384 registers."""
    if buf[4] == DENSE:
        return dense_registers(buf)
    raw = sparse_registers(buf)
    if raw is None and stop_at_overflow:
        raw = _sparse_registers_72(bytes(buf[HDR:]))
    return raw


def _sparse_registers_72(data: bytes) -> bytearray | None:
    regs = bytearray(HLL_REGISTERS)
    i = p = 0
    n = len(data)
    while p < n:
        b = data[p]
        if b & 0xC0 == 0:  # ZERO
            i += (b & 0x3F) + 1
            p += 1
        elif b & 0xC0 == 0x40:  # XZERO
            i += (((b & 0x3F) << 8) | (data[p + 1] if p + 1 < n else 0)) + 1
            p += 2
        else:  # VAL
            run = (b & 3) + 1
            if i + run > HLL_REGISTERS:
                break  # overflow: hllMerge stops here
            val = ((b >> 2) & 0x1F) + 1
            for j in range(i, i + run):
                if val > regs[j]:
                    regs[j] = val
            i += run
            p += 1
    return regs if i == HLL_REGISTERS else None


def raw_histogram(raw) -> list[int]:
    return [raw.count(i) for i in range(64)]


def histogram(buf) -> list[int] | None:
    """The register histogram (hllDenseRegHisto / hllSparseRegHisto); None: invalid sparse
    (hllSparseRegHisto checks only that the runs add up to exactly 16384 registers)."""
    if buf[4] == DENSE:
        return raw_histogram(dense_registers(buf))
    data = bytes(buf[HDR:])
    raw = _expand(data, _xzero_starts(data))
    if len(raw) != HLL_REGISTERS:
        return None
    return raw_histogram(raw)


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    sqrt = math.sqrt
    while True:
        x = sqrt(x)
        zp = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if zp == z:
            return z / 3


def count_histogram(hist) -> int:
    m = float(HLL_REGISTERS)
    z = m * _tau((m - hist[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    e = ALPHA_INF * m * m / z
    f = math.floor(e)
    return int(f + 1 if e - f >= 0.5 else f)


_LOW7 = int.from_bytes(b"\x80" * HLL_REGISTERS, "little")
_ONES = int.from_bytes(b"\x01" * HLL_REGISTERS, "little")


def merge_max(a: bytearray, b) -> bytearray:
    """Registerwise max of two raw register arrays (values < 64), with big-int lane arithmetic:
    in each byte lane 0x80 + a - b keeps bit 7 exactly when a >= b."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    ge = (((x | _LOW7) - y) >> 7) & _ONES
    mask = ge * 0xFF
    return bytearray(((x & mask) | (y & ~mask & (_ONES * 0xFF))).to_bytes(HLL_REGISTERS, "little"))
