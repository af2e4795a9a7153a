"""The replication driver: the sockets, forks and timers of Redis 7.0's replication.c, on the
server's event loop. The state it drives is core/replication.py (`state.repl`); the commands
that start things (PSYNC, REPLICAOF, FAILOVER, REPLCONF ACK) come through `repl.io`, which is
this object.

As a master:
    PSYNC/SYNC turns the connection into a replica (its replies stop; it gets the stream).
    A partial resync answers +CONTINUE and the backlog from the asked offset. A full resync
    answers +FULLRESYNC <replid> <offset> once an RDB for it starts: on disk (a BGSAVE child,
    then "$<size>\\r\\n" and the file, sent as fast as the replica reads), or diskless (a child
    writes "$EOF:<mark>\\r\\n", the RDB and the mark to a pipe that we relay to every replica
    of that fork; repl-diskless-sync-delay waits for more replicas first). What the stream
    gained meanwhile is kept for the replica and sent after its RDB (diskless: after its
    first REPLCONF ACK, as Redis). The cron (once a second) PINGs the replicas every
    repl-ping-replica-period, sends "\\n" to those waiting for their RDB, drops the ones that
    timed out, frees an unused backlog after repl-backlog-ttl and starts pending forks.

As a replica (REPLICAOF / `replicaof`):
    one link task at a time connects, handshakes (PING, AUTH [user] pass, REPLCONF
    listening-port / ip-address / capa eof capa psync2, PSYNC <cached replid> <offset+1>),
    then either continues (+CONTINUE) or receives the RDB (to a temp file, then renamed to
    the dbfilename and loaded -- or, repl-diskless-load on-empty-db / swapdb, kept in memory
    and loaded from there; swapdb loads beside the old data and swaps only on success) and
    applies the stream as the master client, proxying what it applied to its own replicas.
    REPLCONF ACK goes to the master every second and on GETACK. A dropped link is cached
    (replid, offset) for a partial resync and retried at once, then once a second, as
    Redis's replicationCron does. A load that fails leaves no half-loaded dataset. With
    tls-replication the link is TLS (server/tls.py replication_context). The stream is parsed
    here with exact byte positions (_next_command): each applied command moves the offset by
    its size on the wire, whatever the reads' boundaries.

FAILOVER holds writes (core/pause.py, the failover purpose) while it waits for the target's
ACK, then makes us a replica of it with PSYNC <replid> <offset> FAILOVER; SHUTDOWN waits up
to shutdown-timeout for lagging replicas the same way (server.py). A master restarted from
an RDB with replication info keeps its history as ID2 (_master_restart).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import TYPE_CHECKING

from .. import rdb
from ..core.blocking import manager as blocking_manager
from ..core.client import Client
from ..core.clients import client_info_line
from ..core.dispatch import replay
from ..core.functions import create_library, registry
from ..core.replication import (ONLINE, REPL_CONNECT, REPL_CONNECTED, REPL_CONNECTING, REPL_HANDSHAKE,
                                REPL_NONE, REPL_TRANSFER, SEND_BULK, SHARED_PING, WAIT_BGSAVE_END,
                                WAIT_BGSAVE_START, Replica, encode_command)
from ..errors import CommandError, PersistenceError
from ..keyspace.database import Database
from ..keyspace.expiry import _before_any_deadline
from ..persistence import paths
from ..protocol.parser import PROTO_INLINE_MAX_SIZE, sdssplitargs
from ..protocol.replies import NO_REPLY, ErrorReply

if TYPE_CHECKING:
    from .connection import Connection
    from .server import RedisServer

CHUNK = 64 * 1024
HIGH_WATER = 256 * 1024  # stop feeding a replica's socket beyond this many unsent bytes
EOF_MARK_LEN = 40
UNBLOCKED_ROLE = b"UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"


class _ReplicaSocket:
    """A replica's connection as core/replication.py sees it: write, close, buffered."""

    __slots__ = ("io", "conn", "r")

    def __init__(self, io: ReplicationIO, conn: Connection, r: Replica) -> None:
        self.io = io
        self.conn = conn
        self.r = r

    def write(self, data: bytes) -> None:
        conn = self.conn
        if conn.closed or conn.transport is None:
            return
        conn.transport.write(data)
        self.io.repl.net_output += len(data)
        self.io.check_output_limit(self.r)

    def buffered(self) -> int:
        t = self.conn.transport
        return t.get_write_buffer_size() if t is not None and not self.conn.closed else 0

    def close(self) -> None:
        self.conn.close()


