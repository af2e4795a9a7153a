"""pytest plugin: a Redis for your tests, without Docker.

Installed with pyredis (entry point `pytest11: pyredis`), so the fixtures are there in any
project that depends on pyredis:

    def test_session(pyredis_client):              # redis-py client, empty database
        pyredis_client.set("session:1", "tok", ex=60)

    def test_expiry(pyredis_server, pyredis_client):
        pyredis_client.set("k", "v", px=5000)
        pyredis_server.advance(6)                  # DEBUG CLOCK ADVANCE: no sleeping
        assert pyredis_client.get("k") is None

Fixtures
    pyredis_server   session-scoped server on a free loopback port (in-process thread; with
                     --pyredis-subprocess, a `python -m pyredis` subprocess). Attributes:
                     url, host, port, client(**kw), advance(seconds), freeze(), resume(),
                     reset_clock(), now() (server clock in seconds), external.
    pyredis_client   a redis-py client (decode_responses=True) on a FLUSHALLed server, with the
                     clock back to real time; closed after the test.

Options
    --pyredis-subprocess       run the server as a subprocess instead of a thread
    --redis-url URL            point the same fixtures at an external Redis (also env
                               PYREDIS_TEST_URL): your tests then run against real Redis/Valkey;
                               advance() falls back to sleeping there (no DEBUG CLOCK)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyredis", "pyredis test server")
    group.addoption("--pyredis-subprocess", action="store_true", default=False,
                    help="run the pyredis_server fixture as a subprocess instead of a thread")
    group.addoption("--redis-url", default=None, metavar="URL",
                    help="run pyredis_server/pyredis_client against this external Redis "
                         "(default: env PYREDIS_TEST_URL, else an embedded pyredis)")


class PyredisServer:
    """What the pyredis_server fixture yields: where the server is, and its clock."""

    def __init__(self, url: str, server: Any = None) -> None:
        import redis

        self.url = url
        self.server = server  # pyredis.Server, or None for an external Redis
        self._admin = redis.Redis.from_url(url)
        kw = self._admin.connection_pool.connection_kwargs
        self.host = kw.get("host", "127.0.0.1")
        self.port = kw.get("port", 6379)
        self._clock_touched = False
        self._debug_clock: bool | None = None

    @property
    def external(self) -> bool:
        return self.server is None

    def client(self, **kwargs: Any):
        """A new redis-py client on this server (redis.Redis.from_url keyword arguments)."""
        import redis

        return redis.Redis.from_url(self.url, **kwargs)

    # --- clock ---------------------------------------------------------------------------
    def _clock(self, *args: Any) -> Any:
        import redis

        if self._debug_clock is False:
            return None
        try:
            reply = self._admin.execute_command("DEBUG", "CLOCK", *args)
        except redis.ResponseError:
            if self.external:  # real Redis/Valkey: no DEBUG CLOCK (or no DEBUG at all)
                self._debug_clock = False
                return None
            raise
        self._debug_clock = True
        self._clock_touched = True
        return reply

    def advance(self, seconds: float) -> None:
        """Move the server clock forward: keys with a TTL expire as if `seconds` had passed.
        Against an external Redis this sleeps instead."""
        ms = round(seconds * 1000)
        if self._clock("ADVANCE", ms) is None and self._debug_clock is False:
            time.sleep(seconds)

    def freeze(self) -> None:
        """Stop the server clock (TTLs stop counting down until resume/advance)."""
        self._clock("FREEZE")

    def resume(self) -> None:
        self._clock("RESUME")

    def set_time(self, unix_seconds: float) -> None:
        self._clock("SET", int(unix_seconds * 1000))

    def reset_clock(self) -> None:
        """Back to the machine's real time (pyredis_client does this before each test, also
        after a test that sent DEBUG CLOCK itself)."""
        if self._debug_clock is not False and (self._clock_touched or not self.external):
            self._clock("RESET")
            self._clock_touched = False

    def now(self) -> float:
        """The server clock, in seconds since the epoch (TIME)."""
        s, us = self._admin.time()
        return s + us / 1_000_000

    def flushall(self) -> None:
        self._admin.flushall()

    def close(self) -> None:
        self._admin.close()


def _external_url(config: pytest.Config) -> str | None:
    return config.getoption("--redis-url") or os.environ.get("PYREDIS_TEST_URL") or None


@pytest.fixture(scope="session")
def pyredis_server(request: pytest.FixtureRequest):
    """A pyredis server for the whole test session (or the external Redis of --redis-url)."""
    url = _external_url(request.config)
    if url:
        handle = PyredisServer(url)
        try:
            yield handle
        finally:
            handle.close()
        return
    from .embed import Server

    data = tempfile.mkdtemp(prefix="pyredis-test-")
    server = Server(port=0, subprocess=bool(request.config.getoption("--pyredis-subprocess")),
                    dir=data, enable_debug_command="local", appendonly="no")
    server.start()
    handle = None
    try:
        handle = PyredisServer(server.url, server)
        yield handle
    finally:
        if handle is not None:
            handle.close()
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def pyredis_client(pyredis_server: PyredisServer):
    """A redis-py client (str replies) on an empty server whose clock reads real time."""
    pyredis_server.reset_clock()
    pyredis_server.flushall()
    client = pyredis_server.client(decode_responses=True)
    try:
        yield client
    finally:
        client.close()
