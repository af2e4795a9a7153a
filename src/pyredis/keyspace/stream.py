"""The stream type (t_stream.c's data model).

IDs are single ints: `ms << 64 | seq`, so they compare and bisect as numbers; `fmt_id(i)`
renders `ms-seq`.

Live entries: `ids` (sorted list of ids, append-mostly: bisect for O(log n) seeks) and
`entries` (id -> flat (field, value, ...) tuple).

Redis stores a stream as a radix tree of listpack "nodes" (a master entry + delta-encoded
entries, deleted entries kept as tombstones until their whole node goes). Approximate
trimming (`~`), `radix-tree-keys`/`radix-tree-nodes` of XINFO STREAM and the RDB format all
depend on those node boundaries, so they are modelled here: `nodes` (oldest first) hold the
ids, flags and fields of every entry they contain, tombstones included, and the listpack
byte size Redis would compute, so a node closes exactly when Redis's
stream-node-max-bytes / stream-node-max-entries check closes it.

Consumer groups: `groups` (name -> Group); a Group has `pel` (Pel: id -> Nack in id order), its
consumers (name -> Consumer, each with its own Pel sharing the Nack objects),
`last_id` and `entries_read` (-1 = unknown, SCG_INVALID_ENTRIES_READ).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

from ..util import lp_int_size, lp_str_size
from .types import register_copier, register_type

U64 = (1 << 64) - 1
MAX_ID = (U64 << 64) | U64
INVALID_READ = -1  # SCG_INVALID_ENTRIES_READ
FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2
LISTPACK_MAX = 1 << 30  # STREAM_LISTPACK_MAX_SIZE


def fmt_id(i: int) -> bytes:
    return b"%d-%d" % (i >> 64, i & U64)


def signed64(v: int) -> int:
    """The int64_t a uint64 difference becomes in C (lpAppendInteger of ms/seq deltas)."""
    v &= U64
    return v - (1 << 64) if v >> 63 else v


class Node:
    """One listpack of the radix tree: master id/fields, and every entry it holds."""

    __slots__ = ("master", "mfields", "ids", "flags", "vals", "count", "deleted", "nbytes", "alloc")

    def __init__(self, master: int, mfields: tuple) -> None:
        self.master = master
        self.mfields = mfields
        self.ids: list[int] = []
        self.flags: list[int] = []
        self.vals: list[tuple] = []  # flat (field, value, ...) of each entry
        self.count = 0  # live entries
        self.deleted = 0  # tombstones
        # listpack bytes, except the two counters at its head (their size varies)
        self.nbytes = lp_int_size(len(mfields)) + sum(lp_str_size(f) for f in mfields) + 2
        self.alloc = 0  # bytes jemalloc gives the listpack (MEMORY USAGE); set by the creator

    def lp_bytes(self) -> int:
        return 7 + self.nbytes + lp_int_size(self.count) + lp_int_size(self.deleted)

    def set_counts(self, count: int, deleted: int) -> None:
        """lpReplaceInteger of the two counters, each reallocating as listpack.c does."""
        old = self.lp_bytes()
        self.count = count
        new = self.lp_bytes()
        self._resized(old, new)
        self.deleted = deleted
        self._resized(new, self.lp_bytes())

    def _resized(self, old: int, new: int) -> None:
        if new < old:
            self.alloc = je_size(new)  # lpInsert reallocs after shrinking
        elif new > self.alloc:
            self.alloc = je_size(new)


def je_size(n: int) -> int:
    """The jemalloc size class of an n-byte allocation (what zmalloc_size reports), as the
    system's jemalloc of the packaged redis-server 7.0.15 has them (16-byte quantum)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    k = n.bit_length() - 1
    if n == 1 << k:
        return n
    step = 1 << (k - 2)
    return (n + step - 1) & ~(step - 1)


def je_size8(n: int) -> int:
    """The same for the jemalloc Redis bundles (deps/jemalloc, built --with-lg-quantum=3), which
    the later releases' servers use: 8-byte spaced classes up to 64 (24, 40, 56 exist), the
    same classes as je_size above that."""
    if n <= 64:
        return 8 if n <= 8 else (n + 7) & ~7
    return je_size(n)


