"""DEBUG and its subcommands, pyredis's DEBUG CLOCK among them.

Where it sits: core/dispatch.py refuses DEBUG before running it unless enable-debug-command
allows it (its `protected` step, core/spec.py's PROTECTED_BY), then runs debug(), which
looks the subcommand up in _SUBCOMMANDS, the one table of every DEBUG subcommand pyredis
implements with the argument counts it accepts. DEBUG HELP is redis-server 7.0.15's text,
byte for byte; DEBUG CLOCK, pyredis's own, is not in it.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from typing import Any, Callable

from ..core.args import to_int, to_positive_int
from ..core.client import Client
from ..core.spec import command
from ..errors import NO_SUCH_KEY, CommandError, PersistenceError
from ..keyspace.types import encoding as value_encoding
from ..protocol.encoder import digest_double
from ..protocol.replies import OK, Double, ErrorReply, SetReply, Simple, Verbatim
from ..util import string2ll
from ._server_common import help_reply
from .debug_stats import (debug_client_eviction, debug_htstats, debug_htstats_key, debug_listpack,
                          debug_quicklist, debug_structsize)
from .memory import approx_size, lp_bytes

# --- DEBUG --------------------------------------------------------------------------------


_DEBUG_HELP = [
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
]


def _atoi(b: bytes) -> int:
    """C atoi: leading spaces, sign, digits; anything else stops (0 when none)."""
    s = b.strip()
    i = 0
    if s[:1] in (b"-", b"+"):
        i = 1
    j = i
    while j < len(s) and 48 <= s[j] <= 57:
        j += 1
    if j == i:
        return 0
    return int(s[:j])


def _strtod(b: bytes) -> float:
    s = b.strip().decode("ascii", "replace")
    for end in range(len(s), 0, -1):
        try:
            return float(s[:end])
        except ValueError:
            continue
    return 0.0


def _serialized_length(v, config=None) -> int:
    """rdbSavedObjectLen: the value's RDB serialization, without its type byte."""
    if config is not None:
        try:
            from ..rdb import encode_object

            return len(encode_object(v, config)[1])
        except Exception:  # noqa: BLE001 - a type the RDB writer does not know: estimate below
            pass
    if type(v) is bytes:
        n = len(v)
        iv = string2ll(v) if n <= 20 else None
        if iv is not None:
            if -128 <= iv <= 127:
                return 2
            if -32768 <= iv <= 32767:
                return 3
            if -(2**31) <= iv <= 2**31 - 1:
                return 5
        return n + (1 if n < 64 else 2 if n < 16384 else 5)
    return approx_size(v)


