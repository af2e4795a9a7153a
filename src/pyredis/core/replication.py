"""Replication state, as Redis 7.0 keeps it (replication.c): the replication IDs and offsets,
the backlog, the replicas attached to this server, the link to our master, and the stream
of writes they all share. No sockets here: server/replication.py does the I/O (the
handshake, the RDB transfer, writing the stream) and drives this state; commands
(commands/replication.py: SYNC, PSYNC, REPLCONF, REPLICAOF, ROLE, WAIT, FAILOVER) and INFO
read and change it through `state.repl`.

The stream: a master with a backlog is a propagation sink (core/propagate.py). Each effect is
encoded once as Redis's replicationFeedSlaves does (a SELECT when the stream's database
changes, then the command as a multibulk), appended to the backlog (master_repl_offset counts
its bytes) and, once per event-loop iteration, written to the online replicas (`flush`).
Replicas still waiting for their RDB accumulate what they will need after it (`pending`).
A master with no replica and no backlog is no sink at all: writes pay nothing.

A replica does not feed its own writes to the stream (Redis's `if (server.masterhost) return`):
it proxies the bytes it applied from its master (`feed_raw`), so the whole chain shares one
replication ID and one offset space, and a sub-replica can PSYNC with any of them.

IDs and offsets (PSYNC2):
    replid, master_repl_offset      this history and how far it goes
    replid2, second_replid_offset   the history we came from (a promoted replica accepts
                                    PSYNC for it up to that offset)
    backlog.offset .. +histlen      the bytes a partial resync can be served from

API:
    repl = state.repl                          # Replication
    repl.feed(dbid, argv)                      # the propagation sink
    repl.feed_raw(data)                        # bytes already encoded (PING, GETACK, a proxied stream)
    repl.create_backlog() / repl.free_backlog()
    repl.change_replid() / repl.clear_replid2() / repl.shift_replid()
    repl.can_continue(replid, offset) -> str | None    # None: partial resync possible; else why not (logged)
    repl.attach(replica) / repl.detach(replica)
    repl.count_acks(offset) -> n ; repl.refresh_good() ; repl.write_refused(spec) -> error | None
    repl.info_fields() / repl.role_reply()
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from .dispatch import GATE_READONLY, GATE_REPLICAS, GATE_STALE

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState

# Our state as a replica (server.repl_state): why INFO says master_link_status:down.
REPL_NONE = "none"
REPL_CONNECT = "connect"            # must connect (the cron / a reconnect does it)
REPL_CONNECTING = "connecting"      # TCP connect in progress
REPL_HANDSHAKE = "handshake"        # PING, AUTH, REPLCONF, PSYNC
REPL_TRANSFER = "sync"              # receiving the RDB
REPL_CONNECTED = "connected"        # applying the stream

# An attached replica's state (client->replstate).
WAIT_BGSAVE_START = "wait_bgsave"   # full sync requested, no RDB started for it yet
WAIT_BGSAVE_END = "wait_bgsave_end"  # its RDB is being produced (and, diskless, sent)
SEND_BULK = "send_bulk"             # the RDB file is being sent
ONLINE = "online"

ZERO_ID = "0" * 40
SHARED_PING = b"*1\r\n$4\r\nPING\r\n"
GETACK = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
BACKLOG_MIN = 16 * 1024
_BLOCK = 16 * 1024  # PROTO_REPLY_CHUNK_BYTES: Redis's backlog grows and is trimmed in blocks

NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
READONLY = "READONLY You can't write against a read only replica."
MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."


def already_expired(state: ServerState, when: int) -> bool:
    """checkAlreadyExpired: a deadline in the past deletes the key at once -- except while
    loading and on a replica, which keep it with its past deadline until the DEL arrives."""
    return when <= state.now_ms and not state.loading and state.repl.masterhost is None


def script_refusal(state: ServerState, c: Client, no_writes: bool, allow_stale: bool) -> str | None:
    """scriptPrepareForRun's replication checks, for scripts that declare flags (a shebang,
    functions): a stale replica, a read-only replica, too few good replicas."""
    repl = state.repl
    cfg = state.config
    if repl.masterhost is not None and repl.link != REPL_CONNECTED and not cfg["replica-serve-stale-data"] \
            and not allow_stale:
        return ("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' "
                "flag is not set on the script.")
    if not no_writes:
        if repl.masterhost is not None and cfg["replica-read-only"] and not c.is_master:
            return "READONLY Can not run script with write flag on readonly replica"
    return None


def script_noreplicas(state: ServerState, no_writes: bool) -> str | None:
    """The last of scriptPrepareForRun's checks (after the *_ro one): min-replicas-to-write."""
    repl = state.repl
    cfg = state.config
    if not no_writes and repl.masterhost is None and cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"] \
            and repl.good_replicas < cfg["min-replicas-to-write"]:
        return NOREPLICAS
    return None


