"""Random keys of a dict in O(1): what dictGetSomeKeys / dictGetRandomKey give Redis's
eviction (core/evict.py) and RANDOMKEY-like sampling, for a Python dict.

A Python dict keeps its entries in one array in insertion order, with holes where keys were
deleted. Picking random slots of that array and skipping the holes is Redis's own approach
(random buckets, skipping empty ones), and costs O(1) per sample however large the dict.
Python does not expose the array, so it is read through ctypes, from CPython's layout
(Objects/dictobject.c, 3.11-3.13: PyDictObject.ma_keys -> PyDictKeysObject, whose entries
follow the index table). The layout is verified once at import on a dict with holes, the way
core/lua/hook.py verifies lua_State; if it does not match (another interpreter or version),
sampling falls back to a snapshot of the keys refreshed as the dict changes - correct, but
O(n) per refresh.

API:
    sample_keys(d, count, rand) -> list of up to `count` keys (repeats possible, as Redis)
    random_key(d, rand) -> one key, or None for an empty dict
    FAST: whether the O(1) path is in use
"""

from __future__ import annotations

import ctypes
import sys

_P = ctypes.sizeof(ctypes.c_void_p)
_OFF_MA_KEYS = 4 * _P if sys.implementation.name == "cpython" else -1  # refcnt, type, ma_used, version
_OFF_LOG2_INDEX = _P + 1  # after dk_refcnt and dk_log2_size
_OFF_KIND = _P + 2
_OFF_NENTRIES = 3 * _P  # dk_refcnt, (4 bytes of small fields + dk_version), dk_usable
_OFF_INDICES = 4 * _P
_GENERAL_ENTRY = 3 * _P  # me_hash, me_key, me_value
_UNICODE_ENTRY = 2 * _P  # me_key, me_value

_ptr_at = ctypes.c_void_p.from_address
try:
    from _ctypes import PyObj_FromPtr as _obj_at  # ten times ctypes.cast(p, py_object).value
except ImportError:  # pragma: no cover
    def _obj_at(p: int):
        return ctypes.cast(p, ctypes.py_object).value


def _table(d: dict) -> tuple[int, int, int, int]:
    """(address of the first entry, entry size, offset of me_key in an entry, number of slots used)."""
    keys = _ptr_at(id(d) + _OFF_MA_KEYS).value
    log2_index = ctypes.c_uint8.from_address(keys + _OFF_LOG2_INDEX).value
    kind = ctypes.c_uint8.from_address(keys + _OFF_KIND).value
    nentries = ctypes.c_ssize_t.from_address(keys + _OFF_NENTRIES).value
    first = keys + _OFF_INDICES + (1 << log2_index)
    if kind == 0:  # DICT_KEYS_GENERAL
        return first, _GENERAL_ENTRY, _P, nentries
    return first, _UNICODE_ENTRY, 0, nentries


def _key_at(first: int, size: int, off: int, i: int):
    p = _ptr_at(first + i * size + off).value
    return None if not p else _obj_at(p)


_u64_at = ctypes.c_uint64.from_address
_U64P = ctypes.POINTER(ctypes.c_uint64)
_cast = ctypes.cast


def _fast_sample(d: dict, count: int, rand) -> list:
    if not d:
        return []
    keys = _u64_at(id(d) + _OFF_MA_KEYS).value
    word = _u64_at(keys + _P).value  # dk_log2_size, dk_log2_index_bytes, dk_kind, ...
    n = _u64_at(keys + _OFF_NENTRIES).value
    general = (word >> 16) & 0xFF == 0
    step, off = (3, 1) if general else (2, 0)  # entries as words; me_key's word
    entries = _cast(keys + _OFF_INDICES + (1 << ((word >> 8) & 0xFF)), _U64P)
    out = []
    tries = 0
    limit = count * 10 + 16  # a dict of holes (many deletions) cannot loop for long
    while len(out) < count and tries < limit:
        tries += 1
        p = entries[int(rand() * n) * step + off]
        if p:
            out.append(_obj_at(p))
    if not out:  # very sparse: take the first live keys
        for k in d:
            out.append(k)
            if len(out) >= count:
                break
    return out


class _Snapshots:
    """The fallback: a list of the keys per dict (by id, holding no reference to the dict),
    rebuilt when its length has moved by a quarter or too many picks were gone."""

    def __init__(self) -> None:
        self.lists: dict[int, list] = {}

    def sample(self, d: dict, count: int, rand) -> list:
        if not d:
            return []
        keys = self.lists.get(id(d))
        if keys is None or abs(len(keys) - len(d)) > len(d) // 4:
            if len(self.lists) > 64:
                self.lists.clear()
            keys = self.lists[id(d)] = list(d)
        out = []
        misses = 0
        while len(out) < count and misses < count * 4:
            k = keys[int(rand() * len(keys))]
            if k in d:
                out.append(k)
            else:
                misses += 1
        if misses > count:  # stale: rebuild next time
            self.lists.pop(id(d), None)
        if not out:
            return [next(iter(d))]
        return out


_snapshots = _Snapshots()


def _verify() -> bool:
    if _OFF_MA_KEYS < 0:
        return False
    try:
        d = {b"k%d" % i: i for i in range(50)}
        for i in range(0, 50, 3):
            del d[b"k%d" % i]
        first, size, off, n = _table(d)
        if n != 50:
            return False
        seen = [_key_at(first, size, off, i) for i in range(n)]
        return [k for k in seen if k is not None] == list(d) and seen.count(None) == 17
    except Exception:  # pragma: no cover - a different layout
        return False


FAST = _verify()


def sample_keys(d: dict, count: int, rand) -> list:
    if FAST:
        return _fast_sample(d, count, rand)
    return _snapshots.sample(d, count, rand)


def random_key(d: dict, rand):
    got = sample_keys(d, 1, rand)
    return got[0] if got else None
