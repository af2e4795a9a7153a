"""Per-command latency histograms (latency-tracking): what Redis 7.0 keeps in an HdrHistogram
per command (1 ns .. 1 s, two significant figures) for INFO latencystats and LATENCY HISTOGRAM.

The hot path only counts durations in microseconds (spec.latency: {usec: count}, as Redis
measures them); the HDR buckets are worked out when someone asks:

    record(spec, usec)                    # dispatch.call / blocking.served_after
    percentile(hist, p) -> float          # hdr_value_at_percentile(...) / 1000 (usec)
    cdf(hist) -> [(usec, cumulative)]     # LATENCY HISTOGRAM's histogram_usec
    percentile_label(p) -> str            # "50", "99.9" (%f, trailing zeros trimmed)

and the latency monitor's events (latency-monitor-threshold; state.latency_events: {event:
EventSeries}): add_sample_if_needed(state, "command", ms), as latencyAddSampleIfNeeded.
"""

from __future__ import annotations

MIN_NS = 1  # LATENCY_HISTOGRAM_MIN_VALUE
MAX_NS = 1_000_000_000  # LATENCY_HISTOGRAM_MAX_VALUE
_SUB_MASK = 255  # 2 significant figures: 256 sub-buckets, unit magnitude 0


def record(spec, usec: int) -> None:
    h = spec.latency
    if h is None:
        h = spec.latency = {}
    h[usec] = h.get(usec, 0) + 1


def _ns(usec: int) -> int:
    ns = usec * 1000
    return MIN_NS if ns < MIN_NS else MAX_NS if ns > MAX_NS else ns


def _width(ns: int) -> int:
    """The size of ns's equivalent value range (1 << bucket index)."""
    return 1 << max(0, (ns | _SUB_MASK).bit_length() - 8)


def _lowest(ns: int) -> int:
    w = _width(ns)
    return ns - ns % w


def _highest(ns: int) -> int:
    return _lowest(ns) + _width(ns) - 1


def _buckets(hist: dict[int, int]) -> list[tuple[int, int]]:
    """(lowest equivalent ns, count), ascending."""
    out: dict[int, int] = {}
    for usec, n in hist.items():
        k = _lowest(_ns(usec))
        out[k] = out.get(k, 0) + n
    return sorted(out.items())


def percentile(hist: dict[int, int], p: float) -> float:
    buckets = _buckets(hist)
    total = sum(n for _, n in buckets)
    want = max(1, int((min(p, 100.0) / 100) * total + 0.5))
    seen = 0
    value = 0
    for value, n in buckets:
        seen += n
        if seen >= want:
            break
    return (value if p == 0.0 else _highest(value)) / 1000.0


