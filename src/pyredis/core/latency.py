"""Latency: the latency monitor (Redis's latency.c, LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR)
and the per-command latency histograms of `latency-tracking` (INFO latencystats, LATENCY
HISTOGRAM).

The monitor. With latency-monitor-threshold N ms (0: off), an operation that took N ms or more
adds a sample to its event's series: 160 samples of (unix second, ms), one per second (a
second sample within the same second keeps the larger), and the all-time maximum. pyredis
records the events Redis records where it has the same operation:

    command / fast-command   a command's execution (core/dispatch.call; `fast` by its flag)
    command-unblocking       serving a blocked client (core/blocking.served_after)
    expire-cycle             the active expiry cycle (server/server.py's cron)
    aof-write, aof-write-alone, aof-write-pending-fsync, aof-write-active-child
                             the AOF write (persistence/aof_writer.py), by what else was going on
    aof-fsync-always         the fsync of appendfsync always
    fork                     forking a BGSAVE / BGREWRITEAOF child (persistence/background.py)
    eviction-cycle, eviction-del   maxmemory eviction, through add_if_needed (the memory work)

The histograms. Every command's duration (in whole microseconds as Redis measures them,
recorded as ns) goes into an HDR histogram of Redis's parameters (1 ns .. 1 s, 2 significant
digits: 23 buckets of 128 sub-buckets, counts_len 3072), the same structure as Redis's
hdr_histogram, so a percentile is the highest value equivalent to the bucket where the
cumulative count reaches it: at most 1/128 (0.8 %) above the true value, never below it
(tests/commands/test_latency.py checks the bound against exact percentiles). On the hot path
dispatch only appends the duration to the command's list (spec.lat); the cron folds the lists
into the counts every tick, and so does anything that reads them.

API:
    state.latency -> LatencyMonitor
    mon.add_if_needed(event, ms)           latencyAddSampleIfNeeded
    mon.threshold_us                       0 or the threshold in us (dispatch's cheap test)
    mon.latest() / history(event) / reset(events) / graph(event) / doctor()
    spec.lat.append(usec)                  a command's duration (dispatch, blocking)
    fold(spec) -> Histogram | None; fold_all(specs); reset_histogram(spec)
    Histogram.value_at_percentile(p) -> ns; Histogram.cdf() -> [(usec, cumulative count)]
    format_percentile(p) -> "99.9"         the INFO label (sprintf %f, trimmed)
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec import CommandSpec
    from .state import ServerState

TS_LEN = 160  # LATENCY_TS_LEN
GRAPH_COLS = 80


class _Series:
    __slots__ = ("samples", "idx", "max")

    def __init__(self) -> None:
        self.samples: list[tuple[int, int]] = [(0, 0)] * TS_LEN  # (unix time, ms); time 0 = empty
        self.idx = 0
        self.max = 0

    def ordered(self) -> list[tuple[int, int]]:
        """The samples from the oldest, as Redis walks the ring from idx."""
        return [s for s in self.samples[self.idx:] + self.samples[:self.idx] if s[0]]


class LatencyMonitor:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.events: dict[str, _Series] = {}
        cfg = state.config
        self.threshold = 0
        self.threshold_us = 0
        self._set_threshold(cfg["latency-monitor-threshold"])
        cfg.on_change("latency-monitor-threshold", self._set_threshold)
        self.fork_rate = 0.0  # GB/s of the last fork (DOCTOR's fork quality)

    def _set_threshold(self, ms: int) -> None:
        self.threshold = ms
        self.threshold_us = ms * 1000

    def forked(self, seconds: float) -> None:
        """A child was forked in `seconds`: the fork event, and the fork rate DOCTOR rates (GB
        of the process's memory per second of fork, as Redis's stat_fork_rate)."""
        if seconds > 0:
            try:
                with open("/proc/self/statm") as f:
                    pages = int(f.read().split()[1])
                self.fork_rate = pages * os.sysconf("SC_PAGE_SIZE") / seconds / (1024 ** 3)
            except (OSError, ValueError, IndexError):
                pass
        self.add_if_needed("fork", int(seconds * 1000))

    # --- samples --------------------------------------------------------------------------
    def add_if_needed(self, event: str, ms: int) -> None:
        if self.threshold and ms >= self.threshold:
            self.add(event, int(ms))

    def add(self, event: str, ms: int) -> None:
        """latencyAddSample: one sample per second per event, the larger one."""
        ts = self.events.get(event)
        if ts is None:
            ts = self.events[event] = _Series()
        if ms > ts.max:
            ts.max = ms
        now = int(time.time())
        prev = (ts.idx + TS_LEN - 1) % TS_LEN
        t, lat = ts.samples[prev]
        if t == now:
            if ms > lat:
                ts.samples[prev] = (now, ms)
            return
        ts.samples[ts.idx] = (now, ms)
        ts.idx = (ts.idx + 1) % TS_LEN

    def reset(self, events: list[str] | None = None) -> int:
        """latencyResetEvent: all events, or those named (case-insensitively); how many."""
        if events is None:
            n = len(self.events)
            self.events.clear()
            return n
        n = 0
        for name in events:
            for ev in [e for e in self.events if e.lower() == name.lower()]:
                del self.events[ev]
                n += 1
        return n

    # --- reports --------------------------------------------------------------------------
    def latest(self) -> list:
        out = []
        for name, ts in self.events.items():
            t, lat = ts.samples[(ts.idx + TS_LEN - 1) % TS_LEN]
            out.append([name.encode(), t, lat, ts.max])
        return out

    def history(self, event: str) -> list:
        ts = self.events.get(event)
        return [] if ts is None else [[t, lat] for t, lat in ts.ordered()]

    def graph(self, event: str) -> str | None:
        """latencyCommandGenSparkeline: None when the event has no samples."""
        ts = self.events.get(event)
        if ts is None:
            return None
        samples = ts.ordered()
        now = int(time.time())
        values, labels = [], []
        for t, lat in samples:
            elapsed = now - t
            if elapsed < 60:
                label = f"{elapsed}s"
            elif elapsed < 3600:
                label = f"{elapsed // 60}m"
            elif elapsed < 86400:
                label = f"{elapsed // 3600}h"
            else:
                label = f"{elapsed // 86400}d"
            values.append(lat)
            labels.append(label)
        high = max(values) if values else 0
        low = min(values) if values else 0
        head = f"{event} - high {high} ms, low {low} ms (all time high {ts.max} ms)\n" + "-" * GRAPH_COLS + "\n"
        return head + sparkline(values, labels, GRAPH_COLS, 4)

    def _stats(self, ts: _Series) -> tuple[int, int, int, int]:
        """analyzeLatencyForEvent: (samples, avg, mean absolute deviation, period in seconds)."""
        samples = [(t, lat) for t, lat in ts.samples if t]
        n = len(samples)
        if not n:
            return 0, 0, 0, 0
        avg = sum(lat for _t, lat in samples) // n
        period = int(time.time()) - min(t for t, _lat in samples) or 1
        mad = sum(abs(avg - lat) for _t, lat in samples) // n
        return n, avg, mad, period

    def doctor(self) -> str:
        """createLatencyReport, with Redis's advice for the events pyredis records."""
        cfg = self.state.config
        if not self.events and self.threshold == 0:
            return _DOCTOR_DISABLED
        adv: dict[str, bool] = {}
        lines = []
        for num, (event, ts) in enumerate(self.events.items(), 1):
            if num == 1:
                lines.append("Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
                             "about it, do you Dave?\n\n")
            n, avg, mad, period = self._stats(ts)
            line = (f"{num}. {event}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, period "
                    f"{period / n if n else 0:.2f} sec). Worst all time event {ts.max}ms.")
            ev = event.lower()
            if ev == "fork":
                rate = self.fork_rate
                quality = "terrible" if rate < 10 else "poor" if rate < 25 else "good" if rate < 100 else "excellent"
                if rate < 25:
                    adv["better_vm"] = True
                line += f" Fork rate is {rate:.2f} GB/sec ({quality})."
            for key in _EVENT_ADVICE.get(ev, ()):
                if key == "slowlog":
                    slower = cfg["slowlog-log-slower-than"]
                    if slower < 0:
                        adv["slowlog_enabled"] = True
                    elif slower // 1000 > self.threshold:
                        adv["slowlog_tuning"] = True
                else:
                    adv[key] = True
            lines.append(line + "\n")
        if _thp_in_use():
            adv["disable_thp"] = True
        report = "".join(lines)
        if not self.events and not adv:
            return report + _DOCTOR_NOTHING
        if self.events and not adv:
            return report + _DOCTOR_NO_ADVICE
        report += "\nI have a few advices for you:\n\n"
        for key, text in _ADVICE:
            if not adv.get(key):
                continue
            if key == "relax_fsync" and cfg["appendfsync"] != "always":
                continue
            if key == "hz" and cfg["hz"] >= 100:
                continue
            if "%d" in text:
                text = text % (self.threshold * 1000)
            report += text
        return report


