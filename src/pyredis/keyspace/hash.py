"""The hash value: a dict (field -> value, both bytes) that remembers its Redis encoding, and
the deadlines of its fields once hash-field expiration (Redis 7.4's HEXPIRE) touched it.

Redis keeps a small hash in a listpack and converts it, once and for good, to a hash table
when it grows past `hash-max-listpack-entries` fields or when a field or value longer than
`hash-max-listpack-value` bytes is written. `RHash.ht` records that conversion, so OBJECT
ENCODING answers like Redis. A listpack keeps insertion order, and so does a dict: for a
listpack hash, HGETALL/HKEYS/HSCAN reply in exactly Redis's order.

Field deadlines (absolute unix ms) live beside the values, in `ttls`, which stays None for a
hash no expiry command ever touched: such a hash pays nothing for the feature. The first
HEXPIRE gives a hash its metadata for good (Redis's listpackEx, or a dict with HFE
metadata): `ttls` becomes a dict (possibly emptied later by HPERSIST) and a listpack hash
reports the encoding `listpackex`. A listpackex orders its fields by deadline, as Redis
does in the listpack it dumps: fields with a deadline first, earliest first, a field given
a deadline going before those with the same one, then the fields without one in the order
they lost or never had one. The dict's order is kept equal to that order
(`set_ttl`/`persist` move a field), so replies and RDB payloads follow Redis's.

`hmin` is what Redis keeps in the hash's ExpireMeta: the deadline under which the hash is
registered in its database's index of hashes with expiring fields (Database.hexpires, the
active expiry's worklist), or None when it is not registered. Like Redis it is not always
the earliest deadline (HEXPIRE updates it only when it moves by 4 s or more, and HPERSIST or
HSET do not update it at all); the active expiry corrects it when it visits the hash, and a
listpackex's RDB payload carries it as Redis writes it.

API:
    h = new_hash()                        # empty, listpack
    h.ht                                  # True once converted to a hash table
    h.ttls                                # None, or {field: deadline ms} (the metadata is attached)
    h.check_value_len(config, args)       # HSET-style conversion on long fields/values
    h.check_entries(config)               # conversion on too many fields
    make_hash(pairs, config, check_values=True) -> RHash   # a hash loaded from RDB / RESTORE
    make_hash_ex(triplets, config, keep_order) -> RHash     # the same with field deadlines
    h.copy() -> RHash                     # same encoding and deadlines (COPY)
    h.encoding_name() -> b"listpack" | b"listpackex" | b"hashtable"
    h.attach_ttls()                       # give the hash its expiry metadata (first HEXPIRE)
    h.set_ttl(field, when) / h.persist(field) / h.remove(field)
    h.min_ttl() -> ms | None              # the earliest deadline (Redis's accurate minimum)
    h.expired_fields(now) -> [field]      # deadlines <= now, earliest first (the active expiry's order)
    expire_due(db, key, h, now, limit) -> (fields, key deleted)   # delete due fields (and an emptied key)
"""

from __future__ import annotations

from .types import register_type

try:  # added by the keys engineer with COPY
    from .types import register_copier
except ImportError:  # pragma: no cover
    register_copier = None

# Redis's EB_EXPIRE_TIME_MAX and the largest deadline the expiry commands accept
# (HFE_MAX_ABS_TIME_MSEC: two bits kept for future use).
EXPIRE_TIME_MAX = (1 << 48) - 1
HFE_MAX_ABS_TIME_MSEC = EXPIRE_TIME_MAX >> 2


