"""The configuration: one table of directives, as Redis's static_configs[].

Each Directive has a name, aliases, a kind (bool/int/memory/enum/flags/string/special), a
default, whether CONFIG SET may change it (immutable / protected), and its limits. Values are
kept as Python values in `Config.values`; CONFIG GET renders them as Redis does (memory values
in bytes, bools yes/no, `save` as "secs changes ...").

The table lists every directive redis-server 7.0.15 accepts, and those the later releases
added (Directive.since), each as the compat-version mode's release has it (mode_attrs,
mode_defaults, alias_since, mode_names); tests/test_config.py compares it in every mode with
that release's `CONFIG GET *`. It includes the ones pyredis only stores (TLS, replication,
cluster): they are accepted and shown, and warn that they have no effect (server/server.py
NOT_IMPLEMENTED).

API:
    cfg = Config()
    cfg.load_file(path)                 # redis.conf syntax; raises ConfigError(line, text, msg)
    cfg.load_args(["--port", "6380"])   # redis-server style
    cfg.set(name, value_text)           # one directive (startup=True allows immutable ones)
    cfg.set_many([(name, value), ...])  # CONFIG SET: all or nothing; raises ConfigError(reply text)
    cfg.get(pattern) -> dict            # CONFIG GET semantics (glob on names and aliases)
    cfg.rewrite()                       # CONFIG REWRITE into cfg.config_file
    cfg["port"], cfg.port               # typed value
    cfg.on_change(name, hook)           # hook(value) after a runtime change
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .util import glob_match, sdscatrepr
from .version import DEFAULT_MODE, MODES, compat_for
from .util import sdssplitargs_str as split_args  # Redis splits config lines with sdssplitargs

MEMORY_UNITS = {"b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
LLONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
UINT_MAX = 2**32 - 1


class ConfigError(Exception):
    pass


@dataclass(eq=False)
class Directive:
    name: str
    kind: str  # bool | int | memory | enum | flags | string | special
    default: Any
    mutable: bool = True
    aliases: tuple[str, ...] = ()
    enum: tuple[str, ...] = ()
    lo: int = 0
    hi: int = LLONG_MAX
    parse: Callable[[str], Any] | None = None  # special: text -> value (raise ValueError(msg))
    render: Callable[[Any], str] | None = None  # special: value -> CONFIG GET text
    normalize: Callable[[Any], Any] | None = None  # applied after parsing (hz clamps to 1..500)
    apply: list[Callable[[Any], None]] = field(default_factory=list)
    multi_arg: bool = False  # directives that take several words in redis.conf (save, bind...)
    hidden: bool = False  # not matched by CONFIG GET patterns (Redis's HIDDEN_CONFIG)
    protected: bool = False  # CONFIG SET needs enable-protected-configs
    percent: bool = False  # memory value that also accepts "N%" (stored as -N)
    pyredis: bool = False  # pyredis's own (compat-version): hidden from patterns, still rewritten
    validate: Callable[[Any], None] | None = None  # Redis's isValid*: raise ValueError(msg)
    # the compat-version modes that have it (a version.Compat.at_least key: "7.2" for a
    # directive Redis 7.2 added, or a tuple of keys: ("7.4", "valkey-8.0") for one both
    # added); None: every mode. In the others it is unknown (CONFIG GET/SET, a config line),
    # as in the release that lacks it.
    since: str | tuple[str, ...] | None = None
    # defaults that differ by mode: {Compat.at_least key: default} ("valkey-8.0": Valkey 8.0
    # turned the lazyfree-* directives on), the first key the mode carries wins
    mode_defaults: dict[str, Any] | None = None
    # other attributes that differ by mode: {Compat.at_least key: {attribute: value}}
    # (maxmemory-samples: {"7.4": {"hi": 64}}), the first key the mode carries wins
    mode_attrs: dict[str, dict[str, Any]] | None = None
    # aliases only some modes know: {alias: since} (Redis 7.4's server-cpulist)
    alias_since: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    # the name the directive has in some modes (CONFIG REWRITE writes it): {key: name}
    # (Valkey 8.0's primaryauth, whose alias masterauth is)
    mode_names: dict[str, str] | None = None


def parse_memory(text: str) -> int:
    """memtoull: digits with an optional b/k/kb/m/mb/g/gb unit (case-insensitive)."""
    t = text.lower()
    for unit in ("gb", "mb", "kb", "g", "m", "k", "b"):
        if t.endswith(unit):
            num = t[: -len(unit)]
            mul = MEMORY_UNITS[unit]
            break
    else:
        num, mul = t, 1
    if num and not (num.isascii() and num.isdigit()):
        raise ValueError("argument must be a memory value")
    return int(num or "0") * mul  # memtoull: no digits reads as 0


def _parse_bool(text: str) -> bool:
    t = text.lower()
    if t == "yes":
        return True
    if t == "no":
        return False
    raise ValueError("argument must be 'yes' or 'no'")


def _strict_int(text: str) -> int:
    """string2ll: optional '-', no '+', no spaces, no leading zeros."""
    t = text
    neg = t.startswith("-")
    digits = t[1:] if neg else t
    if not digits or not digits.isascii() or not digits.isdigit() or (len(digits) > 1 and digits[0] == "0"):
        raise ValueError("argument couldn't be parsed into an integer")
    if neg and digits == "0":
        raise ValueError("argument couldn't be parsed into an integer")
    v = int(t)
    if v > LLONG_MAX or v < -(2**63):
        raise ValueError("argument couldn't be parsed into an integer")
    return v


TABLE: dict[str, Directive] = {}
DIRECTIVES: list[Directive] = []  # canonical directives, in declaration order


def _d(name: str, kind: str, default: Any, **kw: Any) -> None:
    d = Directive(name, kind, default, **kw)
    DIRECTIVES.append(d)
    TABLE[name] = d
    for a in d.aliases:
        TABLE[a] = d


# --- special parsers/renderers ---------------------------------------------------------
def _render_save(v: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in v)


def _strtoll_whole(t: str) -> int | None:
    """strtoll with a check that the whole text was read: leading spaces and a sign are
    allowed, and an empty text reads as 0 (as setConfigSaveOption sees it)."""
    i, n = 0, len(t)
    while i < n and t[i] in " \t\n\v\f\r":
        i += 1
    j = i
    if j < n and t[j] in "+-":
        j += 1
    k = j
    while k < n and "0" <= t[k] <= "9":
        k += 1
    if k == j:  # no digits: strtoll stops at the very start
        return 0 if n == 0 else None
    if k != n:
        return None
    return int(t[i:k])


def _parse_save(words: list[str]) -> list[tuple[int, int]]:
    """setConfigSaveOption: pairs of (seconds >= 1, changes >= 0); a single "" is no save
    point at all. Words as Redis gives them: CONFIG SET splits on single spaces, a config
    line gives its words."""
    if len(words) == 1 and words[0] == "":
        return []
    if len(words) % 2:
        raise ValueError("Invalid save parameters")
    out = []
    for i in range(0, len(words), 2):
        secs, changes = _strtoll_whole(words[i]), _strtoll_whole(words[i + 1])
        if secs is None or changes is None or secs < 1 or changes < 0:
            raise ValueError("Invalid save parameters")
        out.append((secs, changes))
    return out


def _parse_bind(words: list[str]) -> list[str]:
    """setConfigBindOption: at most 16 addresses; a single "" is none (no TCP listener)."""
    if len(words) > 16:
        raise ValueError("Too many bind addresses specified.")
    if len(words) == 1 and words[0] == "":
        return []
    return list(words)


def _parse_replicaof(words: list[str], side: str = "master") -> str:
    """setConfigReplicaOfOption: `<host> <port>` or `no one` (Valkey says "primary")."""
    if len(words) != 2:
        raise ValueError("wrong number of arguments")
    if words[0].lower() == "no" and words[1].lower() == "one":
        return ""
    port = _strtoll_whole(words[1])  # strtol over the whole word ("" reads as 0)
    if port is None or port < 0 or port > 65535:
        raise ValueError(f"Invalid {side} port")
    return f"{words[0]} {port}"


def _parse_replicaof_valkey(words: list[str]) -> str:
    return _parse_replicaof(words, "primary")


def _strtod_whole(t: str) -> float | None:
    """strtod over the whole word (decimal, exponent, hex, inf/nan); None otherwise."""
    w = t
    if not w or w != w.strip(" \t\n\v\f\r") or "_" in w:
        return None
    try:
        return float(w)
    except ValueError:
        pass
    if w.lstrip("+-")[:2].lower() != "0x":
        return None
    try:
        return float.fromhex(w)
    except ValueError:
        return None


def _parse_percentiles(words: list[str]) -> list[float]:
    out = []
    if len(words) == 1 and words[0] == "":
        return out
    for w in words:
        v = _strtod_whole(w)
        if v is None:
            raise ValueError("Invalid latency-tracking-info-percentiles parameters")
        if not (0.0 <= v <= 100.0):
            raise ValueError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        out.append(v)
    return out


def _render_percentiles(v: list[float]) -> str:
    return " ".join("%g" % x if x != int(x) else str(int(x)) for x in v)


def _parse_oom_values(words: list[str]) -> list[int]:
    """setConfigOOMScoreAdjValuesOption: three strtoll values in [-2000, 2000]."""
    if len(words) != 3:
        raise ValueError("wrong number of arguments")
    out = []
    for w in words:
        v = _strtoll_whole(w)
        if v is None or v < -2000 or v > 2000:
            raise ValueError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
        out.append(v)
    return out


def _not_a_path(what: str, noun: str = "filename", empty_ok: bool = True) -> Callable[[str], None]:
    """isValidDBfilename / isValidAOFfilename / isValidAOFdirname (pathIsBaseName)."""
    def check(v: str) -> None:
        if not empty_ok and v == "":
            raise ValueError(f"{what} can't be empty")
        if "/" in v or "\\" in v:
            raise ValueError(f"{what} can't be a path, just a {noun}")
    return check


# Keyspace notification classes (notify-keyspace-events): the parsed value is the set of
# class characters; "A" stands for "g$lshzxetd".
_NOTIFY_ALL = "g$lshzxetd"
_NOTIFY_CHARS = set(_NOTIFY_ALL) | set("KEmn")


def _parse_notify(text: str) -> str:
    flags: set[str] = set()
    for ch in text:
        if ch == "A":
            flags |= set(_NOTIFY_ALL)
        elif ch in _NOTIFY_CHARS:
            flags.add(ch)
        else:
            raise ValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    # Rendered as redis-server 7.0.15 does: "A" hides "n" (kept at the end of the stored value,
    # since the flag still applies); otherwise "n" follows the classes.
    if flags >= set(_NOTIFY_ALL):
        return "A" + "".join(c for c in "KEm" if c in flags) + ("n" if "n" in flags else "")
    out = "".join(c for c in _NOTIFY_ALL + "n" if c in flags)
    return out + "".join(c for c in "KEm" if c in flags)


def _render_notify(v: str) -> str:
    return v.replace("n", "") if v.startswith("A") else v


def _parse_hostname(text: str) -> str:
    if len(text.encode("utf-8", "surrogateescape")) >= 256:  # NET_HOST_STR_LEN
        raise ValueError("Hostnames must be less than 256 characters")
    for ch in text:
        if not (ch.isascii() and (ch.isalnum() or ch in "-.")):
            raise ValueError("Hostnames may only contain alphanumeric characters, hyphens or dots")
    return text


# proc-title-template variables, and whether each expands to something non-empty when
# redis-server validates a template (the title is empty then; standalone mode prints nothing).
_TITLE_VARS = {"title": False, "listen-addr": True, "server-mode": False, "port": True, "tls-port": True,
               "unixsocket": False, "config-file": False}


def _parse_title_template(text: str) -> str:
    bad = ValueError("template format is invalid or contains unknown variables")
    out = []
    i = 0
    while i < len(text):
        if text[i] == "{":
            j = text.find("}", i)
            if j < 0 or text[i + 1:j] not in _TITLE_VARS:
                raise bad
            out.append("x" if _TITLE_VARS[text[i + 1:j]] else "")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    if not "".join(out).strip(" "):
        raise bad
    return text


def _parse_octal_perm(text: str) -> int:
    """unixsocketperm: strtoll(text, 8) over the whole text (an empty text reads as 0)."""
    t = text.strip(" \t\n\v\f\r") if text[:1].isspace() else text
    digits = t[1:] if t[:1] in "+-" else t
    if digits and not all(c in "01234567" for c in digits):
        raise ValueError("argument couldn't be parsed as an octal number")
    v = int(t, 8) if digits else 0
    if v < 0 or v > 0o777:
        raise ValueError("argument must be between 0 and 777 inclusive")  # (OCTAL_CONFIG: bounds in octal)
    return v


def _no_defrag(on: bool) -> None:
    """isValidActiveDefrag of a build without HAVE_DEFRAG (as the reference redis-server 7.0.15
    is): pyredis has no allocator to defragment."""
    if on:
        raise ValueError("Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
                         "modified Jemalloc like the one shipped by default with the Redis source distribution")


def _aux_string(v: str) -> None:
    """isValidAnnouncedNodename (isValidAuxString): no byte of "!#$%&()*+:;<>?@[]^{|}~" or NUL."""
    if any(c in "!#$%&()*+:;<>?@[]^{|}~\0" for c in v):
        raise ValueError("Announced human node name contained invalid character")


def check_locale(v: str) -> None:
    """locale-collate's setlocale(LC_COLLATE, v) must succeed: at start-up (initServer) and on
    CONFIG SET (updateLocaleCollate, an apply function: a config line is not checked). pyredis
    only checks the name (the process's locale is restored: an embedded server must not change
    its host's)."""
    import locale

    old = locale.setlocale(locale.LC_COLLATE)
    try:
        locale.setlocale(locale.LC_COLLATE, v)
    except locale.Error:
        raise ValueError("Invalid locale name") from None
    finally:
        locale.setlocale(locale.LC_COLLATE, old)


def _valid_ip(family: int, what: str) -> Callable[[str], None]:
    """isValidIpV4 / isValidIpV6: empty, or what inet_pton reads."""
    def check(v: str) -> None:
        if v:
            try:
                socket.inet_pton(family, v)
            except (OSError, ValueError):
                raise ValueError(f"Invalid {what} address") from None
    return check


def _not_empty(what: str) -> Callable[[str], None]:
    def check(v: str) -> None:
        if v == "":
            raise ValueError(f"{what} can't be empty")
    return check


def _valkey_dir(t: str) -> str:
    """Valkey's setConfigDirOption refuses an empty folder before its chdir."""
    if t == "":
        raise ValueError("dir can't be empty")
    return t


def _clamp_hz(v: int) -> int:
    return max(1, min(500, v))


_SHUTDOWN_FLAGS = ("default", "save", "nosave", "now", "force")

# --- the directives, as redis-server 7.0.15 reports them ---------------------------------
_I = dict(lo=0, hi=INT_MAX)  # "int" configs bounded to [0, INT_MAX]
# Which modes have a directive (Directive.since) or a changed one (mode_attrs, mode_defaults):
_72 = "7.2"  # Redis 7.2 and what came after it (7.4, Valkey 8.0)
_74V = ("7.4", "valkey-8.0")  # both Redis 7.4 and Valkey 8.0 (each on its own)
_V = "valkey-8.0"
# pyredis's own: which release pyredis answers as (version.py). Set at start-up only (CONFIG SET
# refuses it as Redis refuses an immutable config); CONFIG GET answers it by its exact name, and
# `CONFIG GET *` leaves it out so that the list is the one of the server it imitates.
_d("compat-version", "enum", DEFAULT_MODE, mutable=False, enum=MODES, hidden=True, pyredis=True)
# Network
_d("bind", "special", ["127.0.0.1", "-::1"], parse=_parse_bind, render=" ".join, multi_arg=True)
_d("bind-source-addr", "string", "")
_d("port", "int", 6379, lo=0, hi=65535)
_d("tls-port", "int", 0, lo=0, hi=65535)
_d("unixsocket", "string", "", mutable=False)
_d("unixsocketperm", "special", 0, mutable=False, parse=_parse_octal_perm, render=lambda v: "%o" % v)
_d("unixsocketgroup", "string", "", mutable=False, since=_V)
_d("protected-mode", "bool", True)
_d("tcp-backlog", "int", 511, mutable=False, **_I)
_d("tcp-keepalive", "int", 300, **_I)
_d("timeout", "int", 0, **_I)
_d("socket-mark-id", "int", 0, mutable=False, hi=UINT_MAX)
# TLS (server/tls.py; what pyredis does not implement warns: server/server.py NOT_IMPLEMENTED)
_d("tls-cert-file", "string", "")
_d("tls-key-file", "string", "")
_d("tls-key-file-pass", "string", "")
_d("tls-client-cert-file", "string", "")
_d("tls-client-key-file", "string", "")
_d("tls-client-key-file-pass", "string", "")
_d("tls-dh-params-file", "string", "")
_d("tls-ca-cert-file", "string", "")
_d("tls-ca-cert-dir", "string", "")
_d("tls-auth-clients", "enum", "yes", enum=("no", "yes", "optional"))
_d("tls-replication", "bool", False)
_d("tls-cluster", "bool", False)
_d("tls-protocols", "string", "")
_d("tls-ciphers", "string", "")
_d("tls-ciphersuites", "string", "")
_d("tls-prefer-server-ciphers", "bool", False)
_d("tls-session-caching", "bool", True)
_d("tls-session-cache-size", "int", 20480, **_I)
_d("tls-session-cache-timeout", "int", 300, **_I)
# General
_d("daemonize", "bool", False, mutable=False)
_d("supervised", "enum", "no", mutable=False, enum=("upstart", "systemd", "auto", "no"))
_d("pidfile", "string", "", mutable=False)
_d("loglevel", "enum", "notice", enum=("debug", "verbose", "notice", "warning"),
   mode_attrs={_72: {"enum": ("debug", "verbose", "notice", "warning", "nothing")}})
_d("logfile", "string", "", mutable=False)
_d("syslog-enabled", "bool", False, mutable=False)
_d("syslog-ident", "string", "redis", mutable=False, mode_defaults={_V: "valkey"})
_d("syslog-facility", "enum", "local0", mutable=False,
   enum=("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"))
_d("crash-log-enabled", "bool", True)
_d("crash-memcheck-enabled", "bool", True)
# 7.4: a crash report (and the replication stream dump) shows no command arguments but the first
_d("hide-user-data-from-log", "bool", False, since=_74V, mode_defaults={_V: True})
_d("use-exit-on-panic", "bool", False, hidden=True)  # DEBUG PANIC / a panic exits(1) instead of crashing
_d("watchdog-period", "int", 0, hidden=True, **_I)
_d("enable-debug-assert", "bool", False, mutable=False, hidden=True, since=_V)
_d("debug-context", "string", "", hidden=True, since=_V)
_d("databases", "int", 16, mutable=False, lo=1, hi=INT_MAX)
_d("always-show-logo", "bool", False, mutable=False)
_d("set-proc-title", "bool", True, mutable=False)
_d("proc-title-template", "special", "{title} {listen-addr} {server-mode}", parse=_parse_title_template,
   render=lambda v: v)
_d("enable-protected-configs", "enum", "no", mutable=False, enum=("no", "yes", "local"))
_d("enable-debug-command", "enum", "no", mutable=False, enum=("no", "yes", "local"))
_d("enable-module-command", "enum", "no", mutable=False, enum=("no", "yes", "local"))
# 7.4 named them with hyphens (the old names are aliases)
for _n in ("server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist"):
    _h = _n.replace("_", "-")
    _d(_n, "string", "", mutable=False, aliases=(_h,), alias_since={_h: _74V}, mode_names={k: _h for k in _74V})
_d("locale-collate", "string", "", since=_72)  # (checked by the server: check_locale)
_d("availability-zone", "string", "", since=_V)  # INFO's availability_zone
_d("extended-redis-compatibility", "bool", False, since=_V)
# Snapshotting
_d("save", "special", [(3600, 1), (300, 100), (60, 10000)], parse=_parse_save, render=_render_save, multi_arg=True)
_d("stop-writes-on-bgsave-error", "bool", True)
_d("rdbcompression", "bool", True)
_d("rdbchecksum", "bool", True, mutable=False)
_d("sanitize-dump-payload", "enum", "no", enum=("no", "yes", "clients"))
_d("dbfilename", "string", "dump.rdb", protected=True, validate=_not_a_path("dbfilename"),
   mode_attrs={_V: {"validate": _not_a_path("dbfilename", empty_ok=False)}})
_d("rdb-del-sync-files", "bool", False)
_d("dir", "special", "", protected=True, parse=lambda t: t, render=lambda v: v or os.getcwd(),
   mode_attrs={_V: {"parse": _valkey_dir}})
_d("rdb-key-save-delay", "int", 0, lo=INT_MIN, hi=INT_MAX, hidden=True)
_d("key-load-delay", "int", 0, lo=INT_MIN, hi=INT_MAX, hidden=True)
_d("loading-process-events-interval-bytes", "int", 2 * 1024 * 1024, lo=1024, hi=INT_MAX, hidden=True)
# Replication (server/replication.py, core/replication.py)
_d("replicaof", "special", "", parse=_parse_replicaof, render=lambda v: v, multi_arg=True,
   mutable=False, aliases=("slaveof",), mode_attrs={_V: {"parse": _parse_replicaof_valkey}})
# Valkey 8.0 named them primaryauth and primaryuser (the old names are aliases)
_d("masterauth", "string", "", aliases=("primaryauth",), alias_since={"primaryauth": _V},
   mode_names={_V: "primaryauth"})
_d("masteruser", "string", "", aliases=("primaryuser",), alias_since={"primaryuser": _V},
   mode_names={_V: "primaryuser"})
_d("dual-channel-replication-enabled", "bool", False, since=_V)
_d("replica-serve-stale-data", "bool", True, aliases=("slave-serve-stale-data",))
_d("replica-read-only", "bool", True, aliases=("slave-read-only",))
_d("repl-diskless-sync", "bool", True)
_d("repl-diskless-sync-delay", "int", 5, **_I)
_d("repl-diskless-sync-max-replicas", "int", 0, **_I)
_d("repl-diskless-load", "enum", "disabled", enum=("disabled", "on-empty-db", "swapdb"))
_d("repl-ping-replica-period", "int", 10, lo=1, hi=INT_MAX, aliases=("repl-ping-slave-period",))
_d("repl-timeout", "int", 60, lo=1, hi=INT_MAX)
_d("repl-disable-tcp-nodelay", "bool", False)
_d("repl-backlog-size", "memory", 1024 * 1024, lo=1, normalize=lambda v: max(v, 16 * 1024),
   mode_defaults={_V: 10 * 1024 * 1024})
_d("repl-backlog-ttl", "int", 3600)
_d("replica-priority", "int", 100, aliases=("slave-priority",), **_I)
_d("propagation-error-behavior", "enum", "ignore", enum=("ignore", "panic", "panic-on-replicas"))
_d("replica-ignore-disk-write-errors", "bool", False)
_d("replica-announced", "bool", True)
_d("min-replicas-to-write", "int", 0, aliases=("min-slaves-to-write",), **_I)
_d("min-replicas-max-lag", "int", 10, aliases=("min-slaves-max-lag",), **_I)
_d("replica-announce-ip", "string", "", aliases=("slave-announce-ip",))
_d("replica-announce-port", "int", 0, lo=0, hi=65535, aliases=("slave-announce-port",))
_VALKEY_YES = {"valkey-8.0": True}  # defaults Valkey 8.0 turned on
_d("replica-lazy-flush", "bool", False, aliases=("slave-lazy-flush",), mode_defaults=_VALKEY_YES)
_d("replica-ignore-maxmemory", "bool", True, aliases=("slave-ignore-maxmemory",))
# Keys tracking
_d("tracking-table-max-keys", "int", 1000000)
# Security
_d("acllog-max-len", "int", 128)
_d("aclfile", "string", "", mutable=False)
_d("requirepass", "string", "")
_d("acl-pubsub-default", "enum", "resetchannels", enum=("allchannels", "resetchannels"))
# Clients
_d("maxclients", "int", 10000, lo=1, hi=UINT_MAX)
_d("max-new-connections-per-cycle", "int", 10, lo=1, hi=1000, since=_74V)
_d("max-new-tls-connections-per-cycle", "int", 1, lo=1, hi=1000, since=_74V)
# Memory management
_d("maxmemory", "memory", 0)
_d("maxmemory-policy", "enum", "noeviction", enum=(
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
    "allkeys-lfu", "allkeys-random", "noeviction"))
_d("maxmemory-samples", "int", 5, lo=1, hi=INT_MAX, mode_attrs={k: {"hi": 64} for k in _74V})
_d("maxmemory-eviction-tenacity", "int", 10, lo=0, hi=100)
_d("maxmemory-clients", "memory", 0, percent=True)
_d("active-expire-effort", "int", 1, lo=1, hi=10)
_d("lazyfree-lazy-eviction", "bool", False, mode_defaults=_VALKEY_YES)
_d("lazyfree-lazy-expire", "bool", False, mode_defaults=_VALKEY_YES)
_d("lazyfree-lazy-server-del", "bool", False, mode_defaults=_VALKEY_YES)
_d("lazyfree-lazy-user-del", "bool", False, mode_defaults=_VALKEY_YES)
_d("lazyfree-lazy-user-flush", "bool", False, mode_defaults=_VALKEY_YES)
_d("io-threads", "int", 1, mutable=False, lo=1, hi=128)
_d("io-threads-do-reads", "bool", False, mutable=False, mode_defaults={_V: True})
_d("events-per-io-thread", "int", 2, since=_V, **_I)
_d("prefetch-batch-max-size", "int", 16, lo=0, hi=128, since=_V)
_d("oom-score-adj", "enum", "no", enum=("no", "yes", "relative", "absolute"),
   normalize=lambda v: "yes" if v == "relative" else v)  # one value, shown by its first name
_d("oom-score-adj-values", "special", [0, 200, 800], parse=_parse_oom_values,
   render=lambda v: " ".join(map(str, v)), multi_arg=True)
_d("disable-thp", "bool", True, mutable=False)
# Append only mode
_d("appendonly", "bool", False)
_d("appendfilename", "string", "appendonly.aof", mutable=False,
   validate=_not_a_path("appendfilename", empty_ok=False))
_d("appenddirname", "string", "appendonlydir", mutable=False,
   validate=_not_a_path("appenddirname", "dirname", empty_ok=False))
_d("appendfsync", "enum", "everysec", enum=("everysec", "always", "no"))
_d("no-appendfsync-on-rewrite", "bool", False)
_d("auto-aof-rewrite-percentage", "int", 100, **_I)
_d("auto-aof-rewrite-min-size", "memory", 64 * 1024 * 1024)
_d("aof-load-truncated", "bool", True)
_d("aof-use-rdb-preamble", "bool", True)
_d("aof-timestamp-enabled", "bool", False)
_d("aof-rewrite-incremental-fsync", "bool", True)
_d("rdb-save-incremental-fsync", "bool", True)
_d("aof-disable-auto-gc", "bool", False, mode_attrs={_72: {"hidden": True}})
# Shutdown
_d("shutdown-timeout", "int", 10, **_I)
_d("shutdown-on-sigint", "flags", ["default"], enum=_SHUTDOWN_FLAGS, multi_arg=True)
_d("shutdown-on-sigterm", "flags", ["default"], enum=_SHUTDOWN_FLAGS, multi_arg=True)
# Scripting
_d("busy-reply-threshold", "int", 5000, aliases=("lua-time-limit",))
# The reference redis-server 7.0.15 (Debian's, with its Lua security fixes) has this hidden one:
# getfenv, setfenv and newproxy in scripts
_d("lua-enable-deprecated-api", "bool", False, mutable=False, hidden=True)
# Cluster (accepted; pyredis is not a cluster)
_d("cluster-enabled", "bool", False, mutable=False)
_d("cluster-config-file", "string", "nodes.conf", mutable=False,
   mode_attrs={_V: {"validate": _not_empty("cluster-config-file")}})
_d("cluster-node-timeout", "int", 15000)
_d("cluster-port", "int", 0, mutable=False, lo=0, hi=65535)
_d("cluster-replica-validity-factor", "int", 10, aliases=("cluster-slave-validity-factor",), **_I)
_d("cluster-migration-barrier", "int", 1, **_I)
_d("cluster-allow-replica-migration", "bool", True)
_d("cluster-require-full-coverage", "bool", True)
_d("cluster-replica-no-failover", "bool", False, aliases=("cluster-slave-no-failover",))
_d("cluster-allow-reads-when-down", "bool", False)
_d("cluster-allow-pubsubshard-when-down", "bool", True)
_d("cluster-link-sendbuf-limit", "memory", 0, hi=2**64 - 1)
_d("cluster-announce-ip", "string", "")
_d("cluster-announce-hostname", "special", "", parse=_parse_hostname, render=lambda v: v)
_d("cluster-announce-port", "int", 0, lo=0, hi=65535)
_d("cluster-announce-bus-port", "int", 0, lo=0, hi=65535)
_d("cluster-announce-tls-port", "int", 0, lo=0, hi=65535)
_d("cluster-preferred-endpoint-type", "enum", "ip", enum=("ip", "hostname", "unknown-endpoint"))
_d("cluster-announce-human-nodename", "string", "", since=_72, validate=_aux_string)
_d("cluster-ping-interval", "int", 0, since=_72, hidden=True)
_d("cluster-announce-client-ipv4", "string", "", since=_V, validate=_valid_ip(socket.AF_INET, "IPv4"))
_d("cluster-announce-client-ipv6", "string", "", since=_V, validate=_valid_ip(socket.AF_INET6, "IPv6"))
# (an unsigned long bounded by ULONG_MAX: every long long passes, and is shown as one)
_d("cluster-blacklist-ttl", "int", 60, since=_V, lo=-(2**63))
_d("cluster-slot-stats-enabled", "bool", False, since=_V)
# Slow log, latency monitor
_d("slowlog-log-slower-than", "int", 10000, lo=-1)
_d("slowlog-max-len", "int", 128)
_d("latency-monitor-threshold", "int", 0)
_d("latency-tracking", "bool", True)
_d("latency-tracking-info-percentiles", "special", [50.0, 99.0, 99.9], parse=_parse_percentiles,
   render=_render_percentiles, multi_arg=True)
# Event notification
_d("notify-keyspace-events", "special", "", parse=_parse_notify, render=_render_notify)
# Advanced config (hash-max-listpack-entries is 512 in the reference redis-server 7.0.15)
_d("hash-max-listpack-entries", "int", 512, aliases=("hash-max-ziplist-entries",))
_d("hash-max-listpack-value", "memory", 64, aliases=("hash-max-ziplist-value",))
_d("list-max-listpack-size", "int", -2, lo=INT_MIN, hi=INT_MAX, aliases=("list-max-ziplist-size",))
_d("list-compress-depth", "int", 0, **_I)
_d("set-max-intset-entries", "int", 512)
# Redis 7.2's listpack-encoded small sets (t_set.c); both are INTEGER_CONFIG (no memory units)
_d("set-max-listpack-entries", "int", 128, since="7.2")
_d("set-max-listpack-value", "int", 64, since="7.2")
_d("zset-max-listpack-entries", "int", 128, aliases=("zset-max-ziplist-entries",))
_d("zset-max-listpack-value", "memory", 64, aliases=("zset-max-ziplist-value",))
_d("hll-sparse-max-bytes", "memory", 3000)
_d("stream-node-max-bytes", "memory", 4096)
_d("stream-node-max-entries", "int", 100)
_d("activerehashing", "bool", True)
_d("client-output-buffer-limit", "special",
   {"normal": (0, 0, 0), "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60), "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60)},
   multi_arg=True)
