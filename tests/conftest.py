"""Shared fixtures: a pyredis server, a real redis-server, clients, and the differential helper.

The differential leg needs the Debian `redis-server` binary (7.0.15) and, for the later modes,
the reference servers in ../shared/oracles (oracles.py). Locally a test skips with a visible
reason when its binary is missing; in CI (CI=true) a missing binary is an error.

Modes: pyredis answers as the release its compat-version names, and a differential test
compares it with that release's server. The `compat_mode` fixture (session-scoped, "7.0" unless said
otherwise) decides both: `pyredis_srv` starts in that mode, `real_redis` is that mode's oracle,
and everything built on them (`diff`, `r`, `other`...) follows. A module or test runs in other
modes with the `modes` marker:

    pytestmark = pytest.mark.modes(*ALL_MODES)        # every mode, each against its oracle
    @pytest.mark.modes("7.2", "7.4", "valkey-8.0")    # the modes that have a feature

`--compat-modes 7.2,7.4` replaces the default ("7.0") for unmarked tests: run the existing suites
against a newer oracle to find what differs.

Test folders (core/, commands/, protocol/...) have no __init__.py: pytest's default "prepend"
import mode puts this folder (tests/) on sys.path for this conftest.py, which is what lets a
test in any subfolder import the helpers here (`from resp import RawClient`, `from effects
import Effects`, `from conftest import RealRedis`). Test file names must therefore be unique
across folders.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager

import pytest
import redis

import pyredis
from blocking_env import both  # noqa: F401  (fixture: one blocking scenario on both servers)
from oracles import ALL_MODES, LATER_MODES, ORACLES, REDIS_SERVER, oracle_binary, require_binary
from resp import RawClient, normalize

# Servers a test starts itself (pyredis.Server, `python -m pyredis`) answer as Redis 7.0, as
# the unmarked tests' reference server does; the fixtures of the other modes say theirs.
os.environ.setdefault("PYREDIS_COMPAT_VERSION", "7.0")

__all__ = ["ALL_MODES", "LATER_MODES", "ORACLES", "REDIS_SERVER", "oracle_binary", "require_binary"]


def pytest_addoption(parser):
    parser.addoption("--compat-modes", default="7.0",
                     help="modes (compat-version) unmarked tests run in, comma-separated, or 'all'")


def pytest_configure(config):
    config.addinivalue_line("markers", "modes(*modes): the compat-version modes a test runs in (one run each, "
                            "against that mode's reference server)")


def pytest_generate_tests(metafunc):
    if "compat_mode" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("modes")
    if marker is not None:
        modes = list(marker.args)
    else:
        opt = metafunc.config.getoption("--compat-modes")
        modes = list(ALL_MODES) if opt == "all" else opt.split(",")
    metafunc.parametrize("compat_mode", modes, indirect=True, scope="session")


@pytest.fixture(scope="session")
def compat_mode(request):
    """The compat-version mode of pyredis_srv and real_redis (see the module docstring)."""
    return getattr(request, "param", "7.0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealRedis:
    """The reference server of `mode` (redis-server 7.0.15 by default) started on a free
    loopback port; stopped by stop()."""

    def __init__(self, *extra: str, dir: str | None = None, mode: str = "7.0") -> None:
        binary = oracle_binary(mode)
        self.mode = mode
        self.dir = dir or tempfile.mkdtemp(prefix="real-redis-")
        # The free port can be taken before redis-server binds it (another test's client or
        # server): it then exits at once, and is started again on a new port.
        for _attempt in range(3):
            self.port = free_port()
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir, "--daemonize", "no", "--loglevel", "warning",
                    "--enable-debug-command", "yes", *extra]
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._answers(time.time() + 20):
                break
            stop_process(self.proc, 10)
        else:
            self.stop()
            raise RuntimeError("redis-server did not start")
        self.host = "127.0.0.1"
        self.url = f"redis://127.0.0.1:{self.port}"

    def _answers(self, deadline: float) -> bool:
        """Whether this process answers PING on its port before the deadline (False at once
        when it exits)."""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16):
                        return self.proc.poll() is None
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        stop_process(self.proc, 10)


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds: a server a test started ends with it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def pyredis_srv(tmp_path_factory, compat_mode):
    # Its own data folder: an embedded server must never pick up a dump.rdb from the cwd.
    data = tmp_path_factory.mktemp("pyredis-data")
    with pyredis.Server(port=0, enable_debug_command="yes", dir=str(data), compat_version=compat_mode) as s:
        yield s


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """A throwaway CA and certificates (trustme) in a temporary folder: tls_env.Certs."""
    from tls_env import Certs

    return Certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def real_redis(compat_mode):
    rr = RealRedis(mode=compat_mode)
    yield rr
    rr.stop()


@pytest.fixture
def r(pyredis_srv):
    """A redis-py client (RESP2) on a flushed pyredis."""
    c = redis.Redis(host="127.0.0.1", port=pyredis_srv.port)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r3(pyredis_srv):
    """A redis-py client speaking RESP3."""
    c = redis.Redis(host="127.0.0.1", port=pyredis_srv.port, protocol=3)
    c.flushall()
    yield c
    c.close()


class Differential:
    """Sends the same command to pyredis and redis-server and asserts equal replies."""

    def __init__(self, ours: RawClient, theirs: RawClient, resp: int, mode: str = "7.0") -> None:
        self.ours = ours
        self.theirs = theirs
        self.resp = resp
        self.mode = mode

    def both(self, *args):
        return self.ours.call(*args), self.theirs.call(*args)

    def check(self, *args, unordered: bool = False, ignore: bool = False):
        """Assert both servers reply the same; returns the reply."""
        a, b = self.both(*args)
        if ignore:
            return a
        if unordered:
            assert normalize(a) == normalize(b), f"{args!r}: pyredis={a!r} redis={b!r}"
        else:
            assert a == b and type(a) is type(b), f"{args!r}: pyredis={a!r} redis={b!r}"
        return a

    def check_many(self, commands, **kw) -> None:
        for cmd in commands:
            self.check(*cmd, **kw)

    def same(self, *args):
        """Both servers reply the same up to order (hash-table order cannot be reproduced),
        with the same RESP types (a RESP3 set is not an array). Returns pyredis's reply."""
        a, b = self.both(*args)
        assert type(a) is type(b) and normalize(a) == normalize(b), (args, a, b)
        return a

    def same_sorted_as_theirs(self, *args):
        """Both servers reply the same members; where the reference server's reply is in
        ascending integer order (computed into an intset: a release that computes it into a
        hashtable - Valkey 8.0's SDIFF of a listpack - replies in hash order), pyredis's reply
        has exactly that order too. Returns pyredis's reply."""
        a, theirs = self.both(*args)
        assert type(a) is type(theirs) and normalize(a) == normalize(theirs), (args, a, theirs)
        if len(theirs) > 1 and all(x.lstrip(b"-").isdigit() for x in theirs) and theirs == sorted(theirs, key=int):
            assert a == theirs, (args, a, theirs)
        return a

    def config(self, name: str, value: str):
        """CONFIG SET name value on both servers for the block, then back to redis-server's value."""
        return config_both(self, name, value)


