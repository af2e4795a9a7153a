"""Registry test: every command pyredis declares (core/spec.py) must carry the metadata of
redis-server 7.0.15: arity, flags, first/last/step key positions, ACL categories, and
subcommands; and each later compat-version mode's table (core/commandtable.py: `since`,
`changed`) that of its own server (7.2.6, 7.4.1, valkey-server 8.0.1). Two references:

- the shipped command docs (src/pyredis/core/command_docs.json, captured from Redis 7.0.15 by
  tests/data/capture_command_docs.py): they hold every command's name, group, arguments and
  key specs, from which Redis itself derives the legacy key range and `movablekeys`, and
  from which the arity, the read/write flags and the group's ACL category follow (with the
  exceptions Redis's own command table makes, listed below). No redis-server needed.
- a live redis-server (the `real_redis` fixture) when it is installed: COMMAND INFO, compared
  field by field, so declarations cannot drift from Redis.

A failure names the command: fix its @command declaration (in the module that owns it).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import pyredis.commands  # noqa: F401  (registers the command table)
import pyredis.core
from conftest import ALL_MODES, LATER_MODES
from pyredis.core.commandtable import mode_specs, mode_table
from pyredis.core.spec import GROUP_ACL
from pyredis.version import COMPAT
from resp import RawClient

# The declarations as Redis 7.0 has them: the 7.0 mode's table.
TABLE = mode_table(COMPAT["7.0"])
SPECS = sorted(mode_specs(COMPAT["7.0"]), key=lambda s: s.fullname)


# --- against the shipped command docs (no redis-server needed) -----------------------------

REFERENCE = json.loads((Path(pyredis.core.__file__).parent / "command_docs.json").read_text())


def _flatten_docs(docs: dict, out: dict | None = None) -> dict:
    out = {} if out is None else out
    for name, doc in docs.items():
        out[name] = doc
        _flatten_docs(doc.get("subcommands") or {}, out)
    return out


DOCS = _flatten_docs(REFERENCE["docs"])  # "config|get" -> its doc
KEY_SPECS = {name: entry["key_specs"]["~"] for name, entry in REFERENCE["info"].items()}


def _set(v) -> list:
    """A captured RESP3 set ({"~": [...]}) of status strings ({"+": text}) as a list of str."""
    return [x["+"] if isinstance(x, dict) else x for x in v["~"]]


def legacy_key_range(key_specs: list) -> tuple[tuple[int, int, int], bool]:
    """(first, last, step) and whether the command gets `movablekeys`, from its key specs, as
    Redis 7.0's populateCommandLegacyRangeSpec() computes them."""
    if not key_specs:
        return (0, 0, 0), False

    def plain_range(ks) -> bool:
        return ks["begin_search"]["type"] == "index" and ks["find_keys"]["type"] == "range"

    if len(key_specs) == 1 and plain_range(key_specs[0]):
        ks = key_specs[0]
        pos, rng = ks["begin_search"]["spec"]["index"], ks["find_keys"]["spec"]
        last = rng["lastkey"] if rng["lastkey"] < 0 else pos + rng["lastkey"]
        return (pos, last, rng["keystep"]), "incomplete" in _set(ks["flags"])
    movable = False
    first, last, prev_last = None, 0, 0
    for ks in key_specs:
        if not plain_range(ks):
            movable = True
            continue
        pos, rng = ks["begin_search"]["spec"]["index"], ks["find_keys"]["spec"]
        if rng["keystep"] != 1 or (prev_last and prev_last != pos - 1):
            movable = True
            continue
        if "incomplete" in _set(ks["flags"]):
            movable = True
        first = pos if first is None else min(first, pos)
        abs_last = rng["lastkey"] if rng["lastkey"] < 0 else pos + rng["lastkey"]
        last = max(last, abs_last, key=lambda v: v % 2**32)  # Redis compares them unsigned
        prev_last = last
    if first is None:
        return (0, 0, 0), True
    return (first, last, 1), movable


def _span(arg: dict) -> tuple[int, int | None]:
    """(fewest, most) argv words one documented argument takes; most is None when unbounded."""
    flags = _set(arg.get("flags", {"~": []}))
    token = 1 if "token" in arg else 0
    if arg["type"] == "pure-token":
        lo = hi = 1
    elif arg["type"] in ("block", "oneof"):
        spans = [_span(a) for a in arg["arguments"]]
        if arg["type"] == "block":
            lo = token + sum(x for x, _ in spans)
            hi = None if any(y is None for _, y in spans) else token + sum(y for _, y in spans)
        else:
            lo = token + min(x for x, _ in spans)
            hi = None if any(y is None for _, y in spans) else token + max(y for _, y in spans)
    else:
        lo = hi = 1 + token
    if "multiple" in flags:
        hi = None
    if "optional" in flags:
        lo = 0
    return lo, hi


