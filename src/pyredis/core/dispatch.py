"""execute(client, argv) -> reply: Redis's processCommand() gates, in Redis's order, then call().

Gates: lookup (unknown command / subcommand) -> arity -> protected (DEBUG) -> auth -> no_multi
inside MULTI -> pub/sub context (RESP2) -> loading -> busy script -> MULTI queueing -> call.
After the call: stats, and propagation of the effects when the data changed.

MULTI/EXEC, scripts and AOF loading all come through here too, which is why handlers
never touch the socket.
"""

from __future__ import annotations

import time

from ..errors import NOAUTH, CommandError, unknown_command, unknown_subcommand, wrong_arity
from ..protocol.replies import QUEUED, ErrorReply
from .client import Client
from .spec import TABLE, CommandSpec
from .transactions import exec_abort_reply

_perf = time.perf_counter_ns

# Commands a RESP2 client in subscriber mode may still run.
_PUBSUB_ALLOWED = frozenset(
    [b"ping", b"subscribe", b"ssubscribe", b"unsubscribe", b"sunsubscribe", b"psubscribe",
     b"punsubscribe", b"quit", b"reset"]
)
# Commands that are executed, not queued, inside MULTI.
_MULTI_IMMEDIATE = frozenset([b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"])

# Commands an option may forbid (Redis's CMD_PROTECTED: DEBUG with enable-debug-command):
# name -> f(client) -> error text or None. Their handlers check too; this table only makes
# the refusal come before NOAUTH and at MULTI queueing time, as in Redis, off the hot path.
PROTECTED: dict = {}

# MONITOR_FEED[0](client, spec, argv) is called after each command while MONITOR clients exist
# (installed by commands/server.py).
MONITOR_FEED: list = [None]

# Extra gates installed by later subsystems (ACL, OOM, MISCONF, busy scripts): each is
# f(client, spec, argv) -> error text or None, run after the auth gate in install order.
EXTRA_GATES: list = []


def _error_reply(c: Client, text: bytes) -> ErrorReply:
    c.server.stats.count_error(text)
    return ErrorReply(text)


def reject(c: Client, text: str | bytes, spec: CommandSpec | None = None) -> ErrorReply:
    """Refuse a command before it runs (Redis's rejectCommand): inside MULTI it aborts EXEC."""
    if isinstance(text, str):
        text = text.encode()
    if c.multi is not None:
        c.multi_error = True
        if spec is not None and spec.name_bytes == b"exec":
            spec.rejected_calls += 1
            return _error_reply(c, exec_abort_reply(c, text))
    if spec is not None:
        spec.rejected_calls += 1
    return _error_reply(c, text)


def resolve(argv: list[bytes]) -> CommandSpec | CommandError:
    """Find the spec for argv, checking arity; an error (unknown command, wrong arity) otherwise."""
    name = argv[0]
    spec = TABLE.get(name)
    if spec is None:
        spec = TABLE.get(name.lower())
        if spec is None:
            return unknown_command(argv)
    if spec.subcommands:
        if len(argv) >= 2:
            sub = spec.subcommands.get(argv[1].lower())
            if sub is None:
                return unknown_subcommand(argv[1], spec.name)
            spec = sub
        elif spec.handler is None:  # COMMAND alone has a handler of its own
            return wrong_arity(spec.fullname)
    n = len(argv)
    a = spec.arity
    if (a > 0 and n != a) or n < -a:
        return wrong_arity(spec.fullname)
    return spec


# Exact-spelling cache in front of TABLE (clients send "SET", "set", "Set"...): bounded, since
# only spellings of existing commands are added.
_BY_SPELLING: dict[bytes, CommandSpec] = {}


def execute(c: Client, argv: list[bytes]):
    # resolve() inlined for the common case (a known top-level command): this is the hot path.
    spec = _BY_SPELLING.get(argv[0])
    if spec is None:
        spec = TABLE.get(argv[0].lower())
        if spec is not None and len(_BY_SPELLING) < 4096:
            _BY_SPELLING[argv[0]] = spec
    if spec is None or spec.subcommands:
        spec = resolve(argv)
        if type(spec) is CommandError:
            return reject(c, spec.text)
    else:
        a = spec.arity
        if (a > 0 and len(argv) != a) or len(argv) < -a:
            return reject(c, wrong_arity(spec.fullname).text, spec)
    if not c.authenticated and not spec.no_auth:
        chk = PROTECTED.get(spec.name_bytes)
        return reject(c, (chk(c) if chk is not None else None) or NOAUTH, spec)
    if c.server.disk_error is not None and (spec.write or spec.name_bytes == b"ping"):
        err = c.server.disk_error()
        if err is not None:
            return reject(c, err, spec)
    if EXTRA_GATES:
        for gate in EXTRA_GATES:
            err = gate(c, spec, argv)
            if err is not None:
                return reject(c, err, spec)
    if c.resp == 2 and (c.subscriptions or c.psubscriptions or c.ssubscriptions):
        if spec.name_bytes not in _PUBSUB_ALLOWED:
            return reject(
                c,
                "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                % spec.fullname,
                spec,
            )
    if c.multi is not None and spec.name_bytes not in _MULTI_IMMEDIATE:
        if spec.no_multi:
            return reject(c, "ERR Command not allowed inside a transaction", spec)
        chk = PROTECTED.get(spec.name_bytes)
        if chk is not None:
            err = chk(c)
            if err is not None:
                return reject(c, err, spec)
        c.multi.append((spec, argv))
        return QUEUED
    reply = call(c, spec, argv)
    bl = c.server.blocking
    if bl is not None and bl.ready and not c.server.time_frozen:
        bl.handle_ready()  # serve clients blocked on keys this command wrote
    return reply


def call(c: Client, spec: CommandSpec, argv: list[bytes]):
    """Run one resolved command: the handler, then stats and propagation."""
    server = c.server
    if not server.time_frozen:
        server.now_cache = 0  # read lazily by the first thing that needs the time
    dirty = server.dirty
    c.argv = argv
    server.current_client = c
    c.db.counting = spec.readonly
    t0 = _perf()
    try:
        reply = spec.handler(c, *argv[spec.argskip:])
    except CommandError as e:
        spec.failed_calls += 1
        reply = _error_reply(c, e.text)
    except Exception as e:  # a bug must cost one reply, not the connection or the server
        spec.failed_calls += 1
        log = getattr(server.server, "log", None)
        if log is not None:
            import traceback

            log("warning", f"Internal error executing '{spec.fullname}': {e!r}\n{traceback.format_exc()}")
        reply = _error_reply(c, b"ERR internal error while executing '%s': %s" % (
            spec.fullname.encode(), type(e).__name__.encode()))
    dur = (_perf() - t0) // 1000
    spec.usec += dur
    spec.calls += 1
    if dur >= server.slowlog_threshold >= 0:
        server.slowlog_push(c, spec, argv, dur)
    if server.monitors:
        MONITOR_FEED[0](c, spec, argv)
    server.stats.total_commands_processed += 1
    c.last_cmd = spec.name_bytes
    if c.tracking is not None and spec.readonly:
        server.tracking.remember(c, [argv[i] for i in spec.key_positions(argv)])
    if server.dirty != dirty or c.propagate_as is not None:
        prop = server.propagation
        if prop.active:
            if c.propagate_as is not None:
                dbid = c.db.id
                prop.emit_all([(dbid, a) for a in c.propagate_as])
            elif spec.write or spec.may_replicate:
                prop.emit(c.db.id, argv)
        c.propagate_as = None
    return reply
