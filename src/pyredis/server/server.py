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

from ..config import TABLE, Config, check_locale
from ..core.client import resize_reply_buffer
from ..core.state import ServerState
from ..keyspace.expiry import ActiveExpiry
from .. import compiled
from ..version import __version__
from . import tls
from .connection import Connection, tls_reason
from ..protocol.encoder import use_short_doubles
from .group_commit import GroupCommit
from .process import OomScore, Syslog, disable_thp, set_affinity
from .scheduler import LoopScheduler

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
MARKS = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


# Directives pyredis accepts and shows but does not honour: a value other than the default
# warns at start-up and on CONFIG SET (no silent no-ops). tls.not_implemented adds the tls-* ones.
# The README lists them (tests/test_directives.py checks that it does).
_NO_REPLICATION = "pyredis's replication does not implement it"
_NO_CLUSTER = "pyredis is not a cluster node"
_NO_DEFRAG = "pyredis has no active defragmentation (Python manages its memory)"
NOT_IMPLEMENTED: dict[str, str] = {
    **dict.fromkeys((
        "propagation-error-behavior", "replica-ignore-disk-write-errors", "replica-lazy-flush",
        "replica-ignore-maxmemory", "rdb-del-sync-files"),
        _NO_REPLICATION),
    **dict.fromkeys((
        "cluster-enabled", "cluster-config-file", "cluster-node-timeout", "cluster-port",
        "cluster-replica-validity-factor", "cluster-migration-barrier", "cluster-allow-replica-migration",
        "cluster-require-full-coverage", "cluster-replica-no-failover", "cluster-allow-reads-when-down",
        "cluster-allow-pubsubshard-when-down", "cluster-link-sendbuf-limit", "cluster-announce-ip",
        "cluster-announce-hostname", "cluster-announce-port", "cluster-announce-bus-port",
        "cluster-announce-tls-port", "cluster-preferred-endpoint-type"), _NO_CLUSTER),
    **dict.fromkeys(("active-defrag-ignore-bytes", "active-defrag-threshold-lower",
                     "active-defrag-threshold-upper", "active-defrag-cycle-min", "active-defrag-cycle-max",
                     "active-defrag-max-scan-fields"), _NO_DEFRAG),
    "jemalloc-bg-thread": "pyredis does not use jemalloc",
    "io-threads": "pyredis serves every client from one event loop thread",
    "io-threads-do-reads": "pyredis serves every client from one event loop thread",
    "activerehashing": "Python dicts resize at once: there is no incremental rehashing to do",
    "list-compress-depth": "pyredis does not compress list nodes",
    "crash-memcheck-enabled": "pyredis runs no memory test after a crash",
    "always-show-logo": "pyredis prints no ASCII logo",
    "proc-title-template": "pyredis does not set its process title",
    "loading-process-events-interval-bytes": "pyredis serves no client while it loads its data",
    "ignore-warnings": "pyredis emits none of the warnings it silences",
    "bind-source-addr": "pyredis does not bind its outgoing connections (the replication link)",
    # the later modes' own (Directive.since): they warn only in a mode that has them
    **dict.fromkeys(("cluster-announce-human-nodename", "cluster-ping-interval", "cluster-announce-client-ipv4",
                     "cluster-announce-client-ipv6", "cluster-blacklist-ttl", "cluster-slot-stats-enabled"),
                    _NO_CLUSTER),
    "activedefrag": _NO_DEFRAG,  # (7.0 mode refuses `yes`, as a Redis built without jemalloc)
    "locale-collate": "pyredis compares strings (SORT ... ALPHA) as the C locale does",
    "max-new-connections-per-cycle": "pyredis accepts every pending connection at once",
    "max-new-tls-connections-per-cycle": "pyredis accepts every pending connection at once",
    "unixsocketgroup": "pyredis does not change the unix socket's group",
    "events-per-io-thread": "pyredis serves every client from one event loop thread",
    "prefetch-batch-max-size": "pyredis serves every client from one event loop thread",
    "dual-channel-replication-enabled": _NO_REPLICATION,
    "extended-redis-compatibility": "pyredis keeps Valkey's names in its replies (HELLO, INFO, error texts)",
    "enable-debug-assert": "pyredis has no debug assertions to enable",
    "debug-context": "pyredis has no crash-report context to add",
}

