"""Several real connections to one server, sequenced deterministically for blocking
scenarios (lists, sorted sets, streams), and the `both` fixture that runs one scenario against
pyredis and redis-server (RESP2 and RESP3) and requires identical observations."""

from __future__ import annotations

import socket
import time

import pytest

from resp import RawClient, encode_command


class Env:
    """Connections to one server, plus helpers to sequence blocked clients deterministically."""

    def __init__(self, port: int, resp: int) -> None:
        self.port = port
        self.resp = resp
        self.clients: list[RawClient] = []
        self.admin = self.client()

    def client(self) -> RawClient:
        c = RawClient("127.0.0.1", self.port)
        if self.resp == 3:
            c.call("HELLO", "3")
        self.clients.append(c)
        return c

    def blocked(self) -> int:
        info = self.admin.call("CLIENT", "LIST")
        return sum(1 for line in bytes(info).split(b"\n") if b" flags=b " in line)

    def wait_blocked(self, n: int) -> None:
        deadline = time.time() + 5
        while self.blocked() != n:
            if time.time() > deadline:
                raise AssertionError(f"expected {n} blocked clients, have {self.blocked()}")
            time.sleep(0.005)

    def block(self, c: RawClient, *cmd) -> None:
        """Send a blocking command and wait until the server registered it as blocked."""
        before = self.blocked()
        c.send(encode_command(cmd))
        self.wait_blocked(before + 1)

    @staticmethod
    def nothing_pending(c: RawClient, wait: float = 0.05) -> bool:
        c.sock.settimeout(wait)
        try:
            data = c.sock.recv(1, socket.MSG_PEEK)
        except (TimeoutError, socket.timeout):
            return not c.buf
        finally:
            c.sock.settimeout(10)
        return not data and not c.buf

    def close(self) -> None:
        for c in self.clients:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def both(request, pyredis_srv, real_redis):
    """run(scenario) -> the scenario's observations, identical on both servers."""

    def run(scenario):
        results = []
        for port in (pyredis_srv.port, real_redis.port):
            env = Env(port, request.param)
            try:
                env.admin.call("FLUSHALL")
                results.append(scenario(env))
            finally:
                env.close()
            # let the server forget the closed connections before the next scenario
            deadline = time.time() + 5
            probe = Env(port, 2)
            while probe.blocked() and time.time() < deadline:
                time.sleep(0.005)
            probe.close()
        assert repr(results[0]) == repr(results[1]), f"pyredis={results[0]!r}\nredis={results[1]!r}"
        return results[0]

    run.resp = request.param
    return run
