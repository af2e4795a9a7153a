"""INFO and its section builders (genRedisInfoString): server, clients, memory, persistence,
stats, replication, cpu, modules, commandstats, errorstats, latencystats, cluster, keyspace.

Where it sits: core/dispatch.py runs INFO like any command. The figures are read from what
the rest of the server keeps: state.stats, the command table's per-command counters, the
keyspace, and persistence's own info_fields(); SECTION_HOOKS lets another subsystem add or
override fields of a section.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from typing import Any

from ..core.client import Client
from ..core.commandtable import table_specs
from ..core.spec import command
from ..protocol.replies import Verbatim
from .. import compiled
from ..version import __version__
from ._server_common import metrics, rss_bytes

# --- INFO ---------------------------------------------------------------------------------
def _total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _human(n: float) -> str:
    """bytesToHuman."""
    if n < 1024:
        return f"{int(n)}B"
    for unit, div in (("K", 1024), ("M", 1024**2), ("G", 1024**3), ("T", 1024**4), ("P", 1024**5)):
        if n < div * 1024 or unit == "P":
            return "%.2f%s" % (n / div, unit)
    return f"{int(n)}B"


# Other subsystems may add or override fields of a section: f(state) -> {field: value}.
SECTION_HOOKS: dict[str, list] = {}

DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "modules", "errorstats", "cluster", "keyspace"]
ALL_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"]
_TITLES = {"cpu": "CPU", "commandstats": "Commandstats", "errorstats": "Errorstats",
           "latencystats": "Latencystats"}


def _sec_server(state) -> list[tuple[str, Any]]:
    cfg = state.config
    compat = state.compat
    now = time.time()
    uptime = int(now - state.start_time)
    u = platform.uname()
    srv = state.server
    cron_hz = cfg["hz"]
    hz = srv.hz if srv is not None else cron_hz  # dynamic-hz: the rate the cron runs at now
    head: list[tuple[str, Any]] = [("redis_version", compat.redis_version), ("pyredis_version", __version__),
                                   ("pyredis_compiled", int(compiled.is_compiled()))]
    if compat.valkey:  # Valkey keeps redis_version (the Redis release it forked from) for clients
        head += [("server_name", "valkey"), ("valkey_version", compat.valkey_version)]
    out = head + [
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("server_mode" if compat.valkey else "redis_mode", "standalone"),
        ("os", f"{u.system} {u.release} {u.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
    ]
    if not compat.valkey:
        out.append(("atomicvar_api", "c11-builtin"))
    out += [
        ("gcc_version", "0.0.0"),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", state.run_id),
        ("tcp_port", state.tcp_port or (srv.port if srv is not None else cfg["port"])),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", hz),
        ("configured_hz", cron_hz),
        ("lru_clock", state.dbs[0].lru_now),  # server.lruclock (the cron's, as OBJECT IDLETIME reads it)
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else sys.executable),
        ("config_file", cfg.config_file or ""),
        ("io_threads_active", 0),
    ]
    if compat.valkey:
        out.append(("availability_zone", cfg["availability-zone"] if "availability-zone" in cfg.values else ""))
    if compat.at_least("7.2"):
        out += _listeners(state)
    return out


def _listeners(state) -> list[tuple[str, Any]]:
    """Redis 7.2's listener<N> lines (getListensInfoString): N is the connection type's index
    (tcp 0, unix 1, tls 2), then name, each bound address and the port."""
    cfg = state.config
    srv = state.server
    out = []
    port = srv.port if srv is not None else cfg["port"]
    tls_port = getattr(srv, "tls_port", 0) if srv is not None else cfg["tls-port"]
    binds = "".join(f",bind={b}" for b in cfg["bind"])
    if port:
        out.append(("listener0", f"name=tcp{binds},port={port}"))
    if cfg["unixsocket"]:
        out.append(("listener1", f"name=unix,bind={cfg['unixsocket']}"))
    if tls_port:
        out.append(("listener2", f"name=tls{binds},port={tls_port}"))
    return out


def _sec_clients(state) -> list[tuple[str, Any]]:
    clients = state.clients.values()
    blocked = sum(1 for c in clients if c.blocked is not None)  # CLIENT PAUSE's held ones too
    timed = sum(1 for c in clients if c.blocked is not None and c.blocked.deadline)
    tracking = sum(1 for c in clients if c.tracking)
    return [
        ("connected_clients", len(state.clients) - len(state.repl.replicas)),
        ("cluster_connections", 0),
        ("maxclients", state.config["maxclients"]),
        # the largest client buffers of the last 8 seconds (core/clients.py, clientsCron)
        ("client_recent_max_input_buffer", state.client_limits.recent_peaks()[0]),
        ("client_recent_max_output_buffer", state.client_limits.recent_peaks()[1]),
        ("blocked_clients", blocked),
        ("tracking_clients", tracking),
        ("clients_in_timeout_table", timed),
    ]


def _sec_memory(state) -> list[tuple[str, Any]]:
    # used_memory is pyredis's estimate of what redis-server would allocate for this state
    # (core/evict.py, keyspace/memsize.py): the figure maxmemory is compared with. The RSS is
    # the process's own (the interpreter included), so the fragmentation / RSS-overhead
    # ratios show how much larger the Python process is than the estimate.
    cfg = state.config
    ev = state.evictor
    oh = ev.overhead()
    used = oh["used"]
    rss = rss_bytes()
    peak = oh["peak"]
    total_sys = _total_system_memory()
    maxmem = cfg["maxmemory"]
    lf = state.lazyfree
    rss_ratio = "%.2f" % (rss / used if used else 1.0)
    return [
        ("used_memory", used),
        ("used_memory_human", _human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", _human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", _human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % oh["peak_perc"]),
        ("used_memory_overhead", oh["overhead_total"]),
        ("used_memory_startup", oh["startup"]),
        ("used_memory_dataset", oh["dataset"]),
        ("used_memory_dataset_perc", "%.2f%%" % oh["dataset_perc"]),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", used),
        ("total_system_memory", total_sys),
        ("total_system_memory_human", _human(total_sys)),
        ("used_memory_lua", 32768),
        ("used_memory_vm_eval", 32768),
        ("used_memory_lua_human", _human(32768)),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 32768),
        ("used_memory_vm_total", 65536),
        ("used_memory_vm_total_human", _human(65536)),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmem),
        ("maxmemory_human", _human(maxmem)),
        ("maxmemory_policy", cfg["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"),
        ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", rss_ratio),
        ("rss_overhead_bytes", rss - used),
        ("mem_fragmentation_ratio", rss_ratio),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", state.repl.backlog.histlen if state.repl.backlog is not None else 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", oh["clients_normal"]),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", lf.pending_objects),
        ("lazyfreed_objects", lf.freed_objects),
    ]


def _sec_persistence(state) -> list[tuple[str, Any]]:
    if state.persistence is not None:
        return state.persistence.info_fields()
    return [
        ("loading", 1 if state.loading else 0),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", state.dirty),
        ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", state.lastsave),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", 1 if state.config["appendonly"] else 0),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _sec_stats(state) -> list[tuple[str, Any]]:
    st = state.stats
    m = metrics(state)
    ps = getattr(state, "pubsub", None)
    if ps is not None:
        n_channels, n_patterns, n_shard = len(ps.channels), len(ps.patterns), len(ps.shard_channels)
    else:
        n_channels = n_patterns = n_shard = 0
    tr = getattr(state, "tracking", None)
    table = getattr(tr, "table", None) or {}
    tracking_keys = len(table)
    tracking_items = sum(len(v) for v in table.values())
    return [
        ("total_connections_received", st.total_connections_received),
        ("total_commands_processed", st.total_commands_processed),
        ("instantaneous_ops_per_sec", int(m.rate("ops"))),
        ("total_net_input_bytes", st.total_net_input_bytes),
        ("total_net_output_bytes", st.total_net_output_bytes),
        ("total_net_repl_input_bytes", state.repl.net_input),
        ("total_net_repl_output_bytes", state.repl.net_output),
        ("instantaneous_input_kbps", "%.2f" % (m.rate("in") / 1024)),
        ("instantaneous_output_kbps", "%.2f" % (m.rate("out") / 1024)),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", st.rejected_connections),
        ("sync_full", state.repl.sync_full),
        ("sync_partial_ok", state.repl.sync_partial_ok),
        ("sync_partial_err", state.repl.sync_partial_err),
        ("expired_keys", st.expired_keys),
        ("expired_stale_perc", "%.2f" % (st.expired_stale_perc * 100)),
        ("expired_time_cap_reached_count", st.expired_time_cap_reached_count),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", st.evicted_keys),
        ("evicted_clients", state.client_limits.evicted),
        ("total_eviction_exceeded_time", (state.evictor.total_exceeded_us + state.evictor.current_exceeded_us()) // 1000),
        ("current_eviction_exceeded_time", state.evictor.current_exceeded_us() // 1000),
        ("keyspace_hits", st.keyspace_hits),
        ("keyspace_misses", st.keyspace_misses),
        ("pubsub_channels", n_channels),
        ("pubsub_patterns", n_patterns),
        ("pubsubshard_channels", n_shard),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", len(state.migrate_sockets)),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", tracking_keys),
        ("tracking_total_items", tracking_items),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", st.unexpected_error_replies),
        ("total_error_replies", st.total_error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", st.total_reads_processed),
        ("total_writes_processed", st.total_writes_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", state.stats.reply_buffer_shrinks),
        ("reply_buffer_expands", state.stats.reply_buffer_expands),
    ]


def _sec_replication(state) -> list[tuple[str, Any]]:
    fields = state.repl.info_fields()
    repl = state.repl
    if repl.backlog is None and repl.masterhost is None and state.compat.at_least("7.2"):
        # no replication stream: 7.2 still counts its offset once the AOF is on and for
        # WAIT/WAITAOF's GETACK (core/waitaof.py)
        fields = [(k, state.repl_offset if k == "master_repl_offset" else v) for k, v in fields]
    return fields


def _sec_cpu(state) -> list[tuple[str, Any]]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    th = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return [
        ("used_cpu_sys", "%.6f" % me.ru_stime),
        ("used_cpu_user", "%.6f" % me.ru_utime),
        ("used_cpu_sys_children", "%.6f" % ch.ru_stime),
        ("used_cpu_user_children", "%.6f" % ch.ru_utime),
        ("used_cpu_sys_main_thread", "%.6f" % th.ru_stime),
        ("used_cpu_user_main_thread", "%.6f" % th.ru_utime),
    ]


def _sec_commandstats(state) -> list[tuple[str, Any]]:
    out = []
    for spec in table_specs(state.commands):  # the mode's variants hold their own counters
        if spec.calls or spec.failed_calls or spec.rejected_calls:
            per = spec.usec / spec.calls if spec.calls else 0.0
            out.append((f"cmdstat_{spec.fullname}",
                        f"calls={spec.calls},usec={spec.usec},usec_per_call={per:.2f},"
                        f"rejected_calls={spec.rejected_calls},failed_calls={spec.failed_calls}"))
    return out


def _sec_latencystats(state) -> list[tuple[str, Any]]:
    """latency_percentiles_usec_<command>: the latency-tracking-info-percentiles of every
    command's latency histogram (core/latency.py), while latency-tracking is on."""
    from ..core.latency import fold, format_percentile

    if not state.config["latency-tracking"]:
        return []
    percentiles = state.config["latency-tracking-info-percentiles"]
    out = []
    for spec in table_specs(state.commands):  # the mode's variants hold their own histograms
        hist = fold(spec)
        if hist is None or not hist.total:
            continue
        out.append((f"latency_percentiles_usec_{spec.fullname}",
                    ",".join("p%s=%.3f" % (format_percentile(p), hist.value_at_percentile(p) / 1000.0)
                             for p in percentiles)))
    return out