def _debug_object(ctx: Client, key: bytes) -> Simple:
    db = ctx.db
    v = db.lookup_notouch(key)  # dictFind: the key's access time stays as it was
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    enc = value_encoding(v, ctx.server.config).decode()
    lru = db.lru.get(key, db.lru_now)  # the raw robj lru field (the LFU field under LFU)
    refcount = 1
    if enc == "int" and 0 <= int(v) < 10000:
        refcount = 2147483647  # a shared integer object (OBJ_SHARED_REFCOUNT)
    text = (f"Value at:0x{id(v):x} refcount:{refcount} encoding:{enc} serializedlength:{_serialized_length(v, ctx.server.config)} "
            f"lru:{lru} lru_seconds_idle:{db.idle_ms(key) // 1000}")
    if enc == "quicklist":
        lp = lp_bytes(v)
        nodes = max(1, -(-lp // 8192))  # nodes of about 8 KB (list-max-listpack-size -2)
        text += " ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%d" % (
            nodes, len(v) / nodes, ctx.server.config["list-max-listpack-size"],
            ctx.server.config["list-compress-depth"] != 0, lp)
    return Simple(text.encode())


def _debug_protocol(ctx: Client, kind: bytes):
    from ..protocol.replies import BigNumber, Boolean, Push

    k = kind.lower()
    if k == b"string":
        return b"Hello World"
    if k == b"integer":
        return 12345
    if k == b"double":
        return Double(3.141)
    if k == b"bignum":
        return BigNumber(b"1234567999999999999999999999999999999")
    if k == b"null":
        return None
    if k == b"array":
        return [0, 1, 2]
    if k == b"set":
        return SetReply([0, 1, 2])
    if k == b"map":
        return {0: Boolean(0) if ctx.resp == 3 else 0, 1: Boolean(1) if ctx.resp == 3 else 1,
                2: Boolean(0) if ctx.resp == 3 else 0}
    if k == b"attrib":
        return b"Some real reply following the attribute"
    if k == b"push":
        if ctx.resp < 3:
            raise CommandError("ERR RESP2 is not supported by this command")
        if ctx.write_push is not None:
            ctx.write_push(Push([b"server-cpu-usage", 42]))
        return b"Some real reply following the push reply"
    if k == b"true":
        return Boolean(1)
    if k == b"false":
        return Boolean(0)
    if k == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    raise CommandError("ERR Wrong protocol type name. Please use one of the following: string|integer|"
                       "double|bignum|null|array|set|map|attrib|push|verbatim|true|false")


# --- DEBUG DIGEST / DIGEST-VALUE: redis-server's dataset digest (SHA1 mixes and xors) ---
_ZERO20 = bytes(20)


def _xor(d: bytes, data: bytes) -> bytes:
    """xorDigest: d ^= SHA1(data)."""
    h = hashlib.sha1(data).digest()
    return bytes(a ^ b for a, b in zip(d, h))


def _mix(d: bytes, data: bytes) -> bytes:
    """mixDigest: d ^= SHA1(data), then d = SHA1(d) (so the order of mixes matters)."""
    return hashlib.sha1(_xor(d, data)).digest()


def _value_digest(db, key: bytes, v, d: bytes = _ZERO20) -> bytes:
    """xorObjectDigest: the type, the value (ordered for lists, order-free for the others), expiry."""
    from ..keyspace.types import type_name

    t = type_name(v)
    code = {b"string": 0, b"list": 1, b"set": 2, b"zset": 3, b"hash": 4, b"stream": 6}.get(t, 6)
    d = _mix(d, struct.pack(">I", code))
    if t == b"string":
        d = _mix(d, v)
    elif t == b"list":
        for e in v:
            d = _mix(d, e)
    elif t == b"set":
        for m in v:
            d = _xor(d, m)
    elif t == b"zset":
        for m, score in v.scores.items():
            d = _xor(d, _mix(_mix(_ZERO20, m), digest_double(score)))
    elif t == b"hash":
        ttls = v.ttls
        for f, val in v.items():
            el = _mix(_mix(_ZERO20, f), val)
            if ttls and f in ttls:  # a field with a deadline (Redis 7.4)
                el = _xor(el, b"!!hexpire!!")
            d = _xor(d, el)
    elif t == b"stream":
        from ..keyspace.stream import digest_parts

        for x in digest_parts(v):
            d = _mix(d, x)
    if db.expires and key in db.expires:
        d = _xor(d, b"!!expire!!")
    return d


def dataset_digest(state) -> bytes:
    final = _ZERO20
    for db in state.dbs:
        if not db.data:
            continue
        final = _mix(final, struct.pack(">I", db.id))
        for key, v in list(db.data.items()):
            final = _xor(final, _value_digest(db, key, v, _mix(_ZERO20, key)))
    return final


def _debug_populate(ctx: Client, count: bytes, prefix: bytes = b"key", size: bytes | None = None):
    """DEBUG POPULATE: keys <prefix>:<n> holding value:<n> (cut or zero-padded to size);
    existing keys are skipped; nothing is propagated."""
    keys = to_positive_int(count)
    valsize = to_positive_int(size) if size is not None else 0
    db = ctx.db
    state = ctx.server
    for j in range(keys):
        key = b"%s:%d" % (prefix, j)
        if db.lookup(key) is not None:
            continue
        val = b"value:%d" % j
        if valsize:
            val = val[:valsize].ljust(valsize, b"\x00")
        db.add(key, val)
        if state.key_change_hooks:
            state.signal_modified(db, key)
    return OK


# --- the other subcommands (each listed in _SUBCOMMANDS below) ----------------------------
# what 7.2 changed in the text (the `full` argument of HTSTATS and HTSTATS-KEY, addReplyHelp's
# "Print"); Valkey's and 7.4's other lines and subcommands are not modelled
_DEBUG_HELP_72 = {"HTSTATS <dbid>": "HTSTATS <dbid> [full]", "HTSTATS-KEY <key>": "HTSTATS-KEY <key> [full]",
                  "    Prints this help.": "    Print this help."}


def _debug_help(ctx: Client):
    if ctx.server.compat.at_least("7.2"):
        return help_reply([_DEBUG_HELP_72.get(line, line) for line in _DEBUG_HELP])
    return help_reply(_DEBUG_HELP)


def _debug_sleep(ctx: Client, seconds: bytes):
    secs = _strtod(seconds)
    if secs > 0:
        time.sleep(secs)
    return OK


def _debug_set_active_expire(ctx: Client, flag: bytes):
    ctx.server.active_expire_enabled = _atoi(flag) != 0
    return OK


def _debug_error(ctx: Client, message: bytes):
    return ErrorReply(message)


def _debug_log(ctx: Client, message: bytes):
    srv = ctx.server.server
    if srv is not None:
        srv.log("warning", "DEBUG LOG: " + message.decode("utf-8", "replace"))
    return OK


def _debug_change_repl_id(ctx: Client):
    repl = ctx.server.repl  # changeReplicationId(); clearReplicationId2()
    repl.change_replid()
    repl.clear_replid2()
    return OK


def _debug_reload(ctx: Client, *opts: bytes):
    """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE] (persistence's debug_reload)."""
    save = flush = True
    merge = False
    for o in opts:
        u = o.upper()
        if u == b"MERGE":
            merge = True
        elif u == b"NOFLUSH":
            flush = False
        elif u == b"NOSAVE":
            save = False
        else:
            raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    p = ctx.server.persistence
    if p is None:
        raise CommandError("ERR Error trying to load the RDB dump")
    try:
        p.debug_reload(save, flush, merge)
    except PersistenceError as e:
        raise CommandError(str(e)) from None
    return OK


def _debug_loadaof(ctx: Client, *_ignored: bytes):  # (extra arguments ignored, as Redis)
    """DEBUG LOADAOF: the AOF flushed, then loaded back in place of the dataset."""
    p = ctx.server.persistence
    if p is None:
        raise CommandError("ERR DEBUG LOADAOF failed")
    try:
        p.debug_loadaof()
    except PersistenceError as e:
        raise CommandError(str(e)) from None
    return OK


def _debug_replybuffer(ctx: Client, what: bytes, value: bytes):
    """DEBUG REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|ms> | RESIZING <0|1>: the reply
    buffers' resizing (CLIENT LIST rbs/rbp, core/client.py resize_reply_buffer)."""
    state = ctx.server
    w = what.lower()
    if w == b"peak-reset-time":
        v = value.lower()
        if v == b"never":
            state.reply_buffer_peak_reset_time = -1
        elif v == b"reset":
            state.reply_buffer_peak_reset_time = 5000
        else:
            state.reply_buffer_peak_reset_time = to_int(value)
    elif w == b"resizing":
        state.reply_buffer_resizing = _atoi(value) != 0
    else:
        raise _SubcommandSyntax()
    return OK


class _SubcommandSyntax(Exception):
    """addReplySubcommandSyntaxError: the subcommand's usage error, named as it was typed."""


def _debug_pause_cron(ctx: Client, flag: bytes):
    ctx.server.pause_cron = _atoi(flag) != 0
    return OK


def _debug_aof_flush_sleep(ctx: Client, usec: bytes):
    ctx.server.aof_flush_sleep = max(0, _atoi(usec))
    return OK


def _debug_skip_checksum(ctx: Client, flag: bytes):
    ctx.server.skip_checksum_validation = _atoi(flag) != 0
    return OK


def _debug_disable_deny_scripts(ctx: Client, flag: bytes):
    ctx.server.script_disable_deny_script = _atoi(flag) != 0
    return OK


def _debug_quicklist_packed_threshold(ctx: Client, size: bytes):
    """Lists larger elements live in plain nodes in Redis; pyredis has no such nodes, so only
    the value is checked as Redis checks it (memtoull, below 4 GB - 1 MB)."""
    from ..config import parse_memory

    try:
        sz = parse_memory(size.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        sz = None
    if sz is None or sz > (1 << 32) - (1 << 20):
        raise CommandError("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
    return OK


def _debug_config_rewrite_force_all(ctx: Client):
    from ..config import ConfigError

    cfg = ctx.server.config
    if not cfg.config_file:  # rewriteConfig(NULL, 1): open() of a NULL path
        raise CommandError("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address")
    try:
        cfg.rewrite(force_all=True)
    except ConfigError as e:
        raise CommandError(f"ERR CONFIG-REWRITE-FORCE-ALL failed: {str(e).split(': ')[-1]}") from None
    return OK


def _debug_ok(ctx: Client, *args: bytes):
    """LEAK <string> (nothing to leak), REPLICATE <args> (no replica to send them to)."""
    return OK


def _debug_drop_cluster_packet_filter(ctx: Client, packet_type: bytes):
    to_int(packet_type)  # getLongFromObjectOrReply; there is no cluster bus to filter
    return OK


def _debug_clusterlink(ctx: Client, *args: bytes):
    if len(args) == 3 and args[0].upper() == b"KILL":
        raise CommandError("ERR Debug option only available for cluster mode enabled setup!")
    raise CommandError("ERR unknown subcommand or wrong number of arguments for 'CLUSTERLINK'. Try DEBUG HELP.")


def _debug_assert(ctx: Client, *_ignored: bytes):
    _panic(ctx, "=== ASSERTION FAILED ===: '1 == 2' is not true (DEBUG ASSERT)")


def _debug_oom(ctx: Client, *_ignored: bytes):
    """zmalloc's out-of-memory handler: a line on stderr, then abort()."""
    import sys

    sys.stderr.write("zmalloc: Out of memory trying to allocate 9223372036854775807 bytes\n")
    sys.stderr.flush()
    srv = ctx.server.server
    if srv is not None and not srv.process:
        srv.fatal("DEBUG OOM (an embedded server stops instead of ending its host process)")
        return OK
    os.abort()


def _debug_digest(ctx: Client):
    return Simple(dataset_digest(ctx.server).hex().encode())


def _debug_digest_value(ctx: Client, *keys: bytes):
    out = []
    for key in keys:
        v = ctx.db.lookup(key)
        out.append(Simple((_value_digest(ctx.db, key, v) if v is not None else _ZERO20).hex().encode()))
    return out


def _debug_segfault(ctx: Client, *_ignored: bytes):
    import ctypes

    ctypes.string_at(0)  # a read of address 0: SIGSEGV, and the crash report in the log


def _debug_panic(ctx: Client, *_ignored: bytes):
    _panic(ctx, "DEBUG PANIC called at Unix time %d" % int(time.time()))


def _panic(ctx: Client, msg: str) -> None:
    """serverPanic (the server's panic(): its report, then abort(), or exit(1) with
    use-exit-on-panic)."""
    srv = ctx.server.server
    if srv is None:
        os.abort()
    srv.panic(msg)


def _debug_stringmatch_test(ctx: Client):
    return Simple(b"Apparently Redis did not crash: test passed")


def _debug_sdslen(ctx: Client, key: bytes):
    v = ctx.db.lookup(key)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    if type(v) is not bytes and type(v) is not bytearray:
        raise CommandError("ERR Not an sds encoded string.")
    return Simple(("key_sds_len:%d, key_sds_avail:0, key_zmalloc: %d, val_sds_len:%d, val_sds_avail:0, "
                   "val_zmalloc: %d" % (len(key), len(key) + 9, len(v), len(v) + 9)).encode())


def _debug_mallctl(ctx: Client, key: bytes, *values: bytes):
    """DEBUG MALLCTL <key> [value]: jemalloc's mallctl; pyredis has no jemalloc, so every key
    is unknown (mallctl's ENOENT), after the value is read as an integer."""
    from ..util import string2ll

    if values and string2ll(values[0]) is None:
        raise CommandError("ERR value is not an integer or out of range")
    raise CommandError("ERR No such file or directory")


def _debug_mallctl_str(ctx: Client, *_args: bytes):
    """DEBUG MALLCTL-STR <key> [value]: as MALLCTL, with a string value."""
    raise CommandError("ERR No such file or directory")


# --- DEBUG CLOCK: time control for tests (pyredis's own; redis-server has no such subcommand) ---
_CLOCK_USAGE = "ERR DEBUG CLOCK <FREEZE|ADVANCE ms|SET unix-ms|RESUME|RESET|GET>"


def debug_clock(ctx: Client, *args: bytes):
    """DEBUG CLOCK: moves the server clock (clock.py's state.clock).

        DEBUG CLOCK FREEZE              stop the server clock at its current reading
        DEBUG CLOCK ADVANCE <ms>        move it forward (negative: back), frozen or not
        DEBUG CLOCK SET <unix-ms>       jump to a wall-clock time, frozen or not
        DEBUG CLOCK RESUME              let a frozen clock run again from where it stands
        DEBUG CLOCK RESET               back to the machine's real time, running
        DEBUG CLOCK GET                 the clock's reading in ms since the epoch (integer)

    Everything time-based reads `state.clock`: expiry (lazy and active), TTL/PTTL, TIME,
    EXPIRETIME, stream ids, blocking deadlines, the LRU/LFU clocks (OBJECT IDLETIME / FREQ). Like every DEBUG subcommand it needs
    `enable-debug-command yes` (or `local` for loopback connections). It is not in DEBUG
    HELP, which stays redis-server's text.
    """
    if not args:
        raise CommandError(_CLOCK_USAGE)
    state = ctx.server
    clock = state.clock
    op = args[0].upper()
    n = len(args)
    if op == b"GET" and n == 1:
        return clock.ms()
    if op == b"FREEZE" and n == 1:
        clock.freeze()
    elif op == b"RESUME" and n == 1:
        clock.resume()
    elif op == b"RESET" and n == 1:
        clock.resume()
        clock.set(int(time.time() * 1000))
    elif op == b"ADVANCE" and n == 2:
        clock.advance(to_int(args[1]))
    elif op == b"SET" and n == 2:
        clock.set(to_int(args[1]))
    else:
        raise CommandError(_CLOCK_USAGE)
    # The command's own time (and what the next lookups in this event-loop turn compare with).
    state.now_cache = clock.ms()
    state.evictor.update_clocks()  # the LRU and LFU clocks follow at once, not at the next cron
    _rearm_blocked(state)
    return OK


def _rearm_blocked(state) -> None:
    """Blocked clients' timeouts (BLPOP k 5, XREAD BLOCK ...) are timers in real seconds until
    the deadline on the server clock: recompute them from the moved clock, so an ADVANCE past a
    deadline times the client out now."""
    mgr = getattr(state, "blocking", None)
    if mgr is None:
        return
    for w in list(mgr.by_client.values()):
        if w.active and w.deadline and w.timer is not None:
            w.timer.cancel()
            mgr._arm(w)


# --- DEBUG itself -------------------------------------------------------------------------
# Every DEBUG subcommand: NAME -> (fewest arguments, most arguments or None, handler(ctx, *args)).
# Another name, or another number of arguments, is refused with redis-server's error.
_SUBCOMMANDS: dict[bytes, tuple[int, int | None, Callable[..., Any]]] = {
    b"HELP": (0, 0, _debug_help),
    b"SLEEP": (1, 1, _debug_sleep),
    b"OBJECT": (1, 1, _debug_object),
    b"SET-ACTIVE-EXPIRE": (1, 1, _debug_set_active_expire),
    b"ERROR": (1, 1, _debug_error),
    b"LOG": (1, 1, _debug_log),
    b"PROTOCOL": (1, 1, _debug_protocol),
    b"CHANGE-REPL-ID": (0, 0, _debug_change_repl_id),
    b"QUICKLIST-PACKED-THRESHOLD": (1, 1, _debug_quicklist_packed_threshold),
    b"SET-SKIP-CHECKSUM-VALIDATION": (1, 1, _debug_skip_checksum),
    b"PAUSE-CRON": (1, 1, _debug_pause_cron),
    b"AOF-FLUSH-SLEEP": (1, 1, _debug_aof_flush_sleep),
    b"SET-DISABLE-DENY-SCRIPTS": (1, 1, _debug_disable_deny_scripts),
    b"RELOAD": (0, None, _debug_reload),
    b"LOADAOF": (0, None, _debug_loadaof),
    b"REPLYBUFFER": (2, 2, _debug_replybuffer),
    b"CONFIG-REWRITE-FORCE-ALL": (0, 0, _debug_config_rewrite_force_all),
    b"LEAK": (1, 1, _debug_ok),
    b"REPLICATE": (1, None, _debug_ok),
    b"DROP-CLUSTER-PACKET-FILTER": (1, 1, _debug_drop_cluster_packet_filter),
    b"CLUSTERLINK": (3, 3, _debug_clusterlink),
    b"ASSERT": (0, None, _debug_assert),
    b"OOM": (0, None, _debug_oom),
    b"DIGEST": (0, 0, _debug_digest),
    b"DIGEST-VALUE": (1, None, _debug_digest_value),
    b"POPULATE": (1, 3, _debug_populate),
    b"SEGFAULT": (0, None, _debug_segfault),
    b"PANIC": (0, None, _debug_panic),
    b"STRINGMATCH-TEST": (0, 0, _debug_stringmatch_test),
    b"SDSLEN": (1, 1, _debug_sdslen),
    b"HTSTATS": (1, None, debug_htstats),  # (7.0: one argument; 7.2: [full] and any after it)
    b"HTSTATS-KEY": (1, None, debug_htstats_key),
    b"LISTPACK": (1, 1, debug_listpack),
    b"QUICKLIST": (1, 2, debug_quicklist),
    b"STRUCTSIZE": (0, 0, debug_structsize),
    b"CLIENT-EVICTION": (0, 0, debug_client_eviction),
    b"MALLCTL": (1, None, _debug_mallctl),
    b"MALLCTL-STR": (1, None, _debug_mallctl_str),
    b"CLOCK": (0, None, debug_clock),  # pyredis's own: checks its arguments itself; not in DEBUG HELP
    b"LAZYFREE": (0, 0, lambda ctx: debug_lazyfree(ctx)),  # pyredis's own; not in DEBUG HELP
}


def debug_lazyfree(ctx: Client):
    """DEBUG LAZYFREE (pyredis's own): the lazy free's figures (core/lazyfree.py) - what INFO
    shows, plus the bytes still to free, the slices run so far, the most elements one slice
    freed, and the per-slice limit."""
    from ..core.lazyfree import SLICE_UNITS

    lf = ctx.server.lazyfree
    return {b"pending-objects": lf.pending_objects, b"freed-objects": lf.freed_objects,
            b"pending-bytes": lf.pending_bytes, b"slices": lf.slices, b"max-slice-units": lf.max_slice_units,
            b"slice-units-limit": SLICE_UNITS}


@command("DEBUG", arity=-2, flags="admin noscript loading stale", group="server", since="1.0.0",
         complexity="Depends on subcommand.")
def debug(ctx: Client, sub: bytes, *args: bytes):
    """A container for debugging commands (refused by dispatch's protected step unless
    enable-debug-command allows it)."""
    entry = _SUBCOMMANDS.get(sub.upper())
    if entry is not None:
        fewest, most, handler = entry
        if fewest <= len(args) and (most is None or len(args) <= most):
            try:
                return handler(ctx, *args)
            except _SubcommandSyntax:
                pass
    raise CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP."
                       % sub.decode("utf-8", "replace")[:128])
