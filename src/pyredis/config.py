"""The configuration: one table of directives, as Redis's static_configs[].

Each Directive has a name, aliases, a kind (bool/int/memory/enum/string/special), a default,
whether CONFIG SET may change it, and an optional apply hook the server installs (e.g. to
resize limits). Values are kept as Python values in `Config.values`; CONFIG GET renders them
as Redis does.

API:
    cfg = Config()
    cfg.load_file(path)                 # redis.conf syntax; raises ConfigError(line, text, msg)
    cfg.load_args(["--port", "6380"])   # redis-server style
    cfg.set(name, value_bytes)          # CONFIG SET semantics; raises ConfigError
    cfg.get(pattern) -> dict            # CONFIG GET semantics (glob on names and aliases)
    cfg["port"], cfg.port               # typed value
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .util import glob_match

MEMORY_UNITS = {"b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


class ConfigError(Exception):
    pass


@dataclass(eq=False)
class Directive:
    name: str
    kind: str  # bool | int | memory | enum | string | special
    default: Any
    mutable: bool = True
    aliases: tuple[str, ...] = ()
    enum: tuple[str, ...] = ()
    lo: int = -(2**63)
    hi: int = 2**63 - 1
    parse: Callable[[str], Any] | None = None  # special: text -> value (raise ValueError(msg))
    render: Callable[[Any], str] | None = None  # special: value -> CONFIG GET text
    apply: list[Callable[[Any], None]] = field(default_factory=list)
    multi_arg: bool = False  # special directives that take several words (save, bind...)
    hidden: bool = False


def parse_memory(text: str) -> int:
    t = text.lower()
    for unit in ("gb", "mb", "kb", "g", "m", "k", "b"):
        if t.endswith(unit):
            num = t[: -len(unit)]
            mul = MEMORY_UNITS[unit]
            break
    else:
        num, mul = t, 1
    if not num or not (num.isdigit() or (num[0] == "-" and num[1:].isdigit())):
        raise ValueError("argument must be a memory value")
    return int(num) * mul


def _parse_bool(text: str) -> bool:
    t = text.lower()
    if t == "yes":
        return True
    if t == "no":
        return False
    raise ValueError("argument must be 'yes' or 'no'")


TABLE: dict[str, Directive] = {}


def _d(name: str, kind: str, default: Any, **kw: Any) -> None:
    d = Directive(name, kind, default, **kw)
    TABLE[name] = d
    for a in d.aliases:
        TABLE[a] = d


def _render_save(v: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in v)


def _parse_save(text: str) -> list[tuple[int, int]]:
    words = text.split()
    if words == [] or words == ['""'] or text.strip() in ("", '""'):
        return []
    if len(words) % 2:
        raise ValueError("Invalid save parameters")
    out = []
    for i in range(0, len(words), 2):
        if not (words[i].isdigit() and words[i + 1].isdigit()):
            raise ValueError("Invalid save parameters")
        out.append((int(words[i]), int(words[i + 1])))
    return out


def _parse_words(text: str) -> list[str]:
    return text.split()


# --- the directives -------------------------------------------------------------------
# Network
_d("bind", "special", ["127.0.0.1", "-::1"], parse=_parse_words, render=" ".join, multi_arg=True)
_d("bind-source-addr", "string", "")
_d("port", "int", 6379, lo=0, hi=65535)
_d("tls-port", "int", 0, lo=0, hi=65535)
_d("unixsocket", "string", "", mutable=False)
_d("unixsocketperm", "int", 0, mutable=False)
_d("protected-mode", "bool", True)
_d("tcp-backlog", "int", 511, mutable=False)
_d("tcp-keepalive", "int", 300, lo=0, hi=2**31 - 1)
_d("timeout", "int", 0, lo=0, hi=2**31 - 1)
_d("socket-mark-id", "int", 0, lo=0)
# General
_d("daemonize", "bool", False, mutable=False)
_d("supervised", "enum", "no", mutable=False, enum=("upstart", "systemd", "auto", "no"))
_d("pidfile", "string", "", mutable=False)
_d("loglevel", "enum", "notice", enum=("debug", "verbose", "notice", "warning", "nothing"))
_d("logfile", "string", "", mutable=False)
_d("syslog-enabled", "bool", False, mutable=False)
_d("syslog-ident", "string", "redis", mutable=False)
_d("syslog-facility", "enum", "local0", mutable=False,
   enum=("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"))
_d("crash-log-enabled", "bool", True)
_d("crash-memcheck-enabled", "bool", True)
_d("databases", "int", 16, mutable=False, lo=1, hi=2**31 - 1)
_d("always-show-logo", "bool", False, mutable=False)
_d("set-proc-title", "bool", True, mutable=False)
_d("proc-title-template", "string", "{title} {listen-addr} {server-mode}")
_d("enable-protected-configs", "enum", "no", mutable=False, enum=("no", "yes", "local"))
_d("enable-debug-command", "enum", "no", mutable=False, enum=("no", "yes", "local"))
_d("enable-module-command", "enum", "no", mutable=False, enum=("no", "yes", "local"))
# Snapshotting
_d("save", "special", [(3600, 1), (300, 100), (60, 10000)], parse=_parse_save, render=_render_save, multi_arg=True)
_d("stop-writes-on-bgsave-error", "bool", True)
_d("rdbcompression", "bool", True)
_d("rdbchecksum", "bool", True)
_d("sanitize-dump-payload", "enum", "no", enum=("no", "yes", "clients"))
_d("dbfilename", "string", "dump.rdb")
_d("rdb-del-sync-files", "bool", False)
_d("dir", "string", "", )
_d("rdb-key-save-delay", "int", 0, lo=-(2**31), hi=2**31 - 1)
_d("key-load-delay", "int", 0, lo=-(2**31), hi=2**31 - 1)
# Replication (accepted; pyredis has no replication)
_d("replicaof", "special", "", parse=lambda t: t, render=lambda v: v, multi_arg=True, mutable=False,
   aliases=("slaveof",))
_d("masterauth", "string", "")
_d("masteruser", "string", "")
_d("replica-serve-stale-data", "bool", True, aliases=("slave-serve-stale-data",))
_d("replica-read-only", "bool", True, aliases=("slave-read-only",))
_d("repl-diskless-sync", "bool", True)
_d("repl-diskless-sync-delay", "int", 5, lo=0)
_d("repl-diskless-sync-max-replicas", "int", 0, lo=0)
_d("repl-diskless-load", "enum", "disabled", enum=("disabled", "on-empty-db", "swapdb"))
_d("repl-ping-replica-period", "int", 10, lo=1, aliases=("repl-ping-slave-period",))
_d("repl-timeout", "int", 60, lo=1)
_d("repl-disable-tcp-nodelay", "bool", False)
_d("repl-backlog-size", "memory", 1024 * 1024, lo=1)
_d("repl-backlog-ttl", "int", 3600, lo=0)
_d("replica-priority", "int", 100, lo=0, aliases=("slave-priority",))
_d("propagation-error-behavior", "enum", "ignore", enum=("ignore", "panic", "panic-on-replicas"))
_d("replica-ignore-disk-write-errors", "bool", False)
_d("replica-announced", "bool", True)
_d("min-replicas-to-write", "int", 0, lo=0, aliases=("min-slaves-to-write",))
_d("min-replicas-max-lag", "int", 10, lo=0, aliases=("min-slaves-max-lag",))
_d("replica-announce-ip", "string", "", aliases=("slave-announce-ip",))
_d("replica-announce-port", "int", 0, lo=0, hi=65535, aliases=("slave-announce-port",))
_d("replica-lazy-flush", "bool", False, aliases=("slave-lazy-flush",))
_d("replica-ignore-maxmemory", "bool", True, aliases=("slave-ignore-maxmemory",))
# Keys tracking
_d("tracking-table-max-keys", "int", 1000000, lo=0)
# Security
_d("acllog-max-len", "int", 128, lo=0)
_d("aclfile", "string", "", mutable=False)
_d("requirepass", "string", "")
_d("acl-pubsub-default", "enum", "resetchannels", enum=("allchannels", "resetchannels"))
# Clients
_d("maxclients", "int", 10000, lo=1)
# Memory management
_d("maxmemory", "memory", 0, lo=0)
_d("maxmemory-policy", "enum", "noeviction", enum=(
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
    "allkeys-lfu", "allkeys-random", "noeviction"))
_d("maxmemory-samples", "int", 5, lo=1, hi=2**31 - 1)
_d("maxmemory-eviction-tenacity", "int", 10, lo=0, hi=100)
_d("maxmemory-clients", "memory", 0, lo=0)
_d("active-expire-effort", "int", 1, lo=1, hi=10)
_d("lazyfree-lazy-eviction", "bool", False)
_d("lazyfree-lazy-expire", "bool", False)
_d("lazyfree-lazy-server-del", "bool", False)
_d("lazyfree-lazy-user-del", "bool", False)
_d("lazyfree-lazy-user-flush", "bool", False)
_d("io-threads", "int", 1, mutable=False, lo=1, hi=128)
_d("io-threads-do-reads", "bool", False, mutable=False)
_d("oom-score-adj", "enum", "no", enum=("no", "yes", "relative", "absolute"))
_d("oom-score-adj-values", "special", "0 200 800", parse=lambda t: " ".join(t.split()),
   render=lambda v: v, multi_arg=True)
_d("disable-thp", "bool", True, mutable=False)
# Append only mode
_d("appendonly", "bool", False)
_d("appendfilename", "string", "appendonly.aof", mutable=False)
_d("appenddirname", "string", "appendonlydir", mutable=False)
_d("appendfsync", "enum", "everysec", enum=("always", "everysec", "no"))
_d("no-appendfsync-on-rewrite", "bool", False)
_d("auto-aof-rewrite-percentage", "int", 100, lo=0)
_d("auto-aof-rewrite-min-size", "memory", 64 * 1024 * 1024, lo=0)
_d("aof-load-truncated", "bool", True)
_d("aof-use-rdb-preamble", "bool", True)
_d("aof-timestamp-enabled", "bool", False)
_d("aof-rewrite-incremental-fsync", "bool", True)
_d("rdb-save-incremental-fsync", "bool", True)
# Shutdown
_d("shutdown-timeout", "int", 10, lo=0)
_d("shutdown-on-sigint", "special", "default", parse=lambda t: " ".join(t.split()), render=lambda v: v, multi_arg=True)
_d("shutdown-on-sigterm", "special", "default", parse=lambda t: " ".join(t.split()), render=lambda v: v, multi_arg=True)
# Scripting
_d("lua-time-limit", "int", 5000, lo=0, aliases=("busy-reply-threshold",))
# Cluster (accepted; pyredis is not a cluster)
_d("cluster-enabled", "bool", False, mutable=False)
_d("cluster-config-file", "string", "nodes.conf", mutable=False)
_d("cluster-node-timeout", "int", 15000, lo=0)
_d("cluster-port", "int", 0, mutable=False, lo=0, hi=65535)
_d("cluster-replica-validity-factor", "int", 10, lo=0, aliases=("cluster-slave-validity-factor",))
_d("cluster-migration-barrier", "int", 1, lo=0)
_d("cluster-allow-replica-migration", "bool", True)
_d("cluster-require-full-coverage", "bool", True)
_d("cluster-replica-no-failover", "bool", False, aliases=("cluster-slave-no-failover",))
_d("cluster-allow-reads-when-down", "bool", False)
_d("cluster-allow-pubsubshard-when-down", "bool", True)
_d("cluster-link-sendbuf-limit", "memory", 0, lo=0)
_d("cluster-announce-ip", "string", "")
_d("cluster-announce-hostname", "string", "")
_d("cluster-announce-human-nodename", "string", "", hidden=True)
_d("cluster-announce-port", "int", 0, lo=0, hi=65535)
_d("cluster-announce-bus-port", "int", 0, lo=0, hi=65535)
_d("cluster-announce-tls-port", "int", 0, lo=0, hi=65535)
_d("cluster-preferred-endpoint-type", "enum", "ip", enum=("ip", "hostname", "unknown-endpoint"))
# Slow log, latency monitor
_d("slowlog-log-slower-than", "int", 10000)
_d("slowlog-max-len", "int", 128, lo=0)
_d("latency-monitor-threshold", "int", 0, lo=0)
_d("latency-tracking", "bool", True)
_d("latency-tracking-info-percentiles", "special", "50 99 99.9",
   parse=lambda t: " ".join(t.split()), render=lambda v: v, multi_arg=True)
# Event notification
_d("notify-keyspace-events", "special", "", parse=lambda t: t, render=lambda v: v)
# Advanced config
_d("hash-max-listpack-entries", "int", 128, lo=0, aliases=("hash-max-ziplist-entries",))
_d("hash-max-listpack-value", "int", 64, lo=0, aliases=("hash-max-ziplist-value",))
_d("list-max-listpack-size", "int", -2, lo=-5, aliases=("list-max-ziplist-size",))
_d("list-compress-depth", "int", 0, lo=0)
_d("set-max-intset-entries", "int", 512, lo=0)
_d("zset-max-listpack-entries", "int", 128, lo=0, aliases=("zset-max-ziplist-entries",))
_d("zset-max-listpack-value", "int", 64, lo=0, aliases=("zset-max-ziplist-value",))
_d("hll-sparse-max-bytes", "memory", 3000, lo=0)
_d("stream-node-max-bytes", "memory", 4096, lo=0)
_d("stream-node-max-entries", "int", 100, lo=0)
_d("activerehashing", "bool", True)
_d("client-output-buffer-limit", "special",
   {"normal": (0, 0, 0), "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60), "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60)},
   parse=None, render=None, multi_arg=True)
_d("client-query-buffer-limit", "memory", 1024**3, lo=1024 * 1024)
_d("proto-max-bulk-len", "memory", 512 * 1024 * 1024, lo=1024 * 1024)
_d("hz", "int", 10, lo=0)
_d("dynamic-hz", "bool", True)
_d("lfu-log-factor", "int", 10, lo=0)
_d("lfu-decay-time", "int", 1, lo=0)
_d("activedefrag", "bool", False)
_d("active-defrag-ignore-bytes", "memory", 100 * 1024 * 1024, lo=1)
_d("active-defrag-threshold-lower", "int", 10, lo=0, hi=1000)
_d("active-defrag-threshold-upper", "int", 100, lo=0, hi=1000)
_d("active-defrag-cycle-min", "int", 1, lo=1, hi=99)
_d("active-defrag-cycle-max", "int", 25, lo=1, hi=99)
_d("active-defrag-max-scan-fields", "int", 1000, lo=1)
_d("jemalloc-bg-thread", "bool", True)
_d("ignore-warnings", "string", "")
_d("lazyfree-lazy-user-flush", "bool", False)
_d("replica-announce-ip", "string", "")
_d("locale-collate", "string", "", hidden=True)

_CLASSES = {"normal": "normal", "replica": "replica", "slave": "replica", "pubsub": "pubsub"}


def _parse_cobl(text: str, current: dict) -> dict:
    words = text.split()
    if len(words) % 4:
        raise ValueError("Wrong number of arguments in buffer limit configuration.")
    new = dict(current)
    for i in range(0, len(words), 4):
        cls = _CLASSES.get(words[i].lower())
        if cls is None:
            raise ValueError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
            secs = int(words[i + 3])
        except ValueError:
            raise ValueError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        if hard < 0 or soft < 0 or secs < 0:
            raise ValueError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        new[cls] = (hard, soft, secs)
    return new


def _render_cobl(v: dict) -> str:
    return " ".join(f"{k} {v[k][0]} {v[k][1]} {v[k][2]}" for k in ("normal", "replica", "pubsub"))


class Config:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        for d in set(TABLE.values()):
            v = d.default
            self.values[d.name] = dict(v) if isinstance(v, dict) else (list(v) if isinstance(v, list) else v)
        self.hooks: dict[str, list[Callable[[Any], None]]] = {}

    def __getitem__(self, name: str) -> Any:
        return self.values[TABLE[name].name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[TABLE[name.replace("_", "-")].name]
        except KeyError:
            raise AttributeError(name) from None

    def on_change(self, name: str, hook: Callable[[Any], None]) -> None:
        self.hooks.setdefault(TABLE[name].name, []).append(hook)

    def parse_value(self, d: Directive, text: str) -> Any:
        if d.kind == "bool":
            return _parse_bool(text)
        if d.kind in ("int", "memory"):
            if d.kind == "memory":
                v = parse_memory(text)
            else:
                try:
                    v = int(text)
                except ValueError:
                    raise ValueError("argument couldn't be parsed into an integer") from None
            if v < d.lo or v > d.hi:
                raise ValueError(f"argument must be between {d.lo} and {d.hi} inclusive")
            return v
        if d.kind == "enum":
            t = text.lower()
            if t not in d.enum:
                raise ValueError("argument(s) must be one of the following: " + ", ".join(d.enum))
            return t
        if d.name == "client-output-buffer-limit":
            return _parse_cobl(text, self.values[d.name])
        if d.kind == "special" and d.parse is not None:
            return d.parse(text)
        return text

    def render(self, name: str) -> str:
        d = TABLE[name]
        v = self.values[d.name]
        if d.kind == "bool":
            return "yes" if v else "no"
        if d.name == "client-output-buffer-limit":
            return _render_cobl(v)
        if d.render is not None:
            return d.render(v)
        return str(v)

    def set(self, name: str, text: str, startup: bool = False) -> None:
        d = TABLE.get(name.lower())
        if d is None:
            raise ConfigError("Unknown option")
        if not d.mutable and not startup:
            raise ConfigError("can't set immutable config")
        v = self.parse_value(d, text)
        self.values[d.name] = v
        for hook in self.hooks.get(d.name, ()):
            hook(v)

    def get(self, pattern: str) -> dict[str, str]:
        out: dict[str, str] = {}
        pat = pattern.lower().encode()
        if not any(c in pattern for c in "*?["):
            d = TABLE.get(pattern.lower())
            if d is not None:
                out[pattern.lower()] = self.render(pattern.lower())
            return out
        for name, d in TABLE.items():
            if d.hidden:
                continue
            if glob_match(pat, name.encode(), nocase=True):
                out[name] = self.render(name)
        return out

    def load_args(self, args: list[str]) -> None:
        """`--name value [value ...]` pairs, as redis-server accepts after the config file."""
        lines: list[list[str]] = []
        for a in args:
            if a.startswith("--") and len(a) > 2:
                lines.append([a[2:]])
            elif lines:
                lines[-1].append(a)
            else:
                raise ConfigError(f"Invalid argument '{a}'")
        for words in lines:
            self._apply_words(words, " ".join(words))

    def load_file(self, path: str) -> None:
        with open(path, encoding="utf-8", errors="replace") as f:
            self.load_text(f.read())

    def load_text(self, text: str) -> None:
        for lineno, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            try:
                words = shlex.split(s)
            except ValueError:
                raise ConfigError(f"Reading the configuration file, at line {lineno}\n>>> '{s}'\nUnbalanced quotes in configuration line") from None
            try:
                self._apply_words(words, s)
            except ConfigError as e:
                raise ConfigError(f"Reading the configuration file, at line {lineno}\n>>> '{s}'\n{e}") from None

    def _apply_words(self, words: list[str], line: str) -> None:
        name = words[0].lower()
        if name == "include":
            for p in words[1:]:
                self.load_file(p)
            return
        if name in ("rename-command", "user", "loadmodule", "sentinel"):
            return  # accepted; ACL users and renames are handled elsewhere or not at all
        d = TABLE.get(name)
        if d is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if len(words) != 2 and not d.multi_arg:
            raise ConfigError("wrong number of arguments")
        try:
            if d.name == "save" and self._save_seen is False:
                self._save_seen = True
                self.values["save"] = []
            v = self.parse_value(d, " ".join(words[1:]))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if d.name == "save":
            self.values["save"] = v if not v else self.values["save"] + v
        else:
            self.values[d.name] = v

    _save_seen = False
