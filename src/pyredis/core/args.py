"""Argument parsing with Redis's error texts."""

from __future__ import annotations

from ..errors import NOT_FLOAT, NOT_INTEGER, CommandError
from ..util import parse_double, string2ll


def to_int(b: bytes, err: str = NOT_INTEGER) -> int:
    """getLongLongFromObjectOrReply: a strict int64."""
    v = string2ll(b)
    if v is None:
        raise CommandError(err)
    return v


def to_nonneg_int(b: bytes, err: str = "ERR value is out of range, must be positive") -> int:
    v = to_int(b)
    if v < 0:
        raise CommandError(err)
    return v


def to_float(b: bytes, err: str = NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply / getLongDoubleFromObject: strtod of the whole string, no NaN."""
    v = parse_double(b)
    if v is None:
        raise CommandError(err)
    return v


def upper(b: bytes) -> bytes:
    return b.upper()


class Options:
    """A cursor over an option tail: `while opts: tok = opts.next_upper()`."""

    __slots__ = ("args", "i")

    def __init__(self, args: tuple[bytes, ...] | list[bytes], start: int = 0) -> None:
        self.args = args
        self.i = start

    def __bool__(self) -> bool:
        return self.i < len(self.args)

    def next_upper(self) -> bytes:
        a = self.args[self.i]
        self.i += 1
        return a.upper()

    def has_more(self, n: int = 1) -> bool:
        return self.i + n <= len(self.args)

    def value(self) -> bytes:
        """The argument after an option keyword; syntax error when missing."""
        if self.i >= len(self.args):
            from ..errors import SYNTAX

            raise CommandError(SYNTAX)
        a = self.args[self.i]
        self.i += 1
        return a
