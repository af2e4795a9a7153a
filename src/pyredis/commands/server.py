"""Server commands: COMMAND, CONFIG, INFO, TIME, LASTSAVE, SHUTDOWN, DEBUG, SLOWLOG,
LATENCY, MEMORY, ROLE, REPLICAOF/SLAVEOF, MONITOR.

Everything COMMAND answers is derived at runtime from the declarations in core/spec.py
(name, arity, flags, key positions, ACL categories, subcommands), so it lists exactly the
commands pyredis implements. What a declaration cannot say (key specs, tips, and the
documentation text of COMMAND DOCS) comes from core/command_docs.json, captured from
redis-server 7.0.15's own COMMAND output by tests/data/capture_command_docs.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import struct
import sys
import time
from collections import deque
from typing import Any

from .. import REDIS_VERSION, __version__
from ..config import ConfigError
from ..core.client import Client
from ..core.spec import TABLE, CommandSpec, command, container
from ..errors import NO_SUCH_KEY, NOT_INTEGER, SYNTAX, CommandError
from ..keyspace.types import encoding as value_encoding
from ..protocol.replies import NO_REPLY, OK, Double, ErrorReply, SetReply, Simple, Verbatim
from ..util import glob_match

# --- reference data (COMMAND DOCS text, key specs, tips) ----------------------------------
_REF: dict | None = None


def _decode(v: Any) -> Any:
    """Typed JSON -> reply values: {"+": s} status, {"~": [...]} set, objects are maps."""
    t = type(v)
    if t is str:
        return v.encode()
    if t is list:
        return [_decode(x) for x in v]
    if t is dict:
        if len(v) == 1:
            if "+" in v:
                return Simple(v["+"].encode())
            if "~" in v:
                return SetReply(_decode(x) for x in v["~"])
        return {k.encode(): _decode(x) for k, x in v.items()}
    return v


def reference() -> dict:
    global _REF
    if _REF is None:
        path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "core", "command_docs.json")
        try:
            with open(path, encoding="utf-8") as f:
                _REF = json.load(f)
        except OSError:
            _REF = {"docs": {}, "info": {}}
    return _REF


def _lookup_full(name: bytes) -> CommandSpec | None:
    """A command or `parent|sub` subcommand by name (case-insensitive)."""
    name = name.lower()
    if b"|" in name:
        parent, _, sub = name.partition(b"|")
        spec = TABLE.get(parent)
        return spec.subcommands.get(sub) if spec is not None else None
    return TABLE.get(name)


def _resolve_argv(argv: list[bytes] | tuple[bytes, ...]) -> CommandSpec | None:
    spec = TABLE.get(argv[0].lower())
    if spec is not None and spec.subcommands:
        if len(argv) < 2:
            return spec  # the arity check will refuse it
        return spec.subcommands.get(argv[1].lower())
    return spec


# --- COMMAND ------------------------------------------------------------------------------
_INFO_CACHE: dict[int, tuple[CommandSpec, list]] = {}
_DOCS_CACHE: dict[int, tuple[CommandSpec, dict]] = {}


def command_info(spec: CommandSpec) -> list:
    """COMMAND INFO's entry for spec (built once: the declarations do not change)."""
    hit = _INFO_CACHE.get(id(spec))
    if hit is not None and hit[0] is spec and len(hit[1][9]) == len(spec.subcommands):
        return hit[1]
    info = _build_info(spec)
    _INFO_CACHE[id(spec)] = (spec, info)
    return info


def _build_info(spec: CommandSpec) -> list:
    ref = reference()["info"].get(spec.fullname)
    if ref is not None:
        tips = _decode(ref["tips"])
        key_specs = _decode(ref["key_specs"])
    else:
        tips, key_specs = SetReply(), SetReply()
    return [
        spec.fullname.encode(),
        spec.arity,
        SetReply(Simple(f.encode()) for f in spec.flags),
        spec.first_key,
        spec.last_key,
        spec.key_step,
        SetReply(Simple(b"@" + c.encode()) for c in spec.acl),
        tips,
        key_specs,
        SetReply(command_info(s) for s in spec.subcommands.values()),
    ]


def command_docs(spec: CommandSpec) -> dict:
    hit = _DOCS_CACHE.get(id(spec))
    if hit is not None and hit[0] is spec and len(hit[1].get(b"subcommands", ())) == len(spec.subcommands):
        return hit[1]
    doc = _build_docs(spec)
    _DOCS_CACHE[id(spec)] = (spec, doc)
    return doc


def _build_docs(spec: CommandSpec) -> dict:
    ref = reference()["docs"]
    if spec.parent is None:
        raw = ref.get(spec.fullname)
    else:
        parent = ref.get(spec.parent.fullname) or {}
        raw = (parent.get("subcommands") or {}).get(spec.fullname)
    if raw is not None:
        doc = {k: v for k, v in raw.items() if k != "subcommands"}
        out = _decode(doc)
    else:
        out = {
            b"summary": spec.summary.encode(),
            b"since": spec.since.encode(),
            b"group": spec.group.replace("_", "-").encode(),
            b"complexity": spec.complexity.encode(),
        }
        if not spec.complexity:
            del out[b"complexity"]
    if spec.subcommands:
        out[b"subcommands"] = {s.fullname.encode(): command_docs(s) for s in spec.subcommands.values()}
    return out


def _all_specs() -> list[CommandSpec]:
    out = []
    for spec in TABLE.values():
        out.append(spec)
        out.extend(spec.subcommands.values())
    return out