class RHash(dict):
    __slots__ = ("ht", "ttls", "hmin")

    def copy(self) -> RHash:
        h = RHash(self)
        h.ht = self.ht
        h.ttls = None if self.ttls is None else dict(self.ttls)
        h.hmin = self.hmin
        return h

    def check_value_len(self, config, args) -> None:
        """hashTypeTryConversion: any field/value longer than hash-max-listpack-value converts."""
        if not self.ht:
            limit = config.values["hash-max-listpack-value"]
            for a in args:
                if len(a) > limit:
                    self.ht = True
                    return

    def check_entries(self, config) -> None:
        if not self.ht and len(self) > config.values["hash-max-listpack-entries"]:
            self.ht = True

    def encoding_name(self) -> bytes:
        if self.ht:
            return b"hashtable"
        return b"listpack" if self.ttls is None else b"listpackex"

    # --- field deadlines ----------------------------------------------------------------
    def attach_ttls(self) -> None:
        if self.ttls is None:
            self.ttls = {}

    def set_ttl(self, field: bytes, when: int) -> None:
        """Give an existing field a deadline; a listpackex moves it to its place in the
        deadline order (before the first field that has no deadline or a later or equal one,
        as listpackExAddInternal inserts)."""
        ttls = self.ttls
        ttls[field] = when
        if self.ht:
            return
        value = dict.pop(self, field)
        items = list(self.items())
        for i, (f, _) in enumerate(items):
            t = ttls.get(f)
            if t is None or t >= when:
                break
        else:
            self[field] = value
            return
        dict.clear(self)
        self.update(items[:i])
        self[field] = value
        self.update(items[i:])

    def persist(self, field: bytes) -> None:
        """Drop a field's deadline; a listpackex moves it to the end (HPERSIST, HSET)."""
        del self.ttls[field]
        if not self.ht:
            self[field] = dict.pop(self, field)

    def remove(self, field: bytes) -> None:
        del self[field]
        ttls = self.ttls
        if ttls:
            ttls.pop(field, None)

    def min_ttl(self) -> int | None:
        ttls = self.ttls
        return min(ttls.values()) if ttls else None

    def expired_fields(self, now: int) -> list[bytes]:
        ttls = self.ttls
        if not ttls:
            return []
        if not self.ht:  # a listpackex is in deadline order already
            return [f for f in self if (t := ttls.get(f)) is not None and t <= now]
        return [f for t, f in sorted((t, f) for f, t in ttls.items() if t <= now)]


def new_hash() -> RHash:
    h = RHash()
    h.ht = False
    h.ttls = None
    h.hmin = None
    return h


def make_hash(pairs, config, check_values: bool = True) -> RHash:
    """A hash loaded from RDB/RESTORE. Redis 7.0 converts it to a hashtable when it has more than
    hash-max-listpack-entries fields, and - for payloads stored as a plain hash (RDB_TYPE_HASH) -
    when a field or value is longer than hash-max-listpack-value. A payload stored as a listpack
    keeps its long values in a listpack (checked with DEBUG RELOAD on 7.0.15): pass
    check_values=False for it."""
    h = RHash(pairs)
    h.ttls = None
    h.hmin = None
    h.ht = len(h) > config["hash-max-listpack-entries"]
    if not h.ht and check_values:
        limit = config["hash-max-listpack-value"]
        h.ht = any(len(k) > limit or len(v) > limit for k, v in h.items())
    return h


def make_hash_ex(triplets, config, keep_order: bool) -> RHash:
    """A hash with field deadlines loaded from RDB/RESTORE: (field, value, deadline or 0).

    keep_order: a listpackex payload (RDB_TYPE_HASH_LISTPACK_EX) is kept as it is stored (a
    hashtable only past hash-max-listpack-entries). Otherwise (RDB_TYPE_HASH_METADATA) Redis
    rebuilds it: a hashtable past hash-max-listpack-entries, else a listpackex filled field by
    field in deadline order, converted as soon as a field or value is longer than
    hash-max-listpack-value. `hmin` is set to the earliest deadline: storing the hash (db.add)
    registers it there, as Redis registers a loaded or restored hash."""
    h = new_hash()
    h.ttls = {}
    triplets = list(triplets)
    if keep_order:
        for f, v, t in triplets:
            h[f] = v
            if t:
                h.ttls[f] = t
        h.ht = len(h) > config["hash-max-listpack-entries"]
        h.hmin = h.min_ttl()
        return h
    h.ht = len(triplets) > config["hash-max-listpack-entries"]
    limit = config["hash-max-listpack-value"]
    for f, v, t in triplets:
        if not h.ht and (len(f) > limit or len(v) > limit):
            h.ht = True
        h[f] = v
        if t:
            h.set_ttl(f, t)
    h.hmin = h.min_ttl()
    return h


def expire_due(db, key: bytes, h: RHash, now: int, limit: int) -> tuple[list[bytes], bool]:
    """Delete up to `limit` fields of the hash stored at `key` in `db` whose deadline is <= now
    (hashTypeExpire), and the key when no field is left. Returns (the fields, key deleted)."""
    fields = h.expired_fields(now)
    if len(fields) > limit:
        del fields[limit:]
    for f in fields:
        h.remove(f)
    if fields and not h:
        db.delete(key)
        return fields, True
    return fields, False


def _encoding(h: RHash, config) -> bytes:
    return h.encoding_name()


register_type(RHash, b"hash", _encoding)
if register_copier is not None:
    register_copier(RHash, RHash.copy)
