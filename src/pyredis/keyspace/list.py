"""The list value: a deque of bytes (O(1) pushes and pops at both ends).

Redis 7.0 stores every list as a quicklist (the listpack encoding for small lists arrived
in 7.2), so OBJECT ENCODING always answers `quicklist`; list-max-listpack-size only shapes
the nodes inside it.
"""

from __future__ import annotations

from collections import deque

from .types import register_copier, register_type


class RList(deque):
    __slots__ = ()


def _encoding(value: RList, config) -> bytes:
    return b"quicklist"


register_type(RList, b"list", _encoding)
register_copier(RList, RList)  # elements are immutable bytes: a shallow copy is independent
