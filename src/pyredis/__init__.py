"""pyredis: a Redis-compatible in-memory data server written in Python.

    with pyredis.Server(port=0) as server:
        r = redis.Redis.from_url(server.url)
"""

from . import compiled as _compiled

_compiled.install()  # before any compiled module is imported: PYREDIS_PURE and stale builds

from .version import REDIS_VERSION, __version__  # noqa: E402  (before .embed: modules it imports may read them from here)
from .embed import Server  # noqa: E402

__all__ = ["Server", "__version__", "REDIS_VERSION"]
