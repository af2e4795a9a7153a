"""ACL: users, their rules and selectors, permission checks and the ACL log (Redis 7.0's acl.c).

API:
    acl = Acl(state)                          # state.acl
    acl.users: dict[bytes, User]              # name -> user ("default" always there)
    acl.default                               # the default user (requirepass is its password)
    acl.set_user(name, ops) -> None           # ACL SETUSER (RuleError on a bad rule)
    acl.authenticate(c, name, password, argv0) -> bool   # AUTH / HELLO AUTH (logs failures)
    acl.set_default_auth(c)                   # a new or RESET client: default user
    acl.check(c, spec, argv) -> error | None  # dispatch's `acl` step (NOPERM text, logged)
    acl.exec_check(c, spec, argv)             # EXEC re-checks queued commands
    acl.script_check(c, spec, argv)           # redis.call from a script
    check_user(user, spec, argv) -> (result, argpos)     # ACL DRYRUN, redis.acl_check_cmd
    acl.log_entry(c, reason, context, obj, username)
    acl.load_file(path) -> error | None / acl.save_file(path) -> bool   # ACL LOAD / SAVE

A user's rules are kept the way Redis keeps them, so that ACL LIST and GETUSER render them as
Redis does: a bitmap of allowed commands (one bit per command and subcommand of the table,
plus the "future commands" bit only `+@all` sets), first-arg exceptions, key patterns with
read/write flags, channel patterns, and extra selectors.

Cost: a user that may run every command on every key and channel (`User.full`) needs no
check. dispatch's `acl` step runs only while some connected client has a user that is not full
(GATE_ACL, kept by Acl.update_gate), and then only for the clients whose user is not full.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import TYPE_CHECKING

from ..util import compile_glob
from .spec import ACL_ORDER, TABLE, all_specs

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState

# Results of a permission check (Redis's ACL_DENIED_*: a higher one is the more relevant).
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
REASONS = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_CHANNEL: b"channel", DENIED_AUTH: b"auth"}
CTX_TOPLEVEL, CTX_MULTI, CTX_LUA = b"toplevel", b"multi", b"lua"

READ, WRITE = 1, 2  # key pattern permissions (%R~, %W~, ~ is both)
_KEY_WRITE_FLAGS = ("insert", "delete", "update")
_SPACES = b" \t\n\v\f\r\x00"
LOG_GROUPING_MS = 60000

RULE_ERRORS = {
    "ENOENT": "Unknown command or category name in ACL",
    "EINVAL": "Syntax error",
    "EEXIST": "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
              "effect. Try 'resetkeys' to start with an empty list of patterns",
    "EISDIR": "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
              "any effect. Try 'resetchannels' to start with an empty list of channels",
    "ENODEV": "The password you are trying to remove from the user does not exist",
    "EBADMSG": "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    "EALREADY": "Duplicate user found. A user can only be defined once in config files",
    "ECHILD": "Allowing first-arg of a subcommand is not supported",
}


class RuleError(Exception):
    """A rule ACL SETUSER refuses; .code is Redis's errno name, str() its message."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(RULE_ERRORS.get(code, "Wrong format"))


REDACTED = b"(redacted)"


def redact(c: Client, *positions: int) -> None:
    """redactClientCommandArgument: a secret argument (a password) shows as "(redacted)" in
    SLOWLOG and MONITOR, which read the command's argv after it ran."""
    argv = c.argv
    for i in positions:
        if i < len(argv):
            argv[i] = REDACTED


def has_spaces(s: bytes) -> bool:
    """ACLStringHasSpaces: whitespace or NUL (not allowed in user names and patterns)."""
    return any(b in _SPACES for b in s)


def hash_password(password: bytes) -> bytes:
    return hashlib.sha256(password).hexdigest().encode()


def _valid_hash(h: bytes) -> bool:
    return len(h) == 64 and all(c in b"0123456789abcdef" for c in h)


def _rule_hash(op: bytes, cleartext_mark: bytes) -> bytes:
    """The SHA-256 a password rule names: `>pass`/`<pass` hash the text, `#hash`/`!hash` give it."""
    if op[:1] == cleartext_mark:
        return hash_password(op[1:])
    if not _valid_hash(op[1:]):
        raise RuleError("EBADMSG")
    return op[1:]


# --- the command bits -------------------------------------------------------------------
class KnownCommand:
    """A command of Redis 7.0.15 that pyredis does not run (replication internals). ACL rules
    may name it and ACL CAT lists it, as in Redis: ACL files written for Redis (a replica's
    user with +psync +replconf) load unchanged, and since Redis picks the categories that
    describe a user by counting every command of a category, rules render as Redis renders
    them only when the counts are Redis's. Running it is still an unknown command."""

    __slots__ = ("fullname", "acl", "subcommands", "parent")

    def __init__(self, name: str, cats: str) -> None:
        self.fullname, self.acl, self.subcommands, self.parent = name, cats.split(), {}, None


