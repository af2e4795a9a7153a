"""The set value: a Python set of bytes that remembers its Redis 7.0 encoding.

Redis 7.0 has two set encodings: intset (every member is an integer in canonical form that
fits int64, and there are at most `set-max-intset-entries` of them) and hashtable. A set
starts as an intset when its first member is an integer, and the conversion to hashtable is
one-way (removing the offending member does not convert back). `RSet.intset` records that.

An intset is sorted, so Redis replies with its members in ascending numeric order:
`ordered(s)` gives that order (and the set's own order for a hashtable).

API:
    s = new_set(first_member)               # setTypeCreate: intset iff the member is an integer
    s.intset                                # still an intset?
    s.add_members(members, config) -> n     # setTypeAdd for each; returns how many were new
    make_set(members, config) -> RSet       # a freshly built set, as RDB load/RESTORE
    ordered(s) -> list                      # members in Redis's iteration order
    s.copy() -> RSet                        # same encoding (COPY)
"""

from __future__ import annotations

from ..protocol.parser import string2ll
from .types import register_type

try:  # added by the keys engineer with COPY
    from .types import register_copier
except ImportError:  # pragma: no cover
    register_copier = None


def is_int(m: bytes) -> bool:
    """isSdsRepresentableAsLongLong: canonical decimal that fits int64."""
    return string2ll(m) is not None


class RSet(set):
    __slots__ = ("intset",)

    def copy(self) -> RSet:
        s = RSet(self)
        s.intset = self.intset
        return s

    def add_members(self, members, config) -> int:
        n = len(self)
        if self.intset:
            for m in members:
                if string2ll(m) is None:
                    self.intset = False
                    break
            self.update(members)
            if self.intset and len(self) > config["set-max-intset-entries"]:
                self.intset = False
        else:
            self.update(members)
        return len(self) - n


def new_set(first: bytes) -> RSet:
    s = RSet()
    s.intset = string2ll(first) is not None
    return s


def intset_of(members, config) -> RSet:
    """createIntsetObject() followed by setTypeAdd of each member (SINTERSTORE, SUNIONSTORE...)."""
    s = RSet()
    s.intset = True
    s.add_members(members, config)
    return s


def make_set(members, config) -> RSet:
    s = RSet(members)
    s.intset = len(s) <= config["set-max-intset-entries"] and all(string2ll(m) is not None for m in s)
    return s


def ordered(s: RSet) -> list:
    if s.intset:
        return sorted(s, key=int)
    return list(s)


def _encoding(s: RSet, config) -> bytes:
    return b"intset" if s.intset else b"hashtable"


register_type(RSet, b"set", _encoding)
if register_copier is not None:
    register_copier(RSet, RSet.copy)
