"""The command table. Every command is declared once, with @command, and everything else
(dispatch, arity errors, COMMAND INFO/COUNT/LIST/GETKEYS/DOCS, ACL categories, propagation)
derives from that declaration.

API:
    @command("SET", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string")
    def set_(ctx, key, value, *options): ...
    @command("CONFIG|GET", arity=-3, flags="admin noscript loading stale")
    def config_get(ctx, *patterns): ...   # subcommand handlers get the arguments after the subcommand
    TABLE: dict[bytes, CommandSpec]      # lowercase name -> spec (top level), every mode's commands;
                                         # a server runs its mode's table (core/commandtable.py)
    lookup(name) -> CommandSpec | None
    get_keys(spec, argv) -> list of key positions

Flags and ACL categories use Redis's names. Implicit ACL categories are derived from the flags
exactly as Redis's setImplicitACLCategories does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Order in which Redis prints command flags (COMMAND INFO).
FLAG_ORDER = [
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "may_replicate", "sentinel", "only_sentinel", "no_mandatory_keys", "protected",
    "no_async_loading", "no_multi", "movablekeys", "allow_busy", "module_no_cluster",
]
# Commands a configuration option may forbid (Redis's CMD_PROTECTED), with that option: a
# command (all its subcommands) or one subcommand (MODULE LIST and HELP are not protected).
PROTECTED_BY = {"debug": "enable-debug-command", "module|load": "enable-module-command",
                "module|loadex": "enable-module-command", "module|unload": "enable-module-command"}

# Bit order of Redis's ACL categories (COMMAND INFO and ACL CAT print them in this order).
ACL_ORDER = [
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
]
GROUP_ACL = {
    "string": "string", "generic": "keyspace", "list": "list", "hash": "hash", "set": "set",
    "sorted_set": "sortedset", "stream": "stream", "bitmap": "bitmap",
    "hyperloglog": "hyperloglog", "geo": "geo", "pubsub": "pubsub",
    "transactions": "transaction", "scripting": "scripting", "connection": "connection",
}


class CommandSpec:
    __slots__ = (
        "name", "fullname", "handler", "arity", "flags", "first_key", "last_key", "key_step",
        "acl", "group", "summary", "subcommands", "parent", "getkeys", "since", "complexity",
        "write", "readonly", "denyoom", "noscript", "no_auth", "loading", "stale", "fast",
        "blocking", "admin", "pubsub", "no_multi", "allow_busy", "may_replicate",
        "calls", "usec", "rejected_calls", "failed_calls", "id", "name_bytes", "argskip", "protected_by",
        "valkey", "changed", "decl", "lat", "hist", "may_block",
    )

    def __init__(self, fullname: str, handler: Callable[..., Any] | None, arity: int, flags: str,
                 keys: tuple[int, int, int], acl: str | None, group: str, summary: str,
                 getkeys: Callable[[list[bytes]], list[int]] | None, since: str, complexity: str,
                 valkey: bool = False, changed: dict[Any, dict[str, Any]] | None = None) -> None:
        # what the declaration said, for the variants of other modes (variant())
        self.decl = dict(fullname=fullname, handler=handler, arity=arity, flags=flags, keys=keys, acl=acl,
                         group=group, summary=summary, getkeys=getkeys, since=since, complexity=complexity,
                         valkey=valkey)
        # Redis (or, valkey=True, Valkey) release that introduced the command: a server in an
        # older mode does not have it (core/commandtable.py)
        self.valkey = valkey
        # what later releases changed in the declaration: {"7.2": {"arity": -3}, ...}, keyed by
        # the compat-version mode(s) that carry the change (a str or a tuple of them; version.Compat.at_least)
        self.changed = changed or {}
        self.fullname = fullname.lower()  # "config|get"
        self.name = self.fullname.split("|")[-1]
        self.name_bytes = self.fullname.encode()
        self.handler = handler
        self.arity = arity
        flag_set = set(flags.split())
        if getkeys is not None:
            flag_set.add("movablekeys")
        self.flags = [f for f in FLAG_ORDER if f in flag_set]
        unknown = flag_set - set(FLAG_ORDER)
        if unknown:
            raise ValueError(f"{fullname}: unknown flags {unknown}")
        self.first_key, self.last_key, self.key_step = keys
        self.group = group
        self.summary = summary
        self.since = since
        self.complexity = complexity
        self.subcommands: dict[bytes, CommandSpec] = {}
        self.parent: CommandSpec | None = None
        self.argskip = 2 if "|" in self.fullname else 1  # handler args start after name (and subcommand)
        self.getkeys = getkeys
        # Redis's CMD_PROTECTED (not shown by COMMAND INFO): the option that must allow it.
        self.protected_by = PROTECTED_BY.get(self.fullname) or PROTECTED_BY.get(self.fullname.split("|")[0])
        for f in ("write", "readonly", "denyoom", "noscript", "no_auth", "loading", "stale",
                  "fast", "blocking", "admin", "pubsub", "no_multi", "allow_busy", "may_replicate"):
            setattr(self, f, f in flag_set)
        # May its handler return a Blocked marker (dispatch.call stamps it for the slowlog):
        # Redis's blocking commands, WAIT/WAITAOF, and scripts (a busy script is deferred)
        self.may_block = self.blocking or self.fullname in MAY_BLOCK
        cats = set(acl.split()) if acl is not None else ({GROUP_ACL[group]} if group in GROUP_ACL else set())
        cats = {c.lstrip("@") for c in cats}
        # setImplicitACLCategories
        if self.write:
            cats.add("write")
        if self.readonly and "scripting" not in cats:
            cats.add("read")
        if self.admin:
            cats |= {"admin", "dangerous"}
        if self.pubsub:
            cats.add("pubsub")
        if self.fast:
            cats.add("fast")
        if self.blocking:
            cats.add("blocking")
        if "fast" not in cats:
            cats.add("slow")
        unknown = cats - set(ACL_ORDER)
        if unknown:
            raise ValueError(f"{fullname}: unknown ACL categories {unknown}")
        self.acl = [c for c in ACL_ORDER if c in cats]
        self.calls = self.usec = self.rejected_calls = self.failed_calls = 0
        # latency-tracking (core/latency.py): durations (us) not yet in the histogram, the histogram
        self.lat: list[int] = []
        self.hist = None
        self.id = 0

    def __repr__(self) -> str:
        return f"<CommandSpec {self.fullname}>"

    def variant(self, **changes: Any) -> CommandSpec:
        """The same command declared with some fields changed (arity, flags, acl, handler...)
        as a later release has it: a new spec with the same subcommands and parent."""
        v = CommandSpec(**{**self.decl, **changes})
        v.subcommands = dict(self.subcommands)
        v.parent = self.parent
        return v

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Positions of the keys in argv (argv[0] is the command name)."""
        if self.getkeys is not None:
            return self.getkeys(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key
        if last < 0:
            last = len(argv) + last
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))


