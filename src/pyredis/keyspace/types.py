"""Type names, encodings and copiers of stored values (TYPE, OBJECT ENCODING, WRONGTYPE,
SCAN TYPE, COPY).

Strings are plain `bytes`. Each collection module registers its class here with
register_type (and register_copier), so `type_name(value)`, `encoding(value, config)` and
`copy_value(value)` answer for every type without this module knowing them all.

API:
    register_type(cls, b"hash", encoding_fn)   # encoding_fn(value, config) -> b"listpack" ...
    register_copier(cls, fn)                   # fn(value) -> an independent deep copy
    type_name(v) -> b"string" | b"hash" ... | b"none"
    encoding(v, config) -> bytes
    copy_value(v) -> a copy that shares nothing mutable with v
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from ..protocol.parser import string2ll

# A string value is `bytes`, or a `bytearray` once a command changed it in place (APPEND on an
# existing key, SETRANGE, SETBIT, BITFIELD: Redis's raw strings, grown in place with room to
# spare; OBJECT ENCODING "raw"). A bytearray never leaves the keyspace: replies copy it.
TYPE_NAMES: dict[type, bytes] = {bytes: b"string", bytearray: b"string"}
# cls -> f(value, config) -> encoding name as OBJECT ENCODING prints it (b"listpack", ...)
ENCODINGS: dict[type, Callable] = {}
# cls -> f(value) -> deep copy (COPY must not share collection internals with the source)
COPIERS: dict[type, Callable] = {}


def register_type(cls: type, name: bytes, encoding: Callable | None = None) -> None:
    TYPE_NAMES[cls] = name
    if encoding is not None:
        ENCODINGS[cls] = encoding


def register_copier(cls: type, fn: Callable) -> None:
    COPIERS[cls] = fn


def type_name(value) -> bytes:
    return TYPE_NAMES.get(type(value), b"none")


def string_encoding(v: bytes) -> bytes:
    """tryObjectEncoding's choice for a value stored by SET: int (fits a long, <= 20
    chars), embstr (<= 44 bytes), raw. Values built in place (APPEND, SETRANGE, SETBIT,
    BITFIELD, BITOP) are bytearrays, raw whatever their content, as in Redis."""
    n = len(v)
    if n <= 20 and string2ll(v) is not None:
        return b"int"
    return b"embstr" if n <= 44 else b"raw"


def encoding(value, config) -> bytes:
    if type(value) is bytes:
        return string_encoding(value)
    if type(value) is bytearray:
        return b"raw"
    f = ENCODINGS.get(type(value))
    return f(value, config) if f is not None else b"raw"


def copy_value(value):
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytearray(value)
    f = COPIERS.get(type(value))
    if f is not None:
        return f(value)
    return copy.deepcopy(value)
