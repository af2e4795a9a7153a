"""The reply vocabulary handlers return. Only protocol/encoder.py turns these into RESP2 or RESP3.

    bytes          bulk string              int            integer
    None           null (RESP2 $-1)         NULL_ARRAY     null (RESP2 *-1)
    list / tuple   array                    dict           map (RESP2: flat array)
    set/frozenset  set (RESP2: array)       Simple(b"OK")  status line
    Double(x)      double (RESP2: bulk)     ErrorReply     error inside an array (EXEC, scripts)
    Boolean        RESP3 boolean (RESP2: integer 1/0)
    Verbatim       verbatim string (RESP2: bulk)      VerbatimFormatted  with a format other than txt
    MapPairs       map from a flat pair list          Deep(reply)    encoded without recursion
    BigNumber      big number (RESP2: bulk)
    Push           out-of-band push (RESP2: array)
"""

from __future__ import annotations


class Simple(bytes):
    """A status reply: +OK."""

    __slots__ = ()


class ErrorReply(bytes):
    """An error as a value (inside EXEC results, script replies): -ERR ..."""

    __slots__ = ()


class Double(float):
    __slots__ = ()


class DoubleText(bytes):
    """A double whose text the command formats itself (addReplyHumanLongDouble: GEOPOS,
    WITHCOORD): RESP3 `,<text>`, RESP2 a bulk string of the text."""

    __slots__ = ()


class Boolean(int):
    __slots__ = ()


class BigNumber(bytes):
    __slots__ = ()


class Verbatim(bytes):
    """A verbatim string of format `txt` (INFO, CLIENT LIST, LATENCY DOCTOR in RESP3)."""

    __slots__ = ()


class VerbatimFormatted(bytes):
    """A verbatim string with its own format: the bytes are `fmt:text` with a 3-character
    format (a script's {verbatim_string = {format = 'mkd', ...}}); RESP2 sends `text`."""

    __slots__ = ()


class MapPairs(list):
    """A map as a flat [k1, v1, k2, v2, ...] list: keys need not be hashable or distinct
    (a script's {map = ...} whose keys are tables, or convert to equal replies)."""

    __slots__ = ()


class Deep:
    """A reply nested too deep for the recursive encoder (a script's 8000-level table):
    encoded with an explicit stack instead."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value


class Push(list):
    __slots__ = ()


class _NullArray:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()
OK = Simple(b"OK")
PONG = Simple(b"PONG")
QUEUED = Simple(b"QUEUED")


class NoReply:
    """Returned by commands that must not answer now (blocked client, CLIENT REPLY OFF)."""

    __slots__ = ()


NO_REPLY = NoReply()


class SetReply(list):
    """A set with a fixed order (COMMAND flags, ACL categories): RESP3 `~`, RESP2 array."""

    __slots__ = ()


class MultiReply(list):
    """Several top-level replies from one command (SUBSCRIBE ch1 ch2 answers once per channel).
    They are pub/sub confirmations, pushes: sent even under CLIENT REPLY OFF / SKIP."""

    __slots__ = ()
