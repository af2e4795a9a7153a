"""pyredis: a Redis-compatible in-memory data server written in Python.

    with pyredis.Server(port=0) as server:
        r = redis.Redis.from_url(server.url)
"""

from .version import REDIS_VERSION, __version__  # first: modules .embed imports may read them from here
from .embed import Server  # noqa: E402

__all__ = ["Server", "__version__", "REDIS_VERSION"]
