"""CONFIG GET, SET, RESETSTAT, REWRITE and HELP.

Where it sits: core/dispatch.py runs these like any command; they read and change the
server's Config (config.py, state.config), which the rest of the server reads at each use.
apply_runtime_config carries out the few effects of CONFIG SET that are not read from the
config at each use (the parser limits of connected clients).
"""

from __future__ import annotations

from ..config import ConfigError
from ..core.acl import redact
from ..core.client import Client
from ..core.commandtable import table_specs
from ..core.spec import command, container
from ..errors import SYNTAX, CommandError
from ..protocol.replies import OK
from ..core.dispatch import protected_allowed
from ._server_common import help_reply, metrics

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
    # sensitive values (Redis's SENSITIVE_CONFIG) never reach SLOWLOG
    redact(ctx, *(3 + i for i in range(0, len(args), 2) if args[i].lower() in (b"requirepass", b"masterauth")))
    state = ctx.server
    try:
        state.config.set_many(pairs, allow_protected=protected_allowed(ctx, "enable-protected-configs"))
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
    from ..core.latency import reset_histogram

    state.evictor.reset_stats()
    state.lazyfree.freed_objects = 0
    for spec in table_specs(state.commands):
        spec.calls = spec.usec = spec.rejected_calls = spec.failed_calls = 0
        reset_histogram(spec)
    metrics(state).reset()
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
    return help_reply(_CONFIG_HELP)