_d("client-query-buffer-limit", "memory", 1024**3, lo=1024 * 1024)
_d("proto-max-bulk-len", "memory", 512 * 1024 * 1024, lo=1024 * 1024)
_d("hz", "int", 10, normalize=_clamp_hz, **_I)
_d("dynamic-hz", "bool", True)
_d("lfu-log-factor", "int", 10, **_I)
_d("lfu-decay-time", "int", 1, **_I)
# (the 7.2, 7.4 and Valkey 8.0 servers pyredis is compared with are built with jemalloc: they
# accept it, and pyredis warns that it has no effect)
_d("activedefrag", "bool", False, validate=_no_defrag, mode_attrs={_72: {"validate": None}})
_d("active-defrag-ignore-bytes", "memory", 100 * 1024 * 1024, lo=1)
_d("active-defrag-threshold-lower", "int", 10, lo=0, hi=1000)
_d("active-defrag-threshold-upper", "int", 100, lo=0, hi=1000)
_d("active-defrag-cycle-min", "int", 1, lo=1, hi=99)
_d("active-defrag-cycle-max", "int", 25, lo=1, hi=99)
_d("active-defrag-max-scan-fields", "int", 1000, lo=1)
_d("jemalloc-bg-thread", "bool", True)
_d("ignore-warnings", "string", "")