_KNOWN = [("failover", "admin slow dangerous"), ("psync", "admin slow dangerous"),
          ("replconf", "admin slow dangerous"), ("restore-asking", "keyspace write slow dangerous"),
          ("sync", "admin slow dangerous")]


def known_commands() -> list[KnownCommand]:
    """The commands of _KNOWN the table does not declare (yet)."""
    return [KnownCommand(n, c) for n, c in _KNOWN if n.encode() not in TABLE]


class _Bits:
    """One bit per command and subcommand of the table (built once: the table is fixed after
    import), the masks of each category, and the closure each `+cmd` sets (a command with all
    its subcommands, as ACLChangeSelectorPerm)."""

    def __init__(self) -> None:
        self.known = {k.fullname.encode(): k for k in known_commands()}
        specs = all_specs() + list(self.known.values())
        self.specs = specs
        self.index = {id(s): i for i, s in enumerate(specs)}
        n = len(specs)
        self.future = 1 << n
        self.all = (1 << (n + 1)) - 1
        self.closure: dict[int, int] = {}
        for s in specs:
            m = 1 << self.index[id(s)]
            for sub in s.subcommands.values():
                m |= 1 << self.index[id(sub)]
            self.closure[id(s)] = m
        self.members: dict[str, int] = {}
        self.member_specs: dict[str, list] = {}
        self.change: dict[str, int] = {}
        for cat in ACL_ORDER:
            mine = [s for s in specs if cat in s.acl]
            self.member_specs[cat] = mine
            self.members[cat] = sum(1 << self.index[id(s)] for s in mine)
            ch = 0
            for s in mine:
                ch |= self.closure[id(s)]
            self.change[cat] = ch
        self.count = {cat: len(v) for cat, v in self.member_specs.items()}
        self.top = list(TABLE.values()) + list(self.known.values())
        self.ntop = len(TABLE)

    def bit(self, spec) -> int:
        return 1 << self.index[id(spec)]


_BITS: _Bits | None = None


def bits() -> _Bits:
    global _BITS
    if _BITS is None or _BITS.ntop != len(TABLE):  # built once the command table is complete
        _BITS = _Bits()
    return _BITS


def lookup_command(name: bytes):
    """ACLLookupCommand: `cmd` or `cmd|sub` (case-insensitive); None if unknown."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    base = TABLE.get(parts[0].lower())
    if base is None and len(parts) == 1:
        return bits().known.get(parts[0].lower())
    if len(parts) == 1 or base is None:
        return base
    if not base.subcommands:
        return None
    return base.subcommands.get(parts[1].lower())


def lookup_argv(argv: list[bytes], table=None):
    """Redis's lookupCommand: the command or subcommand argv names, arity unchecked.
    `table`: the server's renamed table (state.commands), when it has one."""
    spec = (TABLE if table is None else table).get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        return spec.subcommands.get(argv[1].lower())
    return spec


def _category(name: bytes) -> str | None:
    n = name.decode("latin-1").lower()
    return n if n in ACL_ORDER else None