@contextmanager
def config_both(pair, name: str, value: str):
    """CONFIG SET through `pair` (a Differential or an Other: .theirs, .check) for the block, then
    back to redis-server's value."""
    old = pair.theirs.call("CONFIG", "GET", name)
    old = old[1] if isinstance(old, list) else list(old.values())[0]
    pair.check("CONFIG", "SET", name, value)
    try:
        yield
    finally:
        pair.check("CONFIG", "SET", name, old)


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def diff(request, pyredis_srv, real_redis, compat_mode):
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    for c in (ours, theirs):
        c.call("FLUSHALL")
        if request.param == 3:
            c.call("HELLO", "3")
    yield Differential(ours, theirs, request.param, compat_mode)
    ours.close()
    theirs.close()


class Other:
    """A second connection on each server, in the same protocol as `diff`, checked like it."""

    def __init__(self, diff, pyredis_srv, real_redis) -> None:
        self.ours = RawClient("127.0.0.1", pyredis_srv.port)
        self.theirs = RawClient("127.0.0.1", real_redis.port)
        if diff.resp == 3:
            self.ours.call("HELLO", "3")
            self.theirs.call("HELLO", "3")

    def check(self, *args):
        a, b = self.ours.call(*args), self.theirs.call(*args)
        assert a == b and type(a) is type(b), f"{args!r}: pyredis={a!r} redis={b!r}"
        return a

    def config(self, name: str, value: str):
        """As Differential.config, from this connection (the other one may be inside MULTI)."""
        return config_both(self, name, value)

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture
def other(diff, pyredis_srv, real_redis):
    o = Other(diff, pyredis_srv, real_redis)
    yield o
    o.close()