_CLASSES = {"normal": "normal", "replica": "replica", "slave": "replica", "pubsub": "pubsub"}


def _parse_cobl(words: list[str], current: dict) -> dict:
    if len(words) % 4:
        raise ValueError("Wrong number of arguments in buffer limit configuration.")
    new = dict(current)
    for i in range(0, len(words), 4):
        cls = _CLASSES.get(words[i].lower())
        if cls is None:
            raise ValueError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(words[i + 1]), parse_memory(words[i + 2])
            secs = _strict_int(words[i + 3])
        except ValueError:
            raise ValueError("Error in hard, soft or soft_seconds setting in buffer limit configuration.") from None
        if secs < 0:
            raise ValueError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        new[cls] = (hard, soft, secs)
    return new


def _render_cobl(v: dict) -> str:
    # Redis names the replica class "slave" here.
    return " ".join(f"{n} {v[k][0]} {v[k][1]} {v[k][2]}" for k, n in
                    (("normal", "normal"), ("replica", "slave"), ("pubsub", "pubsub")))


def _copy(v: Any) -> Any:
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, list):
        return list(v)
    return v


def _mem_units(v: int) -> str:
    """rewriteConfigFormatMemory: the largest of gb/mb/kb that divides v exactly."""
    if v > 0:
        for unit, mul in (("gb", 1024**3), ("mb", 1024**2), ("kb", 1024)):
            if v % mul == 0:
                return f"{v // mul}{unit}"
    return str(v)


