"""pyredis: a Redis-compatible in-memory data server written in Python.

    with pyredis.Server(port=0) as server:
        r = redis.Redis.from_url(server.url)
"""

__version__ = "0.1.0"
REDIS_VERSION = "7.0.15"

from .embed import Server  # noqa: E402

__all__ = ["Server", "__version__", "REDIS_VERSION"]