def _sec_errorstats(state) -> list[tuple[str, Any]]:
    return [(f"errorstat_{k}", f"count={v}") for k, v in state.stats.errorstats.items()]


def _sec_keyspace(state) -> list[tuple[str, Any]]:
    out = []
    now = state.now_ms
    for db in state.dbs:
        n = len(db.data)
        if not n:
            continue
        exp = db.expires
        avg = 0
        if exp:
            sample = []
            for i, when in enumerate(exp.values()):
                if i >= 64:
                    break
                if when > now:
                    sample.append(when - now)
            avg = int(sum(sample) / len(sample)) if sample else 0
        line = f"keys={n},expires={len(exp)},avg_ttl={avg}"
        if state.compat.at_least("7.4"):  # hashes with fields that expire (hash-field expiration)
            line += f",subexpiry={len(getattr(db, 'hexpires', ()))}"
        out.append((f"db{db.id}", line))
    return out


_SECTIONS = {
    "server": _sec_server, "clients": _sec_clients, "memory": _sec_memory,
    "persistence": _sec_persistence, "stats": _sec_stats, "replication": _sec_replication,
    "cpu": _sec_cpu, "modules": lambda s: [], "commandstats": _sec_commandstats,
    "errorstats": _sec_errorstats, "latencystats": _sec_latencystats,
    "cluster": lambda s: [("cluster_enabled", 0)], "keyspace": _sec_keyspace,
}