def _repr(word: str) -> str:
    """sdscatrepr of the word's bytes: always quoted, with C escapes."""
    return sdscatrepr(word.encode("utf-8", "surrogateescape"))


def _quote(word: str) -> str:
    """A redis.conf word: quoted when empty or when it has spaces, quotes or non-printables."""
    if word and all(33 <= ord(c) <= 126 and c not in "\"'\\" for c in word):
        return word
    out = ['"']
    for c in word:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif 32 <= ord(c) <= 126:
            out.append(c)
        else:
            out.append("\\x%02x" % (ord(c) & 0xFF))
    out.append('"')
    return "".join(out)


class _LineError(Exception):
    """An error of one config line (load_text adds where it is)."""


# Directives redis-server 7.0 accepts in a config file and ignores (deprecated_configs[]).
_DEPRECATED = ("list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands")


class ConfigFileOpenError(ConfigError):
    """The config file (or an included one) cannot be read: Redis logs this and exits."""


def _read_config_file(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "surrogateescape")
    except OSError as e:
        raise ConfigFileOpenError(f"Fatal error, can't open config file '{path}': {e.strerror}") from None


def _include_paths(pattern: str) -> list[str]:
    """include: a path, or a glob pattern whose matches are read in order (none: nothing)."""
    if any(c in pattern for c in "*?["):
        import glob

        return sorted(glob.glob(pattern))
    return [pattern]


