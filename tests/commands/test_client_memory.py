"""What clients cost and what the server does about it, against redis-server 7.0: CLIENT LIST's
memory fields, client-output-buffer-limit (normal and pubsub classes, hard and soft limits,
Redis's log line), maxmemory-clients with client eviction and CLIENT NO-EVICT,
client-query-buffer-limit, the idle `timeout`, tcp-keepalive and maxclients.

The limits run on a fresh pair of servers (`pair`: a pyredis in a thread and a redis-server,
the same directives, each logging to its own file), so the shared servers keep their
configuration. Where a scenario floods one client, the other clients' latency is measured on
both servers in the same test and compared.
"""

from __future__ import annotations

import re
import socket
import statistics
import time
import tracemalloc
from contextlib import contextmanager

import pyredis
from conftest import RealRedis
from resp import RawClient, encode_command

MB = 1024 * 1024


def fields(line: bytes) -> dict[str, str]:
    text = bytes(line).decode()
    return dict(tok.split("=", 1) for tok in text.strip().split(" "))


def info_of(admin: RawClient, cid: int) -> dict[str, str]:
    return fields(admin.call("CLIENT", "LIST", "ID", str(cid)))


def gone(admin: RawClient, cid: int, wait: float = 10.0) -> bool:
    deadline = time.monotonic() + wait
    while bytes(admin.call("CLIENT", "LIST", "ID", str(cid))).strip():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def stat(c: RawClient, section: str, name: str) -> str:
    text = bytes(c.call("INFO", section)).decode()
    return re.search(rf"^{name}:(.*)\r$", text, re.M).group(1)


class Pair:
    def __init__(self, ours, theirs, logs) -> None:
        self.ours, self.theirs, self.logs = ours, theirs, logs
        self.ports = (ours.port, theirs.port)

    def log(self, which: int) -> str:
        with open(self.logs[which], errors="replace") as f:
            return f.read()


@contextmanager
def pair(tmp_path, **directives):
    """A pyredis (thread) and a redis-server with the same directives (name_with_underscores),
    both logging at `notice` to files."""
    logs = (str(tmp_path / "pyredis.log"), str(tmp_path / "redis.log"))
    extra = []
    for k, v in directives.items():
        extra += [f"--{k.replace('_', '-')}", *str(v).split(" ")] if k == "client_output_buffer_limit" else \
            [f"--{k.replace('_', '-')}", str(v)]
    theirs = RealRedis("--logfile", logs[1], "--loglevel", "notice", *extra, dir=str(tmp_path))
    try:
        (tmp_path / "ours").mkdir()
        with pyredis.Server(port=0, logfile=logs[0], loglevel="notice", dir=str(tmp_path / "ours"),
                            enable_debug_command="yes", **directives) as ours:
            yield Pair(ours, theirs, logs)
    finally:
        theirs.stop()


def latencies(port: int, stop_after: float, n_min: int = 50) -> list[float]:
    """PING round trips of a fresh client for `stop_after` seconds (at least n_min)."""
    c = RawClient("127.0.0.1", port)
    out = []
    t_end = time.monotonic() + stop_after
    try:
        while time.monotonic() < t_end or len(out) < n_min:
            t = time.perf_counter()
            assert c.call("PING") == b"PONG"
            out.append(time.perf_counter() - t)
    finally:
        c.close()
    return out


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98] if len(xs) > 1 else xs[0]


# --- CLIENT LIST memory fields ---------------------------------------------------------------

