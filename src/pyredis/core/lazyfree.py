"""Lazy free (lazyfree.c): large values and whole databases released without stalling clients.

Redis hands a deleted value with more than LAZYFREE_THRESHOLD (64) allocations to a
background thread. In CPython a thread would not help: freeing a container is one C call
holding the interpreter lock, and dropping a million-element set stalls every client for as
long as it takes (tens of milliseconds). So the value is taken apart here in slices instead:
each slice pops at most SLICE_UNITS elements (or runs at most SLICE_SECONDS) and then gives
the event loop back (state.scheduler.call_soon), so the requests of other clients run
between two slices. Whole tables (FLUSHALL/FLUSHDB ASYNC) are popped the same way, and a
large value found in them becomes an item of its own rather than being dropped in one go.

Like Redis's refcount check in freeObjAsync, a value something else still refers to is not
taken apart: it is just released (whoever holds it frees it).

Who calls it: Database (keyspace/database.py) through `db.free_async`, installed by
ServerState: UNLINK, DEL under lazyfree-lazy-user-del, expiry under lazyfree-lazy-expire,
eviction under lazyfree-lazy-eviction, overwrites under lazyfree-lazy-server-del,
FLUSHALL/FLUSHDB ASYNC (or lazyfree-lazy-user-flush). Without a scheduler (a state driven
without an event loop) the value is released at once.

INFO memory: `lazyfree_pending_objects` (objects queued and not yet freed: one per value, one
per key of a flushed database, as Redis counts) and `lazyfreed_objects` (freed since start or
CONFIG RESETSTAT); the bytes not yet freed stay in used_memory (`pending_bytes`), shrinking
as the slices progress. `slices` and `max_slice_units` (DEBUG LAZYFREE) show that freeing
happens in bounded steps.

API:
    lf = LazyFree(state); lf.free(obj, objects)      # Database.free_async
    lf.pending_objects, lf.freed_objects, lf.pending_bytes, lf.slices, lf.max_slice_units
    lf.drain()                                       # free everything now (shutdown, tests)
"""

from __future__ import annotations

import sys
import time
from collections import deque
from itertools import repeat, starmap

from ..keyspace.memsize import free_effort, value_size
from ..keyspace.stream import Stream
from ..keyspace.zset import ZSet

SLICE_UNITS = 2048
SLICE_SECONDS = 0.002
LAZYFREE_THRESHOLD = 64
_getrefcount = sys.getrefcount


class _Item:
    """One object being freed: its containers still to empty, the work done so far."""

    __slots__ = ("obj", "objects", "parts", "total", "done", "bytes", "checked", "last_child", "table")

    def __init__(self, obj, objects: int, nbytes: int, table: bool = False) -> None:
        self.obj = obj
        self.table = table  # a database's key table: its large values are queued on their own
        self.objects = objects
        self.parts: list | None = None
        self.total = 1
        self.done = 0
        self.bytes = nbytes
        self.checked = False
        # the last large value found in this table and queued on its own: the table's objects
        # are pending until it is freed too (Redis frees a flushed table in one job)
        self.last_child: _Item | None = None


def _parts(obj) -> list:
    """The containers that hold obj's elements, emptied one after the other."""
    if type(obj) is ZSet:
        sl = obj.sl
        lists = getattr(sl, "_lists", None)
        return ([lists] if isinstance(lists, list) else []) + [obj.scores]
    if type(obj) is Stream:
        parts: list = [obj.entries, obj.ids, obj.nodes]
        if obj.groups:
            for g in obj.groups.values():
                parts.append(g.pel.d)
                parts.extend(c.pel.d for c in g.consumers.values())
        return parts
    return [obj]


def _units(parts: list) -> int:
    return sum(len(p) for p in parts) or 1


class LazyFree:
    def __init__(self, state) -> None:
        self.state = state
        self.items: deque[_Item] = deque()
        self.pending_objects = 0
        self.freed_objects = 0
        self.pending_bytes = 0
        self.slices = 0
        self.max_slice_units = 0
        self._scheduled = False

    def free(self, obj, objects: int = 1, nbytes: int | None = None, table: bool = False) -> None:
        """Queue obj: a value, or (table) a database's old key table standing for `objects` keys."""
        if nbytes is None:
            nbytes = value_size(obj) if objects == 1 and type(obj) is not dict else 0
        if self.state.scheduler is None:
            self.freed_objects += objects
            return  # no event loop: the caller's reference was the last one
        self.items.append(_Item(obj, objects, nbytes, table))
        self.pending_objects += objects
        self.pending_bytes += nbytes
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled and self.items:
            self._scheduled = True
            self.state.scheduler.call_soon(self._slice)

    def _slice(self) -> None:
        self._scheduled = False
        units = self.run(SLICE_UNITS, SLICE_SECONDS)
        self.slices += 1
        if units > self.max_slice_units:
            self.max_slice_units = units
        self._schedule()

    def drain(self) -> None:
        while self.items:
            self.run(1 << 62, 1e9)

    def run(self, budget: int, seconds: float) -> int:
        """Free up to `budget` elements (checking the time every 256); returns how many."""
        t0 = time.perf_counter()
        n = 0
        items = self.items
        while items and n < budget:
            item = items[0]
            if not item.checked:
                item.checked = True
                # the item's slot, this frame's `obj` and getrefcount's argument: anything
                # more is another holder, and the value is only released
                obj = item.obj
                if _getrefcount(obj) > 3:
                    item.parts = []
                else:
                    item.parts = _parts(obj)
                    item.total = _units(item.parts)
                del obj
            parts = item.parts
            while parts and n < budget:
                c = parts[-1]
                if not c:
                    parts.pop()
                    continue
                k = self._drain(item, c, min(512, budget - n))
                n += k
                item.done += k
                if time.perf_counter() - t0 > seconds:
                    budget = n  # out of time: stop after this step
            if not parts:
                items.popleft()
                child = item.last_child
                if child is not None and child.obj is not None:  # not freed yet: it carries the count
                    child.objects += item.objects
                    child.bytes += item.bytes
                else:
                    self.pending_objects -= item.objects
                    self.freed_objects += item.objects
                    self.pending_bytes -= item.bytes
                item.obj = item.last_child = None
            elif item.bytes and item.total:
                left = item.bytes * max(0, item.total - item.done) // item.total
                self.pending_bytes -= item.bytes - left
                item.bytes = left
        return n

    def _drain(self, item: _Item, c, k: int) -> int:
        """Pop up to k elements of container c (a C-level loop: starmap over pop); a large
        value popped from a database's table is queued as an item of its own (it is not
        dropped in one go). Returns the work done."""
        if type(c) is list and c and type(c[-1]) is list:  # SortedList's sublists
            done = 0
            while c and done < k:
                done += len(c.pop()) or 1
            return done
        n = min(k, len(c))
        if not item.table:
            _consume(starmap(c.popitem if isinstance(c, dict) else c.pop, repeat((), n)), maxlen=0)
            return n
        popped = list(starmap(c.popitem, repeat((), n)))
        for v in [v for _, v in popped if v.__class__ is not bytes]:
            if free_effort(v) > LAZYFREE_THRESHOLD:
                nbytes = min(item.bytes, value_size(v))
                item.bytes -= nbytes
                child = item.last_child = _Item(v, 0, nbytes)
                self.items.append(child)
        del popped
        return n


_consume = deque
