"""Whole RDB files: written as Redis 7.0 writes them (version 10: aux fields, function
libraries as FUNCTION2 records, then each database with its keys and expiry times, EOF and a
CRC-64), read up to version 12 (Redis 7.2 and 7.4, Valkey 7.2/8). The same layout is the RDB
preamble of an AOF base file.

API:
    rdb_chunks(state, functions, aux_extra) -> iterator of bytes   # the file, streamed
    rdb_bytes(state, functions) -> bytes                           # a whole RDB file in memory
    write_rdb_file(path, chunks, checksum) -> size   # atomically: temp file, fsync, rename, fsync dir
    save(state, path, functions, aux) -> size
    load(path, state) / load_bytes(data, state, source=..., skip_expired=..., empty_first=...) -> RdbInfo
        fills state.dbs; the function libraries found are returned in RdbInfo.functions
        (loading them is the caller's business: core/functions.py)
    fsync_dir(path)

`state` is anything with .config, .dbs and .clock (core/state.ServerState): nothing here
imports core.
"""

from __future__ import annotations

import os
import struct
import time

from .base import (OP_AUX, OP_EOF, OP_EXPIRETIME, OP_EXPIRETIME_MS, OP_FREQ, OP_FUNCTION2,
                   OP_FUNCTION_PRE_GA, OP_IDLE, OP_MODULE_AUX, OP_RESIZEDB, OP_SELECTDB, RdbError,
                   Reader, crc64, enc_len, enc_string, rdb_versions)
from .objects import encode_object, read_object

