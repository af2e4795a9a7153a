"""One logical database: `data` (key -> value) and `expires` (key -> absolute unix ms).

Values are stored as Python objects whose type is the Redis type: `bytes` for strings, and
the classes in keyspace/types.py for the collections. Lookups perform lazy expiry: a key
whose deadline has passed is deleted on access and reported through `on_expire`, so the
dispatcher can count it, notify, and propagate a DEL - the same path the active cycle uses.

API:
    db.lookup(key) -> value | None          # lazy expiry applied
    db.set(key, value, keepttl=False)       # replaces value; clears the TTL unless keepttl
    db.add(key, value)                      # key known to be absent
    db.delete(key) -> bool
    db.set_expire(key, when_ms) / db.get_expire(key) -> ms | None / db.persist(key)
    db.expire_if_needed(key) -> bool
    db.hfe_register(key, h, when) / db.hfe_unregister(key, h)
                                            # the index of hashes with expiring fields

Hash-field expiration (Redis 7.4): `hexpires` maps the key of each hash registered for the
active expiry of its fields to the deadline it is registered under (Redis's db->hexpires,
mirrored in the hash's `hmin`, keyspace/hash.py); `hheap` orders them, entries that no longer
match `hexpires` being skipped when they come up. A key deleted, overwritten or expired
leaves the index with it; a hash stored with a registration (RENAME, MOVE, COPY, RESTORE)
joins it under its key. Both stay empty, and cost one test, while no hash has expiring
fields.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from .hash import RHash


class Database:
    __slots__ = ("id", "data", "expires", "clock_ms", "on_expire", "avg_ttl", "expired_keys", "stats",
                 "counting", "on_miss", "hexpires", "hheap", "on_fields_expired")

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
        if v is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when < self.clock_ms():
                self._expire(key)
                v = None
        if self.counting:
            # INFO keyspace_hits/misses, counted for read-only commands as Redis's lookupKeyRead
            # does (dispatch sets `counting` per command).
            if v is None:
                self.stats.keyspace_misses += 1
                if self.on_miss is not None:
                    self.on_miss(self, key)
            else:
                self.stats.keyspace_hits += 1
        return v

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def expire_if_needed(self, key: bytes) -> bool:
        when = self.expires.get(key)
        if when is not None and when < self.clock_ms():
            self._expire(key)
            return True
        return False

    def _expire(self, key: bytes) -> None:
        del self.data[key]
        del self.expires[key]
        if self.hexpires:
            self.hexpires.pop(key, None)
        self.on_expire(self, key)

    def set(self, key: bytes, value, keepttl: bool = False) -> None:
        self.data[key] = value
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        if self.hexpires and key in self.hexpires:
            self._hfe_replaced(key, value)

    def add(self, key: bytes, value) -> None:
        self.data[key] = value
        if value.__class__ is RHash and value.hmin is not None:
            self.hfe_register(key, value, value.hmin)

    def delete(self, key: bytes) -> bool:
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        if self.hexpires:
            self.hexpires.pop(key, None)
        return True

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
        self.expires[key] = when_ms

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def flush(self) -> int:
        n = len(self.data)
        self.data = {}
        self.expires = {}
        self.hexpires = {}
        self.hheap = []
        return n

    def swap_with(self, other: Database) -> None:
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self.hexpires, other.hexpires = other.hexpires, self.hexpires
        self.hheap, other.hheap = other.hheap, self.hheap