def _options_text(args: list[str], j: int) -> str:
    """main()'s loop of redis-server over argv[j:]: `--name` starts a line, the words after
    it are added quoted (sdscatrepr); `--save` with nothing after it is `save ""`."""
    options = ""
    handled_last = True
    n = len(args)
    while j < n:
        a = args[j]
        if handled_last and a.startswith("--"):
            if options:
                options += "\n"
            options += a[2:] + " "
            words = split_args(a)
            if words is not None and len(words) == 1:
                # only the name, as `--port` or "--port ": its value follows
                handled_last = False
                if j != n - 1 and args[j + 1].startswith("--") and a.lower() == "--save":
                    options += '""'
                    handled_last = True
                elif j == n - 1 and a.lower() == "--save":
                    options += '""'
                elif j != n - 1 and args[j + 1].startswith("--") and a.lower() == "--sentinel":
                    handled_last = True
            else:
                handled_last = True  # name and value in one argument: "--port 6380"
        else:
            options += sdscatrepr(a.encode("utf-8", "surrogateescape")) + " "
            handled_last = True
        j += 1
    return options


def options_from_argv(args: list[str]) -> tuple[str | None, bool, str | None]:
    """redis-server's command line after the program name: (config file or None, read stdin
    too, the options as config lines or None when there are no arguments at all)."""
    if not args:
        return None, False, None
    config_file = None
    j = 0
    if not args[0].startswith("-"):
        config_file = args[0]
        j = 1
    from_stdin = False
    rest = []
    n = len(args)
    for k in range(j, n):
        if args[k] == "-" and (k == 0 or k == n - 1):
            from_stdin = True
        else:
            rest.append(args[k])
    return config_file, from_stdin, _options_text(rest, 0)