def test_memory_fields_follow_the_buffers(both):
    """argv-mem, multi-mem and obl as Redis counts them; qbuf holds a pipelined read and a
    partial request; omem the output a client does not read; tot-mem covers them."""
    def sc(env):
        c, admin = env.client(), env.client()
        cid = c.call("CLIENT", "ID")
        out = []
        pipe = encode_command(["SET", "a", "b"]) + encode_command(["GET", "a"]) + encode_command(["CLIENT", "INFO"])
        c.send(pipe)
        c.read()
        c.read()
        f = fields(c.read())
        out.append((f["argv-mem"], f["obl"] == "12", f["qbuf"] == str(len(pipe))))
        c.call("MULTI")
        c.call("SET", "a", "b")
        c.call("SET", "c", "dddd")
        f = info_of(admin, cid)
        out.append((f["multi"], f["multi-mem"], f["argv-mem"], f["qbuf"]))
        c.call("DISCARD")
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + b"x" * 50000)
        deadline = time.monotonic() + 5
        while int(info_of(admin, cid)["qbuf"]) < 50000:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        f = info_of(admin, cid)
        out.append(int(f["tot-mem"]) > int(f["qbuf"]) >= 50000)
        c.send(b"x" * 50000 + b"\r\n")
        out.append(c.read())
        s = env.client()
        sid = s.call("CLIENT", "ID")
        s.call("SUBSCRIBE", "flood")
        for _ in range(40):
            admin.call("PUBLISH", "flood", "m" * 100000)
        f = info_of(admin, sid)
        out.append((int(f["omem"]) > 0, int(f["oll"]) > 0, int(f["tot-mem"]) > int(f["omem"]), "w" in f["events"]))
        return out

    out = both(sc)
    assert out[0] == ("10", True, True) and out[1] == ("2", "61", "0", "0")


def test_client_base_cost_is_what_a_connection_holds(pyredis_srv):
    """CLIENT_BASE (the Python objects behind an idle connection, part of tot-mem) is within a
    factor of two of what tracemalloc sees the server allocate per connection."""
    from pyredis.core.clients import CLIENT_BASE

    warm = [RawClient("127.0.0.1", pyredis_srv.port) for _ in range(10)]
    for w in warm:
        w.call("PING")
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        clients = [RawClient("127.0.0.1", pyredis_srv.port) for _ in range(100)]
        for c in clients:
            c.call("PING")
        time.sleep(0.2)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    flt = [tracemalloc.Filter(True, "*pyredis*"), tracemalloc.Filter(True, "*asyncio*"),
           tracemalloc.Filter(True, "*uvloop*")]
    per = sum(s.size_diff for s in after.filter_traces(flt).compare_to(before.filter_traces(flt), "filename")) / 100
    for c in clients + warm:
        c.close()
    assert CLIENT_BASE / 2 <= per <= CLIENT_BASE * 2, per


# --- client-output-buffer-limit --------------------------------------------------------------

def test_normal_client_pipelining_big_gets_without_reading_is_dropped(tmp_path):
    """A client pipelines GETs of a 10 MB value and never reads: the normal-class hard limit
    drops it with Redis's log line; the server keeps a bounded amount for it (this process's
    RSS, where the pyredis thread runs, grows by a few times the value, not by the 2 GB of
    replies asked for) and the other clients are served meanwhile as promptly as by
    redis-server."""
    with pair(tmp_path, client_output_buffer_limit="normal 32mb 0 0") as p:
        baseline = _rss_mb()
        results = []
        dropped = re.compile(r"Client id=\d+ addr=\S+ laddr=\S+ fd=\d+ name=flood .* scheduled to be closed ASAP "
                             r"for overcoming of output buffer limits\.")
        for which, port in enumerate(p.ports):
            admin = RawClient("127.0.0.1", port)
            admin.call("SET", "big", "v" * (10 * MB))
            flood = socket.socket()
            flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            flood.connect(("127.0.0.1", port))
            flood.sendall(encode_command(["CLIENT", "SETNAME", "flood"]) + encode_command(["GET", "big"]) * 200)
            lat = latencies(port, 1.0)
            deadline = time.monotonic() + 10
            while not dropped.search(p.log(which)):
                assert time.monotonic() < deadline, ("the flooding client was not dropped", p.log(which)[-2000:])
                time.sleep(0.01)
            assert b" name=flood " not in bytes(admin.call("CLIENT", "LIST"))
            results.append((lat, _rss_mb()))
            flood.close()
            admin.call("DEL", "big")
            admin.close()
        (ours_lat, rss), (theirs_lat, _) = results
        assert rss < baseline + 200, (rss, baseline)
        assert p99(ours_lat) <= 10 * p99(theirs_lat) + 0.05, (p99(ours_lat), p99(theirs_lat))


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _publish_until_dropped(port: int, payload: bytes, pause: float, limit_s: float) -> tuple[float | None, list, list]:
    """Subscribe a client that never reads, then publish `payload` every `pause` seconds until
    PUBSUB NUMSUB says it is gone (or limit_s passed). Returns (seconds until it was dropped,
    the receiver counts PUBLISH answered, other clients' PING latencies meanwhile)."""
    admin = RawClient("127.0.0.1", port)
    sub = socket.socket()
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sub.connect(("127.0.0.1", port))
    sub.sendall(encode_command(["CLIENT", "SETNAME", "slowsub"]) + encode_command(["SUBSCRIBE", "news"]))
    while admin.call("PUBSUB", "NUMSUB", "news")[1] != 1:
        time.sleep(0.005)
    pinger = RawClient("127.0.0.1", port)
    counts, lat = [], []
    t0 = time.monotonic()
    dropped = None
    try:
        while time.monotonic() - t0 < limit_s:
            counts.append(admin.call("PUBLISH", "news", payload))
            t = time.perf_counter()
            assert pinger.call("PING") == b"PONG"
            lat.append(time.perf_counter() - t)
            if admin.call("PUBSUB", "NUMSUB", "news")[1] == 0:
                dropped = time.monotonic() - t0
                break
            time.sleep(pause)
    finally:
        sub.close()
        pinger.close()
        admin.close()
    return dropped, counts, lat


