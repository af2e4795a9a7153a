"""Replication test helpers: servers of both kinds as nodes of a topology, a mixed write load,
and the waits a test needs (link up, replicas caught up).

    m = pyredis_node()                      # in-thread pyredis, DEBUG on, diskless delay 0
    s = redis_node("--replicaof", "127.0.0.1", str(m.port))   # a redis-server 7.0.15
    link_up(s); mixed_load(m.r); caught_up(m, s); assert digest(m) == digest(s)
    stop(m, s)                              # every node a test starts, the test stops

A node has .port, .r (redis-py client, RESP2), .kind ("pyredis" | "redis"), .log() (its log
text) and .stop().
"""

from __future__ import annotations

import os
import tempfile
import time

import subprocess as sp

import redis

import pyredis
from conftest import REDIS_SERVER, RealRedis, stop_process


class Node:
    def __init__(self, kind: str, port: int, stopper, logfile: str, dir: str, proc=None, args=None) -> None:
        self.args = args  # how it was started: restart() starts it again on the same port and dir
        self.kind = kind
        self.port = port
        self._stop = stopper
        self.logfile = logfile
        self.dir = dir
        self.proc = proc
        self.r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)

    def log(self) -> str:
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def info(self, section: str = "replication") -> dict:
        return self.r.info(section)

    def stop(self) -> None:
        try:
            self.r.close()
        finally:
            self._stop()


def pyredis_node(subprocess: bool = False, **config) -> Node:
    d = tempfile.mkdtemp(prefix="repl-py-")
    log = os.path.join(d, "log")
    config.setdefault("enable_debug_command", "yes")
    config.setdefault("repl_diskless_sync_delay", 0)
    config.setdefault("loglevel", "notice")
    config.setdefault("dir", d)
    config.setdefault("logfile", log)
    srv = pyredis.Server(port=config.pop("port", 0), subprocess=subprocess, **config)
    srv.start()
    return Node("pyredis", srv.port, srv.stop, log, d, proc=srv.proc, args=(subprocess, config))


def redis_node(*args: str) -> Node:
    d = tempfile.mkdtemp(prefix="repl-rs-")
    log = os.path.join(d, "log")
    rr = RealRedis("--repl-diskless-sync-delay", "0", "--loglevel", "notice", "--logfile", log, *args, dir=d)
    return Node("redis", rr.port, rr.stop, log, d, proc=rr.proc, args=args)


