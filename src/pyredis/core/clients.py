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
    rbs, rbp   the reply buffer Redis would have: its size (16 KB for a new client, halved
               or doubled by the clients cron, DEBUG REPLYBUFFER) and the most of it a write
               used since the last peak reset (core/client.py's note_reply); pyredis joins the
               replies of one read and hands them to the transport, so neither is memory it
               holds, and tot-mem leaves them out [buf_usable_size, buf_peak]
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

The `replica` class of client-output-buffer-limit applies to the connections of replicas
(server/replication.py also checks it as it writes the stream); our master's client has the
normal class, as Redis's getClientOutputBufferLimitClass.

Client eviction (maxmemory-clients, Redis's evictClients): while the tot-mem of the normal and
pub/sub clients (not NO-EVICT ones) adds up to the limit or more, the largest are closed,
largest power-of-two bucket first (CLIENT_MEM_USAGE_BUCKETS), with Redis's log line; INFO
evicted_clients counts them. A client's figure is refreshed after each of its reads and
writes, and for every client once a second (clientsCron).

API:
    client_info_line(c) -> bytes                 one CLIENT LIST line, without the newline
    client_type(c) -> "normal" | "pubsub" | "replica" | "master"    getClientType
    memory(c) -> (total, output)                 tot-mem and omem+obl
    state.client_limits -> ClientLimits          the limits and the client memory totals:
        .obuf_on / .obuf_normal                  any output buffer limit for normal/pubsub
                                                 clients / one for normal clients
        .obuf_exceeded(c, size) -> bool          checkClientOutputBufferLimits
        .evict_limit                             getClientEvictionLimit (0: no eviction)
        .update(c) / .evict()                    updateClientMemUsageAndBucket / evictClients
        .cron()                                  once a second: every client's figure, the soft
                                                 limits of idle clients, idle timeouts, the
                                                 recent peaks (INFO client_recent_max_*)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .client import compat_client_fields

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState

BUCKET_MIN_LOG = 15  # CLIENT_MEM_USAGE_BUCKET_MIN_LOG: the smallest bucket holds up to 32 KB
BUCKET_MAX_LOG = 33
EVICT_FLOOR = 128 * 1024  # a smaller maxmemory-clients would leave no client alive
PEAK_SLOTS = 8  # CLIENTS_PEAK_MEM_USAGE_SLOTS: the recent peaks are those of the last 8 s

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
    elif c.replica is not None:
        f += "S"
    if c.is_master:
        f += "M"
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
    if c.no_touch:  # only ever set from 7.2 on (CLIENT NO-TOUCH)
        f += "T"
    return f or "N"


def client_type(c: Client) -> str:
    """getClientType: our master's client, a replica's connection, pubsub, normal (a MONITOR
    client is a normal one, as Redis's CLIENT_MONITOR clients are)."""
    if c.is_master:
        return "master"
    if c.replica is not None:
        return "replica"
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
    mid, tail = compat_client_fields(c)
    t = c.tracking
    fields = [
        b"id=%d" % c.id, b"addr=" + c.addr.encode(), b"laddr=" + c.laddr.encode(), b"fd=%d" % c.fd,
        b"name=" + c.name, b"age=%d" % int(now - c.ctime), b"idle=%d" % int(now - c.last_interaction),
        b"flags=" + client_flags(c).encode(), b"db=%d" % c.db.id,
        b"sub=%d" % len(c.subscriptions), b"psub=%d" % len(c.psubscriptions), b"ssub=%d" % len(c.ssubscriptions),
        b"multi=%d" % (len(c.multi) if c.multi is not None else -1),
        *(x.encode() for x in mid),  # what later modes add (core/client.py compat_client_fields)
        b"qbuf=%d" % qbuf, b"qbuf-free=%d" % qfree, b"argv-mem=%d" % amem, b"multi-mem=%d" % mmem,
        b"rbs=%d" % c.rbs, b"rbp=%d" % c.rbp, b"obl=%d" % obl, b"oll=%d" % -(-omem // REPLY_BLOCK), b"omem=%d" % omem,
        b"tot-mem=%d" % tot, b"events=" + events.encode(), b"cmd=" + c.last_cmd,
        b"user=" + c.user, b"redir=%d" % (-1 if t is None else t.redirect), b"resp=%d" % c.resp,
        *(x.encode() for x in tail),
    ]
    return b" ".join(fields)


def bucket(mem: int) -> int:
    """getMemUsageBucket: log2 of the memory, clamped to Redis's bucket range."""
    return min(max(mem.bit_length(), BUCKET_MIN_LOG), BUCKET_MAX_LOG)


class ClientLimits:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        cfg = state.config
        self.obuf: dict[str, tuple[int, int, int]] = {}
        self.obuf_on = False  # some limit for normal or pub/sub clients
        self.obuf_normal = False  # a limit for normal clients (checked after each command)
        self.obuf_pubsub = False
        self._obuf(cfg["client-output-buffer-limit"])
        cfg.on_change("client-output-buffer-limit", self._obuf)
        self.mem: dict[int, int] = {}  # evictable client id -> its last tot-mem
        self.seq: dict[int, tuple[int, int]] = {}  # client id -> (bucket, when it entered it)
        self.total = 0
        self.evict_limit = 0
        self._evict_limit()
        cfg.on_change("maxmemory-clients", lambda _v: self._evict_limit())
        cfg.on_change("maxmemory", lambda _v: self._evict_limit())
        self._tick = 0
        self.evicted = 0  # INFO evicted_clients
        self.peak_in = [0] * PEAK_SLOTS
        self.peak_out = [0] * PEAK_SLOTS
        self._last_cron = 0.0

    # --- configuration ------------------------------------------------------------------
    def _obuf(self, v: dict) -> None:
        self.obuf = dict(v)
        self.obuf_normal = bool(v["normal"][0] or v["normal"][1])
        self.obuf_pubsub = bool(v["pubsub"][0] or v["pubsub"][1])
        self.obuf_on = self.obuf_normal or self.obuf_pubsub
        srv = self.state.server
        if srv is not None and hasattr(srv, "obuf_limits_changed"):
            srv.obuf_limits_changed()

    def _evict_limit(self) -> None:
        """getClientEvictionLimit."""
        cfg = self.state.config
        mc = cfg["maxmemory-clients"]
        if mc < 0 and cfg["maxmemory"] > 0:
            limit = int(cfg["maxmemory"] * -mc / 100)
        elif mc > 0:
            limit = mc
        else:
            limit = 0
        self.evict_limit = max(limit, EVICT_FLOOR) if limit else 0
        if not self.evict_limit:
            self.mem.clear()
            self.seq.clear()
            self.total = 0

    # --- output buffer limits -------------------------------------------------------------
    def obuf_exceeded(self, c: Client, size: int) -> bool:
        """checkClientOutputBufferLimits for `size` bytes of pending output: the hard limit at
        once, the soft one when it has been exceeded continuously for more than soft-seconds."""
        t = client_type(c)
        hard, soft, secs = self.obuf["normal" if t == "master" else t]
        if hard and size >= hard:
            return True
        if soft and size >= soft:
            now = int(time.time())
            since = c.extra.get("obuf_soft_since")
            if since is None:
                c.extra["obuf_soft_since"] = now
                return False
            return now - since > secs
        c.extra.pop("obuf_soft_since", None)
        return False

    # --- client eviction -------------------------------------------------------------------
    def update(self, c: Client) -> int:
        """updateClientMemUsageAndBucket: this client's tot-mem into the total (only clients
        that may be evicted are counted). Returns its tot-mem."""
        mem = memory(c)[0]
        cid = c.id
        old = self.mem.pop(cid, None)
        if old is not None:
            self.total -= old
        if c.no_evict or c.io is None or cid not in self.state.clients or c.replica is not None or c.is_master:
            self.seq.pop(cid, None)  # (clientEvictionAllowed: normal and pubsub clients only)
            return mem
        self.mem[cid] = mem
        self.total += mem
        b = bucket(mem)
        prev = self.seq.get(cid)
        if prev is None or prev[0] != b:
            self._tick += 1
            self.seq[cid] = (b, self._tick)
        return mem

    def forget(self, c: Client) -> None:
        old = self.mem.pop(c.id, None)
        if old is not None:
            self.total -= old
        self.seq.pop(c.id, None)

    def evict(self) -> None:
        """evictClients: close the largest clients until the total is under the limit."""
        limit = self.evict_limit
        if not limit or self.total < limit:
            return
        st = self.state
        order = sorted(self.mem, key=lambda cid: (-self.seq[cid][0], self.seq[cid][1]))
        log = getattr(st.server, "log", None)
        for cid in order:
            if self.total < limit:
                return
            c = st.clients.get(cid)
            if c is None:
                self.forget_id(cid)
                continue
            if log is not None:
                log("notice", "Evicting client: " + client_info_line(c).decode("utf-8", "replace"))
            self.forget(c)
            self.evicted += 1
            if c.kill is not None:
                c.kill(True)
        if self.total >= limit and log is not None:
            log("warning", "Over client maxmemory after evicting all evictable clients")

    def forget_id(self, cid: int) -> None:
        old = self.mem.pop(cid, None)
        if old is not None:
            self.total -= old
        self.seq.pop(cid, None)

    # --- clientsCron ------------------------------------------------------------------------
    def cron(self) -> None:
        """Once a second: every client's memory (and eviction), output buffer limits of clients
        whose output waits, the idle timeout, the recent peaks of INFO."""
        now = time.time()
        if now - self._last_cron < 1.0:
            return
        self._last_cron = now
        st = self.state
        slot = int(now) % PEAK_SLOTS
        self.peak_in[(slot + 1) % PEAK_SLOTS] = 0
        self.peak_out[(slot + 1) % PEAK_SLOTS] = 0
        timeout = st.config["timeout"]
        log = getattr(st.server, "log", None)
        for c in list(st.clients.values()):
            if c.io is None:
                continue
            if timeout and self._idle_timeout(c, now, timeout, log):
                continue
            qbuf, qfree, obl, omem, _ev = c.io()
            self.peak_in[slot] = max(self.peak_in[slot], qbuf + qfree)
            self.peak_out[slot] = max(self.peak_out[slot], obl + omem)
            if self.evict_limit:
                self.update(c)
            if (obl or omem or "obuf_soft_since" in c.extra) and self.obuf_on:
                if self.obuf_exceeded(c, obl + omem):
                    if log is not None:
                        log("warning", "Client %s closed for overcoming of output buffer limits."
                            % client_info_line(c).decode("utf-8", "replace"))
                    if c.kill is not None:
                        c.kill(True)
        self.evict()

    @staticmethod
    def _idle_timeout(c: Client, now: float, timeout: int, log) -> bool:
        """clientsCronHandleTimeout: `timeout` seconds without a read or a write closes a client,
        unless it is subscribed (pub/sub) or blocked (a blocked client's own timeout applies)."""
        if (c.blocked is not None or c.subscriptions or c.psubscriptions or c.ssubscriptions
                or c in c.server.monitors  # (a MONITOR client is a CLIENT_SLAVE in Redis)
                or c.replica is not None or c.is_master):  # replicas, our master: never
            return False
        if int(now) - int(c.last_interaction) <= timeout:
            return False
        if log is not None:
            log("verbose", "Closing idle client")
        if c.kill is not None:
            c.kill()
        return True

    def recent_peaks(self) -> tuple[int, int]:
        return max(self.peak_in), max(self.peak_out)
