"""ServerState: everything the server holds that outlives a connection. No module globals:
tests build as many servers as they like in one process.

API:
    state = ServerState(config, clock)
    state.dbs[i]                       # Database
    state.now_ms                       # the time of the command being executed
    state.clients                      # id -> Client
    state.stats                        # counters shown by INFO
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import TYPE_CHECKING

from ..clock import Clock
from ..config import Config
from ..keyspace.database import Database
from ..keyspace.scan import ScanCursors
from ..version import compat_for

if TYPE_CHECKING:
    from .client import Client


class Stats:
    """INFO stats counters."""

    def __init__(self) -> None:
        self.reset()
        # 7.2's acl_access_denied_auth/cmd/key/channel: ACL denials by reason (core/acl.py's
        # reason codes, counted where the ACL LOG gets its entry); CONFIG RESETSTAT keeps them
        self.acl_denied = [0, 0, 0, 0, 0]

    def reset(self) -> None:
        self.total_connections_received = 0
        self.total_commands_processed = 0
        self.rejected_connections = 0
        self.expired_keys = 0
        self.expired_subkeys = 0  # hash fields deleted by their deadline (Redis 7.4)
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached_count = 0
        self.evicted_keys = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.total_net_input_bytes = 0
        self.total_net_output_bytes = 0
        self.total_error_replies = 0
        self.unexpected_error_replies = 0
        self.total_reads_processed = 0
        self.total_writes_processed = 0
        self.reply_buffer_shrinks = 0
        self.reply_buffer_expands = 0
        self.errorstats: dict[str, int] = {}

    def count_error(self, text: bytes) -> None:
        """An error reply sent (Redis's afterErrorReply): total_error_replies and the errorstat
        of its code (the first word)."""
        self.total_error_replies += 1
        sp = text.find(b" ")
        prefix = (text[:sp] if sp > 0 else text).decode("utf-8", "replace")
        self.errorstats[prefix] = self.errorstats.get(prefix, 0) + 1


class ServerState:
    def __init__(self, config: Config | None = None, clock: Clock | None = None) -> None:
        self.config = config or Config()
        self.clock = clock or Clock()
        self.clock_ms = self.clock.ms  # bound once
        # The time of the command being executed, read lazily: dispatch clears it before each
        # command and the first reader (an expiry check, a TTL) fills it, so every reader in
        # one command sees the same instant and commands that never look at time pay nothing.
        self.now_cache = 0
        # Set while EXEC or a script runs: the time stays that of the enclosing command.
        self.time_frozen = 0
        self.dbs = [Database(i, self._now, self._on_expired) for i in range(self.config["databases"])]
        # The databases that ever held a key (used_memory adds up only these).
        self.dbs_in_use: list[Database] = []
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.stats = Stats()
        # Lazy free (core/lazyfree.py): large deleted values freed in slices between commands.
        from .lazyfree import LazyFree

        self.lazyfree = LazyFree(self)
        for db in self.dbs:
            db.stats = self.stats
            db.on_miss = self._on_miss
            db.on_fields_expired = self._on_fields_expired
            db.in_use = self.dbs_in_use
            db.free_async = self.lazyfree.free
        for name, attr in (("lazyfree-lazy-expire", "lazy_expire"), ("lazyfree-lazy-server-del", "lazy_server_del")):
            self._set_db_flag(attr, self.config[name])
            self.config.on_change(name, lambda v, attr=attr: self._set_db_flag(attr, v))
        self.dirty = 0  # changes since the last save
        # WAITAOF (core/waitaof.py): Redis's master_repl_offset (commands fed to the AOF), the
        # offset the AOF has fsynced (-1: no AOF), and the clients waiting for it
        self.repl_offset = 0
        self.fsynced_reploff = 0 if self.config["appendonly"] else -1
        self.aof_waiters: dict = {}
        self.ack_requested = False  # a GETACK is due before the loop sleeps (waitaof.request_acks)
        self.lastsave = int(time.time())
        self.start_time = time.time()
        self.pid = os.getpid()
        self.run_id = os.urandom(20).hex()
        self.tcp_port = 0
        self.shutdown_requested: tuple[bool | None, bool] | None = None  # (save?, now?)
        # Which rare steps of dispatch.execute are active (dispatch.GATE_* bits): kept by the
        # properties below (loading, disk_error, busy_script) and by set_gate().
        self.gates = 0
        self._loading = False
        self._disk_error = None
        self._busy_script = None
        # Hooks later subsystems install; each gets (db, key) of a changed key.
        self.key_change_hooks: list = []
        # Hooks that receive expired keys (propagation of DEL, keyspace events).
        self.expire_hooks: list = []
        self.expire_hooks.append(self._propagate_expired)
        # The stream of effects and its sinks (the AOF; replicas): core/propagate.py.
        from .propagate import Propagation

        self.propagation = Propagation()
        # Replication IDs, offsets, backlog, replicas, our master (core/replication.py).
        from .replication import Replication

        self.repl = Replication(self)
        self.hz_cron_handlers: list = []
        # Called first thing in a forked BGSAVE / BGREWRITEAOF child with its kind ("rdb" |
        # "aof"): the server sets the child's OOM score and CPUs there (redisFork).
        self.fork_child_hooks: list = []
        # DEBUG REPLYBUFFER: the reply buffers' peak reset period (ms; -1 never) and resizing
        self.reply_buffer_peak_reset_time = 5000
        self.reply_buffer_resizing = True
        # DEBUG PAUSE-CRON, AOF-FLUSH-SLEEP (µs), SET-SKIP-CHECKSUM-VALIDATION, SET-DISABLE-DENY-SCRIPTS
        self.pause_cron = False
        self.aof_flush_sleep = 0
        self.skip_checksum_validation = False
        self.script_disable_deny_script = False
        # Called with the Database about to be emptied by FLUSHDB/FLUSHALL (WATCH, tracking).
        self.flush_hooks: list = []
        # Called with (db1, db2) after SWAPDB exchanged their contents (WATCH, blocked clients).
        self.swapdb_hooks: list = []
        # SCAN/HSCAN/SSCAN/ZSCAN iteration snapshots (keyspace/scan.py).
        self.scan_cursors = ScanCursors()
        # Called with the Client on RESET (unsubscribe, unwatch, tracking off).
        self.reset_hooks: list = []
        # core/blocking.BlockingManager and core/transactions.WatchRegistry, created on first use.
        self.blocking = None
        self.watching = None
        # Users, permissions and the ACL log (core/acl.py); keeps GATE_ACL.
        from .acl import Acl

        self.acl = Acl(self)
        from .pubsub import PubSub

        self.pubsub = PubSub(self)
        # Parsed notify-keyspace-events; 0 (the default) makes ctx.notify() a single test.
        from .notify import parse_flags

        self.notify_flags = parse_flags(self.config["notify-keyspace-events"])
        self.config.on_change("notify-keyspace-events", lambda v: setattr(self, "notify_flags", parse_flags(v)))
        self.reset_hooks.append(self.pubsub.drop_client)
        # The client whose command is executing (tracking needs to know who modified a key).
        self.current_client = None
        from .tracking import Tracking

        self.tracking = Tracking(self)
        self.reset_hooks.append(self.tracking.client_gone)
        # SLOWLOG (commands/slowlog.py): newest entry first; the threshold mirrors the config.
        self.slowlog: deque = deque()
        self.slowlog_next_id = 0
        self.slowlog_threshold = self.config["slowlog-log-slower-than"]
        self.config.on_change("slowlog-log-slower-than", lambda v: setattr(self, "slowlog_threshold", v))
        self.config.on_change("slowlog-max-len", self._trim_slowlog)
        self.active_expire_enabled = True  # DEBUG SET-ACTIVE-EXPIRE
        self.monitors: list = []  # clients in MONITOR mode (commands/slowlog.py feeds them)
        # Set by persistence/manager.py; None when no persistence is attached (tools, unit tests).
        self.persistence = None
        # Commands propagated but not yet written to the AOF (persistence's buffer): while it
        # is not empty, replies wait for the AOF write (server/group_commit.py).
        self.aof_buf: list = []
        self.shutdown_prepared = False
        # The RedisServer owning this state (None when driven without sockets, e.g. AOF tools).
        self.server = None
        # Timers and deferred work (core/scheduler.py), set by the server; None without a loop.
        self.scheduler = None
        # MIGRATE's cached connections, host:port -> connection (commands/migrate.py; its cron
        # closes the idle ones; INFO migrate_cached_sockets).
        self.migrate_sockets: dict = {}
        self.security_warned_at = 0.0  # the cross-protocol warning is logged once a minute
        # CLIENT PAUSE (core/pause.py): dispatch's pause step, expiry held while paused.
        from .pause import ClientPause

        self.pause = ClientPause(self)
        # Output buffer limits, client eviction, idle timeouts (core/clients.py).
        from .clients import ClientLimits

        self.client_limits = ClientLimits(self)
        self.hz_cron_handlers.append(self.client_limits.cron)
        # The latency monitor and latency-tracking (core/latency.py); dispatch tests
        # latency_us (the threshold in us, 0: off) and latency_tracking for every command.
        from .latency import LatencyMonitor, fold_all

        self.latency = LatencyMonitor(self)
        self.latency_us = self.latency.threshold_us
        self.config.on_change("latency-monitor-threshold", lambda v: setattr(self, "latency_us", v * 1000))
        self.latency_tracking = self.config["latency-tracking"]
        self.config.on_change("latency-tracking", lambda v: setattr(self, "latency_tracking", v))
        from .commandtable import table_specs

        # (the specs of this server's table: a mode's variants keep their own histograms)
        self.hz_cron_handlers.append(lambda: fold_all(table_specs(self.commands)))
        self.migrate_cron = None
        # Which release this server answers as (compat-version, version.py): decided once here.
        self.compat = compat_for(self.config["compat-version"])
        # This server's command table: its mode's (core/commandtable.py, shared by the servers
        # of the mode), or its own copy under rename-command (core/rename.py).
        from .commandtable import server_table, spelling_cache

        self.commands = server_table(self.compat, self.config.renames)
        # dispatch's cache of exact spellings ("GET", "get", "Get") -> spec: the mode's shared
        # one, this server's own under rename-command
        self.spelling: dict = {} if self.config.renames else spelling_cache(self.compat)
        # maxmemory (core/evict.py): used_memory, eviction, the oom step; the LRU/LFU clocks.
        # pre_command_oom: the oom step's verdict for the running command (scripts ask it).
        from .evict import Evictor

        self.evictor = Evictor(self)
        self.pre_command_oom = False
        self.hz_cron_handlers.append(self.evictor.cron)

    def _set_db_flag(self, attr: str, on: bool) -> None:
        for db in self.dbs:
            setattr(db, attr, on)


    # --- the rare gates of dispatch.execute --------------------------------------------------
    def set_gate(self, bit: int, on: bool) -> None:
        self.gates = (self.gates | bit) if on else (self.gates & ~bit)

    @property
    def loading(self) -> bool:
        """The dataset is loading: commands without the `loading` flag get -LOADING."""
        return self._loading

    @loading.setter
    def loading(self, on: bool) -> None:
        from .dispatch import GATE_LOADING

        self._loading = on
        self.set_gate(GATE_LOADING, on)

    @property
    def disk_error(self):
        """While a background save or an AOF write is failing: () -> the MISCONF error text, or
        None when writes are allowed after all (set by persistence; asked by dispatch's misconf
        step for write commands and PING, as Redis's writeCommandsDeniedByDiskError)."""
        return self._disk_error

    @disk_error.setter
    def disk_error(self, check) -> None:
        from .dispatch import GATE_DISK

        self._disk_error = check
        self.set_gate(GATE_DISK, check is not None)

    @property
    def busy_script(self):
        """The script running past busy-reply-threshold (core/lua ScriptRun): other
        clients get -BUSY except for allow_busy commands."""
        return self._busy_script

    @busy_script.setter
    def busy_script(self, run) -> None:
        from .dispatch import GATE_BUSY

        self._busy_script = run
        self.set_gate(GATE_BUSY, run is not None)

    def slowlog_push(self, c: Client, spec, argv: list[bytes], duration_us: int) -> None:
        """slowlogPushEntryIfNeeded: at most 32 arguments, each cut to 128 bytes."""
        if "skip_slowlog" in spec.flags:
            return
        n = len(argv)
        shown = min(n, 32)
        args = []
        for i in range(shown):
            if shown != n and i == shown - 1:
                args.append(b"... (%d more arguments)" % (n - shown + 1))
                break
            a = argv[i]
            if len(a) > 128:
                a = a[:128] + b"... (%d more bytes)" % (len(a) - 128)
            args.append(a)
        self.slowlog.appendleft((self.slowlog_next_id, int(time.time()), duration_us, args,
                                 c.addr.encode(), c.name))
        self.slowlog_next_id += 1
        self._trim_slowlog(self.config["slowlog-max-len"])

    def _trim_slowlog(self, maxlen: int) -> None:
        while len(self.slowlog) > maxlen:
            self.slowlog.pop()

    def _now(self) -> int:
        t = self.now_cache
        if not t:
            t = self.now_cache = self.clock_ms()
        return t

    @property
    def now_ms(self) -> int:
        """Milliseconds since the epoch for the command being executed (one read per command)."""
        t = self.now_cache
        if not t:
            t = self.now_cache = self.clock_ms()
        return t

    @now_ms.setter
    def now_ms(self, value: int) -> None:
        self.now_cache = value

    def _on_miss(self, db: Database, key: bytes) -> None:
        if self.notify_flags:
            from .notify import NOTIFY_KEY_MISS, notify

            notify(self, NOTIFY_KEY_MISS, b"keymiss", key, db.id)

    def _on_expired(self, db: Database, key: bytes) -> None:
        self.stats.expired_keys += 1
        if self.notify_flags:
            from .notify import NOTIFY_EXPIRED, notify

            notify(self, NOTIFY_EXPIRED, b"expired", key, db.id)
        for hook in self.expire_hooks:
            hook(db, key)

    def _on_fields_expired(self, db: Database, key: bytes, fields: list[bytes], deleted: bool) -> None:
        """Hash fields the active expiry deleted (hashTypeExpire): each propagated as its own
        HDEL, one `hexpired` event for the hash (and `del` when it was emptied), the key
        signalled as modified."""
        self.stats.expired_subkeys += len(fields)
        prop = self.propagation
        if prop.active:
            for f in fields:
                prop.emit(db.id, [b"HDEL", key, f])
        if self.notify_flags:
            from .notify import NOTIFY_GENERIC, NOTIFY_HASH, notify

            notify(self, NOTIFY_HASH, b"hexpired", key, db.id)
            if deleted:
                notify(self, NOTIFY_GENERIC, b"del", key, db.id)
        db.resized(key)  # used_memory: the hash lost fields
        if self.key_change_hooks:
            self.signal_modified(db, key)

    def _propagate_expired(self, db: Database, key: bytes) -> None:
        """An expired key is replicated / written to the AOF as an explicit DEL (UNLINK
        with lazyfree-lazy-expire), like Redis's propagateDeletion."""
        if self.propagation.active:
            self.propagation.emit(db.id, [b"UNLINK" if self.config["lazyfree-lazy-expire"] else b"DEL", key])

    def update_time(self) -> None:
        if not self.time_frozen:
            self.now_cache = self.clock_ms()

    def signal_modified(self, db: Database, key: bytes) -> None:
        """Redis's signalModifiedKey: WATCH invalidation and client-side caching."""
        for hook in self.key_change_hooks:
            hook(db, key)

    def new_client_id(self) -> int:
        cid = self.next_client_id
        self.next_client_id += 1
        return cid
