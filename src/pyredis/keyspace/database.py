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
    db.expire_if_needed(key) -> bool        # True: the key is expired (deleted unless keep_expired)
    db.keep_expired                         # a replica: expired keys wait for the master's DEL
"""

from __future__ import annotations

from collections.abc import Callable


class Database:
    __slots__ = ("id", "data", "expires", "clock_ms", "on_expire", "avg_ttl", "expired_keys", "stats",
                 "counting", "on_miss", "keep_expired")

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
        # A replica's databases: an expired key is reported missing but stays until its
        # master's DEL arrives (Redis's expireIfNeeded with masterhost set).
        self.keep_expired = False

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
        if self.keep_expired:
            return
        del self.data[key]
        del self.expires[key]
        self.on_expire(self, key)

    def set(self, key: bytes, value, keepttl: bool = False) -> None:
        self.data[key] = value
        if not keepttl and self.expires:
            self.expires.pop(key, None)

    def add(self, key: bytes, value) -> None:
        self.data[key] = value

    def delete(self, key: bytes) -> bool:
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        return True

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
        return n

    def swap_with(self, other: Database) -> None:
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
