"""CLIENT PAUSE / UNPAUSE, differentially against redis-server 7.0 (the `both` fixture: one
scenario on each server, the observations compared): which commands a WRITE pause holds,
that held clients show as blocked and resume in the order they were held, that a pause
started inside a transaction lets the transaction finish, that expired keys are neither
deleted lazily nor by the active cycle while paused, and that an ALL pause holds everybody.

Holding is observed without timing: a held client is listed with flags=b by an admin
connection (reads go on under WRITE) and its reply arrives only after CLIENT UNPAUSE. The
ALL pause holds the admin too: there both servers' hold times are measured and compared.
"""

from __future__ import annotations

import time

from resp import encode_command

FOREVER = "100000"


def blocked_ids(env) -> list[bytes]:
    """The ids of the clients listed with b among their flags (x b for a client in MULTI)."""
    lines = bytes(env.admin.call("CLIENT", "LIST")).split(b"\n")
    return [line.split(b" ")[0] for line in lines if b"b" in line.split(b" flags=")[-1].split(b" ")[0]]


def held(env, c, *cmd) -> None:
    """Send cmd on c and wait until the server lists c as blocked (held by the pause)."""
    before = len(blocked_ids(env))
    c.send(encode_command(cmd))
    deadline = time.time() + 5
    while len(blocked_ids(env)) != before + 1:
        assert time.time() < deadline, f"{cmd} not held"
        time.sleep(0.005)


def test_write_pause_holds_what_may_write_or_replicate(both):
    def sc(env):
        p = env.client()
        p.call("FUNCTION", "LOAD", "REPLACE", "#!lua name=plib\n"
               "redis.register_function('fw', function(k) return redis.call('set', k[1], 'f') end)\n"
               "redis.register_function{function_name='fr', callback=function(k) return redis.call('get', k[1]) end, "
               "flags={'no-writes'}}")
        p.call("SET", "k", "0")
        out = [p.call("CLIENT", "PAUSE", FOREVER, "WRITE")]
        # not held: reads, read-only scripts and functions, MULTI, EXEC of reads, admin commands
        r = env.client()
        for cmd in (("GET", "k"), ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"),
                    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "k"),
                    ("FCALL_RO", "fr", "1", "k"), ("FCALL", "fr", "1", "k"), ("MULTI",), ("GET", "k"), ("EXEC",),
                    ("CLIENT", "INFO"), ("DBSIZE",), ("PUBSUB", "CHANNELS")):
            reply = r.call(*cmd)
            out.append(reply if cmd != ("CLIENT", "INFO") else b" flags=N " in bytes(reply))
        # held: writes, may-replicate commands, scripts that may write, a write queued in MULTI
        waiting = []
        for cmd in (("SET", "k", "1"), ("INCR", "n"), ("PUBLISH", "ch", "m"), ("SPUBLISH", "ch", "m"),
                    ("PFCOUNT", "hll"), ("EVAL", "return redis.call('incr', 'n')", "0"),
                    ("EVAL", "return 1", "0"), ("FCALL", "fw", "1", "k2"),
                    ("EVAL", "#!lua\nreturn redis.call('incr', 'n')", "0")):
            c = env.client()
            held(env, c, *cmd)
            waiting.append(c)
        m = env.client()
        out += [m.call("MULTI"), m.call("GET", "k")]
        held(env, m, "INCR", "n")  # 7.0 holds before queueing
        waiting.append(m)
        out += [len(blocked_ids(env)), r.call("GET", "k"), r.call("GET", "n"),
                r.call("INFO", "clients").split(b"blocked_clients:")[1].split(b"\r\n")[0]]
        out.append(p.call("CLIENT", "UNPAUSE"))
        out += [c.read() for c in waiting]
        out += [m.call("EXEC"), r.call("GET", "k"), r.call("GET", "n"), r.call("GET", "k2"), len(blocked_ids(env))]
        return out

    out = both(sc)
    assert out[0] == b"OK" and out[-1] == 0


def test_exec_of_a_transaction_with_writes_is_held(both):
    def sc(env):
        p, c = env.client(), env.client()
        out = [c.call("MULTI"), c.call("SET", "k", "v"), p.call("CLIENT", "PAUSE", FOREVER, "WRITE")]
        held(env, c, "EXEC")
        out += [p.call("GET", "k"), p.call("CLIENT", "UNPAUSE"), c.read(), p.call("GET", "k")]
        return out

    assert both(sc)[-1] == b"v"


