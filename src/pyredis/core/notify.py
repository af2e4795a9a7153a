"""Keyspace notifications (notify-keyspace-events), as Redis's notify.c.

Commands call `ctx.notify(NOTIFY_STRING, b"set", key)` after a change; when the configured
flags select the class, the event is published on `__keyspace@<db>__:<key>` (K) and/or
`__keyevent@<db>__:<event>` (E) through the pub/sub hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import ServerState

NOTIFY_KEYSPACE = 1 << 0  # K
NOTIFY_KEYEVENT = 1 << 1  # E
NOTIFY_GENERIC = 1 << 2  # g
NOTIFY_STRING = 1 << 3  # $
NOTIFY_LIST = 1 << 4  # l
NOTIFY_SET = 1 << 5  # s
NOTIFY_HASH = 1 << 6  # h
NOTIFY_ZSET = 1 << 7  # z
NOTIFY_EXPIRED = 1 << 8  # x
NOTIFY_EVICTED = 1 << 9  # e
NOTIFY_STREAM = 1 << 10  # t
NOTIFY_KEY_MISS = 1 << 11  # m
NOTIFY_LOADED = 1 << 12  # module only
NOTIFY_MODULE = 1 << 13  # d
NOTIFY_NEW = 1 << 14  # n
NOTIFY_ALL = (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
              | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

_CHARS = {
    "A": NOTIFY_ALL, "g": NOTIFY_GENERIC, "$": NOTIFY_STRING, "l": NOTIFY_LIST, "s": NOTIFY_SET,
    "h": NOTIFY_HASH, "z": NOTIFY_ZSET, "x": NOTIFY_EXPIRED, "e": NOTIFY_EVICTED, "K": NOTIFY_KEYSPACE,
    "E": NOTIFY_KEYEVENT, "t": NOTIFY_STREAM, "m": NOTIFY_KEY_MISS, "d": NOTIFY_MODULE, "n": NOTIFY_NEW,
}
_ORDER = [("g", NOTIFY_GENERIC), ("$", NOTIFY_STRING), ("l", NOTIFY_LIST), ("s", NOTIFY_SET),
          ("h", NOTIFY_HASH), ("z", NOTIFY_ZSET), ("x", NOTIFY_EXPIRED), ("e", NOTIFY_EVICTED),
          ("t", NOTIFY_STREAM), ("d", NOTIFY_MODULE), ("n", NOTIFY_NEW)]


def parse_flags(text: str) -> int:
    flags = 0
    for ch in text:
        f = _CHARS.get(ch)
        if f is None:
            raise ValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        flags |= f
    return flags


def flags_to_string(flags: int) -> str:
    out = ""
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        out += "A"
    else:
        out += "".join(c for c, f in _ORDER if flags & f)
    if flags & NOTIFY_KEYSPACE:
        out += "K"
    if flags & NOTIFY_KEYEVENT:
        out += "E"
    if flags & NOTIFY_KEY_MISS:
        out += "m"
    return out


def notify(state: ServerState, type_: int, event: bytes, key: bytes, dbid: int) -> None:
    flags = state.notify_flags
    if not (flags & type_):
        return
    hub = state.pubsub
    if flags & NOTIFY_KEYSPACE:
        hub.publish(b"__keyspace@%d__:%s" % (dbid, key), event)
    if flags & NOTIFY_KEYEVENT:
        hub.publish(b"__keyevent@%d__:%s" % (dbid, event), key)