# listenToPort: errors that skip a bind address (any address: this machine lacks the family)
_SKIP_ERRNOS = {errno.ENOPROTOOPT, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT, errno.EPFNOSUPPORT,
                errno.EAFNOSUPPORT}


class _GaiError(OSError):
    """getaddrinfo failed: anet reports gai_strerror's text, and errno is not the reason."""


def _tcp_server(host: str | None, port: int, v6: bool, backlog: int) -> socket.socket:
    """anetTcpServer / anetTcp6Server: resolve (AI_PASSIVE), then the first address gets a
    socket, SO_REUSEADDR, bind and listen. OSError carries what anet's error says."""
    family = socket.AF_INET6 if v6 else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as e:
        err = _GaiError(None, e.strerror)
        err.errno = None
        raise err from None
    last: OSError | None = None
    for fam, stype, proto, _, sa in infos:
        try:
            sock = socket.socket(fam, stype, proto)
        except OSError as e:
            last = e
            continue
        try:
            if v6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(sa)
            except OSError as e:
                raise OSError(e.errno, f"bind: {e.strerror}") from None
            try:
                sock.listen(backlog)
            except OSError as e:
                raise OSError(e.errno, f"listen: {e.strerror}") from None
            sock.setblocking(False)
            return sock
        except OSError:
            sock.close()
            raise
    en = last.errno if last is not None else 0
    raise OSError(en, f"unable to bind socket, errno: {en}")


def _neterr(e: OSError) -> str:
    return e.strerror or str(e)


