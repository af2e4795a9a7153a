"""Side-by-side throughput benchmark: pyredis vs redis-server, driven by redis-benchmark.

    uv run python benchmarks/compare.py [--tests set,get] [--pipeline 1,16] [--repeats 3]
                                        [--requests 100000] [--clients 50] [--interpreted] [--markdown]

Both servers run with `--save "" --appendonly no` on free loopback ports, pinned to CPU 0;
redis-benchmark is pinned to CPU 1 (taskset). For every pipeline depth, repeat and test, the
servers are measured back to back, rotating which goes first. Reported per test: the median
requests/s of each server, the ratio pyredis/redis, and each server's CPU time per request in
microseconds (utime+stime from /proc/PID/stat around each run, median). Per pipeline depth: the
geometric mean of the ratios over the tests, and the CPU time per request over the whole test
set (every run's CPU seconds over every run's requests) of each server.

--interpreted adds a third server, pyredis with PYREDIS_PURE=1 (the .py modules instead of the
compiled hot path), so the compiled and interpreted figures come from the same run.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import shutil
import statistics
import subprocess
import sys

from _servers import ServerProc

# The twelve: redis-benchmark's -t names. lrange_100 also runs its LPUSH fill (a row of
# its own, left out of the table and the geomean; the run's CPU is shared over its rows).
DEFAULT_TESTS = "ping_inline,ping_mbulk,set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset"
FILL_ROWS = ("LPUSH (needed to benchmark LRANGE)",)


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
    cpu_us = (cpu1 - cpu0) * 1e6 / (args.requests * len(rows))
    return [(r[0], float(r[1]), cpu_us) for r in rows]


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


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
    ap.add_argument("--interpreted", action="store_true",
                    help="also measure pyredis with PYREDIS_PURE=1 (the interpreted modules) in the same run")
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

    ref = "baseline" if args.baseline_python else "redis"
    plan = [(ref, [args.baseline_python, "-m", "pyredis"] if args.baseline_python else [args.redis_server], None),
            ("pyredis", [args.python, "-m", "pyredis"], {"PYREDIS_PURE": ""})]
    if args.interpreted:
        plan.append(("interpreted", [args.python, "-m", "pyredis"], {"PYREDIS_PURE": "1"}))
    servers: list[ServerProc] = []
    # results[(pipeline, row)][server] = list of (rps, cpu_us); totals[(pipeline, server)] = [cpu s, requests]
    results: dict[tuple[int, str], dict[str, list[tuple[float, float]]]] = {}
    totals: dict[tuple[int, str], list[float]] = {}
    order: list[tuple[int, str]] = []
    try:
        for name, cmd, env in plan:
            servers.append(ServerProc(name, cmd, server_cpu, env=env))
        for srv in servers:
            print(f"# {srv.name}: {' '.join(srv.cmdline)}", file=sys.stderr)
        for pipeline in pipelines:
            for rep in range(args.repeats):
                for ti, test in enumerate(tests):
                    k = (rep + ti) % len(servers)
                    for srv in servers[k:] + servers[:k]:
                        rows = run_benchmark(srv, test, args, pipeline, bench_cpu)
                        tot = totals.setdefault((pipeline, srv.name), [0.0, 0])
                        for name, rps, cpu in rows:
                            tot[0] += cpu * args.requests / 1e6
                            tot[1] += args.requests
                            key = (pipeline, name)
                            if key not in results:
                                results[key] = {s.name: [] for s in servers}
                                order.append(key)
                            results[key][srv.name].append((rps, cpu))
                    print(f"# P={pipeline} repeat {rep + 1}/{args.repeats} {test} done", file=sys.stderr)
    finally:
        for srv in servers:
            srv.stop()

    others = [s.name for s in servers[1:]]
    header = ["test", "pipeline", f"{ref} rps"]
    for o in others:
        header += [f"{o} rps", f"{o}/{ref}"]
    header += [f"{ref} µs CPU/req"] + [f"{o} µs CPU/req" for o in others]
    table: list[list[str]] = []
    ratios: dict[tuple[int, str], list[float]] = {}
    for key in order:
        if key[1] in FILL_ROWS:
            continue
        med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for n, v in results[key].items()}
        row = [key[1], str(key[0]), f"{med[ref][0]:,.0f}"]
        for o in others:
            ratio = med[o][0] / med[ref][0]
            ratios.setdefault((key[0], o), []).append(ratio)
            row += [f"{med[o][0]:,.0f}", f"{ratio:.2f}"]
        row += [f"{med[ref][1]:.2f}"] + [f"{med[o][1]:.2f}" for o in others]
        table.append(row)
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
    print()
    for pipeline in pipelines:
        for o in others:
            rs = ratios.get((pipeline, o), [])
            if not rs:
                continue
            cpu_ref = totals[(pipeline, ref)][0] / totals[(pipeline, ref)][1] * 1e6
            cpu_o = totals[(pipeline, o)][0] / totals[(pipeline, o)][1] * 1e6
            print(f"P={pipeline} {o}: geomean {o}/{ref} over {len(rs)} tests {geomean(rs):.2f} "
                  f"(lowest {min(rs):.2f}); CPU per request over the whole set: {ref} {cpu_ref:.2f} µs, "
                  f"{o} {cpu_o:.2f} µs ({cpu_o / cpu_ref:.2f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
