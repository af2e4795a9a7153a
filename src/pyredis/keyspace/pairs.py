"""MSET's pairs stored in one call: Database.set's two string paths (a string over a string, a
new string key) as one loop over the pairs. The build compiles this module (pairs.pxd types the
tables and counters), so ten pairs cost ten dict stores, not ten method calls; a pair on any
other path (a collection overwritten, a value not bytes) goes through Database.set itself, and
so does every pair while LFU or a TTL in the database needs Database.set's other steps."""

from __future__ import annotations

from .memsize import string_key_size, string_size


def set_pairs(db, args) -> None:
    """db.set(args[i], args[i + 1]) for each pair of `args` (key, value, key, value...) in
    order, TTLs cleared: the same data, LRU clocks, used_memory and table size."""
    n = len(args)
    if db.lfu is not None or db.expires:
        for i in range(0, n, 2):
            db.set(args[i], args[i + 1])
        return
    data = db.data
    lru = db.lru
    now = db.lru_now
    used = 0
    i = 0
    while i < n:
        key = args[i]
        value = args[i + 1]
        i += 2
        if type(value) is bytes:
            old = data.get(key)
            if old is None:
                data[key] = value
                used += string_key_size(key, value)
                lru[key] = now
                size = len(data)
                if size > db.slots:  # the table grows: maxmemory's check reads used_memory
                    db.used += used
                    used = 0
                    db._expand(size)
                continue
            if type(old) is bytes:
                data[key] = value
                m = len(value)
                if m != len(old) or (m < 20 and value.isdigit() is not old.isdigit()):
                    used += string_size(value) - string_size(old)
                lru[key] = now
                continue
        db.used += used
        used = 0
        db.set(key, value)
    db.used += used