def docs_arity(fullname: str) -> int:
    """The arity the documented arguments give: the words of the name plus the fewest argument
    words, negative when the number of words can vary."""
    lo = hi = fullname.count("|") + 1
    for arg in DOCS[fullname].get("arguments", []):
        a_lo, a_hi = _span(arg)
        lo += a_lo
        hi = None if hi is None or a_hi is None else hi + a_hi
    return lo if hi == lo else -lo


# Redis's own command table differs from its argument docs for these (src/commands/*.json in
# Redis 7.0): the arity Redis declares.
ARITY_NOT_FROM_DOCS = {
    "command": -1,  # a container that also runs alone
    "client|kill": -3,  # the documented old form CLIENT KILL ip:port counts as the filter form
    "command|getkeys": -4, "command|getkeysandflags": -4,  # a command and at least one argument
    "debug": -2,  # its arguments are not documented
    "geohash": -2, "geopos": -2, "pfmerge": -2,  # members / source keys may be absent
    "psync": -3,
    "quit": -1, "replconf": -1,
}
CONTAINER_ARITY = -2  # a command that only has subcommands (CONFIG, CLIENT...)

# Key-spec access flags that change data, and the commands whose read/write flags do not follow
# from their key specs in Redis's table.
MODIFYING = {"RW", "OW", "RM", "update", "insert", "delete"}
WRITE_FLAGS_NOT_FROM_KEY_SPECS = {
    "eval", "evalsha", "fcall",  # whether a script writes is the script's business
    "pfcount", "pfdebug",  # read-only / write although their key spec is RW access
    "watch",  # reads no data
    "xreadgroup",  # writes the consumer group, its keys spec is RO
}

# Type/area ACL categories the docs' group implies (spec.GROUP_ACL), and the commands whose
# categories Redis sets otherwise.
AREA_CATEGORIES = set(GROUP_ACL.values())
ACL_NOT_FROM_GROUP = {
    "asking": {"connection"}, "readonly": {"connection"}, "readwrite": {"connection"},  # cluster
    "command": {"connection"},  # server (subcommands too, below)
    "dbsize": {"keyspace"}, "flushall": {"keyspace"}, "flushdb": {"keyspace"}, "swapdb": {"keyspace"},
    "restore-asking": {"keyspace"},  # server
    "sort": {"set", "sortedset", "list"}, "sort_ro": {"set", "sortedset", "list"},  # generic
    "wait": {"connection"},  # generic
    "pubsub|help": set(),
}


def _expected_area_categories(spec) -> set[str]:
    name = "command" if spec.fullname.startswith("command|") else spec.fullname
    if name in ACL_NOT_FROM_GROUP:
        cats = set(ACL_NOT_FROM_GROUP[name])
    else:
        cat = GROUP_ACL.get(DOCS[spec.fullname]["group"].replace("-", "_"))
        cats = {cat} if cat else set()
    if spec.pubsub:
        cats.add("pubsub")
    return cats


def _is_container(spec) -> bool:
    return spec.handler is None


def check_against_docs(spec) -> None:
    """Assert what the command docs say about one declaration (a CommandSpec, or anything with
    its attributes: the live test below feeds redis-server's own COMMAND INFO through it)."""
    name = spec.fullname
    assert name in DOCS, f"{name!r} is not a command of Redis 7.0.15 (not in command_docs.json)"
    doc = DOCS[name]
    assert spec.group.replace("_", "-") == doc["group"], f"{name}: group {spec.group!r}, docs {doc['group']!r}"
    documented_subs = set(doc.get("subcommands") or {})
    our_subs = {s.fullname for s in spec.subcommands.values()}
    assert our_subs <= documented_subs, f"{name}: unknown subcommands {sorted(our_subs - documented_subs)}"

    # Key positions and movablekeys: exactly what Redis derives from the key specs.
    key_specs = KEY_SPECS.get(name, [])
    keys, movable = legacy_key_range(key_specs)
    assert (spec.first_key, spec.last_key, spec.key_step) == keys, f"{name}: keys, key specs give {keys}"
    assert ("movablekeys" in spec.flags) == movable, f"{name}: movablekeys should be {movable}"

    # Arity.
    if name in ARITY_NOT_FROM_DOCS:
        arity = ARITY_NOT_FROM_DOCS[name]
    elif documented_subs:
        arity = CONTAINER_ARITY
    else:
        arity = docs_arity(name)
    assert spec.arity == arity, f"{name}: arity {spec.arity}, Redis's {arity}"

    if _is_container(spec):  # Redis's containers have no flags of their own, no categories but @slow
        assert spec.flags == [] and spec.acl == ["slow"], f"{name}: {spec.flags} {spec.acl}"
        return

    # Read/write flags from the key specs' access flags (a not_key spec is a channel, not data).
    data_specs = [ks for ks in key_specs if "not_key" not in _set(ks["flags"])]
    if data_specs and name not in WRITE_FLAGS_NOT_FROM_KEY_SPECS:
        access = {f for ks in data_specs for f in _set(ks["flags"])}
        modifies = bool(access & MODIFYING)
        assert spec.write == modifies, f"{name}: 'write' should be {modifies} (key spec flags {sorted(access)})"
        assert spec.readonly == (not modifies), f"{name}: 'readonly' should be {not modifies} ({sorted(access)})"
    assert not (spec.write and spec.readonly), name

    # ACL categories: the area the docs' group names (the flag-implied ones are spec.py's job).
    area = set(spec.acl) & AREA_CATEGORIES
    assert area == _expected_area_categories(spec), f"{name}: area categories {sorted(area)}"


