"""What directives do to the server process, against redis-server 7.0.15: the OOM score
(oom-score-adj, oom-score-adj-values, the fork child's too), CPU affinity (*_cpulist),
daemonize and the pid file, crash-log-enabled, use-exit-on-panic, shutdown-on-sigint /
shutdown-on-sigterm, dynamic-hz, and the listeners (bind, port) at start-up and on CONFIG SET."""

from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest

from directives_env import PYREDIS, REDIS, launch, low_port
from resp import RawClient

NOT_LOCAL = "10.255.255.1"  # an address no interface of a test machine has (EADDRNOTAVAIL)


class Pair:
    """pyredis-server and redis-server started with the same arguments, each in its folder."""

    def __init__(self, tmp_path, *args: str, tag: str = "pair") -> None:
        self.servers = []
        self.ports = []
        self.dirs = []
        for side, cmd in (("ours", PYREDIS), ("theirs", REDIS)):
            d = tmp_path / tag / side
            d.mkdir(parents=True)
            port = low_port()
            argv = [*cmd, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(d),
                    "--enable-debug-command", "yes", *args]
            srv = launch(argv, port, str(d))
            self.servers.append(srv)
            self.ports.append(port)
            self.dirs.append(str(d))
            if not srv.started:
                self.stop()
                raise AssertionError(f"{side} did not start: {srv.output()[-1500:]}")

    def call(self, *args):
        out = []
        for port in self.ports:
            c = RawClient("127.0.0.1", port)
            try:
                out.append(c.call(*args))
            finally:
                c.close()
        return out

    def same(self, *args):
        a, b = self.call(*args)
        assert a == b, (args, a, b)
        return a

    @property
    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.servers]

    def stop(self) -> None:
        for s in self.servers:
            s.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _oom(pid: int) -> int:
    with open(f"/proc/{pid}/oom_score_adj") as f:
        return int(f.read())


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _wait_child(pid: int, timeout: float = 10) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        kids = _children(pid)
        if kids:
            return kids[0]
        time.sleep(0.01)
    raise AssertionError(f"no child of {pid}")


def _status(pid: int, tid: int | None = None) -> dict[str, str]:
    path = f"/proc/{pid}/task/{tid or pid}/status"
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


# --- oom-score-adj -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["relative", "absolute", "yes"])
def test_oom_score_adj_at_startup_and_in_the_fork_child(tmp_path, mode):
    """The server's score is the master value (added to the score it started with, unless
    absolute), a BGSAVE child's is the bgchild value."""
    base = _oom(os.getpid())
    with Pair(tmp_path, "--oom-score-adj", mode, "--oom-score-adj-values", "10 20 30",
              "--rdb-key-save-delay", "200000") as p:
        scores = [_oom(pid) for pid in p.pids]
        want = 10 if mode == "absolute" else base + 10
        assert scores == [want, want]
        p.same("SET", "k", "v")
        p.same("BGSAVE")
        kids = [_wait_child(pid) for pid in p.pids]
        time.sleep(0.2)  # the child sets its score first thing
        child = 30 if mode == "absolute" else base + 30
        assert [_oom(k) for k in kids] == [child, child]


def test_oom_score_adj_on_config_set(tmp_path):
    """CONFIG SET applies at once, `no` puts back the score the server found; a score the
    process may not take is Redis's error and the old values stay."""
    with Pair(tmp_path) as p:
        start = [_oom(pid) for pid in p.pids]
        for args in (("oom-score-adj", "absolute", "oom-score-adj-values", "40 50 60"),
                     ("oom-score-adj-values", "45 50 60"),
                     ("oom-score-adj", "relative"),
                     ("oom-score-adj", "no"),
                     ("oom-score-adj", "absolute", "oom-score-adj-values", "-900 0 0"),
                     ("oom-score-adj-values", "60 50 40"),
                     ("oom-score-adj-values", "1  2 3"),
                     ("oom-score-adj-values", "1 2"),
                     ("oom-score-adj", "no")):
            p.same("CONFIG", "SET", *args)
            p.same("CONFIG", "GET", "oom-score-adj")
            p.same("CONFIG", "GET", "oom-score-adj-values")
            scores = [_oom(pid) for pid in p.pids]
            assert scores[0] == scores[1], (args, scores)
        assert [_oom(pid) for pid in p.pids] == start


