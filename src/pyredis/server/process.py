"""What the configuration does to the process itself, as redis-server does it on Linux: the OOM
killer's score (oom-score-adj, oom-score-adj-values), CPU affinity (server_cpulist,
bgsave_cpulist, aof_rewrite_cpulist, bio_cpulist), transparent huge pages (disable-thp) and
syslog (syslog-enabled, syslog-ident, syslog-facility).

Only pyredis-server applies the process-wide ones (a server embedded in another program's
thread must not change its host process): RedisServer(process=True).

API:
    OomScore()                      # one per process: remembers the score it found
    oom.apply(cfg, role) -> error   # role: "master" | "bgchild"; None or the log line
    parse_cpulist(text) -> set | None   # (util) setcpuaffinity's grammar; None: ignored as Redis does
    set_affinity(text, tid=0)           # (util)
    disable_thp(cfg) -> None
    Syslog(cfg)                     # .write(level, msg) when syslog-enabled
    Supervision(mode, log)          # supervised: .detect() at start-up, .notify(msg) (systemd)
"""

from __future__ import annotations

import os

from ..util import parse_cpulist, set_affinity  # noqa: F401  (re-exported: the server's API)

OOM_PATH = "/proc/self/oom_score_adj"
_ROLES = {"master": 0, "replica": 1, "bgchild": 2}


class OomScore:
    """setOOMScoreAdj: the first time pyredis takes control it remembers the score the process
    had (the base), `relative` adds to it, `absolute` replaces it; `no` after having adjusted
    it puts the base back. Values are clamped to [-1000, 1000]."""

    def __init__(self, path: str = OOM_PATH) -> None:
        self.path = path
        self.adjusted = False
        self.base = 0

    def apply(self, cfg, role: str = "master") -> str | None:
        mode = cfg["oom-score-adj"]
        if mode != "no":
            if not self.adjusted:
                self.adjusted = True
                try:
                    with open(self.path) as f:
                        self.base = int(f.read().strip() or 0)
                except (OSError, ValueError) as e:
                    return f"Unable to read oom_score_adj: {getattr(e, 'strerror', None) or e}"
            val = cfg["oom-score-adj-values"][_ROLES[role]]
            if mode == "yes":  # (relative)
                val += self.base
            val = max(-1000, min(1000, val))
        elif self.adjusted:
            self.adjusted = False
            val = self.base
        else:
            return None
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError as e:
            return f"Unable to write oom_score_adj: {e.strerror}"
        try:
            os.write(fd, b"%d\n" % val)
        except OSError as e:
            return f"Unable to write oom_score_adj: {e.strerror}"
        finally:
            os.close(fd)
        return None


def disable_thp(cfg) -> None:
    """linuxMemoryWarnings: with transparent huge pages `always`, disable-thp yes turns them
    off for this process (prctl PR_SET_THP_DISABLE)."""
    if not cfg["disable-thp"]:
        return
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            if "[always]" not in f.read():
                return
    except OSError:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
    except (OSError, AttributeError):
        pass


class Syslog:
    """syslog-enabled: every log line also goes to syslog, under syslog-ident, to
    syslog-facility, at Redis's priorities (debug, info, notice, warning)."""

    PRIORITY = {"debug": "LOG_DEBUG", "verbose": "LOG_INFO", "notice": "LOG_NOTICE", "warning": "LOG_WARNING"}

    def __init__(self, cfg) -> None:
        import syslog

        self.syslog = syslog
        facility = getattr(syslog, "LOG_" + cfg["syslog-facility"].upper())
        syslog.openlog(cfg["syslog-ident"], syslog.LOG_PID | syslog.LOG_NDELAY | syslog.LOG_NOWAIT, facility)

    def write(self, level: str, msg: str) -> None:
        self.syslog.syslog(getattr(self.syslog, self.PRIORITY.get(level, "LOG_NOTICE")), msg)


# --- supervised (redisIsSupervised, redisCommunicateSystemd) ---------------------------------
def sd_notify(msg: str) -> int:
    """sd_notify(0, msg) without libsystemd: a datagram to $NOTIFY_SOCKET ('@': an abstract
    socket). 0 when the variable is not set, > 0 sent, < 0 -errno."""
    import socket

    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return 0
    addr = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(msg.encode(), addr)
    except OSError as e:
        return -(e.errno or 1)
    return 1


class Supervision:
    """supervised no|upstart|systemd|auto: `mode` is the mode in force after detect() (Redis's
    server.supervised_mode); systemd gets STATUS/READY/STOPPING notifications."""

    def __init__(self, mode: str, log) -> None:
        self.mode = mode
        self.log = log  # log(level, msg)

    def notify(self, msg: str) -> int:
        """redisCommunicateSystemd."""
        ret = sd_notify(msg)
        if ret == 0:
            self.log("warning", "systemd supervision error: NOTIFY_SOCKET not found!")
        elif ret < 0:
            self.log("warning", f"systemd supervision error: sd_notify: {ret}")
        return ret

    def detect(self) -> bool:
        """redisIsSupervised: auto picks upstart (UPSTART_JOB) or systemd (NOTIFY_SOCKET);
        upstart stops the process (SIGSTOP) to say it is ready; systemd is told the server is
        loading. True when supervised (then daemonize does not detach)."""
        import signal

        mode = self.mode
        if mode == "auto":
            if os.environ.get("UPSTART_JOB"):
                self.log("verbose", "Upstart supervision detected.")
                mode = "upstart"
            elif os.environ.get("NOTIFY_SOCKET"):
                self.log("verbose", "Systemd supervision detected.")
                mode = "systemd"
        ok = False
        if mode == "upstart":
            if not os.environ.get("UPSTART_JOB"):
                self.log("warning", "upstart supervision requested, but UPSTART_JOB not found!")
            else:
                self.log("notice", "supervised by upstart, will stop to signal readiness.")
                os.kill(os.getpid(), signal.SIGSTOP)
                os.environ.pop("UPSTART_JOB", None)
                ok = True
        elif mode == "systemd":
            if self.notify("STATUS=Redis is loading...\n") > 0:
                self.log("notice", "Supervised by systemd. Please make sure you set appropriate values for "
                                   "TimeoutStartSec and TimeoutStopSec in your service unit.")
                ok = True
        if ok:
            self.mode = mode
        return ok
