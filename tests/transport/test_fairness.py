"""One client's pipeline does not stall the others (issue #13, item 8).

A read that holds thousands of heavy requests runs in slices of a bounded time: between
slices the event loop serves the other clients, and the rest of the batch waits in the
connection's queue (as Redis serves other clients between the 16 KB reads of a big pipeline).
Nothing is lost or reordered: the pipelining client gets every reply in order."""

from __future__ import annotations

import threading

import pyredis
from resp import RawClient, encode_command

N = 2000


def _calls(c: RawClient) -> int:
    info = c.call("INFO", "commandstats").decode()
    for line in info.split("\r\n"):
        if line.startswith("cmdstat_lrange:"):
            return int(line.split("calls=", 1)[1].split(",", 1)[0])
    return 0


def test_a_big_pipeline_runs_in_slices_while_others_are_served(tmp_path):
    """Each LRANGE of the batch is followed by a DEBUG SLEEP of 0.2 ms (the event loop blocked,
    as Redis's usleep): the batch's time does not shrink when LRANGE gets faster, so a slice
    of the batch stays a small part of it."""
    with pyredis.Server(port=0, dir=str(tmp_path), enable_debug_command="yes") as s:
        setup, a, b = (RawClient("127.0.0.1", s.port, timeout=60) for _ in range(3))
        try:
            setup.call("RPUSH", "l", *[b"element-%d" % i for i in range(500)])
            elements = [b"element-%d" % i for i in range(500)]
            one = b"*500\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(e), e) for e in elements) + b"+OK\r\n"
            got = bytearray()

            def read_all():  # A's replies as raw bytes (parsing 1,000,000 elements is the test's cost)
                while len(got) < len(one) * N:
                    d = a.sock.recv(1 << 20)
                    if not d:
                        break
                    got.extend(d)

            base = _calls(b)  # (command stats are per process: other embedded servers' calls)
            reader = threading.Thread(target=read_all)
            reader.start()
            # one send of ~140 KB: a few reads on the server side, 4000 requests taking ~0.5 s
            a.send((encode_command(("LRANGE", "l", "0", "-1")) + encode_command(("DEBUG", "SLEEP", "0.0002"))) * N)
            seen = 0
            while seen == 0:
                seen = _calls(b) - base  # B's requests interleave with A's batch
            reader.join(120)
            assert not reader.is_alive()
            # B was served while A's batch still had most of its requests to run (before the
            # slices, the whole read ran first: B's first answer saw all the LRANGEs of the
            # first read; with 10 ms slices it sees a few dozen)
            print("LRANGEs run before B's first answer:", seen)
            assert 0 < seen < N // 5, seen
            assert got == one * N  # every reply, in order
            assert _calls(b) - base == N
            assert a.call("PING") == b"PONG"
        finally:
            for c in (setup, a, b):
                c.close()
