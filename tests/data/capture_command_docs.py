"""Regenerates src/pyredis/core/command_docs.json from a running redis-server 7.0.15.

    python tests/data/capture_command_docs.py PORT

The file holds facts captured from the server's own output (COMMAND DOCS, and the tips and
key specs of COMMAND INFO), in RESP3 order, with a small typed-JSON encoding:
maps -> objects, arrays -> lists, bulk strings -> strings, integers -> ints,
status strings -> {"+": text}, sets -> {"~": [...]}. pyredis serves these for the commands it implements.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from resp import Map, RawClient, RSet, Status  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "pyredis", "core", "command_docs.json")


def enc(v):
    if isinstance(v, Status):
        return {"+": v.decode()}
    if isinstance(v, RSet):
        return {"~": [enc(x) for x in v]}
    if isinstance(v, Map):
        return {k.decode(): enc(x) for k, x in v.items()}
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, bytes):
        return v.decode()
    return v


def main() -> None:
    port = int(sys.argv[1])
    c = RawClient("127.0.0.1", port)
    c.call("HELLO", "3")
    docs = enc(c.call("COMMAND", "DOCS"))
    info: dict = {}

    def add(entry) -> None:
        name = entry[0].decode()
        if entry[7] or entry[8]:
            info[name] = {"tips": enc(entry[7]), "key_specs": enc(entry[8])}
        for sub in entry[9]:
            add(sub)

    for entry in c.call("COMMAND", "INFO"):
        add(entry)
    version = c.call("INFO", "server").decode().split("redis_version:")[1].split("\r\n")[0]
    data = {"redis_version": version, "docs": dict(sorted(docs.items())), "info": dict(sorted(info.items()))}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(f"{len(docs)} commands documented, {len(info)} with tips/key specs -> {OUT}")


if __name__ == "__main__":
    main()