def test_slow_subscriber_is_dropped_at_the_pubsub_hard_limit(tmp_path):
    with pair(tmp_path, client_output_buffer_limit="pubsub 2mb 0 0") as p:
        ours, theirs = (_publish_until_dropped(port, b"m" * 100_000, 0, 30) for port in p.ports)
        assert ours[0] is not None and theirs[0] is not None
        # what was published before the drop: about 2 MB beyond what the socket buffers took
        assert set(ours[1]) == set(theirs[1]) == {1}
        for i in (0, 1):
            assert re.search(r"Client id=\d+ .*name=slowsub .*flags=P .*sub=1 .* scheduled to be closed ASAP for "
                             r"overcoming of output buffer limits\.", p.log(i)), p.log(i)[-2000:]
        assert p99(ours[2]) <= 10 * p99(theirs[2]) + 0.05, (p99(ours[2]), p99(theirs[2]))


def test_slow_subscriber_is_dropped_after_soft_seconds_over_the_soft_limit(tmp_path):
    """Over the soft limit for more than soft-seconds (1 s here): dropped, not at once, and
    when redis-server drops it (measured in the same test)."""
    with pair(tmp_path, client_output_buffer_limit="pubsub 0 512kb 1") as p:
        ours, theirs = (_publish_until_dropped(port, b"m" * 200_000, 0.05, 20) for port in p.ports)
        # the kernel's socket buffers take the first megabytes; then the soft limit is reached
        # and the subscriber goes more than a second later, on both servers alike
        for dropped in (ours[0], theirs[0]):
            assert dropped is not None and dropped > 1.0, (ours[0], theirs[0])
        assert abs(ours[0] - theirs[0]) <= 1.5, (ours[0], theirs[0])