class Pel:
    """A pending entries list: id -> Nack, iterated in id order.

    A dict plus a sorted id list; deliveries almost always append (new ids are the largest)
    and acknowledgements only mark ids stale, so XREADGROUP/XACK cost O(1) amortised (the
    list is compacted when an ordered read needs it or stale ids pile up)."""

    __slots__ = ("d", "keys", "stale")

    def __init__(self) -> None:
        self.d: dict[int, Nack] = {}
        self.keys: list[int] = []
        self.stale: set[int] = set()

    def __len__(self) -> int:
        return len(self.d)

    def __contains__(self, k: int) -> bool:
        return k in self.d

    def __getitem__(self, k: int) -> Nack:
        return self.d[k]

    def get(self, k: int, default=None):
        return self.d.get(k, default)

    def __setitem__(self, k: int, v: Nack) -> None:
        d = self.d
        if k not in d:
            stale = self.stale
            if stale and k in stale:
                stale.discard(k)  # still in `keys`, at its place
            else:
                keys = self.keys
                if not keys or k > keys[-1]:
                    keys.append(k)
                else:
                    insort(keys, k)
        d[k] = v

    def __delitem__(self, k: int) -> None:
        del self.d[k]
        self._gone(k)

    def pop(self, k: int, default=None):
        v = self.d.pop(k, _MISSING)
        if v is _MISSING:
            return default
        self._gone(k)
        return v

    def _gone(self, k: int) -> None:
        stale = self.stale
        stale.add(k)
        if len(stale) > 64 and len(stale) > len(self.d):
            self._compact()

    def _compact(self) -> None:
        if self.stale:
            st = self.stale
            self.keys = [k for k in self.keys if k not in st]
            st.clear()

    def __iter__(self):
        self._compact()
        return iter(list(self.keys))

    def items(self):
        self._compact()
        d = self.d
        return [(k, d[k]) for k in self.keys]

    def iter_items(self):
        """(id, nack) in id order, lazily (XINFO FULL COUNT reads only the first few)."""
        self._compact()
        d = self.d
        for k in self.keys:
            yield k, d[k]

    def values(self):
        return self.d.values()

    def irange(self, minimum: int = 0, maximum: int | None = None):
        self._compact()
        keys = self.keys
        lo = bisect_left(keys, minimum)
        hi = len(keys) if maximum is None else bisect_right(keys, maximum)
        return keys[lo:hi]

    def iter_from(self, minimum: int):
        """Ids >= minimum, lazily (XAUTOCLAIM / history reads take only a few)."""
        self._compact()
        keys = self.keys
        for i in range(bisect_left(keys, minimum), len(keys)):
            yield keys[i]

    def first(self) -> int:
        self._compact()
        return self.keys[0]

    def last(self) -> int:
        self._compact()
        return self.keys[-1]


_MISSING = object()


class Nack:
    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer, now: int, count: int = 1) -> None:
        self.consumer = consumer
        self.delivery_time = now
        self.delivery_count = count


class Consumer:
    __slots__ = ("name", "seen_time", "active_time", "pel")

    def __init__(self, name: bytes, now: int) -> None:
        self.name = name
        self.seen_time = now
        self.active_time = -1  # 7.2 only (kept from RDB 21 files)
        self.pel = Pel()


class Group:
    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: int, entries_read: int = INVALID_READ) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = Pel()
        self.consumers: dict[bytes, Consumer] = {}

    def sorted_consumers(self) -> list[Consumer]:
        return [self.consumers[k] for k in sorted(self.consumers)]


