"""WAITAOF (Redis 7.2): the replication offset a client's writes reached, the offset the AOF
has fsynced, and the clients waiting for the one to pass the other.

Redis counts its replication offset even with no replica attached once the AOF is on
(replicationFeedSlaves adds one per propagated command "since we use that for tracking AOF
fsyncs"): `state.repl_offset` is that count, advanced by the AOF writer for every command it
is fed, and the client whose command it was remembers it (`client.woff`, Redis's c->woff).
`state.fsynced_reploff` is the offset the AOF has on disk: -1 while the AOF is off (and while
its first rewrite runs), advanced after each fsync (appendfsync always: the group commit;
everysec: when the background fsync is done; `no`: never, so WAITAOF 1 waits for its timeout
as on Redis). A server with no replicas acknowledges no replica: a WAITAOF asking for one waits
for its timeout; one asking only for the local fsync is released as soon as it happened.

A WAIT or WAITAOF that blocks asks the replicas for their offsets (REPLCONF GETACK, sent once
per event-loop iteration): from 7.2 on, Redis counts that command in master_repl_offset even
with no replica attached (the AOF off included), so INFO's offset moves by one per iteration
in which a client started waiting (request_acks).

API:
    waitaof_block(ctx, numlocal, timeout_ms) -> Blocked   # wait for the local fsync (or time out)
    fsynced(state, offset)                   # the AOF writer: everything up to offset is on disk
    request_acks(state)                      # a WAIT/WAITAOF blocks: the GETACK's offset (7.2+)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .blocking import Blocked, manager

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState


def _acks(ctx: Client) -> list[int]:
    ctx.server.aof_waiters.pop(ctx.id, None)
    return [1 if ctx.server.fsynced_reploff >= ctx.woff else 0, 0]


def _gone(c: Client) -> None:
    c.server.aof_waiters.pop(c.id, None)


def _never(ctx: Client, key: bytes):
    return None


def waitaof_block(ctx: Client, numlocal: int, numreplicas: int, timeout_ms: int) -> Blocked:
    """Block ctx until the AOF has its writes (numlocal 1, no replica asked for), or until the
    timeout: then the acknowledgements as they are (Redis's replyToBlockedClientTimedOut)."""
    state = ctx.server
    if numreplicas == 0:
        state.aof_waiters[ctx.id] = (ctx, ctx.woff)
        srv = state.server
        if srv is not None and _gone not in srv.disconnect_hooks:
            srv.disconnect_hooks.append(_gone)
    request_acks(state)
    return Blocked((), timeout_ms, _never, lambda: _acks(ctx))


def request_acks(state: ServerState) -> None:
    """replicationRequestAckFromSlaves: the GETACK goes out before the server sleeps, once
    however many clients asked; 7.2's replicationFeedSlaves counts it without replicas."""
    if not state.compat.at_least("7.2") or state.ack_requested:
        return
    sched = state.scheduler
    if sched is None:
        state.repl_offset += 1
        return
    state.ack_requested = True

    def send_getack() -> None:
        state.ack_requested = False
        state.repl_offset += 1

    sched.before_sleep(send_getack)


def fsynced(state: ServerState, offset: int) -> None:
    """The AOF is fsynced up to `offset` (applied unless the AOF is off or its first rewrite
    runs, as Redis's beforeSleep): release the WAITAOF clients it satisfies."""
    if state.fsynced_reploff == -1 or offset <= state.fsynced_reploff:
        return
    state.fsynced_reploff = offset
    waiters = state.aof_waiters
    if not waiters:
        return
    bl = manager(state)
    for cid, (c, woff) in list(waiters.items()):
        if woff <= offset:
            del waiters[cid]
            bl.release(cid, [1, 0])