@pytest.mark.parametrize("spec", SPECS, ids=[s.fullname for s in SPECS])
def test_declaration_matches_command_docs(spec):
    check_against_docs(spec)


# --- against a live redis-server ----------------------------------------------------------



def _info_map(entries, out=None):
    out = {} if out is None else out
    for e in entries:
        if not e:
            continue
        name = e[0].decode()
        out[name] = e
        _info_map(e[9], out)
    return out


@pytest.fixture(scope="module")
def real_info(real_redis):
    c = RawClient("127.0.0.1", real_redis.port)
    try:
        return _info_map(c.call("COMMAND", "INFO"))
    finally:
        c.close()


@pytest.mark.parametrize("spec", SPECS, ids=[s.fullname for s in SPECS])
def test_declaration_matches_redis(spec, real_info):
    real = real_info.get(spec.fullname)
    assert real is not None, f"{spec.fullname!r} is not a command of redis-server 7.0.15"
    ours = {
        "arity": spec.arity,
        "flags": list(spec.flags),
        "keys": (spec.first_key, spec.last_key, spec.key_step),
        "acl": ["@" + c for c in spec.acl],
    }
    theirs = {
        "arity": real[1],
        "flags": [f.decode() for f in real[2]],
        "keys": (real[3], real[4], real[5]),
        "acl": [c.decode() for c in real[6]],
    }
    assert ours == theirs, f"{spec.fullname}: pyredis={ours} redis={theirs}"
    real_subs = {s[0].decode() for s in real[9]}
    our_subs = {s.fullname for s in spec.subcommands.values()}
    assert our_subs <= real_subs, f"{spec.fullname}: unknown subcommands {sorted(our_subs - real_subs)}"


def _spec_from_info(entry, parent=None) -> SimpleNamespace:
    """A declaration-shaped view of one COMMAND INFO entry of redis-server."""
    flags = [f.decode() for f in entry[2]]
    spec = SimpleNamespace(fullname=entry[0].decode(), arity=entry[1], flags=flags, first_key=entry[3],
                           last_key=entry[4], key_step=entry[5], acl=[c.decode()[1:] for c in entry[6]],
                           parent=parent, write="write" in flags, readonly="readonly" in flags,
                           pubsub="pubsub" in flags)
    spec.group = DOCS[spec.fullname]["group"].replace("-", "_")
    spec.subcommands = {s[0]: _spec_from_info(s, spec) for s in entry[9]}
    spec.handler = None if spec.subcommands and spec.fullname != "command" else "runs alone"
    return spec


@pytest.mark.modes(*LATER_MODES)
def test_mode_declarations_match_its_server(real_info, compat_mode):
    """Each later mode's table (the declarations with their `since` and `changed`) carries the
    metadata of that mode's server, command by command."""
    failures = []
    for spec in sorted(mode_specs(COMPAT[compat_mode]), key=lambda s: s.fullname):
        real = real_info.get(spec.fullname)
        if real is None:
            failures.append(f"{spec.fullname!r} is not a command of the {compat_mode} server")
            continue
        ours = (spec.arity, list(spec.flags), (spec.first_key, spec.last_key, spec.key_step), ["@" + c for c in spec.acl])
        theirs = (real[1], [f.decode() for f in real[2]], (real[3], real[4], real[5]), [c.decode() for c in real[6]])
        if ours != theirs:
            failures.append(f"{spec.fullname}: pyredis={ours} server={theirs}")
    assert failures == []


def test_docs_rules_hold_for_every_redis_command(real_info):
    """The derivations and exception tables above describe redis-server's own table exactly,
    for all of its commands (not only those pyredis implements)."""
    assert len(real_info) > 350
    failures = []
    for entry in real_info.values():
        try:
            check_against_docs(_spec_from_info(entry))
        except AssertionError as e:
            failures.append(str(e).splitlines()[0])
    assert not failures


