"""COMMAND and its subcommands: COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP.

Where it sits: a request is parsed by protocol/, looked up by core/dispatch.py in the command
table (core/spec.py's TABLE, filled by the @command declarations of every commands/ module)
and run; COMMAND is the table describing itself to clients (redis-cli's help, cluster-aware
clients' key extraction).

Everything COMMAND answers is derived at runtime from the declarations in core/spec.py
(name, arity, flags, key positions, ACL categories, subcommands) as the server's
compat-version mode has them (its table, core/commandtable.py), so it lists exactly the
commands pyredis implements in that mode. What a declaration cannot say (key specs, tips, and
the documentation text of COMMAND DOCS) comes from the mode's capture, core/command_docs.json
(redis-server 7.0.15) or core/command_docs-MODE.json (7.2.6, 7.4.1, valkey-server 8.0.1),
made from each server's own COMMAND output by tests/data/capture_command_docs.py.
"""

from __future__ import annotations

from typing import Any

from ..core.client import Client
from ..core.keyspecs import keyspec_positions, native_flags, reference
from ..core.spec import CommandSpec, command
from ..errors import SYNTAX, CommandError
from ..protocol.replies import SetReply, Simple
from ..util import glob_match
from ._server_common import help_reply

# --- reference data (COMMAND DOCS text, key specs, tips): core/keyspecs.reference() ---------


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


def _table(ctx: Client) -> dict[bytes, CommandSpec]:
    """The server's command table: its mode's, renamed under rename-command (core/rename.py)."""
    return ctx.server.commands


def _lookup_full(ctx: Client, name: bytes) -> CommandSpec | None:
    """A command or `parent|sub` subcommand by name (case-insensitive)."""
    name = name.lower()
    if b"|" in name:
        parent, _, sub = name.partition(b"|")
        spec = _table(ctx).get(parent)
        return spec.subcommands.get(sub) if spec is not None else None
    return _table(ctx).get(name)


def _resolve_argv(ctx: Client, argv: list[bytes] | tuple[bytes, ...]) -> CommandSpec | None:
    spec = _table(ctx).get(argv[0].lower())
    if spec is not None and spec.subcommands:
        if len(argv) < 2:
            return spec  # the arity check will refuse it
        return spec.subcommands.get(argv[1].lower())
    return spec


# --- COMMAND ------------------------------------------------------------------------------
_INFO_CACHE: dict[tuple[int, str], tuple[CommandSpec, list]] = {}
_DOCS_CACHE: dict[tuple[int, str], tuple[CommandSpec, dict]] = {}


def command_info(spec: CommandSpec, mode: str) -> list:
    """COMMAND INFO's entry for spec in `mode` (built once: the declarations do not change)."""
    hit = _INFO_CACHE.get((id(spec), mode))
    if hit is not None and hit[0] is spec and len(hit[1][9]) == len(spec.subcommands):
        return hit[1]
    info = _build_info(spec, mode)
    _INFO_CACHE[(id(spec), mode)] = (spec, info)
    return info


def _build_info(spec: CommandSpec, mode: str) -> list:
    ref = reference(mode)["info"].get(spec.fullname)
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
        SetReply(command_info(s, mode) for s in spec.subcommands.values()),
    ]


def command_docs(spec: CommandSpec, mode: str) -> dict:
    hit = _DOCS_CACHE.get((id(spec), mode))
    if hit is not None and hit[0] is spec and len(hit[1].get(b"subcommands", ())) == len(spec.subcommands):
        return hit[1]
    doc = _build_docs(spec, mode)
    _DOCS_CACHE[(id(spec), mode)] = (spec, doc)
    return doc


def _build_docs(spec: CommandSpec, mode: str) -> dict:
    ref = reference(mode)["docs"]
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
        out[b"subcommands"] = {s.fullname.encode(): command_docs(s, mode) for s in spec.subcommands.values()}
    return out