# --- what later releases add ---------------------------------------------------------------
# Per section: (the field the new ones follow, the modes that have them, fields(state)).
# Kept apart from the section builders so each mode's INFO is the 7.0 one plus this table.
def _watching(state) -> list:
    return [c for c in state.clients.values() if c.watched and not c.dirty_cas]


def _blocking_fields(state) -> list[tuple[str, Any]]:
    from ..core.blocking import manager

    waiters = manager(state).waiters
    nokey = sum(1 for ws in waiters.values() if any(w.marker.deleted is not None for w in ws))
    return [("total_blocking_keys", len(waiters)), ("total_blocking_keys_on_nokey", nokey)]


def _eventloop_fields(state) -> list[tuple[str, Any]]:
    # pyredis's asyncio loop has no cycle counter of its own: a cycle per read or write
    # handled, and the commands' time as the loop's (an approximation: see README)
    st = state.stats
    cmd_usec = sum(s.usec for s in table_specs(state.commands))
    cycles = st.total_reads_processed + st.total_writes_processed
    return [("eventloop_cycles", cycles), ("eventloop_duration_sum", cmd_usec),
            ("eventloop_duration_cmd_sum", cmd_usec),
            ("instantaneous_eventloop_cycles_per_sec", int(metrics(state).rate("ops"))),
            ("instantaneous_eventloop_duration_usec", 0)]