# --- selectors ----------------------------------------------------------------------------
class Selector:
    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "cmds", "firstargs", "patterns", "channels")

    def __init__(self, root: bool, allchannels: bool) -> None:
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels  # acl-pubsub-default
        self.allcommands = False
        self.cmds = 0  # the command bitmap (_Bits)
        self.firstargs: dict[int, list[bytes]] = {}  # id(spec) -> allowed first arguments
        self.patterns: list[list] = []  # [pattern, READ|WRITE] in the order added
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        s = Selector(self.root, self.allchannels)
        s.allkeys, s.allcommands, s.cmds = self.allkeys, self.allcommands, self.cmds
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.patterns = [list(p) for p in self.patterns]
        s.channels = list(self.channels)
        return s

    @property
    def full(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels

    # --- rules (ACLSetSelector) ----------------------------------------------------------
    def _change(self, spec, allow: bool) -> None:
        b = bits()
        m = b.closure[id(spec)]
        if allow:
            self.cmds |= m
        else:
            self.cmds &= ~m
            self.allcommands = False
        self.firstargs.pop(id(spec), None)

    def _category(self, cat: str, allow: bool) -> None:
        b = bits()
        m = b.change[cat]
        if allow:
            self.cmds |= m
        else:
            self.cmds &= ~m
            if m:
                self.allcommands = False
        for s in b.member_specs[cat]:
            self.firstargs.pop(id(s), None)

    def apply(self, op: bytes) -> None:
        # names and keywords are C strings in Redis: they end at a NUL byte
        cstr = op.split(b"\0", 1)[0]
        low = cstr.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.cmds = bits().all
            self.allcommands = True
            self.firstargs = {}
        elif low in (b"nocommands", b"-@all"):
            self.cmds = 0
            self.allcommands = False
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            if self.allkeys:
                raise RuleError("EEXIST")
            flags = 0
            offset = 1
            if op[:1] == b"%":
                while offset < len(op):
                    ch = op[offset:offset + 1].upper()
                    if ch == b"R" and not flags & READ:
                        flags |= READ
                    elif ch == b"W" and not flags & WRITE:
                        flags |= WRITE
                    elif ch == b"~":
                        offset += 1
                        break
                    else:
                        raise RuleError("EINVAL")
                    offset += 1
                if not flags:
                    raise RuleError("EINVAL")
            else:
                flags = READ | WRITE
            pat = op[offset:]
            if has_spaces(pat):
                raise RuleError("EINVAL")
            for p in self.patterns:
                if p[0] == pat:
                    p[1] |= flags
                    break
            else:
                self.patterns.append([pat, flags])
            self.allkeys = False
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError("EISDIR")
            pat = op[1:]
            if has_spaces(pat):
                raise RuleError("EINVAL")
            if pat not in self.channels:
                self.channels.append(pat)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            if b"|" not in cstr:
                spec = lookup_command(cstr[1:])
                if spec is None:
                    raise RuleError("ENOENT")
                self._change(spec, True)
                return
            name, _, sub = cstr[1:].rpartition(b"|")
            spec = lookup_command(name)
            if spec is None:
                raise RuleError("ENOENT")
            if spec.parent is not None:
                raise RuleError("ECHILD")
            if not sub:
                raise RuleError("EINVAL")
            if spec.subcommands:
                spec = lookup_command(cstr[1:])
                if spec is None:
                    raise RuleError("ENOENT")
                self._change(spec, True)
            else:  # a first argument of a command without subcommands (deprecated in Redis)
                allowed = self.firstargs.setdefault(id(spec), [])
                if not any(a.lower() == sub.lower() for a in allowed):
                    allowed.append(sub)
        elif op[:1] == b"-" and op[1:2] != b"@":
            spec = lookup_command(cstr[1:])
            if spec is None:
                raise RuleError("ENOENT")
            self._change(spec, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            cat = _category(cstr[2:])
            if cat is None:
                raise RuleError("ENOENT")
            self._category(cat, op[:1] == b"+")
        else:
            raise RuleError("EINVAL")

    # --- rendering (ACLDescribeSelector) ------------------------------------------------
    def describe_commands(self, absent: int = 0) -> bytes:
        """ACLDescribeSelectorCommandRules: +@all or -@all, the categories that fit best (in
        Redis's greedy order), then the single commands that still differ. `absent`: the bits
        of the commands the server's mode does not have (ACL.absent), which its server would
        neither count nor name."""
        b = bits()
        keep = ~absent
        additive = not (self.cmds & b.future)
        rules = [b"-@all" if additive else b"+@all"]
        fake = 0 if additive else b.all
        temp = self.cmds
        applied: set[str] = set()
        while True:
            best, mindiff, maxsame = None, None, 0
            for cat in ACL_ORDER:
                if cat in applied:
                    continue
                members = b.members[cat] & keep
                on = (temp & members).bit_count()
                off = (members.bit_count() if absent else b.count[cat]) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (mindiff is None or diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = cat, diff, same
            if best is None:
                break
            if additive:
                fake |= b.change[best]
                temp &= ~b.change[best]
            else:
                fake &= ~b.change[best]
                temp |= b.change[best]
            rules.append((b"+@" if additive else b"-@") + best.encode())
            applied.add(best)
        # single commands, then their subcommands and first args
        for spec in b.top:
            fake = self._describe_single(spec, fake, rules, absent)
        return b" ".join(rules)

    def _describe_single(self, spec, fake: int, rules: list, absent: int = 0) -> int:
        b = bits()
        bit = b.bit(spec)
        if bit & absent:
            return fake
        mine = bool(self.cmds & bit)
        if mine != bool(fake & bit):
            rules.append((b"+" if mine else b"-") + spec.fullname.encode())
            if mine:
                fake |= b.closure[id(spec)]
            else:
                fake &= ~b.closure[id(spec)]
        for sub in spec.subcommands.values():
            fake = self._describe_single(sub, fake, rules, absent)
        if not mine:
            for a in self.firstargs.get(id(spec), ()):
                rules.append(b"+" + spec.fullname.encode() + b"|" + a)
        return fake

    def describe_keys(self) -> list[bytes]:
        if self.allkeys:
            return [b"~*"]
        return [(b"~" if f == READ | WRITE else b"%R~" if f == READ else b"%W~") + p for p, f in self.patterns]

    def describe_channels(self) -> list[bytes]:
        if self.allchannels:
            return [b"&*"]
        return [b"&" + c for c in self.channels]

    def describe(self, absent: int = 0) -> bytes:
        parts = self.describe_keys()
        parts += [b"&*"] if self.allchannels else [b"resetchannels"] + self.describe_channels()
        parts.append(self.describe_commands(absent))
        return b" ".join(parts)

    # --- checks (ACLSelectorCheckCmd) --------------------------------------------------------
    def check_cmd(self, spec, argv, keys) -> tuple[int, int]:
        if not self.allcommands and not spec.no_auth:
            b = bits()
            if not self.cmds & b.bit(spec):
                allowed = self.firstargs.get(id(spec))
                if len(argv) < 2 or not allowed:
                    return DENIED_CMD, 0
                first = argv[2 if spec.parent is not None else 1].lower()
                if not any(a.lower() == first for a in allowed):
                    return DENIED_CMD, 0
        if not self.allkeys and keys.has:
            for pos, flags in keys.get():
                if not self.key_allowed(argv[pos], flags):
                    return DENIED_KEY, pos
        if not self.allchannels:
            chans = CHANNEL_COMMANDS.get(spec.fullname)
            if chans is not None:
                first, last, is_pattern = chans
                for pos in range(first, len(argv) if last < 0 else min(last + 1, len(argv))):
                    if not channel_allowed(self.channels, argv[pos], is_pattern):
                        return DENIED_CHANNEL, pos
        return OK, 0

    def key_allowed(self, key: bytes, flags: int) -> bool:
        if self.allkeys:
            return True
        for pat, pflags in self.patterns:
            if pflags & flags != flags:
                continue
            if compile_glob(pat)(key):
                return True
        return False


# Commands naming channels (Redis's getChannelsFromCommand): fullname -> (first, last, pattern)
CHANNEL_COMMANDS = {
    "subscribe": (1, -1, False), "ssubscribe": (1, -1, False), "psubscribe": (1, -1, True),
    "publish": (1, 1, False), "spublish": (1, 1, False),
}


def channel_allowed(patterns: list[bytes], channel: bytes, is_pattern: bool) -> bool:
    """ACLCheckChannelAgainstList: a channel matches a pattern; a PSUBSCRIBE pattern must
    equal one of them literally."""
    for p in patterns:
        if (is_pattern and p == channel) or (not is_pattern and compile_glob(p)(channel)):
            return True
    return False


class _Keys:
    """The keys of one command with their read/write needs, computed once per check."""

    __slots__ = ("spec", "argv", "has", "_keys")

    def __init__(self, spec, argv) -> None:
        from .keyspecs import has_keys

        self.spec, self.argv = spec, argv
        self.has = has_keys(spec)
        self._keys = None

    def get(self) -> list[tuple[int, int]]:
        if self._keys is None:
            from .keyspecs import keys_and_flags

            out = []
            for pos, fl in keys_and_flags(self.spec, self.argv):
                need = READ if "access" in fl else 0
                if any(f in fl for f in _KEY_WRITE_FLAGS):
                    need |= WRITE
                out.append((pos, need))
            self._keys = out
        return self._keys


# --- users ----------------------------------------------------------------------------------
class User:
    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors", "full")

    def __init__(self, name: bytes, allchannels: bool) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize: bytes | None = None  # b"skip-sanitize-payload" | b"sanitize-payload"
        self.passwords: list[bytes] = []  # SHA-256 hex digests
        self.selectors = [Selector(True, allchannels)]
        self.full = False

    def copy(self) -> User:
        u = User(self.name, False)
        u.assign(self)
        return u

    def assign(self, other: User) -> None:
        """ACLCopyUser: take other's rules (clients of this user see them at once)."""
        self.enabled, self.nopass, self.sanitize = other.enabled, other.nopass, other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]
        self.refresh()

    def refresh(self) -> None:
        self.full = any(s.full for s in self.selectors)

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def apply(self, op: bytes, allchannels: bool) -> None:
        """ACLSetUser: one rule (RuleError when refused)."""
        if not op:
            return
        low = op.split(b"\0", 1)[0].lower()  # keywords are C strings in Redis
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low == b"skip-sanitize-payload" or low == b"sanitize-payload":
            self.sanitize = low
        elif low == b"nopass":
            self.nopass = True
            self.passwords = []
        elif low == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            h = _rule_hash(op, b">")
            if h not in self.passwords:
                self.passwords.append(h)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            h = _rule_hash(op, b"<")
            if h not in self.passwords:
                raise RuleError("ENODEV")
            self.passwords.remove(h)
        elif op[:1] == b"(" and op[-1:] == b")":
            from ..config import split_args

            words = split_args(op[1:-1].split(b"\0", 1)[0].decode("latin-1")) or []
            s = Selector(False, allchannels)
            for w in words:
                s.apply(w.encode("latin-1"))
            self.selectors.append(s)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            self.nopass = False
            self.passwords = []
            root = self.root
            root.allkeys, root.patterns = False, []
            root.allchannels, root.channels = allchannels, []
            self.enabled = False
            self.sanitize = b"sanitize-payload"
            del self.selectors[1:]
            root.apply(b"-@all")
        else:
            self.root.apply(op)
        self.refresh()

    def describe(self, absent: int = 0) -> bytes:
        """ACLDescribeUser: flags, password hashes, the root selector, then (selectors)."""
        parts = []
        if self.enabled:
            parts.append(b"on")
        else:
            parts.append(b"off")
        if self.nopass:
            parts.append(b"nopass")
        if self.sanitize is not None:
            parts.append(self.sanitize)
        parts += [b"#" + h for h in self.passwords]
        out = b" ".join(parts) + b" " + self.root.describe(absent)
        for s in self.selectors[1:]:
            out += b" (" + s.describe(absent) + b")"
        return out

    def flags(self) -> list[bytes]:
        out = [b"on" if self.enabled else b"off"]
        if self.nopass:
            out.append(b"nopass")
        if self.sanitize is not None:
            out.append(self.sanitize)
        return out

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        for s in self.selectors:
            if s.allchannels or channel_allowed(s.channels, channel, is_pattern):
                return True
        return False


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes] | None, int]:
    """ACLMergeSelectorArguments: `(~x` `+get)` -> `(~x +get)`; (None, index of the opening
    argument) when a parenthesis is not closed."""
    out: list[bytes] = []
    cur: bytes | None = None
    start = -1
    for j, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":  # (an opening inside a selector restarts it)
            cur, start = op, j
            continue
        if cur is not None:
            cur += b" " + op
            if op[-1:] == b")":
                out.append(cur)
                cur = None
            continue
        out.append(op)
    if cur is not None:
        return None, start
    return out, -1


