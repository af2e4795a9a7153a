"""RedisServer: Config -> listening sockets -> cron -> shutdown. One event loop, one thread.

The server owns what needs the event loop: the connections, the cron (whose handlers include
persistence's, built here as Persistence(state, log, fatal) and loaded before listening), the
scheduler layers below use (scheduler.py), and the group commit that holds replies until the
AOF has the writes they acknowledge (group_commit.py).

API:
    srv = RedisServer(config)
    await srv.start()          # binds; srv.port is the actual port (port 0 picks a free one)
    await srv.serve()          # until SHUTDOWN / SIGTERM / srv.request_shutdown()
    srv.log(level, message)    # Redis-style log lines
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import sys
import threading
import time

from ..config import Config
from ..core.state import ServerState
from ..keyspace.expiry import ActiveExpiry
from ..version import __version__
from . import tls
from .connection import Connection, tls_reason
from ..protocol.encoder import use_short_doubles
from .group_commit import GroupCommit
from .scheduler import LoopScheduler

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
MARKS = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


# Directives pyredis accepts and shows but does not honour: a value other than the default
# warns at start-up and on CONFIG SET (no silent no-ops). tls.not_implemented adds the tls-* ones.
NOT_IMPLEMENTED: dict[str, str] = {}

# Errors that make an optional bind address ("-::1") skip silently, as Redis's listenToPort.
_OPTIONAL_BIND_ERRNOS = {errno.ENOPROTOOPT, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT, errno.EAFNOSUPPORT,
                         errno.EADDRNOTAVAIL}


class RedisServer:
    def __init__(self, config: Config | None = None, state: ServerState | None = None,
                 free_port: bool = False) -> None:
        self.config = config or Config()
        self.state = state or ServerState(self.config)
        self.state.server = self  # back-reference for commands that act on the process
        # Listening servers by kind: "tcp", "tls", "unix" (Redis's ipfd, tlsfd, sofd).
        self.listeners: dict[str, list[asyncio.base_events.Server]] = {"tcp": [], "tls": [], "unix": []}
        # free_port: `port 0` picks a free port (embedded servers) instead of Redis's "no TCP".
        self.free_port = free_port
        self.port = 0
        self.tls_port = 0
        self.tls_context = None  # ssl.SSLContext while TLS is configured (server/tls.py)
        self.handshakes: set[asyncio.Task] = set()  # TLS connections accepted, handshake running
        self.connections: dict[int, Connection] = {}
        self._stop: asyncio.Event | None = None
        self._cron_handle: asyncio.TimerHandle | None = None
        self._shutdown_signal = False  # SIGTERM/SIGINT received: shut down from the cron
        self.active_expiry = ActiveExpiry()
        self.group_commit = GroupCommit(self.state)
        self.cronloops = 0
        self._logfile = None
        self.disconnect_hooks: list = [self.state.pubsub.drop_client, self.state.tracking.client_gone,
                                       self.state.client_limits.forget]
        self.shutdown_hooks: list = []

    # --- logging ---------------------------------------------------------------------
    def log(self, level: str, msg: str) -> None:
        if LEVELS.get(level, 2) < LEVELS.get(self.config["loglevel"], 2):
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
        role = "S" if self.state.repl.masterhost is not None else "M"  # Redis's role character
        line = f"{os.getpid()}:{role} {stamp} {MARKS.get(level, '*')} {msg}\n"
        logfile = self.config["logfile"]
        if logfile:
            if self._logfile is None:
                self._logfile = open(logfile, "a", buffering=1)
            self._logfile.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.state.scheduler = LoopScheduler(loop)
        # 7.2's double formatting for everything this loop's thread formats (protocol/encoder.py)
        use_short_doubles(self.state.compat.at_least("7.2"))
        self._stop = asyncio.Event()
        cfg = self.config
        from ..errors import PersistenceError
        from ..persistence.manager import Persistence

        from ..core.acl import StartupRefused

        try:  # ACL users of the configuration or the aclfile (Redis's ACLLoadUsersAtStartup)
            self.state.acl.load_at_startup()
        except StartupRefused as e:
            self.log("warning", str(e))
            raise StartupError(str(e)) from None
        self.persistence = Persistence(self.state, self.log, self.fatal)
        self.state.hz_cron_handlers.append(self.persistence.cron)
        # As Redis's initServer: TLS is configured before the data is loaded and the ports opened.
        if tls.tls_enabled(cfg):
            try:
                self.tls_context = tls.build_context(cfg, self.log)
            except tls.TLSError:
                self.log("warning", "Failed to configure TLS. Check logs for more info.")
                raise StartupError("Failed to configure TLS") from None
        try:
            self.persistence.load_on_startup()
        except (PersistenceError, OSError, ValueError) as e:
            self.log("warning", f"Fatal error loading the DB: {e}. Exiting.")
            raise StartupError(str(e)) from None
        if cfg["port"] or self.free_port:
            self.port = self._listen("tcp", cfg["port"])
            if not self.port:
                self.log("warning", f"Failed listening on port {cfg['port']} (TCP), aborting.")
                raise StartupError("Failed listening on port (TCP)")
            cfg.values["port"] = self.port
        if cfg["tls-port"]:
            self.tls_port = self._listen("tls", cfg["tls-port"])
            if not self.tls_port:
                self.log("warning", f"Failed listening on port {cfg['tls-port']} (TLS), aborting.")
                raise StartupError("Failed listening on port (TLS)")
        if cfg["unixsocket"]:
            self._listen_unix(cfg["unixsocket"], cfg["unixsocketperm"])
        if not any(self.listeners.values()):
            self.log("warning", "Configured to not listen anywhere, exiting.")
            raise StartupError("Configured to not listen anywhere")
        self.state.tcp_port = self.port or self.tls_port
        # Replication: the driver of state.repl (server/replication.py); `replicaof` connects now.
        from .replication import ReplicationIO

        self.replication = ReplicationIO(self)
        self.replication.start()
        cfg.on_apply(["port"], lambda: self._change_port("tcp"))
        cfg.on_apply(["tls-port"], lambda: self._change_port("tls"))
        cfg.on_apply(["bind"], self._change_bind)
        cfg.on_apply(tls.TLS_DIRECTIVES, self._apply_tls, volatile=tls.TLS_FILES)
        for name in (*NOT_IMPLEMENTED, *tls.TLS_DIRECTIVES):
            cfg.on_change(name, lambda _v, name=name: self._warn_not_implemented(only=name))
        self._warn_not_implemented()
        self._schedule_cron()
        compat = self.state.compat
        self.log("notice", f"pyredis {__version__} ({compat.server_name.capitalize()} {compat.version} compatible: "
                 f"compat-version {compat.mode}) started, "
                 f"port={self.port or self.tls_port}, pid={os.getpid()}")
        self.log("notice", "Ready to accept connections")

    # --- listeners -------------------------------------------------------------------
    def _listen(self, kind: str, port: int) -> int:
        """Redis's listenToPort: a listening socket per bind address ("-addr": skipped when
        the address does not exist here), served by the loop. Returns the port (0: failed,
        logged; nothing is left open)."""
        socks: list[socket.socket] = []
        for addr in self.config["bind"] or ["127.0.0.1", "-::1"]:
            optional = addr.startswith("-")
            host = addr[1:] if optional else addr
            host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError as e:
                if optional and e.errno in _OPTIONAL_BIND_ERRNOS:
                    continue
                raise
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((host, port))
                sock.listen(self.config["tcp-backlog"])
                sock.setblocking(False)
            except OSError as e:
                sock.close()
                if optional and e.errno in _OPTIONAL_BIND_ERRNOS:
                    continue
                self.log("warning", f"Warning: Could not create server TCP listening socket {host}:{port}: "
                         f"{e.strerror}")
                for s in socks:
                    s.close()
                return 0
            socks.append(sock)
            if not port:
                port = sock.getsockname()[1]  # a free port (embedded servers): the others follow
        if not socks:
            return 0
        self._serve(kind, socks)
        return port

    def _serve(self, kind: str, socks: list[socket.socket]) -> None:
        """The loop accepts on these (already listening) sockets from its next iteration on."""
        loop = asyncio.get_running_loop()
        for sock in socks:
            listener = _Listener(sock)
            self.listeners[kind].append(listener)
            if kind == "tls":
                listener.task = loop.create_task(self._accept_tls(listener))
            else:
                listener.task = loop.create_task(listener.serve(loop, lambda: Connection(self, kind)))

    async def _accept_tls(self, listener: _Listener) -> None:
        """The TLS listener's accept loop: each socket is admitted (maxclients), then its
        handshake runs on its own, and a failed one is logged as Redis does and costs that
        connection only (loop.connect_accepted_socket raises what OpenSSL said)."""
        loop = asyncio.get_running_loop()
        while not listener.closed:
            try:
                sock, _ = await loop.sock_accept(listener.sock)
            except OSError as e:
                if listener.closed:
                    return
                self.log("warning", f"Accepting client connection: {e.strerror}")
                await asyncio.sleep(0.1)  # out of descriptors: let some close
                continue
            sock.setblocking(False)
            task = loop.create_task(self._tls_client(sock))
            self.handshakes.add(task)
            task.add_done_callback(self.handshakes.discard)

    async def _tls_client(self, sock: socket.socket) -> None:
        conn = Connection(self, "tls")
        if not conn.admit(sock, None):
            return
        ctx = self.tls_context
        tls.set_client_auth(ctx, self.config)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(lambda: conn, sock=sock, ssl=ctx)
        except Exception as e:  # a failed handshake: logged, that socket closed, nothing else
            self.log("warning", f"Error accepting a client connection: {tls_reason(e)} (conn: fd={conn.fd})")
            conn.closed = True
            sock.close()

    def _listen_unix(self, path: str, perm: int) -> None:
        try:
            os.unlink(path)  # as Redis: a stale socket file from a previous run
        except OSError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            if perm:
                os.chmod(path, perm)
            sock.listen(self.config["tcp-backlog"])
            sock.setblocking(False)
        except OSError as e:
            sock.close()
            self.log("warning", f"Failed opening Unix socket: {e.strerror}")
            raise StartupError("Failed opening Unix socket") from None
        self._serve("unix", [sock])

    def _close_listeners(self, kind: str) -> None:
        for listener in self.listeners[kind]:
            listener.close()
        self.listeners[kind] = []

    def _change_port(self, kind: str) -> None:
        """CONFIG SET port / tls-port (Redis's changeListenPort): the old listeners close (the
        connections stay), then the new port opens; 0 only closes."""
        name = "port" if kind == "tcp" else "tls-port"
        port = self.config[name]
        if kind == "tls" and self.tls_context is None:
            self._apply_tls(force=True)
        self._close_listeners(kind)
        got = self._listen(kind, port) if port else 0
        if port and not got:
            raise ValueError("Unable to listen on this port. Check server logs.")
        if kind == "tcp":
            self.port = got
        else:
            self.tls_port = got
        self.state.tcp_port = self.port or self.tls_port

    def _change_bind(self) -> None:
        """CONFIG SET bind (Redis's changeBindAddr): TCP and TLS listeners reopen on the new
        addresses."""
        self._close_listeners("tcp")
        self._close_listeners("tls")
        ok = True
        # the ports as configured now: a CONFIG SET of bind and port together binds the new
        # addresses to the new port (Redis sets every value before it applies any)
        port, tls_port = self.config["port"], self.config["tls-port"]
        if port:
            ok = self._listen("tcp", port) != 0
        if ok and tls_port:
            ok = self._listen("tls", tls_port) != 0
        if not ok:
            self.log("warning", "Failed to bind")
            self._close_listeners("tcp")
            self._close_listeners("tls")
            raise ValueError("Failed to bind to specified addresses.")

    def _apply_tls(self, force: bool = False) -> None:
        """CONFIG SET of a tls-* directive (Redis's applyTlsCfg): a new context from the files,
        for the connections accepted from now on; on failure the old one stays."""
        if force or tls.tls_enabled(self.config):
            try:
                self.tls_context = tls.build_context(self.config, self.log)
            except tls.TLSError:
                raise ValueError("Unable to update TLS configuration. Check server logs.") from None

    def _warn_not_implemented(self, only: str | None = None) -> None:
        cfg = self.config
        from ..config import TABLE

        items = [(n, why) for n, why in NOT_IMPLEMENTED.items() if cfg[n] != TABLE[n].default]
        items += tls.not_implemented(cfg)
        for name, why in items:
            if only is None or name == only:
                self.log("warning", f"{name} is set but not implemented by pyredis ({why}): it has no effect.")

    def _schedule_cron(self) -> None:
        hz = max(1, min(500, self.config["hz"] or 10))
        loop = asyncio.get_running_loop()
        self._cron_handle = loop.call_later(1.0 / hz, self._cron)

    def _cron(self) -> None:
        """serverCron: active expiry, cron handlers (AOF fsync, save points, timeouts)."""
        state = self.state
        self.cronloops += 1
        if not state.time_frozen:
            state.now_cache = state.clock_ms()
        # While a script runs past busy-reply-threshold, Redis's serverCron does not run (only
        # its whileBlockedCron): no expiry, no save points, no rewrite, no signalled shutdown
        # -- nothing may persist or change a half-run script's writes.
        busy = state.busy_script is not None
        try:
            if not busy:
                # a replica expires nothing itself: its master's DELs do (Redis's databasesCron);
                # nor while clients are paused: the dataset stays as it is (core/pause.py)
                if state.active_expire_enabled and not state.time_frozen and state.repl.masterhost is None \
                        and not state.pause.paused():
                    t0 = time.perf_counter()
                    self.active_expiry.cycle(state.dbs, state.now_ms, self.config["hz"] or 10,
                                             self.config["active-expire-effort"])
                    if state.latency_us:
                        state.latency.add_if_needed("expire-cycle", int((time.perf_counter() - t0) * 1000))
                elif state.repl.masterhost is not None and getattr(self, "replication", None) is not None:
                    self.replication.expire_replica_keys()  # a writable replica's own TTLs
                state.stats.expired_stale_perc = self.active_expiry.stale_perc
                state.stats.expired_time_cap_reached_count = self.active_expiry.time_cap_reached
                for handler in state.hz_cron_handlers:
                    handler()
        except Exception as e:  # pragma: no cover - the cron must survive a bug in a handler
            self.log("warning", f"cron error: {e!r}")
        if state.shutdown_requested is not None or (self._shutdown_signal and not busy):
            self.request_shutdown()
        if self._stop is not None and not self._stop.is_set():
            self._schedule_cron()

    def request_shutdown(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def fatal(self, msg: str) -> None:
        """An error the server cannot survive without breaking a promise (an AOF write or
        fsync failing under appendfsync always): log it and exit(1) at once, as Redis does,
        without flushing anything more. An embedded server (in a thread of another program)
        stops instead of taking its host process down."""
        self.log("warning", msg)
        if threading.current_thread() is threading.main_thread():
            os._exit(1)
        for conn in list(self.connections.values()):
            if conn.transport is not None:
                conn.transport.abort()
        self.request_shutdown()

    def on_signal(self, sig: int) -> None:
        """SIGTERM / SIGINT (Redis's sigShutdownHandler): shut down from the cron, once no
        script is running; a second SIGINT exits at once."""
        if self._shutdown_signal and sig == signal.SIGINT:
            self.log("warning", "You insist... exiting now.")
            os._exit(1)
        name = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}.get(sig)
        self.log("warning", f"Received {name} scheduling shutdown..." if name
                 else "Received shutdown signal, scheduling shutdown...")
        self._shutdown_signal = True

    async def serve(self) -> None:
        assert self._stop is not None
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        self.log("warning", "User requested shutdown...")
        if self._cron_handle is not None:
            self._cron_handle.cancel()
        await self._wait_for_replicas()
        p = getattr(self, "persistence", None)
        if p is not None and not self.state.shutdown_prepared:
            req = self.state.shutdown_requested
            try:
                p.prepare_shutdown(req[0] if req else None, force=True)
            except Exception as e:
                self.log("warning", f"Error preparing shutdown: {e}")
        for hook in self.shutdown_hooks:
            try:
                hook()
            except Exception as e:
                self.log("warning", f"Error during shutdown: {e!r}")
        had_unix = bool(self.listeners["unix"])
        servers = [lst.server for kind in self.listeners.values() for lst in kind if lst.server is not None]
        for kind in self.listeners:
            self._close_listeners(kind)
        for task in list(self.handshakes):
            task.cancel()
        for conn in list(self.connections.values()):
            conn.close()
        for srv in servers:
            try:
                await asyncio.wait_for(srv.wait_closed(), 1.0)
            except (asyncio.TimeoutError, Exception):
                pass
        if had_unix:
            self.log("notice", "Removing the unix socket file.")
            try:
                os.unlink(self.config["unixsocket"])
            except OSError as e:
                self.log("warning", f"Error removing the unix socket file: {e.strerror}")
        self.log("warning", "pyredis is now ready to exit, bye bye...")
        if self._logfile is not None:
            self._logfile.close()
            self._logfile = None

    def obuf_limits_changed(self) -> None:
        """CONFIG SET client-output-buffer-limit: every connection's backpressure mark."""
        for conn in list(self.connections.values()):
            conn.set_buffer_limits()

    async def _wait_for_replicas(self) -> None:
        """Redis 7.0's shutdown-timeout: with replicas that have not acknowledged the whole
        stream, writes are held and the shutdown waits (up to shutdown-timeout seconds, not
        with SHUTDOWN NOW) for their ACKs, so they keep every write the master answered."""
        repl = self.state.repl
        req = self.state.shutdown_requested
        timeout = self.config["shutdown-timeout"]
        if not repl.replicas or not timeout or (req is not None and req[1]):
            return

        def ready() -> bool:
            return all(r.ack_off == repl.master_repl_offset for r in repl.replicas)
        if ready():
            return
        self.log("notice", "Waiting for replicas before shutting down.")
        pause = self.state.pause
        pause.failover(True)  # writes held as during a failover (PAUSE_DURING_SHUTDOWN)
        try:
            deadline = time.monotonic() + timeout
            while not ready() and time.monotonic() < deadline and repl.replicas:
                repl.flush()
                await asyncio.sleep(0.01)
        finally:
            pause.failover(False)
        lagging = [r for r in repl.replicas if r.ack_off != repl.master_repl_offset]
        for r in lagging:
            self.log("warning", f"Lagging replica {r.name()} reported offset {r.ack_off} behind master, lag="
                     f"{int(time.time() - r.ack_time)}, state={r.state}.")
        n = len(repl.replicas)
        self.log("notice", f"{n - len(lagging)} of {n} replicas are in sync when shutting down.")

    def client_gone(self, client) -> None:
        self.state.clients.pop(client.id, None)
        self.connections.pop(client.id, None)
        for hook in self.disconnect_hooks:
            hook(client)


class _Listener:
    """One listening socket; its asyncio server exists from the loop's next iteration."""

    __slots__ = ("sock", "server", "closed", "task")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.server = None
        self.closed = False
        self.task = None

    async def serve(self, loop, factory) -> None:
        try:
            srv = await loop.create_server(factory, sock=self.sock)
        except Exception:  # closed before the loop got to it
            return
        if self.closed:
            srv.close()
        else:
            self.server = srv

    def close(self) -> None:
        self.closed = True
        if self.server is not None:
            self.server.close()
        else:
            if self.task is not None:
                self.task.cancel()
            self.sock.close()


class StartupError(Exception):
    """The server cannot start (bad data files, ports); the message says why."""




def install_event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def run_until_stopped(srv: RedisServer, ready=None) -> None:
    await srv.start()
    if ready is not None:
        ready()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, srv.on_signal, signal.SIGINT)
        loop.add_signal_handler(signal.SIGTERM, srv.on_signal, signal.SIGTERM)
    except (RuntimeError, ValueError):
        pass  # not the main thread (embedded server)
    await srv.serve()