def test_output_buffer_limit_config_and_errors(diff):
    for args in (("normal", "1mb", "512kb", "10"), ("pubsub", "0", "0", "0"), ("replica", "1gb", "1gb", "0"),
                 ("slave", "1", "2", "3"), ("master", "1", "2", "3"), ("foo", "1", "2", "3"), ("normal", "x", "1", "1"),
                 ("normal", "1", "1", "-1"), ("normal", "1", "1"), ("normal", "1mb", "1mb", "1", "pubsub", "3", "4", "5")):
        try:
            diff.check("CONFIG", "SET", "client-output-buffer-limit", " ".join(args))
            diff.check("CONFIG", "GET", "client-output-buffer-limit")
        finally:
            diff.both("CONFIG", "SET", "client-output-buffer-limit",
                      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")


# --- maxmemory-clients: client eviction ---------------------------------------------------

def test_client_eviction_by_query_buffer_spares_no_evict_clients(tmp_path):
    """maxmemory-clients 1mb: a client holding 2 MB of partial request is evicted, with Redis's
    log line and evicted_clients; the same from a CLIENT NO-EVICT ON client is left alone (it
    is not counted), and so are small clients."""
    with pair(tmp_path, maxmemory_clients="1mb") as p:
        out = []
        for which, port in enumerate(p.ports):
            admin = RawClient("127.0.0.1", port)
            small = RawClient("127.0.0.1", port)
            keep = RawClient("127.0.0.1", port)
            keep_id = keep.call("CLIENT", "ID")
            keep.call("CLIENT", "NO-EVICT", "ON")
            keep.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n" + b"x" * 2_000_000)
            while int(info_of(admin, keep_id)["qbuf"]) < 2_000_000:
                time.sleep(0.01)
            big = RawClient("127.0.0.1", port)
            big_id = big.call("CLIENT", "ID")
            big.call("CLIENT", "SETNAME", "big")
            big.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n" + b"x" * 2_000_000)
            out.append((gone(admin, big_id), small.call("PING"), info_of(admin, keep_id)["flags"],
                        stat(admin, "stats", "evicted_clients")))
            assert re.search(r"Evicting client: id=\d+ .*name=big ", p.log(which)), p.log(which)[-2000:]
            for c in (admin, small, keep, big):
                c.close()
        assert out[0] == out[1] == (True, b"PONG", "e", "1"), out


def test_client_eviction_by_output_buffer(tmp_path):
    """A client that asks for 3 x 10 MB and does not read is evicted under maxmemory-clients
    5mb (no output buffer limit for normal clients)."""
    with pair(tmp_path, maxmemory_clients="5mb") as p:
        for port in p.ports:
            admin = RawClient("127.0.0.1", port)
            admin.call("CLIENT", "NO-EVICT", "ON")  # (its 10 MB SET would get it evicted)
            admin.call("SET", "big", "v" * (10 * MB))
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            c.connect(("127.0.0.1", port))
            c.sendall(encode_command(["CLIENT", "SETNAME", "reader"]) + encode_command(["GET", "big"]) * 3)
            deadline = time.monotonic() + 10
            while stat(admin, "stats", "evicted_clients") != "1":
                assert time.monotonic() < deadline, "not evicted"
                time.sleep(0.01)
            assert b" name=reader " not in bytes(admin.call("CLIENT", "LIST"))
            c.close()
            admin.close()


def test_maxmemory_clients_config(diff):
    for v in ("0", "1mb", "10%", "100%", "101%", "-1", "x", "1kb", "0%"):
        try:
            diff.check("CONFIG", "SET", "maxmemory-clients", v)
            diff.check("CONFIG", "GET", "maxmemory-clients")
        finally:
            diff.both("CONFIG", "SET", "maxmemory-clients", "0")


# --- client-query-buffer-limit ----------------------------------------------------------

def test_query_buffer_limit_closes_with_redis_log_line(tmp_path):
    with pair(tmp_path, client_query_buffer_limit="1mb") as p:
        for which, port in enumerate(p.ports):
            admin = RawClient("127.0.0.1", port)
            c = RawClient("127.0.0.1", port)
            cid = c.call("CLIENT", "ID")
            c.call("CLIENT", "SETNAME", "greedy")
            try:
                c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n" + b"x" * 2_000_000)
            except OSError:
                pass
            assert gone(admin, cid)
            assert admin.call("PING") == b"PONG"
            assert re.search(r"Closing client that reached max query buffer length: id=\d+ .*name=greedy .* "
                             r"\(qbuf initial bytes: \"", p.log(which)), p.log(which)[-2000:]
            admin.close()


# --- timeout, tcp-keepalive, maxclients ---------------------------------------------------

def test_timeout_closes_idle_clients_but_not_subscribers_blocked_or_monitors(tmp_path):
    with pair(tmp_path, timeout="1") as p:
        out = []
        for port in p.ports:
            idle, sub, blocked, mon, busy = (RawClient("127.0.0.1", port) for _ in range(5))
            ids = [c.call("CLIENT", "ID") for c in (idle, sub, blocked, mon, busy)]
            sub.call("SUBSCRIBE", "ch")
            blocked.send(encode_command(["BLPOP", "nokey", "0"]))
            mon.call("MONITOR")
            t_end = time.monotonic() + 3.5
            while time.monotonic() < t_end:  # `busy` keeps talking
                busy.call("PING")
                time.sleep(0.2)
            admin = RawClient("127.0.0.1", port)
            alive = bytes(admin.call("CLIENT", "LIST"))
            out.append([f"id={i} ".encode() in alive for i in ids])
            for c in (idle, sub, blocked, mon, busy, admin):
                c.close()
        assert out[0] == out[1] == [False, True, True, True, True], out


def test_tcp_keepalive_is_set_on_accepted_sockets():
    with pyredis.Server(port=0, tcp_keepalive="60") as s:
        c = RawClient("127.0.0.1", s.port)
        c.call("PING")
        conns = list(s._srv.connections.values())
        sock = conns[0].transport.get_extra_info("socket")
        opts = (sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT))
        c.close()
    assert opts == (1, 60, 20, 3)
    with pyredis.Server(port=0, tcp_keepalive="0") as s:
        c = RawClient("127.0.0.1", s.port)
        c.call("PING")
        sock = list(s._srv.connections.values())[0].transport.get_extra_info("socket")
        off = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        c.close()
    assert off == 0


