"""MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, and the size model behind them.

Where it sits: core/dispatch.py runs these like any command. pyredis has no allocator of its
own, so sizes are modelled: approx_size follows Redis's objectComputeSize with jemalloc's size
classes, computed from every element for listpack, intset and one-node quicklist values and
sampled then extrapolated for hash tables and the rest. DEBUG OBJECT (debug.py) uses the same
model for its serializedlength and quicklist fields.
"""

from __future__ import annotations

from ..core.args import Options
from ..core.client import Client
from ..core.spec import command, container
from ..errors import SYNTAX, CommandError
from ..keyspace.stream import je_size, je_size8
from ..keyspace.types import encoding as value_encoding
from ..protocol.replies import OK, Double, Verbatim
from ._server_common import help_reply, rss_bytes

# --- MEMORY -------------------------------------------------------------------------------
container("MEMORY", group="server", summary="A container for memory diagnostics commands", since="4.0.0")


def _sds_header(n: int) -> int:
    return 1 if n < 32 else 3 if n < 256 else 5 if n < 65536 else 9 if n < 2**32 else 17


def _lp_entry(e: bytes) -> int:
    """Bytes of one listpack entry (encoding, data and back-length)."""
    from ..util import string2ll

    iv = string2ll(e) if len(e) <= 20 else None
    if iv is not None:
        n = (1 if 0 <= iv <= 127 else 2 if -4096 <= iv <= 4095 else 3 if -32768 <= iv <= 32767
             else 4 if -8388608 <= iv <= 8388607 else 5 if -(2**31) <= iv < 2**31 else 9)
    else:
        ln = len(e)
        n = ln + (1 if ln < 64 else 2 if ln < 4096 else 5)
    return n + (1 if n <= 127 else 2 if n < 16383 else 3 if n < 2097151 else 4 if n < 268435455 else 5)


def lp_bytes(entries) -> int:
    return 6 + sum(_lp_entry(e) for e in entries) + 1


def _d2string(x: float) -> bytes:
    """d2string: integral values in the exact range print as integers, others with %.17g."""
    if x == 0:
        return b"-0" if str(x).startswith("-") else b"0"
    if -4503599627370495 < x < 4503599627370496 and x == int(x):
        return b"%d" % int(x)
    if x != x:
        return b"nan"
    if x in (float("inf"), float("-inf")):
        return b"inf" if x > 0 else b"-inf"
    return b"%.17g" % x


def _collection_size(v, enc: bytes, samples: int, je_size=je_size) -> int | None:
    """objectComputeSize for the compact encodings (listpack, intset, a one-node quicklist);
    None for the hash-table ones, which are estimated. je_size: the server's size classes."""
    robj = 16
    if enc == b"intset":
        width = 2
        for m in v:
            iv = int(m)
            if not -32768 <= iv <= 32767:
                width = 4 if -(2**31) <= iv < 2**31 and width <= 4 else 8
                if width == 8:
                    break
        return robj + je_size(8 + len(v) * width)
    if enc == b"listpack":
        if hasattr(v, "scores"):  # sorted set: member, score pairs
            items = (x for m, sc in v.scores.items() for x in (m, _d2string(sc)))
        elif hasattr(v, "items"):
            items = (x for kv in v.items() for x in kv)
        else:
            items = iter(v)
        return robj + je_size(lp_bytes(items))
    if enc == b"quicklist":
        lp = lp_bytes(v)
        if lp <= 8192:
            return robj + 40 + 40 + je_size(lp)  # quicklist + one node + its listpack
        return None
    if enc == b"hashtable" and len(v) and (hasattr(v, "items") or isinstance(v, set | frozenset)):
        # dict + bucket array (the slot count assumes no rehash in progress) + sampled entries
        n = len(v)
        slots = max(4, 1 << (n - 1).bit_length())
        sampled = 0
        elesize = 0
        it = iter(v.items()) if hasattr(v, "items") else ((m,) for m in v)
        for kv in it:
            elesize += 24 + sum(je_size(_sds_header(len(x)) + len(x) + 1) for x in kv)
            sampled += 1
            if samples and sampled >= samples:
                break
        return robj + 56 + 8 * slots + int(elesize / sampled * n)
    return None


