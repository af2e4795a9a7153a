"""Side-by-side throughput benchmark: pyredis vs redis-server, driven by redis-benchmark.

    uv run python benchmarks/compare.py [--tests set,get] [--pipeline 1,16] [--repeats 3]
                                        [--requests 100000] [--clients 50] [--markdown]

Both servers run with `--save "" --appendonly no` on free loopback ports, pinned to CPU 0;
redis-benchmark is pinned to CPU 1 (taskset). For every pipeline depth, repeat and test, the
two servers are measured back to back, alternating which goes first. Reported per test: the
median requests/s of each server, the ratio pyredis/redis, and each server's CPU time per
request in microseconds (utime+stime from /proc/PID/stat around each run, median).
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import statistics
import subprocess
import sys

from _servers import ServerProc, start_pair

DEFAULT_TESTS = "ping_inline,ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset"


def run_benchmark(srv: ServerProc, test: str, args, pipeline: int, bench_cpu: int | None) -> list[tuple[str, float, float]]:
    """One redis-benchmark run of one -t test; returns [(row name, rps, cpu µs per request)]."""
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-t", test, "-c", str(args.clients),
           "-n", str(args.requests), "-q", "--csv"]
    if pipeline > 1:
        cmd += ["-P", str(pipeline)]
    if bench_cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(bench_cpu), *cmd]
    cpu0 = srv.cpu_seconds()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    cpu1 = srv.cpu_seconds()
    if res.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed on {srv.name}: {res.stderr.strip()}")
    rows = [r for r in csv.reader(io.StringIO(res.stdout)) if r and r[0] != "test"]
    if not rows:
        raise RuntimeError(f"no output from redis-benchmark on {srv.name}: {res.stdout!r} {res.stderr!r}")
    # A test like lrange_100 also runs its LPUSH fill: CPU is shared over every row of the run.
    cpu_us = (cpu1 - cpu0) * 1e6 / (args.requests * len(rows))
    return [(r[0], float(r[1]), cpu_us) for r in rows]


def fmt_rps(x: float) -> str:
    return f"{x:,.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", default=DEFAULT_TESTS, help="comma-separated redis-benchmark -t names")
    ap.add_argument("--pipeline", default="1,16", help="comma-separated pipeline depths (-P); 1 = no pipelining")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--requests", "-n", type=int, default=100_000)
    ap.add_argument("--clients", "-c", type=int, default=50)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs `-m pyredis`")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--baseline-python", default=None,
                    help="measure against `PY -m pyredis` (another checkout's interpreter) instead of redis-server: "
                         "a no-regression check of pyredis against an earlier version, in the same run")
    ap.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)
    if not shutil.which("redis-benchmark"):
        sys.exit("redis-benchmark not found (apt-get install redis-tools)")
    server_cpu, bench_cpu = (None, None) if args.no_pin else (0, 1)
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    pipelines = [int(p) for p in args.pipeline.split(",")]

    if args.baseline_python:
        redis, ours = start_pair(args.python, args.redis_server, server_cpu, baseline_python=args.baseline_python)
    else:
        redis, ours = start_pair(args.python, args.redis_server, server_cpu)
    ref = "baseline" if args.baseline_python else "redis"
    # results[(pipeline, row)][server] = list of (rps, cpu_us)
    results: dict[tuple[int, str], dict[str, list[tuple[float, float]]]] = {}
    order: list[tuple[int, str]] = []
    try:
        print(f"# redis: {' '.join(redis.cmdline)}", file=sys.stderr)
        print(f"# pyredis: {' '.join(ours.cmdline)}", file=sys.stderr)
        for pipeline in pipelines:
            for rep in range(args.repeats):
                for test in tests:
                    pair = (redis, ours) if (rep + tests.index(test)) % 2 == 0 else (ours, redis)
                    for srv in pair:
                        for name, rps, cpu in run_benchmark(srv, test, args, pipeline, bench_cpu):
                            key = (pipeline, name)
                            if key not in results:
                                results[key] = {"redis": [], "pyredis": []}
                                order.append(key)
                            results[key][srv.name].append((rps, cpu))
                    print(f"# P={pipeline} repeat {rep + 1}/{args.repeats} {test} done", file=sys.stderr)
    finally:
        redis.stop()
        ours.stop()

    header = ["test", "pipeline", f"{ref} rps", "pyredis rps", f"pyredis/{ref}", f"{ref} µs CPU/req", "pyredis µs CPU/req"]
    table = []
    for key in order:
        r, p = results[key]["redis"], results[key]["pyredis"]
        if not r or not p:
            continue
        r_rps = statistics.median(x[0] for x in r)
        p_rps = statistics.median(x[0] for x in p)
        r_cpu = statistics.median(x[1] for x in r)
        p_cpu = statistics.median(x[1] for x in p)
        table.append([key[1], str(key[0]), fmt_rps(r_rps), fmt_rps(p_rps), f"{p_rps / r_rps:.2f}",
                      f"{r_cpu:.2f}", f"{p_cpu:.2f}"])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        for row in table:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