def cdf(hist: dict[int, int]) -> list[tuple[int, int]]:
    """fillCommandCDF: a log iteration from 1024 ns doubling; at each level the highest
    equivalent value in whole microseconds and how many durations are at most that, when it
    grew."""
    buckets = _buckets(hist)
    total = sum(n for _, n in buckets)
    out = []
    level = 1024
    cum = prev = 0
    i = 0
    while True:
        top = _highest(level)
        while i < len(buckets) and buckets[i][0] <= top:
            cum += buckets[i][1]
            i += 1
        if cum > prev:
            out.append((top // 1000, cum))
        prev = cum
        if cum >= total or level > MAX_NS:
            return out
        level *= 2


def percentile_label(p: float) -> str:
    text = "%f" % p
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --- the latency monitor (latency-monitor-threshold): LATENCY LATEST / HISTORY / RESET -------
TS_LEN = 160  # LATENCY_TS_LEN: samples kept per event, one per second at most


class EventSeries:
    """latencyTimeSeries: a ring of (unix time, ms) samples and the all-time max."""

    __slots__ = ("idx", "max", "samples")

    def __init__(self) -> None:
        self.idx = 0
        self.max = 0
        self.samples: list[list[int]] = [[0, 0] for _ in range(TS_LEN)]

    def add(self, now: int, ms: int) -> None:
        if ms > self.max:
            self.max = ms
        prev = self.samples[(self.idx + TS_LEN - 1) % TS_LEN]
        if prev[0] == now:  # one sample per second: the highest
            if ms > prev[1]:
                prev[1] = ms
            return
        self.samples[self.idx] = [now, ms]
        self.idx = (self.idx + 1) % TS_LEN

    def last(self) -> list[int]:
        return self.samples[(self.idx + TS_LEN - 1) % TS_LEN]

    def history(self) -> list[list[int]]:
        out = []
        for j in range(TS_LEN):
            s = self.samples[(self.idx + j) % TS_LEN]
            if s[0]:
                out.append(list(s))
        return out


def add_sample_if_needed(state, event: str, ms: int) -> None:
    """latencyAddSampleIfNeeded: only at or above latency-monitor-threshold (0: off)."""
    threshold = state.config["latency-monitor-threshold"]
    if threshold and ms >= threshold:
        import time

        series = state.latency_events.get(event)
        if series is None:
            series = state.latency_events[event] = EventSeries()
        series.add(int(time.time()), ms)


def graph(event: str, series: EventSeries, now: int) -> str:
    """latencyCommandGenSparkeline: a header, 80 dashes, then sparklineRender's rows (4 rows
    of `_o#|`, filled) with each sample's age as a vertical label."""
    samples = series.history()
    values = [ms for _, ms in samples]
    labels = [_age(now - t) for t, _ in samples]
    lo, hi = min(values), max(values)
    out = [f"{event} - high {hi} ms, low {lo} ms (all time high {series.max} ms)\n", "-" * 80 + "\n"]
    for j in range(0, len(values), 80):
        if j:
            out.append("\n")
        out.append(_render(values, labels, lo, hi, j, min(80, len(values) - j)))
    return "".join(out)


def _age(elapsed: int) -> str:
    if elapsed < 60:
        return f"{elapsed}s"
    if elapsed < 3600:
        return f"{elapsed // 60}m"
    if elapsed < 86400:
        return f"{elapsed // 3600}h"
    return f"{elapsed // 86400}d"


def _render(values, labels, lo, hi, offset: int, length: int, rows: int = 4) -> str:
    """sparklineRenderRange with SPARKLINE_FILL."""
    fill = "_o#"
    steps = len(fill) * rows
    relmax = (hi - lo) or 1
    has_labels = any(labels)
    out = []
    row = 0
    while True:
        more = False
        chars = [" "] * length
        for j in range(length):
            v = values[j + offset]
            step = int((v - lo) * steps / relmax)
            step = 0 if step < 0 else steps - 1 if step >= steps else step
            if row < rows:
                more = True
                idx = step - (rows - row - 1) * len(fill)
                if 0 <= idx < len(fill):
                    chars[j] = fill[idx]
                elif idx >= len(fill):
                    chars[j] = "|"
            else:
                if has_labels and row - rows < 1:  # the labels' top margin: an empty row
                    more = True
                    break
                label = labels[j + offset]
                k = row - rows - 1
                if len(label) > k:
                    more = True
                    chars[j] = label[k]
        if not more:
            return "".join(out)
        row += 1
        out.append("".join(chars) + "\n")


_ADVICE = {
    "slowlog_inspect": "- Check your Slow Log to understand what are the commands you are running which are too slow "
                       "to execute. Please check https://redis.io/commands/slowlog for more information.\n",
    "scheduler": "- The system is slow to execute Redis code paths not containing system calls. This usually means "
                 "the system does not provide Redis CPU time to run for long periods. You should try to:\n"
                 "  1) Lower the system load.\n"
                 "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
                 "  3) Check if you have a \"noisy neighbour\" problem.\n"
                 "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
                 "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are "
                 "using Jemalloc. However this may create fragmentation problems.\n",
    "large_objects": "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
                     "operation. If you have very large objects that are often deleted, expired, or evicted, try to "
                     "fragment those objects into multiple smaller objects.\n",
    "disable_thp": "- I detected a non zero amount of anonymous huge pages used by your process. This creates very "
                   "serious latency events in different conditions, especially when Redis is persisting on disk. To "
                   "disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', "
                   "make sure to also add it into /etc/rc.local so that the command will be executed again after a "
                   "reboot. Note that even if you have already disabled THP, you still need to restart the Redis "
                   "process to get rid of the huge pages already created.\n",
}
DOCTOR_OFF = ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "
              "\"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a "
              "deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
DOCTOR_IDLE = ("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest "
               "bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")


def _anon_huge_pages() -> int:
    """THPGetAnonHugePagesSize: AnonHugePages of this process (kB), 0 when unknown."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def doctor(state, now: int) -> str:
    """createLatencyReport, for the events pyredis records (command, fast-command,
    command-unblocking) and the THP check."""
    cfg = state.config
    threshold = cfg["latency-monitor-threshold"]
    events = state.latency_events
    if not events and threshold == 0:
        return DOCTOR_OFF
    report = []
    advise: dict[str, object] = {}
    advices = 0
    for num, (event, series) in enumerate(events.items(), 1):
        if num == 1:
            report.append("Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
                          "about it, do you Dave?\n\n")
        samples = [s for s in series.samples if s[0]]
        n = len(samples)
        avg = sum(ms for _, ms in samples) // n if n else 0
        period = (now - min(t for t, _ in samples)) or 1 if n else 0
        mad = sum(abs(avg - ms) for _, ms in samples) // n if n else 0
        report.append(f"{num}. {event}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, period "
                      f"{period / n if n else float('nan'):.2f} sec). Worst all time event {series.max}ms.")
        if event == "command":
            if cfg["slowlog-log-slower-than"] < 0 or cfg["slowlog-max-len"] == 0:
                advise["slowlog_enabled"] = True
                advices += 1
            elif int(cfg["slowlog-log-slower-than"] / 1000) > threshold:
                advise["slowlog_tuning"] = True
                advices += 1
            advise["slowlog_inspect"] = advise["large_objects"] = True
            advices += 2
        elif event == "fast-command":
            advise["scheduler"] = True
            advices += 1
        report.append("\n")
    if _anon_huge_pages() > 0:
        advise["disable_thp"] = True
        advices += 1
    if not events and not advices:
        report.append(DOCTOR_IDLE)
    elif events and not advices:
        report.append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the "
                      "Redis community to get some help, providing this report in your help request.\n")
    else:
        report.append("\nI have a few advices for you:\n\n")
        us = threshold * 1000
        if advise.get("slowlog_enabled"):
            report.append("- There are latency issues with potentially slow commands you are using. Try to enable "
                          f"the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {us}'. "
                          "If the Slow log is disabled Redis is not able to log slow commands execution for you.\n")
        if advise.get("slowlog_tuning"):
            report.append("- Your current Slow Log configuration only logs events that are slower than your "
                          f"configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than "
                          f"{us}'.\n")
        for key in ("slowlog_inspect", "scheduler", "large_objects", "disable_thp"):
            if advise.get(key):
                report.append(_ADVICE[key])
    return "".join(report)