def size_classes(config):
    """The allocator size classes of the mode's server: the packaged 7.0.15 links the system's
    jemalloc (16-byte quantum), the later releases their bundled one (8-byte quantum)."""
    return je_size if config is None or config["compat-version"] == "7.0" else je_size8


def approx_size(v, samples: int = 5, config=None) -> int:
    """An estimate in the spirit of objectComputeSize: per-element overhead plus payload,
    extrapolated from up to `samples` elements (0 = all)."""
    je_size = size_classes(config)
    if type(v) is bytes:
        enc = value_encoding(v, None)
        if enc == b"int":
            return 16  # the robj alone
        if enc == b"embstr":
            return je_size(16 + 3 + len(v) + 1)  # robj and sds in one allocation
        return 16 + je_size(_sds_header(len(v)) + len(v) + 1)
    if type(v) is bytearray:  # a raw string changed in place
        return 16 + je_size(_sds_header(len(v)) + len(v) + 1)
    from ..keyspace.types import type_name

    if type_name(v) == b"stream":
        from ..keyspace.stream import memory_usage

        later = config is not None and config["compat-version"] != "7.0"
        return memory_usage(v, samples, 32 if later else 24)
    exact = _collection_size(v, value_encoding(v, config), samples, je_size) if config is not None else None
    if exact is not None:
        return exact
    try:
        n = len(v)
    except TypeError:
        return 64
    if n == 0:
        return 64
    items: list = []
    try:
        it = iter(v.items()) if hasattr(v, "items") else iter(v)
        for x in it:
            items.append(x)
            if samples and len(items) >= samples:
                break
    except TypeError:
        return 64 + 16 * n
    total = 0
    for x in items:
        if isinstance(x, tuple):
            total += sum(len(p) if isinstance(p, bytes | bytearray) else 8 for p in x) + 16
        elif isinstance(x, bytes | bytearray):
            total += len(x) + 8
        else:
            total += 16
    return 64 + int(total / len(items) * n)


@command("MEMORY|USAGE", arity=-3, flags="readonly", keys=(2, 2, 1), group="server", since="4.0.0",
         complexity="O(N) where N is the number of samples.")
def memory_usage(ctx: Client, key: bytes, *args: bytes):
    """Estimates the memory usage of a key."""
    samples = 5
    o = Options(args)
    while o:
        if o.next_upper() == b"SAMPLES" and o.has_more():
            samples = o.int_value()
            if samples < 0:
                raise CommandError(SYNTAX)
        else:
            raise CommandError(SYNTAX)
    v = ctx.db.data.get(key)  # dictFind: no expiry check, no access-time touch
    if v is None:
        return None
    # objectComputeSize + the key's sds + the dictEntry (24 bytes), as MEMORY USAGE adds them.
    # Valkey 8.0's entry embeds the key: one allocation of the entry's 17 bytes and the key's
    # sds as the command's argument had it (an embstr's sdshdr8 for a short key).
    config = ctx.server.config
    size = approx_size(v, samples, config)
    if ctx.server.compat.at_least("valkey-8.0"):
        return size + je_size8(17 + max(3, _sds_header(len(key))) + len(key) + 1)
    return size + size_classes(config)(_sds_header(len(key)) + len(key) + 1) + 24


