"""DEBUG subcommands that report on internal structures (debug.c): HTSTATS, HTSTATS-KEY,
LISTPACK, QUICKLIST, STRUCTSIZE, CLIENT-EVICTION.

pyredis keeps Python dicts, not Redis's, so the hash-table reports describe the table Redis
would have for the same data: its size is the one used_memory models (the database's bucket
count, kept as Redis's dict grows and shrinks; a collection's dict sized as Redis's grows),
and its chains come from hashing each key into that many slots (Python's seeded SipHash
stands for Redis's seeded SipHash: the distribution is the same kind, the exact chains of any
one process are random in both servers). The texts are dict.c's dictGetStats and debug.c's:
from 7.2 on only the size and the count, unless `full` follows (HTSTATS <dbid> [full],
HTSTATS-KEY <key> [full]); from 7.4 (and in Valkey 8.0) a database's table that was never made
(kvstore's dicts are made on demand; FLUSHALL ASYNC starts new ones) prints nothing."""

from __future__ import annotations

from ..core.args import to_int
from ..core.client import Client
from ..errors import NO_SUCH_KEY, CommandError
from ..keyspace.hash import RHash
from ..keyspace.memsize import dict_buckets
from ..keyspace.set import RSet
from ..keyspace.types import encoding as value_encoding
from ..keyspace.zset import ZSet
from ..protocol.replies import Simple, Verbatim

STATS_VECTLEN = 50  # DICT_STATS_VECTLEN


def dict_stats(keys, size: int, full: bool = True) -> str:
    """_dictGetStatsHt for the main table (pyredis never shows a rehashing target); without
    `full` (7.2+), only its size and count."""
    n = len(keys)
    if n == 0:
        return "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
    if not full:
        return f"Hash table 0 stats (main hash table):\n table size: {size}\n number of elements: {n}\n"
    chains: dict[int, int] = {}
    mask = size - 1
    for k in keys:
        slot = hash(k) & mask
        chains[slot] = chains.get(slot, 0) + 1
    slots = len(chains)
    clvector = [0] * STATS_VECTLEN
    clvector[0] = size - slots
    for length in chains.values():
        clvector[min(length, STATS_VECTLEN - 1)] += 1
    out = [
        "Hash table 0 stats (main hash table):\n",
        f" table size: {size}\n",
        f" number of elements: {n}\n",
        f" different slots: {slots}\n",
        f" max chain length: {max(chains.values())}\n",
        f" avg chain length (counted): {n / slots:.2f}\n",
        f" avg chain length (computed): {n / slots:.2f}\n",
        " Chain length distribution:\n",
    ]
    for i in range(STATS_VECTLEN - 1):
        if clvector[i]:
            out.append(f"   {i}: {clvector[i]} ({clvector[i] / size * 100:.2f}%)\n")
    return "".join(out)


def _full(ctx: Client, rest: tuple) -> bool:
    """7.0 prints the chains always and takes no more arguments; 7.2 only with `full` as the
    argument after the first (the others are ignored)."""
    if not ctx.server.compat.at_least("7.2"):
        if rest:
            from .debug import _SubcommandSyntax

            raise _SubcommandSyntax()
        return True
    return bool(rest) and rest[0].lower() == b"full"


def debug_htstats(ctx: Client, dbid: bytes, *rest: bytes):
    full = _full(ctx, rest)  # (7.0: the arity comes first)
    n = to_int(dbid)
    state = ctx.server
    if n < 0 or n >= len(state.dbs):
        raise CommandError("ERR Out of range database")
    db = state.dbs[n]
    kvstore = state.compat.at_least("7.4", "valkey-8.0")  # a table never made prints nothing
    main = ("" if kvstore and not db.made else
            dict_stats(db.data.keys(), db.slots or dict_buckets(len(db.data)), full))
    expires = ("" if kvstore and not db.emade else
               dict_stats(db.expires.keys(), db.eslots or dict_buckets(len(db.expires)), full))
    return Verbatim(("[Dictionary HT]\n" + main + "[Expires HT]\n" + expires).encode())


def _lookup(ctx: Client, key: bytes):
    """objectCommandLookupOrReply with shared.nokeyerr."""
    v = ctx.db.lookup_notouch(key)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    return v


def debug_htstats_key(ctx: Client, key: bytes, *rest: bytes):
    full = _full(ctx, rest)
    v = _lookup(ctx, key)
    enc = value_encoding(v, ctx.server.config)
    members = None
    if enc == b"hashtable" and type(v) in (RHash, RSet):
        members = v.keys() if type(v) is RHash else v
    elif enc == b"skiplist" and type(v) is ZSet:
        members = v.scores.keys()
    if members is None:
        raise CommandError("ERR The value stored at the specified key is not represented using an hash table")
    return Verbatim(dict_stats(members, dict_buckets(len(members)), full).encode())


def debug_listpack(ctx: Client, key: bytes):
    v = _lookup(ctx, key)
    if value_encoding(v, ctx.server.config) != b"listpack":
        raise CommandError("ERR Not a listpack encoded object.")
    _print(ctx, "listpack", v)
    return Simple(b"Listpack structure printed on stdout")


def debug_quicklist(ctx: Client, key: bytes, full: bytes = b"0"):
    v = _lookup(ctx, key)
    if value_encoding(v, ctx.server.config) != b"quicklist":
        raise CommandError("ERR Not a quicklist encoded object.")
    _print(ctx, "quicklist", v)
    return Simple(b"Quicklist structure printed on stdout")


def _print(ctx: Client, kind: str, v) -> None:
    """lpRepr / quicklistRepr print the structure on stdout; pyredis prints its entries."""
    if type(v) is ZSet:
        items = list(v.scores.items())
    else:
        items = list(v.items()) if isinstance(v, dict) else list(v)
    print(f"{{{kind}: {len(items)} entries}}", *(repr(x) for x in items[:1000]), sep="\n", flush=True)


def debug_structsize(ctx: Client):
    """The 64-bit build's struct sizes (what used_memory's model is made of)."""
    return b"bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 sdshdr64:17 "


def debug_client_eviction(ctx: Client):
    """The client memory buckets of maxmemory-clients (core/clients.py)."""
    from ..core.clients import BUCKET_MAX_LOG, BUCKET_MIN_LOG, bucket

    limits = ctx.server.client_limits
    if not limits.evict_limit:
        raise CommandError("ERR maxmemory-clients is disabled.")
    n = BUCKET_MAX_LOG - BUCKET_MIN_LOG + 1
    mem = [0] * n
    count = [0] * n
    for m in limits.mem.values():
        j = bucket(m) - BUCKET_MIN_LOG
        mem[j] += m
        count[j] += 1
    lines = []
    for j in range(n):
        head = "bucket          0" if j == 0 else "bucket %10d" % (1 << (j - 1 + BUCKET_MIN_LOG))
        head += "+            : " if j == n - 1 else " - %10d: " % ((1 << (j + BUCKET_MIN_LOG)) - 1)
        lines.append(head + "tot-mem: %10d, clients: %d\n" % (mem[j], count[j]))
    return Verbatim("".join(lines).encode())
