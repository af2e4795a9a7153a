"""One logical database: `data` (key -> value) and `expires` (key -> absolute unix ms).

Values are stored as Python objects whose type is the Redis type: `bytes` for strings, and
the classes in keyspace/types.py for the collections. Lookups perform lazy expiry: a key
whose deadline has passed is deleted on access and reported through `on_expire`, so the
dispatcher can count it, notify, and propagate a DEL - the same path the active cycle uses.

Beside the values, the database keeps what Redis keeps in each robj:
  * `lru`: key -> the robj `lru` field (keyspace/lru.py): the LRU clock of the last access,
    or under an LFU policy the LFU field. `lookup` touches it - once per lookup, one dict
    store (LRU) - unless the command must not (`lookup_notouch`: TTL, TYPE, EXISTS, OBJECT,
    as Redis's LOOKUP_NOTOUCH). `lru_now` is the server's LRU clock (set by its cron),
    `lfu` the LFU arithmetic while an LFU policy is selected (None otherwise).
  * `used`: the estimated bytes of the keys' sds and the values as redis-server would hold
    them (keyspace/memsize.py), kept on every write: strings are priced from their bytes,
    collections when stored and again after each in-place change (`resized`, which
    ctx.touched calls); `sizes` remembers the estimate recorded for each collection so the
    difference can be applied. INFO's used_memory adds the dict entries and buckets (from
    the lengths) and the clients.
Deleted values that are large (free_effort > 64) can be handed to `free_async` (the lazy
free of core/lazyfree.py) instead of being dropped here: `delete(key, lazy=True)`, the lazy
expiry under `lazy_expire`, `set` overwriting under `lazy_server_del`, `flush(lazy=True)`.

API:
    db.lookup(key) -> value | None          # lazy expiry applied, access time touched
    db.lookup_notouch(key) -> value | None  # the same without the touch (TTL, TYPE, ...)
    db.set(key, value, keepttl=False)       # replaces value; clears the TTL unless keepttl
    db.replace_int(key, old, new)           # a looked-up integer replaced, TTL kept (INCR)
    db.add(key, value)                      # key known to be absent
    db.delete(key, lazy=None) -> bool          # lazy: None = lazyfree-lazy-server-del
    db.resized(key) / db.refresh()          # a collection changed in place / re-estimate the changed
    db.set_expire(key, when_ms) / db.get_expire(key) -> ms | None / db.persist(key)
    db.expire_if_needed(key) -> bool        # True: the key is expired (deleted unless keep_expired)
    db.keep_expired                         # a replica, paused clients: expired keys stay
    db.flush(lazy=False) -> int / db.swap_with(other)
    db.hfe_register(key, h, when) / db.hfe_unregister(key, h)
                                            # the index of hashes with expiring fields

Hash-field expiration (Redis 7.4): `hexpires` maps the key of each hash registered for the
active expiry of its fields to the deadline it is registered under (Redis's db->hexpires,
mirrored in the hash's `hmin`, keyspace/hash.py); `hheap` orders them, entries that no longer
match `hexpires` being skipped when they come up. A key deleted, overwritten or expired
leaves the index with it (`_remove`); a hash stored with a registration (RENAME, MOVE, COPY,
RESTORE) joins it under its key. Both stay empty, and cost one test, while no hash has
expiring fields.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from .hash import RHash

from .lru import LRU_CLOCK_MAX, estimate_idle_ms
from .memsize import ENTRY, free_effort, key_size, string_key_size, string_size, value_size

LAZYFREE_THRESHOLD = 64
_BYTES = {bytes}


class Database:
    __slots__ = ("id", "data", "expires", "clock_ms", "on_expire", "avg_ttl", "expired_keys", "stats",
                 "counting", "on_miss", "lru", "lru_now", "lfu", "used", "sizes", "free_async",
                 "lazy_expire", "lazy_server_del", "in_use", "slots", "eslots", "expand_allowed", "stale", "keep_expired",
                 "hexpires", "hheap", "on_fields_expired", "on_set_expire", "made", "emade")

    def __init__(self, dbid: int, clock_ms: Callable[[], int], on_expire: Callable[[Database, bytes], None]) -> None:
        self.id = dbid
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        # Returns the time of the command being executed (one clock read per command).
        self.clock_ms = clock_ms
        self.on_expire = on_expire
        self.stats = None  # the server's Stats (keyspace hits/misses), set by ServerState
        self.counting = False
        self.on_miss = None  # keyspace "keymiss" events (class m), installed by ServerState
        self.avg_ttl = 0
        # On a replica (until its master's DEL arrives) and while clients are paused (CLIENT
        # PAUSE) an expired key reads as missing but is not deleted (Redis's expireIfNeeded).
        self.keep_expired = False
        self.on_set_expire: Callable[[Database, bytes], None] | None = None
        self.lru: dict[bytes, int] = {}
        self.lru_now = 0
        self.lfu = None
        self.used = 0
        self.sizes: dict[bytes, int] = {}
        self.stale: set[bytes] = set()  # collections changed since `sizes` recorded them
        # (value or old table, objects[, bytes, is a table]): the lazy free
        self.free_async: Callable[..., None] | None = None
        self.lazy_expire = False
        self.lazy_server_del = False
        self.in_use: list | None = None  # the server's databases in use: joined with the first key
        # The bucket counts Redis's two dicts would have (used_memory: 8 bytes each): they
        # double when full, unless expand_allowed(extra bytes, fill ratio) says no (Redis's
        # dictExpandAllowed under maxmemory; forced past a fill of 1.618), and shrink in the
        # cron (resize_tables).
        self.slots = 0
        self.eslots = 0
        # the tables were made (a first key, a first expire) since the database began or an
        # async flush replaced them: Redis 7.4's kvstore makes its dicts on demand (DEBUG HTSTATS)
        self.made = False
        self.emade = False
        self.expand_allowed: Callable[[int, float], bool] | None = None
        self.hexpires: dict[bytes, int] = {}
        self.hheap: list[tuple[int, bytes]] = []
        # (db, key, fields, hash_deleted): fields the active expiry removed (ServerState
        # counts, notifies and propagates them)
        self.on_fields_expired = None

    def __len__(self) -> int:
        return len(self.data)

    # A key expires once the clock is past its deadline (Redis's keyIsExpired: now > when).
    def lookup(self, key: bytes):
        v = self.data.get(key)
        if v is not None:
            if self.expires:
                when = self.expires.get(key)
                if when is not None and when < self.clock_ms():
                    self._expire(key)
                    return self._missed(key)
            if self.lfu is None:
                self.lru[key] = self.lru_now
            else:
                self.lru[key] = self.lfu.touch(self.lru.get(key, 0))
            if self.counting:
                self.stats.keyspace_hits += 1
            return v
        if self.counting:
            return self._missed(key)
        return None

    def lookup_notouch(self, key: bytes):
        """lookupKeyReadWithFlags(LOOKUP_NOTOUCH): expiry and hit/miss counting, no touch."""
        if self.expires and self.expire_if_needed(key):
            return self._missed(key)
        v = self.data.get(key)
        if v is None:
            return self._missed(key)
        if self.counting:
            self.stats.keyspace_hits += 1
        return v

    def _missed(self, key: bytes) -> None:
        # INFO keyspace_hits/misses, counted for read-only commands as Redis's lookupKeyRead
        # does (dispatch sets `counting` per command).
        if self.counting:
            self.stats.keyspace_misses += 1
            if self.on_miss is not None:
                self.on_miss(self, key)
        return None

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def expire_if_needed(self, key: bytes) -> bool:
        when = self.expires.get(key)
        if when is not None and when < self.clock_ms():
            self._expire(key)
            return True
        return False

    def _expire(self, key: bytes, force: bool = False) -> None:
        if self.keep_expired and not force:
            return
        self._remove(key, self.lazy_expire)
        del self.expires[key]
        self.on_expire(self, key)

    # --- writes ------------------------------------------------------------------------
    def set(self, key: bytes, value, keepttl: bool = False, _bytes=bytes, _len=len, _price=string_size) -> None:
        data = self.data
        old = data.get(key)
        data[key] = value
        if old.__class__ is _bytes and value.__class__ is _bytes:
            # the hot path (a string over a string): same length and same int-ness, same price
            n = _len(value)
            if n != _len(old) or (n < 20 and value.isdigit() is not old.isdigit()):
                self.used += _price(value) - _price(old)
            if self.lfu is None:  # a new object: the access time is now (LFU: dbOverwrite keeps it)
                self.lru[key] = self.lru_now
            if not keepttl and self.expires:
                self.expires.pop(key, None)
            return
        if old is None and value.__class__ is _bytes:
            # a new string key (SET, MSET, the AOF's load): no hash-field index can name it
            if not keepttl and self.expires:
                self.expires.pop(key, None)
            self.used += key_size(key) + _price(value)
            self.lru[key] = self.lru_now if self.lfu is None else self.lfu.initial()
            n = _len(data)
            if n > self.slots:
                self._expand(n)
            return
        self._set_slow(key, value, old)
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        if self.hexpires and key in self.hexpires:
            self._hfe_replaced(key, value)

    def set_strings(self, keys, values) -> None:
        """set(key, value) for each pair in order, TTLs cleared: MSET, and a run of SETs read
        back from an AOF (a million keys pay a few calls, not a million). Strings over strings
        or over nothing, under the LRU clock and no memory limit on the table's growth, are
        stored by the dict's own bulk operations; anything else pair by pair."""
        data = self.data
        # (fewer than eight: the bulk operations' set-up would cost more than they save)
        if len(keys) < 8 or self.lfu is not None or self.expand_allowed is not None or set(map(type, values)) != _BYTES:
            self._set_strings_one_by_one(keys, values)
            return
        present = data.keys() & keys
        olds = [data[k] for k in present]
        if set(map(type, olds)) - _BYTES:
            self._set_strings_one_by_one(keys, values)
            return
        n0 = len(data)
        data.update(zip(keys, values))
        n = len(data)
        if n - n0 + len(present) == len(keys):  # no key twice: each pair priced as it is
            self.used += (sum(map(string_key_size, keys, values)) - sum(map(key_size, present))
                          - sum(map(string_size, olds)))
        else:  # the last value of a key repeated is the one stored
            distinct = dict.fromkeys(keys)
            self.used += (sum(string_key_size(k, data[k]) for k in distinct) - sum(map(key_size, present))
                          - sum(map(string_size, olds)))
        expires = self.expires
        if expires and not expires.keys().isdisjoint(keys):
            for k in keys:
                expires.pop(k, None)
        self.lru.update(dict.fromkeys(keys, self.lru_now))
        if n > self.slots:
            if n0 == 0:
                self._expand(1)  # the first key makes the table
            if n > self.slots:
                self._expand(n)

    def _set_strings_one_by_one(self, keys, values) -> None:
        for key, value in zip(keys, values):
            self.set(key, value)

    def replace_int(self, key: bytes, old: bytes, new: bytes) -> None:
        """INCR and the like: a canonical integer over the integer `old` the caller just looked
        up (which touched the key), the TTL kept. Non-negative integers are priced alike (the
        robj alone, keyspace/memsize.py), so only a sign can change the price."""
        self.data[key] = new
        if new[0] == 45 or old[0] == 45:  # b"-"
            self.used += string_size(new) - string_size(old)

    def _set_slow(self, key: bytes, value, old) -> None:
        # a collection's estimate is recorded in `sizes` (_record returns the change over
        # what was recorded for the key)
        size = string_size(value) if type(value) is bytes else self._record(key, value)
        if old is None:
            self.used += key_size(key) + size
            self.lru[key] = self.lru_now if self.lfu is None else self.lfu.initial()
            n = len(self.data)
            if n > self.slots:
                self._expand(n)
            return
        if type(old) is bytes:
            size -= string_size(old)
        else:
            if type(value) is bytes:
                size -= self.sizes.pop(key, 0)
            if old is not value and self.lazy_server_del:
                self._free(old)
        self.used += size
        if self.lfu is None:
            self.lru[key] = self.lru_now

    def _record(self, key: bytes, value) -> int:
        """Record the estimate of a collection stored at key; returns the change of `used`
        over what was recorded before (0 for a key without a collection)."""
        sizes = self.sizes
        size = value_size(value)
        old = sizes.get(key, 0)
        sizes[key] = size
        return size - old

    def add(self, key: bytes, value, lru: int | None = None) -> None:
        """A new key. `lru`: the access field to keep (RENAME and MOVE move the object itself
        in Redis, with its LRU/LFU field); a new object's otherwise."""
        self.data[key] = value
        self.used += key_size(key) + (string_size(value) if type(value) is bytes else self._record(key, value))
        if lru is None:
            lru = self.lru_now if self.lfu is None else self.lfu.initial()
        self.lru[key] = lru
        n = len(self.data)
        if n > self.slots:
            self._expand(n)
        if value.__class__ is RHash and value.hmin is not None:
            self.hfe_register(key, value, value.hmin)

    def _expand(self, n: int) -> None:
        """The keys dict now holds n > slots entries: it grows (the first key makes it)."""
        self.slots = self._grown(n, self.slots)
        if n == 1:
            self.made = True
            self._join()

    def _grown(self, n: int, slots: int) -> int:
        """_dictExpandIfNeeded for a dict that now holds n entries in `slots` buckets."""
        if slots == 0:
            return 4  # DICT_HT_INITIAL_SIZE
        new = 1 << (n - 1).bit_length()
        allowed = self.expand_allowed
        if allowed is not None and not allowed(8 * (new - slots), (n - 1) / slots):
            return slots
        return new

    def resize_tables(self) -> None:
        """tryResizeHashTables (the cron): a dict filled below 10% shrinks to fit."""
        for attr, n in (("slots", len(self.data)), ("eslots", len(self.expires))):
            slots = getattr(self, attr)
            if slots > 4 and n * 100 // slots < 10:
                setattr(self, attr, max(4, 1 << (n - 1).bit_length()) if n else 0)

    def _join(self) -> None:
        if self.in_use is not None and self not in self.in_use:
            self.in_use.append(self)

    def resized(self, key: bytes) -> None:
        """A collection at key changed in place: its estimate is taken again at the next
        refresh() (a push onto a long list costs a set insertion, not an estimate)."""
        if key in self.sizes:
            self.stale.add(key)

    def refresh(self) -> None:
        """Re-estimate the collections changed since their estimate was recorded; `used` is
        exact again (what used_memory reads first)."""
        sizes = self.sizes
        data = self.data
        for key in self.stale:
            if key in sizes:
                self.used += self._record(key, data[key])
        self.stale.clear()

    def _remove(self, key: bytes, lazy: bool):
        """Take key out of data (not expires), keeping `used`, `lru` and `sizes` in step."""
        v = self.data.pop(key)
        self.used -= key_size(key) + (string_size(v) if type(v) is bytes else self.sizes.pop(key, 0))
        self.lru.pop(key, None)
        if self.hexpires:
            self.hexpires.pop(key, None)
        if lazy:
            self._free(v)
        return v

    def _free(self, v) -> None:
        """freeObjAsync: values with more than LAZYFREE_THRESHOLD allocations go to the lazy
        free (the caller drops its reference); the others are dropped here."""
        if self.free_async is not None and type(v) is not bytes and free_effort(v) > LAZYFREE_THRESHOLD:
            self.free_async(v, 1)

    def delete(self, key: bytes, lazy: bool | None = None) -> bool:
        """dbDelete: lazily (large values to the lazy free) when `lazy`, by default under
        lazyfree-lazy-server-del. A value still referenced elsewhere (RENAME's) is only
        released by the lazy free, never taken apart."""
        if key not in self.data:
            return False
        self._remove(key, self.lazy_server_del if lazy is None else lazy)
        if self.expires:
            self.expires.pop(key, None)
        return True

    # --- the access clocks (keyspace/lru.py) -------------------------------------------
    def idle_ms(self, key: bytes) -> int:
        """estimateObjectIdleTime of the key's value (LRU policies)."""
        return estimate_idle_ms(self.lru_now, self.lru.get(key, self.lru_now))

    def freq(self, key: bytes, lfu) -> int:
        """LFUDecrAndReturn of the key's value, with the server's LFU settings."""
        return lfu.counter(self.lru.get(key, 0))

    def set_access(self, key: bytes, freq: int, idle_s: int) -> bool:
        """objectSetLRUOrLFU (RESTORE IDLETIME/FREQ, the RDB IDLE/FREQ opcodes): under an LFU
        policy a frequency >= 0 sets the counter; otherwise an idle time >= 0 (seconds) sets
        the LRU clock back. Returns whether something was set."""
        if self.lfu is not None:
            if freq >= 0:
                self.lru[key] = (self.lfu.minutes << 8) | freq
                return True
        elif idle_s >= 0:
            lru_abs = self.lru_now - idle_s
            if lru_abs < 0:
                lru_abs += LRU_CLOCK_MAX
            self.lru[key] = lru_abs
            return True
        return False

    # --- the index of hashes with expiring fields ----------------------------------------
    def hfe_register(self, key: bytes, h: RHash, when: int) -> None:
        """(Re-)register the hash stored at key under `when` (hashTypeAddToExpires)."""
        h.hmin = when
        self.hexpires[key] = when
        heap = self.hheap
        heapq.heappush(heap, (when, key))
        if len(heap) > 64 and len(heap) > 2 * len(self.hexpires):
            # drop the stale entries once they outnumber the live ones
            self.hheap = [(w, k) for k, w in self.hexpires.items()]
            heapq.heapify(self.hheap)

    def hfe_unregister(self, key: bytes, h: RHash) -> None:
        h.hmin = None
        self.hexpires.pop(key, None)

    def _hfe_replaced(self, key: bytes, value) -> None:
        """set() stored `value` over a registered hash."""
        del self.hexpires[key]
        if value.__class__ is RHash and value.hmin is not None:
            self.hfe_register(key, value, value.hmin)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        expires = self.expires
        expires[key] = when_ms
        if self.on_set_expire is not None:  # a writable replica remembers its own keys' TTLs
            self.on_set_expire(self, key)
        n = len(expires)
        if n > self.eslots:
            self.eslots = self._grown(n, self.eslots)
            self.emade = True

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def flush(self, lazy: bool = False) -> int:
        """Empty the database; with lazy, the old tables go to the lazy free whole (emptyDbAsync)."""
        n = len(self.data)
        old = self.data
        nbytes = self.used + ENTRY * (n + len(self.expires))
        self.data = {}
        self.expires = {}
        self.hexpires = {}
        self.hheap = []
        self.lru = {}
        self.sizes = {}
        self.stale = set()
        self.used = 0
        self.slots = self.eslots = 0
        if lazy:  # emptyDbAsync: new tables, made on demand
            self.made = self.emade = False
        if lazy and self.free_async is not None:
            self.free_async(old, n, nbytes, True)
        return n

    def swap_with(self, other: Database) -> None:
        for name in ("data", "expires", "lru", "sizes", "stale", "used", "slots", "eslots", "hexpires", "hheap",
                     "made", "emade"):
            a, b = getattr(self, name), getattr(other, name)
            setattr(self, name, b)
            setattr(other, name, a)
        for db in (self, other):
            if db.data:
                db._join()