# --- CPU affinity --------------------------------------------------------------------------------
def _cpus(pid: int, tid: int | None = None) -> str:
    return _status(pid, tid)["Cpus_allowed_list"]


def test_cpulists_pin_the_server_and_its_children(tmp_path):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to see a pinning")
    with Pair(tmp_path, "--server_cpulist", "1", "--bgsave_cpulist", "0", "--aof_rewrite_cpulist", "0-1:1",
              "--rdb-key-save-delay", "200000") as p:
        time.sleep(0.2)
        assert [_cpus(pid) for pid in p.pids] == ["1", "1"]  # the main thread
        p.same("SET", "k", "v")
        p.same("BGSAVE")
        kids = [_wait_child(pid) for pid in p.pids]
        time.sleep(0.2)
        assert [_cpus(k) for k in kids] == ["0", "0"]


def test_bio_cpulist_pins_the_fsync_thread(tmp_path):
    """Redis's bio threads, pyredis's AOF fsync thread: every thread but the main one that the
    AOF starts runs on bio_cpulist's CPUs."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs to see a pinning")
    with Pair(tmp_path, "--appendonly", "yes", "--bio_cpulist", "0") as p:
        for _ in range(20):
            p.same("SET", "k", "v")
            time.sleep(0.1)
        ours, theirs = p.pids
        bio = [t for t in os.listdir(f"/proc/{theirs}/task")
               if open(f"/proc/{theirs}/task/{t}/comm").read().startswith("bio_")]
        assert bio and all(_cpus(theirs, int(t)) == "0" for t in bio)
        pinned = [t for t in os.listdir(f"/proc/{ours}/task") if int(t) != ours and _cpus(ours, int(t)) == "0"]
        assert pinned, "no pyredis thread on bio_cpulist"


# --- daemonize and the pid file --------------------------------------------------------------
def test_daemonize_detaches_and_writes_the_pid_file(tmp_path):
    results = []
    for side, cmd in (("ours", PYREDIS), ("theirs", REDIS)):
        d = tmp_path / side
        d.mkdir()
        port = low_port()
        srv = launch([*cmd, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "yes",
                      "--pidfile", str(d / "server.pid"), "--logfile", str(d / "server.log"), "--dir", str(d)],
                     port, str(d), detaches=True)
        daemon = None
        try:
            assert srv.started
            assert srv.proc.wait(10) == 0  # the parent exits at once, the daemon serves
            daemon = int((d / "server.pid").read_text())
            assert daemon != srv.proc.pid and os.path.exists(f"/proc/{daemon}")
            sid = os.getsid(daemon)
            c = RawClient("127.0.0.1", port)
            assert c.call("PING") == b"PONG"
            c.close()
            os.kill(daemon, signal.SIGTERM)
            deadline = time.time() + 15
            while os.path.exists(f"/proc/{daemon}") and time.time() < deadline:
                time.sleep(0.05)
            results.append((sid == daemon, (d / "server.pid").exists()))
        finally:
            if daemon is not None and os.path.exists(f"/proc/{daemon}"):
                os.kill(daemon, signal.SIGKILL)
            srv.stop()
    assert results[0] == results[1] == (True, False)  # its own session; the pid file removed at exit


def test_unwritable_pid_file_is_not_fatal(tmp_path):
    """Redis writes the pid file best effort; pyredis also says why it could not."""
    with Pair(tmp_path, "--pidfile", "/nonexistent-dir/server.pid") as p:
        assert p.same("PING") == b"PONG"
        assert "Failed to write PID file: No such file or directory" in p.servers[0].output()


# --- crashes ---------------------------------------------------------------------------------------
def _crash(tmp_path, tag, args, command) -> list[tuple[int, bool, bool]]:
    """Run `command` on both servers started with `args`: (exit status, a bug report in the
    log, the Guru Meditation line) of each."""
    p = Pair(tmp_path, *args, tag=tag)
    try:
        for port in p.ports:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in [b"DEBUG", command]).join(
                [b"*2\r\n", b""]))
            s.settimeout(10)
            try:
                s.recv(100)
            except OSError:
                pass
            s.close()
        out = []
        for srv in p.servers:
            rc = srv.proc.wait(20)
            log = srv.output()
            out.append((rc, "BUG REPORT START" in log, "Guru Meditation: DEBUG PANIC called at Unix time" in log))
        return out
    finally:
        p.stop()


@pytest.mark.parametrize("exit_on_panic", ["yes", "no"])
def test_debug_panic_and_use_exit_on_panic(tmp_path, exit_on_panic):
    ours, theirs = _crash(tmp_path, f"panic-{exit_on_panic}", ["--use-exit-on-panic", exit_on_panic], b"PANIC")
    assert ours == theirs
    assert ours[0] == (1 if exit_on_panic == "yes" else -signal.SIGABRT)


@pytest.mark.parametrize("crash_log", ["yes", "no"])
def test_crash_log_enabled(tmp_path, crash_log):
    ours, theirs = _crash(tmp_path, f"segv-{crash_log}", ["--crash-log-enabled", crash_log], b"SEGFAULT")
    assert ours[:2] == theirs[:2] == (-signal.SIGSEGV, crash_log == "yes")


# --- shutdown-on-sigint / shutdown-on-sigterm --------------------------------------------------
@pytest.mark.parametrize("sig,flags,save,want_dump,stops", [
    (signal.SIGTERM, "save", "", True, True),
    (signal.SIGINT, "nosave", "3600 1", False, True),
    (signal.SIGTERM, "default", "3600 1", True, True),
    (signal.SIGTERM, "default", "", False, True),
    (signal.SIGINT, "save", "", True, True),
], ids=["term-save", "int-nosave", "term-default-save-points", "term-default", "int-save"])
def test_shutdown_on_signal_flags(tmp_path, sig, flags, save, want_dump, stops):
    name = "--shutdown-on-sigterm" if sig == signal.SIGTERM else "--shutdown-on-sigint"
    with Pair(tmp_path, name, flags, "--save", save) as p:
        p.same("SET", "k", "v")
        for srv in p.servers:
            srv.proc.send_signal(sig)
        for srv, d in zip(p.servers, p.dirs):
            assert srv.proc.wait(20) == 0
            assert os.path.exists(os.path.join(d, "dump.rdb")) == want_dump, d


def test_failed_final_save_keeps_running_without_force(tmp_path):
    """The final save fails (dump.rdb is a folder): the server keeps running, unless `force`."""
    for flags, survives in (("save", True), ("save force", False)):
        with Pair(tmp_path, "--shutdown-on-sigterm", flags, "--dbfilename", "d", tag=flags.replace(" ", "-")) as p:
            for d in p.dirs:
                os.mkdir(os.path.join(d, "d"))
            for srv in p.servers:
                srv.proc.send_signal(signal.SIGTERM)
            time.sleep(1.5)
            assert [srv.proc.poll() is None for srv in p.servers] == [survives, survives]
            if survives:
                assert p.same("PING") == b"PONG"
                for port in p.ports:  # (SIGTERM would fail to save again)
                    c = RawClient("127.0.0.1", port)
                    try:
                        c.call("SHUTDOWN", "NOSAVE")
                    except ConnectionError:
                        pass
                    c.close()


# --- dynamic-hz --------------------------------------------------------------------------------------
def test_dynamic_hz_follows_the_number_of_clients(tmp_path):
    with Pair(tmp_path, "--hz", "1") as p:
        socks = []
        try:
            for port in p.ports:
                for _ in range(450):
                    socks.append(socket.create_connection(("127.0.0.1", port)))
            time.sleep(2.5)
            hz = [[ln for ln in r.decode().splitlines() if ln.startswith(("hz:", "configured_hz:"))]
                  for r in p.call("INFO", "server")]
            assert hz[0] == hz[1] == ["hz:4", "configured_hz:1"]
            p.same("CONFIG", "SET", "dynamic-hz", "no")
            time.sleep(2.5)
            hz = [[ln for ln in r.decode().splitlines() if ln.startswith("hz:")] for r in p.call("INFO", "server")]
            assert hz[0] == hz[1] == ["hz:1"]
        finally:
            for s in socks:
                s.close()


# --- bind and port -------------------------------------------------------------------------------
def test_config_set_bind_edge_cases(tmp_path):
    """An address this machine lacks is refused (the old listeners come back); an optional one
    is skipped; no address at all (or only missing optional ones) listens nowhere, as Redis."""
    with Pair(tmp_path) as p:
        admin = [RawClient("127.0.0.1", port) for port in p.ports]
        try:
            def both(*args):
                a, b = (c.call(*args) for c in admin)
                assert a == b, (args, a, b)
                return a

            def reachable():
                out = []
                for port in p.ports:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        out.append(True)
                    except OSError:
                        out.append(False)
                assert out[0] == out[1], out
                return out[0]

            assert both("CONFIG", "SET", "bind", NOT_LOCAL).startswith(b"ERR CONFIG SET failed")
            both("CONFIG", "GET", "bind")
            assert reachable()
            assert both("CONFIG", "SET", "bind", f"127.0.0.1 -{NOT_LOCAL}") == b"OK"
            both("CONFIG", "GET", "bind")
            assert reachable()
            assert both("CONFIG", "SET", "bind", "nosuchhost.invalid").startswith(b"ERR CONFIG SET failed")
            assert reachable()
            assert both("CONFIG", "SET", "bind", f"-{NOT_LOCAL}") == b"OK"
            assert not reachable()
            assert both("CONFIG", "SET", "bind", "") == b"OK"
            both("CONFIG", "GET", "bind")
            assert not reachable()
            assert both("CONFIG", "SET", "bind", "127.0.0.1") == b"OK"
            assert reachable()
            assert both("CONFIG", "SET", "bind", " ".join(["127.0.0.1"] * 17)).startswith(b"ERR")
        finally:
            for c in admin:
                c.close()


@pytest.mark.parametrize("bind", [f"127.0.0.1 -{NOT_LOCAL}", NOT_LOCAL, f"-{NOT_LOCAL}", "-127.0.0.1 -::1"])
def test_bind_at_startup(tmp_path, bind):
    outcomes = []
    for side, cmd in (("ours", PYREDIS), ("theirs", REDIS)):
        d = tmp_path / side
        d.mkdir()
        port = low_port()
        srv = launch([*cmd, "--port", str(port), "--bind", *bind.split(), "--save", "", "--dir", str(d)], port, str(d))
        try:
            if not srv.started:
                srv.proc.wait(10)
            log = srv.output()
            lines = [ln.split(" # ", 1)[1] for ln in log.splitlines()
                     if " # " in ln and ("listening" in ln.lower() or "listen anywhere" in ln)]
            outcomes.append((srv.started, [ln.replace(str(port), "PORT") for ln in lines]))
        finally:
            srv.stop()
    assert outcomes[0] == outcomes[1]


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def test_config_set_port_rebinds_as_redis(tmp_path):
    """updatePort: the listener moves to the new port (connections made before stay); a port
    taken by another socket is refused and the old one kept; port 0 closes the TCP listener."""
    busy = socket.create_server(("127.0.0.1", 0))
    with Pair(tmp_path, "--unixsocket", "s.sock") as p:
        admin = [RawClient("127.0.0.1", port) for port in p.ports]
        try:
            def both(*args):
                a, b = (c.call(*args) for c in admin)
                assert a == b, (args, a, b)
                return a

            assert both("CONFIG", "SET", "port", str(busy.getsockname()[1])).startswith(b"ERR CONFIG SET failed")
            assert [_reachable(port) for port in p.ports] == [True, True]
            news = [low_port() for _ in p.ports]
            for c, new in zip(admin, news):
                assert c.call("CONFIG", "SET", "port", str(new)) == b"OK"
                assert c.call("CONFIG", "GET", "port") == [b"port", str(new).encode()]
            assert [_reachable(port) for port in p.ports] == [False, False]
            assert [_reachable(port) for port in news] == [True, True]
            both("PING")  # the connection made on the old port stays
            both("CONFIG", "SET", "port", "0")
            assert [_reachable(port) for port in news] == [False, False]
            both("CONFIG", "GET", "port")
            for c, port in zip(admin, p.ports):
                assert c.call("CONFIG", "SET", "port", str(port)) == b"OK"
            assert [_reachable(port) for port in p.ports] == [True, True]
            logs = [[ln.split(" # ", 1)[1] for ln in s.output().splitlines() if " # " in ln and "port" in ln.lower()]
                    for s in p.servers]
            assert [ln for ln in logs[0] if "Could not create" in ln] == [ln for ln in logs[1] if "Could not create" in ln]
        finally:
            for c in admin:
                c.close()
            busy.close()


# --- supervised ------------------------------------------------------------------------------------
def _supervised_run(tmp_path, tag: str, args: list[str], notify: bool) -> list:
    """Each server started with `args` (and NOTIFY_SOCKET naming a datagram socket of this
    test when `notify`), stopped with SIGTERM: [(messages received, the log's supervision
    lines, whether the process started is the one serving)] for pyredis and redis-server."""
    out = []
    for side, cmd in (("ours", PYREDIS), ("theirs", REDIS)):
        d = tmp_path / tag / side
        d.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "UPSTART_JOB")}
        sock = None
        if notify:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(str(d / "notify.sock"))
            sock.settimeout(10)
            env["NOTIFY_SOCKET"] = str(d / "notify.sock")
        port = low_port()
        srv = launch([*cmd, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(d), *args],
                     port, str(d), env=env)
        msgs = []
        try:
            assert srv.started, srv.output()[-1500:]
            own = srv.proc.poll() is None
            if sock is not None:
                while not msgs or msgs[-1] != b"READY=1\n":
                    msgs.append(sock.recv(4096))
            srv.proc.send_signal(signal.SIGTERM)
            srv.proc.wait(20)
            if sock is not None:
                msgs.append(sock.recv(4096))
            lines = [ln.split(" ", 5)[5] for ln in srv.output().splitlines()
                     if "upervis" in ln and ln.count(" ") >= 5]
            out.append((msgs, lines, own))
        finally:
            srv.stop()
            if sock is not None:
                sock.close()
    return out


@pytest.mark.parametrize("mode,notify", [("systemd", True), ("auto", True), ("systemd", False), ("auto", False),
                                         ("upstart", False)])
def test_supervised_as_redis(tmp_path, mode, notify):
    ours, theirs = _supervised_run(tmp_path, f"{mode}-{notify}", ["--supervised", mode], notify)
    assert ours == theirs
    if notify:
        assert ours[0] == [b"STATUS=Redis is loading...\n", b"STATUS=Ready to accept connections\n", b"READY=1\n",
                           b"STOPPING=1\n"]


def test_supervised_server_does_not_daemonize(tmp_path):
    ours, theirs = _supervised_run(tmp_path, "daemon", ["--supervised", "systemd", "--daemonize", "yes"], True)
    assert ours == theirs and ours[2] is True


# --- watchdog-period ---------------------------------------------------------------------------------
def test_watchdog_period_as_redis(tmp_path):
    """A period under two cron ticks is raised to that (CONFIG GET shows it); a command that
    keeps the server busy longer than the period leaves the watchdog's report in the log; 0
    turns it off."""
    with Pair(tmp_path, "--watchdog-period", "50") as p:
        assert p.same("CONFIG", "GET", "watchdog-period") == [b"watchdog-period", b"200"]
        p.same("CONFIG", "SET", "watchdog-period", "60")
        p.same("CONFIG", "GET", "watchdog-period")
        p.same("CONFIG", "SET", "watchdog-period", "300")
        p.same("DEBUG", "SLEEP", "1.2")
        reports = []
        for srv in p.servers:
            log = srv.output()
            reports.append((log.count("\n--- WATCHDOG TIMER EXPIRED ---\n") >= 1,
                            re.search(r"\d+:signal-handler \(\d+\) --------\n", log) is not None))
        assert reports == [(True, True), (True, True)]
        p.same("CONFIG", "SET", "watchdog-period", "0")
        before = [srv.output().count("WATCHDOG TIMER EXPIRED") for srv in p.servers]
        p.same("DEBUG", "SLEEP", "0.8")
        assert [srv.output().count("WATCHDOG TIMER EXPIRED") for srv in p.servers] == before
