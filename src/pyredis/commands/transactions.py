"""Transactions: MULTI EXEC DISCARD WATCH UNWATCH (state and WATCH in core/transactions.py).

Queueing happens in dispatch (commands other than EXEC/DISCARD/MULTI/WATCH/QUIT/RESET are
appended to ctx.multi, and a command rejected while queueing sets ctx.multi_error). EXEC runs
the queue with the time frozen, blocking commands answering as on timeout, and propagates the
effects wrapped in MULTI/EXEC when there are several (Redis 7.0's propagatePendingCommands).
"""

from __future__ import annotations

from ..core.blocking import Blocked
from ..core.client import Client
from ..core.dispatch import call
from ..core.spec import command
from ..core.transactions import EXECABORT, discard_transaction, registry, unwatch_all
from ..errors import CommandError
from ..protocol.replies import NULL_ARRAY, OK, ErrorReply


@command("MULTI", arity=1, flags="noscript loading stale fast allow_busy", group="transactions", since="1.2.0",
         changed={"valkey-8.0": dict(flags="noscript loading stale fast no_multi allow_busy")})
def multi(ctx: Client):
    """Starts a transaction."""
    if ctx.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    ctx.multi = []
    ctx.multi_error = False
    return OK


@command("DISCARD", arity=1, flags="noscript loading stale fast allow_busy", group="transactions", since="2.0.0")
def discard(ctx: Client):
    """Discards a transaction."""
    if ctx.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    discard_transaction(ctx)
    return OK


@command("WATCH", arity=-2, flags="noscript loading stale fast allow_busy", keys=(1, -1, 1),
         group="transactions", since="2.2.0",
         changed={"valkey-8.0": dict(flags="noscript loading stale fast no_multi allow_busy")})
def watch(ctx: Client, *keys: bytes):
    """Monitors changes to keys to determine the execution of a transaction."""
    if ctx.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    if ctx.dirty_cas:  # no point in watching: EXEC will fail anyway
        return OK
    registry(ctx.server).watch(ctx, ctx.db, keys)
    return OK


@command("UNWATCH", arity=1, flags="noscript loading stale fast allow_busy", group="transactions", since="2.2.0")
def unwatch(ctx: Client):
    """Forgets about watched keys of a transaction."""
    unwatch_all(ctx)
    ctx.dirty_cas = False
    return OK


@command("EXEC", arity=1, flags="noscript loading stale skip_slowlog", group="transactions", since="1.2.0")
def exec_(ctx: Client):
    """Executes all commands in a transaction."""
    queued = ctx.multi
    if queued is None:
        raise CommandError("ERR EXEC without MULTI")
    server = ctx.server
    if ctx.watched and not ctx.dirty_cas and registry(server).any_expired(ctx):
        ctx.dirty_cas = True
    if ctx.multi_error:
        discard_transaction(ctx)
        raise CommandError(EXECABORT)
    if ctx.dirty_cas:
        discard_transaction(ctx)
        return NULL_ARRAY
    unwatch_all(ctx)
    server.now_ms  # fix the instant every queued command sees  # noqa: B018
    server.time_frozen += 1
    ctx.in_exec = True
    prop = server.propagation
    token = prop.capture() if prop.active else 0  # the effects leave as one MULTI/EXEC
    replies = []
    try:
        acl = server.acl if not ctx.acl_user.full else None
        for spec, argv in queued:
            denied = acl.exec_check(ctx, spec, argv) if acl is not None else None
            if denied is not None:  # the user's rules changed since the command was queued
                server.stats.count_error(denied.encode())
                replies.append(ErrorReply(denied.encode()))
                continue
            r = call(ctx, spec, argv)
            if type(r) is Blocked:  # a handler that forgot may_block(): answer as on timeout
                r = r.timeout_reply
            replies.append(r)
    finally:
        server.time_frozen -= 1
        ctx.in_exec = False
        ctx.multi = None
        ctx.multi_error = False
        ctx.dirty_cas = False
        if token:
            prop.emit_all(prop.release(token))
    return replies
