"""maxmemory (Redis 7.0 evict.c): used_memory, the eviction pool and performEvictions, the
OOM decision of dispatch's `oom` step, and the per-key access clocks' upkeep.

used_memory is an estimate of what redis-server would use for the same state (see
keyspace/memsize.py for the values): the startup allocation, every database's keys and
values (Database.used) plus its two dicts' entries and bucket arrays, the clients (38 KB each
while active, 2.3 KB once idle: Redis's buffers as clientsCron leaves them) and what the lazy
free has not released yet. It costs O(databases in use), never a walk of the keys.

Eviction follows evict.c: before each command (dispatch's oom step, while maxmemory is set)
perform() compares used_memory (minus the lazy free's pending bytes, which are released
between commands) with maxmemory and, over it, evicts keys until enough memory is freed:

  * LRU / LFU / volatile-ttl: every database with keys contributes maxmemory-samples random
    keys (keyspace/dictsample.py) to the eviction pool (EVPOOL_SIZE 16 entries, ascending
    "idle": idle time, 255 - LFU counter, or ULLONG_MAX - expire time); the best entry whose
    key still exists is evicted.
  * allkeys-random / volatile-random: a random key of the next database with keys.
Each eviction deletes the key (lazily under lazyfree-lazy-eviction), counts evicted_keys,
signals WATCH/tracking, fires the `evicted` keyspace event and propagates DEL/UNLINK. Every
16 keys it checks the time against maxmemory-eviction-tenacity's limit; past it, it stops and
continues in the next event-loop iterations (Redis's evictionTimeProc) until the memory is
under the limit or nothing is left to evict. perform() answers EVICT_OK, EVICT_RUNNING or
EVICT_FAIL; FAIL makes the oom step refuse denyoom commands.

API:
    ev = state.evictor                 # created by ServerState
    ev.used_memory() -> int            ev.dataset() / ev.clients_memory() / ev.startup
    ev.perform() -> EVICT_OK | EVICT_RUNNING | EVICT_FAIL
    ev.oom_check(c, spec, argv) -> error text | None   # dispatch's oom step
    ev.update_clocks()                 # the LRU clock and LFU minutes (cron, DEBUG CLOCK)
    denyoom(state, spec, argv) -> bool # getCommandFlags' CMD_DENYOOM (scripts' own flags)
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left

from ..errors import OOM
from .cmdflags import SCRIPT_COMMANDS, script_flags
from ..keyspace.dictsample import random_key, sample_keys
from ..keyspace.lru import LFU, LRU_CLOCK_MAX, lfu_minutes, lru_clock
from ..keyspace.memsize import BUCKET, ENTRY, key_size, string_size

EVPOOL_SIZE = 16
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
ULLONG_MAX = (1 << 64) - 1

# What redis-server 7.0 allocates before any key or client (INFO used_memory_startup, measured
# with jemalloc 5.3: 868,944 bytes plus 448 per database), and per connected client: about
# 38 KB while it is active (its query and reply buffers, 16 KB each, and the struct), 2.3 KB
# once clientsCron has shrunk the buffers of a client idle for 2 seconds.
STARTUP_BASE = 868_944
STARTUP_PER_DB = 448
CLIENT_ACTIVE = 38_000
CLIENT_IDLE = 2_300
CLIENT_IDLE_AFTER = 2.0


def tenacity_limit_us(tenacity: int) -> float:
    """evictionTimeLimitUs: 50 us per point up to 10, then +15% per point; 100 is unlimited."""
    if tenacity <= 10:
        return 50.0 * tenacity
    if tenacity < 100:
        return 500.0 * pow(1.15, tenacity - 10.0)
    return float("inf")


class Evictor:
    def __init__(self, state) -> None:
        self.state = state
        cfg = state.config
        self.startup = STARTUP_BASE + STARTUP_PER_DB * len(state.dbs)
        self.in_use: list = state.dbs_in_use
        # the eviction pool, at most EVPOOL_SIZE entries in ascending score ("idle": idle time,
        # 255 - LFU counter, or ULLONG_MAX - expire time): the scores and (key, dbid) pairs
        self.pool_idle: list[int] = []
        self.pool: list[tuple] = []
        self.next_db = 0
        self.timer_running = False
        self.rand = random.random
        self.exceeded_since = 0.0  # monotonic seconds when used memory went over the limit
        self.total_exceeded_us = 0
        self.peak = 0
        self.clients_mem = 0
        self.clients_seen = 0
        self.lfu = LFU(cfg["lfu-log-factor"], cfg["lfu-decay-time"])
        self.maxmemory = 0
        self.policy = ""
        self._policy(cfg["maxmemory-policy"])
        self._maxmemory(cfg["maxmemory"])
        cfg.on_change("maxmemory", self._maxmemory_changed)
        cfg.on_change("maxmemory-policy", self._policy)
        self.samples = cfg["maxmemory-samples"]
        cfg.on_change("maxmemory-samples", lambda v: setattr(self, "samples", v))
        cfg.on_change("lfu-log-factor", lambda v: setattr(self.lfu, "log_factor", v))
        cfg.on_change("lfu-decay-time", lambda v: setattr(self.lfu, "decay_time", v))
        self.update_clocks()

    # --- configuration -----------------------------------------------------------------
    def _maxmemory(self, v: int) -> None:
        from .dispatch import GATE_OOM

        self.maxmemory = v
        self.state.set_gate(GATE_OOM, v != 0)
        for db in self.state.dbs:
            db.expand_allowed = self.expand_allowed if v else None

    def expand_allowed(self, more: int, fill: float) -> bool:
        """dictExpandAllowed: below a fill of 1.618 a dict does not grow when the new bucket
        array would take used memory over maxmemory."""
        return fill > 1.618 or self.counted_memory() + more <= self.maxmemory

    def _maxmemory_changed(self, v: int) -> None:
        """updateMaxmemory: warn when already over, start evicting in the background."""
        self._maxmemory(v)
        if v:
            used = self.used_memory()
            if v < used:
                log = getattr(self.state.server, "log", None)
                if log is not None:
                    log("warning", f"WARNING: the new maxmemory value set via CONFIG SET ({v}) is smaller than the "
                                   f"current memory usage ({used}). This will result in key eviction and/or the "
                                   "inability to accept new write commands depending on the maxmemory-policy.")
            self._start_timer()

    def _policy(self, v: str) -> None:
        self.policy = v
        self.allkeys = v.startswith("allkeys")
        self.kind = v.split("-")[1] if "-" in v else ""  # lru | lfu | ttl | random | "" (noeviction)
        lfu = self.lfu if self.kind == "lfu" else None
        for db in self.state.dbs:
            db.lfu = lfu
        self.pool.clear()
        self.pool_idle.clear()

    def update_clocks(self) -> None:
        """The LRU clock (seconds, 24 bits) and the LFU minute clock, from the server clock:
        Redis refreshes server.lruclock in serverCron; so does pyredis's cron."""
        ms = self.state.clock_ms()
        clock = lru_clock(ms)
        for db in self.state.dbs:
            db.lru_now = clock
        self.lfu.minutes = lfu_minutes(ms)

    # --- memory --------------------------------------------------------------------------
    def dataset(self) -> int:
        """Keys, values, entries and buckets of every database."""
        total = 0
        for db in self.in_use:
            if db.stale:
                db.refresh()
            total += db.used + ENTRY * (len(db.data) + len(db.expires)) + BUCKET * (db.slots + db.eslots)
        return total

    def clients_memory(self) -> int:
        """The clients' buffers as of the last cron tick (clientsCron's figures), plus the
        clients connected since at the active rate."""
        n = len(self.state.clients)
        if n > self.clients_seen:
            return self.clients_mem + (n - self.clients_seen) * CLIENT_ACTIVE
        return self.clients_mem

    def _count_clients(self) -> None:
        now = time.time()
        mem = 0
        clients = self.state.clients.values()
        for c in clients:
            mem += CLIENT_ACTIVE if now - c.last_interaction < CLIENT_IDLE_AFTER else CLIENT_IDLE
        self.clients_mem = mem
        self.clients_seen = len(clients)

    def used_memory(self) -> int:
        return self.startup + self.dataset() + self.clients_memory() + self.state.lazyfree.pending_bytes

    def overhead(self) -> dict:
        """getMemoryOverheadData over the model: the parts of used_memory that are not the
        dataset (per database with keys: Redis's own arithmetic, 24-byte entries, 8 per
        bucket, 16 per key for its robj), and the derived dataset figures."""
        st = self.state
        self._count_clients()
        used = self.used_memory()
        if used > self.peak:
            self.peak = used
        clients = self.clients_memory()
        total = self.startup + clients
        dbs = []
        keys = 0
        for db in st.dbs:
            n = len(db.data)
            if not n:
                continue
            e = len(db.expires)
            main = n * 24 + db.slots * 8 + n * 16
            expires = e * 24 + db.eslots * 8
            # (the last figure: the buckets' pointer arrays, 7.4's overhead.db.hashtable.lut)
            dbs.append((db.id, main, expires, (db.slots + db.eslots) * 8))
            total += main + expires
            keys += n
        net = used - self.startup if used > self.startup else 1
        dataset = used - total
        return {"used": used, "peak": self.peak, "startup": self.startup, "clients_normal": clients,
                "dbs": dbs, "overhead_total": total, "keys": keys, "dataset": dataset,
                "dataset_perc": dataset * 100.0 / net, "bytes_per_key": net // keys if keys else 0,
                "peak_perc": used * 100.0 / self.peak if self.peak else 100.0}

    def cron(self) -> None:
        """Every cron tick: the access clocks, the dicts' shrinking (databasesCron) and the
        peak (serverCron's stat_peak_memory)."""
        self.update_clocks()
        self._count_clients()
        for db in self.in_use:
            db.resize_tables()
        used = self.used_memory()
        if used > self.peak:
            self.peak = used

    def counted_memory(self) -> int:
        """What eviction compares with maxmemory: used_memory without the lazy free's pending
        bytes (released between commands, where Redis's free thread releases them meanwhile)."""
        return self.startup + self.dataset() + self.clients_memory()

    # --- eviction --------------------------------------------------------------------------
    def _safe(self) -> bool:
        """isSafeToPerformEvictions: not while a busy script yields, nor while loading."""
        st = self.state
        if st.busy_script is not None or st.loading:
            return False
        # while clients are paused the dataset stays as it is: no eviction either
        # (checkClientPauseTimeoutAndReturnIfPaused)
        return not st.pause.paused()

    def perform(self) -> int:
        if not self._safe():
            return EVICT_OK
        maxmemory = self.maxmemory
        used = self.counted_memory()
        if not maxmemory or used <= maxmemory:
            return self._metrics(EVICT_OK)
        if not self.kind:  # noeviction
            return self._metrics(EVICT_FAIL)
        tofree = used - maxmemory
        limit_s = tenacity_limit_us(self.state.config["maxmemory-eviction-tenacity"]) / 1e6
        t0 = time.perf_counter()
        freed = 0
        keys_freed = 0
        lazy = self.state.config["lazyfree-lazy-eviction"]
        result = -1
        while freed < tofree:
            best = self._pick()
            if best is None:
                result = EVICT_FAIL  # cant_free: nothing left to evict
                break
            db, key = best
            freed += self._evict(db, key, lazy)
            keys_freed += 1
            if keys_freed % 16 == 0:
                if lazy and self.counted_memory() <= maxmemory:
                    break
                if time.perf_counter() - t0 > limit_s:
                    self._start_timer()  # not done: continue in the next loop iterations
                    break
        if result < 0:
            result = EVICT_RUNNING if self.timer_running else EVICT_OK
        lat = self.state.latency
        if lat.threshold:
            lat.add_if_needed("eviction-cycle", int((time.perf_counter() - t0) * 1000))
        return self._metrics(result)

    def _metrics(self, result: int) -> int:
        if result != EVICT_OK:
            if not self.exceeded_since:
                self.exceeded_since = time.monotonic()
        elif self.exceeded_since:
            self.total_exceeded_us += int((time.monotonic() - self.exceeded_since) * 1e6)
            self.exceeded_since = 0.0
        return result

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: the eviction-exceeded times (evicted_keys is in state.stats)."""
        self.total_exceeded_us = 0
        self.exceeded_since = 0.0

    def current_exceeded_us(self) -> int:
        return int((time.monotonic() - self.exceeded_since) * 1e6) if self.exceeded_since else 0

    def _start_timer(self) -> None:
        """startEvictionTimeProc: keep evicting in the next loop iterations."""
        sched = self.state.scheduler
        if sched is None or self.timer_running:
            return
        self.timer_running = True
        sched.call_soon(self._timer)

    def _timer(self) -> None:
        res = self.perform()  # RUNNING while timer_running is set, unless memory is fine
        if res == EVICT_RUNNING and self.maxmemory:
            self.state.scheduler.call_soon(self._timer)
        else:
            self.timer_running = False

    def _pick(self):
        """The next key to evict: (db, key), or None when nothing can be evicted."""
        dbs = self.state.dbs
        allkeys = self.allkeys
        if self.kind == "random":
            n = len(dbs)
            for _ in range(n):
                self.next_db += 1
                db = dbs[self.next_db % n]
                d = db.data if allkeys else db.expires
                if d:
                    return db, random_key(d, self.rand)
            return None
        pool = self.pool
        while True:
            total = 0
            for db in self.in_use:
                d = db.data if allkeys else db.expires
                if d:
                    self._populate(db, d)
                    total += len(d)
            if not total:
                return None
            while pool:
                key, dbid = pool.pop()
                self.pool_idle.pop()
                db = dbs[dbid]
                if key in (db.data if allkeys else db.expires):
                    return db, key
                # a ghost (deleted since it was sampled): try the next one

    def _populate(self, db, d: dict) -> None:
        """evictionPoolPopulate: maxmemory-samples keys of d into the pool. The pool is two
        parallel lists in ascending score: pool_idle (the scores) and pool ([key, dbid])."""
        keys = sample_keys(d, self.samples, self.rand)
        kind = self.kind
        if kind == "lru":
            clock = db.lru_now
            get = db.lru.get
            scores = []
            for key in keys:
                t = get(key, clock)
                scores.append((clock - t if clock >= t else clock + LRU_CLOCK_MAX - t) * 1000)
        elif kind == "lfu":
            get = db.lru.get
            counter = self.lfu.counter
            scores = [255 - counter(get(key, 0)) for key in keys]
        else:  # volatile-ttl: the sooner the expire the better
            expires = db.expires
            scores = [ULLONG_MAX - expires[key] for key in keys]
        idles = self.pool_idle
        pool = self.pool
        dbid = db.id
        for key, idle in zip(keys, scores):
            k = bisect_left(idles, idle)
            if len(idles) >= EVPOOL_SIZE:
                if k == 0:
                    continue  # worse than the worst we have, and no room
                del idles[0], pool[0]  # drop the entry with the smallest score, insert left of k
                k -= 1
            idles.insert(k, idle)
            pool.insert(k, (key, dbid))

    def _evict(self, db, key: bytes, lazy: bool) -> int:
        """Delete one key as eviction does; returns the bytes it freed in the model."""
        st = self.state
        v = db.data.get(key)
        size = key_size(key) + ENTRY + (string_size(v) if type(v) is bytes else db.sizes.get(key, 0))
        if key in db.expires:
            size += ENTRY
        del v  # a value deleted in place is freed by the delete (eviction-del measures it)
        lat = st.latency
        if lat.threshold:
            t0 = time.perf_counter()
            db.delete(key, lazy)
            lat.add_if_needed("eviction-del", int((time.perf_counter() - t0) * 1000))
        else:
            db.delete(key, lazy)
        st.stats.evicted_keys += 1
        st.signal_modified(db, key)
        if st.notify_flags:
            from .notify import NOTIFY_EVICTED, notify

            notify(st, NOTIFY_EVICTED, b"evicted", key, db.id)
        if st.propagation.active:
            st.propagation.emit(db.id, [b"UNLINK" if lazy else b"DEL", key])
        return size

    # --- dispatch's oom step ----------------------------------------------------------------
    def oom_check(self, c, spec, argv: list[bytes]) -> str | None:
        """processCommand's maxmemory block: evict, then refuse denyoom commands (and anything
        queued inside MULTI) when nothing could be freed. Remembers the outcome for scripts
        (server.pre_command_oom_state)."""
        st = self.state
        if st.busy_script is not None:  # isInsideYieldingLongCommand
            return None
        out_of_memory = self.perform() == EVICT_FAIL
        if out_of_memory:
            reject = denyoom(st, spec, argv, c)
            if not reject and c.multi is not None and spec.name_bytes not in _MULTI_NEVER_OOM:
                reject = True
            if reject:
                return OOM
        st.pre_command_oom = out_of_memory
        return None


_MULTI_NEVER_OOM = frozenset([b"exec", b"discard", b"quit", b"reset"])


def denyoom(state, spec, argv: list[bytes], c=None) -> bool:
    """getCommandFlags(c) & CMD_DENYOOM: EXEC takes its queued commands' flags; EVAL/EVALSHA
    and FCALL the flags their script or function declares (scriptFlagsToCmdFlags: denyoom
    unless allow-oom or no-writes), or the command's own when there are none."""
    name = spec.name_bytes
    if name == b"exec":
        if c is None or not c.multi or c.multi_error:  # a doomed MULTI queues nothing in Redis
            return spec.denyoom
        return c.multi_denyoom  # as the queued commands were when queued
    if name in SCRIPT_COMMANDS:
        flags = script_flags(state, name, argv)
        if flags is None:
            return spec.denyoom
        return not ({"allow-oom", "no-writes"} & flags)
    return spec.denyoom