@command("COMMAND", arity=-1, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(N) where N is the total number of Redis commands")
def command_(ctx: Client, *args: bytes):
    """Returns detailed information about all commands."""
    if args:  # unknown subcommand (subcommands are dispatched by the table)
        raise CommandError("ERR unknown subcommand '%s'. Try COMMAND HELP." % args[0].decode("utf-8", "replace")[:128])
    mode = ctx.server.compat.mode
    return [command_info(s, mode) for s in _table(ctx).values()]


# COMMAND has both a plain form and subcommands: the table dispatches subcommands only when
# the container has no handler, so COMMAND's own handler resolves them itself (below).


@command("COMMAND|COUNT", arity=2, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(1)")
def command_count(ctx: Client):
    """Returns a count of commands."""
    return len(_table(ctx))


@command("COMMAND|INFO", arity=-2, flags="loading stale", group="server", acl="connection", since="2.8.13",
         complexity="O(N) where N is the number of commands to look up")
def command_info_(ctx: Client, *names: bytes):
    """Returns information about one, multiple or all commands."""
    mode = ctx.server.compat.mode
    if not names:
        return [command_info(s, mode) for s in _table(ctx).values()]
    out = []
    for n in names:
        spec = _lookup_full(ctx, n)
        out.append(command_info(spec, mode) if spec is not None else None)
    return out


@command("COMMAND|DOCS", arity=-2, flags="loading stale", group="server", acl="connection", since="7.0.0",
         complexity="O(N) where N is the number of commands to look up")
def command_docs_(ctx: Client, *names: bytes):
    """Returns documentary information about one, multiple or all commands."""
    mode = ctx.server.compat.mode
    if not names:
        return {s.fullname.encode(): command_docs(s, mode) for s in _table(ctx).values()}
    out = {}
    for n in names:
        spec = _lookup_full(ctx, n)
        if spec is not None:
            out[spec.fullname.encode()] = command_docs(spec, mode)
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
    specs = [x for s in _table(ctx).values() for x in (s, *s.subcommands.values())]
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


def _getkeys_common(ctx: Client, argv: tuple[bytes, ...]) -> tuple[CommandSpec, list[int]]:
    spec = _resolve_argv(ctx, argv)
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
         complexity="O(N) where N is the number of arguments to the command", changed={"7.2": dict(arity=-3)})
def command_getkeys(ctx: Client, *argv: bytes):
    """Extracts the key names from an arbitrary command."""
    _, positions = _getkeys_common(ctx, argv)
    return [argv[i] for i in positions]


@command("COMMAND|GETKEYSANDFLAGS", arity=-4, flags="loading stale", group="server", acl="connection",
         since="7.0.0", complexity="O(N) where N is the number of arguments to the command",
         changed={"7.2": dict(arity=-3)})
def command_getkeysandflags(ctx: Client, *argv: bytes):
    """Extracts the key names and access flags for an arbitrary command."""
    spec, positions = _getkeys_common(ctx, argv)
    # Key specs flagged variable_flags: Redis's getkeys procs decide from the arguments.
    if spec.fullname in ("set", "bitfield"):
        return [[argv[1], SetReply(Simple(f.encode()) for f in native_flags(spec, argv, 1, 1))]]
    ref = reference(ctx.server.compat.mode)["info"].get(spec.fullname)
    flags_at: dict[int, SetReply] = {}
    if ref is not None:
        for ks in ref["key_specs"]["~"]:
            fl = SetReply(Simple(f["+"].encode()) for f in ks.get("flags", {"~": []})["~"]
                          if f["+"] not in ("variable_flags", "incomplete"))
            for p in keyspec_positions(ks, argv):
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


@command("COMMAND|HELP", arity=2, flags="loading stale", group="server", acl="connection", since="5.0.0",
         complexity="O(1)")
def command_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    lines = _COMMAND_HELP
    if ctx.server.compat.valkey:  # Valkey's text does not say "Redis"
        lines = [x.replace(" Redis command", " command").replace(" Redis server", " server") for x in lines]
    return help_reply(lines)
