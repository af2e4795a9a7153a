"""Version constants, and the one answer to "which server are we": the compat-version mode.

pyredis answers as one of several releases, chosen at start-up by the `compat-version`
directive (config file, `--compat-version 7.2`; CONFIG GET shows it, CONFIG SET refuses it as
Redis refuses an immutable config): "7.0", "7.2", "7.4" (the default) or "valkey-8.0". Everything
that differs between them asks the server's Compat (`state.compat`, made once at start-up):

    compat = COMPAT["7.2"]                 # or compat_for(config["compat-version"])
    compat.redis_version                   # "7.2.6": INFO redis_version, Lua's redis.REDIS_VERSION
    compat.version                         # the server's own version: HELLO, LOLWUT ("8.0.1" on Valkey)
    compat.server_name                     # "redis" | "valkey" (HELLO's server, Valkey's INFO server_name)
    compat.rdb_version                     # the RDB version written (RDB files, DUMP trailers)
    compat.has("7.2.0")                    # a Redis feature/command introduced in 7.2.0 exists here
    compat.has("8.0.0", valkey=True)       # a Valkey-only one introduced in Valkey 8.0.0
    compat.at_least("7.2")                 # a behaviour change keyed by mode: "7.2", "7.4", "valkey-8.0"
    compat.at_least("7.4", "valkey-8.0")   # ... that both made (Valkey 8.0 took many of Redis 7.4's)

Valkey 8.0 forked from Redis 7.2.4: it has every Redis feature up to 7.2 (its INFO still says
redis_version:7.2.4), none of Redis 7.4's, and features of its own numbered by Valkey's
releases. `at_least("7.2")` is true for 7.2, 7.4 and valkey-8.0; `at_least("7.4")` only for
7.4; `at_least("valkey-8.0")` only for valkey-8.0.

Which commands exist in a mode is the command table's business (core/spec.py `since`, applied
once per server by core/commandtable.py); this module only says what each mode is.

__version__ is pyredis's own release; REDIS_VERSION (and REDIS_VERSION_NUM) is the version of
the default mode, for the command-line tools' --version and `from pyredis import REDIS_VERSION`.
"""

from __future__ import annotations

__version__ = "0.1.0"


def _vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


class Compat:
    """What one mode is. Instances are shared (COMPAT): treat them as read-only."""

    __slots__ = ("mode", "redis_version", "valkey_version", "rdb_version", "rdb_accepts", "_redis", "_valkey",
                 "_keys")

    def __init__(self, mode: str, redis_version: str, rdb_version: int, rdb_accepts: int,
                 valkey_version: str | None = None, keys: tuple[str, ...] = ()) -> None:
        self.mode = mode
        self.redis_version = redis_version
        self.valkey_version = valkey_version
        self.rdb_version = rdb_version  # what the server writes
        self.rdb_accepts = rdb_accepts  # the newest RDB version its loader reads (RDB_VERSION)
        self._redis = _vtuple(redis_version)
        self._valkey = _vtuple(valkey_version) if valkey_version else None
        self._keys = frozenset(keys)  # the modes whose changes this one carries

    def __repr__(self) -> str:
        return f"<Compat {self.mode}>"

    @property
    def valkey(self) -> bool:
        return self._valkey is not None

    @property
    def server_name(self) -> str:
        return "valkey" if self._valkey is not None else "redis"

    @property
    def version(self) -> str:
        """The server's own version (HELLO's version, LOLWUT)."""
        return self.valkey_version or self.redis_version

    @property
    def redis_version_num(self) -> int:
        """redis_version as 0x00MMmmpp (Redis's REDIS_VERSION_NUM, Lua's redis.REDIS_VERSION_NUM)."""
        a, b, c = self._redis
        return (a << 16) | (b << 8) | c

    def has(self, since: str, valkey: bool = False) -> bool:
        """A feature introduced in Redis `since` (or, valkey=True, in Valkey `since`) exists in
        this mode. Valkey has the Redis features up to the release it forked from."""
        v = _vtuple(since)
        if valkey:
            return self._valkey is not None and v <= self._valkey
        return v <= self._redis

    def at_least(self, *keys: str) -> bool:
        """This mode carries the changes of one of the modes `keys` ("7.2", "7.4", "valkey-8.0")."""
        for k in keys:
            if k in self._keys:
                return True
        return False


MODES = ("7.0", "7.2", "7.4", "valkey-8.0")
DEFAULT_MODE = "7.4"
COMPAT: dict[str, Compat] = {
    "7.0": Compat("7.0", "7.0.15", rdb_version=10, rdb_accepts=10, keys=("7.0",)),
    "7.2": Compat("7.2", "7.2.6", rdb_version=11, rdb_accepts=11, keys=("7.0", "7.2")),
    "7.4": Compat("7.4", "7.4.1", rdb_version=12, rdb_accepts=12, keys=("7.0", "7.2", "7.4")),
    "valkey-8.0": Compat("valkey-8.0", "7.2.4", rdb_version=11, rdb_accepts=11, valkey_version="8.0.1",
                         keys=("7.0", "7.2", "valkey-8.0")),
}


def compat_for(mode: str) -> Compat:
    return COMPAT[mode]


# The default mode's version, for what has no server to ask (the tools' --version).
REDIS_VERSION = COMPAT[DEFAULT_MODE].redis_version
REDIS_VERSION_NUM = COMPAT[DEFAULT_MODE].redis_version_num