def restart(n: Node) -> Node:
    """The same server started again (after a SHUTDOWN or stop) on its port and directory,
    loading what it saved there."""
    if n.kind == "pyredis":
        subprocess, config = n.args
        return pyredis_node(subprocess, port=n.port, **config)
    log = os.path.join(n.dir, "log")
    proc = sp.Popen([REDIS_SERVER, "--port", str(n.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", n.dir, "--daemonize", "no", "--enable-debug-command", "yes",
                     "--repl-diskless-sync-delay", "0", "--loglevel", "notice", "--logfile", log, *n.args],
                    stdout=sp.DEVNULL, stderr=sp.DEVNULL)
    new = Node("redis", n.port, lambda: stop_process(proc), log, n.dir, proc=proc, args=n.args)
    wait_until(lambda: new.r.ping(), what="redis-server restarted")
    return new


def node(kind: str, *redis_args: str, **config) -> Node:
    """A node of either kind: redis_args are redis-server's --options, config pyredis's; the
    same settings given both ways by tests that run a scenario on both kinds."""
    if kind == "redis":
        return redis_node(*redis_args)
    return pyredis_node(**config)


def stop(*nodes: Node | None) -> None:
    for n in nodes:
        if n is not None:
            n.stop()


def wait_until(fn, timeout: float = 15.0, what: str = "condition", interval: float = 0.02):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def link_up(*nodes: Node, timeout: float = 20.0) -> None:
    for n in nodes:
        wait_until(lambda n=n: n.info().get("master_link_status") == "up", timeout, f"link up on {n.kind}:{n.port}")


def caught_up(master: Node, *replicas: Node, timeout: float = 20.0) -> None:
    """Every replica applied all of the master's stream (offsets equal)."""
    def done() -> bool:
        off = master.info()["master_repl_offset"]
        return all(r.info().get("slave_repl_offset") == off for r in replicas) and \
            master.info()["master_repl_offset"] == off
    wait_until(done, timeout, "replicas caught up")


def digest(n: Node) -> bytes:
    return n.r.execute_command("DEBUG", "DIGEST")


def libraries(n: Node) -> list[bytes]:
    """The names of the function libraries (FUNCTION LIST), sorted."""
    return sorted(dict(zip(lib[::2], lib[1::2]))[b"library_name"] for lib in n.r.function_list())


def mixed_load(r: redis.Redis, p: str = "", functions: bool = True) -> None:
    """Writes of every type, with expiries, scripts, a function, MULTI/EXEC, SELECT, SWAPDB,
    FLUSHDB, MOVE/COPY, random-effect commands (SPOP), keys that expire on the master and
    requests bigger than one read (a 700 kB value, a 40,000-argument MSET)."""
    r.execute_command("SELECT", 0)
    r.set(f"{p}s", "v")
    r.append(f"{p}s", "w")
    r.incr(f"{p}n")
    r.incrbyfloat(f"{p}f", 1.5)
    r.set(f"{p}ex", "x", ex=3600)
    r.execute_command("SETEX", f"{p}ex2", 3600, "y")
    r.set(f"{p}gone", "x", px=20)
    r.set(f"{p}p", "x", ex=100)
    r.persist(f"{p}p")
    r.setrange(f"{p}s", 10, "range")
    r.setbit(f"{p}bits", 77, 1)
    r.execute_command("BITFIELD", f"{p}bf", "SET", "i8", 0, 100, "INCRBY", "u4", 8, 3)
    r.rpush(f"{p}l", *range(20))
    r.lpush(f"{p}l", "head")
    r.linsert(f"{p}l", "BEFORE", "5", "five")
    r.lset(f"{p}l", 0, "HEAD")
    r.ltrim(f"{p}l", 0, 15)
    r.lpop(f"{p}l")
    r.lmove(f"{p}l", f"{p}l2", "LEFT", "RIGHT")
    r.hset(f"{p}h", mapping={f"f{i}": i for i in range(10)})
    r.hincrby(f"{p}h", "f1", 5)
    r.hdel(f"{p}h", "f2")
    r.hset(f"{p}bigh", mapping={f"f{i}": "x" * 70 for i in range(200)})
    # requests larger than one read of the link: the replica's offset must count every byte
    r.set(f"{p}bigs", "y" * 700_000)
    r.mset({f"{p}ms{i}": i for i in range(20_000)})
    r.sadd(f"{p}set", *[f"m{i}" for i in range(30)])
    r.spop(f"{p}set", 3)
    r.srem(f"{p}set", "m1")
    r.sadd(f"{p}iset", 1, 2, 3)
    r.zadd(f"{p}z", {f"m{i}": i * 1.5 for i in range(40)})
    r.zincrby(f"{p}z", 2, "m3")
    r.zpopmin(f"{p}z", 2)
    r.zrem(f"{p}z", "m10")
    r.zadd(f"{p}bigz", {f"m{i}": i for i in range(200)})
    r.pfadd(f"{p}hll", *[f"e{i}" for i in range(100)])
    r.pfadd(f"{p}hll2", "a", "b")
    r.pfmerge(f"{p}hll3", f"{p}hll", f"{p}hll2")
    r.geoadd(f"{p}geo", (13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania"))
    for i in range(1, 15):
        r.xadd(f"{p}x", {"f": i}, id=f"{i}-1")
    r.xgroup_create(f"{p}x", "g", id="0")
    r.xreadgroup("g", "alice", {f"{p}x": ">"}, count=3)
    r.xack(f"{p}x", "g", "1-1")
    r.xtrim(f"{p}x", maxlen=12)
    r.xclaim(f"{p}x", "g", "bob", 0, ["2-1"])
    r.eval("redis.call('set', KEYS[1], ARGV[1]); redis.call('incr', KEYS[2]); return redis.call('spop', KEYS[3])",
           3, f"{p}lua", f"{p}luan", f"{p}set", "val")
    r.eval("#!lua\nredis.call('rpush', KEYS[1], 'a', 'b')", 1, f"{p}lual")
    if functions:
        tag = p.replace(":", "_") or "x"
        r.function_load("#!lua name=lib%s\nredis.register_function('fset%s', function(k, a) "
                        "return redis.call('set', k[1], a[1]) end)" % (tag, tag), replace=True)
        r.fcall(f"fset{tag}", 1, f"{p}fn", "fv")
    pipe = r.pipeline(transaction=True)
    pipe.set(f"{p}t1", 1).incr(f"{p}t1").lpush(f"{p}tl", 1, 2).expire(f"{p}tl", 3600).execute()
    r.rename(f"{p}s", f"{p}s2")
    r.copy(f"{p}h", f"{p}hcopy")
    r.delete(f"{p}n")
    r.unlink(f"{p}f")
    r.execute_command("SELECT", 5)
    r.set(f"{p}db5", "five", ex=3600)
    r.hset(f"{p}db5h", "a", 1)
    r.execute_command("SELECT", 6)
    r.set(f"{p}db6", "six")
    r.execute_command("SWAPDB", 5, 6)
    r.execute_command("SELECT", 7)
    r.set(f"{p}db7", "seven")
    r.flushdb()
    r.set(f"{p}db7b", "kept")
    r.execute_command("SELECT", 0)
    r.move(f"{p}ex", 9)
    time.sleep(0.05)
    r.get(f"{p}gone")  # expired on the master: the DEL is propagated


def settle(master: Node, *replicas: Node) -> None:
    """The stream applied everywhere: WAIT from a writing connection, then equal offsets."""
    master.r.set("__settle__", time.time())
    caught_up(master, *replicas)