# --- LATENCY DOCTOR's texts (latency.c) -----------------------------------------------------
_DOCTOR_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
    "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep "
    "space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
_DOCTOR_NOTHING = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest "
    "bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
_DOCTOR_NO_ADVICE = (
    "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis "
    "community to get some help, providing this report in your help request.\n")

# The advice each event calls for ("slowlog": enable or tune the slow log, then inspect it).
_EVENT_ADVICE = {
    "command": ("slowlog", "slowlog_inspect", "large_objects"),
    "fast-command": ("scheduler",),
    "aof-write-pending-fsync": ("local_disk", "disk_contention", "ssd", "data_writeback"),
    "aof-write-active-child": ("no_appendfsync", "data_writeback", "ssd"),
    "aof-write-alone": ("local_disk", "data_writeback", "ssd"),
    "aof-fsync-always": ("relax_fsync",),
    "aof-fstat": ("disk_contention", "local_disk"),
    "rdb-unlink-temp-file": ("disk_contention", "local_disk"),
    "aof-rewrite-diff-write": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "aof-rename": ("write_load_info", "data_writeback", "ssd", "local_disk"),
    "expire-cycle": ("hz", "large_objects"),
    "eviction-del": ("large_objects",),
    "eviction-cycle": ("mass_eviction",),
}

