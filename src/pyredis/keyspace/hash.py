"""The hash value: a dict (field -> value, both bytes) that remembers its Redis encoding.

Redis keeps a small hash in a listpack and converts it, once and for good, to a hash table
when it grows past `hash-max-listpack-entries` fields or when a field or value longer than
`hash-max-listpack-value` bytes is written. `RHash.ht` records that conversion, so OBJECT
ENCODING answers like Redis. A listpack keeps insertion order, and so does a dict: for a
listpack hash, HGETALL/HKEYS/HSCAN reply in exactly Redis's order.

API:
    h = new_hash()                        # empty, listpack
    h.ht                                  # True once converted to a hash table
    h.check_value_len(config, args)       # HSET-style conversion on long fields/values
    h.check_entries(config)               # conversion on too many fields
    make_hash(pairs, config, check_values=True) -> RHash   # a hash loaded from RDB / RESTORE
    h.copy() -> RHash                     # same encoding (COPY)
"""

from __future__ import annotations

from .types import register_type

try:  # added by the keys engineer with COPY
    from .types import register_copier
except ImportError:  # pragma: no cover
    register_copier = None


class RHash(dict):
    __slots__ = ("ht",)

    def copy(self) -> RHash:
        h = RHash(self)
        h.ht = self.ht
        return h

    def check_value_len(self, config, args) -> None:
        """hashTypeTryConversion: any field/value longer than hash-max-listpack-value converts."""
        if not self.ht:
            limit = config["hash-max-listpack-value"]
            for a in args:
                if len(a) > limit:
                    self.ht = True
                    return

    def check_entries(self, config) -> None:
        if not self.ht and len(self) > config["hash-max-listpack-entries"]:
            self.ht = True


def new_hash() -> RHash:
    h = RHash()
    h.ht = False
    return h


def make_hash(pairs, config, check_values: bool = True) -> RHash:
    """A hash loaded from RDB/RESTORE. Redis 7.0 converts it to a hashtable when it has more than
    hash-max-listpack-entries fields, and - for payloads stored as a plain hash (RDB_TYPE_HASH) -
    when a field or value is longer than hash-max-listpack-value. A payload stored as a listpack
    keeps its long values in a listpack (checked with DEBUG RELOAD on 7.0.15): pass
    check_values=False for it."""
    h = RHash(pairs)
    h.ht = len(h) > config["hash-max-listpack-entries"]
    if not h.ht and check_values:
        limit = config["hash-max-listpack-value"]
        h.ht = any(len(k) > limit or len(v) > limit for k, v in h.items())
    return h


def _encoding(h: RHash, config) -> bytes:
    return b"hashtable" if h.ht else b"listpack"


register_type(RHash, b"hash", _encoding)
if register_copier is not None:
    register_copier(RHash, RHash.copy)