class RedisServer:
    def __init__(self, config: Config | None = None, state: ServerState | None = None,
                 free_port: bool = False, process: bool = False) -> None:
        self.config = config or Config()
        # process: this server is the process (pyredis-server), so what the configuration does
        # to a process (OOM score, CPU affinity, THP, syslog) applies; never to a program that
        # embeds a server in one of its threads.
        self.process = process
        self.oom = OomScore() if process else None
        self.supervision = None  # pyredis-server's Supervision (supervised), set by __main__
        self._syslog = None
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
        self._last_signal = signal.SIGTERM
        self.active_expiry = ActiveExpiry()
        self.group_commit = GroupCommit(self.state)
        self.cronloops = 0
        self._clients_cron_at = time.monotonic()
        self._watchdog_installed = False
        self.hz = self.config["hz"]  # serverCron's rate now (dynamic-hz), INFO's hz
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
        if self._syslog is not None:
            self._syslog.write(level, msg)
        logfile = self.config["logfile"]
        if logfile:
            if self._logfile is None:
                self._logfile = open(logfile, "a", buffering=1)
            self._logfile.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    def log_raw(self, text: str) -> None:
        """Text as it is, where the log goes (what a signal handler writes, serverLogFromHandler)."""
        logfile = self.config["logfile"]
        if logfile:
            if self._logfile is None:
                self._logfile = open(logfile, "a", buffering=1)
            self._logfile.write(text)
            self._logfile.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    # --- the software watchdog (watchdog-period) ----------------------------------------
    def _apply_watchdog(self, arm: bool = True) -> None:
        """applyWatchdogPeriod: a period under two cron ticks is raised to that; pyredis-server
        arms SIGALRM for it (an embedded server, in a thread, has no signals to use). At
        start-up the cron arms it first (arm False)."""
        cfg = self.config
        period = cfg["watchdog-period"]
        if period:
            least = (1000 // max(1, self.hz)) * 2
            if period < least:
                cfg.values["watchdog-period"] = period = least
        if not self.process:
            return
        if period and not self._watchdog_installed:
            signal.signal(signal.SIGALRM, self._watchdog_expired)
            self._watchdog_installed = True
        if self._watchdog_installed and (arm or not period):
            signal.setitimer(signal.ITIMER_REAL, period / 1000)  # watchdogScheduleSignal (0: off)

    def _watchdog_expired(self, _sig, frame) -> None:
        """watchdogSignalHandler: the event loop has been busy for watchdog-period: where it is."""
        import traceback

        head = f"{os.getpid()}:signal-handler ({int(time.time())}) "
        stack = "".join(traceback.format_stack(frame)) if frame is not None else ""
        self.log_raw(f"{head}\n--- WATCHDOG TIMER EXPIRED ---\n\n------ STACK TRACE ------\n{stack}\n"
                     f"{head}--------\n\n")

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            # A start that fails (bad data files, modules, ACL) serves nobody: the listeners
            # opened first close before the loop's next iteration could accept on them (Redis
            # exits before its event loop runs).
            for kind in self.listeners:
                self._close_listeners(kind)
            raise

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self.state.scheduler = LoopScheduler(loop)
        # 7.2's double formatting for everything this loop's thread formats (protocol/encoder.py)
        use_short_doubles(self.state.compat.at_least("7.2"))
        self._stop = asyncio.Event()
        cfg = self.config
        from ..errors import PersistenceError
        from ..persistence.loader import LoadFailed
        from ..persistence.manager import Persistence

        from ..core.acl import StartupRefused

        self.persistence = Persistence(self.state, self.log, self.fatal)
        self.state.hz_cron_handlers.append(self.persistence.cron)
        if self.process and cfg["syslog-enabled"]:
            self._syslog = Syslog(cfg)
        # In Redis's order (initServer, then main): the locale, TLS, the listeners, modules,
        # then the data; the first of them that fails stops the start.
        if cfg.has(TABLE["locale-collate"]):
            try:
                check_locale(cfg["locale-collate"])
            except ValueError:
                self.log("warning", "Failed to configure LOCALE for invalid locale name.")
                raise StartupError("Failed to configure LOCALE") from None
        if tls.tls_enabled(cfg):
            try:
                self.tls_context = tls.build_context(cfg, self.log)
            except tls.TLSError:
                self.log("warning", "Failed to configure TLS. Check logs for more info.")
                raise StartupError("Failed to configure TLS") from None
        if cfg["port"] or self.free_port:
            port = self._listen("tcp", cfg["port"])
            if port is None:
                self.log("warning", f"Failed listening on port {cfg['port']} (TCP), aborting.")
                raise StartupError("Failed listening on port (TCP)")
            self.port = port
            if port:
                cfg.values["port"] = port
        if cfg["tls-port"]:
            port = self._listen("tls", cfg["tls-port"])
            if port is None:
                self.log("warning", f"Failed listening on port {cfg['tls-port']} (TLS), aborting.")
                raise StartupError("Failed listening on port (TLS)")
            self.tls_port = port
        if cfg["unixsocket"]:
            self._listen_unix(cfg["unixsocket"], cfg["unixsocketperm"])
        if not any(self.listeners.values()):
            self.log("warning", "Configured to not listen anywhere, exiting.")
            raise StartupError("Configured to not listen anywhere")
        self.state.tcp_port = self.port or self.tls_port
        if self.process:
            disable_thp(cfg)
        self._load_modules()
        try:  # ACL users of the configuration or the aclfile (Redis's ACLLoadUsersAtStartup)
            self.state.acl.load_at_startup()
        except StartupRefused as e:
            self.log("warning", str(e))
            raise StartupError(str(e)) from None
        try:
            self.persistence.load_on_startup()
        except (PersistenceError, OSError, ValueError) as e:
            if not isinstance(e, LoadFailed):  # (LoadFailed: Redis's own lines are logged)
                self.log("warning", f"Fatal error loading the DB: {e}. Exiting.")
            raise StartupError(str(e)) from None
        # Replication: the driver of state.repl (server/replication.py), after the data is
        # loaded (a restarted master or replica reads its replication info from it); `replicaof`
        # connects now.
        from .replication import ReplicationIO

        self.replication = ReplicationIO(self)
        self.replication.start()
        cfg.on_apply(["port"], lambda: self._change_port("tcp"))
        cfg.on_apply(["locale-collate"], lambda: check_locale(cfg["locale-collate"]))  # updateLocaleCollate
        cfg.on_apply(["tls-port"], lambda: self._change_port("tls"))
        cfg.on_apply(["bind"], self._change_bind)
        cfg.on_apply(tls.TLS_DIRECTIVES, self._apply_tls, volatile=tls.TLS_FILES)
        cfg.on_apply(["oom-score-adj", "oom-score-adj-values"], self._apply_oom)
        cfg.on_change("hz", lambda v: setattr(self, "hz", v))  # updateHZ
        cfg.on_apply(["watchdog-period"], self._apply_watchdog)
        self._apply_watchdog(arm=False)
        for name in (*NOT_IMPLEMENTED, *tls.TLS_DIRECTIVES):
            cfg.on_change(name, lambda _v, name=name: self._warn_not_implemented(only=name))
        self._warn_not_implemented()
        self._schedule_cron()
        compat = self.state.compat
        self.log("notice", f"pyredis {__version__} ({compat.server_name.capitalize()} {compat.version} compatible: "
                 f"compat-version {compat.mode}) started, "
                 f"port={self.port or self.tls_port}, pid={os.getpid()}")
        interpreted = compiled.report()
        if interpreted:
            self.log("notice", interpreted)
        self.log("notice", "Ready to accept connections")
        sup = self.supervision
        if sup is not None and sup.mode == "systemd":
            sup.notify("STATUS=Ready to accept connections\n")
            sup.notify("READY=1\n")
        if self.process:  # the end of Redis's main(), before its event loop
            set_affinity(cfg["server_cpulist"])
            err = self.oom.apply(cfg)
            if err:
                self.log("warning", err)
        self.state.fork_child_hooks.append(self._in_fork_child)

    def _load_modules(self) -> None:
        """moduleLoadFromQueue: every `loadmodule` must load (none does: pyredis runs no native
        module), and module configs need their module."""
        from ..commands.module import load_failure

        for path, _args in self.config.modules:
            self.log("warning", load_failure(path))
            self.log("warning", f"Can't load module from {path}: server aborting")
            raise StartupError("Can't load module")
        if self.config.module_configs:
            self.log("warning", "Module Configuration detected without loadmodule directive or no ApplyConfig call: "
                                "aborting")
            raise StartupError("Module Configuration detected without loadmodule directive")

    def _apply_oom(self) -> None:
        """CONFIG SET oom-score-adj / oom-score-adj-values (updateOOMScoreAdj)."""
        if self.oom is None:
            return
        err = self.oom.apply(self.config)
        if err:
            self.log("warning", err)
            raise ValueError("Failed to set current oom_score_adj. Check server logs.")

    def _in_fork_child(self, kind: str) -> None:
        """First things in a BGSAVE / BGREWRITEAOF child (redisFork): its OOM score, its CPUs."""
        if not self.process:
            return
        err = self.oom.apply(self.config, "bgchild")
        if err:
            self.log("warning", err)
        set_affinity(self.config["bgsave_cpulist" if kind == "rdb" else "aof_rewrite_cpulist"])

    # --- listeners -------------------------------------------------------------------
    def _listen(self, kind: str, port: int) -> int | None:
        """Redis's listenToPort: a listening socket per bind address, served by the loop.
        Every failure is logged; an optional address ("-addr") that does not exist here, or
        an address family this machine lacks, is skipped; any other failure closes what was
        opened and returns None. No bind address at all (`bind ""`) opens nothing. Returns the
        port (port 0 on an embedded server: the free port picked)."""
        socks: list[socket.socket] = []
        for addr in self.config["bind"]:
            optional = addr.startswith("-")
            host = addr[1:] if optional else addr
            v6 = ":" in host
            bind_host = None if host == "*" or (v6 and host == "::*") else host
            try:
                sock = _tcp_server(bind_host, port, v6, self.config["tcp-backlog"])
            except OSError as e:
                en = e.errno
                self.log("warning", f"Warning: Could not create server TCP listening socket {host}:{port}: "
                                    f"{_neterr(e)}")
                if (en == errno.EADDRNOTAVAIL and optional) or en in _SKIP_ERRNOS:
                    continue
                for s in socks:
                    s.close()
                return None
            mark = self.config["socket-mark-id"]
            if mark:
                try:  # anetSetSockMarkId: best effort (needs CAP_NET_ADMIN)
                    sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_MARK", 36), mark)
                except OSError:
                    pass
            socks.append(sock)
            if not port:
                port = sock.getsockname()[1]  # a free port (embedded servers): the others follow
        if socks:
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
        if got is None:
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
            ok = self._listen("tcp", port) is not None
        if ok and tls_port:
            ok = self._listen("tls", tls_port) is not None
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
        items = [(n, why) for n, why in NOT_IMPLEMENTED.items()
                 if cfg.has(TABLE[n]) and cfg[n] != cfg.default(TABLE[n])]
        items += tls.not_implemented(cfg)
        for name, why in items:
            if only is None or name == only:
                self.log("warning", f"{name} is set but not implemented by pyredis ({why}): it has no effect.")

    def _schedule_cron(self) -> None:
        """serverCron runs `hz` times a second; with dynamic-hz the rate doubles (up to 500)
        while there are more than 200 clients per run (MAX_CLIENTS_PER_CLOCK_TICK)."""
        hz = max(1, min(500, self.config["hz"]))
        if self.config["dynamic-hz"]:
            clients = len(self.state.clients)
            while clients // hz > 200:
                hz *= 2
                if hz > 500:
                    hz = 500
                    break
        self.hz = hz
        loop = asyncio.get_running_loop()
        self._cron_handle = loop.call_later(1.0 / hz, self._cron)

    def _cron(self) -> None:
        """serverCron: active expiry, cron handlers (AOF fsync, save points, timeouts)."""
        state = self.state
        if self._watchdog_installed and self.config["watchdog-period"]:  # the watchdog, re-armed
            signal.setitimer(signal.ITIMER_REAL, self.config["watchdog-period"] / 1000)
        if state.pause_cron:  # DEBUG PAUSE-CRON 1: the cron skips all of its work
            self._schedule_cron()
            return
        self.cronloops += 1
        now = time.monotonic()
        if now - self._clients_cron_at >= 1.0:  # clientsCron visits each client about once a second
            self._clients_cron_at = now
            now_ms = int(time.time() * 1000)
            for c in list(state.clients.values()):
                resize_reply_buffer(c, state, now_ms)
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
                    self.active_expiry.cycle(state.dbs, state.now_ms, self.hz,
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
        if state.shutdown_requested is not None:
            self.request_shutdown()
        elif self._shutdown_signal and not busy:
            self._shutdown_on_signal()
        if self._stop is not None and not self._stop.is_set():
            self._schedule_cron()

    def _shutdown_on_signal(self) -> None:
        """serverCron after SIGINT / SIGTERM: prepareForShutdown with the signal's
        shutdown-on-sigint / shutdown-on-sigterm flags (save, nosave, now, force). A final
        save that fails without `force` keeps the server running, as Redis."""
        from ..errors import PersistenceError

        self._shutdown_signal = False
        name = "shutdown-on-sigint" if self._last_signal == signal.SIGINT else "shutdown-on-sigterm"
        flags = self.config[name]
        save = True if "save" in flags else False if "nosave" in flags else None
        p = getattr(self, "persistence", None)
        if p is not None:
            try:
                p.prepare_shutdown(save, force="force" in flags)
            except PersistenceError:
                self.log("warning", "Errors trying to shut down the server. Check the logs for more information.")
                return
            self.state.shutdown_prepared = True
        self.request_shutdown()

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

    def panic(self, msg: str) -> None:
        """serverPanic: the Guru Meditation lines, the crash report (crash-log-enabled), then
        exit(1) with use-exit-on-panic, else abort() (SIGABRT, the handlers removed so the
        report is not written twice). An embedded server stops instead, as fatal() does."""
        self.log("warning", "------------------------------------------------")
        self.log("warning", "!!! Software Failure. Press left mouse button to continue")
        self.log("warning", f"Guru Meditation: {msg}")
        if not self.process:
            self.fatal("(an embedded server stops instead of ending its host process)")
            return
        from . import crash

        if self.config["crash-log-enabled"]:
            import faulthandler

            fd = self._logfile.fileno() if self._logfile is not None else 1
            if self._logfile is not None:
                self._logfile.flush()
            faulthandler.dump_traceback(file=fd, all_threads=True)
            os.write(fd, crash.report(self, signal.SIGABRT))
        crash.remove()
        if self.config["use-exit-on-panic"]:
            sys.stdout.flush()
            os._exit(1)
        os.abort()

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
        self._last_signal = sig

    async def serve(self) -> None:
        assert self._stop is not None
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        self.log("warning", "User requested shutdown...")
        if self._watchdog_installed:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if self.supervision is not None and self.supervision.mode == "systemd":
            self.supervision.notify("STOPPING=1\n")
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
