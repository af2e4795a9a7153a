"""Fixtures for the hash-field expiration tests: redis-server 7.4.1 (the oracle of
../shared/oracles) and a pyredis in 7.4 mode, side by side.

(conftest.py imports the fixtures, so every test can ask for them.)

    diff74        a Differential (conftest.py) over RESP2 and RESP3, both servers flushed, with
                  active expiry switched off for the test (DEBUG SET-ACTIVE-EXPIRE 0) so that
                  expired fields stay until a command meets them; `diff74.active_expiry()`
                  switches it back on
    other74       a second connection on each server (conftest.Other)
    ORACLE_74     the redis-server 7.4.1 binary, or None (the tests skip, CI fails)
    redis74(*args, dir=...) -> conftest.RealRedis      redis-server 7.4.1 on a data folder
    pyredis74(dir=..., **config) -> pyredis.Server      pyredis in 7.4 mode, in a subprocess
                                                        (start it with `with` or .start())
"""

from __future__ import annotations

import os

import pytest

import pyredis
from conftest import Differential, Other, RealRedis, require_binary
from resp import RawClient

_ORACLES = os.environ.get("PYREDIS_ORACLES") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "oracles")
_BIN = os.path.join(_ORACLES, "redis-7.4.1", "redis-server")
ORACLE_74 = _BIN if os.path.exists(_BIN) else None
# What makes pyredis behave as Redis 7.4 (the compat-version directive's value)
MODE_74: dict[str, str] = {}


def require_74() -> str:
    require_binary(ORACLE_74, "redis-server 7.4.1 (../shared/oracles/redis-7.4.1)")
    return ORACLE_74


@pytest.fixture(scope="session")
def real_redis74():
    rr = RealRedis(binary=require_74())
    yield rr
    rr.stop()


@pytest.fixture(scope="session")
def pyredis74_srv(tmp_path_factory):
    data = tmp_path_factory.mktemp("pyredis74-data")
    with pyredis.Server(port=0, enable_debug_command="yes", dir=str(data), **MODE_74) as s:
        yield s


class Differential74(Differential):
    def active_expiry(self, on: bool = True) -> None:
        self.check("DEBUG", "SET-ACTIVE-EXPIRE", "1" if on else "0")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def diff74(request, pyredis74_srv, real_redis74):
    ours = RawClient("127.0.0.1", pyredis74_srv.port)
    theirs = RawClient("127.0.0.1", real_redis74.port)
    for c in (ours, theirs):
        c.call("FLUSHALL")
        c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        if request.param == 3:
            c.call("HELLO", "3")
    d = Differential74(ours, theirs, request.param)
    yield d
    for c in (ours, theirs):
        c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        c.call("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()


@pytest.fixture
def other74(diff74, pyredis74_srv, real_redis74):
    o = Other(diff74, pyredis74_srv, real_redis74)
    yield o
    o.close()


def redis74(*args: str, dir: str) -> RealRedis:
    return RealRedis(*args, dir=dir, binary=require_74())


def pyredis74(dir: str, **config: str) -> pyredis.Server:
    return pyredis.Server(port=0, subprocess=True, dir=dir, enable_debug_command="yes", **MODE_74, **config)
