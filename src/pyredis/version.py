"""Version constants: pyredis's own release and the Redis release it is compatible with.

Everything that reports a version reads it from here: INFO's server section, HELLO, the RDB
aux fields, Lua's redis.REDIS_VERSION / redis.REDIS_VERSION_NUM, the crash report and the
command-line tools' --version. pyredis/__init__.py re-exports __version__ and REDIS_VERSION
for code written against `from pyredis import REDIS_VERSION`.
"""

__version__ = "0.1.0"
REDIS_VERSION = "7.0.15"

# REDIS_VERSION as one integer, 0x00MMmmpp (Redis's REDIS_VERSION_NUM; Lua scripts see it as
# redis.REDIS_VERSION_NUM).
REDIS_VERSION_NUM = (lambda p: (int(p[0]) << 16) | (int(p[1]) << 8) | int(p[2]))(REDIS_VERSION.split("."))
