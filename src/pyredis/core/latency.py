"""Per-command latency histograms (latency-tracking): what Redis 7.0 keeps in an HdrHistogram
per command (1 ns .. 1 s, two significant figures) for INFO latencystats and LATENCY HISTOGRAM.

The hot path only counts durations in microseconds (spec.latency: {usec: count}, as Redis
measures them); the HDR buckets are worked out when someone asks:

    record(spec, usec)                    # dispatch.call / blocking.served_after
    percentile(hist, p) -> float          # hdr_value_at_percentile(...) / 1000 (usec)
    cdf(hist) -> [(usec, cumulative)]     # LATENCY HISTOGRAM's histogram_usec
    percentile_label(p) -> str            # "50", "99.9" (%f, trailing zeros trimmed)
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