# In the order Redis prints them.
_ADVICE = [
    ("better_vm", "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior "
     "that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the "
     "context of the same VM provider, certain kinds of instances can execute fork faster than others.\n"),
    ("slowlog_enabled", "- There are latency issues with potentially slow commands you are using. Try to enable the "
     "Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled "
     "Redis is not able to log slow commands execution for you.\n"),
    ("slowlog_tuning", "- Your current Slow Log configuration only logs events that are slower than your configured "
     "latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n"),
    ("slowlog_inspect", "- Check your Slow Log to understand what are the commands you are running which are too slow "
     "to execute. Please check https://redis.io/commands/slowlog for more information.\n"),
    ("scheduler", "- The system is slow to execute Redis code paths not containing system calls. This usually means "
     "the system does not provide Redis CPU time to run for long periods. You should try to:\n"
     "  1) Lower the system load.\n"
     "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
     "  3) Check if you have a \"noisy neighbour\" problem.\n"
     "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
     "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using "
     "Jemalloc. However this may create fragmentation problems.\n"),
    ("local_disk", "- It is strongly advised to use local disks for persistence, especially if you are using AOF. "
     "Remote disks provided by platform-as-a-service providers are known to be slow.\n"),
    ("ssd", "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log "
     "rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. "
     "However Redis should perform reasonably with high load using normal disks. Use this advice as a last "
     "resort.\n"),
    ("data_writeback", "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to "
     "data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after "
     "a hard crash the AOF file will have a half-written command at the end and will require to be repaired before "
     "Redis restarts.\n"),
    ("disk_contention", "- Try to lower the disk contention. This is often caused by other disk intensive processes "
     "running in the same computer (including other Redis instances).\n"),
    ("no_appendfsync", "- Assuming from the point of view of data safety this is viable in your environment, you "
     "could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there "
     "is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk "
     "contention).\n"),
    ("relax_fsync", "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a "
     "setup, if possible try to relax the fsync policy to 'onesec'.\n"),
    ("write_load_info", "- Latency during the AOF atomic rename operation or when the final difference is flushed to "
     "the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to "
     "get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group "
     "multiple operations into a single EVALSHA call.\n"),
    ("hz", "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration "
     "parameter to 100 using 'CONFIG SET hz 100'.\n"),
    ("large_objects", "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
     "operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those "
     "objects into multiple smaller objects.\n"),
    ("mass_eviction", "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects "
     "via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE "
     "command), may create sudden memory pressure forcing the server to block trying to evict keys. \n"),
    ("disable_thp", "- I detected a non zero amount of anonymous huge pages used by your process. This creates very "
     "serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP "
     "support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it "
     "into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have "
     "already disabled THP, you still need to restart the Redis process to get rid of the huge pages already "
     "created.\n"),
]


