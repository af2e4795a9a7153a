"""pyredis-cli's reply printer: replies formatted as redis-cli 7.0 formats them.

Three formats, as redis-cli's cliFormatReplyTTY / cliFormatReplyRaw / cliFormatReplyCSV:

- terminal (format_tty): `(integer) 1`, `(nil)`, `"quoted"` strings, `1) "a"` with nested,
  indented arrays, RESP3 maps `1# "k" => "v"`, sets `1~ "a"`, `(error) ERR ...`, `(double)`,
  `(big number)`, `(true)`/`(false)`;
- raw (format_raw): the bare payloads, one a line (a map's pairs as `key value`), used
  with --raw and when stdout is not a terminal (unless --no-raw);
- CSV (format_csv, --csv): one line of comma-separated items.

Where it sits: client.py reads each reply off the wire as a Reply (RESP2 or RESP3, typed as
the server sent it) and hands it to print_reply with the format the options chose.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..util import sdscatrepr

if TYPE_CHECKING:
    from .client import Reply

_EMPTY = {"array": "(empty array)\n", "map": "(empty hash)\n", "set": "(empty set)\n", "push": "(empty push)\n"}
_SEP = {"set": "~", "map": "#"}


def as_text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def format_tty(r: Reply, prefix: str = "") -> str:
    k = r.kind
    if k == "error":
        return f"(error) {as_text(r.value)}\n"
    if k == "status":
        return as_text(r.value) + "\n"
    if k == "integer":
        return f"(integer) {r.value}\n"
    if k == "double":
        return f"(double) {as_text(r.value)}\n"
    if k == "bignum":
        return f"(big number) {as_text(r.value)}\n"
    if k == "bulk":
        return sdscatrepr(r.value) + "\n"
    if k == "verbatim":
        return as_text(r.value) + "\n"
    if k == "nil":
        return "(nil)\n"
    if k == "bool":
        return "(true)\n" if r.value else "(false)\n"
    elems = r.value
    if not elems:
        return _EMPTY[k]
    is_map = k == "map"
    count = len(elems) // 2 if is_map else len(elems)
    idxlen = len(str(count))
    child_prefix = prefix + " " * (idxlen + 2)
    sep = _SEP.get(k, ")")
    out: list[str] = []
    step = 2 if is_map else 1
    for n, i in enumerate(range(0, len(elems), step), 1):
        out.append(f"{'' if n == 1 else prefix}{n:>{idxlen}}{sep} ")
        tmp = format_tty(elems[i], child_prefix)
        if is_map:
            out.append(tmp[:-1] + " => ")
            val = format_tty(elems[i + 1], child_prefix)
            if "\n" in val[:-1]:  # a multi-line value starts on its own line
                out.append("\n" + child_prefix)
            out.append(val)
        else:
            out.append(tmp)
    return "".join(out)


def format_raw(r: Reply) -> bytes:
    k = r.kind
    if k == "nil":
        return b""
    if k == "error":
        return r.value + b"\n"
    if k in ("status", "bulk", "verbatim", "double", "bignum"):
        return r.value
    if k == "bool":
        return b"(true)" if r.value else b"(false)"
    if k == "integer":
        return str(r.value).encode()
    elems = r.value
    if k == "map":
        return b"\n".join(format_raw(elems[i]) + b" " + format_raw(elems[i + 1]) for i in range(0, len(elems), 2))
    return b"\n".join(format_raw(e) for e in elems)


def format_csv(r: Reply) -> str:
    k = r.kind
    if k == "error":
        return "ERROR," + sdscatrepr(r.value)
    if k in ("status", "bulk", "verbatim"):
        return sdscatrepr(r.value)
    if k == "integer":
        return str(r.value)
    if k in ("double", "bignum"):
        return as_text(r.value)
    if k == "nil":
        return "NULL"
    if k == "bool":
        return "true" if r.value else "false"
    return ",".join(format_csv(e) for e in r.value)  # maps too: CSV has no map, a flat list


def print_reply(r: Reply, raw: bool | str) -> None:
    """Write r to stdout as redis-cli does: raw=False terminal, True raw, "csv" CSV."""
    if raw == "csv":
        sys.stdout.buffer.write(format_csv(r).encode("utf-8", "surrogateescape") + b"\n")
        sys.stdout.flush()
    elif raw:
        out = sys.stdout.buffer
        out.write(format_raw(r) + b"\n")
        out.flush()
    else:
        sys.stdout.write(format_tty(r))
        sys.stdout.flush()
