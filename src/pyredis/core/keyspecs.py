"""Key specs: where a command's keys are and what it does with them (Redis 7.0's key specs).

The declarations in core/spec.py carry the legacy key range (first, last, step) and getkeys
functions; what they cannot say - each key's access flags (RO/RW/OW/RM, access, insert,
delete, update) - comes from core/command_docs.json, captured from redis-server 7.0.15 (and,
for the commands 7.0 does not have, from the captures of the later releases).

API:
    reference(mode="7.0") -> dict            # a mode's captured docs/info/key specs (loaded once):
                                             # command_docs.json, command_docs-7.2.json, ...
    keyspec_positions(ks, argv) -> [int]     # one captured key spec evaluated over argv
    keys_and_flags(spec, argv) -> [(pos, flags)]
        every key of the command with its key-spec flags (a tuple of str), as Redis's
        getKeysFromCommandWithSpecs returns them: key specs when they are reliable, the
        command's getkeys function (and the flags its Redis counterpart reports) when a spec
        is incomplete or has variable flags (SET, BITFIELD, SORT, MIGRATE).
    has_keys(spec) -> bool                   # Redis's doesCommandHaveKeys

ACL key permissions (core/acl.py) read the flags: `access` needs read permission, `insert`,
`delete` and `update` need write permission; COMMAND GETKEYSANDFLAGS shows them.
"""

from __future__ import annotations

import json
import os

_REFS: dict[str, dict] = {}


def reference(mode: str = "7.0") -> dict:
    """What the reference server of `mode` says of its commands (COMMAND DOCS, and the tips and
    key specs of COMMAND INFO), captured by tests/data/capture_command_docs.py."""
    ref = _REFS.get(mode)
    if ref is None:
        name = "command_docs.json" if mode == "7.0" else f"command_docs-{mode}.json"
        try:
            with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as f:
                ref = json.load(f)
        except OSError:
            ref = {"docs": {}, "info": {}}
        _REFS[mode] = ref
    return ref


def _info_ref(fullname: str) -> dict | None:
    """A command's captured COMMAND INFO facts: 7.0's, or the first later capture's for the
    commands 7.0 does not have (key flags of a command do not depend on the mode)."""
    for mode in ("7.0", "7.4", "valkey-8.0"):
        ref = reference(mode)["info"].get(fullname)
        if ref is not None:
            return ref
    return None


def keyspec_positions(ks: dict, argv) -> list[int]:
    """Evaluate one captured key spec (begin_search + find_keys) over argv."""
    n = len(argv)
    bs = ks.get("begin_search", {})
    spec = bs.get("spec", {})
    if bs.get("type") == "index":
        first = spec["index"]
    elif bs.get("type") == "keyword":
        kw = spec["keyword"].encode().lower()
        start = spec["startfrom"]
        first = -1
        if start >= 0:
            for i in range(start, n):
                if argv[i].lower() == kw:
                    first = i + 1
                    break
        else:
            for i in range(n + start, 0, -1):
                if argv[i].lower() == kw:
                    first = i + 1
                    break
        if first < 0:
            return []
    else:
        return []
    fk = ks.get("find_keys", {})
    fs = fk.get("spec", {})
    if fk.get("type") == "range":
        lastkey, step, limit = fs["lastkey"], fs["keystep"], fs["limit"]
        if lastkey >= 0:
            last = first + lastkey
        elif limit <= 1:
            last = n + lastkey
        else:
            last = first + ((n - first) // limit + lastkey)
        return [i for i in range(first, min(last, n - 1) + 1, step)]
    if fk.get("type") == "keynum":
        idx = first + fs["keynumidx"]
        if idx >= n:
            return []
        try:
            num = int(argv[idx])
        except ValueError:
            return []
        start = first + fs["firstkey"]
        return [start + j * fs["keystep"] for j in range(num) if start + j * fs["keystep"] < n]
    return []


def _flags(ks: dict) -> tuple[str, ...]:
    return tuple(f["+"] for f in ks.get("flags", {"~": []})["~"])


# fullname -> (specs [(ks, flags)], reliable): parsed once per command
_PARSED: dict[str, tuple[list, bool]] = {}


def _parsed(spec) -> tuple[list, bool]:
    p = _PARSED.get(spec.fullname)
    if p is None:
        ref = _info_ref(spec.fullname)
        specs = [] if ref is None else [(ks, _flags(ks)) for ks in ref["key_specs"]["~"]]
        specs = [(ks, fl) for ks, fl in specs if "not_key" not in fl]
        reliable = all("variable_flags" not in fl and "incomplete" not in fl
                       and ks.get("begin_search", {}).get("type") in ("index", "keyword")
                       and ks.get("find_keys", {}).get("type") in ("range", "keynum")
                       for ks, fl in specs)
        p = _PARSED[spec.fullname] = (specs, reliable)
    return p


def has_keys(spec) -> bool:
    """Redis's doesCommandHaveKeys: a getkeys function, or a key spec that is a key."""
    if spec.getkeys is not None:
        return True
    specs, _ = _parsed(spec)
    return bool(specs) or (spec.first_key > 0 and _info_ref(spec.fullname) is None)


_READ = ("RO", "access")
_OW = ("OW", "update")


def native_flags(spec, argv, pos: int, first: int) -> tuple[str, ...]:
    """The flags Redis's getkeys procs report where key specs are not reliable."""
    name = spec.fullname
    if name == "set":
        get = any(a.upper() == b"GET" for a in argv[3:])
        return ("RW", "access", "update") if get else _OW
    if name == "bitfield":
        i, n = 2, len(argv)
        while i < n:
            op, rem = argv[i].upper(), n - i - 1
            if op == b"GET" and rem >= 2:
                i += 3
            elif op == b"OVERFLOW" and rem >= 1:
                i += 2
            else:
                return ("RW", "access", "update")
        return _READ
    if name in ("sort", "sort_ro"):
        return _READ if pos == first else _OW
    if name == "migrate":
        return ("RW", "access", "delete")
    return ()


def keys_and_flags(spec, argv) -> list[tuple[int, tuple[str, ...]]]:
    specs, reliable = _parsed(spec)
    if specs and reliable:
        out = []
        for ks, fl in specs:
            for p in keyspec_positions(ks, argv):
                out.append((p, fl))
        return out
    try:
        positions = spec.key_positions(list(argv))
    except Exception:  # a getkeys function refusing malformed arguments: no keys
        return []
    if not positions:
        return []
    first = positions[0]
    if specs:
        at: dict[int, tuple[str, ...]] = {}
        for ks, fl in specs:
            if "variable_flags" in fl or "incomplete" in fl:
                continue
            for p in keyspec_positions(ks, argv):
                at.setdefault(p, fl)
        return [(p, at.get(p) or native_flags(spec, argv, p, first)) for p in positions]
    return [(p, native_flags(spec, argv, p, first)) for p in positions]