def test_held_clients_resume_in_the_order_they_were_held(both):
    def sc(env):
        p = env.client()
        out = []
        for n in (3, 5):
            clients = [env.client() for _ in range(n)]
            ids = [c.call("CLIENT", "ID") for c in clients]
            order = list(reversed(range(n))) if n == 5 else list(range(n))  # not by id
            p.call("DEL", "ctr")
            p.call("CLIENT", "PAUSE", FOREVER, "WRITE")
            for i in order:
                held(env, clients[i], "RPUSH", "ctr", str(i))
            out.append(p.call("CLIENT", "UNPAUSE"))
            out.append([clients[i].read() for i in order])
            out.append(p.call("LRANGE", "ctr", "0", "-1"))
            assert ids == sorted(ids)
        return out

    out = both(sc)
    assert out[2] == [b"0", b"1", b"2"] and out[5] == [b"4", b"3", b"2", b"1", b"0"]


def test_pause_inside_a_transaction_takes_effect_after_it(both):
    def sc(env):
        c, other = env.client(), env.client()
        out = [c.call("MULTI"), c.call("CLIENT", "PAUSE", FOREVER, "WRITE"), c.call("SET", "k", "in-exec"),
               c.call("INCR", "n"), c.call("EXEC")]
        held(env, other, "SET", "k", "after")
        out += [c.call("GET", "k"), c.call("CLIENT", "UNPAUSE"), other.read(), c.call("GET", "k")]
        return out

    assert both(sc)[5] == b"in-exec"


def test_expiry_is_suspended_while_paused(both):
    """No lazy expiry (the key reads as missing but stays counted) and no active expiry
    during a pause; both resume after it."""
    def sc(env):
        c = env.client()
        out = [c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), c.call("SET", "k", "v", "PX", "1"),
               c.call("SET", "k2", "v", "PX", "1"), c.call("DEBUG", "SLEEP", "0.01")]
        try:
            out += [c.call("CLIENT", "PAUSE", FOREVER, "WRITE"), c.call("GET", "k"), c.call("EXISTS", "k"),
                    c.call("TTL", "k"), c.call("DBSIZE"), c.call("SCAN", "0"), c.call("KEYS", "*"),
                    c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")]
            time.sleep(0.3)  # several cron periods: the active cycle would have run
            out += [c.call("DBSIZE"), c.call("INFO", "stats").split(b"expired_keys:")[1].split(b"\r\n")[0],
                    c.call("CLIENT", "UNPAUSE"), c.call("GET", "k"), c.call("DBSIZE")]
            deadline = time.time() + 5
            while c.call("DBSIZE") and time.time() < deadline:  # the active cycle takes k2 now
                time.sleep(0.02)
            out.append(c.call("DBSIZE"))
        finally:
            c.call("CLIENT", "UNPAUSE")
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        return out

    out = both(sc)
    assert out[8] == 2 and out[-1] == 0


def test_clients_held_by_an_all_pause_run_in_order_when_it_ends(both):
    """Under a short ALL pause the pausing client's next command (a WRITE pause) is held
    first, then a read and a write of others: when the ALL pause is over they run in that
    order, so the write is held again by the new WRITE pause and the read is not."""
    def sc(env):
        p, r, w = env.client(), env.client(), env.client()
        p.send(encode_command(["CLIENT", "PAUSE", "300", "ALL"]) + encode_command(["CLIENT", "PAUSE", FOREVER, "WRITE"]))
        out = [p.read()]
        r.send(encode_command(["GET", "k"]))
        w.send(encode_command(["SET", "k", "v"]))
        out += [p.read(), r.read()]  # once the 300 ms are over
        env.wait_blocked(1)  # the SET, held again
        out += [p.call("GET", "k"), p.call("CLIENT", "UNPAUSE"), w.read(), p.call("GET", "k")]
        return out

    out = both(sc)
    assert out[2] is None and out[-1] == b"v"


def test_all_pause_holds_every_client_for_as_long_as_redis(pyredis_srv, real_redis):
    """CLIENT PAUSE 400 ALL holds even a PING and the pausing client's next command: measured
    on both servers in the same test, pyredis holds them as long as redis-server."""
    from resp import RawClient

    waited = []
    for port in (pyredis_srv.port, real_redis.port):
        p, o = RawClient("127.0.0.1", port), RawClient("127.0.0.1", port)
        try:
            t0 = time.monotonic()
            assert p.call("CLIENT", "PAUSE", "400", "ALL") == b"OK"
            o.send(encode_command(["PING"]))
            p.send(encode_command(["CLIENT", "UNPAUSE"]))
            assert o.read() == b"PONG" and p.read() == b"OK"
            waited.append(time.monotonic() - t0)
        finally:
            p.close()
            o.close()
    ours, theirs = waited
    assert 0.5 * theirs <= ours <= 2 * theirs + 0.2, waited
