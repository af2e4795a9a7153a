"""Type names of stored values (TYPE, WRONGTYPE checks, SCAN TYPE).

Strings are plain `bytes`. Each collection module registers its class here with
register_type, so `type_name(value)` answers for every type without knowing them all.
"""

from __future__ import annotations

TYPE_NAMES: dict[type, bytes] = {bytes: b"string"}


def register_type(cls: type, name: bytes) -> None:
    TYPE_NAMES[cls] = name


def type_name(value) -> bytes:
    return TYPE_NAMES.get(type(value), b"none")
