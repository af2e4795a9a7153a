"""Connection: one asyncio.Protocol per client. Reads bytes, asks the parser for requests,
executes them in order, encodes every reply of one read into one write.

A command that blocks (BLPOP ...) returns a Blocked marker: the connection then stops
executing this client's requests until the blocking machinery calls `resume(reply)`, as
Redis stops processing a blocked client's query buffer.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections import deque
from typing import TYPE_CHECKING

from ..core.blocking import Blocked
from ..core.blocking import manager as blocking_manager
from ..core.client import Client, note_reply
from ..core.clients import client_info_line
from ..core.dispatch import execute
from ..core.pause import Rerun
from ..errors import DENIED_PROTECTED_MODE
from ..protocol.encoder import encode_into
from ..protocol.parser import Limits, RequestParser
from ..protocol.replies import MultiReply, NoReply
from ..util import sdscatrepr

if TYPE_CHECKING:
    from .server import RedisServer

_now = time.time
_perf = time.perf_counter

# How long one read's requests may run before the connection lets the event loop serve others
# (the rest wait in `pending` and run in the next iterations): a client pipelining thousands of
# heavy commands in one read does not stall every other client for the whole batch. Checked
# every BUDGET_EVERY requests (a read of a few requests never looks at the clock).
BUDGET_S = 0.01
BUDGET_EVERY = 16


class Connection(asyncio.Protocol):
    __slots__ = ("srv", "state", "transport", "client", "parser", "pending", "paused", "closed",
                 "out", "deferred", "queued_bytes", "kind", "peer", "local", "fd", "batch", "reading_paused",
                 "limits", "drain_scheduled", "on_drain")

    def __init__(self, srv: RedisServer, kind: str = "tcp") -> None:
        self.srv = srv
        self.state = srv.state
        self.kind = kind  # the listener: "tcp", "tls" or "unix"
        self.transport: asyncio.Transport | None = None
        self.client: Client | None = None  # from accept on (TLS: once the handshake is done)
        self.pending: deque[list[bytes]] = deque()  # requests parsed but not yet executed
        self.paused = False  # blocked command in progress: execute nothing more
        self.queued_bytes = 0  # bytes read while paused: Redis's unparsed query buffer
        # Output held back until the group commit of this loop iteration (appendfsync always).
        self.deferred: list[bytes] | None = None
        self.closed = False
        # Replies of the read being processed, written once at its end. Out-of-band messages
        # produced meanwhile (a PUBLISH to ourselves, SUBSCRIBE confirmations) join this batch
        # so they keep their order relative to the replies.
        self.out: list[bytes] | None = None
        # A replica's connection: called when its socket drained (server/replication.py
        # sends the RDB as fast as the replica reads it).
        self.on_drain = None
        # The requests being executed: the bytes of this read, or the requests drained after a
        # blocked command (CLIENT LIST qbuf: Redis's query buffer while it executes)
        self.batch: bytes | list | None = None
        self.reading_paused = False  # the transport's buffer is full: events without r
        self.limits = srv.state.client_limits  # output buffer limits, client eviction
        self.drain_scheduled = False  # the rest of a read that ran out of budget runs next

    # --- asyncio callbacks --------------------------------------------------------------
    def admit(self, sock, transport: asyncio.BaseTransport | None) -> bool:
        """Redis's acceptCommonHandler before the client exists: the addresses, the "Accepted"
        line, maxclients. A TLS socket comes here before its handshake (transport None): a
        refusal then says nothing, as in Redis, since nothing can be said before TLS."""
        state = self.state
        cfg = state.config
        self.fd = -1
        if sock is not None:
            self.fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                if cfg["tcp-keepalive"] > 0:
                    keepalive(sock, cfg["tcp-keepalive"])
        if self.kind == "unix":
            # Redis shows "path:0" for both, cut to its address buffer (NET_ADDR_STR_LEN, 78 with NUL)
            self.peer = self.local = (cfg["unixsocket"] + ":0")[:77]
            self.srv.log("verbose", f"Accepted connection to {cfg['unixsocket']}")
        else:
            try:
                self.peer, self.local = _fmt_addr(sock.getpeername()), _fmt_addr(sock.getsockname())
            except OSError:  # the peer is already gone
                self.peer = self.local = "?:0"
            self.srv.log("verbose", f"Accepted {_unbracket(self.peer)}")
        if len(state.clients) >= cfg["maxclients"]:
            state.stats.rejected_connections += 1
            if transport is not None:
                transport.write(b"-ERR max number of clients reached\r\n")
            self.closed = True
            if transport is not None:
                transport.close()
            else:
                sock.close()
            return False
        return True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if self.kind != "tls" and not self.admit(transport.get_extra_info("socket"), transport):
            return  # (a TLS socket was admitted before its handshake: server.py's accept loop)
        self._accepted(transport)

    def _accepted(self, transport: asyncio.BaseTransport) -> None:
        """Redis's clientAcceptHandler: protected mode, then the client exists."""
        state = self.state
        cfg = state.config
        if self.kind != "unix" and protected_mode_refuses(state, self.peer):
            transport.write(b"-" + DENIED_PROTECTED_MODE.encode() + b"\r\n")
            state.stats.rejected_connections += 1
            self.closed = True
            transport.close()
            return
        c = self.client = Client(state, self.peer, self.local, self.fd)
        if self.kind == "unix":
            c.unix_socket = True
        limits = Limits(cfg["proto-max-bulk-len"], cfg["client-query-buffer-limit"])
        limits.auth_required = not c.authenticated
        c.parser_limits = limits
        self.parser = RequestParser(limits)
        c.write_push = self.write_push
        c.kill = self.close
        c.io = self.io
        self.set_buffer_limits()
        state.clients[c.id] = c
        self.srv.connections[c.id] = self
        state.stats.total_connections_received += 1

    def data_received(self, data: bytes) -> None:
        if self.client is None:  # refused at accept: what it sends is not read
            return
        self.client.last_interaction = _now()  # readQueryFromClient: c->lastinteraction
        stats = self.state.stats
        stats.total_net_input_bytes += len(data)
        self.client.net_in += len(data)
        stats.total_reads_processed += 1
        cmds, error = self.parser.feed(data)
        if self.closed:
            return
        if self.paused or self.pending:
            self.pending.extend(cmds)
            if error:
                self.pending.append([b"\x00protocol-error", error.encode("latin-1")])
            # Redis keeps reading a blocked client without parsing: all this is still its query
            # buffer, and counts toward client-query-buffer-limit.
            self.queued_bytes += len(data)
            if self.queued_bytes + self.parser.pending > self.parser.limits.query_buffer_limit:
                self._query_buffer_over(data)
            elif self.limits.evict_limit:
                self._client_memory()
            return
        self.batch = data
        self._run(cmds, error)
        while self.parser.stalled and not self.closed and not self.paused and not self.pending:
            # unauthenticated client: the parser handed out one request; run the next one
            cmds, error = self.parser.feed(b"")
            self._run(cmds, error)
        self.batch = None
        if self.closed:
            return
        if self.parser.pending > self.parser.limits.query_buffer_limit:
            self._query_buffer_over(self.parser.head(64))
        elif self.limits.evict_limit:
            self._client_memory()

    def _query_buffer_over(self, head: bytes) -> None:
        """client-query-buffer-limit: Redis's log line (the client, its first unparsed bytes)."""
        info = client_info_line(self.client).decode("utf-8", "replace")
        self.srv.log("warning", f"Closing client that reached max query buffer length: {info} "
                     f"(qbuf initial bytes: {sdscatrepr(head[:64])})")
        self.close(abort=True)

    def _client_memory(self) -> None:
        """maxmemory-clients: this client's memory after its read, then evictClients."""
        limits = self.limits
        limits.update(self.client)
        limits.evict()

    def _obuf_over(self, pending: int) -> bool:
        """client-output-buffer-limit (closeClientOnOutputBufferLimitReached, async): the
        replies of this read not yet written (`pending`) and what the transport holds."""
        t = self.transport
        size = pending + (t.get_write_buffer_size() if t is not None else 0)
        if not size or not self.limits.obuf_exceeded(self.client, size):
            return False
        info = client_info_line(self.client).decode("utf-8", "replace")
        self.srv.log("warning", f"Client {info} scheduled to be closed ASAP for overcoming of output buffer limits.")
        self.close(abort=True)
        return True

    def set_buffer_limits(self) -> None:
        """Backpressure (reading stops while the transport holds more than its high-water
        mark) must not hide a normal client's output buffer limit: with one set, the mark sits
        above it so the limit is what ends a client that does not read."""
        t = self.transport
        if t is None or self.closed:
            return
        hard, soft, _secs = self.state.config["client-output-buffer-limit"]["normal"]
        try:
            t.set_write_buffer_limits(high=max(hard, soft) + 1 if hard or soft else None)
        except (AttributeError, NotImplementedError, RuntimeError):
            pass

    def _run(self, cmds, error: str | None) -> None:
        c = self.client
        out: list[bytes] = []
        self.out = out
        n = 0
        # (a subscriber's replies are checked by write_push and at the end of the read)
        check = self.limits.obuf_normal and not c.subscription_count
        mark = size = 0
        yielded = False
        if len(cmds) > BUDGET_EVERY:  # a long read: look at the clock every BUDGET_EVERY requests
            check_at = BUDGET_EVERY
            deadline = _perf() + BUDGET_S
        else:
            check_at = -1
        for argv in cmds:
            if n == check_at:
                if _perf() > deadline:
                    yielded = True  # out of budget: the rest waits in `pending` (below)
                    break
                check_at += BUDGET_EVERY
            n += 1
            if check:  # client-output-buffer-limit: the replies so far and the transport's
                size += sum(map(len, out[mark:]))
                mark = len(out)
                if self._obuf_over(size):
                    break
            reply = execute(c, argv)
            if type(reply) is Blocked:
                self.paused = True
                blocking_manager(self.state).block(c, reply, self.resume)
                break
            mode = c.reply_mode
            if mode == "on":
                if type(reply) is not NoReply:
                    encode_into(reply, c.resp, out)
            elif mode == "replica":
                # a replica's connection gets the stream, never replies (REPLCONF ACK has none):
                # one that makes the server reply is dropped, as Redis
                if type(reply) is not NoReply:
                    self._replica_replied(c)
                    return
            else:
                # Pub/sub confirmations (MultiReply) and tracking invalidations are pushes:
                # CLIENT REPLY OFF/SKIP does not silence them (Redis's CLIENT_PUSHING).
                if type(reply) is MultiReply:
                    encode_into(reply, c.resp, out)
                if mode == "skip":
                    c.reply_mode = "on"
                elif mode == "skip_next":
                    c.reply_mode = "skip"
            if c.after_reply:
                for msg in c.after_reply:
                    encode_into(msg, c.resp, out)
                c.after_reply = None
            if c.close_after_reply or self.paused:
                break
        if check and out and not self.closed:
            self._obuf_over(sum(map(len, out)))
        if self.closed:
            self.out = None
            return
        if (self.paused or yielded) and n < len(cmds):
            self.pending.extend(cmds[n:])
            if error:
                self.pending.append([b"\x00protocol-error", error.encode("latin-1")])
            error = None
        if error and not c.close_after_reply:
            out.append(b"-ERR " + error.encode("latin-1") + b"\r\n")
            c.close_after_reply = True
            self.srv.log("verbose", f"Protocol error ({error}) from client: id={c.id} addr={c.addr}")
        self.out = None
        if c.abort:  # the client is dropped with nothing more sent (a cross-protocol request)
            self.close()
            return
        if out:
            # a large output (a reply of many elements arrives as joined chunks) goes to the
            # transport as its pieces, without one more copy of the whole
            self._write(b"".join(out) if len(out) <= 2048 else out)
        if c.close_after_reply:
            self.close()
        elif c.parser_limits is not None:
            c.parser_limits.auth_required = not c.authenticated
        if self.state.shutdown_requested is not None:
            self.srv.request_shutdown()
        if yielded and not self.closed and not self.drain_scheduled:
            self.drain_scheduled = True
            asyncio.get_running_loop().call_soon(self._drain_next)

    def _replica_replied(self, c: Client) -> None:
        from ..core.clients import client_info_line

        self.srv.log("warning", "Replica generated a reply to command '%s', disconnecting it: %s" % (
            c.last_cmd.decode("utf-8", "replace"), client_info_line(c).decode("utf-8", "replace")))
        self.out = None
        self.close()

    def _drain_next(self) -> None:
        self.drain_scheduled = False
        self._drain_pending()

    def _write(self, data: bytes | list[bytes]) -> None:
        if self.client is not None:  # the reply buffer's peak (CLIENT LIST rbp, DEBUG REPLYBUFFER)
            note_reply(self.client, len(data) if type(data) is bytes else sum(map(len, data)))
        if self.state.aof_buf or self.deferred is not None:
            if type(data) is list:
                data = b"".join(data)
            # Replies leave only after the AOF has the writes they acknowledge; under
            # appendfsync always they also wait for the fsync shared by every client served
            # in this loop iteration (group_commit.py).
            if self.srv.group_commit.hold(self, data):
                return
        self._send(data)

    def _send(self, data: bytes | list[bytes]) -> None:
        if self.transport is not None and not self.closed:
            c = self.client
            c.last_interaction = _now()  # _writeToClient: c->lastinteraction
            stats = self.state.stats
            stats.total_writes_processed += 1
            if type(data) is list:
                n = sum(map(len, data))
                self.transport.writelines(data)
            else:
                n = len(data)
                self.transport.write(data)
            stats.total_net_output_bytes += n
            c.net_out += n  # Valkey's CLIENT LIST tot-net-out

    def write_push(self, reply) -> None:
        """Send an out-of-band message (pub/sub message, invalidation) to this client."""
        if self.out is not None:
            c = self.client
            if self.state.compat.at_least("7.2") and self.state.current_client is c:
                # 7.2 sends what a command pushes to its own client after the command's reply
                if c.after_reply is None:
                    c.after_reply = []
                c.after_reply.append(reply)
                return
            encode_into(reply, c.resp, self.out)
            return
        out: list[bytes] = []
        encode_into(reply, self.client.resp, out)
        self._write(b"".join(out))
        if self.transport is None or self.closed:
            return
        limits = self.limits
        if limits.obuf_on and self._obuf_over(sum(map(len, self.deferred)) if self.deferred else 0):
            return
        if limits.evict_limit:
            limits.update(self.client)
            sched = self.state.scheduler
            if sched is not None:
                sched.before_sleep(limits.evict)

    def resume(self, reply) -> None:
        """The blocked command finished with `reply`: send it and run what queued behind it.
        A client held by CLIENT PAUSE is released with Rerun: its command runs again first."""
        self.paused = False
        self.queued_bytes = 0
        c = self.client
        mode = c.reply_mode  # CLIENT REPLY OFF/SKIP applies to the blocked command's reply too
        if type(reply) is Rerun:
            self.pending.appendleft(reply.argv)
        elif mode == "on":
            out: list[bytes] = []
            encode_into(reply, c.resp, out)
            self._write(b"".join(out))
        elif mode == "skip":
            c.reply_mode = "on"
        if self.pending and not self.closed:
            # Run what queued behind later, as Redis's processUnblockedClients: never
            # re-entrantly from the code serving blocked clients.
            asyncio.get_running_loop().call_soon(self._drain_pending)

    def _drain_pending(self) -> None:
        self.queued_bytes = 0
        while self.pending and not self.paused and not self.closed and not self.drain_scheduled:
            cmds = list(self.pending)
            self.pending.clear()
            error = None
            if cmds and cmds[-1][:1] == [b"\x00protocol-error"]:
                error = cmds.pop()[1].decode("latin-1")
            self.batch = cmds
            self._run(cmds, error)
            self.batch = None

    def pause_writing(self) -> None:
        if self.on_drain is not None:  # a replica: its ACKs are still read
            return
        if self.transport is not None:
            try:
                self.transport.pause_reading()
                self.reading_paused = True
            except RuntimeError:
                pass

    def resume_writing(self) -> None:
        if self.on_drain is not None:
            self.on_drain()
            return
        if self.transport is not None and not self.closed:
            try:
                self.transport.resume_reading()
                self.reading_paused = False
            except RuntimeError:
                pass

    def io(self) -> tuple[int, int, int, int, str]:
        """This client's buffers for CLIENT LIST and the memory limits (core/clients.py):
        (qbuf, qbuf-free, obl, omem, events)."""
        parser = self.parser
        b = self.batch
        qbuf = parser.pending + (len(b) if type(b) is bytes else resp_size(b) if b else 0)
        if self.pending:
            qbuf += resp_size(self.pending)
        obl = 0
        if self.out:
            obl += sum(map(len, self.out))
        if self.deferred:
            obl += sum(map(len, self.deferred))
        t = self.transport
        omem = t.get_write_buffer_size() if t is not None and not self.closed else 0
        events = ("" if self.reading_paused else "r") + ("w" if omem else "")
        return qbuf, parser.spare, obl, omem, events

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.client is not None:
            self.srv.client_gone(self.client)
            self._release()

    def _release(self) -> None:
        """Nothing of a closed connection outlives it: buffers are freed now, and the links
        between the client and this protocol object are cut (no reference cycle waiting for
        the cyclic collector to free megabytes of input)."""
        self.parser.release()
        self.pending.clear()
        self.out = None
        c = self.client
        c.write_push = None
        c.kill = None
        c.argv = []

    def flush_deferred(self) -> None:
        """Called by the group commit once the AOF is on disk."""
        data, self.deferred = self.deferred, None
        if data:
            self._send(b"".join(data))

    def close(self, abort: bool = False) -> None:
        """Close the connection; `abort`: at once, dropping the output not yet sent (a client
        over its output buffer limit, or evicted), as Redis's freeClient."""
        if not self.closed:
            if self.deferred is not None:
                self.srv.group_commit.release(self)
            self.closed = True
            if self.transport is not None:
                if abort:
                    self.transport.abort()
                else:
                    self.transport.close()
            if self.client is not None:
                self.srv.client_gone(self.client)
                self._release()