def _acl_fields(state) -> list[tuple[str, Any]]:
    d = state.stats.acl_denied  # indexed by core/acl.py's reason codes
    return [("acl_access_denied_auth", d[3]), ("acl_access_denied_cmd", d[1]),
            ("acl_access_denied_key", d[2]), ("acl_access_denied_channel", d[4])]


_R74 = ("7.4", "valkey-8.0")
_LATER: dict[str, list] = {
    "clients": [
        ("tracking_clients", _R74, lambda st: [
            ("pubsub_clients", sum(1 for c in st.clients.values() if c.subscription_count)),
            ("watching_clients", len(_watching(st)))]),
        ("clients_in_timeout_table", _R74, lambda st: [
            ("total_watched_keys", len({k for c in _watching(st) for k in c.watched}))]),
        ("clients_in_timeout_table", ("7.2",), _blocking_fields),
    ],
    "memory": [
        ("allocator_resident", _R74, lambda st: [("allocator_muzzy", 0)]),
        ("mem_allocator", _R74, lambda st: [("mem_overhead_db_hashtable_rehashing", 0)]),
    ],
    "stats": [
        ("sync_partial_err", ("7.4",), lambda st: [("expired_subkeys", getattr(st.stats, "expired_subkeys", 0))]),
        ("evicted_clients", _R74, lambda st: [("evicted_scripts", 0)]),
        ("io_threaded_writes_processed", ("valkey-8.0",), lambda st: [
            ("io_threaded_freed_objects", 0), ("io_threaded_poll_processed", 0),
            ("io_threaded_total_prefetch_batches", 0), ("io_threaded_total_prefetch_entries", 0)]),
        ("io_threaded_writes_processed", _R74, lambda st: [
            ("client_query_buffer_limit_disconnections", getattr(st.stats, "client_query_buffer_limit_disconnections", 0)),
            ("client_output_buffer_limit_disconnections", getattr(st.stats, "client_output_buffer_limit_disconnections", 0))]),
        ("reply_buffer_expands", ("7.2",), _eventloop_fields),
        ("reply_buffer_expands", ("7.2",), _acl_fields),
    ],
    "replication": [
        ("connected_slaves", ("valkey-8.0",), lambda st: [("replicas_waiting_psync", 0)]),
    ],
}


def _later_fields(state, section: str, fields: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The section's fields with those of the later releases the mode carries, each group
    placed after its anchor (after the groups already placed there, in table order)."""
    compat = state.compat
    extra: dict[str, list] = {}
    for anchor, modes, fn in _LATER[section]:
        if compat.at_least(*modes):
            extra.setdefault(anchor, []).extend(fn(state))
    if not extra:
        return fields
    out = []
    for k, v in fields:
        out.append((k, v))
        out.extend(extra.pop(k, ()))
    for rest in extra.values():  # an anchor another builder no longer has: at the end
        out.extend(rest)
    return out


def info_text(state, args: tuple[bytes, ...] | list[bytes] = ()) -> bytes:
    """genRedisInfoString: the sections asked for, in Redis's order."""
    wanted: set[str] = set()
    if not args:
        wanted.update(DEFAULT_SECTIONS)
    for a in args:
        s = a.decode("utf-8", "replace").lower()
        if s == "default":
            wanted.update(DEFAULT_SECTIONS)
        elif s in ("all", "everything"):
            wanted.update(ALL_SECTIONS)
        else:
            wanted.add(s)
    parts = []
    for name in ALL_SECTIONS:
        if name not in wanted:
            continue
        fields = _SECTIONS[name](state)
        if name in _LATER:
            fields = _later_fields(state, name, fields)
        for hook in SECTION_HOOKS.get(name, ()):
            extra = hook(state)
            if extra:
                d = dict(fields)
                d.update(extra)
                fields = list(d.items())
        title = _TITLES.get(name, name.capitalize())
        lines = [f"# {title}"]
        lines.extend(f"{k}:{v}" for k, v in fields)
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode()


@command("INFO", arity=-1, flags="loading stale", group="server", acl="dangerous", since="1.0.0",
         complexity="O(1)")
def info(ctx: Client, *sections: bytes):
    """Returns information and statistics about the server."""
    return Verbatim(info_text(ctx.server, sections))