TABLE: dict[bytes, CommandSpec] = {}


def command(name: str, arity: int, flags: str = "", keys: tuple[int, int, int] = (0, 0, 0),
            group: str = "generic", acl: str | None = None, summary: str = "",
            getkeys: Callable[[list[bytes]], list[int]] | None = None, since: str = "1.0.0",
            complexity: str = "", valkey: bool = False,
            changed: dict[Any, dict[str, Any]] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a command (or `PARENT|SUB` subcommand) and register its handler.

    The declaration is the command as Redis 7.0 has it; `since` (a Redis release, or with
    valkey=True a Valkey one) says which modes have it at all, and `changed` what later modes
    declare differently: changed={"7.2": dict(arity=-3)} (ZRANK's WITHSCORE). Each server's
    table applies them once at start-up (core/commandtable.py)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        doc = (fn.__doc__ or "").strip().splitlines()
        spec = CommandSpec(name, fn, arity, flags, keys, acl, group, summary or (doc[0] if doc else ""),
                           getkeys, since, complexity, valkey, changed)
        declare(spec)
        return fn

    return register


def container(name: str, group: str = "generic", summary: str = "", since: str = "1.0.0",
              acl: str | None = None, valkey: bool = False) -> CommandSpec:
    """Declare a command that only has subcommands (CONFIG, CLIENT, OBJECT...)."""
    spec = CommandSpec(name, None, -2, "", (0, 0, 0), acl if acl is not None else "", group,
                       summary, None, since, "", valkey)
    return declare(spec)


def declare(spec: CommandSpec) -> CommandSpec:
    if "|" in spec.fullname:
        parent_name, sub = spec.fullname.split("|", 1)
        parent = TABLE[parent_name.encode()]
        spec.parent = parent
        parent.subcommands[sub.encode()] = spec
    else:
        TABLE[spec.fullname.encode()] = spec
    return spec


# Commands without Redis's "blocking" flag whose handler may still return a Blocked marker.
MAY_BLOCK = frozenset({"wait", "waitaof", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})


def lookup(name: bytes) -> CommandSpec | None:
    spec = TABLE.get(name)
    if spec is None:
        spec = TABLE.get(name.lower())
    return spec


def all_specs() -> list[CommandSpec]:
    out = []
    for spec in TABLE.values():
        out.append(spec)
        out.extend(spec.subcommands.values())
    return out