@command("MEMORY|STATS", arity=2, flags="", group="server", since="4.0.0", complexity="O(1)")
def memory_stats(ctx: Client):
    """Returns details about memory usage."""
    oh = ctx.server.evictor.overhead()
    used = oh["used"]
    rss = rss_bytes()
    ratio = rss / used if used else 1.0
    out: dict = {
        b"peak.allocated": oh["peak"],
        b"total.allocated": used,
        b"startup.allocated": oh["startup"],
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": oh["clients_normal"],
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    # 7.4 and Valkey 8.0 (kvstore): no slot-to-keys, the tables' bucket arrays and rehashing
    # figures of every db summed after them
    kvstore = ctx.server.compat.at_least("7.4", "valkey-8.0")
    lut = 0
    for dbid, main, expires, buckets in oh["dbs"]:
        db = {b"overhead.hashtable.main": main, b"overhead.hashtable.expires": expires}
        if not kvstore:
            db[b"overhead.hashtable.slot-to-keys"] = 0
        out[b"db.%d" % dbid] = db
        lut += buckets
    if kvstore:  # (pyredis never has a table half rehashed: its resize is immediate)
        out[b"overhead.db.hashtable.lut"] = lut
        out[b"overhead.db.hashtable.rehashing"] = 0
    out[b"overhead.total"] = oh["overhead_total"]
    if kvstore:
        out[b"db.dict.rehashing.count"] = 0
    out.update({
        b"keys.count": oh["keys"],
        b"keys.bytes-per-key": oh["bytes_per_key"],
        b"dataset.bytes": oh["dataset"],
        b"dataset.percentage": Double(oh["dataset_perc"]),
        b"peak.percentage": Double(oh["peak_perc"]),
        # pyredis's allocator is the estimate; the RSS is the Python process's
        b"allocator.allocated": used,
        b"allocator.active": used,
        b"allocator.resident": used,
        **({b"allocator.muzzy": 0} if kvstore else {}),
        b"allocator-fragmentation.ratio": Double(1.0),
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": Double(1.0),
        b"allocator-rss.bytes": 0,
        b"rss-overhead.ratio": Double(ratio),
        b"rss-overhead.bytes": rss - used,
        b"fragmentation": Double(ratio),
        b"fragmentation.bytes": rss - used,
    })
    return out


_MEMORY_DOCTOR_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these "
    "conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be "
    "back to our programming as soon as I finished rebooting.\n"
)
_MEMORY_DOCTOR_OK = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
_DOCTOR_BIG_PEAK = (
    " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator "
    "is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however "
    "this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) "
    "is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. "
    "If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE "
    "command, otherwise the only other option is to shutdown and restart the instance.\n\n")
_DOCTOR_BIG_CLIENTS = (
    " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on "
    "average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving "
    "data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large "
    "replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to "
    "investigate the issue if it causes problems in your instance, or to understand better why certain clients are "
    "using a big amount of memory.\n\n")
_DOCTOR_MANY_SCRIPTS = (
    " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because "
    "scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and "
    "`EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your "
    "memory.\n\n")


@command("MEMORY|DOCTOR", arity=2, flags="", group="server", since="4.0.0", complexity="O(1)")
def memory_doctor(ctx: Client):
    """Outputs a memory problems report."""
    return Verbatim(doctor_report(ctx.server).encode())


def doctor_report(state) -> str:
    """getMemoryDoctorReport over the estimate. The checks on RSS and fragmentation are not
    made: pyredis's RSS is the interpreter's heap, which the estimate does not model."""
    oh = state.evictor.overhead()
    if oh["used"] < 5 * 1024 * 1024:
        return _MEMORY_DOCTOR_EMPTY
    reports = []
    if oh["peak"] / oh["used"] > 1.5:
        reports.append(_DOCTOR_BIG_PEAK)
    nclients = len(state.clients)
    if nclients and oh["clients_normal"] // nclients > 1024 * 200:
        reports.append(_DOCTOR_BIG_CLIENTS)
    scripts = getattr(state, "lua", None)  # the EVAL engine, once created
    if scripts is not None and len(getattr(scripts, "scripts", ())) > 1000:
        reports.append(_DOCTOR_MANY_SCRIPTS)
    if not reports:
        return _MEMORY_DOCTOR_OK
    return ("Sam, I detected a few issues in this Redis instance memory implants:\n\n" + "".join(reports)
            + "I'm here to keep you safe, Sam. I want to help you.\n")


@command("MEMORY|MALLOC-STATS", arity=2, flags="", group="server", since="4.0.0", complexity="Depends on how much memory is allocated, could be slow")
def memory_malloc_stats(ctx: Client):
    """Returns the allocator statistics."""
    return Verbatim(b"Stats not supported for the current allocator")


@command("MEMORY|PURGE", arity=2, flags="", group="server", since="4.0.0", complexity="Depends on how much memory is allocated, could be slow")
def memory_purge(ctx: Client):
    """Asks the allocator to release memory."""
    import gc

    gc.collect()
    return OK


_MEMORY_HELP = [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
]


@command("MEMORY|HELP", arity=2, flags="loading stale", group="server", since="4.0.0", complexity="O(1)")
def memory_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return help_reply(_MEMORY_HELP)
