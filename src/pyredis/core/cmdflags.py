"""A command's flags as processCommand() sees them (Redis's getCommandFlags): EVAL/EVALSHA and
FCALL take the flags their script or function declares (scriptFlagsToCmdFlags), EXEC those
of the commands it queued (mstate.cmd_flags).

API:
    script_flags(state, name, argv) -> set[str] | None   the shebang / function flags, None in
                                                         eval compatibility mode or when unknown
    compat_script(state, name, argv) -> bool              EVAL/EVALSHA of a shebang-less script
    may_replicate(c, spec, argv) -> bool                 CMD_WRITE | CMD_MAY_REPLICATE (what a
                                                         CLIENT PAUSE WRITE holds)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client
    from .spec import CommandSpec

_EVALS = frozenset([b"eval", b"eval_ro", b"evalsha", b"evalsha_ro"])
_FCALLS = frozenset([b"fcall", b"fcall_ro"])
SCRIPT_COMMANDS = _EVALS | _FCALLS  # their flags are the script's
# Redis 7.0's CMD_MAY_REPLICATE commands (the command table's may_replicate flag is not set
# on them in pyredis's table)
MAY_REPLICATE = frozenset([b"publish", b"spublish", b"pfcount", b"eval", b"evalsha", b"fcall"])


def script_flags(state, name: bytes, argv: list[bytes]) -> set[str] | None:
    """evalGetCommandFlags / fcallGetCommandFlags: the flags of the script the command would
    run; None when the command's own flags apply (no shebang, an unknown script or function,
    a shebang EVAL will refuse)."""
    if len(argv) < 2:
        return None
    if name in _FCALLS:
        from .functions import registry

        fi = registry(state).functions.get(argv[1].lower())
        return None if fi is None else set(fi.flags)
    from .lua import engine, flag_names, parse_shebang, sha1hex

    body = argv[1]
    if name.startswith(b"evalsha"):
        if len(body) != 40:
            return None
        entry = engine(state).scripts.get(body.lower())
        if entry is None:
            return None
    else:
        entry = engine(state).scripts.get(sha1hex(body))
        if entry is None:
            try:
                flags, compat, _ = parse_shebang(body)
            except Exception:  # a bad shebang: the command's own flags (EVAL then fails)
                return None
            return None if compat else flag_names(flags)
    return None if entry.compat else flag_names(entry.flags)


def compat_script(state, name: bytes, argv: list[bytes]) -> bool:
    """EVAL/EVALSHA of a script without a shebang (eval compatibility mode); an EVALSHA of an
    unknown script is not one."""
    if len(argv) < 2:
        return False
    body = argv[1]
    if not name.startswith(b"evalsha"):
        return not body.startswith(b"#!")
    if len(body) != 40:
        return False
    from .lua import engine

    entry = engine(state).scripts.get(body.lower())
    return entry is not None and entry.compat


def _spec_may_replicate(state, spec: CommandSpec, argv: list[bytes]) -> bool:
    name = spec.name_bytes
    if name in _EVALS or name in _FCALLS:
        flags = script_flags(state, name, argv)
        if flags is not None:  # scriptFlagsToCmdFlags: writes unless no-writes, no MAY_REPLICATE
            return "no-writes" not in flags
    return spec.write or spec.may_replicate or name in MAY_REPLICATE


def may_replicate(c: Client, spec: CommandSpec, argv: list[bytes]) -> bool:
    """is_may_replicate_command of processCommand: the command (EXEC: one it queued) writes
    or may replicate something (PUBLISH, scripts without no-writes, ...)."""
    state = c.server
    if spec.name_bytes == b"exec" and c.multi:
        return any(_spec_may_replicate(state, s, a) for s, a in c.multi)
    return _spec_may_replicate(state, spec, argv)
