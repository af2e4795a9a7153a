"""Cursors for SCAN, HSCAN, SSCAN and ZSCAN.

Redis walks its hash table in reverse-binary bucket order so that a cursor stays valid while
the table grows or shrinks. A Python dict exposes no buckets, so pyredis iterates over a
snapshot of the keys taken when an iteration starts (cursor 0): an element present for the
whole iteration is in the snapshot and therefore returned (Redis's guarantee); elements
deleted meanwhile are skipped when their turn comes; elements added meanwhile may or may
not be returned (as in Redis). The snapshot is a list of references (8 bytes per element),
taken once per iteration, not once per call.

A cursor is `(snapshot id << 32) | offset`. Snapshots live in a small LRU per server; a cursor
whose snapshot was evicted restarts a snapshot at its offset (best effort, never an error).

API:
    cursors = ScanCursors()
    next_cursor, items = cursors.scan(owner, source, cursor, count)
        owner:  hashable identity of what is scanned (db id, or (db id, key))
        source: a callable returning an iterable of the current elements (called on cursor 0)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

MAX_SNAPSHOTS = 64


class ScanCursors:
    def __init__(self) -> None:
        self._snaps: OrderedDict[int, tuple[object, list]] = OrderedDict()
        self._next_id = 1

    def scan(self, owner: object, source: Callable[[], Iterable], cursor: int, count: int) -> tuple[int, list]:
        sid, offset = cursor >> 32, cursor & 0xFFFFFFFF
        snap = self._snaps.get(sid) if sid else None
        if snap is None or snap[0] != owner:
            items = list(source())
            sid = self._next_id
            self._next_id = (self._next_id % 0x7FFFFFFF) + 1
            self._snaps[sid] = (owner, items)
            while len(self._snaps) > MAX_SNAPSHOTS:
                self._snaps.popitem(last=False)
            if cursor == 0:
                offset = 0
        else:
            self._snaps.move_to_end(sid)
            items = snap[1]
        end = min(offset + max(count, 1), len(items))
        batch = items[offset:end]
        if end >= len(items):
            self._snaps.pop(sid, None)
            return 0, batch
        return (sid << 32) | end, batch
