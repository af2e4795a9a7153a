"""The active expiry cycle, like Redis's activeExpireCycle: reclaim keys whose TTL passed
but that nobody touches.

Each database is swept in order over a snapshot of its TTL'd keys (taken when the previous
sweep ends); a cycle looks at up to `KEYS_PER_LOOP` keys per database and repeats while more
than `ACCEPTABLE_STALE` percent of what it looked at had expired, within a time budget of
25% of one cron tick, as Redis does. When the budget runs out the cycle stops (the next cron
tick resumes where it left off) and `time_cap_reached` counts it.

Expired keys go through Database.expire_if_needed, hence the same path as lazy expiry:
ServerState counts them in stats.expired_keys and its expire_hooks propagate a DEL.

Hash fields with a deadline (HEXPIRE, Redis 7.4) are reclaimed first in each database, as
Redis's activeExpireHashFieldCycle: the hashes registered in `db.hexpires` under a deadline
that has come are visited in deadline order, their due fields deleted (at most
FIELDS_PER_SEC / hz per database and cycle), and each hash registered again under its next
deadline, or dropped from the index when it has none left; a hash left empty is deleted.
`db.on_fields_expired` (ServerState) counts, notifies and propagates what was removed.

The cycle also keeps `db.avg_ttl` (INFO keyspace) the way Redis does: a running average of
the remaining TTL of the live keys it samples.

`no_lazy_expiry(dbs)`: Redis expires nothing while loading (keyIsExpired is 0 when
server.loading): an AOF replayed after a key's deadline must still find the key, or e.g.
`SET k v PXAT t` + `APPEND k x` would leave a "x" without TTL behind. AOF/RDB loaders wrap
the replay in it.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .database import Database

KEYS_PER_LOOP = 20
ACCEPTABLE_STALE = 10  # percent
SLOW_TIME_PERC = 25
FIELDS_PER_SEC = 10000  # HFE_DB_BASE_ACTIVE_EXPIRE_FIELDS_PER_SEC


class ActiveExpiry:
    def __init__(self) -> None:
        self._snapshots: dict[int, tuple[list[bytes], int]] = {}
        self.stale_perc = 0.0
        self.time_cap_reached = 0

    def cycle(self, dbs: list[Database], now_ms: int, hz: int, effort: int = 1) -> int:
        per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP // 4 * (effort - 1)
        stale = ACCEPTABLE_STALE - (effort - 1)
        budget_s = SLOW_TIME_PERC / 100.0 / max(hz, 1) * (1 + (effort - 1) / 4)
        perf = time.perf_counter
        deadline = perf() + budget_s
        expired_total = sampled_total = 0
        snapshots = self._snapshots
        timed_out = False
        field_quota = FIELDS_PER_SEC // max(hz, 1)
        for db in dbs:
            if db.hheap and db.hheap[0][0] <= now_ms:
                expire_hash_fields(db, now_ms, field_quota)
            if not db.expires:
                db.avg_ttl = 0
                snapshots.pop(db.id, None)
                continue
            while db.expires:
                keys, pos = snapshots.get(db.id, ((), 0))
                if pos >= len(keys):
                    keys, pos = list(db.expires), 0
                # A window holds per_loop keys that still have a TTL; entries of the snapshot
                # that were deleted or persisted since are skipped without counting (up to a
                # bound, so that the time budget is still checked regularly).
                n = len(keys)
                limit = min(n, pos + per_loop * 20)
                sampled = expired = 0
                ttl_sum = ttl_samples = 0
                expires = db.expires
                i = pos
                while i < limit and sampled < per_loop:
                    k = keys[i]
                    i += 1
                    when = expires.get(k)
                    if when is None:
                        continue
                    sampled += 1
                    if when < now_ms:
                        if db.expire_if_needed(k):
                            expired += 1
                    else:
                        ttl_sum += when - now_ms
                        ttl_samples += 1
                snapshots[db.id] = (keys, i)
                expired_total += expired
                sampled_total += sampled
                if ttl_samples:
                    avg = ttl_sum // ttl_samples
                    # Smooth like Redis: weight of the new estimate 2%.
                    db.avg_ttl = avg if not db.avg_ttl else (db.avg_ttl // 50) * 49 + avg // 50
                if perf() > deadline:
                    timed_out = True
                    break
                if expired * 100 <= sampled * stale and (sampled or i >= n):
                    break
            if timed_out:
                self.time_cap_reached += 1
                break
        if sampled_total:
            cur = expired_total / sampled_total
            self.stale_perc = cur * 0.05 + self.stale_perc * 0.95
        return expired_total


def expire_hash_fields(db: Database, now_ms: int, quota: int) -> int:
    """Delete the due fields of the hashes registered under a deadline <= now_ms, at most
    `quota` fields (hashTypeDbActiveExpire). Returns how many were deleted."""
    from .hash import expire_due

    heap = db.hheap
    registered = db.hexpires
    done = 0
    while heap and heap[0][0] <= now_ms and done < quota:
        when, key = heapq.heappop(heap)
        if registered.get(key) != when:
            continue  # stale: the hash left the index or was registered again since
        h = db.data[key]
        fields, deleted = expire_due(db, key, h, now_ms, quota - done)
        done += len(fields)
        if not deleted:
            nxt = h.min_ttl()
            if nxt is None:
                db.hfe_unregister(key, h)
            else:
                db.hfe_register(key, h, nxt)
        if fields and db.on_fields_expired is not None:
            db.on_fields_expired(db, key, fields, deleted)
        heap = db.hheap  # hfe_register may have compacted it
    return done


_BEFORE_ANY_DEADLINE = -(1 << 63)


def _before_any_deadline() -> int:
    return _BEFORE_ANY_DEADLINE


@contextmanager
def no_lazy_expiry(dbs: list[Database]) -> Iterator[None]:
    """Within the block, lookups see every key as alive (their clock reads LLONG_MIN)."""
    saved = [db.clock_ms for db in dbs]
    for db in dbs:
        db.clock_ms = _before_any_deadline
    try:
        yield
    finally:
        for db, clock in zip(dbs, saved):
            db.clock_ms = clock
