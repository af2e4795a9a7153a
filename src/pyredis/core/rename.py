"""rename-command: a server's own view of the command table.

A server's table (`state.commands`) is its compat-version mode's, shared by the servers of
that mode (core/commandtable.py); a server whose configuration renames or removes commands
gets a copy of it with the renames applied, and its own spelling cache. dispatch's lookup
step, scripts' redis.call and COMMAND read state.commands either way (nothing changes on the
hot path).

As Redis's loadServerConfig: `rename-command OLD NEW` finds OLD in the table as renamed so far
(case-insensitive), removes it, and adds the same command under NEW unless NEW is "". The
command keeps its own name for COMMAND INFO/DOCS/LIST and INFO commandstats.

API:
    renamed_table(config.renames, table) -> dict[bytes, CommandSpec]    # raises ConfigError
"""

from __future__ import annotations

from ..config import ConfigError
from .spec import CommandSpec


def renamed_table(renames: list[tuple[str, str, int, str]], base: dict[bytes, CommandSpec]) -> dict[bytes, CommandSpec]:
    table = dict(base)
    for old, new, lineno, line in renames:
        o = old.encode("utf-8", "surrogateescape").lower()
        spec = table.pop(o, None)
        err = None
        if spec is None:
            # (a subcommand, `config|get`, is refused here; redis-server 7.0 asserts on it)
            err = "No such command in rename-command"
        elif new:
            n = new.encode("utf-8", "surrogateescape").lower()
            if n in table:
                err = "Target command name already exists"
            else:
                table[n] = spec
        if err is not None:
            raise ConfigError(f"Reading the configuration file, at line {lineno}\n>>> '{line}'\n{err}")
    return table
