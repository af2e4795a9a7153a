"""Each server's command table: the commands of its compat-version mode, under its names.

core/spec.py's TABLE holds every command pyredis declares, for every mode, each declared as
Redis 7.0 has it. A mode's table (built once per mode, shared by the servers of that mode)
keeps the commands the mode has (`since`: a Redis release, or a Valkey one for Valkey's own
commands, asked of version.Compat.has) and applies what later releases changed in their
declarations (`changed={"7.2": dict(arity=-3)}`; a key may name several modes,
`("7.4", "valkey-8.0")`, for a change both made; applied in the order of version.MODES) as
variants of the spec. A container (CLIENT, CLUSTER...) whose
subcommands differ gets a variant with its own subcommand dict; everything unchanged is the
very spec object of TABLE.

ServerState builds its table at start-up (state.commands: the mode's table, then
rename-command applied to a copy of it, core/rename.py), and nothing decides per command:
dispatch, COMMAND, ACL CAT, scripts' redis.call and INFO commandstats read the server's table.

API:
    mode_table(compat) -> dict[bytes, CommandSpec]      # cached per mode
    mode_specs(compat) -> [CommandSpec]                 # commands and subcommands of the mode
    server_table(compat, renames) -> dict[bytes, CommandSpec]   # raises ConfigError (rename)
    spelling_cache(compat) -> dict                      # dispatch's exact-spelling cache of the mode
    table_specs(table) -> [CommandSpec]                 # what a server runs (its stats live there)
"""

from __future__ import annotations

from typing import Any

from ..version import MODES, Compat
from .spec import TABLE, CommandSpec

_TABLES: dict[str, tuple[int, dict[bytes, CommandSpec]]] = {}
_SPELLINGS: dict[str, dict] = {}


def _keys(key: str | tuple[str, ...]) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)


def _changes(spec: CommandSpec, compat: Compat) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(spec.changed, key=lambda k: min(MODES.index(m) for m in _keys(k))):
        if compat.at_least(*_keys(key)):
            out.update(spec.changed[key])
    return out


_OLD_HELP_END = b"    Prints this help."
_HELP_WRAPPERS: dict[int, Any] = {}


def _help_72(handler):
    """7.2's addReplyHelp ends every HELP with "Print this help." (7.0: "Prints")."""
    w = _HELP_WRAPPERS.get(id(handler))
    if w is None:
        def w(ctx, *args):
            out = handler(ctx, *args)
            if type(out) is list and out and out[-1] == _OLD_HELP_END:
                out = out[:-1] + [type(out[-1])(b"    Print this help.")]
            return out

        _HELP_WRAPPERS[id(handler)] = w
    return w


def _for_mode(spec: CommandSpec, compat: Compat) -> CommandSpec | None:
    if not compat.has(spec.since, spec.valkey):
        return None
    ch = _changes(spec, compat)
    if spec.fullname.endswith("|help") and spec.handler is not None and compat.at_least("7.2"):
        ch.setdefault("handler", _help_72(spec.handler))
    v = spec.variant(**ch) if ch else spec
    if spec.subcommands:
        subs = {}
        for name, sub in spec.subcommands.items():
            s = _for_mode(sub, compat)
            if s is not None:
                subs[name] = s
        if v is spec and any(subs.get(n) is not s for n, s in spec.subcommands.items()):
            v = spec.variant()
        if v is not spec:
            v.subcommands = subs
    return v


def mode_table(compat: Compat) -> dict[bytes, CommandSpec]:
    """The commands of mode `compat`, name -> spec (built on first use; rebuilt if the process
    declared more commands since, as tests that import command modules late do)."""
    hit = _TABLES.get(compat.mode)
    n = sum(1 + len(s.subcommands) for s in TABLE.values())
    if hit is not None and hit[0] == n:
        return hit[1]
    table = {}
    for name, spec in TABLE.items():
        s = _for_mode(spec, compat)
        if s is not None:
            table[name] = s
    _TABLES[compat.mode] = (n, table)
    _SPELLINGS[compat.mode] = {}
    return table


def mode_specs(compat: Compat) -> list[CommandSpec]:
    out = []
    for spec in mode_table(compat).values():
        out.append(spec)
        out.extend(spec.subcommands.values())
    return out


def table_specs(table: dict[bytes, CommandSpec]) -> list[CommandSpec]:
    """The specs a server runs (its table's commands and subcommands, variants included), in
    the order of every declared command: what INFO commandstats and CONFIG RESETSTAT read."""
    from .spec import all_specs

    mine: dict[str, CommandSpec] = {}
    for spec in table.values():
        mine.setdefault(spec.fullname, spec)
        for sub in spec.subcommands.values():
            mine.setdefault(sub.fullname, sub)
    return [mine[s.fullname] for s in all_specs() if s.fullname in mine]


def spelling_cache(compat: Compat) -> dict:
    """dispatch's cache of exact spellings ("GET", "get", "Get") -> spec for the mode's table,
    shared by the servers of the mode (bounded by dispatch)."""
    mode_table(compat)
    return _SPELLINGS[compat.mode]


def server_table(compat: Compat, renames: list[tuple[str, str, int, str]]) -> dict[bytes, CommandSpec]:
    table = mode_table(compat)
    if renames:
        from .rename import renamed_table

        table = renamed_table(renames, table)
    return table
