"""The set value: a Python set of bytes that remembers its Redis encoding.

Redis 7.0 has two set encodings: intset (every member is an integer in canonical form that
fits int64, and there are at most `set-max-intset-entries` of them) and hashtable. A set
starts as an intset when its first member is an integer, and the conversion to hashtable is
one-way (removing the offending member does not convert back). `RSet.intset` records that.

Redis 7.2 (and Valkey 8.0, which forked from it) adds a third, listpack (t_set.c): a set of
at most `set-max-listpack-entries` (128) members of at most `set-max-listpack-value` (64)
bytes that are not all integers. An intset that gets a non-integer member while it has fewer
than 128 members (none longer than 64 digits) becomes a listpack of its integers in ascending
order followed by the new member; one that grows past set-max-intset-entries still becomes a
hashtable, and so does a listpack that grows past either limit. Creating a set takes a size
hint (SADD's member count): an integer first member with a hint within the intset limit
makes an intset, else a hint within the listpack limit a listpack, else a hashtable. The
conversions are one-way. A listpack keeps insertion order (a deleted entry leaves the others
in place), and Redis iterates it in that order: `RSet.lp` is then a dict of the members in
listpack order (kept beside the set, which answers membership), None for the other encodings.

An intset is sorted, so Redis replies with its members in ascending numeric order:
`ordered(s)` gives that order, the listpack's order for a listpack, and the set's own order
for a hashtable (which Redis's hash order cannot be reproduced anyway).

Which rules apply is the server's compat-version mode: `lp_limits(config)` is None in 7.0
mode (no listpack sets), else the two limits.

API:
    s = new_set(first, config, hint)        # setTypeCreate
    s.intset / s.lp                         # encoding: intset / listpack (a dict) / neither: hashtable
    s.maybe_convert(hint, config)           # setTypeMaybeConvert (SADD on an existing set, 7.2+)
    s.add_members(members, config) -> n     # setTypeAdd for each, in order; returns how many were new
    s.remove_members(members) -> n          # setTypeRemove for each
    s.to_hashtable()                        # the one-way conversion
    intset_of(members, config) -> RSet      # createIntsetObject + setTypeAdd each (SUNION/SDIFF)
    listpack_of(members, config) -> RSet    # createSetListpackObject + setTypeAdd each (7.2+)
    load_plain_set / load_intset / load_listpack_set (members, config) -> RSet   # RDB/RESTORE
    ordered(s) -> list                      # members in Redis's iteration order
    s.copy() -> RSet                        # same encoding and order (COPY)
"""

from __future__ import annotations

from ..protocol.parser import string2ll
from .types import register_type

try:  # added by the keys engineer with COPY
    from .types import register_copier
except ImportError:  # pragma: no cover
    register_copier = None


class DuplicateMember(ValueError):
    """An RDB set payload names a member twice (Redis: "Duplicate set members detected")."""


def is_int(m: bytes) -> bool:
    """isSdsRepresentableAsLongLong: canonical decimal that fits int64."""
    return string2ll(m) is not None


def lp_limits(config) -> tuple[int, int] | None:
    """(set-max-listpack-entries, set-max-listpack-value) in the modes that have listpack
    sets (7.2+), None in 7.0 mode. (The values by their canonical names, without
    Config.__getitem__'s alias lookup: SADD asks twice per call.)"""
    values = config.values
    if values["compat-version"] == "7.0":
        return None
    return values["set-max-listpack-entries"], values["set-max-listpack-value"]


def _intset_max(config) -> int:
    """intsetMaxEntries: set-max-intset-entries, at most 1G (7.2's limit of intset internals)."""
    return min(config.values["set-max-intset-entries"], 1 << 30)


class RSet(set):
    __slots__ = ("intset", "lp")

    def copy(self) -> RSet:
        s = RSet(self)
        s.intset = self.intset
        s.lp = None if self.lp is None else dict(self.lp)
        return s

    def to_hashtable(self) -> None:
        self.intset = False
        self.lp = None

    def maybe_convert(self, hint: int, config) -> None:
        """setTypeMaybeConvert: a listpack (intset) about to get more members than its limit
        allows becomes a hashtable at once (SADD's argument count, 7.2+)."""
        lim = lp_limits(config)
        if lim is None:
            return
        if (self.lp is not None and hint > lim[0]) or (self.intset and hint > config.values["set-max-intset-entries"]):
            self.to_hashtable()

    def add_members(self, members, config) -> int:
        n = len(self)
        lim = lp_limits(config)
        if lim is None:  # Redis 7.0: intset or hashtable
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
        if not self.intset and self.lp is None:
            self.update(members)
            return len(self) - n
        max_entries, max_value = lim
        members = members if isinstance(members, (list, tuple)) else list(members)
        for i, m in enumerate(members):
            if self.intset:
                if m in self:
                    continue
                if string2ll(m) is not None:
                    self.add(m)
                    if len(self) > _intset_max(config):  # maybeConvertIntset
                        self.intset = False
                        self.update(members[i + 1:])
                        break
                    continue
                # a non-integer: a listpack if the intset is small and short enough
                longest = max(len(b"%d" % v) for v in (max(map(int, self)), min(map(int, self)))) if self else 0
                self.intset = False
                if len(self) < max_entries and len(m) <= max_value and longest <= max_value:
                    self.lp = dict.fromkeys(sorted(self, key=int))
                    self.lp[m] = None
                    self.add(m)
                    continue
                self.add(m)
                self.update(members[i + 1:])
                break
            # listpack
            if m in self:
                continue
            if len(self) < max_entries and len(m) <= max_value:
                self.add(m)
                self.lp[m] = None  # type: ignore[index]
                continue
            self.lp = None
            self.add(m)
            self.update(members[i + 1:])
            break
        return len(self) - n

    def remove_members(self, members) -> int:
        n = len(self)
        lp = self.lp
        if len(members) == 1:
            self.discard(members[0])
            if lp is not None:
                lp.pop(members[0], None)
        else:
            self.difference_update(members)
            if lp is not None:
                for m in members:
                    lp.pop(m, None)
        return n - len(self)


