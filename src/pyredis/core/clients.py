"""Clients as the server sees them: the CLIENT LIST / CLIENT INFO line (Redis's
catClientInfoString), client types, and what each client costs in memory, which the output
buffer limits (client-output-buffer-limit), client eviction (maxmemory-clients) and the log
lines of dropped clients are built on.

A client's buffers live in its connection (server/connection.py); the connection installs
`client.io`, a callable answering `(qbuf, qbuf_free, obl, omem, events)`. Clients without a
connection (the Lua client, AOF loading) have io None and report zero buffers.

The memory figures, field by field, as pyredis means them (Redis's meaning in brackets):

    qbuf       bytes received and not yet executed: the read being executed (the running
               command and what follows it in the same read), a partial request the parser
               holds, and the requests queued behind a blocked or paused command, counted as
               their RESP encoding [sdslen(querybuf): the unprocessed query buffer]
    qbuf-free  spare bytes allocated by the parser's buffer (0 while hiredis parses, its
               buffer is private) [sdsavail(querybuf)]
    argv-mem   the lengths of the arguments of the command being executed, blocked or paused
               (0 otherwise) [argv_len_sum]
    multi-mem  the queued commands of a MULTI: argument lengths plus 8 bytes per argument, as
               Redis counts them [mstate.argv_len_sums]
    rbs, rbp   0: pyredis has no fixed per-client reply buffer (the replies of one read are
               joined and handed to the transport) [buf_usable_size, buf_peak]
    obl        bytes of replies produced by the read being executed, or held back until the
               AOF has the writes they acknowledge, not yet given to the transport [bufpos]
    oll        omem in 16 KB blocks, Redis's reply block size [listLength(reply)]
    omem       bytes the transport holds because the client has not read them yet
               (asyncio's write buffer) [reply_bytes]
    tot-mem    qbuf + qbuf-free + argv-mem + multi-mem + obl + omem + 8 bytes per
               subscription + CLIENT_BASE, the Python objects every connection has (Client,
               Connection, parser, transport, socket: measured, see CLIENT_BASE)
               [getClientMemoryUsage]

Output buffer limits (checkClientOutputBufferLimits) compare omem + obl with the class's hard
and soft limits: Redis compares its reply list, which is what it could not write at once;
pyredis builds the replies of a read before writing them, so those count too (they are the
memory a pipelined client makes the server hold).

API:
    client_info_line(c) -> bytes                 one CLIENT LIST line, without the newline
    client_type(c) -> "normal" | "pubsub"        getClientType (pyredis has no replicas/master)
    memory(c) -> (total, output)                 tot-mem and omem+obl
    state.client_memory (ClientMemory)           maxmemory-clients: update(c), evict(), cron()
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState

# The Python objects behind one idle connection: measured with tracemalloc on CPython 3.12
# and uvloop (tests/commands/test_client_memory.py checks it stays within a factor of 2).
CLIENT_BASE = 6 * 1024
REPLY_BLOCK = 16 * 1024  # PROTO_REPLY_CHUNK_BYTES: oll counts omem in blocks of this size
_NO_IO = (0, 0, 0, 0, "")


def client_flags(c: Client) -> str:
    """CLIENT LIST flags=, in Redis's order (catClientInfoString)."""
    f = ""
    if c in c.server.monitors:
        f += "O"
    if c.subscriptions or c.psubscriptions or c.ssubscriptions:
        f += "P"
    if c.multi is not None:
        f += "x"
    if c.blocked is not None:
        f += "b"
    t = c.tracking
    if t is not None:
        f += "t"
        if t.broken_redirect:
            f += "R"
        if t.bcast:
            f += "B"
    if c.dirty_cas:
        f += "d"
    if c.close_after_reply:
        f += "c"
    if c.unix_socket:
        f += "U"
    if c.no_evict:
        f += "e"
    return f or "N"


def client_type(c: Client) -> str:
    """getClientType: pyredis has no replicas and no master, and a MONITOR client is a normal
    one (Redis's CLIENT_MONITOR clients are typed normal too)."""
    return "pubsub" if (c.subscriptions or c.psubscriptions or c.ssubscriptions) else "normal"


def argv_mem(c: Client) -> int:
    """argv_len_sum: the command being executed, or waiting (blocked, paused)."""
    if c.blocked is not None or c.server.current_client is c:
        return sum(map(len, c.argv))
    return 0


def multi_mem(c: Client) -> int:
    if not c.multi:
        return 0
    return sum(sum(map(len, argv)) + 8 * len(argv) for _spec, argv in c.multi)


def _figures(c: Client) -> tuple:
    """(qbuf, qbuf-free, argv-mem, multi-mem, obl, omem, events, tot-mem)."""
    qbuf, qfree, obl, omem, events = c.io() if c.io is not None else _NO_IO
    amem = argv_mem(c)
    mmem = multi_mem(c)
    subs = len(c.subscriptions) + len(c.psubscriptions) + len(c.ssubscriptions)
    return qbuf, qfree, amem, mmem, obl, omem, events, CLIENT_BASE + qbuf + qfree + amem + mmem + obl + omem + 8 * subs


def memory(c: Client) -> tuple[int, int]:
    """(tot-mem, output buffer bytes) of client c (getClientMemoryUsage)."""
    f = _figures(c)
    return f[7], f[4] + f[5]


def client_info_line(c: Client) -> bytes:
    now = time.time()
    qbuf, qfree, amem, mmem, obl, omem, events, tot = _figures(c)
    t = c.tracking
    fields = [
        b"id=%d" % c.id, b"addr=" + c.addr.encode(), b"laddr=" + c.laddr.encode(), b"fd=%d" % c.fd,
        b"name=" + c.name, b"age=%d" % int(now - c.ctime), b"idle=%d" % int(now - c.last_interaction),
        b"flags=" + client_flags(c).encode(), b"db=%d" % c.db.id,
        b"sub=%d" % len(c.subscriptions), b"psub=%d" % len(c.psubscriptions), b"ssub=%d" % len(c.ssubscriptions),
        b"multi=%d" % (len(c.multi) if c.multi is not None else -1),
        b"qbuf=%d" % qbuf, b"qbuf-free=%d" % qfree, b"argv-mem=%d" % amem, b"multi-mem=%d" % mmem,
        b"rbs=0", b"rbp=0", b"obl=%d" % obl, b"oll=%d" % -(-omem // REPLY_BLOCK), b"omem=%d" % omem,
        b"tot-mem=%d" % tot, b"events=" + events.encode(), b"cmd=" + c.last_cmd,
        b"user=" + c.user, b"redir=%d" % (-1 if t is None else t.redirect), b"resp=%d" % c.resp,
    ]
    return b" ".join(fields)