def rdb_chunks(state, functions: list[bytes] | None = None, aux_extra: dict[bytes, bytes] | None = None):
    """Yield an RDB file as chunks (for streaming to disk)."""
    from ..version import __version__

    cfg = state.config
    comp = cfg["rdbcompression"]
    compat = state.compat
    head = [b"REDIS%04d" % compat.rdb_version]
    aux = {
        # Valkey names its own version (its loader reads either)
        b"valkey-ver" if compat.valkey else b"redis-ver": compat.version.encode(),
        b"redis-bits": b"64",
        b"ctime": str(int(time.time())).encode(),
        b"used-mem": b"%d" % _rss(),
        b"aof-base": b"0",
        b"pyredis-ver": __version__.encode(),
    }
    if aux_extra:
        aux.update(aux_extra)
    for k, v in aux.items():
        head.append(bytes([OP_AUX]) + enc_string(k, False) + enc_string(v, False))
    for code in functions or ():
        head.append(bytes([OP_FUNCTION2]) + enc_string(code, comp))
    yield b"".join(head)
    for db in state.dbs:
        if not db.data:
            continue
        expires = db.expires
        # rdbSaveKeyValuePair: the idle time under an LRU policy, the LFU counter under an LFU one
        policy = cfg["maxmemory-policy"]
        save_lru = policy.endswith("-lru")
        lfu = db.lfu if policy.endswith("-lfu") else None
        yield bytes([OP_SELECTDB]) + enc_len(db.id) + bytes([OP_RESIZEDB]) + enc_len(len(db.data)) + enc_len(len(expires))
        buf = []
        size = 0
        delay = cfg["rdb-key-save-delay"]
        for key, value in db.data.items():
            if delay:
                debug_delay(delay)
            when = expires.get(key) if expires else None
            t, body = encode_object(value, cfg)
            rec = (bytes([OP_EXPIRETIME_MS]) + struct.pack("<q", when) if when is not None else b"")
            if save_lru:
                rec += bytes([OP_IDLE]) + enc_len(db.idle_ms(key) // 1000)
            elif lfu is not None:
                rec += bytes([OP_FREQ, db.freq(key, lfu)])
            rec += bytes([t]) + enc_string(key, comp) + body
            buf.append(rec)
            size += len(rec)
            if size > 1 << 20:
                yield b"".join(buf)
                buf, size = [], 0
        if buf:
            yield b"".join(buf)
    yield bytes([OP_EOF])


def rdb_bytes(state, functions: list[bytes] | None = None) -> bytes:
    data = b"".join(rdb_chunks(state, functions))
    return data + struct.pack("<Q", crc64(data) if state.config["rdbchecksum"] else 0)


def temp_path(path: str, pid: int) -> str:
    """The temporary file a save by process `pid` writes before renaming it to `path`
    (Redis's temp-<pid>.rdb, next to the target)."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), f"temp-{pid}.rdb")


AUTOSYNC_BYTES = 4 * 1024 * 1024  # REDIS_AUTOSYNC_BYTES: incremental fsync every 4 MB


def write_rdb_file(path: str, chunks, checksum: bool = True, autosync: bool = False) -> int:
    """Write chunks + CRC to `path` atomically (temp file, fsync, rename). Returns bytes written.
    A failed write (a full disk) removes its temporary file. autosync (rdb-save-incremental-fsync,
    aof-rewrite-incremental-fsync): fsync every 4 MB on the way, as rioSetAutoSync."""
    tmp = temp_path(path, os.getpid())
    crc = 0
    n = 0
    synced = 0
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                if checksum:
                    crc = crc64(chunk, crc)
                f.write(chunk)
                n += len(chunk)
                if autosync and n - synced >= AUTOSYNC_BYTES:
                    f.flush()
                    os.fsync(f.fileno())
                    synced = n
            f.write(struct.pack("<Q", crc if checksum else 0))
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(os.path.abspath(path)))
    return n + 8


def save(state, path: str, functions: list[bytes] | None = None, aux: dict[bytes, bytes] | None = None) -> int:
    cfg = state.config
    return write_rdb_file(path, rdb_chunks(state, functions, aux), cfg["rdbchecksum"],
                          cfg["rdb-save-incremental-fsync"])


def debug_delay(usec: int) -> None:
    """debugDelay (rdb-key-save-delay, key-load-delay): sleep usec microseconds per key; a
    negative value sleeps 1 microsecond once every -usec keys, on average."""
    if usec < 0:
        import random

        usec = 1 if random.randrange(-usec) == 0 else 0
    if usec:
        time.sleep(usec / 1_000_000)


def fsync_dir(d: str) -> None:
    """fsync a directory, so a rename inside it survives a crash (best effort)."""
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


class RdbInfo:
    def __init__(self) -> None:
        self.version = 0
        self.aux: dict[bytes, bytes] = {}
        self.aux_at: list[tuple[bytes, bytes, int]] = []  # (field, value, offset just past it)
        self.selects: list[tuple[int, int]] = []  # (db, offset just past its number): SELECTDB opcodes
        self.keys = 0
        self.expired_skipped = 0
        self.functions: list[bytes] = []
        self.end = 0  # offset just past the checksum (where an AOF tail may continue)


def load_bytes(data: bytes, state, source: str = "RDB", skip_expired: bool = True, empty_first: bool = True,
               on_duplicate=None) -> RdbInfo:
    """on_duplicate(db, key): a key the database already holds (DEBUG RELOAD NOFLUSH without
    MERGE: Redis panics; it raises); None: the file's value replaces it (MERGE)."""
    info = RdbInfo()
    if len(data) < 9 or data[:5] != b"REDIS":
        raise RdbError(f"{source}: wrong signature trying to load DB from file")
    try:
        info.version = int(data[5:9])
    except ValueError:
        raise RdbError(f"{source}: bad RDB version") from None
    if info.version < 1 or info.version > rdb_versions(state.config)[1]:
        raise RdbError(f"{source}: can't handle RDB format version {info.version}")
    cfg = state.config
    if empty_first:
        for db in state.dbs:
            db.flush()
    r = Reader(data, 9)
    db = state.dbs[0]
    now = state.clock.ms()
    expire_at: int | None = None
    delay = cfg["key-load-delay"]
    lfu_freq = lru_idle = -1
    while True:
        t = r.byte()
        if t == OP_EXPIRETIME_MS:
            expire_at = struct.unpack("<q", r.take(8))[0]
            continue
        if t == OP_EXPIRETIME:
            expire_at = struct.unpack("<i", r.take(4))[0] * 1000
            continue
        if t == OP_FREQ:
            lfu_freq = r.byte()
            continue
        if t == OP_IDLE:
            lru_idle = r.plain_length()
            continue
        if t == OP_EOF:
            break
        if t == OP_SELECTDB:
            n = r.plain_length()
            info.selects.append((n, r.pos))
            if n >= len(state.dbs):
                raise RdbError(f"{source}: FATAL: Data file was created with a Redis server configured to handle more than {len(state.dbs)} databases. Exiting")
            db = state.dbs[n]
            continue
        if t == OP_RESIZEDB:
            r.plain_length()
            r.plain_length()
            continue
        if t == OP_AUX:
            k = r.string()
            v = r.string()
            info.aux[k] = v
            info.aux_at.append((k, v, r.pos))
            continue
        if t == OP_MODULE_AUX:
            raise RdbError(f"{source}: module auxiliary data is not supported")
        if t == OP_FUNCTION2:
            info.functions.append(r.string())
            continue
        if t == OP_FUNCTION_PRE_GA:
            raise RdbError(f"{source}: pre-release function format is not supported")
        key = r.string()
        try:
            value = read_object(r, t, cfg)
        except RdbError:
            raise
        except (ValueError, struct.error, IndexError) as e:
            raise RdbError(f"{source}: bad data for key {key!r} at offset {r.pos}: {e}") from None
        if expire_at is not None and skip_expired and expire_at <= now:
            info.expired_skipped += 1
        elif _nonempty(value):
            if key in db.data:  # already there: the last one wins (MERGE), unless on_duplicate raises
                if on_duplicate is not None:
                    on_duplicate(db, key)
                db.delete(key)
            db.add(key, value)
            if expire_at is not None:
                db.set_expire(key, expire_at)
            if lfu_freq >= 0 or lru_idle >= 0:
                db.set_access(key, lfu_freq, lru_idle)
            info.keys += 1
        expire_at = None
        lfu_freq = lru_idle = -1
        if delay:
            debug_delay(delay)
    if info.version >= 5:
        stored = r.take(8)
        expect = struct.unpack("<Q", stored)[0]
        if (expect and cfg["rdbchecksum"] and not getattr(state, "skip_checksum_validation", False)
                and crc64(data[: r.pos - 8]) != expect):
            raise RdbError(f"{source}: RDB CRC error (wrong checksum)")
    info.end = r.pos
    return info


def _nonempty(value) -> bool:
    try:
        return len(value) > 0 or type(value) is bytes
    except TypeError:
        return True


def load(path: str, state, **kw) -> RdbInfo:
    with open(path, "rb") as f:
        data = f.read()
    return load_bytes(data, state, source=path, **kw)