def test_maxclients_refuses_the_extra_connections_while_serving_the_others(tmp_path):
    """maxclients 32: 2,000 more connections are refused with Redis's text (rejected_connections
    counts them) while the connected clients keep being served; their latency meanwhile is
    compared with redis-server's in the same test."""
    with pair(tmp_path, maxclients="32") as p:
        results = []
        for port in p.ports:
            admin = RawClient("127.0.0.1", port)
            served = [RawClient("127.0.0.1", port) for _ in range(31)]  # with admin: the limit
            replies, lat = set(), []
            extra = []
            for i in range(2000):
                s = socket.create_connection(("127.0.0.1", port))
                extra.append(s)
                if i % 20 == 0:
                    c = served[(i // 20) % len(served)]
                    t = time.perf_counter()
                    assert c.call("PING") == b"PONG"
                    lat.append(time.perf_counter() - t)
                if len(extra) >= 200:
                    for s in extra:
                        replies.add(_read_all(s))
                    extra = []
            for s in extra:
                replies.add(_read_all(s))
            n_clients = int(stat(admin, "clients", "connected_clients"))
            rejected = int(stat(admin, "stats", "rejected_connections"))
            results.append((replies, n_clients, rejected, lat))
            for c in (*served, admin):
                c.close()
        (r1, n1, rej1, lat1), (r2, n2, rej2, lat2) = results
        assert r1 == r2 == {b"-ERR max number of clients reached\r\n"}
        assert n1 == n2 == 32 and rej1 == rej2 == 2000
        assert p99(lat1) <= 10 * p99(lat2) + 0.05, (p99(lat1), p99(lat2))


def _read_all(s: socket.socket) -> bytes:
    s.settimeout(5)
    out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            out += d
    except ConnectionResetError:
        pass
    s.close()
    return out


def test_info_recent_max_buffers(both):
    """client_recent_max_input_buffer / output_buffer: a partial 300 KB request and 20 MB of
    unread messages show in the peaks within a few seconds (clientsCron's once a second)."""
    def sc(env):
        admin, big, sub = env.client(), env.client(), env.client()
        sub.call("SUBSCRIBE", "peak")
        big.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$400000\r\n" + b"x" * 300_000)
        for _ in range(100):  # 20 MB: more than the socket buffers take
            admin.call("PUBLISH", "peak", "m" * 200_000)
        deadline = time.monotonic() + 5
        while True:
            i = int(stat(admin, "clients", "client_recent_max_input_buffer"))
            o = int(stat(admin, "clients", "client_recent_max_output_buffer"))
            if (i >= 300_000 and o > 0) or time.monotonic() > deadline:
                return [i >= 300_000, o > 0]
            time.sleep(0.05)

    assert both(sc) == [True, True]