def _thp_in_use() -> bool:
    """THPGetAnonHugePagesSize() > 0: AnonHugePages of this process (/proc/self/smaps)."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) > 0
    except OSError:
        pass
    return False


# --- sparkline.c ------------------------------------------------------------------------------
_CHARSET_FILL = "_o#"


def sparkline(values: list[int], labels: list[str], columns: int, rows: int) -> str:
    """sparklineRender with SPARKLINE_FILL: `rows` rows of _o#| per column of 80 samples, the
    labels written downwards under them after a blank line."""
    out = []
    if not values:
        return ""
    vmin, vmax = min(values), max(values)
    for start in range(0, len(values), columns):
        if start:
            out.append("\n")
        out.append(_render_range(values[start:start + columns], labels[start:start + columns], vmin, vmax, rows))
    return "".join(out)


def _render_range(values: list[int], labels: list[str], vmin: float, vmax: float, rows: int) -> str:
    relmax = (vmax - vmin) or 1
    nchars = len(_CHARSET_FILL)
    steps = nchars * rows
    lines = []
    row = 0
    while True:
        loop = False
        chars = [" "] * len(values)
        for j, v in enumerate(values):
            step = int(int((v - vmin) * steps) / relmax)
            step = min(max(step, 0), steps - 1)
            if row < rows:
                idx = step - (rows - row - 1) * nchars
                loop = True
                if 0 <= idx < nchars:
                    chars[j] = _CHARSET_FILL[idx]
                elif idx >= nchars:
                    chars[j] = "|"
            else:
                if row - rows < 1:  # the blank line between the graph and its labels
                    loop = True
                    break
                k = row - rows - 1
                if len(labels[j]) > k:
                    loop = True
                    chars[j] = labels[j][k]
        if not loop:
            break
        row += 1
        lines.append("".join(chars) + "\n")
    return "".join(lines)


# --- latency-tracking: per-command HDR histograms ---------------------------------------------
SUB_BUCKET_HALF_MAG = 7  # sub_bucket_count 256 for 2 significant digits
SUB_BUCKET_MASK = 255
COUNTS_LEN = 3072  # (23 buckets + 1) * 128: values up to 1e9 ns
MAX_NS = 1_000_000_000


def _index(v: int) -> int:
    """counts index of value v (unit magnitude 0): bucket b = bit_length(v | 255) - 8 and
    sub-bucket v >> b, index b * 128 + sub-bucket."""
    b = (v | SUB_BUCKET_MASK).bit_length() - 8
    return (b << SUB_BUCKET_HALF_MAG) + (v >> b)


def _value_at(idx: int) -> int:
    """hdr_value_at_index: the lowest value of index idx."""
    b = (idx >> SUB_BUCKET_HALF_MAG) - 1
    sub = (idx & 127) + 128
    if b < 0:
        sub -= 128
        b = 0
    return sub << b


def _highest_equivalent(v: int) -> int:
    b = (v | SUB_BUCKET_MASK).bit_length() - 8
    sub = v >> b
    size = 1 << (b + 1 if sub >= 256 else b)
    return (sub << b) + size - 1


class Histogram:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * COUNTS_LEN
        self.total = 0

    def add(self, durations_us: list[int]) -> None:
        # durations repeat (whole microseconds): count them in C first, then place each
        # distinct value once
        counts = self.counts
        for us, n in Counter(durations_us).items():
            v = us * 1000
            if v < 1:
                v = 1
            elif v > MAX_NS:
                v = MAX_NS
            counts[_index(v)] += n
        self.total += len(durations_us)

    def value_at_percentile(self, p: float) -> int:
        """hdr_value_at_percentile, in ns."""
        count_at = int(min(p, 100.0) / 100 * self.total + 0.5)
        count_at = max(count_at, 1)
        acc = 0
        for idx, n in enumerate(self.counts):
            acc += n
            if acc >= count_at:
                v = _value_at(idx)
                return v if p == 0.0 else _highest_equivalent(v)
        return 0

    def cdf(self) -> list[tuple[int, int]]:
        """fillCommandCDF: hdr_iter_log_init(1024 ns, base 2), one (us, cumulative count) per
        reporting level whose cumulative count grew."""
        out = []
        total = self.total
        counts = self.counts
        level = 1024
        idx = -1
        cum = 0
        value = 0
        prev = 0
        while cum < total or (idx + 1 < COUNTS_LEN and _value_at(idx + 1) > level):
            while True:  # log_iter_next
                if value >= level:
                    level *= 2
                    break
                idx += 1
                if idx >= COUNTS_LEN:
                    break
                cum += counts[idx]
                value = _value_at(idx)
            if cum > prev:
                out.append((_highest_equivalent(value) // 1000, cum))
            prev = cum
            if idx >= COUNTS_LEN:
                break
        return out


def fold(spec: CommandSpec) -> Histogram | None:
    """The durations recorded since (spec.lat, appended by dispatch) into the histogram."""
    pending = spec.lat
    if pending:
        spec.lat = []
        if spec.hist is None:
            spec.hist = Histogram()
        spec.hist.add(pending)
    return spec.hist


def fold_all(specs) -> None:
    for spec in specs:
        if spec.lat:
            fold(spec)


def reset_histogram(spec: CommandSpec) -> None:
    spec.lat = []
    spec.hist = None


def format_percentile(p: float) -> str:
    """sprintf("%f") then trimDoubleString: 50.0 -> "50", 99.9 -> "99.9"."""
    s = "%f" % p
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s
