"""The active expiry cycle, like Redis's activeExpireCycle: reclaim keys whose TTL passed
but that nobody touches.

Each database is swept in order over a snapshot of its TTL'd keys (taken when the previous
sweep ends); a cycle looks at up to `KEYS_PER_LOOP` keys per database and repeats while more
than `ACCEPTABLE_STALE` percent of what it looked at had expired, within a time budget of
25% of one cron tick, as Redis does.
"""

from __future__ import annotations

import time

from .database import Database

KEYS_PER_LOOP = 20
ACCEPTABLE_STALE = 10  # percent
SLOW_TIME_PERC = 25


class ActiveExpiry:
    def __init__(self) -> None:
        self._snapshots: dict[int, tuple[list[bytes], int]] = {}
        self.stale_perc = 0.0
        self.time_cap_reached = 0

    def cycle(self, dbs: list[Database], now_ms: int, hz: int, effort: int = 1) -> int:
        per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP // 4 * (effort - 1)
        stale = ACCEPTABLE_STALE - (effort - 1)
        budget_s = SLOW_TIME_PERC / 100.0 / max(hz, 1) * (1 + (effort - 1) / 4)
        deadline = time.perf_counter() + budget_s
        expired_total = sampled_total = 0
        for db in dbs:
            while db.expires:
                keys, pos = self._snapshots.get(db.id, ((), 0))
                if pos >= len(keys):
                    keys, pos = list(db.expires), 0
                end = min(pos + per_loop, len(keys))
                sampled = expired = 0
                expires = db.expires
                for i in range(pos, end):
                    k = keys[i]
                    when = expires.get(k)
                    if when is None:
                        continue
                    sampled += 1
                    if when <= now_ms:
                        db.expire_if_needed(k)
                        expired += 1
                self._snapshots[db.id] = (keys, end)
                expired_total += expired
                sampled_total += sampled
                if time.perf_counter() > deadline:
                    self.time_cap_reached += 1
                    break
                if sampled == 0 or expired * 100 <= sampled * stale:
                    break
        if sampled_total:
            cur = expired_total / sampled_total
            self.stale_perc = cur * 0.05 + self.stale_perc * 0.95
        return expired_total
