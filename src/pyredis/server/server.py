"""RedisServer: Config -> listening sockets -> cron -> shutdown. One event loop, one thread.

The server owns what needs the event loop: the connections, the cron (whose handlers include
persistence's, built here as Persistence(state, log) and loaded before listening), the
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
import time

from ..config import Config
from ..core.state import ServerState
from ..keyspace.expiry import ActiveExpiry
from ..version import REDIS_VERSION, __version__
from .connection import Connection
from .group_commit import GroupCommit
from .scheduler import LoopScheduler

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
MARKS = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


class RedisServer:
    def __init__(self, config: Config | None = None, state: ServerState | None = None) -> None:
        self.config = config or Config()
        self.state = state or ServerState(self.config)
        self.state.server = self  # back-reference for commands that act on the process
        self.servers: list[asyncio.base_events.Server] = []
        self.port = 0
        self.connections: dict[int, Connection] = {}
        self._stop: asyncio.Event | None = None
        self._cron_handle: asyncio.TimerHandle | None = None
        self.active_expiry = ActiveExpiry()
        self.group_commit = GroupCommit(self.state)
        self.cronloops = 0
        self._logfile = None
        self.disconnect_hooks: list = [self.state.pubsub.drop_client, self.state.tracking.client_gone]
        self.listeners: dict[tuple[str, int], object] = {}  # (host, port) -> asyncio server or _Pending
        self.config.log = self.log
        self.shutdown_hooks: list = []

    # --- logging ---------------------------------------------------------------------
    def log(self, level: str, msg: str) -> None:
        if LEVELS.get(level, 2) < LEVELS.get(self.config["loglevel"], 2):
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
        line = f"{os.getpid()}:M {stamp} {MARKS.get(level, '*')} {msg}\n"
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
        self.persistence = Persistence(self.state, self.log)
        self.state.hz_cron_handlers.append(self.persistence.cron)
        try:
            self.persistence.load_on_startup()
        except (PersistenceError, OSError, ValueError) as e:
            self.log("warning", f"Fatal error loading the DB: {e}. Exiting.")
            raise StartupError(str(e)) from None
        port = cfg["port"]
        for host, optional in self._bind_addresses():
            try:
                srv = await loop.create_server(
                    lambda: Connection(self), host, port or self.port, reuse_address=True,
                    backlog=cfg["tcp-backlog"],
                )
            except OSError as e:
                if optional:
                    continue
                raise OSError(e.errno, f"Could not create server TCP listening socket {host}:{port or self.port}: {e.strerror}") from e
            self.servers.append(srv)
            if not self.port:
                self.port = srv.sockets[0].getsockname()[1]
            self.listeners[(host, self.port)] = srv
        if not self.servers:
            raise OSError("Failed listening on any address")
        self.state.tcp_port = self.port
        cfg.values["port"] = self.port
        cfg.appliers["port"] = lambda c: self._change_listeners("Unable to listen on this port. Check server logs.")
        cfg.appliers["bind"] = lambda c: self._change_listeners("Failed to bind to specified addresses.")
        self._schedule_cron()
        self.log("notice", f"pyredis {__version__} (Redis {REDIS_VERSION} compatible) started, port={self.port}, pid={os.getpid()}")
        self.log("notice", "Ready to accept connections tcp")

    def _bind_addresses(self) -> list[tuple[str, bool]]:
        """The bind directive as (host, optional) pairs ("-addr" may be unavailable)."""
        out = []
        for addr in self.config["bind"] or ["127.0.0.1", "-::1"]:
            host = addr.lstrip("-")
            out.append(("0.0.0.0" if host == "*" else host, addr.startswith("-")))
        return out

    def _change_listeners(self, error: str) -> None:
        """CONFIG SET port / bind (Redis's updatePort and applyBind): listen on the configured
        addresses and port (none for port 0), keeping the sockets that stay, closing the
        others. ValueError(error) when a required address cannot be bound: the old
        listeners are then untouched, which is where Redis's rollback brings it back."""
        port = self.config["port"]
        wanted = [] if port == 0 else [((h, port), opt) for h, opt in self._bind_addresses()]
        fresh: dict[tuple[str, int], socket.socket] = {}
        for key, optional in wanted:
            if key in self.listeners or key in fresh:
                continue
            try:
                fresh[key] = socket.create_server(key, family=socket.AF_INET6 if ":" in key[0] else socket.AF_INET,
                                                  backlog=self.config["tcp-backlog"])
            except OSError as e:
                if optional and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
                    continue
                self.log("warning", f"Warning: Could not create server TCP listening socket {key[0]}:{key[1]}: "
                                    f"bind: {e.strerror}")
                for sock in fresh.values():
                    sock.close()
                raise ValueError(error) from None
        keep = {key for key, _ in wanted}
        for key in [k for k in self.listeners if k not in keep]:
            self.listeners.pop(key).close()
        for key, sock in fresh.items():
            self.listeners[key] = _Pending(self, sock)
        if wanted:
            self.state.tcp_port = port

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
        try:
            if state.active_expire_enabled and not state.time_frozen:  # not under a busy script
                self.active_expiry.cycle(state.dbs, state.now_ms, self.config["hz"] or 10,
                                         self.config["active-expire-effort"])
            state.stats.expired_stale_perc = self.active_expiry.stale_perc
            state.stats.expired_time_cap_reached_count = self.active_expiry.time_cap_reached
            for handler in state.hz_cron_handlers:
                handler()
        except Exception as e:  # pragma: no cover - the cron must survive a bug in a handler
            self.log("warning", f"cron error: {e!r}")
        if state.shutdown_requested is not None:
            self.request_shutdown()
        if self._stop is not None and not self._stop.is_set():
            self._schedule_cron()

    def request_shutdown(self) -> None:
        if self._stop is not None:
            self._stop.set()

    async def serve(self) -> None:
        assert self._stop is not None
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        self.log("warning", "User requested shutdown...")
        if self._cron_handle is not None:
            self._cron_handle.cancel()
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
        for srv in self.servers:
            srv.close()
        for srv in self.listeners.values():
            srv.close()
        for conn in list(self.connections.values()):
            conn.close()
        for srv in self.servers:
            try:
                await asyncio.wait_for(srv.wait_closed(), 1.0)
            except (asyncio.TimeoutError, Exception):
                pass
        self.log("warning", "pyredis is now ready to exit, bye bye...")
        if self._logfile is not None:
            self._logfile.close()
            self._logfile = None

    def client_gone(self, client) -> None:
        self.state.clients.pop(client.id, None)
        self.connections.pop(client.id, None)
        for hook in self.disconnect_hooks:
            hook(client)


class _Pending:
    """A listening socket bound by CONFIG SET port/bind, served once its asyncio server starts
    (connections wait in the kernel's backlog meanwhile)."""

    def __init__(self, srv: RedisServer, sock: socket.socket) -> None:
        self.sock = sock
        self.server = None
        self.closed = False
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(loop.create_server(lambda: Connection(srv), sock=sock))
        self.task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        self.server = task.result()
        if self.closed:
            self.server.close()

    def close(self) -> None:
        self.closed = True
        if self.server is not None:
            self.server.close()
        elif not self.task.done():
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
        loop.add_signal_handler(signal.SIGINT, srv.request_shutdown)
        loop.add_signal_handler(signal.SIGTERM, srv.request_shutdown)
    except (RuntimeError, ValueError):
        pass  # not the main thread (embedded server)
    await srv.serve()