class Config:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        for d in DIRECTIVES:
            self.values[d.name] = _copy(d.default)
        # PYREDIS_COMPAT_VERSION: the mode of a server whose configuration does not say (a
        # test suite written against one release, a container image); the directive wins
        self.env_defaults: dict[str, Any] = {}
        env = os.environ.get("PYREDIS_COMPAT_VERSION")
        if env in MODES:
            self.values["compat-version"] = self.env_defaults["compat-version"] = env
        self._explicit: set[str] = set()  # directives a line or CONFIG SET gave a value
        self._eff_cache: dict[str, Directive] = {}  # eff(): directives as this mode has them
        self._mode_defaults()
        self.hooks: dict[str, list[Callable[[Any], None]]] = {}
        self.config_file: str | None = None  # absolute path of the file given at startup
        self._save_seen = False
        # Redis's apply functions: (names, fn, volatile names) run once per CONFIG SET after
        # every value is stored (on_apply).
        self.appliers: list[tuple[frozenset[str], Callable[[], None], frozenset[str]]] = []
        # rename-command lines, in order: (old, new, line number, line) -- applied to the
        # command table by core/state.py, which knows the commands.
        self.renames: list[tuple[str, str, int, str]] = []
        # loadmodule lines (path, arguments) and module configs (`name.sub value`), in order
        self.modules: list[tuple[str, list[str]]] = []
        self.module_configs: dict[str, str] = {}
        self.chdir = False  # `dir` moves the process (pyredis-server) or is only remembered
        # config lines of directives only some modes have (Directive.since), with the error
        # text Redis gives for a directive it lacks: check_modes() refuses them once the mode
        # is known (compat-version may come later in the file or from the command line)
        self._mode_lines: list[tuple[str, Directive, str]] = []
        self._reading = False
        self._lineno = 0
        # `user <name> <rules...>` lines (core/acl.py loads them at start-up), words as bytes
        self.user_lines: list[list[bytes]] = []
        self.user_line_pos: list[tuple[int, str]] = []  # (line number, line) of each, for errors
        # Set by core/acl.py: the `user` lines CONFIG REWRITE writes (none with an aclfile)
        self.rewrite_users: Callable[[], list[str]] | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[TABLE[name].name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.values[TABLE[name.replace("_", "-")].name]
        except KeyError:
            raise AttributeError(name) from None

    def default(self, d: Directive) -> Any:
        """d's default in this configuration's mode (Directive.mode_defaults)."""
        if d.mode_defaults:
            found = self._for_mode(d.mode_defaults)
            if found:
                return found[0]
        return self.env_defaults.get(d.name, d.default)

    def _for_mode(self, per_mode: dict) -> tuple | None:
        """(the value of the first key of per_mode this mode carries,), or None."""
        compat = compat_for(self.values["compat-version"])
        for key, v in per_mode.items():
            if compat.at_least(key):
                return (v,)
        return None

    def _mode_defaults(self) -> None:
        """The mode's defaults for the directives nothing has set (the mode is chosen)."""
        self._eff_cache.clear()
        for d in DIRECTIVES:
            if d.mode_defaults and d.name not in self._explicit:
                self.values[d.name] = _copy(self.default(d))

    def _in_mode(self, since: str | tuple[str, ...] | None) -> bool:
        if since is None:
            return True
        keys = (since,) if isinstance(since, str) else since
        return compat_for(self.values["compat-version"]).at_least(*keys)

    def has(self, d: Directive) -> bool:
        """Directive d exists in this configuration's compat-version mode (Directive.since)."""
        return self._in_mode(d.since)

    def has_name(self, name: str, d: Directive) -> bool:
        """`name` (lowercase: d's name or one of its aliases) names d in this mode."""
        return self._in_mode(d.since) and self._in_mode(d.alias_since.get(name))

    def _known(self, name: str) -> Directive | None:
        """The directive `name` (any case, an alias) as this mode knows it, or None."""
        lname = name.lower()
        d = TABLE.get(lname)
        return d if d is not None and self.has_name(lname, d) else None

    def eff(self, d: Directive) -> Directive:
        """d as this mode has it (Directive.mode_attrs: its limits, values, texts)."""
        if not d.mode_attrs:
            return d
        e = self._eff_cache.get(d.name)
        if e is None:
            found = self._for_mode(d.mode_attrs)
            e = replace(d, **found[0]) if found else d
            self._eff_cache[d.name] = e
        return e

    def name_of(self, d: Directive) -> str:
        """d's own name in this mode (Directive.mode_names), as CONFIG REWRITE writes it."""
        found = self._for_mode(d.mode_names) if d.mode_names else None
        return found[0] if found else d.name

    def check_modes(self) -> None:
        """Refuse a config line of a directive the mode lacks, as that release refuses it
        (Bad directive), once every line and option is read: ConfigError."""
        for name, d, text in self._mode_lines:
            if not self.has_name(name, d):
                raise ConfigError(text)

    def on_change(self, name: str, hook: Callable[[Any], None]) -> None:
        self.hooks.setdefault(TABLE[name].name, []).append(hook)

    def on_apply(self, names, fn: Callable[[], None], volatile=()) -> None:
        """fn() once after a CONFIG SET changed any of `names` (a `volatile` one even when set to
        the same value: a certificate path reloads the file), as Redis's apply functions. fn
        raises ValueError(text) to refuse: every value of that CONFIG SET is restored."""
        self.appliers.append((frozenset(names), fn, frozenset(volatile)))

    # --- values ------------------------------------------------------------------------
    def parse_value(self, d: Directive, text: str) -> Any:
        """Text -> value for directive d, as CONFIG SET gives it (a multi-argument directive's
        text is split on single spaces, as performInterfaceSet); ValueError(message as Redis
        words it)."""
        d = self.eff(d)
        if d.multi_arg:
            return self.parse_words(d, text.split(" ") if text else [])
        kind = d.kind
        if kind == "bool":
            v = _parse_bool(text)
            if d.validate is not None:
                d.validate(v)
            return v
        if kind == "int" or kind == "memory":
            if kind == "memory":
                if d.percent and text.endswith("%"):
                    num = text[:-1]
                    if not num or not num.isascii() or not num.isdigit():
                        raise ValueError("argument must be a memory or percent value")
                    pct = int(num)
                    if pct > 100:
                        raise ValueError("percentage argument must be less or equal to 100")
                    return -pct
                try:
                    v = parse_memory(text)
                except ValueError:
                    if d.percent:
                        raise ValueError("argument must be a memory or percent value") from None
                    raise
            else:
                v = _strict_int(text)
            if v < d.lo or v > d.hi:
                raise ValueError(f"argument must be between {d.lo} and {d.hi} inclusive")
            if d.normalize is not None:
                v = d.normalize(v)
            return v
        if kind == "enum":
            t = text.lower()
            if t not in d.enum:
                raise ValueError("argument(s) must be one of the following: " + ", ".join(d.enum))
            return d.normalize(t) if d.normalize is not None else t
        if d.parse is not None:
            return d.parse(text)
        if d.validate is not None:
            d.validate(text)
        return text

    def parse_words(self, d: Directive, words: list[str]) -> Any:
        """A multi-argument directive (MULTI_ARG_CONFIG) from its words: a config line's
        words after the name, or CONFIG SET's value split on spaces."""
        d = self.eff(d)
        if d.kind == "flags":  # configEnumGetValue with bitflags, then isValidShutdownOnSigFlags
            lower = [w.lower() for w in words]
            if not lower or any(w not in d.enum for w in lower):
                raise ValueError("argument(s) must be one of the following: " + ", ".join(d.enum))
            flags = [e for e in d.enum if e in lower and e != "default"]  # "default" is no flag
            if "save" in flags and "nosave" in flags:
                raise ValueError("shutdown options SAVE and NOSAVE can't be used simultaneously")
            return flags or ["default"]
        if d.name == "client-output-buffer-limit":
            return _parse_cobl(words, self.values[d.name])
        assert d.parse is not None
        return d.parse(words)

    def render_value(self, d: Directive, v: Any) -> str:
        kind = d.kind
        if kind == "bool":
            return "yes" if v else "no"
        if kind == "flags":
            return " ".join(v)
        if d.percent and v < 0:
            return f"{-v}%"
        if d.name == "client-output-buffer-limit":
            return _render_cobl(v)
        if d.render is not None:
            return d.render(v)
        return str(v)

    def render(self, name: str) -> str:
        d = TABLE[name.lower()]
        return self.render_value(d, self.values[d.name])

    def _store(self, d: Directive, v: Any) -> None:
        self._explicit.add(d.name)
        self.values[d.name] = v
        if d.name == "compat-version":
            self._mode_defaults()
        for hook in self.hooks.get(d.name, ()):
            hook(v)

    def set(self, name: str, text: str, startup: bool = False) -> None:
        d = self._known(name)
        if d is None:
            raise ConfigError("Unknown option")
        if not d.mutable and not startup:
            raise ConfigError("can't set immutable config")
        try:
            v = self.parse_value(d, text)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        self._store(d, v)

    def set_many(self, pairs: list[tuple[str, str]], allow_protected: bool = False) -> None:
        """CONFIG SET: validate every pair, then set them all, or none.

        Raises ConfigError whose text is the whole error reply (without the leading "ERR ")."""
        err_name = err_text = None
        chosen: list[tuple[str, Directive]] = []
        seen: set[str] = set()
        for name, _ in pairs:
            lname = name.lower()
            d = self._known(lname)
            if d is None:
                if err_name is None:
                    raise ConfigError(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
                continue
            if err_name is None:
                if not d.mutable:
                    err_name, err_text = name, "can't set immutable config"
                elif d.protected and not allow_protected:
                    err_name, err_text = name, "can't set protected config"
                elif lname in seen:
                    err_name, err_text = name, "duplicate parameter"
            seen.add(lname)
            chosen.append((name, d))
        if err_name is not None:
            raise ConfigError(f"CONFIG SET failed (possibly related to argument '{err_name}') - {err_text}")
        # Redis names a failing directive as its own table entry does (an alias is an entry of its
        # own), i.e. as typed, in lowercase.
        names = [name.lower() for name, _ in chosen]
        new: list[tuple[Directive, Any]] = []
        old: list[tuple[Directive, Any]] = []
        ran: list[Callable[[], None]] = []
        failed = 0
        try:
            # set each value in order: a set that fails (a value that does not parse, dir's
            # chdir) stops there and restores the ones before it
            for i, ((_, d), (_, text)) in enumerate(zip(chosen, pairs)):
                failed = i
                v = self.parse_value(d, text)
                was = self.values[d.name]
                if d.name == "dir":
                    try:
                        os.chdir(v)
                    except OSError as e:
                        raise ValueError(e.strerror) from None
                self._store(d, v)
                new.append((d, v))
                old.append((d, was))
            # the apply functions of what changed, each once, named after its first directive
            for i, ((d, v), (_, was)) in enumerate(zip(new, old)):
                for anames, fn, volatile in self.appliers:
                    if d.name in anames and fn not in ran and (v != was or d.name in volatile):
                        ran.append(fn)
                        failed = i
                        fn()
        except ValueError as e:  # restore everything set, and re-apply (restoreBackupConfig)
            for d, v in reversed(old):
                try:
                    if d.name == "dir":
                        os.chdir(v)
                    self._store(d, v)
                except (ValueError, OSError):
                    self.values[d.name] = v
            for fn in ran:
                try:
                    fn()
                except ValueError:
                    pass
            raise ConfigError(f"CONFIG SET failed (possibly related to argument '{names[failed]}') - {e}") from None

    def get(self, pattern: str) -> dict[str, str]:
        """CONFIG GET <pattern>: an exact name answers under the name as given."""
        out: dict[str, str] = {}
        if not any(c in pattern for c in "*?["):
            d = self._known(pattern)
            if d is not None:
                out[pattern] = self.render_value(d, self.values[d.name])
            return out
        pat = pattern.encode()
        for name, d in TABLE.items():
            if self.eff(d).hidden or not self.has_name(name, d):
                continue
            if glob_match(pat, name.encode(), nocase=True):
                out[name] = self.render_value(d, self.values[d.name])
        return out

    # --- files and command line ----------------------------------------------------------
    def load_startup(self, config_file: str | None, stdin_text: str | None, options: str | None) -> None:
        """redis-server's loadServerConfig: the file's text, then stdin's, then the command
        line's options (options_from_argv), read as one text (line numbers count through it)."""
        text = ""
        if config_file is not None:
            self.config_file = os.path.abspath(config_file)
            text = _read_config_file(config_file)
        if stdin_text is not None:
            text += stdin_text
        if options is not None:
            text += "\n" + options
        self._choose_mode(text)
        self.load_text(text)
        self.check_modes()

    def _choose_mode(self, text: str) -> None:
        """The mode the text chooses (its last valid `compat-version` line), set before any
        line is read: what a directive accepts may depend on it (loglevel's `nothing`), and a
        file may name the mode after such a line, or the command line name it."""
        mode = None
        for line in text.split("\n"):
            s = line.strip(" \t\r\n")
            if s[:14].lower() != "compat-version":
                continue
            words = split_args(s)
            if words and len(words) == 2 and words[0].lower() == "compat-version" and words[1].lower() in MODES:
                mode = words[1].lower()
        if mode is not None and mode != self.values["compat-version"]:
            self.values["compat-version"] = mode
            self._mode_defaults()

    def load_embedded(self, config_file: str | None, args: list[str]) -> None:
        """An embedded server's start-up (pyredis.Server): its config file, then its keyword
        directives as `--name value` arguments, in the mode they choose together."""
        text = _read_config_file(config_file) if config_file else ""
        self._choose_mode(text + "\n" + _options_text(args, 0))
        if config_file:
            self.load_file(config_file)
        self.load_args(args)
        self.check_modes()  # a directive the mode lacks, once the mode is known

    def load_args(self, args: list[str]) -> None:
        """`--name value [value ...]` arguments, as redis-server reads them after the config
        file (options_from_argv)."""
        self.load_text("\n" + _options_text(args, 0))

    def load_file(self, path: str) -> None:
        if self.config_file is None:
            self.config_file = os.path.abspath(path)
        self.load_text(_read_config_file(path))

    def load_text(self, text: str) -> None:
        """loadServerConfigFromString: line by line; the first bad line raises ConfigError
        with Redis's three lines (where, the line, why)."""
        self._reading = True
        for lineno, line in enumerate(text.split("\n"), 1):
            s = line.strip(" \t\r\n")
            if not s or s.startswith("#"):
                continue
            words = split_args(s)
            try:
                if words is None:
                    raise _LineError("Unbalanced quotes in configuration line")
                if not words:
                    continue
                self._lineno = lineno
                self._apply_words(words, s)
            except _LineError as e:
                self.check_modes()  # a line before this one the mode lacks is the first error
                raise ConfigError(f"Reading the configuration file, at line {lineno}\n>>> '{s}'\n{e}") from None
        self._reading = False  # (also after an included file: Redis's reading_config_file)
        logfile = self.values["logfile"]
        if logfile:
            try:  # as Redis: the server could not report a log file it cannot open later
                open(logfile, "a").close()
            except OSError as e:
                raise ConfigError(f"Can't open the log file: {e.strerror}") from None
        if self.values["cluster-enabled"] and self.values["replicaof"]:
            raise ConfigError("replicaof directive not allowed in cluster mode")

    def _apply_words(self, words: list[str], line: str) -> None:
        name = words[0].lower()
        argc = len(words)
        d = TABLE.get(name)
        if d is not None and (d.since is not None or name in d.alias_since):
            # the mode may be chosen by a later line or option: check_modes() decides
            self._mode_lines.append((name, d, f"Reading the configuration file, at line {self._lineno}\n>>> '{line}'\n"
                                        "Bad directive or wrong number of arguments"))
        if d is not None:
            if not d.multi_arg and argc != 2:
                raise _LineError("wrong number of arguments")
            if d.multi_arg and argc == 2 and words[1]:
                # one argument holding several (`--save "60 10"`): split as a config line
                args = split_args(words[1]) or []
            else:
                args = words[1:]
            try:
                if d.multi_arg:
                    v = self.parse_words(d, args)
                elif d.name == "dir":
                    v = self._load_dir(self.parse_value(d, args[0]))
                else:
                    v = self.parse_value(d, args[0])
            except ValueError as e:
                raise _LineError(str(e)) from None
            if d.name == "save":  # setConfigSaveOption while reading_config_file
                if args == [""] or not self._reading:
                    self.values["save"] = []
                if self._reading and not self._save_seen:
                    self._save_seen = True
                    self.values["save"] = []
                self.values["save"] = self.values["save"] + v
            else:
                self.values[d.name] = v
                self._explicit.add(d.name)
                if d.name == "compat-version":
                    self._mode_defaults()
            return
        if name in _DEPRECATED and argc == 2:
            return  # directives Redis 7 still accepts and ignores
        if name == "include" and argc == 2:
            for path in _include_paths(words[1]):
                self.load_text(_read_config_file(path))
        elif name == "rename-command" and argc == 3:
            self.renames.append((words[1], words[2], self._lineno, line))
        elif name == "user" and argc >= 2:  # ACL users: core/acl.py loads them at start-up
            bwords = [w.encode("utf-8", "surrogateescape") for w in words]
            if any(u[1] == bwords[1] for u in self.user_lines):
                raise _LineError("Error in user declaration '%s': Duplicate user found. A user can only be "
                                 "defined once in config files" % words[1])
            self.user_lines.append(bwords)
            self.user_line_pos.append((self._lineno, line))  # (__main__ checks the rules with their line)
        elif name == "loadmodule" and argc >= 2:
            self.modules.append((words[1], words[2:]))
        elif "." in name:
            if argc < 2:
                raise _LineError("Module config specified without value")
            self.module_configs[name] = " ".join(words[1:])
        elif name == "sentinel":
            if argc != 1:
                raise _LineError("sentinel directive while not in sentinel mode")
        else:
            raise _LineError("Bad directive or wrong number of arguments")

    def _load_dir(self, path: str) -> str:
        """setConfigDirOption: chdir at once (later relative paths start there). A server
        embedded in another program's thread must not move the process: there the folder is
        only remembered."""
        if path == "":  # chdir("") fails whoever calls it
            raise ValueError(os.strerror(errno.ENOENT))
        if self.chdir:
            try:
                os.chdir(path)
            except OSError as e:
                raise ValueError(e.strerror) from None
            return os.getcwd()
        return path

    # --- CONFIG REWRITE ------------------------------------------------------------------
    def _lines_for(self, d: Directive) -> list[str]:
        """The redis.conf lines CONFIG REWRITE writes for d, formatted as Redis does: memory
        values with units, string values always quoted, one `save` line per point, and
        client-output-buffer-limit only for the classes that differ from the default."""
        v = self.values[d.name]
        name = self.name_of(d)
        if d.name == "replicaof" and not v:
            return []  # rewriteConfigReplicaOfOption: no master, no line
        if d.name == "save":
            if not v:
                return ['save ""']
            return [f"save {s} {c}" for s, c in v]
        if d.name == "client-output-buffer-limit":
            return [f"client-output-buffer-limit {k} {_mem_units(v[k][0])} {_mem_units(v[k][1])} {v[k][2]}"
                    for k in ("normal", "replica", "pubsub") if v[k] != d.default[k]]
        if d.kind == "memory" and v >= 0:
            return [f"{name} {_mem_units(v)}"]
        text = self.render_value(d, v)
        if d.kind == "string" or d.name in ("dir", "notify-keyspace-events", "cluster-announce-hostname"):
            return [f"{name} {_repr(text)}"]
        if d.multi_arg and text:
            return [f"{name} {text}"]
        return [f"{name} {_quote(text)}"]

    def rewrite(self, force_all: bool = False) -> None:
        """Rewrite the config file: lines of known directives get the current values, the
        others stay; changed directives the file did not mention are appended."""
        path = self.config_file
        if not path:
            raise ConfigError("The server is running without a config file")
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                old_lines = f.read().splitlines()
        except FileNotFoundError:
            old_lines = []
        out: list[str] = []
        done: set[str] = set()
        # `user` lines: the current ACL users take the places of the old lines, in order
        users = list(self.rewrite_users()) if self.rewrite_users is not None else None
        marker = "# Generated by CONFIG REWRITE"
        for line in old_lines:
            s = line.strip()
            if s == marker:
                continue
            if not s or s.startswith("#"):
                out.append(line)
                continue
            words = split_args(s)
            if words is None:
                out.append(line)
                continue
            if users is not None and words and words[0].lower() == "user":
                out.append(users.pop(0) if users else "")
                continue
            d = TABLE.get(words[0].lower()) if words else None
            if d is None:
                out.append(line)
                continue
            if d.name in done:
                out.append("")  # later occurrences were merged into the first one
                continue
            done.add(d.name)
            out.extend(self._lines_for(d))
        extra: list[str] = []
        for d in DIRECTIVES:
            if d.name in done or (d.hidden and not d.pyredis) or not self.has(d):
                continue
            if force_all or self.values[d.name] != self.default(d):
                extra.extend(self._lines_for(d))
        extra.extend(users or [])
        if extra:
            if out and out[-1].strip():
                out.append("")
            out.append(marker)
            out.extend(extra)
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write("\n".join(out) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise ConfigError(f"Rewriting config file: {e.strerror}") from None
