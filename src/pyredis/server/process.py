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
