"""Regenerates a mode's command docs, src/pyredis/core/command_docs[-MODE].json, from a
running reference server of that mode (tests/oracles.py: 7.0 -> redis-server 7.0.15,
7.2 -> 7.2.6, 7.4 -> 7.4.1, valkey-8.0 -> valkey-server 8.0.1).

    python tests/data/capture_command_docs.py PORT [MODE]     # MODE: 7.0 (the default), 7.2, ...

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

CORE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "pyredis", "core")


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
    mode = sys.argv[2] if len(sys.argv) > 2 else "7.0"
    out = os.path.join(CORE, "command_docs.json" if mode == "7.0" else f"command_docs-{mode}.json")
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
    server = c.call("INFO", "server").decode()
    field = "valkey_version:" if "valkey_version:" in server else "redis_version:"
    version = server.split(field)[1].split("\r\n")[0]
    data = {"redis_version": version, "docs": dict(sorted(docs.items())), "info": dict(sorted(info.items()))}
    with open(out, "w") as f:
        json.dump(data, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(f"{len(docs)} commands documented, {len(info)} with tips/key specs -> {out}")


if __name__ == "__main__":
    main()
