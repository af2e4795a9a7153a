"""The list value: a deque of bytes (O(1) pushes and pops at both ends).

Redis 7.0 stores every list as a quicklist, so OBJECT ENCODING answers `quicklist` in the 7.0
mode; list-max-listpack-size only shapes the nodes inside it. From 7.2 on a list that fits one
node is a listpack (OBJECT ENCODING `listpack`): _encoding tells it from the list's size (Redis's
hysteresis, a quicklist going back only below half the limit, is not kept).
"""

from __future__ import annotations

from collections import deque

from ..util import lp_str_size as _lp_entry_size
from .types import register_copier, register_type


class RList(deque):
    __slots__ = ()


_LIMITS = {-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536}


def _encoding(value: RList, config) -> bytes:
    try:
        if config["compat-version"] == "7.0":
            return b"quicklist"
        fill = config["list-max-listpack-size"]
    except (KeyError, TypeError):
        return b"quicklist"
    if fill >= 0:
        if len(value) > fill:
            return b"quicklist"
        limit = 8192
    else:
        limit = _LIMITS.get(fill, 8192)
    size = 7  # header + terminator (quicklistNodeExceedsLimit on lpBytes)
    for e in value:
        size += _lp_entry_size(e)
        if size > limit:
            return b"quicklist"
    return b"listpack"


register_type(RList, b"list", _encoding)
register_copier(RList, RList)  # elements are immutable bytes: a shallow copy is independent