@command("COMMAND", arity=-1, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(N) where N is the total number of Redis commands")
def command_(ctx: Client, *args: bytes):
    """Returns detailed information about all commands."""
    if args:  # unknown subcommand (subcommands are dispatched by the table)
        raise CommandError("ERR unknown subcommand '%s'. Try COMMAND HELP." % args[0].decode("utf-8", "replace")[:128])
    return [command_info(s) for s in TABLE.values()]


# COMMAND has both a plain form and subcommands: the table dispatches subcommands only when
# the container has no handler, so COMMAND's own handler resolves them itself (below).


@command("COMMAND|COUNT", arity=2, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(1)")
def command_count(ctx: Client):
    """Returns a count of commands."""
    return len(TABLE)


@command("COMMAND|INFO", arity=-2, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(N) where N is the number of commands to look up")
def command_info_(ctx: Client, *names: bytes):
    """Returns information about one, multiple or all commands."""
    if not names:
        return [command_info(s) for s in TABLE.values()]
    out = []
    for n in names:
        spec = _lookup_full(n)
        out.append(command_info(spec) if spec is not None else None)
    return out


@command("COMMAND|DOCS", arity=-2, flags="loading stale", group="server", acl="connection", since="7.0.0",
         complexity="O(N) where N is the number of commands to look up")
def command_docs_(ctx: Client, *names: bytes):
    """Returns documentary information about one, multiple or all commands."""
    if not names:
        return {s.fullname.encode(): command_docs(s) for s in TABLE.values()}
    out = {}
    for n in names:
        spec = _lookup_full(n)
        if spec is not None:
            out[spec.fullname.encode()] = command_docs(spec)
    return out


def _list_filter(kind: bytes, value: bytes):
    k = kind.upper()
    if k == b"MODULE":
        return lambda s: False
    if k == b"ACLCAT":
        cat = value.decode("utf-8", "replace").lower()
        return lambda s: cat in s.acl
    if k == b"PATTERN":
        return lambda s: glob_match(value, s.fullname.encode(), nocase=True)
    raise CommandError(SYNTAX)


@command("COMMAND|LIST", arity=-2, flags="loading stale", group="server", acl="connection", since="7.0.0",
         complexity="O(N) where N is the total number of Redis commands")
def command_list(ctx: Client, *args: bytes):
    """Returns a list of command names."""
    specs = _all_specs()
    if args:
        if len(args) != 3 or args[0].upper() != b"FILTERBY":
            raise CommandError(SYNTAX)
        keep = _list_filter(args[1], args[2])
        specs = [s for s in specs if keep(s)]
    return [s.fullname.encode() for s in specs]


def _only_not_keys(spec: CommandSpec) -> bool:
    """Key specs that all say not_key (shard channels of SPUBLISH...): Redis's
    doesCommandHaveKeys is false for them."""
    ref = reference()["info"].get(spec.fullname)
    if ref is None:
        return False
    specs = ref["key_specs"]["~"]
    return bool(specs) and all({"+": "not_key"} in ks.get("flags", {"~": []})["~"] for ks in specs)


def _getkeys_common(argv: tuple[bytes, ...]) -> tuple[CommandSpec, list[int]]:
    spec = _resolve_argv(argv)
    if spec is None or (spec.subcommands and spec.handler is None):
        raise CommandError("ERR Invalid command specified")
    if (spec.getkeys is None and spec.first_key <= 0) or _only_not_keys(spec):
        raise CommandError("ERR The command has no key arguments")
    n = len(argv)
    if (spec.arity > 0 and spec.arity != n) or n < -spec.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    try:
        positions = spec.key_positions(list(argv))
    except CommandError:
        positions = []
    if not positions and "no_mandatory_keys" not in spec.flags:
        raise CommandError("ERR Invalid arguments specified for command")
    return spec, positions


@command("COMMAND|GETKEYS", arity=-4, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(N) where N is the number of arguments to the command")
def command_getkeys(ctx: Client, *argv: bytes):
    """Extracts the key names from an arbitrary command."""
    _, positions = _getkeys_common(argv)
    return [argv[i] for i in positions]


def _keyspec_positions(ks: dict, argv: tuple[bytes, ...]) -> list[int]:
    """Evaluate one captured key spec (begin_search + find_keys) over argv."""
    n = len(argv)
    bs = ks.get("begin_search", {})
    spec = bs.get("spec", {})
    if bs.get("type") == "index":
        first = spec["index"]
    elif bs.get("type") == "keyword":
        kw = spec["keyword"].encode().lower()
        start = spec["startfrom"]
        first = -1
        if start >= 0:
            for i in range(start, n):
                if argv[i].lower() == kw:
                    first = i + 1
                    break
        else:
            for i in range(n + start, 0, -1):
                if argv[i].lower() == kw:
                    first = i + 1
                    break
        if first < 0:
            return []
    else:
        return []
    fk = ks.get("find_keys", {})
    fs = fk.get("spec", {})
    if fk.get("type") == "range":
        lastkey, step, limit = fs["lastkey"], fs["keystep"], fs["limit"]
        if lastkey >= 0:
            last = first + lastkey
        elif limit <= 1:
            last = n + lastkey
        else:
            last = first + ((n - first) // limit + lastkey)
        return [i for i in range(first, min(last, n - 1) + 1, step)]
    if fk.get("type") == "keynum":
        idx = first + fs["keynumidx"]
        if idx >= n:
            return []
        try:
            num = int(argv[idx])
        except ValueError:
            return []
        start = first + fs["firstkey"]
        return [start + j * fs["keystep"] for j in range(num) if start + j * fs["keystep"] < n]
    return []


@command("COMMAND|GETKEYSANDFLAGS", arity=-4, flags="loading stale", group="server", acl="connection",
         since="7.0.0", complexity="O(N) where N is the number of arguments to the command")
def command_getkeysandflags(ctx: Client, *argv: bytes):
    """Extracts the key names and access flags for an arbitrary command."""
    spec, positions = _getkeys_common(argv)
    # Key specs flagged variable_flags: Redis's getkeys procs decide from the arguments.
    if spec.fullname == "set":
        get = any(a.upper() == b"GET" for a in argv[3:])
        fl = [b"RW", b"access", b"update"] if get else [b"OW", b"update"]
        return [[argv[1], SetReply(Simple(f) for f in fl)]]
    if spec.fullname == "bitfield":
        write = False  # read-only only when every operation is a well-formed GET/OVERFLOW
        i, n = 2, len(argv)
        while i < n:
            op, rem = argv[i].upper(), n - i - 1
            if op == b"GET" and rem >= 2:
                i += 3
            elif op == b"OVERFLOW" and rem >= 1:
                i += 2
            else:
                write = True
                break
        fl = [b"RW", b"access", b"update"] if write else [b"RO", b"access"]
        return [[argv[1], SetReply(Simple(f) for f in fl)]]
    ref = reference()["info"].get(spec.fullname)
    flags_at: dict[int, SetReply] = {}
    if ref is not None:
        for ks in ref["key_specs"]["~"]:
            fl = SetReply(Simple(f["+"].encode()) for f in ks.get("flags", {"~": []})["~"]
                          if f["+"] not in ("variable_flags", "incomplete"))
            for p in _keyspec_positions(ks, argv):
                flags_at.setdefault(p, fl)
    return [[argv[i], flags_at.get(i, SetReply())] for i in positions]


_COMMAND_HELP = [
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
]


def _help(lines: list[str]) -> list:
    return [Simple(x.encode()) for x in lines]


@command("COMMAND|HELP", arity=2, flags="loading stale", group="server", acl="connection", since="5.0.0",
         complexity="O(1)")
def command_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return _help(_COMMAND_HELP)


# --- CONFIG -------------------------------------------------------------------------------
container("CONFIG", group="server", summary="A container for server configuration commands", since="2.0.0")


@command("CONFIG|GET", arity=-3, flags="admin noscript loading stale", group="server", since="2.0.0",
         complexity="O(N) when N is the number of configuration parameters provided")
def config_get(ctx: Client, *patterns: bytes):
    """Returns the effective values of configuration parameters."""
    cfg = ctx.server.config
    out: dict[bytes, bytes] = {}
    for p in patterns:
        for k, v in cfg.get(p.decode("utf-8", "surrogateescape")).items():
            kb = k.encode("utf-8", "surrogateescape")
            if kb not in out:
                out[kb] = v.encode("utf-8", "surrogateescape")
    return out


def _protected_allowed(ctx: Client, option: str) -> bool:
    v = ctx.server.config[option]
    if v == "yes":
        return True
    if v == "local":
        host = ctx.addr.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "::1", "[::1]") or ctx.addr.startswith("/") or ctx.fd == -1
    return False


def apply_runtime_config(state, names: set[str]) -> None:
    """Effects of a CONFIG SET that are not read from the config at each use."""
    cfg = state.config
    if names & {"proto-max-bulk-len", "client-query-buffer-limit"}:
        bulk, qbuf = cfg["proto-max-bulk-len"], cfg["client-query-buffer-limit"]
        for c in list(state.clients.values()):
            lim = c.parser_limits
            if lim is not None:
                lim.proto_max_bulk_len = bulk
                lim.query_buffer_limit = qbuf


@command("CONFIG|SET", arity=-4, flags="admin noscript loading stale", group="server", since="2.0.0",
         complexity="O(N) when N is the number of configuration parameters provided")
def config_set(ctx: Client, *args: bytes):
    """Sets configuration parameters in-flight."""
    if len(args) % 2:
        raise CommandError(SYNTAX)
    pairs = [(args[i].decode("utf-8", "surrogateescape"), args[i + 1].decode("utf-8", "surrogateescape"))
             for i in range(0, len(args), 2)]
    state = ctx.server
    try:
        state.config.set_many(pairs, allow_protected=_protected_allowed(ctx, "enable-protected-configs"))
    except ConfigError as e:
        raise CommandError("ERR " + str(e)) from None
    from ..config import TABLE as CONFIG_TABLE

    apply_runtime_config(state, {CONFIG_TABLE[n.lower()].name for n, _ in pairs})
    return OK


@command("CONFIG|RESETSTAT", arity=2, flags="admin noscript loading stale", group="server", since="2.0.0",
         complexity="O(1)")
def config_resetstat(ctx: Client):
    """Resets the server's statistics."""
    state = ctx.server
    state.stats.reset()
    for spec in _all_specs():
        spec.calls = spec.usec = spec.rejected_calls = spec.failed_calls = 0
    _metrics(state).reset()
    return OK


@command("CONFIG|REWRITE", arity=2, flags="admin noscript loading stale", group="server", since="2.8.0",
         complexity="O(1)")
def config_rewrite(ctx: Client):
    """Persists the effective configuration to file."""
    try:
        ctx.server.config.rewrite()
    except ConfigError as e:
        raise CommandError("ERR " + str(e)) from None
    return OK


_CONFIG_HELP = [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
]


@command("CONFIG|HELP", arity=2, flags="loading stale", group="server", since="5.0.0", complexity="O(1)")
def config_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return _help(_CONFIG_HELP)


# --- INFO ---------------------------------------------------------------------------------
class _Metrics:
    """Per-server samples for the instantaneous_* figures (Redis's trackInstantaneousMetric):
    16 samples taken every 100 ms by a cron handler."""

    def __init__(self) -> None:
        self.reset()
        self.peak_memory = 0

    def reset(self) -> None:
        self.last_t = time.monotonic()
        self.last = (0, 0, 0)
        self.samples: dict[str, deque] = {k: deque(maxlen=16) for k in ("ops", "in", "out")}

    def sample(self, state) -> None:
        now = time.monotonic()
        dt = now - self.last_t
        if dt < 0.1:
            return
        st = state.stats
        cur = (st.total_commands_processed, st.total_net_input_bytes, st.total_net_output_bytes)
        for key, a, b in zip(("ops", "in", "out"), cur, self.last):
            self.samples[key].append((a - b) / dt if a >= b else 0.0)
        self.last, self.last_t = cur, now

    def rate(self, key: str) -> float:
        s = self.samples[key]
        return sum(s) / len(s) if s else 0.0


def _metrics(state) -> _Metrics:
    m = getattr(state, "_info_metrics", None)
    if m is None:
        m = state._info_metrics = _Metrics()
        state.hz_cron_handlers.append(lambda: m.sample(state))
    return m


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
    now = time.time()
    uptime = int(now - state.start_time)
    u = platform.uname()
    srv = state.server
    cron_hz = cfg["hz"]
    return [
        ("redis_version", REDIS_VERSION),
        ("pyredis_version", __version__),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "standalone"),
        ("os", f"{u.system} {u.release} {u.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if sys.platform.startswith("linux") else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", state.run_id),
        ("tcp_port", state.tcp_port or (srv.port if srv is not None else cfg["port"])),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", cron_hz),
        ("configured_hz", cron_hz),
        ("lru_clock", (int(now * 1000) // 1000) & ((1 << 24) - 1)),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else sys.executable),
        ("config_file", cfg.config_file or ""),
        ("io_threads_active", 0),
    ]


def _sec_clients(state) -> list[tuple[str, Any]]:
    clients = state.clients.values()
    blocked = sum(1 for c in clients if c.blocked is not None)
    tracking = sum(1 for c in clients if c.tracking)
    return [
        ("connected_clients", len(state.clients)),
        ("cluster_connections", 0),
        ("maxclients", state.config["maxclients"]),
        ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", blocked),
        ("tracking_clients", tracking),
        ("clients_in_timeout_table", blocked),
    ]


def _sec_memory(state) -> list[tuple[str, Any]]:
    # pyredis has no allocator of its own: used_memory is the process RSS (from
    # /proc/self/statm), which includes the interpreter; the allocator_* and ratio fields
    # are derived from it so tools that parse them get consistent numbers.
    cfg = state.config
    rss = _rss_bytes()
    m = _metrics(state)
    used = rss
    m.peak_memory = max(m.peak_memory, used)
    peak = m.peak_memory
    startup = getattr(state, "_info_startup_memory", None)
    if startup is None:
        startup = state._info_startup_memory = used
    overhead = min(used, startup)
    dataset = max(0, used - overhead)
    total_sys = _total_system_memory()
    maxmem = cfg["maxmemory"]
    net = max(1, used - startup)
    return [
        ("used_memory", used),
        ("used_memory_human", _human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", _human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", _human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100.0 / peak if peak else 100.0)),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % (dataset * 100.0 / net if used > startup else 0.0)),
        ("allocator_allocated", used),
        ("allocator_active", rss),
        ("allocator_resident", rss),
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
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"),
        ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
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
    m = _metrics(state)
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
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", "%.2f" % (m.rate("in") / 1024)),
        ("instantaneous_output_kbps", "%.2f" % (m.rate("out") / 1024)),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", st.rejected_connections),
        ("sync_full", 0),
        ("sync_partial_ok", 0),
        ("sync_partial_err", 0),
        ("expired_keys", st.expired_keys),
        ("expired_stale_perc", "%.2f" % (st.expired_stale_perc * 100)),
        ("expired_time_cap_reached_count", st.expired_time_cap_reached_count),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", st.evicted_keys),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", st.keyspace_hits),
        ("keyspace_misses", st.keyspace_misses),
        ("pubsub_channels", n_channels),
        ("pubsub_patterns", n_patterns),
        ("pubsubshard_channels", n_shard),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", len(getattr(state, "migrate_sockets", None) or ())),
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
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


def _replid(state) -> str:
    r = getattr(state, "_replid", None)
    if r is None:
        r = state._replid = os.urandom(20).hex()
    return r


def _sec_replication(state) -> list[tuple[str, Any]]:
    return [
        ("role", "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", _replid(state)),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", state.config["repl-backlog-size"]),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


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
    for spec in _all_specs():
        if spec.calls or spec.failed_calls or spec.rejected_calls:
            per = spec.usec / spec.calls if spec.calls else 0.0
            out.append((f"cmdstat_{spec.fullname}",
                        f"calls={spec.calls},usec={spec.usec},usec_per_call={per:.2f},"
                        f"rejected_calls={spec.rejected_calls},failed_calls={spec.failed_calls}"))
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
        out.append((f"db{db.id}", f"keys={n},expires={len(exp)},avg_ttl={avg}"))
    return out


_SECTIONS = {
    "server": _sec_server, "clients": _sec_clients, "memory": _sec_memory,
    "persistence": _sec_persistence, "stats": _sec_stats, "replication": _sec_replication,
    "cpu": _sec_cpu, "modules": lambda s: [], "commandstats": _sec_commandstats,
    "errorstats": _sec_errorstats, "latencystats": lambda s: [],
    "cluster": lambda s: [("cluster_enabled", 0)], "keyspace": _sec_keyspace,
}


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


# --- TIME, LASTSAVE, ROLE, REPLICAOF ------------------------------------------------------
@command("TIME", arity=1, flags="loading stale fast", group="server", acl="", since="2.6.0", complexity="O(1)")
def time_(ctx: Client):
    """Returns the server time."""
    us = ctx.server.clock.us()
    return [str(us // 1_000_000).encode(), str(us % 1_000_000).encode()]


@command("LASTSAVE", arity=1, flags="loading stale fast", group="server", acl="admin dangerous", since="1.0.0",
         complexity="O(1)")
def lastsave(ctx: Client):
    """Returns the Unix timestamp of the last successful save to disk."""
    return int(ctx.server.lastsave)


@command("ROLE", arity=1, flags="noscript loading stale fast", group="server", acl="admin dangerous",
         since="2.8.12", complexity="O(1)")
def role(ctx: Client):
    """Returns the replication role."""
    return [b"master", 0, []]


def _replicaof(ctx: Client, host: bytes, port: bytes):
    if host.lower() == b"no" and port.lower() == b"one":
        return OK
    from ..util import string2ll

    p = string2ll(port)
    if p is None or p < 0 or p > 65535:
        raise CommandError("ERR Invalid master port")
    raise CommandError("ERR pyredis does not support replication: only REPLICAOF NO ONE is accepted")


@command("REPLICAOF", arity=3, flags="admin noscript stale no_async_loading", group="server", since="5.0.0",
         complexity="O(1)")
def replicaof(ctx: Client, host: bytes, port: bytes):
    """Configures a server as replica of another, or promotes it to a master."""
    return _replicaof(ctx, host, port)


@command("SLAVEOF", arity=3, flags="admin noscript stale no_async_loading", group="server", since="1.0.0",
         complexity="O(1)")
def slaveof(ctx: Client, host: bytes, port: bytes):
    """Sets a Redis server as a replica of another, or promotes it to being a master."""
    return _replicaof(ctx, host, port)


# --- SHUTDOWN -----------------------------------------------------------------------------
@command("SHUTDOWN", arity=-1, flags="admin noscript loading stale no_multi allow_busy", group="server",
         since="1.0.0", complexity="O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)")
def shutdown(ctx: Client, *args: bytes):
    """Synchronously saves the database(s) to disk and shuts down the Redis server."""
    save: bool | None = None
    now = force = abort = False
    for a in args:
        u = a.upper()
        if u == b"NOSAVE" and save is None:
            save = False
        elif u == b"SAVE" and save is None:
            save = True
        elif u == b"NOW":
            now = True
        elif u == b"FORCE":
            force = True
        elif u == b"ABORT":
            abort = True
        else:
            raise CommandError(SYNTAX)
    if abort and (save is not None or now or force):
        raise CommandError(SYNTAX)
    state = ctx.server
    if abort:
        raise CommandError("ERR No shutdown in progress.")
    if state.persistence is not None:
        from ..persistence.manager import PersistenceError

        try:
            state.persistence.prepare_shutdown(save, force)
        except PersistenceError as e:
            raise CommandError(str(e)) from None
        state.shutdown_prepared = True
    state.shutdown_requested = (save, now)
    state.shutdown_force = force
    ctx.close_after_reply = True
    return NO_REPLY


# --- DEBUG --------------------------------------------------------------------------------
DEBUG_NOT_ALLOWED = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it '
    "from a local connection, otherwise you need to set this option in the configuration file, and then "
    "restart the server."
)



# Other subsystems register DEBUG subcommands here: NAME -> handler(ctx, *args) (RELOAD, ...).
DEBUG_EXTENSIONS: dict[bytes, Any] = {}

_DEBUG_HELP = [
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
]


def _atoi(b: bytes) -> int:
    """C atoi: leading spaces, sign, digits; anything else stops (0 when none)."""
    s = b.strip()
    i = 0
    if s[:1] in (b"-", b"+"):
        i = 1
    j = i
    while j < len(s) and 48 <= s[j] <= 57:
        j += 1
    if j == i:
        return 0
    return int(s[:j])


def _strtod(b: bytes) -> float:
    s = b.strip().decode("ascii", "replace")
    for end in range(len(s), 0, -1):
        try:
            return float(s[:end])
        except ValueError:
            continue
    return 0.0


def _serialized_length(v, config=None) -> int:
    """rdbSavedObjectLen: the value's RDB serialization, without its type byte."""
    if config is not None:
        try:
            from ..persistence.rdb import encode_object

            return len(encode_object(v, config)[1])
        except Exception:  # noqa: BLE001 - a type the RDB writer does not know: estimate below
            pass
    if type(v) is bytes:
        n = len(v)
        from ..util import string2ll

        iv = string2ll(v) if n <= 20 else None
        if iv is not None:
            if -128 <= iv <= 127:
                return 2
            if -32768 <= iv <= 32767:
                return 3
            if -(2**31) <= iv <= 2**31 - 1:
                return 5
        return n + (1 if n < 64 else 2 if n < 16384 else 5)
    return _approx_size(v)


def _debug_object(ctx: Client, key: bytes) -> Simple:
    v = ctx.db.lookup(key)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    enc = value_encoding(v, ctx.server.config).decode()
    lru = (ctx.now // 1000) & ((1 << 24) - 1)
    refcount = 1
    if enc == "int" and 0 <= int(v) < 10000:
        refcount = 2147483647  # a shared integer object (OBJ_SHARED_REFCOUNT)
    text = (f"Value at:0x{id(v):x} refcount:{refcount} encoding:{enc} serializedlength:{_serialized_length(v, ctx.server.config)} "
            f"lru:{lru} lru_seconds_idle:0")
    if enc == "quicklist":
        lp = _lp_bytes(v)
        nodes = max(1, -(-lp // 8192))  # nodes of about 8 KB (list-max-listpack-size -2)
        text += " ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%d" % (
            nodes, len(v) / nodes, ctx.server.config["list-max-listpack-size"],
            ctx.server.config["list-compress-depth"] != 0, lp)
    return Simple(text.encode())


def _debug_protocol(ctx: Client, kind: bytes):
    from ..protocol.replies import BigNumber, Boolean, Push

    k = kind.lower()
    if k == b"string":
        return b"Hello World"
    if k == b"integer":
        return 12345
    if k == b"double":
        return Double(3.141)
    if k == b"bignum":
        return BigNumber(b"1234567999999999999999999999999999999")
    if k == b"null":
        return None
    if k == b"array":
        return [0, 1, 2]
    if k == b"set":
        return SetReply([0, 1, 2])
    if k == b"map":
        return {0: Boolean(0) if ctx.resp == 3 else 0, 1: Boolean(1) if ctx.resp == 3 else 1,
                2: Boolean(0) if ctx.resp == 3 else 0}
    if k == b"attrib":
        return b"Some real reply following the attribute"
    if k == b"push":
        if ctx.resp < 3:
            raise CommandError("ERR RESP2 is not supported by this command")
        if ctx.write_push is not None:
            ctx.write_push(Push([b"server-cpu-usage", 42]))
        return b"Some real reply following the push reply"
    if k == b"true":
        return Boolean(1)
    if k == b"false":
        return Boolean(0)
    if k == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    raise CommandError("ERR Wrong protocol type name. Please use one of the following: string|integer|"
                       "double|bignum|null|array|set|map|attrib|push|verbatim|true|false")


# --- DEBUG DIGEST / DIGEST-VALUE: redis-server's dataset digest (SHA1 mixes and xors) ---
_ZERO20 = bytes(20)


def _xor(d: bytes, data: bytes) -> bytes:
    """xorDigest: d ^= SHA1(data)."""
    h = hashlib.sha1(data).digest()
    return bytes(a ^ b for a, b in zip(d, h))


def _mix(d: bytes, data: bytes) -> bytes:
    """mixDigest: d ^= SHA1(data), then d = SHA1(d) (so the order of mixes matters)."""
    return hashlib.sha1(_xor(d, data)).digest()


def _value_digest(db, key: bytes, v, d: bytes = _ZERO20) -> bytes:
    """xorObjectDigest: the type, the value (ordered for lists, order-free for the others), expiry."""
    from ..keyspace.types import type_name

    t = type_name(v)
    code = {b"string": 0, b"list": 1, b"set": 2, b"zset": 3, b"hash": 4, b"stream": 6}.get(t, 6)
    d = _mix(d, struct.pack(">I", code))
    if t == b"string":
        d = _mix(d, v)
    elif t == b"list":
        for e in v:
            d = _mix(d, e)
    elif t == b"set":
        for m in v:
            d = _xor(d, m)
    elif t == b"zset":
        for m, score in v.scores.items():
            d = _xor(d, _mix(_mix(_ZERO20, m), (b"%.17g" % score)))
    elif t == b"hash":
        for f, val in v.items():
            d = _xor(d, _mix(_mix(_ZERO20, f), val))
    elif t == b"stream":
        from ..keyspace.stream import digest_parts

        for x in digest_parts(v):
            d = _mix(d, x)
    if db.expires and key in db.expires:
        d = _xor(d, b"!!expire!!")
    return d


def dataset_digest(state) -> bytes:
    final = _ZERO20
    for db in state.dbs:
        if not db.data:
            continue
        final = _mix(final, struct.pack(">I", db.id))
        for key, v in list(db.data.items()):
            final = _xor(final, _value_digest(db, key, v, _mix(_ZERO20, key)))
    return final


def _positive(b: bytes) -> int:
    from ..util import string2ll

    v = string2ll(b)
    if v is None or v < 0:  # getPositiveLongFromObjectOrReply has one text for both
        raise CommandError("ERR value is out of range, must be positive")
    return v


def _debug_populate(ctx: Client, count: bytes, prefix: bytes = b"key", size: bytes | None = None):
    """DEBUG POPULATE: keys <prefix>:<n> holding value:<n> (cut or zero-padded to size);
    existing keys are skipped; nothing is propagated."""
    keys = _positive(count)
    valsize = _positive(size) if size is not None else 0
    db = ctx.db
    state = ctx.server
    for j in range(keys):
        key = b"%s:%d" % (prefix, j)
        if db.lookup(key) is not None:
            continue
        val = b"value:%d" % j
        if valsize:
            val = val[:valsize].ljust(valsize, b"\x00")
        db.add(key, val)
        if state.key_change_hooks:
            state.signal_modified(db, key)
    return OK


@command("DEBUG", arity=-2, flags="admin noscript loading stale", group="server", since="1.0.0",
         complexity="Depends on subcommand.")
def debug(ctx: Client, sub: bytes, *args: bytes):
    """A container for debugging commands."""
    if not _protected_allowed(ctx, "enable-debug-command"):
        raise CommandError(DEBUG_NOT_ALLOWED)
    s = sub.upper()
    n = len(args)
    ext = DEBUG_EXTENSIONS.get(s)
    if ext is not None:
        return ext(ctx, *args)
    if s == b"HELP" and n == 0:
        return _help(_DEBUG_HELP)
    if s == b"SLEEP" and n == 1:
        secs = _strtod(args[0])
        if secs > 0:
            time.sleep(secs)
        return OK
    if s == b"OBJECT" and n == 1:
        return _debug_object(ctx, args[0])
    if s == b"SET-ACTIVE-EXPIRE" and n == 1:
        ctx.server.active_expire_enabled = _atoi(args[0]) != 0
        return OK
    if s == b"ERROR" and n == 1:
        return ErrorReply(args[0])
    if s == b"LOG" and n == 1:
        srv = ctx.server.server
        if srv is not None:
            srv.log("warning", "DEBUG LOG: " + args[0].decode("utf-8", "replace"))
        return OK
    if s == b"PROTOCOL" and n == 1:
        return _debug_protocol(ctx, args[0])
    if s == b"CHANGE-REPL-ID" and n == 0:
        ctx.server._replid = os.urandom(20).hex()
        return OK
    if s in (b"QUICKLIST-PACKED-THRESHOLD", b"SET-SKIP-CHECKSUM-VALIDATION", b"PAUSE-CRON",
             b"AOF-FLUSH-SLEEP", b"SET-DISABLE-DENY-SCRIPTS") and n == 1:
        return OK
    if s == b"DIGEST" and n == 0:
        return Simple(dataset_digest(ctx.server).hex().encode())
    if s == b"DIGEST-VALUE" and n >= 1:
        out = []
        for key in args:
            v = ctx.db.lookup(key)
            out.append(Simple((_value_digest(ctx.db, key, v) if v is not None else _ZERO20).hex().encode()))
        return out
    if s == b"POPULATE" and 1 <= n <= 3:
        return _debug_populate(ctx, *args)
    if s == b"SEGFAULT" and n == 0:
        import ctypes

        ctypes.string_at(0)  # a read of address 0: SIGSEGV, and the crash report in the log
    if s == b"PANIC" and n == 0:
        _panic(ctx, "DEBUG PANIC called at Unix time %d" % int(time.time()))
    if s == b"STRINGMATCH-TEST" and n == 0:
        return Simple(b"Apparently Redis did not crash: test passed")
    if s == b"SDSLEN" and n == 1:
        v = ctx.db.lookup(args[0])
        if v is None:
            raise CommandError(NO_SUCH_KEY)
        if type(v) is not bytes:
            raise CommandError("ERR Not an sds encoded string.")
        return Simple(("key_sds_len:%d, key_sds_avail:0, key_zmalloc: %d, val_sds_len:%d, val_sds_avail:0, "
                       "val_zmalloc: %d" % (len(args[0]), len(args[0]) + 9, len(v), len(v) + 9)).encode())
    raise CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP."
                       % sub.decode("utf-8", "replace")[:128])


def _panic(ctx: Client, msg: str) -> None:
    """serverPanic: the Guru Meditation line, then abort() (SIGABRT: the crash report follows)."""
    srv = ctx.server.server
    if srv is not None:
        srv.log("warning", "------------------------------------------------")
        srv.log("warning", "!!! Software Failure. Press left mouse button to continue")
        srv.log("warning", "Guru Meditation: %s" % msg)
    os.abort()


# --- SLOWLOG ------------------------------------------------------------------------------
container("SLOWLOG", group="server", summary="A container for slow log commands", since="2.2.12")


@command("SLOWLOG|GET", arity=-2, flags="admin loading stale", group="server", since="2.2.12",
         complexity="O(N) where N is the number of entries returned")
def slowlog_get(ctx: Client, *args: bytes):
    """Returns the slow log's entries."""
    count = 10
    if len(args) > 1:
        raise CommandError("ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.")
    if args:
        from ..util import string2ll

        v = string2ll(args[0])
        if v is None or v < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
        count = v
    log = ctx.server.slowlog
    entries = list(log) if count == -1 else list(log)[:count]
    return [[e[0], e[1], e[2], list(e[3]), e[4], e[5]] for e in entries]


@command("SLOWLOG|LEN", arity=2, flags="admin loading stale", group="server", since="2.2.12", complexity="O(1)")
def slowlog_len(ctx: Client):
    """Returns the number of entries in the slow log."""
    return len(ctx.server.slowlog)


@command("SLOWLOG|RESET", arity=2, flags="admin loading stale", group="server", since="2.2.12",
         complexity="O(N) where N is the number of entries in the slowlog")
def slowlog_reset(ctx: Client):
    """Clears all entries from the slow log."""
    ctx.server.slowlog.clear()
    return OK


_SLOWLOG_HELP = [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
]


@command("SLOWLOG|HELP", arity=2, flags="loading stale", group="server", since="6.2.0", complexity="O(1)")
def slowlog_help(ctx: Client):
    """Show helpful text about the different subcommands"""
    return _help(_SLOWLOG_HELP)


# --- LATENCY (minimal: the latency monitor never records, as with threshold 0) --------------
container("LATENCY", group="server", summary="A container for latency diagnostics commands", since="2.8.13")

_LATENCY_DOCTOR_OFF = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
    "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep "
    "space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
)
_LATENCY_DOCTOR_IDLE = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest "
    "bit. I honestly think you ought to sleep better tonight.\n"
)


@command("LATENCY|LATEST", arity=2, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_latest(ctx: Client):
    """Returns the latest latency samples for all events."""
    return []


@command("LATENCY|HISTORY", arity=3, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_history(ctx: Client, event: bytes):
    """Returns timestamp-latency samples for an event."""
    return []


@command("LATENCY|RESET", arity=-2, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_reset(ctx: Client, *events: bytes):
    """Resets the latency data for one or more events."""
    return 0


@command("LATENCY|GRAPH", arity=3, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_graph(ctx: Client, event: bytes):
    """Returns a latency graph for an event."""
    raise CommandError("ERR No samples available for event '%s'" % event.decode("utf-8", "replace"))


@command("LATENCY|DOCTOR", arity=2, flags="admin noscript loading stale", group="server", since="2.8.13",
         complexity="O(1)")
def latency_doctor(ctx: Client):
    """Returns a human-readable latency analysis report."""
    if ctx.server.config["latency-monitor-threshold"] == 0:
        return Verbatim(_LATENCY_DOCTOR_OFF.encode())
    return Verbatim(_LATENCY_DOCTOR_IDLE.encode())


@command("LATENCY|HISTOGRAM", arity=-2, flags="admin noscript loading stale", group="server", since="7.0.0",
         complexity="O(N) where N is the number of commands with latency information being retrieved.")
def latency_histogram(ctx: Client, *names: bytes):
    """Returns the cumulative distribution of latencies of a subset or all commands."""
    return {}


_LATENCY_HELP = [
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
]


@command("LATENCY|HELP", arity=2, flags="loading stale", group="server", since="2.8.13", complexity="O(1)")
def latency_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return _help(_LATENCY_HELP)


# --- MEMORY -------------------------------------------------------------------------------
container("MEMORY", group="server", summary="A container for memory diagnostics commands", since="4.0.0")


def _jemalloc(n: int) -> int:
    """The jemalloc size class serving an allocation of n bytes (4 classes per doubling)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    k = n.bit_length() - 1
    if n == 1 << k:
        return n
    step = 1 << (k - 2)
    return (n + step - 1) & ~(step - 1)


def _sds_header(n: int) -> int:
    return 1 if n < 32 else 3 if n < 256 else 5 if n < 65536 else 9 if n < 2**32 else 17


def _lp_entry(e: bytes) -> int:
    """Bytes of one listpack entry (encoding, data and back-length)."""
    from ..util import string2ll

    iv = string2ll(e) if len(e) <= 20 else None
    if iv is not None:
        n = (1 if 0 <= iv <= 127 else 2 if -4096 <= iv <= 4095 else 3 if -32768 <= iv <= 32767
             else 4 if -8388608 <= iv <= 8388607 else 5 if -(2**31) <= iv < 2**31 else 9)
    else:
        ln = len(e)
        n = ln + (1 if ln < 64 else 2 if ln < 4096 else 5)
    return n + (1 if n <= 127 else 2 if n < 16383 else 3 if n < 2097151 else 4 if n < 268435455 else 5)


def _lp_bytes(entries) -> int:
    return 6 + sum(_lp_entry(e) for e in entries) + 1


def _d2string(x: float) -> bytes:
    """d2string: integral values in the exact range print as integers, others with %.17g."""
    if x == 0:
        return b"-0" if str(x).startswith("-") else b"0"
    if -4503599627370495 < x < 4503599627370496 and x == int(x):
        return b"%d" % int(x)
    if x != x:
        return b"nan"
    if x in (float("inf"), float("-inf")):
        return b"inf" if x > 0 else b"-inf"
    return b"%.17g" % x


def _collection_size(v, enc: bytes, samples: int) -> int | None:
    """objectComputeSize for the compact encodings (listpack, intset, a one-node quicklist);
    None for the hash-table ones, which are estimated."""
    robj = 16
    if enc == b"intset":
        width = 2
        for m in v:
            iv = int(m)
            if not -32768 <= iv <= 32767:
                width = 4 if -(2**31) <= iv < 2**31 and width <= 4 else 8
                if width == 8:
                    break
        return robj + _jemalloc(8 + len(v) * width)
    if enc == b"listpack":
        if hasattr(v, "scores"):  # sorted set: member, score pairs
            items = (x for m, sc in v.scores.items() for x in (m, _d2string(sc)))
        elif hasattr(v, "items"):
            items = (x for kv in v.items() for x in kv)
        else:
            items = iter(v)
        return robj + _jemalloc(_lp_bytes(items))
    if enc == b"quicklist":
        lp = _lp_bytes(v)
        if lp <= 8192:
            return robj + 40 + 40 + _jemalloc(lp)  # quicklist + one node + its listpack
        return None
    if enc == b"hashtable" and len(v) and (hasattr(v, "items") or isinstance(v, set | frozenset)):
        # dict + bucket array (the slot count assumes no rehash in progress) + sampled entries
        n = len(v)
        slots = max(4, 1 << (n - 1).bit_length())
        sampled = 0
        elesize = 0
        it = iter(v.items()) if hasattr(v, "items") else ((m,) for m in v)
        for kv in it:
            elesize += 24 + sum(_jemalloc(_sds_header(len(x)) + len(x) + 1) for x in kv)
            sampled += 1
            if samples and sampled >= samples:
                break
        return robj + 56 + 8 * slots + int(elesize / sampled * n)
    return None


def _approx_size(v, samples: int = 5, config=None) -> int:
    """An estimate in the spirit of objectComputeSize: per-element overhead plus payload,
    extrapolated from up to `samples` elements (0 = all)."""
    if type(v) is bytes:
        enc = value_encoding(v, None)
        if enc == b"int":
            return 16  # the robj alone
        if enc == b"embstr":
            return _jemalloc(16 + 3 + len(v) + 1)  # robj and sds in one allocation
        return 16 + _jemalloc(_sds_header(len(v)) + len(v) + 1)
    from ..keyspace.types import type_name

    if type_name(v) == b"stream":
        from ..keyspace.stream import memory_usage

        return memory_usage(v, samples)
    exact = _collection_size(v, value_encoding(v, config), samples) if config is not None else None
    if exact is not None:
        return exact
    try:
        n = len(v)
    except TypeError:
        return 64
    if n == 0:
        return 64
    items: list = []
    try:
        it = iter(v.items()) if hasattr(v, "items") else iter(v)
        for x in it:
            items.append(x)
            if samples and len(items) >= samples:
                break
    except TypeError:
        return 64 + 16 * n
    total = 0
    for x in items:
        if isinstance(x, tuple):
            total += sum(len(p) if isinstance(p, bytes | bytearray) else 8 for p in x) + 16
        elif isinstance(x, bytes | bytearray):
            total += len(x) + 8
        else:
            total += 16
    return 64 + int(total / len(items) * n)


@command("MEMORY|USAGE", arity=-3, flags="readonly", keys=(2, 2, 1), group="server", since="4.0.0",
         complexity="O(N) where N is the number of samples.")
def memory_usage(ctx: Client, key: bytes, *args: bytes):
    """Estimates the memory usage of a key."""
    samples = 5
    i = 0
    while i < len(args):
        if args[i].upper() == b"SAMPLES" and i + 1 < len(args):
            from ..util import string2ll

            v = string2ll(args[i + 1])
            if v is None:
                raise CommandError(NOT_INTEGER)
            if v < 0:
                raise CommandError(SYNTAX)
            samples = v
            i += 2
        else:
            raise CommandError(SYNTAX)
    v = ctx.db.lookup(key)
    if v is None:
        return None
    # objectComputeSize + the key's sds + the dictEntry (24 bytes), as MEMORY USAGE adds them.
    return _approx_size(v, samples, ctx.server.config) + _jemalloc(_sds_header(len(key)) + len(key) + 1) + 24


@command("MEMORY|STATS", arity=2, flags="", group="server", since="4.0.0", complexity="O(1)")
def memory_stats(ctx: Client):
    """Returns details about memory usage."""
    state = ctx.server
    rss = _rss_bytes()
    peak = max(_metrics(state).peak_memory, rss)
    startup = getattr(state, "_info_startup_memory", None) or rss
    keys = sum(len(db.data) for db in state.dbs)
    dataset = max(0, rss - startup)
    out: dict = {
        b"peak.allocated": peak,
        b"total.allocated": rss,
        b"startup.allocated": startup,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": 0,
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    for db in state.dbs:
        if db.data:
            out[f"db.{db.id}".encode()] = {b"overhead.hashtable.main": len(db.data) * 24,
                                           b"overhead.hashtable.expires": len(db.expires) * 24}
    out.update({
        b"overhead.total": startup,
        b"keys.count": keys,
        b"keys.bytes-per-key": (rss - startup) // keys if keys else 0,
        b"dataset.bytes": dataset,
        b"dataset.percentage": Double(dataset * 100.0 / rss if rss else 0.0),
        b"peak.percentage": Double(rss * 100.0 / peak if peak else 100.0),
        b"allocator.allocated": rss,
        b"allocator.active": rss,
        b"allocator.resident": rss,
        b"allocator-fragmentation.ratio": Double(1.0),
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": Double(1.0),
        b"allocator-rss.bytes": 0,
        b"rss-overhead.ratio": Double(1.0),
        b"rss-overhead.bytes": 0,
        b"fragmentation": Double(1.0),
        b"fragmentation.bytes": 0,
    })
    return out


_MEMORY_DOCTOR_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these "
    "conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be "
    "back to our programming as soon as I finished rebooting.\n"
)
_MEMORY_DOCTOR_OK = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"


@command("MEMORY|DOCTOR", arity=2, flags="", group="server", since="4.0.0", complexity="O(1)")
def memory_doctor(ctx: Client):
    """Outputs a memory problems report."""
    keys = sum(len(db.data) for db in ctx.server.dbs)
    return Verbatim((_MEMORY_DOCTOR_EMPTY if keys < 1000 else _MEMORY_DOCTOR_OK).encode())


@command("MEMORY|MALLOC-STATS", arity=2, flags="", group="server", since="4.0.0", complexity="Depends on how much memory is allocated, could be slow")
def memory_malloc_stats(ctx: Client):
    """Returns the allocator statistics."""
    return Verbatim(b"Stats not supported for the current allocator")


@command("MEMORY|PURGE", arity=2, flags="", group="server", since="4.0.0", complexity="Depends on how much memory is allocated, could be slow")
def memory_purge(ctx: Client):
    """Asks the allocator to release memory."""
    import gc

    gc.collect()
    return OK


_MEMORY_HELP = [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
]


@command("MEMORY|HELP", arity=2, flags="loading stale", group="server", since="4.0.0", complexity="O(1)")
def memory_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return _help(_MEMORY_HELP)



# --- MONITOR ------------------------------------------------------------------------------


def _drop_monitor(c: Client) -> None:
    mons = c.server.monitors
    if c in mons:
        mons.remove(c)


@command("MONITOR", arity=1, flags="admin noscript loading stale", group="server", since="1.0.0", complexity="")
def monitor(ctx: Client):
    """Listens for all requests received by the server in real-time."""
    state = ctx.server
    if ctx.multi is not None or ctx.in_exec:
        raise CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if ctx in state.monitors:
        return NO_REPLY
    if _drop_monitor not in state.reset_hooks:
        state.reset_hooks.append(_drop_monitor)
        srv = state.server
        if srv is not None and hasattr(srv, "disconnect_hooks"):
            srv.disconnect_hooks.append(_drop_monitor)
    state.monitors.append(ctx)
    return OK