def _new(intset: bool, lp: dict | None) -> RSet:
    s = RSet()
    s.intset = intset
    s.lp = lp
    return s


def new_set(first: bytes, config, hint: int = 1) -> RSet:
    """setTypeCreate: an intset for an integer first member (7.2+: when `hint` members fit
    one), else (7.2+) a listpack when `hint` members fit one, else a hashtable."""
    lim = lp_limits(config)
    if lim is None:
        return _new(string2ll(first) is not None, None)
    if string2ll(first) is not None and hint <= config["set-max-intset-entries"]:
        return _new(True, None)
    if hint <= lim[0]:
        return _new(False, {})
    return _new(False, None)


def intset_of(members, config) -> RSet:
    """createIntsetObject() followed by setTypeAdd of each member (SINTERSTORE, SUNIONSTORE...)."""
    s = _new(True, None)
    s.add_members(members, config)
    return s


def listpack_of(members, config) -> RSet:
    """createSetListpackObject() followed by setTypeAdd of each member (7.2+)."""
    s = _new(False, {})
    s.add_members(members, config)
    return s


def maybe_to_intset(s: RSet, config) -> None:
    """maybeConvertToIntset: a set known to hold only integers becomes an intset when it fits one."""
    if not s.intset and len(s) <= _intset_max(config):
        s.intset = True
        s.lp = None


def load_plain_set(members: list[bytes], config) -> RSet:
    """rdbLoadObject of RDB_TYPE_SET: 7.0 keeps an intset when every member is an integer and
    they fit one; 7.2 fills an intset while the members are integers, then a listpack (the
    integers so far in ascending order, then the rest in the payload's order) while they fit
    one, else a hashtable. A duplicate member is an error (DuplicateMember)."""
    lim = lp_limits(config)
    n = len(members)
    if lim is None:
        s = _new(n <= config["set-max-intset-entries"], None)
        s.update(members)
        if len(s) != n:
            raise DuplicateMember("Duplicate set members detected")
        if s.intset and not all(string2ll(m) is not None for m in s):
            s.intset = False
        return s
    max_entries, max_value = lim
    s = _new(n <= _intset_max(config), None)
    longest = 0
    for i, m in enumerate(members):
        if len(m) > longest:
            longest = len(m)
        if s.intset and string2ll(m) is None:
            s.intset = False
            if len(s) < max_entries and longest <= max_value:
                s.lp = dict.fromkeys(sorted(s, key=int))
        if s.lp is not None and not (len(s) < max_entries and len(m) <= max_value):
            s.lp = None
        if m in s:
            raise DuplicateMember("Duplicate set members detected")
        s.add(m)
        if s.lp is not None:
            s.lp[m] = None
    return s


def load_intset(members: list[bytes], config) -> RSet:
    """RDB_TYPE_SET_INTSET: an intset, a hashtable beyond set-max-intset-entries."""
    s = _new(len(members) <= config["set-max-intset-entries"], None)
    s.update(members)
    if len(s) != len(members):
        raise DuplicateMember("Duplicate set members detected")
    return s


def load_listpack_set(members: list[bytes], config) -> RSet:
    """RDB_TYPE_SET_LISTPACK (7.2+): a listpack in the payload's order (however long its
    members), a hashtable beyond set-max-listpack-entries."""
    lim = lp_limits(config)
    lp = dict.fromkeys(members)
    if len(lp) != len(members):
        raise DuplicateMember("Duplicate set members detected")
    s = _new(False, lp if lim is not None and len(lp) <= lim[0] else None)
    s.update(lp)
    return s


def ordered(s: RSet) -> list:
    if s.intset:
        return sorted(s, key=int)
    if s.lp is not None:
        return list(s.lp)
    return list(s)


def _encoding(s: RSet, config) -> bytes:
    if s.intset:
        return b"intset"
    return b"listpack" if s.lp is not None else b"hashtable"


register_type(RSet, b"set", _encoding)
if register_copier is not None:
    register_copier(RSet, RSet.copy)