class ReplicationIO:
    def __init__(self, srv: RedisServer) -> None:
        self.srv = srv
        self.state = srv.state
        self.cfg = srv.config
        self.repl = self.state.repl
        self.repl.io = self
        self.loop = asyncio.get_running_loop()
        self.cron_loops = 0
        self.replica_expires: dict[int, set[bytes]] = {}  # db id -> keys (a writable replica's TTLs)
        self._cron_handle = self.loop.call_later(1.0, self._cron)
        srv.disconnect_hooks.append(self._client_gone)
        srv.shutdown_hooks.append(self.close)
        self.bg = srv.persistence.bg
        self.bg.rdb_done_hooks.append(self._rdb_done)
        # --- diskless transfer in progress (master) ------------------------------------------
        self.pipe_fd = -1
        self.pipe_targets: list[Replica] = []
        self.pipe_eof = False
        self.pipe_child_ok: bool | None = None
        self.pipe_paused = False
        # --- replica role ----------------------------------------------------------------------
        self.link_task: asyncio.Task | None = None
        self.link_writer: asyncio.StreamWriter | None = None
        self.link_gen = 0  # bumped to abandon a link attempt
        self.aof_was_on = False
        self.transfer_tmp = ""
        for name in ("repl-diskless-sync", "repl-diskless-sync-delay", "repl-diskless-sync-max-replicas"):
            self.cfg.on_change(name, lambda _v: None)

    def log(self, level: str, msg: str) -> None:
        self.srv.log(level, msg)

    def start(self) -> None:
        """At start-up: the `replicaof` directive."""
        spec = self.cfg["replicaof"]
        if spec:
            parts = spec.split()
            if len(parts) == 2:
                self.set_master(parts[0], int(parts[1]), startup=True)
                return
        self._master_restart()

    def _master_restart(self) -> None:
        """A master restarted from an RDB that carries replication info (loadDataFromDisk):
        its history becomes ID2 up to the saved offset and the offsets go on from there, with
        an empty backlog, so its former replicas resume with +CONTINUE."""
        aux = self.srv.persistence.loader.aux
        try:
            replid = aux[b"repl-id"].decode()
            offset = int(aux[b"repl-offset"])
            db = int(aux.get(b"repl-stream-db", b"-1"))
        except (KeyError, ValueError, UnicodeDecodeError):
            return
        if len(replid) != 40 or offset < 0 or db == -1:
            return
        repl = self.repl
        repl.replid2 = replid
        repl.second_replid_offset = offset + 1
        repl.master_repl_offset = offset
        repl.create_backlog()
        repl.no_replicas_since = time.time()

    def _restore_from_rdb(self) -> bool:
        """A replica restarted from its RDB: the replication ID and offset saved in it become
        the cached master, so it can PSYNC where it left (loadDataFromDisk)."""
        aux = self.srv.persistence.loader.aux
        try:
            replid = aux[b"repl-id"].decode()
            offset = int(aux[b"repl-offset"])
            db = int(aux.get(b"repl-stream-db", b"-1"))
        except (KeyError, ValueError, UnicodeDecodeError):
            return False
        if len(replid) != 40 or offset < 0 or db == -1:
            return False
        repl = self.repl
        repl.replid = replid
        repl.master_repl_offset = offset
        repl.cached = (replid, offset)
        repl.cached_db = db
        return True

    def close(self) -> None:
        if self._cron_handle is not None:
            self._cron_handle.cancel()
            self._cron_handle = None
        self._cancel_link()
        self._close_pipe()

    # ============================================================================================
    # master side
    # ============================================================================================
    def sync_command(self, c: Client, argv: list[bytes]):
        """syncCommand: SYNC and PSYNC."""
        repl = self.repl
        if c.replica is not None:
            return NO_REPLY
        name = argv[0].lower()
        if name == b"psync" and len(argv) > 3 and argv[3].lower() == b"failover":
            replid = argv[1].decode("utf-8", "replace")
            self.log("warning", f"Failover request received for replid {replid}.")
            if repl.masterhost is None:
                raise CommandError("ERR PSYNC FAILOVER can't be sent to a master.")
            if replid.lower() == repl.replid:
                self.unset_master()
                self.log("notice", "MASTER MODE enabled (failover request from '%s')"
                         % client_info_line(c).decode("utf-8", "replace"))
            else:
                raise CommandError("ERR PSYNC FAILOVER replid must match my replid.")
        if repl.failover_state != "no-failover":
            raise CommandError("NOMASTERLINK Can't SYNC while failing over")
        if repl.masterhost is not None and repl.link != REPL_CONNECTED:
            raise CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
        conn = self.srv.connections.get(c.id)
        if conn is None or conn.out or conn.deferred:
            raise CommandError("ERR SYNC and PSYNC are invalid with pending output")
        r = Replica(c)
        r.port = c.extra.get("repl_port", 0)
        r.ip = c.extra.get("repl_ip", "")
        capa = c.extra.get("repl_capa", ())
        r.capa_eof = b"eof" in capa
        r.capa_psync2 = b"psync2" in capa
        r.rdb_only = c.extra.get("repl_rdb_only", False)
        r.io = _ReplicaSocket(self, conn, r)
        who = r.name()
        self.log("notice", f"Replica {who} asks for synchronization")
        if name == b"psync":
            try:
                offset = _ll(argv[2])
            except CommandError:
                self.log("warning", f"Replica {who} asks for synchronization but with a wrong offset")
                raise
            replid = argv[1].decode("utf-8", "replace")
            if repl.can_continue(replid.lower() if replid != "?" else "?", offset, who):
                self._partial(conn, r, offset)
                repl.sync_partial_ok += 1
                return NO_REPLY
            if replid != "?":
                repl.sync_partial_err += 1
        else:
            r.pre_psync = True
        repl.sync_full += 1
        r.state = WAIT_BGSAVE_START
        self._become_replica(conn, r)
        if len(repl.replicas) == 1 and repl.backlog is None:
            repl.change_replid()
            repl.clear_replid2()
            repl.create_backlog()
            self.log("notice", f"Replication backlog created, my new replication IDs are '{repl.replid}' and "
                     f"'{repl.replid2}'")
        bg = self.bg
        if bg.child_pid and bg.child_type == "rdb" and bg.rdb_target == "disk":
            other = next((o for o in repl.replicas if o.state == WAIT_BGSAVE_END and (not o.rdb_only or r.rdb_only)),
                         None)
            if other is not None and (r.capa_eof or not other.capa_eof) and (r.capa_psync2 or not other.capa_psync2):
                if not r.rdb_only:
                    r.pending = list(other.pending)
                    r.pending_size = other.pending_size
                self.setup_full_resync(r, other.initial_offset)
                self.log("notice", "Waiting for end of BGSAVE for SYNC")
            else:
                self.log("notice", "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
        elif bg.child_pid and bg.child_type == "rdb" and bg.rdb_target == "socket":
            self.log("notice", "Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
        else:
            if self.cfg["repl-diskless-sync"] and r.capa_eof and self.cfg["repl-diskless-sync-delay"]:
                self.log("notice", "Delay next BGSAVE for diskless SYNC")
            elif not bg.child_pid:
                self.start_bgsave_for_replication(r.capa_eof, r.capa_psync2)
            else:
                self.log("notice", "No BGSAVE in progress, but another BG operation is active. "
                         "BGSAVE for replication delayed")
        return NO_REPLY

    def _become_replica(self, conn: Connection, r: Replica) -> None:
        c = r.client
        c.replica = r
        c.reply_mode = "replica"
        conn.on_drain = lambda: self._drained(r)
        if self.cfg["repl-disable-tcp-nodelay"]:
            sock = conn.transport.get_extra_info("socket") if conn.transport is not None else None
            if sock is not None:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
                except OSError:
                    pass
        self.repl.attach(r)

    def _partial(self, conn: Connection, r: Replica, offset: int) -> None:
        """The +CONTINUE path of masterTryPartialResynchronization."""
        repl = self.repl
        repl.flush()  # the stream the other replicas are owed leaves first
        r.state = ONLINE
        r.ack_time = time.time()
        self._become_replica(conn, r)
        r.io.write(b"+CONTINUE %s\r\n" % repl.replid.encode() if r.capa_psync2 else b"+CONTINUE\r\n")
        data = repl.backlog.since(offset)
        if data:
            r.io.write(data)
        self.log("notice", f"Partial resynchronization request from {r.name()} accepted. Sending {len(data)} "
                 f"bytes of backlog starting from offset {offset}.")
        repl.refresh_good()

    def setup_full_resync(self, r: Replica, offset: int) -> None:
        """replicationSetupSlaveForFullResync."""
        r.initial_offset = offset
        r.state = WAIT_BGSAVE_END
        self.repl.seldb = -1  # the replica's stream must start with a SELECT
        if not r.pre_psync:
            r.io.write(b"+FULLRESYNC %s %d\r\n" % (self.repl.replid.encode(), offset))

    def start_bgsave_for_replication(self, capa_eof: bool, capa_psync2: bool = True) -> bool:
        """startBgsaveForReplication: an RDB for the replicas waiting to start one."""
        repl = self.repl
        socket_target = self.cfg["repl-diskless-sync"] and capa_eof
        self.log("notice", "Starting BGSAVE for SYNC with target: %s" % ("replicas sockets" if socket_target else "disk"))
        aux = repl.rdb_aux()
        ok = True
        try:
            if socket_target:
                self._start_diskless(aux)
            else:
                self.bg.start_bgsave(aux)
        except (PersistenceError, OSError):
            ok = False
        if not ok:
            self.log("warning", "BGSAVE for replication failed")
            for r in list(repl.replicas):
                if r.state == WAIT_BGSAVE_START:
                    self._refuse(r, b"-ERR BGSAVE failed, replication can't continue\r\n")
            return False
        if not socket_target:
            for r in list(repl.replicas):
                if r.state == WAIT_BGSAVE_START:
                    self.setup_full_resync(r, repl.master_repl_offset)
        return True

    def _refuse(self, r: Replica, error: bytes) -> None:
        self.repl.detach(r)
        r.client.replica = None
        if r.io is not None:
            r.io.write(error)
            r.io.close()

    def _start_diskless(self, aux) -> None:
        """rdbSaveToSlavesSockets: the replicas waiting to start get +FULLRESYNC now and the RDB
        through a pipe from the child."""
        repl = self.repl
        targets = [r for r in repl.replicas if r.state == WAIT_BGSAVE_START]
        for r in targets:
            self.setup_full_resync(r, repl.master_repl_offset)
        mark = os.urandom(20).hex().encode()
        rfd, wfd = os.pipe()
        only_functions = any(r.client.extra.get("repl_rdb_filter") is not None for r in targets)
        try:
            pid = self.bg.start_rdb_to_pipe(wfd, b"$EOF:%s\r\n" % mark, mark, aux, only_functions)
        except PersistenceError:
            os.close(rfd)
            for r in targets:  # undo: the caller refuses the ones still waiting to start
                r.state = WAIT_BGSAVE_START
            raise
        for r in targets:
            r.last_partial_write = 0.0
        self.pipe_fd = rfd
        self.pipe_targets = targets
        self.pipe_eof = False
        self.pipe_child_ok = None if pid else True
        self.pipe_paused = False
        os.set_blocking(rfd, False)
        self.loop.add_reader(rfd, self._pipe_readable)

    def _pipe_readable(self) -> None:
        """rdbPipeReadHandler: relay the child's RDB to the replicas of this fork, as fast as
        the slowest one reads."""
        while self.pipe_fd >= 0:
            try:
                data = os.read(self.pipe_fd, CHUNK)
            except BlockingIOError:
                return
            except OSError as e:
                self.log("warning", f"Diskless rdb transfer, read error sending DB to replicas: {e.strerror}")
                for r in list(self.pipe_targets):
                    r.io.close()
                self._close_pipe()
                self.bg.kill_child()
                return
            if not data:
                self.log("warning", f"Diskless rdb transfer, done reading from pipe, {len(self.pipe_targets)} "
                         "replicas still up.")
                self.pipe_eof = True
                self._close_pipe()
                if self.pipe_child_ok is not None:
                    self._diskless_done(self.pipe_child_ok)
                return
            alive = [r for r in self.pipe_targets if not r.io.conn.closed]
            self.pipe_targets = alive
            for r in alive:
                r.io.write(data)
            if not alive:
                self.log("warning", "Diskless rdb transfer, last replica dropped, killing fork child.")
                self._close_pipe()
                self.bg.kill_child()
                return
            if any(r.io.buffered() > HIGH_WATER for r in alive):
                now = time.time()
                for r in alive:
                    if r.io.buffered() > HIGH_WATER and not r.last_partial_write:
                        r.last_partial_write = now
                self.loop.remove_reader(self.pipe_fd)
                self.pipe_paused = True
                return

    def _drained(self, r: Replica) -> None:
        """A replica's socket drained: resume the relay / the file it is being sent."""
        r.last_partial_write = 0.0
        if self.pipe_paused and self.pipe_fd >= 0 and all(x.io.buffered() <= HIGH_WATER for x in self.pipe_targets):
            self.pipe_paused = False
            self.loop.add_reader(self.pipe_fd, self._pipe_readable)
        bulk = r.client.extra.get("repl_bulk")
        if bulk is not None:
            self._send_bulk(r)

    def _close_pipe(self) -> None:
        if self.pipe_fd >= 0:
            try:
                self.loop.remove_reader(self.pipe_fd)
            except Exception:  # noqa: BLE001 - the loop may be closing
                pass
            os.close(self.pipe_fd)
            self.pipe_fd = -1
        self.pipe_paused = False

    def _rdb_done(self, ok: bool, target: str) -> None:
        """An RDB child ended (updateSlavesWaitingBgsave)."""
        if target == "socket":
            self.pipe_child_ok = ok
            if ok and not self.pipe_eof and self.pipe_fd >= 0:
                return  # the relay finishes first
            self._close_pipe()
            self._diskless_done(ok)
        else:
            for r in list(self.repl.replicas):
                if r.state != WAIT_BGSAVE_END:
                    continue
                if not ok:
                    self.log("warning", "SYNC failed. BGSAVE child returned an error")
                    r.io.close()
                    continue
                path = paths.rdb_path(self.cfg)
                try:
                    f = open(path, "rb")
                    size = os.fstat(f.fileno()).st_size
                except OSError as e:
                    self.log("warning", f"SYNC failed. Can't open/stat DB after BGSAVE: {e.strerror}")
                    r.io.close()
                    continue
                r.state = SEND_BULK
                r.client.extra["repl_bulk"] = f
                r.io.write(b"$%d\r\n" % size)
                self._send_bulk(r)
        self.loop.call_soon(self.start_pending_fork)

    def _diskless_done(self, ok: bool) -> None:
        targets, self.pipe_targets = self.pipe_targets, []
        self.pipe_child_ok = None
        for r in targets:
            if r not in self.repl.replicas or r.state != WAIT_BGSAVE_END:
                continue
            if not ok:
                self.log("warning", "SYNC failed. BGSAVE child returned an error")
                r.io.close()
                continue
            self.log("notice", f"Streamed RDB transfer with replica {r.name()} succeeded (socket). Waiting for "
                     "REPLCONF ACK from slave to enable streaming")
            if self._put_online(r):
                r.start_on_ack = True

    def _send_bulk(self, r: Replica) -> None:
        """sendBulkToSlave: the RDB file, as fast as the replica reads it."""
        f = r.client.extra.get("repl_bulk")
        if f is None or r.io.conn.closed:
            return
        while r.io.buffered() <= HIGH_WATER:
            data = f.read(CHUNK)
            if not data:
                f.close()
                del r.client.extra["repl_bulk"]
                if self._put_online(r):
                    self.repl.start_stream(r)
                return
            r.io.write(data)

    def _put_online(self, r: Replica) -> bool:
        """replicaPutOnline; False: an rdb-only replica, now closed."""
        if r.rdb_only:
            self.log("notice", f"RDB transfer completed, rdb only replica ({r.name()}) should be disconnected asap")
            r.io.close()
            return False
        r.state = ONLINE
        r.ack_time = time.time()
        self.repl.refresh_good()
        self.log("notice", f"Synchronization with replica {r.name()} succeeded")
        return True

    def replica_ack(self, r: Replica, offset: int) -> None:
        """REPLCONF ACK <offset> from an attached replica."""
        if offset > r.ack_off:
            r.ack_off = offset
        r.ack_time = time.time()
        if self.bg.child_pid and r.state == WAIT_BGSAVE_END:
            self.bg.reap()  # the diskless child may be done already (checkChildrenDone)
        if r.start_on_ack and r.state == ONLINE:
            self.repl.start_stream(r)
        if self.repl.waiting:
            self.state.scheduler.before_sleep(self.repl.process_waiting)
        if self.repl.failover_state == "waiting-for-sync":
            self.state.scheduler.before_sleep(self.update_failover)

    def start_pending_fork(self) -> None:
        """replicationStartPendingFork: an RDB for the replicas waiting to start one, once no
        child runs (diskless: after repl-diskless-sync-delay, or max-replicas arrived)."""
        if self.bg.child_pid:
            return
        waiting = [r for r in self.repl.replicas if r.state == WAIT_BGSAVE_START]
        if not waiting:
            return
        now = time.time()
        max_idle = max(now - r.client.last_interaction for r in waiting)
        cfg = self.cfg
        if (not cfg["repl-diskless-sync"]
                or (cfg["repl-diskless-sync-max-replicas"] > 0 and len(waiting) >= cfg["repl-diskless-sync-max-replicas"])
                or max_idle >= cfg["repl-diskless-sync-delay"]):
            self.start_bgsave_for_replication(all(r.capa_eof for r in waiting))

    def check_output_limit(self, r: Replica) -> None:
        """client-output-buffer-limit replica: a replica that does not read is dropped (it
        will resync), rather than letting the server grow without bound."""
        hard, soft, secs = self.cfg["client-output-buffer-limit"]["replica"]
        if not hard and not soft:
            return
        size = r.io.buffered() + r.pending_size
        over = False
        if hard and size >= hard:
            over = True
        elif soft and size >= soft:
            now = time.monotonic()
            if not r.obuf_soft_since:
                r.obuf_soft_since = now
            elif now - r.obuf_soft_since >= secs:
                over = True
        else:
            r.obuf_soft_since = 0.0
        if over and not r.io.conn.closed:
            self.log("warning", "Client %s scheduled to be closed ASAP for overcoming of output buffer limits."
                     % client_info_line(r.client).decode("utf-8", "replace"))
            r.io.conn.transport.abort()
            r.io.close()

    def _client_gone(self, c: Client) -> None:
        r = c.replica
        if r is not None:
            if r in self.repl.replicas:
                self.log("warning", f"Connection with replica {r.name()} lost.")
            self.repl.detach(r)
            f = c.extra.pop("repl_bulk", None)
            if f is not None:
                f.close()
            if r in self.pipe_targets:
                self.pipe_targets.remove(r)
                if not self.pipe_targets and self.pipe_fd >= 0:
                    self.log("warning", "Diskless rdb transfer, last replica dropped, killing fork child.")
                    self._close_pipe()
                    self.bg.kill_child()
            r.io = None
        if c.is_master and c is self.repl.master:
            self._master_gone()

    def disconnect_replicas(self) -> None:
        """disconnectSlaves."""
        for r in list(self.repl.replicas):
            if r.io is not None:
                r.io.close()

    # ============================================================================================
    # the cron (replicationCron, once a second)
    # ============================================================================================
    def _cron(self) -> None:
        self._cron_handle = self.loop.call_later(1.0, self._cron)
        try:
            self.cron()
        except Exception as e:  # pragma: no cover - the cron must survive a bug
            self.log("warning", f"replication cron error: {e!r}")

    def cron(self) -> None:
        repl, cfg = self.repl, self.cfg
        now = time.time()
        self.update_failover()
        timeout = cfg["repl-timeout"]
        if repl.masterhost is not None:
            if repl.link in (REPL_CONNECTING, REPL_HANDSHAKE) and now - repl.transfer_lastio > timeout:
                self.log("warning", "Timeout connecting to the MASTER...")
                self._cancel_link(reconnect=True)
            elif repl.link == REPL_TRANSFER and now - repl.transfer_lastio > timeout:
                self.log("warning", "Timeout receiving bulk data from MASTER... If the problem persists try to set "
                         "the 'repl-timeout' parameter in redis.conf to a larger value.")
                self._cancel_link(reconnect=True)
            elif repl.link == REPL_CONNECTED and now - repl.last_io > timeout:
                self.log("warning", "MASTER timeout: no data nor PING received...")
                self._drop_master_link()
            if repl.link == REPL_CONNECT:
                self.log("notice", f"Connecting to MASTER {repl.masterhost}:{repl.masterport}")
                self._connect()
            if repl.master is not None:
                self.send_ack()
        if repl.replicas and self.cron_loops % cfg["repl-ping-replica-period"] == 0 and \
                repl.masterhost is None and repl.backlog is not None and not repl.paused():
            repl.feed_raw(SHARED_PING)
        for r in list(repl.replicas):
            if r.state == WAIT_BGSAVE_START or (r.state == WAIT_BGSAVE_END and self.bg.rdb_target != "socket"):
                if r.io is not None and not r.io.conn.closed and r.io.conn.transport is not None:
                    r.io.conn.transport.write(b"\n")
        for r in list(repl.replicas):
            if r.state == ONLINE and not r.pre_psync and now - r.ack_time > timeout:
                self.log("warning", f"Disconnecting timedout replica (streaming sync): {r.name()}")
                r.io.close()
                continue
            if r.state == WAIT_BGSAVE_END and self.bg.rdb_target == "socket" and r.last_partial_write and \
                    now - r.last_partial_write > timeout:
                self.log("warning", f"Disconnecting timedout replica (full sync): {r.name()}")
                r.io.close()
                continue
            if r.io is not None:
                self.check_output_limit(r)
        ttl = cfg["repl-backlog-ttl"]
        if not repl.replicas and ttl and repl.backlog is not None and repl.masterhost is None and \
                now - repl.no_replicas_since > ttl:
            repl.change_replid()
            repl.clear_replid2()
            repl.free_backlog()
            self.log("notice", f"Replication backlog freed after {ttl} seconds without connected replicas.")
        self.start_pending_fork()
        repl.refresh_good()
        self.cron_loops += 1

    # ============================================================================================
    # replica side
    # ============================================================================================
    def set_master(self, host: str, port: int, startup: bool = False) -> None:
        """replicationSetMaster."""
        repl = self.repl
        was_master = repl.masterhost is None
        repl.masterhost = None
        if repl.master is not None:
            self._drop_master_link(reconnect=False)
        self._unblock_all()
        repl.masterhost = host
        repl.masterport = port
        self.cfg.values["replicaof"] = f"{host} {port}"  # CONFIG GET / REWRITE show the live master
        self._cancel_link()
        if startup:  # the `replicaof` directive: no cached master unless the RDB had one
            self._restore_from_rdb()
        elif was_master:
            repl.cached = None
            self._cache_myself()
        self._role_changed()
        repl.set_link(REPL_CONNECT)
        if startup:  # the first replicationCron connects
            self.loop.call_soon(self._startup_connect)
            return
        self.log("notice", f"Connecting to MASTER {host}:{port}")
        self._connect()

    def _startup_connect(self) -> None:
        repl = self.repl
        if repl.masterhost is not None and repl.link == REPL_CONNECT:
            self.log("notice", f"Connecting to MASTER {repl.masterhost}:{repl.masterport}")
            self._connect()

    def unset_master(self) -> None:
        """replicationUnsetMaster: REPLICAOF NO ONE, a FAILOVER target."""
        repl = self.repl
        if repl.masterhost is None:
            return
        repl.masterhost = None
        self.cfg.values["replicaof"] = ""
        if repl.master is not None:
            self._drop_master_link(reconnect=False)
        repl.cached = None
        self._cancel_link()
        repl.shift_replid()
        self.disconnect_replicas()
        repl.set_link(REPL_NONE)
        repl.seldb = -1
        repl.no_replicas_since = time.time()
        repl.down_since = 0.0
        self._role_changed()
        self._restart_aof()

    def _role_changed(self) -> None:
        """What depends on being a replica: expired keys kept for the master's DEL, the stream
        proxied instead of fed, the read-only gates."""
        repl = self.repl
        replica = repl.masterhost is not None
        pause = getattr(self.state, "pause", None)
        keep = replica or (pause is not None and pause.paused())
        hook = self._remember_expire if replica else None
        for db in self.state.dbs:
            db.keep_expired = keep
            db.on_set_expire = hook
        if not replica:
            self.replica_expires.clear()
        repl.update_sink()
        repl.update_gates()

    def _remember_expire(self, db: Database, key: bytes) -> None:
        """rememberSlaveKeyWithExpire: on a writable replica, a TTL set by one of its own
        clients (not the master) is one the replica must enforce itself."""
        if self.cfg["replica-read-only"]:
            return
        c = self.state.current_client
        if c is not None and not c.is_master:
            self.replica_expires.setdefault(db.id, set()).add(key)

    def expire_replica_keys(self) -> None:
        """expireSlaveKeys: the keys written with a TTL on this writable replica expire here
        (the master knows nothing of them); a key that lost its TTL or is gone is forgotten."""
        if not self.replica_expires:
            return
        now = self.state.now_ms
        for dbid, keys in list(self.replica_expires.items()):
            db = self.state.dbs[dbid]
            for key in list(keys):
                when = db.expires.get(key)
                if when is None:
                    keys.discard(key)
                elif when <= now:
                    db._expire(key, force=True)
                    keys.discard(key)
            if not keys:
                del self.replica_expires[dbid]

    def _unblock_all(self) -> None:
        """disconnectAllBlockedClients: clients blocked on a master that becomes a replica."""
        m = self.state.blocking
        if m is None:
            return
        from ..core.dispatch import _error_reply

        for cid, w in list(m.by_client.items()):
            if self.state.busy_script is not None and w.marker is getattr(self.state.busy_script, "marker", None):
                continue
            if getattr(w.marker, "rerun", None) is not None:
                continue  # held by a pause (BLOCKED_POSTPONE): its command runs again from scratch
            m.release(cid, _error_reply(w.client, UNBLOCKED_ROLE))

    def _cache_myself(self) -> None:
        """replicationCacheMasterUsingMyself: our own ID and offset, to PSYNC with the new
        master (which, if it was our replica, knows them as its ID2)."""
        repl = self.repl
        self.log("notice", "Before turning into a replica, using my own master parameters to synthesize a cached "
                 "master: I may be able to synchronize with the new master with just a partial transfer.")
        repl.cached = (repl.replid, repl.master_repl_offset)
        repl.cached_db = 0

    def _connect(self) -> None:
        """connectWithMaster: one link attempt (a task) at a time."""
        repl = self.repl
        if repl.masterhost is None or (self.link_task is not None and not self.link_task.done()):
            return
        self.link_gen += 1
        repl.transfer_lastio = time.time()
        repl.set_link(REPL_CONNECTING)
        self.log("notice", "MASTER <-> REPLICA sync started")
        self.link_task = self.loop.create_task(self._link(self.link_gen))

    def _cancel_link(self, reconnect: bool = False) -> None:
        """cancelReplicationHandshake: abandon a connect, handshake or transfer in progress."""
        task = self.link_task
        in_progress = self.repl.link in (REPL_CONNECTING, REPL_HANDSHAKE, REPL_TRANSFER)
        if task is not None and not task.done():
            self.link_gen += 1
            task.cancel()
        self.link_task = None
        if self.repl.link != REPL_CONNECTED or task is not None:
            if self.link_writer is not None and self.repl.master is None:
                self.link_writer.transport.abort()
                self.link_writer = None
        self._remove_transfer_tmp()
        if in_progress and self.repl.masterhost is not None:
            self.repl.set_link(REPL_CONNECT)
            if reconnect:
                self.log("notice", f"Reconnecting to MASTER {self.repl.masterhost}:{self.repl.masterport} after failure")
                self._connect()

    def _remove_transfer_tmp(self) -> None:
        if self.transfer_tmp:
            try:
                os.unlink(self.transfer_tmp)
            except OSError:
                pass
            self.transfer_tmp = ""

    async def _link(self, gen: int) -> None:
        repl = self.repl
        try:
            await self._sync_with_master(gen)
        except asyncio.CancelledError:
            raise
        except _LinkError as e:
            if e.message:
                self.log("warning", e.message)
            if gen == self.link_gen:
                self._link_failed(e.reconnect)
        except (OSError, asyncio.IncompleteReadError, ConnectionError) as e:
            if gen == self.link_gen:
                if repl.link == REPL_TRANSFER:
                    self.log("warning", f"I/O error trying to sync with MASTER: {_strerror(e)}")
                    self._link_failed(True)
                elif repl.link == REPL_CONNECTED:
                    pass
                else:
                    self.log("warning", "Master did not respond to command during SYNC handshake")
                    self._link_failed(False)
        except Exception as e:  # pragma: no cover - a bug must not leave the link dead
            self.log("warning", f"Replication link error: {e!r}")
            if gen == self.link_gen:
                self._link_failed(False)

    def _link_failed(self, reconnect: bool) -> None:
        repl = self.repl
        if self.link_writer is not None and repl.master is None:
            self.link_writer.transport.abort()
            self.link_writer = None
        self._remove_transfer_tmp()
        if repl.masterhost is None:
            return
        if repl.link == REPL_CONNECTED:
            return
        repl.set_link(REPL_CONNECT)
        self.link_task = None
        if reconnect:
            self.log("notice", f"Reconnecting to MASTER {repl.masterhost}:{repl.masterport} after failure")
            self._connect()

    async def _sync_with_master(self, gen: int) -> None:
        """syncWithMaster + readSyncBulkPayload + the stream."""
        repl, cfg = self.repl, self.cfg
        host, port = repl.masterhost, repl.masterport
        ssl_ctx = None
        if cfg["tls-replication"]:  # connCreateTLS: the link is TLS, the master's certificate checked
            from . import tls

            try:
                ssl_ctx = tls.replication_context(cfg, self.log)
            except tls.TLSError:
                raise _LinkError("Failed to configure TLS for the link with MASTER") from None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=1 << 20, ssl=ssl_ctx,
                                        server_hostname=host if ssl_ctx is not None else None),
                cfg["repl-timeout"])
        except (OSError, asyncio.TimeoutError) as e:
            raise _LinkError(f"Error condition on socket for SYNC: {_strerror(e)}") from None
        self.link_writer = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        link = _Link(self, reader, writer)
        self.log("notice", "Non blocking connect for SYNC fired the event.")
        repl.set_link(REPL_HANDSHAKE)
        repl.transfer_lastio = time.time()
        link.send(b"PING")
        reply = await link.line()
        if not (reply[:1] == b"+" or reply.startswith((b"-NOAUTH", b"-NOPERM", b"-ERR operation not permitted"))):
            raise _LinkError(f"Error reply to PING from master: '{_s(reply)}'")
        self.log("notice", "Master replied to PING, replication can continue...")
        auth = cfg["masterauth"]
        if auth:
            user = cfg["masteruser"]
            link.send(b"AUTH", *([user.encode()] if user else []), auth.encode())
        announce_port = cfg["replica-announce-port"] or self.srv.port or self.srv.tls_port
        link.send(b"REPLCONF", b"listening-port", b"%d" % announce_port)
        announce_ip = cfg["replica-announce-ip"]
        if announce_ip:
            link.send(b"REPLCONF", b"ip-address", announce_ip.encode())
        link.send(b"REPLCONF", b"capa", b"eof", b"capa", b"psync2")
        if auth:
            reply = await link.line()
            if reply[:1] == b"-":
                raise _LinkError(f"Unable to AUTH to MASTER: {_s(reply)}")
        reply = await link.line()
        if reply[:1] == b"-":
            self.log("notice", f"(Non critical) Master does not understand REPLCONF listening-port: {_s(reply)}")
        if announce_ip:
            reply = await link.line()
            if reply[:1] == b"-":
                self.log("notice", f"(Non critical) Master does not understand REPLCONF ip-address: {_s(reply)}")
        reply = await link.line()
        if reply[:1] == b"-":
            self.log("notice", f"(Non critical) Master does not understand REPLCONF capa: {_s(reply)}")
        # --- PSYNC ------------------------------------------------------------------------------
        repl.master_initial_offset = -1
        if repl.cached is not None:
            psync_id, psync_off = repl.cached[0], b"%d" % (repl.cached[1] + 1)
            self.log("notice", f"Trying a partial resynchronization (request {psync_id}:{psync_off.decode()}).")
        else:
            self.log("notice", "Partial resynchronization not possible (no cached master)")
            psync_id, psync_off = "?", b"-1"
        failing_over = repl.failover_state == "failover-in-progress"
        if failing_over:
            link.send(b"PSYNC", psync_id.encode(), psync_off, b"FAILOVER")
        else:
            link.send(b"PSYNC", psync_id.encode(), psync_off)
        while True:
            reply = await link.line()
            if reply:
                break  # (empty lines: the master keeps the link alive before answering)
        result = self._psync_reply(reply)
        if failing_over:
            if result in ("continue", "full"):
                self.clear_failover()
            else:
                self.abort_failover("Failover target rejected psync request")
                return
        if result == "later":
            raise _LinkError("")
        if result == "continue":
            self.log("notice", "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
            await self._stream(link, gen)
            return
        if result == "sync":
            self.log("notice", "Retrying with SYNC...")
            link.send(b"SYNC")
        await self._receive_rdb(link, gen)
        await self._stream(link, gen)

    def _psync_reply(self, reply: bytes) -> str:
        """slaveTryPartialResynchronization's reading half."""
        repl = self.repl
        if reply.startswith(b"+FULLRESYNC"):
            parts = reply.split(b" ")
            if len(parts) >= 3 and len(parts[1]) == 40:
                repl.master_replid = parts[1].decode()
                try:
                    repl.master_initial_offset = int(parts[2])
                except ValueError:
                    repl.master_initial_offset = -1
                self.log("notice", f"Full resync from master: {repl.master_replid}:{repl.master_initial_offset}")
            else:
                self.log("warning", "Master replied with wrong +FULLRESYNC syntax.")
                repl.master_replid = ""
            return "full"
        if reply.startswith(b"+CONTINUE"):
            self.log("notice", "Successful partial resynchronization with master.")
            new = reply[10:].strip()
            cached_id, cached_off = repl.cached
            if len(new) == 40:
                new_id = new.decode()
                if new_id != cached_id:
                    self.log("warning", f"Master replication ID changed to {new_id}")
                    repl.replid2 = cached_id
                    repl.second_replid_offset = repl.master_repl_offset + 1
                    repl.replid = new_id
                    cached_id = new_id
                    self.disconnect_replicas()
            repl.master_replid = cached_id
            self._create_master_client(cached_off, repl.cached_db)
            repl.cached = None
            if repl.backlog is None:
                repl.create_backlog()
            return "continue"
        if reply.startswith((b"-NOMASTERLINK", b"-LOADING")):
            self.log("notice", f"Master is currently unable to PSYNC but should be in the future: {_s(reply)}")
            return "later"
        if not reply.startswith(b"-ERR"):
            self.log("warning", f"Unexpected reply to PSYNC from master: {_s(reply)}")
        else:
            self.log("notice", f"Master does not support PSYNC or is in error state (reply: {_s(reply)})")
        return "sync"

    def _disk_load(self) -> bool:
        mode = self.cfg["repl-diskless-load"]
        return not (mode == "swapdb" or (mode == "on-empty-db" and not any(db.data for db in self.state.dbs)))

    async def _receive_rdb(self, link: _Link, gen: int) -> None:
        """readSyncBulkPayload."""
        repl = self.repl
        disk = self._disk_load()
        tmpf = None
        if disk:
            for _ in range(5):
                tmp = os.path.join(self.cfg["dir"] or ".", "temp-%d.%d.rdb" % (int(time.time()), os.getpid()))
                try:
                    tmpf = open(tmp, "xb")
                    break
                except FileExistsError:
                    await asyncio.sleep(1)
            if tmpf is None:
                raise _LinkError("Opening the temp file needed for MASTER <-> REPLICA synchronization: File exists")
            self.transfer_tmp = tmp
        repl.set_link(REPL_TRANSFER)
        repl.transfer_size = -1
        repl.transfer_read = 0
        repl.transfer_lastio = time.time()
        try:
            while True:
                line = await link.line()
                if line:
                    break
                repl.transfer_lastio = time.time()  # "\n": the master is alive
            if line[:1] == b"-":
                raise _LinkError(f"MASTER aborted replication with an error: {_s(line[1:])}")
            if line[:1] != b"$":
                raise _LinkError("Bad protocol from MASTER, the first byte is not '$' (we received "
                                 f"'{_s(line)}'), are you sure the host and port are right?")
            where = "to disk" if disk else "to parser"
            mark = None
            if line.startswith(b"$EOF:") and len(line) - 5 >= EOF_MARK_LEN:
                mark = line[5:5 + EOF_MARK_LEN]
                repl.transfer_size = 0
                self.log("notice", f"MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF {where}")
            else:
                try:
                    repl.transfer_size = int(line[1:])
                except ValueError:
                    repl.transfer_size = 0
                self.log("notice", f"MASTER <-> REPLICA sync: receiving {repl.transfer_size} bytes from master {where}")
            buf = bytearray()
            tail = b""
            while True:
                if mark is None:
                    left = repl.transfer_size - repl.transfer_read
                    if left <= 0:
                        break
                    data = await link.reader.read(min(left, CHUNK * 4))
                else:
                    data = await link.reader.read(CHUNK * 4)
                if not data:
                    raise ConnectionError("connection lost")
                repl.net_input += len(data)
                repl.transfer_read += len(data)
                repl.transfer_lastio = time.time()
                if tmpf is not None:
                    tmpf.write(data)
                else:
                    buf += data
                if mark is not None:
                    tail = (tail + data)[-EOF_MARK_LEN:]
                    if tail == mark:
                        break
            if mark is not None:
                if tmpf is not None:
                    tmpf.truncate(repl.transfer_read - EOF_MARK_LEN)
                else:
                    del buf[-EOF_MARK_LEN:]
            if tmpf is not None:
                tmpf.flush()
                os.fsync(tmpf.fileno())
        finally:
            if tmpf is not None:
                tmpf.close()
        if gen != self.link_gen:
            raise asyncio.CancelledError()
        self._load_rdb(bytes(buf) if not disk else None, mark is not None)

    def _load_rdb(self, data: bytes | None, usemark: bool) -> None:
        """The transfer is complete: load it (never leaving a half-loaded dataset behind)."""
        repl, state, cfg = self.repl, self.state, self.cfg
        p = self.srv.persistence
        self.aof_was_on = self.aof_was_on or p.aof.on
        if p.aof.on:
            p._appendonly_changed(False)  # stopAppendOnly: restarted once synced
        if self.bg.child_pid and self.bg.child_type == "rdb":
            if data is None:
                self.log("notice", "Replica is about to load the RDB file received from the master, but there is a "
                         f"pending RDB child running. Killing process {self.bg.child_pid} and removing its temp file "
                         "to avoid any race")
            self.bg.kill_child()
        swapdb = data is not None and cfg["repl-diskless-load"] == "swapdb"
        if data is None:  # the file becomes our dbfilename, then is loaded from there
            path = paths.rdb_path(cfg)
            try:
                os.replace(self.transfer_tmp, path)
                rdb.fsync_dir(os.path.dirname(os.path.abspath(path)))
            except OSError as e:
                self.log("warning", f"Failed trying to rename the temp DB into {os.path.basename(path)} in "
                         f"MASTER <-> REPLICA synchronization: {e.strerror}")
                raise _LinkError("", reconnect=True) from None
            self.transfer_tmp = ""
            with open(path, "rb") as f:
                data = f.read()
            source = "disk"
        else:
            source = "socket"
        if not swapdb:
            self._attach_to_new_master()
            self.log("notice", "MASTER <-> REPLICA sync: Flushing old data")
            for db in state.dbs:
                db.flush()
            self._flush_side_effects()
        self.log("notice", "MASTER <-> REPLICA sync: Loading DB in memory")
        target = _Shim(state, [Database(i, state.dbs[i].clock_ms, state.dbs[i].on_expire)
                               for i in range(len(state.dbs))]) if swapdb else state
        state.loading = True
        try:
            info = rdb.load_bytes(data, target, source="replication", skip_expired=False, empty_first=False)
            fns = None
            if info.functions or not swapdb:
                fns = _load_functions(state, info.functions)
        except (rdb.RdbError, ValueError, CommandError, IndexError, KeyError) as e:
            state.loading = False
            self.log("warning", f"Failed trying to load the MASTER synchronization DB from {source}: {e}")
            if swapdb:
                self.log("notice", "MASTER <-> REPLICA sync: Discarding temporary DB in background")
            else:
                for db in state.dbs:  # no half-loaded dataset: empty, as Redis after a diskless failure
                    db.flush()
            raise _LinkError("", reconnect=True) from None
        state.loading = False
        if swapdb:
            self._attach_to_new_master()
            self.log("notice", "MASTER <-> REPLICA sync: Swapping active DB with loaded DB")
            for db, new in zip(state.dbs, target.dbs):
                db.swap_with(new)
            self._flush_side_effects()
            if fns is not None:
                state.lua_function_libs = fns
            self.log("notice", "MASTER <-> REPLICA sync: Discarding old DB in background")
        elif fns is not None:
            state.lua_function_libs = fns
        state.dirty += 1
        try:
            stream_db = int(info.aux.get(b"repl-stream-db", b"0"))
        except ValueError:
            stream_db = 0
        repl.master_replid = repl.master_replid or ""
        self._create_master_client(repl.master_initial_offset, stream_db if 0 <= stream_db < len(state.dbs) else 0)
        repl.replid = repl.master_replid if len(repl.master_replid) == 40 else repl.replid
        repl.master_repl_offset = max(repl.reploff, 0)
        repl.clear_replid2()
        if repl.backlog is None:
            repl.create_backlog()
        else:
            repl.backlog = None
            repl.create_backlog()
        self.log("notice", "MASTER <-> REPLICA sync: Finished with success")
        if usemark:
            self.send_ack()
        self._restart_aof()

    def _flush_side_effects(self) -> None:
        """The dataset was replaced wholesale: WATCHers and client-side caches are told (as
        emptyData does)."""
        for db in self.state.dbs:
            for hook in self.state.flush_hooks:
                try:
                    hook(db)
                except Exception:  # noqa: BLE001
                    pass

    def _attach_to_new_master(self) -> None:
        """replicationAttachToNewMaster: a new history; our replicas must resync too."""
        self.repl.cached = None
        self.disconnect_replicas()
        self.repl.free_backlog()

    def _restart_aof(self) -> None:
        if self.aof_was_on and self.cfg["appendonly"] and not self.srv.persistence.aof.on:
            self.aof_was_on = False
            try:
                self.srv.persistence._appendonly_changed(True)
            except PersistenceError as e:
                self.log("warning", f"Failed enabling the AOF after successful master synchronization! {e}")

    def _create_master_client(self, reploff: int, dbid: int) -> None:
        """replicationCreateMasterClient."""
        repl, state = self.repl, self.state
        c = Client(state, f"{repl.masterhost}:{repl.masterport}", "", -1)
        c.is_master = True
        c.authenticated = True
        c.select(dbid)
        c.reply_mode = "off"
        state.clients[c.id] = c
        c.kill = self._kill_master_client
        repl.master = c
        repl.reploff = reploff
        repl.read_reploff = reploff
        repl.last_io = time.time()
        repl.down_since = 0.0
        repl.set_link(REPL_CONNECTED)

    def _kill_master_client(self) -> None:
        self._drop_master_link()

    async def _stream(self, link: _Link, gen: int) -> None:
        """Apply the master's stream as the master client, proxying what we applied.

        `raw` holds what was read and not yet applied: its first `parsed` bytes are commands
        already run (queued inside a MULTI whose EXEC has not arrived), then what the parser
        still holds. The applied offset (reploff) moves at each command outside MULTI, as
        Redis's commandProcessed; sub-replicas get exactly those bytes."""
        repl, state = self.repl, self.state
        c = repl.master
        raw = bytearray()
        parsed = 0
        dbs = state.dbs
        reader = link.reader
        while True:
            data = await reader.read(CHUNK * 4)
            if gen != self.link_gen or repl.master is not c:
                return
            if not data:
                self.log("warning", "Connection with master lost.")
                self._drop_master_link()
                return
            n = len(data)
            repl.net_input += n
            repl.last_io = time.time()
            repl.read_reploff += n
            raw += data
            base = repl.read_reploff - len(raw)  # the offset of raw[0]
            applied = 0
            pos = parsed
            clocks = None
            try:
                while True:
                    try:
                        nxt = _next_command(raw, pos)
                    except ValueError as e:
                        self.log("warning", f"Protocol error ({e}) from master: closing the link")
                        self._drop_master_link()
                        return
                    if nxt is None:
                        break
                    argv, pos = nxt
                    if argv:
                        if clocks is None:
                            clocks = [db.clock_ms for db in dbs]
                            for db in dbs:  # the master's commands see every key (expireIfNeeded)
                                db.clock_ms = _before_any_deadline
                        reply = replay(c, argv)
                        if type(reply) is ErrorReply:
                            self.log("warning", "== CRITICAL == This replica is sending an error to its master: "
                                     f"'{_s(reply)}' after processing the command '{_s(argv[0])}'")
                        if repl.master is not c:
                            return
                    if c.multi is None:
                        applied = pos
                        repl.reploff = base + applied
            finally:
                if clocks is not None:
                    for db, clock in zip(dbs, clocks):
                        db.clock_ms = clock
            parsed = pos
            if applied:
                chunk = bytes(raw[:applied])
                del raw[:applied]
                parsed -= applied
                repl.feed_raw(chunk)
            bl = state.blocking
            if bl is not None and bl.ready:
                bl.handle_ready()

    def send_ack(self) -> None:
        """replicationSendAck."""
        repl = self.repl
        w = self.link_writer
        if repl.master is None or w is None or w.is_closing():
            return
        w.write(encode_command([b"REPLCONF", b"ACK", b"%d" % repl.reploff]))

    def _drop_master_link(self, reconnect: bool = True) -> None:
        """The link with our master is gone (freeClient of the master + replicationCacheMaster
        + replicationHandleMasterDisconnection): its offset is cached for a PSYNC."""
        repl = self.repl
        c = repl.master
        self.link_gen += 1
        if self.link_task is not None and not self.link_task.done():
            self.link_task.cancel()
        self.link_task = None
        if self.link_writer is not None:
            self.link_writer.transport.abort()
            self.link_writer = None
        if c is None:
            return
        repl.master = None
        self.state.clients.pop(c.id, None)
        c.kill = None
        if c.multi is not None:
            c.multi = None
        self.log("notice", "Caching the disconnected master state.")
        repl.cached = (repl.master_replid if repl.master_replid else repl.replid, repl.reploff)
        repl.cached_db = c.db.id
        repl.read_reploff = repl.reploff
        repl.down_since = time.time()
        repl.set_link(REPL_CONNECT)
        if reconnect and repl.masterhost is not None:
            self.log("notice", f"Reconnecting to MASTER {repl.masterhost}:{repl.masterport}")
            self._connect()

    def _master_gone(self) -> None:
        self._drop_master_link()

    # ============================================================================================
    # FAILOVER
    # ============================================================================================
    def start_failover(self, host: str | None, port: int, timeout_ms: int, force: bool) -> None:
        repl = self.repl
        if host is not None:
            repl.failover_host, repl.failover_port = host, port
            self.log("notice", f"FAILOVER requested to {host}:{port}.")
        else:
            self.log("notice", "FAILOVER requested to any replica.")
        repl.failover_end = self.state.clock_ms() + timeout_ms if timeout_ms else 0
        repl.failover_force = force
        repl.failover_state = "waiting-for-sync"
        self._pause_writes(True)

    def _pause_writes(self, on: bool) -> None:
        pause = getattr(self.state, "pause", None)
        if pause is not None and hasattr(pause, "failover"):
            pause.failover(on)

    def clear_failover(self) -> None:
        repl = self.repl
        repl.failover_end = 0
        repl.failover_force = False
        repl.failover_host = None
        repl.failover_port = 0
        repl.failover_state = "no-failover"
        self._pause_writes(False)

    def abort_failover(self, why: str) -> None:
        repl = self.repl
        if repl.failover_state == "no-failover":
            return
        if repl.failover_host:
            self.log("notice", f"FAILOVER to {repl.failover_host}:{repl.failover_port} aborted: {why}")
        else:
            self.log("notice", f"FAILOVER to any replica aborted: {why}")
        if repl.failover_state == "failover-in-progress":
            self.unset_master()
        self.clear_failover()

    def update_failover(self) -> None:
        """updateFailoverStatus."""
        repl = self.repl
        if repl.failover_state != "waiting-for-sync":
            return
        now = self.state.clock_ms()
        if repl.failover_end and repl.failover_end <= now:
            if repl.failover_force:
                self.log("notice", f"FAILOVER to {repl.failover_host}:{repl.failover_port} time out exceeded, "
                         "failing over.")
                repl.failover_state = "failover-in-progress"
                self.set_master(repl.failover_host, repl.failover_port)
            else:
                self.abort_failover("Replica never caught up before timeout")
            return
        target = None
        if repl.failover_host is not None:
            target = repl.find_replica(repl.failover_host, repl.failover_port)
        else:
            for r in repl.replicas:
                if r.ack_off == repl.master_repl_offset:
                    repl.failover_host, repl.failover_port = r.address, r.port
                    target = r
                    break
        if target is not None and target.ack_off == repl.master_repl_offset:
            repl.failover_state = "failover-in-progress"
            self.log("notice", f"Failover target {repl.failover_host}:{repl.failover_port} is synced, failing over.")
            self.set_master(repl.failover_host, repl.failover_port)


class _LinkError(Exception):
    def __init__(self, message: str, reconnect: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.reconnect = reconnect


class _Link:
    """The handshake's request/response over the master connection."""

    __slots__ = ("io", "reader", "writer")

    def __init__(self, io: ReplicationIO, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.io = io
        self.reader = reader
        self.writer = writer

    def send(self, *argv: bytes) -> None:
        self.writer.write(encode_command(list(argv)))

    async def line(self) -> bytes:
        """receiveSynchronousResponse: one line (without CRLF), within repl-timeout."""
        try:
            line = await asyncio.wait_for(self.reader.readline(), self.io.cfg["repl-timeout"])
        except asyncio.TimeoutError:
            raise _LinkError("Master did not respond to command during SYNC handshake") from None
        if not line:
            raise ConnectionError("connection lost")
        self.io.repl.net_input += len(line)
        self.io.repl.transfer_lastio = time.time()
        return line.rstrip(b"\r\n")


class _Shim:
    """What rdb.load_bytes needs of a state, over other databases (swapdb's temporary ones)."""

    def __init__(self, state, dbs) -> None:
        self.config = state.config
        self.clock = state.clock
        self.dbs = dbs


def _load_functions(state, codes: list[bytes]):
    """The libraries of the master's RDB, in a new registry (installed once all loaded)."""
    from ..core.functions import Functions

    fns = Functions()
    old = getattr(state, "lua_function_libs", None)
    state.lua_function_libs = fns
    try:
        for code in codes:
            create_library(state, code, True, fns)
    finally:
        state.lua_function_libs = old
    return fns


def _next_command(buf: bytearray, pos: int) -> tuple[list[bytes], int] | None:
    """The request at buf[pos:] and the position after it, or None while it is incomplete
    (ValueError: a protocol error). The master's stream is parsed here rather than by the
    clients' parser because each command's exact size on the wire moves the offset."""
    n = len(buf)
    if pos >= n:
        return None
    if buf[pos] != 42:  # inline (a master's newlines)
        nl = buf.find(b"\n", pos)
        if nl < 0:
            if n - pos > PROTO_INLINE_MAX_SIZE:
                raise ValueError("too big inline request")
            return None
        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
        args = sdssplitargs(bytes(buf[pos:end]))
        if args is None:
            raise ValueError("unbalanced quotes in request")
        return args, nl + 1
    cr = buf.find(b"\r\n", pos)
    if cr < 0:
        return None
    count = int(buf[pos + 1:cr])
    p = cr + 2
    argv = []
    for _ in range(count):
        if p >= n:
            return None
        if buf[p] != 36:
            raise ValueError("expected '$', got '%s'" % chr(buf[p]))
        cr = buf.find(b"\r\n", p)
        if cr < 0:
            return None
        ll = int(buf[p + 1:cr])
        if ll < 0:
            raise ValueError("invalid bulk length")
        p = cr + 2
        if n - p < ll + 2:
            return None
        argv.append(bytes(buf[p:p + ll]))
        p += ll + 2
    return argv, p


def _ll(b: bytes) -> int:
    from ..core.args import to_int

    return to_int(b)


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _strerror(e: BaseException) -> str:
    if isinstance(e, asyncio.TimeoutError):
        return "Connection timed out"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


__all__ = ["ReplicationIO", "registry", "blocking_manager", "ErrorReply"]