def check_user(user: User, spec, argv) -> tuple[int, int]:
    """ACLCheckAllUserCommandPerm: OK if one selector allows the command, else the most
    relevant denial (and the argument it is about)."""
    keys = _Keys(spec, argv)
    relevant, last = DENIED_CMD, 0
    for s in user.selectors:
        r, pos = s.check_cmd(spec, argv, keys)
        if r == OK:
            return OK, 0
        if r > relevant or (r == relevant and pos > last):
            relevant, last = r, pos
    return relevant, last


def unrestricted_key_access(c: Client) -> bool:
    """ACLUserCheckCmdWithUnrestrictedKeyAccess for the command c runs (SORT's BY and GET
    patterns read keys no argument names): a selector that allows the command may read `*`."""
    user = c.acl_user
    if user.full:
        return True
    spec = lookup_argv(c.argv, c.server.commands)
    keys = _Keys(spec, c.argv)
    for s in user.selectors:
        if s.check_cmd(spec, c.argv, keys)[0] == OK and (
                s.allkeys or any(p == b"*" and f & READ for p, f in s.patterns)):
            return True
    return False


NOPERM_TEXT = {
    DENIED_CMD: "NOPERM this user has no permissions to run the '%s' command",
    DENIED_KEY: "NOPERM this user has no permissions to access one of the keys used as arguments",
    DENIED_CHANNEL: "NOPERM this user has no permissions to access one of the channels used as arguments",
}
EXEC_REASONS = {
    DENIED_CMD: "no permission to execute the command or subcommand",
    DENIED_KEY: "no permission to touch the specified keys",
    DENIED_CHANNEL: "no permission to access one of the channels used as arguments",
}
SCRIPT_REASONS = {
    DENIED_CMD: "can't run this command or subcommand",
    DENIED_KEY: "can't access at least one of the keys mentioned in the command arguments",
    DENIED_CHANNEL: "can't publish to the channel mentioned in the command",
}


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo")