@pytest.fixture
def raw(pyredis_srv):
    c = RawClient("127.0.0.1", pyredis_srv.port)
    yield c
    c.close()


@pytest.mark.modes(*ALL_MODES)
def test_command_count_and_list_follow_the_table(raw, compat_mode):
    table = mode_table(COMPAT[compat_mode])
    assert raw.call("COMMAND", "COUNT") == len(table)
    everything = raw.call("COMMAND")
    assert sorted(e[0].decode() for e in everything) == sorted(n.decode() for n in table)
    assert raw.call("COMMAND", "INFO") == everything
    listed = {n.decode() for n in raw.call("COMMAND", "LIST")}
    assert listed == {s.fullname for s in mode_specs(COMPAT[compat_mode])}


def test_command_info_of_server_commands_equals_redis(diff):
    # Full replies, key specs and tips included (they come from the captured reference).
    for name in ("config", "command", "info", "time", "lastsave", "slowlog", "latency", "memory",
                 "role", "replicaof", "slaveof", "shutdown", "debug"):
        diff.check("COMMAND", "INFO", name, unordered=True)
    diff.check("COMMAND", "INFO", "get", "set", "nosuchcommand")


def test_command_docs_equals_redis(diff):
    for name in ("get", "set", "config", "memory", "info", "command"):
        diff.check("COMMAND", "DOCS", name, unordered=True)
    diff.check("COMMAND", "DOCS", "nosuchcommand")
    diff.check("COMMAND", "DOCS", "config|get", unordered=True)


@pytest.mark.modes(*ALL_MODES)
def test_command_docs_all_has_every_command(raw, compat_mode):
    docs = raw.call("COMMAND", "DOCS")
    names = {docs[i].decode() for i in range(0, len(docs), 2)}
    assert names == {s.fullname for s in mode_table(COMPAT[compat_mode]).values()}


def _getkeys_argvs(spec) -> list[list[str]]:
    """A few argument vectors for COMMAND GETKEYS: plain names, and a numkeys-shaped one."""
    words = spec.fullname.split("|")
    n = abs(spec.arity) if spec.arity > 0 else max(abs(spec.arity), 2) + 3
    shapes = [["k1", "k2", "k3", "k4", "k5", "k6", "k7"], ["k1", "2", "k3", "k4", "k5", "k6", "k7"],
              ["2", "k2", "k3", "k4", "k5", "k6", "k7"]]
    out = []
    for shape in shapes:
        argv = words + shape[: n - len(words)]
        if spec.arity > 0 and len(argv) != spec.arity:
            continue
        out.append(argv)
    return out


KEYED = [s for s in SPECS if s.handler is not None and (s.getkeys is not None or s.first_key > 0)]


@pytest.mark.parametrize("spec", KEYED, ids=[s.fullname for s in KEYED])
def test_key_positions_match_redis(spec, pyredis_srv, real_redis):
    """COMMAND GETKEYS runs our declared key extraction; redis-server runs its own."""
    ours = RawClient("127.0.0.1", pyredis_srv.port)
    theirs = RawClient("127.0.0.1", real_redis.port)
    try:
        for argv in _getkeys_argvs(spec):
            for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
                a, b = ours.call("COMMAND", sub, *argv), theirs.call("COMMAND", sub, *argv)
                assert a == b, f"COMMAND {sub} {' '.join(argv)}: pyredis={a!r} redis={b!r}"
    finally:
        ours.close()
        theirs.close()


@pytest.mark.modes(*ALL_MODES)
def test_command_docs_and_info_of_every_complete_command_equal_redis(real_info, pyredis_srv, real_redis, compat_mode):
    """For every top-level command whose subcommands pyredis implements in full, COMMAND DOCS
    and the tips and key specs of COMMAND INFO answer exactly as the mode's server."""
    table = mode_table(COMPAT[compat_mode])
    names = [s.fullname for s in table.values() if s.fullname in real_info
             and {x.fullname for x in s.subcommands.values()} == {x[0].decode() for x in real_info[s.fullname][9]}]
    assert len(names) > 50
    from resp import normalize

    for resp in (2, 3):
        ours, theirs = RawClient("127.0.0.1", pyredis_srv.port), RawClient("127.0.0.1", real_redis.port)
        try:
            if resp == 3:
                ours.call("HELLO", "3")
                theirs.call("HELLO", "3")
            a, b = ours.call("COMMAND", "DOCS", *names), theirs.call("COMMAND", "DOCS", *names)
            assert normalize(a) == normalize(b)
            # Tips and key specs (the declared metadata is test_declaration_matches_redis's job).
            a, b = ours.call("COMMAND", "INFO", *names), theirs.call("COMMAND", "INFO", *names)
            for x, y in zip(a, b):
                assert normalize(x[7:9]) == normalize(y[7:9]), x[0]
        finally:
            ours.close()
            theirs.close()
