"""Server commands with no module of their own: TIME, LASTSAVE and SHUTDOWN.

Where it sits: core/dispatch.py runs them like any command. SHUTDOWN does not stop anything
itself: it has persistence prepare (the final save) and sets state.shutdown_requested, which
the connection and the server loop (server/) act on. The other commands Redis groups as
"server" live next door: command.py (COMMAND), config_cmd.py (CONFIG), info.py (INFO),
debug.py (DEBUG), memory.py (MEMORY), slowlog.py (SLOWLOG, LATENCY, MONITOR), persistence.py
(SAVE, BGSAVE, BGREWRITEAOF), generic.py (FLUSHDB, FLUSHALL, SWAPDB, DBSIZE), replication.py
(ROLE, REPLICAOF, SYNC, PSYNC, REPLCONF, WAIT, FAILOVER).
"""

from __future__ import annotations

from ..core.client import Client
from ..core.spec import command
from ..errors import BUSY_EVAL, BUSY_FUNCTION, SYNTAX, CommandError
from ..protocol.replies import NO_REPLY

# --- TIME, LASTSAVE ------------------------------------------------------
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
    run = state.busy_script
    if run is not None and save is not False:  # only NOSAVE while a script is busy: never persist half of it
        raise CommandError(BUSY_EVAL if run.is_eval else BUSY_FUNCTION)
    if state.persistence is not None:
        from ..errors import PersistenceError

        try:
            state.persistence.prepare_shutdown(save, force)
        except PersistenceError as e:
            raise CommandError(str(e)) from None
        state.shutdown_prepared = True
    state.shutdown_requested = (save, now)
    state.shutdown_force = force
    ctx.close_after_reply = True
    return NO_REPLY