def call_refusal(state: ServerState, c: Client, spec, dirty: bool) -> str | None:
    """scriptCall's replication checks for one redis.call: a stale replica refuses commands
    without the `stale` flag; before the script's first write, a read-only replica and
    min-replicas-to-write refuse writes."""
    repl = state.repl
    cfg = state.config
    if repl.masterhost is not None:
        if repl.link != REPL_CONNECTED and not cfg["replica-serve-stale-data"] and not spec.stale:
            return "Can not execute the command on a stale replica"
        if spec.write and not dirty and cfg["replica-read-only"] and not c.is_master:
            return "-" + READONLY
    elif spec.write and not dirty and cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"] and \
            repl.good_replicas < cfg["min-replicas-to-write"]:
        return "-" + NOREPLICAS
    return None


def random_id() -> str:
    return os.urandom(20).hex()


def encode_command(argv) -> bytes:
    """A command as a multibulk, as Redis writes it to replicas and the AOF."""
    return b"*%d\r\n" % len(argv) + b"".join([b"$%d\r\n%b\r\n" % (len(a), a) for a in argv])


def select_command(dbid: int) -> bytes:
    d = b"%d" % dbid
    return b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%b\r\n" % (len(d), d)


class Backlog:
    """The last `size` bytes of the stream (Redis's backlog over the replication buffer blocks):
    `offset` is the offset of the first byte held. Like Redis it is trimmed a block at a
    time, so it holds between `size` and `size` plus a block."""

    __slots__ = ("buf", "offset", "size", "block")

    def __init__(self, size: int, next_offset: int) -> None:
        self.buf = bytearray()
        self.offset = next_offset  # "virtually the first byte we have is the next one generated"
        self.resize(size)

    def resize(self, size: int) -> None:
        self.size = max(size, BACKLOG_MIN)
        self.block = max(self.size // 16, _BLOCK)
        self.trim()

    @property
    def histlen(self) -> int:
        return len(self.buf)

    def append(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > self.size + self.block:
            self.trim()

    def trim(self) -> None:
        excess = len(self.buf) - self.size
        if excess >= self.block:
            cut = excess - excess % self.block
            del self.buf[:cut]
            self.offset += cut

    def has(self, offset: int) -> bool:
        """A replica asking for `offset` (the first byte it lacks) can be served from here."""
        return self.offset <= offset <= self.offset + len(self.buf)

    def since(self, offset: int) -> bytes:
        return bytes(self.buf[offset - self.offset:])


class Replica:
    """A replica attached to this server: the client that sent SYNC/PSYNC, once it became one
    (Redis's client with CLIENT_SLAVE). `io` is the server's link to its socket:
    io.write(data), io.close(), io.buffered() -> bytes not yet sent."""

    __slots__ = ("client", "state", "ack_off", "ack_time", "port", "ip", "capa_eof", "capa_psync2",
                 "pre_psync", "initial_offset", "start_on_ack", "pending", "pending_size", "io",
                 "last_partial_write", "rdb_only", "obuf_soft_since")

    def __init__(self, client: Client) -> None:
        self.client = client
        self.state = WAIT_BGSAVE_START
        self.ack_off = 0
        self.ack_time = time.time()
        self.port = 0  # REPLCONF listening-port
        self.ip = ""  # REPLCONF ip-address ("": the peer's address)
        self.capa_eof = False
        self.capa_psync2 = False
        self.pre_psync = False  # came with SYNC: no offsets, no ACKs
        self.initial_offset = -1  # the offset its RDB corresponds to
        self.start_on_ack = False  # diskless: the stream starts at its first ACK
        self.pending: list[bytes] = []  # stream accumulated while it is not online
        self.pending_size = 0
        self.io = None
        self.last_partial_write = 0.0
        self.rdb_only = False
        self.obuf_soft_since = 0.0

    @property
    def address(self) -> str:
        """The IP Redis shows for it: the announced one, else the peer's."""
        if self.ip:
            return self.ip
        addr = self.client.addr
        host = addr.rsplit(":", 1)[0]
        return host[1:-1] if host.startswith("[") else host

    def name(self) -> str:
        """replicationGetSlaveName: ip:port as announced."""
        host = self.address
        if self.port:
            return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        return f"client id #{self.client.id}"

    @property
    def streaming(self) -> bool:
        """Online and receiving the command stream."""
        return self.state == ONLINE and not self.start_on_ack


class Replication:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        cfg = state.config
        self.replid = random_id()
        self.replid2 = ZERO_ID
        self.master_repl_offset = 0
        self.second_replid_offset = -1
        self.backlog: Backlog | None = None
        self.replicas: list[Replica] = []
        self.seldb = -1  # the database selected in the stream (server.slaveseldb)
        self.out: list[bytes] = []  # stream not yet written to the streaming replicas
        self.no_replicas_since = time.time()
        self.good_replicas = 0
        self.get_ack = False  # a WAIT blocked: send GETACK before sleeping
        self.waiting: dict = {}  # client id -> (client, offset, numreplicas): WAIT
        # --- stats (INFO stats) --------------------------------------------------------------
        self.sync_full = 0
        self.sync_partial_ok = 0
        self.sync_partial_err = 0
        self.net_input = 0
        self.net_output = 0
        # --- as a replica ----------------------------------------------------------------------
        self.masterhost: str | None = None
        self.masterport = 0
        self.link = REPL_NONE  # server.repl_state
        self.master: Client | None = None  # the master's client while the link is up
        self.master_replid = ZERO_ID  # what the master told us in +FULLRESYNC / +CONTINUE
        self.master_initial_offset = -1
        self.reploff = 0  # stream applied (the master client's reploff)
        self.read_reploff = 0  # stream read
        self.cached: tuple[str, int] | None = None  # (replid, reploff) for the next PSYNC
        self.cached_db = 0  # the database the cached master had selected
        self.down_since = 0.0
        self.last_io = 0.0  # the master's last interaction (seconds)
        self.transfer_size = -1
        self.transfer_read = 0
        self.transfer_lastio = 0.0
        # --- failover -----------------------------------------------------------------------------
        self.failover_state = "no-failover"
        self.failover_end = 0  # ms, 0: no timeout
        self.failover_force = False
        self.failover_host: str | None = None
        self.failover_port = 0
        # The server-side driver (server/replication.py): sockets, forks, timers.
        self.io = None
        cfg.on_change("repl-backlog-size", self._resize)
        for name in ("min-replicas-to-write", "min-replicas-max-lag", "replica-read-only",
                     "replica-serve-stale-data"):
            cfg.on_change(name, lambda _v: self.update_gates())

    # --- IDs -------------------------------------------------------------------------------
    def change_replid(self) -> None:
        self.replid = random_id()

    def clear_replid2(self) -> None:
        self.replid2 = ZERO_ID
        self.second_replid_offset = -1

    def shift_replid(self) -> None:
        """A replica becomes a master: its history so far stays valid as ID2 (up to the next
        byte), and a new history starts."""
        self.replid2 = self.replid
        self.second_replid_offset = self.master_repl_offset + 1
        self.change_replid()
        self.log("warning", f"Setting secondary replication ID to {self.replid2}, valid up to offset: "
                 f"{self.second_replid_offset}. New replication ID is {self.replid}")

    # --- the backlog and the stream ---------------------------------------------------------------
    def create_backlog(self) -> None:
        self.backlog = Backlog(self.state.config["repl-backlog-size"], self.master_repl_offset + 1)
        self.update_sink()

    def free_backlog(self) -> None:
        self.backlog = None
        self.update_sink()

    def _resize(self, size: int) -> None:
        if self.backlog is not None:
            self.backlog.resize(size)

    def update_sink(self) -> None:
        """Be a propagation sink while we are a master with a backlog (a replica proxies its
        master's stream instead)."""
        prop = self.state.propagation
        if self.backlog is not None and self.masterhost is None:
            prop.add_sink(self)
        else:
            prop.remove_sink(self)

    def feed(self, dbid: int, argv: list[bytes]) -> None:
        """The propagation sink (replicationFeedSlaves)."""
        if dbid != self.seldb:
            self.seldb = dbid
            self._append(select_command(dbid) + encode_command(argv))
        else:
            self._append(encode_command(argv))
        c = self.state.current_client
        if c is not None:
            c.repl_woff = self.master_repl_offset  # WAIT waits for this client's last write

    def feed_raw(self, data: bytes) -> None:
        """Bytes that are already the stream: PING, REPLCONF GETACK, or (as a replica) the
        part of our master's stream we applied (replicationFeedStreamFromMasterStream)."""
        if self.backlog is not None:
            self._append(data)

    def _append(self, data: bytes) -> None:
        self.backlog.append(data)
        self.master_repl_offset += len(data)
        if self.replicas:
            live = False
            for r in self.replicas:
                if r.state == ONLINE and not r.start_on_ack:
                    live = True
                elif r.state != WAIT_BGSAVE_START and not r.rdb_only:
                    r.pending.append(data)  # what it needs once its RDB is loaded
                    r.pending_size += len(data)
            if live:
                if not self.out:
                    sched = self.state.scheduler
                    if sched is not None:
                        sched.before_sleep(self.flush)
                self.out.append(data)
                if self.state.scheduler is None:
                    self.flush()

    def flush(self) -> None:
        """Write what the stream gained since the last flush to the streaming replicas (once per
        event-loop iteration, as Redis writes its clients' buffers before sleeping)."""
        if not self.out:
            return
        data = b"".join(self.out) if len(self.out) > 1 else self.out[0]
        self.out = []
        for r in list(self.replicas):
            if r.state == ONLINE and not r.start_on_ack and r.io is not None:
                r.io.write(data)

    def start_stream(self, r: Replica) -> None:
        """A replica got its RDB (and, diskless, acknowledged it): what accumulated since its
        snapshot is sent, and the live stream follows (replicaStartCommandStream)."""
        self.flush()  # what the others are owed first: r's copy of it is in r.pending
        r.start_on_ack = False
        data = b"".join(r.pending)
        r.pending = []
        r.pending_size = 0
        if data and r.io is not None:
            r.io.write(data)

    # --- replicas -----------------------------------------------------------------------------
    def attach(self, r: Replica) -> None:
        self.replicas.append(r)
        self.state.set_gate(GATE_REPLICAS, True)

    def detach(self, r: Replica) -> None:
        if r in self.replicas:
            self.replicas.remove(r)
            if not self.replicas:
                self.no_replicas_since = time.time()
                self.state.set_gate(GATE_REPLICAS, False)
            self.refresh_good()

    def can_continue(self, replid: str, offset: int, who: str) -> bool:
        """masterTryPartialResynchronization's test: the history and the bytes are here."""
        if replid != self.replid and (replid != self.replid2 or offset > self.second_replid_offset):
            if replid != "?":
                if replid != self.replid and replid != self.replid2:
                    self.log("notice", "Partial resynchronization not accepted: Replication ID mismatch (Replica "
                             f"asked for '{replid}', my replication IDs are '{self.replid}' and '{self.replid2}')")
                else:
                    self.log("notice", "Partial resynchronization not accepted: Requested offset for second ID "
                             f"was {offset}, but I can reply up to {self.second_replid_offset}")
            else:
                self.log("notice", f"Full resync requested by replica {who}")
            return False
        if self.backlog is None or not self.backlog.has(offset):
            self.log("notice", f"Unable to partial resync with replica {who} for lack of backlog "
                     f"(Replica request was: {offset}).")
            if offset > self.master_repl_offset:
                self.log("warning", f"Warning: replica {who} tried to PSYNC with an offset that is greater "
                         "than the master replication offset.")
            return False
        return True

    def count_acks(self, offset: int) -> int:
        return sum(1 for r in self.replicas if r.state == ONLINE and r.ack_off >= offset)

    def find_replica(self, host: str, port: int) -> Replica | None:
        for r in self.replicas:
            if r.address.lower() == host.lower() and r.port == port:
                return r
        return None

    # --- WAIT ----------------------------------------------------------------------------------
    def wait_for(self, c: Client, offset: int, numreplicas: int) -> None:
        """A client blocked in WAIT: answered by process_waiting() once enough replicas
        acknowledged `offset`; a GETACK goes to the replicas before the loop sleeps."""
        self.waiting[c.id] = (c, offset, numreplicas)
        self.request_ack()

    def wait_timed_out(self, c: Client, offset: int) -> int:
        """WAIT's timeout (or CLIENT UNBLOCK): the replicas that acknowledged so far."""
        self.waiting.pop(c.id, None)
        return self.count_acks(offset)

    def request_ack(self) -> None:
        """replicationRequestAckFromSlaves: one GETACK for every WAIT of this iteration."""
        if not self.get_ack:
            self.get_ack = True
            sched = self.state.scheduler
            if sched is not None:
                sched.before_sleep(self.send_getack)

    def send_getack(self) -> None:
        self.get_ack = False
        if self.masterhost is None and self.replicas and self.backlog is not None and not self.paused():
            self.feed_raw(GETACK)

    def paused(self) -> bool:
        """Clients are paused (a FAILOVER in progress): the stream must not move."""
        pause = getattr(self.state, "pause", None)
        return pause is not None and pause.paused()

    def process_waiting(self) -> None:
        """processClientsWaitingReplicas: answer the WAITs that enough replicas acknowledged."""
        if not self.waiting:
            return
        from .blocking import manager

        m = manager(self.state)
        last_off = last_n = 0
        for cid, (c, off, n) in list(self.waiting.items()):
            if cid not in m.by_client:  # gone (disconnected)
                del self.waiting[cid]
                continue
            if last_off and last_off >= off and last_n >= n:
                got = last_n
            else:
                got = self.count_acks(off)
                if got < n:
                    continue
                last_off, last_n = off, got
            del self.waiting[cid]
            m.release(cid, got)

    def refresh_good(self) -> None:
        """refreshGoodSlavesCount: online replicas whose last ACK is recent enough."""
        cfg = self.state.config
        to_write, max_lag = cfg["min-replicas-to-write"], cfg["min-replicas-max-lag"]
        if not to_write or not max_lag:
            return
        now = int(time.time())
        self.good_replicas = sum(1 for r in self.replicas
                                 if r.state == ONLINE and now - int(r.ack_time) <= max_lag)
        self.update_gates()

    def update_gates(self) -> None:
        """GATE_READONLY (NOREPLICAS, READONLY) and GATE_STALE (MASTERDOWN) on only while they
        can refuse something."""
        cfg = self.state.config
        write_gate = (self.masterhost is not None and cfg["replica-read-only"]) or (
            self.masterhost is None and cfg["min-replicas-to-write"] > 0 and cfg["min-replicas-max-lag"] > 0)
        self.state.set_gate(GATE_READONLY, write_gate)
        self.state.set_gate(GATE_STALE, self.masterhost is not None and self.link != REPL_CONNECTED
                            and not cfg["replica-serve-stale-data"])

    def write_refused(self, c: Client) -> str | None:
        """The NOREPLICAS and READONLY steps of processCommand, for a write command."""
        if self.masterhost is None:
            cfg = self.state.config
            if cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"] and \
                    self.good_replicas < cfg["min-replicas-to-write"]:
                return NOREPLICAS
            return None
        if c is self.master:
            return None
        if self.state.config["replica-read-only"]:
            return READONLY
        return None

    def rdb_aux(self) -> dict[bytes, bytes] | None:
        """rdbPopulateSaveInfo + rdbSaveInfoAuxFields: the replication info an RDB carries (the
        database the stream has selected, our ID and offset), when we are in a chain."""
        if self.masterhost is None and self.backlog is not None:
            db = 0 if self.seldb == -1 else self.seldb
        elif self.master is not None:
            db = self.master.db.id
        elif self.cached is not None:
            db = self.cached_db
        else:
            return None
        return {b"repl-stream-db": b"%d" % db, b"repl-id": self.replid.encode(),
                b"repl-offset": b"%d" % self.master_repl_offset}

    # --- as a replica -------------------------------------------------------------------------------
    @property
    def handshaking(self) -> bool:
        return self.link == REPL_HANDSHAKE

    def slave_offset(self) -> int:
        """replicationGetSlaveOffset."""
        if self.masterhost is None:
            return 0
        if self.master is not None:
            return max(self.reploff, 0)
        if self.cached is not None:
            return max(self.cached[1], 0)
        return 0

    def set_link(self, link: str) -> None:
        self.link = link
        self.update_gates()

    # --- INFO and ROLE --------------------------------------------------------------------------
    def info_fields(self) -> list[tuple[str, object]]:
        cfg = self.state.config
        now = time.time()
        fields: list[tuple[str, object]] = [("role", "master" if self.masterhost is None else "slave")]
        if self.masterhost is not None:
            if self.master is not None or self.cached is not None:
                off, read = (self.reploff, self.read_reploff) if self.master is not None else (self.cached[1],) * 2
            else:
                off = read = 1
            fields += [
                ("master_host", self.masterhost),
                ("master_port", self.masterport),
                ("master_link_status", "up" if self.link == REPL_CONNECTED else "down"),
                ("master_last_io_seconds_ago", int(now - self.last_io) if self.master is not None else -1),
                ("master_sync_in_progress", 1 if self.link == REPL_TRANSFER else 0),
                ("slave_read_repl_offset", read),
                ("slave_repl_offset", off),
            ]
            if self.link == REPL_TRANSFER:
                size = self.transfer_size
                perc = (self.transfer_read / size * 100) if size > 0 else 0
                fields += [
                    ("master_sync_total_bytes", size),
                    ("master_sync_read_bytes", self.transfer_read),
                    ("master_sync_left_bytes", size - self.transfer_read),
                    ("master_sync_perc", "%.2f" % perc),
                    ("master_sync_last_io_seconds_ago", int(now - self.transfer_lastio)),
                ]
            if self.link != REPL_CONNECTED:
                fields.append(("master_link_down_since_seconds",
                               int(now) - int(self.down_since) if self.down_since else -1))
            fields += [
                ("slave_priority", cfg["replica-priority"]),
                ("slave_read_only", 1 if cfg["replica-read-only"] else 0),
                ("replica_announced", 1 if cfg["replica-announced"] else 0),
            ]
        fields.append(("connected_slaves", len(self.replicas)))
        if cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"]:
            fields.append(("min_slaves_good_slaves", self.good_replicas))
        i = 0
        for r in self.replicas:
            shown = "wait_bgsave" if r.state in (WAIT_BGSAVE_START, WAIT_BGSAVE_END) else r.state
            lag = int(now) - int(r.ack_time) if r.state == ONLINE else 0
            fields.append((f"slave{i}", f"ip={r.address},port={r.port},state={shown},offset={r.ack_off},lag={lag}"))
            i += 1
        b = self.backlog
        fields += [
            ("master_failover_state", self.failover_state),
            ("master_replid", self.replid),
            ("master_replid2", self.replid2),
            ("master_repl_offset", self.master_repl_offset),
            ("second_repl_offset", self.second_replid_offset),
            ("repl_backlog_active", 1 if b is not None else 0),
            ("repl_backlog_size", cfg["repl-backlog-size"]),
            ("repl_backlog_first_byte_offset", b.offset if b is not None else 0),
            ("repl_backlog_histlen", b.histlen if b is not None else 0),
        ]
        return fields

    def role_reply(self) -> list:
        if self.masterhost is None:
            return [b"master", self.master_repl_offset,
                    [[r.address.encode(), str(r.port).encode(), str(r.ack_off).encode()]
                     for r in self.replicas if r.state == ONLINE]]
        link = {REPL_CONNECT: "connect", REPL_CONNECTING: "connecting", REPL_HANDSHAKE: "handshake",
                REPL_TRANSFER: "sync", REPL_CONNECTED: "connected"}.get(self.link, "none")
        return [b"slave", self.masterhost.encode(), self.masterport, link.encode(),
                self.reploff if self.master is not None else -1]

    def log(self, level: str, msg: str) -> None:
        srv = self.state.server
        if srv is not None:
            srv.log(level, msg)