# --- the per-server registry ----------------------------------------------------------------
class Acl:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._absent = None  # (the bits it was computed for, the mask): ACL.absent
        cfg = state.config
        self.users: dict[bytes, User] = {}
        self.log: list[LogEntry] = []  # newest first
        self.default = self._new_default()
        self.users[b"default"] = self.default
        self.update_default_password(cfg["requirepass"])
        cfg.on_change("requirepass", self.update_default_password)
        cfg.on_change("acllog-max-len", lambda v: self._trim_log())
        cfg.rewrite_users = self.config_lines
        self._gate_checked = 0.0
        state.hz_cron_handlers.append(self._cron)

    @property
    def pubsub_default(self) -> bool:
        """acl-pubsub-default allchannels: new users and selectors may use every channel."""
        return self.state.config["acl-pubsub-default"] == "allchannels"

    def _new_default(self) -> User:
        u = User(b"default", self.pubsub_default)
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            u.apply(op, True)
        return u

    def update_default_password(self, password: str) -> None:
        """ACLUpdateDefaultUserPassword: requirepass is the default user's only password."""
        u = self.default
        u.apply(b"resetpass", True)
        if password:
            u.apply(b">" + password.encode("utf-8", "surrogateescape"), True)
        else:
            u.apply(b"nopass", True)
        self.update_gate()

    def update_gate(self) -> None:
        """GATE_ACL on while some connected client has a restricted user (recomputed after
        every change of the users, and each second by cron once such clients have left)."""
        from .dispatch import GATE_ACL

        self._gate_checked = time.monotonic()
        self.state.set_gate(GATE_ACL, any(not c.acl_user.full for c in self.state.clients.values()))

    def _client_user_changed(self, c: Client) -> None:
        if not c.acl_user.full:
            from .dispatch import GATE_ACL

            self.state.set_gate(GATE_ACL, True)

    def _cron(self) -> None:
        from .dispatch import GATE_ACL

        if self.state.gates & GATE_ACL and time.monotonic() - self._gate_checked >= 1.0:
            self.update_gate()

    # --- clients -------------------------------------------------------------------------
    def set_default_auth(self, c: Client) -> None:
        """clientSetDefaultAuth: a new (or RESET) client is the default user, authenticated
        if that user needs no password and is enabled."""
        d = self.default
        c.acl_user = d
        c.user = d.name
        c.authenticated = d.nopass and d.enabled
        self._client_user_changed(c)

    def auth_required(self) -> bool:
        """authRequired for a client not authenticated: the default user needs a password."""
        d = self.default
        return not d.nopass or not d.enabled

    def authenticate(self, c: Client, username: bytes, password: bytes, argv0: bytes) -> bool:
        u = self.users.get(username)
        ok = u is not None and u.enabled and (u.nopass or self._password_ok(u, password))
        if ok:
            c.authenticated = True
            c.acl_user = u
            c.user = u.name
            self._client_user_changed(c)
            return True
        self.log_entry(c, DENIED_AUTH, CTX_MULTI if c.multi is not None else CTX_TOPLEVEL, argv0, username)
        return False

    @staticmethod
    def _password_ok(u: User, password: bytes) -> bool:
        h = hash_password(password)
        found = False
        for p in u.passwords:
            found |= hmac.compare_digest(h, p)
        return found

    def _clients_of(self, u: User) -> list:
        return [c for c in self.state.clients.values() if getattr(c, "acl_user", None) is u]

    def _kill(self, c: Client) -> None:
        if c is self.state.current_client:
            c.close_after_reply = True
        elif c.kill is not None:
            c.kill()

    def drop_user_clients(self, u: User) -> None:
        """ACLFreeUserAndKillClients: the clients of a deleted user are disconnected."""
        for c in self._clients_of(u):
            c.acl_user = self.default
            c.user = self.default.name
            c.authenticated = False
            self._kill(c)

    def kill_pubsub_clients(self, new: User, old: User) -> None:
        """ACLKillPubsubClientsIfNeeded: subscribers whose channels the new rules no longer
        allow are disconnected."""
        if any(s.allchannels for s in new.selectors):
            return
        for c in self._clients_of(old):
            if not c.subscription_count:
                continue
            bad = any(not new.channel_allowed(p, True) for p in c.psubscriptions)
            bad = bad or any(not new.channel_allowed(ch, False) for ch in c.subscriptions)
            bad = bad or any(not new.channel_allowed(ch, False) for ch in c.ssubscriptions)
            if bad:
                self._kill(c)

    # --- ACL SETUSER / DELUSER -----------------------------------------------------------
    def set_user(self, name: bytes, ops: list[bytes]) -> None:
        """Apply the rules to a copy of the user (or a new one); all or nothing."""
        u = self.users.get(name)
        allch = self.pubsub_default
        temp = u.copy() if u is not None else User(name, allch)
        for op in ops:
            try:
                temp.apply(op, allch)
            except RuleError as e:
                e.op = op
                raise
        if u is not None:
            self.kill_pubsub_clients(temp, u)
            u.assign(temp)
        else:
            self.users[name] = temp
        self.update_gate()

    def delete_user(self, name: bytes) -> bool:
        u = self.users.pop(name, None)
        if u is None:
            return False
        self.drop_user_clients(u)
        self.update_gate()
        return True

    def sorted_users(self) -> list[User]:
        return [self.users[k] for k in sorted(self.users)]

    # --- permission checks -----------------------------------------------------------------
    def _denied(self, c: Client, spec, argv, context: bytes | None) -> int:
        """The check of the client's user (OK, or the denial, logged in `context`; the
        client's own context, toplevel or multi, when None)."""
        u = c.acl_user
        if u.full:
            return OK
        r, pos = check_user(u, spec, argv)
        if r != OK:
            if context is None:
                context = CTX_MULTI if c.multi is not None else CTX_TOPLEVEL
            self.log_entry(c, r, context, self._object(r, spec, argv, pos), None)
        return r

    def check(self, c: Client, spec, argv) -> str | None:
        """dispatch's acl step: None, or the NOPERM error (the denial is logged)."""
        r = self._denied(c, spec, argv, None)
        if r == OK:
            return None
        if self.state.compat.at_least("7.2"):
            return "NOPERM " + self.denial_text(c.acl_user.name, r, spec)
        text = NOPERM_TEXT[r]
        return text % spec.fullname if r == DENIED_CMD else text

    @staticmethod
    def denial_text(username: bytes, r: int, spec) -> str:
        """7.2's one wording of a denial (getAclErrorMessage), for NOPERM and scripts."""
        if r == DENIED_CMD:
            return "User %s has no permissions to run the '%s' command" % (
                username.decode("utf-8", "replace"), spec.fullname)
        return "No permissions to access a key" if r == DENIED_KEY else "No permissions to access a channel"

    def exec_check(self, c: Client, spec, argv) -> str | None:
        """EXEC runs a queued command only if the user may still run it."""
        r = self._denied(c, spec, argv, CTX_MULTI)
        if r == OK:
            return None
        return ("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                "call. This command is no longer allowed for the following reason: " + EXEC_REASONS[r])

    def script_check(self, c: Client, spec, argv) -> str | None:
        """redis.call / redis.pcall: the script's caller's permissions."""
        r = self._denied(c, spec, argv, CTX_LUA)
        if r == OK:
            return None
        if self.state.compat.at_least("7.2"):
            return "ACL failure in script: " + self.denial_text(c.acl_user.name, r, spec)
        return "The user executing the script " + SCRIPT_REASONS[r]

    @staticmethod
    def _object(r: int, spec, argv, pos: int) -> bytes:
        return spec.fullname.encode() if r == DENIED_CMD else argv[pos]

    # --- the log ----------------------------------------------------------------------------
    def log_entry(self, c: Client, reason: int, context: bytes, obj: bytes, username: bytes | None) -> None:
        """addACLLogEntry: a denial, merged into a recent equal entry (same reason, context,
        object and user within 60 s, among the last 10) or added first."""
        from .clients import client_info_line

        self.state.stats.acl_denied[reason] += 1
        now = int(time.time() * 1000)
        user = username if username is not None else c.acl_user.name
        cinfo = client_info_line(c)
        for i, e in enumerate(self.log[:10]):
            if (e.reason == reason and e.context == context and abs(e.ctime - now) <= LOG_GROUPING_MS
                    and e.object == obj and e.username == user):
                e.count += 1
                e.ctime = now
                e.cinfo = cinfo
                if i:
                    del self.log[i]
                    self.log.insert(0, e)
                return
        e = LogEntry()
        e.count, e.reason, e.context, e.object, e.username, e.ctime, e.cinfo = 1, reason, context, obj, user, now, cinfo
        self.log.insert(0, e)
        self._trim_log()

    def _trim_log(self) -> None:
        del self.log[max(0, self.state.config["acllog-max-len"]):]

    # --- files --------------------------------------------------------------------------------
    def load_lines(self, lines: list[tuple[bytes, list[bytes]]], source: str) -> str | None:
        """ACLLoadFromFile on split lines [(line, words)]: all or nothing; the error text, or
        None after the users were replaced."""
        new: dict[bytes, User] = {}
        errors = ""
        allch = self.pubsub_default
        for linenum, (raw, words) in enumerate(lines, 1):
            if not raw:
                continue
            if words is None:
                errors += "%s:%d: unbalanced quotes in acl line. " % (source, linenum)
                continue
            if not words:
                continue
            if words[0] != b"user" or len(words) < 2:
                errors += "%s:%d should start with user keyword followed by the username. " % (source, linenum)
                continue
            name = words[1]
            if has_spaces(name):
                errors += "'%s:%d: username '%s' contains invalid characters. " % (source, linenum, _s(name))
                continue
            if name in new:
                errors += "WARNING: Duplicate user '%s' found on line %d. " % (_s(name), linenum)
                continue
            u = new[name] = User(name, allch)
            merged, _ = merge_selector_args(words[2:])
            if merged is None:
                errors += "%s:%d: Unmatched parenthesis in selector definition." % (source, linenum)
                merged = []
            syntax_error = False
            for op in merged:
                op = op.strip(b"\t\r\n")
                try:
                    u.apply(op, allch)
                except RuleError as e:
                    if e.code == "ENOENT":
                        errors += "%s:%d: Error in applying operation '%s': %s. " % (source, linenum, _s(op), e)
                    elif not syntax_error:
                        errors += "%s:%d: %s. " % (source, linenum, e)
                        syntax_error = True
        if errors:
            return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        self.replace_users(new)
        return None

    def replace_users(self, new: dict[bytes, User]) -> None:
        """The loaded users replace the current ones: the default user object stays (its
        clients stay, with the new rules); the clients of every other old user are dropped."""
        old = self.users
        nd = new.pop(b"default", None) or self._new_default()
        self.default.assign(nd)
        new[b"default"] = self.default
        self.users = new
        for name, u in old.items():
            if name != b"default":
                self.drop_user_clients(u)
        self.update_gate()

    @property
    def absent(self) -> int:
        """The bits of the commands declared for other modes than the server's (rendering
        leaves them out: core/commandtable.py)."""
        b = bits()
        hit = self._absent
        if hit is None or hit[0] is not b:
            from .commandtable import mode_specs

            mine = {s.fullname for s in mode_specs(self.state.compat)}
            mask = 0
            for s in all_specs():
                if s.fullname not in mine:
                    mask |= b.bit(s)
            hit = self._absent = (b, mask)
        return hit[1]

    def config_lines(self) -> list[str]:
        """rewriteConfigUserOption: CONFIG REWRITE writes every user as a `user` line, none
        when the users live in an aclfile."""
        if self.state.config["aclfile"]:
            return []
        return [(b"user " + u.name + b" " + u.describe(self.absent)).decode("utf-8", "surrogateescape")
                for u in self.sorted_users()]

    def load_file(self, path: str) -> str | None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            return "Error loading ACLs, opening file '%s': %s" % (path, e.strerror)
        lines = []
        for line in data.split(b"\n"):
            line = line.strip(b" \t\r\n")
            lines.append((line, [w for w in line.split(b" ") if w] if line else []))
        return self.load_lines(lines, path)

    def save_file(self, path: str) -> bool:
        text = b"".join(b"user " + u.name + b" " + u.describe(self.absent) + b"\n" for u in self.sorted_users())
        tmp = "%s.tmp-%d-%d" % (path, os.getpid(), int(time.time() * 1000))
        try:
            with open(tmp, "wb") as f:
                f.write(text)
            os.replace(tmp, path)
            return True
        except OSError as e:
            srv = self.state.server
            if srv is not None:
                srv.log("warning", "Writing ACL file for ACL SAVE: %s" % e.strerror)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False

    # --- start-up -----------------------------------------------------------------------------
    def load_at_startup(self) -> None:
        """ACLLoadUsersAtStartup: the `user` lines of the configuration, or the aclfile (not
        both). StartupRefused(message) when the configuration is refused."""
        cfg = self.state.config
        lines = getattr(cfg, "user_lines", [])
        aclfile = cfg["aclfile"]
        if aclfile and lines:
            raise StartupRefused(
                "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is "
                "invalid. This setup is very likely to lead to configuration errors and security holes, please "
                "define either an ACL file or declare users directly in your redis.conf, but not both.")
        for words in lines:
            err = validate_user_line(words)
            if err is not None:
                raise StartupRefused(err)
        allch = self.pubsub_default
        for words in lines:
            name = words[1]
            if has_spaces(name):
                raise StartupRefused("Spaces not allowed in ACL usernames")
            u = self.users.get(name)
            if u is None:
                u = self.users[name] = User(name, allch)
            else:
                u.apply(b"reset", allch)
            merged, _ = merge_selector_args(words[2:])
            for op in merged or []:
                try:
                    u.apply(op, allch)
                except RuleError as e:
                    raise StartupRefused("Error loading ACL rule '%s' for the user named '%s': %s"
                                         % (_s(op), _s(name), e)) from None
        if aclfile:
            err = self.load_file(aclfile)
            if err is not None:
                raise StartupRefused("Aborting Redis startup because of ACL errors: " + err)
        self.update_gate()


class StartupRefused(Exception):
    pass


def validate_user_line(words: list[bytes]) -> str | None:
    """A `user` line of the configuration, checked when the file is read (Redis's
    ACLAppendUserForLoading): None, or the error Redis reports. Unknown commands and
    categories pass here (modules may add them later)."""
    merged, bad = merge_selector_args(words[2:])
    if merged is None:
        return "Error in user declaration '%s': %s" % (_s(words[bad]), RULE_ERRORS["EINVAL"])
    u = User(words[1], False)
    for j, op in enumerate(merged):
        try:
            u.apply(op, False)
        except RuleError as e:
            if e.code != "ENOENT":
                return "Error in user declaration '%s': %s" % (_s(words[j]), e)
    return None


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")
