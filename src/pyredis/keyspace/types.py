"""Type names and encodings of stored values (TYPE, OBJECT ENCODING, WRONGTYPE, SCAN TYPE).

Strings are plain `bytes`. Each collection module registers its class here with
register_type, so `type_name(value)` and `encoding(value, config)` answer for every type
without this module knowing them all.
"""

from __future__ import annotations

from collections.abc import Callable

TYPE_NAMES: dict[type, bytes] = {bytes: b"string"}
# cls -> f(value, config) -> encoding name as OBJECT ENCODING prints it (b"listpack", ...)
ENCODINGS: dict[type, Callable] = {}


def register_type(cls: type, name: bytes, encoding: Callable | None = None) -> None:
    TYPE_NAMES[cls] = name
    if encoding is not None:
        ENCODINGS[cls] = encoding


def type_name(value) -> bytes:
    return TYPE_NAMES.get(type(value), b"none")


def encoding(value, config) -> bytes:
    f = ENCODINGS.get(type(value))
    return f(value, config) if f is not None else b"raw"
