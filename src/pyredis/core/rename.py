"""rename-command: a server's own view of the command table.

core/spec.py's TABLE is process-wide (two servers in one process share it), so a server whose
configuration renames or removes commands gets a copy of it with the renames applied, held
as `state.commands`; dispatch's lookup step, scripts' redis.call and COMMAND read that copy
when it is set, and TABLE itself otherwise (no rename: nothing changes on the hot path).

As Redis's loadServerConfig: `rename-command OLD NEW` finds OLD in the table as renamed so far
(case-insensitive), removes it, and adds the same command under NEW unless NEW is "". The
command keeps its own name for COMMAND INFO/DOCS/LIST and INFO commandstats.

API:
    renamed_table(config.renames) -> dict[bytes, CommandSpec]    # raises ConfigError
"""

from __future__ import annotations

from ..config import ConfigError
from .spec import TABLE, CommandSpec


def renamed_table(renames: list[tuple[str, str, int, str]]) -> dict[bytes, CommandSpec]:
    table = dict(TABLE)
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