def keepalive(sock, interval: int) -> None:
    """tcp-keepalive on an accepted socket (Redis's anetKeepAlive): probes after `interval`
    idle seconds, then every interval/3 seconds, 3 unanswered probes drop the peer."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass


def resp_size(requests) -> int:
    """The bytes of requests (lists of arguments) in RESP's multibulk encoding."""
    n = 0
    for argv in requests:
        if argv[:1] == [b"\x00protocol-error"]:
            continue
        n += 3 + len(str(len(argv)))
        for a in argv:
            n += 5 + len(str(len(a))) + len(a)
    return n


def protected_mode_refuses(state, peer: str) -> bool:
    """protected-mode yes and no password for the default user: only loopback clients (and
    unix sockets, which never get here) may talk (Redis 7.0 clientAcceptHandler; `bind` plays
    no part since 7.0)."""
    if not state.config["protected-mode"] or state.config["requirepass"]:
        return False
    host = _unbracket(peer).rsplit(":", 1)[0]
    return host not in ("127.0.0.1", "::1")


def _fmt_addr(a) -> str:
    """Redis's address string: ip:port, [ipv6]:port."""
    if a is None:
        return ""
    if isinstance(a, tuple):
        host, port = a[0], a[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(a) + ":0"


def _unbracket(addr: str) -> str:
    """ip:port as Redis logs it ("Accepted ::1:6379")."""
    return addr.replace("[", "").replace("]", "") if addr.startswith("[") else addr


def tls_reason(e: BaseException) -> str:
    """A failed handshake as Redis logs it: OpenSSL's reason ("wrong version number")."""
    if isinstance(e, ssl.SSLError) and e.reason:
        return e.reason.lower().replace("_", " ")
    if isinstance(e, asyncio.TimeoutError):
        return "handshake timed out"
    if isinstance(e, ConnectionError) or isinstance(e, EOFError):
        return "unexpected eof while reading"
    return str(e) or type(e).__name__