class Stream:
    __slots__ = ("ids", "entries", "nodes", "node_ids", "last_id", "first_id", "max_deleted",
                 "entries_added", "groups", "rax_cache")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.entries: dict[int, tuple] = {}
        self.nodes: list[Node] = []
        self.node_ids: list[int] = []  # master id of each node (bisect to find an entry's node)
        self.last_id = 0
        self.first_id = 0
        self.max_deleted = 0
        self.entries_added = 0
        self.groups: dict[bytes, Group] | None = None
        self.rax_cache: tuple | None = None

    # No __len__: an empty stream is still a value (RDB loading keeps it).
    @property
    def length(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"<Stream len={len(self.ids)} last={fmt_id(self.last_id)!r}>"

    # --- adding ---------------------------------------------------------------------
    def append(self, eid: int, fields: tuple, max_bytes: int, max_entries: int) -> None:
        """streamAppendItem after the id checks: add the entry to the tail node (or a new one)."""
        nodes = self.nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            mb = max_bytes if 0 < max_bytes <= LISTPACK_MAX else LISTPACK_MAX
            c, d = node.count, node.deleted
            lpb = 11 + node.nbytes if c < 128 and d < 128 else node.lp_bytes()
            if lpb + sum(map(len, fields)) >= mb or (max_entries and c + d >= max_entries):
                if lpb < node.alloc:  # lpShrinkToFit of the closed node
                    node.alloc = je_size(lpb)
                node = None
        names = fields[0::2]
        if node is None:
            node = Node(eid, names)
            node.alloc = je_size(max(max_bytes if 0 < max_bytes < 4096 else 4096, 7))
            nodes.append(node)
            self.node_ids.append(eid)
            same = True
        else:
            same = names == node.mfields
        nf = len(names)
        m = node.master
        dms = (eid >> 64) - (m >> 64)
        dseq = (eid & U64) - (m & U64)
        b = 2
        b += 2 if 0 <= dms <= 127 else lp_int_size(signed64(dms))
        b += 2 if 0 <= dseq <= 127 else lp_int_size(signed64(dseq))
        # lp_str_size inlined for short strings that cannot be integers
        for x in (fields[1::2] if same else fields):
            n = len(x)
            if n < 64 and (n == 0 or not (48 <= x[0] <= 57 or x[0] == 45)):
                b += n + 2
            else:
                b += lp_str_size(x)
        if same:
            b += lp_int_size(nf + 3)
        else:
            b += lp_int_size(nf) + lp_int_size(nf * 2 + 4)
        node.nbytes += b
        if node.nbytes + 27 > node.alloc:
            lpb = node.lp_bytes()
            if lpb > node.alloc:
                node.alloc = je_size(lpb)
        node.ids.append(eid)
        node.flags.append(FLAG_SAMEFIELDS if same else 0)
        node.vals.append(fields)
        node.count += 1
        ids = self.ids
        ids.append(eid)
        self.entries[eid] = fields
        self.entries_added += 1
        self.last_id = eid
        if len(ids) == 1:
            self.first_id = eid

    # --- removing -------------------------------------------------------------------
    def delete(self, eid: int) -> bool:
        """streamDeleteItem: tombstone the entry; a node whose last live entry goes is freed."""
        if self.entries.pop(eid, None) is None:
            return False
        ids = self.ids
        del ids[bisect_left(ids, eid)]
        ni = bisect_right(self.node_ids, eid) - 1
        node = self.nodes[ni]
        j = bisect_left(node.ids, eid)
        node.flags[j] |= FLAG_DELETED
        if node.count == 1:
            del self.nodes[ni]
            del self.node_ids[ni]
        else:
            node.set_counts(node.count - 1, node.deleted + 1)
        return True

    def _drop_first_live(self, n: int) -> None:
        if n:
            ents = self.entries
            for i in self.ids[:n]:
                del ents[i]
            del self.ids[:n]

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int) -> int:
        """streamTrim: whole nodes from the head; entries inside the first remaining node
        only when trimming exactly."""
        nodes = self.nodes
        deleted = 0
        while nodes:
            if maxlen is not None and len(self.ids) <= maxlen:
                break
            node = nodes[0]
            entries = node.count
            if limit and deleted + entries > limit:
                break
            if maxlen is not None:
                remove = len(self.ids) - entries >= maxlen
            else:
                remove = node.ids[-1] < minid
            if remove:
                self._drop_first_live(entries)
                del nodes[0]
                del self.node_ids[0]
                deleted += entries
                continue
            if approx:
                break
            n = 0
            flags = node.flags
            for j, eid in enumerate(node.ids):
                if maxlen is not None:
                    if len(self.ids) - n <= maxlen:
                        break
                elif eid >= minid:
                    break
                if not flags[j] & FLAG_DELETED:
                    flags[j] |= FLAG_DELETED
                    n += 1
            self._drop_first_live(n)
            node.set_counts(node.count - n, node.deleted + n)
            deleted += n
            break
        if deleted:
            self.first_id = self.ids[0] if self.ids else 0
        return deleted

    # --- reading --------------------------------------------------------------------
    def range(self, start: int, end: int, count: int = 0, rev: bool = False) -> list[int]:
        """Ids of live entries in [start, end] (count 0 = all), oldest first unless rev."""
        ids = self.ids
        lo = bisect_left(ids, start)
        hi = bisect_right(ids, end)
        if lo >= hi:
            return []
        if rev:
            if count and hi - lo > count:
                lo = hi - count
            out = ids[lo:hi]
            out.reverse()
            return out
        if count and hi - lo > count:
            hi = lo + count
        return ids[lo:hi]

    def last_valid_id(self) -> int:
        return self.ids[-1] if self.ids else 0

    def first_edge_id(self) -> int:
        """streamGetEdgeID(first, skip_tombstones=0): tombstones count; max id when empty."""
        if not self.nodes:
            return MAX_ID
        return self.nodes[0].ids[0]

    # --- groups / lag (7.0) ---------------------------------------------------------
    def range_has_tombstones(self, start: int, end: int = MAX_ID) -> bool:
        if not self.ids or not self.max_deleted:
            return False
        if self.first_id > self.max_deleted:
            return False
        return start <= self.max_deleted <= end

    def estimate_distance(self, eid: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry (7.0.15)."""
        if not self.entries_added:
            return 0
        if not self.ids and eid < self.last_id:
            return self.entries_added
        if eid == self.last_id:
            return self.entries_added
        if eid > self.last_id:
            return INVALID_READ
        if not self.max_deleted or self.max_deleted < self.first_id:
            if eid < self.first_id:
                return self.entries_added - len(self.ids)
            if eid == self.first_id:
                return self.entries_added - len(self.ids) + 1
        return INVALID_READ

    def lag(self, g: Group) -> int | None:
        if not self.entries_added:
            return 0
        if g.entries_read != INVALID_READ and not self.range_has_tombstones(g.last_id):
            return self.entries_added - g.entries_read
        er = self.estimate_distance(g.last_id)
        if er != INVALID_READ:
            return self.entries_added - er
        return None

    def sorted_groups(self) -> list[Group]:
        g = self.groups
        return [g[k] for k in sorted(g)] if g else []

    # --- XINFO STREAM internals -----------------------------------------------------
    def rax_nodes(self) -> int:
        """Nodes of the radix tree keyed by the 16-byte big-endian master ids (rax.c keeps
        it compressed: a node per branch point, per child of a branch point, per key)."""
        nid = self.node_ids
        if not nid:
            return 1
        # nodes are only appended at the tail or removed: (count, first, last) identifies the set
        sig = (len(nid), nid[0], nid[-1])
        cache = getattr(self, "rax_cache", None)
        if cache is not None and cache[0] == sig:
            return cache[1]
        n = self._count_rax_nodes()
        self.rax_cache = (sig, n)
        return n

    def _count_rax_nodes(self) -> int:
        """Trie positions over the sorted 16-byte keys: the root, the leaves, every branching
        position and every child of one. The branching positions come from the longest common
        prefixes of neighbours (a compressed trie built with a stack)."""
        ids = sorted(self.node_ids)
        n = len(ids)
        if not n:
            return 1
        stack: list[list[int]] = []  # [depth, children, parent depth] along the rightmost path
        done: list[list[int]] = []
        prev = ids[0]
        for i in range(1, n):
            cur = ids[i]
            lcp = (128 - (prev ^ cur).bit_length()) >> 3
            prev = cur
            while stack and stack[-1][0] > lcp:
                node = stack.pop()
                node[2] = stack[-1][0] if stack and stack[-1][0] > lcp else lcp
                done.append(node)
            if stack and stack[-1][0] == lcp:
                stack[-1][1] += 1
            else:
                stack.append([lcp, 2, -1])
        while stack:
            node = stack.pop()
            node[2] = stack[-1][0] if stack else -1
            done.append(node)
        total = 1 + n
        for depth, children, parent in done:
            if depth >= 1:
                total += 1  # a branching position
                if parent == depth - 1:
                    total -= 1  # ... that is also counted as the child of a branching one
            if depth <= 14:
                total += children  # its children (leaves at depth 16 are counted in n)
        return total


def _rax_mem(numele: int, numnodes: int) -> int:
    """streamRadixTreeMemoryUsage (7.0, whose first assignment is overwritten)."""
    return numele * 16 + numnodes * 4 + numnodes * 8 * 30


def _rax_nodes_of(keys: list[int]) -> int:
    if not keys:
        return 1
    s = Stream.__new__(Stream)
    s.node_ids = keys
    return s._count_rax_nodes()


def memory_usage(s: Stream, samples: int, consumer_size: int = 24) -> int:
    """objectComputeSize for a stream (MEMORY USAGE without the key's own overhead):
    robj + stream struct, the nodes' radix tree, the listpacks (the first `samples` averaged
    over all but the last one, as Redis extrapolates; samples 0 = all), and the groups'
    PELs and consumers. `consumer_size`: sizeof(streamConsumer), 24 in Redis 7.0, 32 from 7.2
    (its active_time)."""
    size = 16 + 80 + _rax_mem(len(s.nodes), s.rax_nodes())
    nodes = s.nodes
    taken = nodes if not samples else nodes[:samples]
    lpsize = sum(n.alloc for n in taken)
    if len(nodes) <= len(taken):
        size += lpsize
    else:
        size += lpsize // len(taken) * (len(nodes) - 1) + nodes[-1].alloc
    for g in s.sorted_groups():
        pel_ids = list(g.pel)
        size += 40 + _rax_mem(len(pel_ids), _rax_nodes_of(pel_ids)) + 24 * len(pel_ids)
        for c in g.consumers.values():
            ids = list(c.pel)
            size += consumer_size + len(c.name) + _rax_mem(len(ids), _rax_nodes_of(ids))
    return size


def digest_parts(s: Stream):
    """What xorObjectDigest mixes for a stream (DEBUG DIGEST / DIGEST-VALUE), in order: per live
    entry `ms.seq`, then each field and value. Groups are not part of the digest."""
    ents = s.entries
    for i in s.ids:
        yield b"%d.%d" % (i >> 64, i & U64)
        yield from ents[i]


def copy_stream(s: Stream) -> Stream:
    c = Stream()
    c.ids = list(s.ids)
    c.entries = dict(s.entries)
    for n in s.nodes:
        m = Node.__new__(Node)
        m.master, m.mfields, m.count, m.deleted, m.nbytes = n.master, n.mfields, n.count, n.deleted, n.nbytes
        m.ids, m.flags, m.vals = list(n.ids), list(n.flags), list(n.vals)
        m.alloc = je_size(n.lp_bytes())  # lpDup
        c.nodes.append(m)
    c.node_ids = list(s.node_ids)
    c.last_id, c.first_id, c.max_deleted, c.entries_added = s.last_id, s.first_id, s.max_deleted, s.entries_added
    if s.groups is not None:
        c.groups = {}
        for name, g in s.groups.items():
            ng = Group(name, g.last_id, g.entries_read)
            for cname, cons in g.consumers.items():
                nc = Consumer(cname, cons.seen_time)
                nc.active_time = cons.active_time
                ng.consumers[cname] = nc
            for eid, nack in g.pel.items():
                nn = Nack(ng.consumers[nack.consumer.name], nack.delivery_time, nack.delivery_count)
                ng.pel[eid] = nn
                nn.consumer.pel[eid] = nn
            c.groups[name] = ng
    return c


register_type(Stream, b"stream", lambda v, cfg: b"stream")
register_copier(Stream, copy_stream)
