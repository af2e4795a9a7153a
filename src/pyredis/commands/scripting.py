"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0 eval.c). The Lua engine lives in
core/lua."""

from __future__ import annotations

from ..core.args import to_int
from ..core.client import Client
from ..core.dispatch import GATE_READONLY, GATE_STALE
from ..core.replication import script_noreplicas, script_refusal
from ..core.monitor import feed_now
from ..core.lua import FLAG_ALLOW_OOM, FLAG_NO_WRITES, current_run, engine, parse_shebang, sha1hex
from ..errors import OOM_SCRIPT
from ..errors import BUSY_FUNCTION as _BUSY_FUNCTION
from ..core.spec import command, container
from ..errors import NOT_INTEGER, SCRIPT_WRITE_IN_RO, TOO_MANY_KEYS, CommandError
from ..protocol.replies import OK, Simple
from ..util import string2ll

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NOSCRIPT_VALKEY = "NOSCRIPT No matching script."
UNKILLABLE = ("UNKILLABLE Sorry the script already executed write commands against the dataset. "
              "You can either wait the script termination or kill the server in a hard way using "
              "the SHUTDOWN NOSAVE command.")
NOTBUSY = "NOTBUSY No scripts in execution right now."

FLAG_ALLOW_STALE = 4  # SCRIPT_FLAGS["allow-stale"]
_REPL_GATES = GATE_READONLY | GATE_STALE


class ScriptEntry:
    __slots__ = ("fn", "flags", "compat", "body")

    def __init__(self, fn, flags: int, compat: bool, body: bytes) -> None:
        self.fn = fn
        self.flags = flags
        self.compat = compat
        self.body = body


def numkeys_keys(argv: list[bytes]) -> list[int]:
    """Key positions of EVAL-like commands: numkeys at argv[2]."""
    if len(argv) < 3:
        return []
    n = string2ll(argv[2])
    if n is None or n <= 0 or n > len(argv) - 3:
        return []
    return list(range(3, 3 + n))


def keys_and_args(numkeys: bytes, rest: tuple, bad: str = NOT_INTEGER):
    """evalGenericCommand's numkeys: (keys, args) of the arguments after it."""
    n = to_int(numkeys, bad)
    if n > len(rest):
        raise CommandError(TOO_MANY_KEYS)
    if n < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return list(rest[:n]), list(rest[n:])


def load_script(ctx: Client, body: bytes) -> tuple[bytes, ScriptEntry]:
    eng = engine(ctx.server)
    sha = sha1hex(body)
    entry = eng.scripts.get(sha)
    if entry is not None:
        return sha, entry
    flags, compat, off = parse_shebang(body)
    fn, err = eng.compile(body[off:] if off else body, b"@user_script")
    if fn is None:
        raise CommandError(b"ERR Error compiling script (new function): " + err.replace(b"\r", b" ").replace(b"\n", b" "))
    entry = ScriptEntry(fn, flags, compat, body)
    eng.scripts[sha] = entry
    return sha, entry


def _run(ctx: Client, sha: bytes, entry: ScriptEntry, numkeys: bytes, rest: tuple, ro: bool):
    keys, args = keys_and_args(numkeys, rest)
    read_only = ro
    allow_oom = False
    if not entry.compat:
        no_writes = bool(entry.flags & FLAG_NO_WRITES)
        state = ctx.server
        if state.gates & _REPL_GATES:  # scriptPrepareForRun: a replica, min-replicas-to-write
            err = script_refusal(state, ctx, no_writes, bool(entry.flags & FLAG_ALLOW_STALE))
            if err is not None:
                raise CommandError(err)
        if not no_writes:
            if ro:
                raise CommandError(SCRIPT_WRITE_IN_RO)
            if state.gates & _REPL_GATES:
                err = script_noreplicas(state, no_writes)
                if err is not None:
                    raise CommandError(err)
        else:
            read_only = True
        check_script_oom(ctx, entry.flags & (FLAG_ALLOW_OOM | FLAG_NO_WRITES))
        allow_oom = bool(entry.flags & FLAG_ALLOW_OOM)
    return engine(ctx.server).run(ctx, entry.fn, keys, args, sha, True, read_only, allow_oom=allow_oom)


def check_script_oom(ctx: Client, allowed: int) -> None:
    """scriptPrepareForRun: a script with flags that declares neither allow-oom nor no-writes
    does not start while the command began over maxmemory (dispatch's oom step)."""
    state = ctx.server
    if state.pre_command_oom and state.config["maxmemory"] and not allowed:
        raise CommandError(OOM_SCRIPT)


def _eval(ctx: Client, body: bytes, numkeys: bytes, rest: tuple, ro: bool):
    if ctx.server.monitors:  # before the script's own commands, as evalCommand
        feed_now(ctx, ctx.argv)
    keys_and_args(numkeys, rest)
    sha, entry = load_script(ctx, body)
    return _run(ctx, sha, entry, numkeys, rest, ro)


def _evalsha(ctx: Client, sha: bytes, numkeys: bytes, rest: tuple, ro: bool):
    if ctx.server.monitors:  # before the script's own commands, as evalShaCommand
        feed_now(ctx, ctx.argv)
    if len(sha) != 40:
        raise CommandError(NOSCRIPT_VALKEY if ctx.server.compat.valkey else NOSCRIPT)
    keys_and_args(numkeys, rest)
    sha = sha.lower()
    entry = engine(ctx.server).scripts.get(sha)
    if entry is None:
        raise CommandError(NOSCRIPT_VALKEY if ctx.server.compat.valkey else NOSCRIPT)
    return _run(ctx, sha, entry, numkeys, rest, ro)


_EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys"


@command("EVAL", arity=-3, flags=_EVAL_FLAGS, group="scripting", getkeys=numkeys_keys, since="2.6.0")
def eval_(ctx: Client, body: bytes, numkeys: bytes, *rest: bytes):
    """Execute a Lua script server side."""
    return _eval(ctx, body, numkeys, rest, False)


@command("EVAL_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, group="scripting", getkeys=numkeys_keys,
         since="7.0.0")
def eval_ro(ctx: Client, body: bytes, numkeys: bytes, *rest: bytes):
    """Execute a read-only Lua script server side."""
    return _eval(ctx, body, numkeys, rest, True)


@command("EVALSHA", arity=-3, flags=_EVAL_FLAGS, group="scripting", getkeys=numkeys_keys, since="2.6.0")
def evalsha(ctx: Client, sha: bytes, numkeys: bytes, *rest: bytes):
    """Execute a Lua script server side, by its SHA1 digest."""
    return _evalsha(ctx, sha, numkeys, rest, False)


@command("EVALSHA_RO", arity=-3, flags="readonly " + _EVAL_FLAGS, group="scripting", getkeys=numkeys_keys,
         since="7.0.0")
def evalsha_ro(ctx: Client, sha: bytes, numkeys: bytes, *rest: bytes):
    """Execute a read-only Lua script server side, by its SHA1 digest."""
    return _evalsha(ctx, sha, numkeys, rest, True)


container("SCRIPT", group="scripting", acl="", since="2.6.0", summary="A container for Lua scripts management commands")


@command("SCRIPT|LOAD", arity=3, flags="noscript stale", group="scripting", since="2.6.0")
def script_load(ctx: Client, body: bytes):
    """Load a Lua script into the scripts cache, without executing it."""
    sha, _ = load_script(ctx, body)
    return sha


@command("SCRIPT|EXISTS", arity=-3, flags="noscript", group="scripting", since="2.6.0")
def script_exists(ctx: Client, *shas: bytes):
    """Check existence of scripts in the script cache."""
    scripts = engine(ctx.server).scripts
    return [1 if s.lower() in scripts else 0 for s in shas]


@command("SCRIPT|SHOW", arity=3, flags="noscript", group="scripting", since="8.0.0", valkey=True)
def script_show(ctx: Client, sha: bytes):
    """Show server-side Lua script in the script cache."""
    entry = engine(ctx.server).scripts.get(sha.lower())
    if entry is None:
        raise CommandError(NOSCRIPT_VALKEY)
    return entry.body


@command("SCRIPT|FLUSH", arity=-2, flags="noscript", group="scripting", since="2.6.0")
def script_flush(ctx: Client, *args: bytes):
    """Remove all the scripts from the script cache."""
    if len(args) > 1 or (args and args[0].upper() not in (b"SYNC", b"ASYNC")):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    eng = getattr(ctx.server, "lua", None)
    if eng is not None:
        eng.flush()
    return OK


def kill_script(ctx: Client, is_eval: bool):
    run = current_run(ctx.server)
    if run is None or run.client is None:
        raise CommandError(NOTBUSY)
    if run.dirty:
        raise CommandError(UNKILLABLE)
    if is_eval and not run.is_eval:
        raise CommandError(_BUSY_FUNCTION)
    if not is_eval and run.is_eval:
        from ..errors import BUSY_EVAL

        raise CommandError(BUSY_EVAL)
    run.killed = True
    return OK


@command("SCRIPT|KILL", arity=2, flags="noscript allow_busy", group="scripting", since="2.6.0")
def script_kill(ctx: Client):
    """Kill the script currently in execution."""
    return kill_script(ctx, True)


@command("SCRIPT|DEBUG", arity=3, flags="noscript", group="scripting", since="3.2.0")
def script_debug(ctx: Client, mode: bytes):
    """Set the debug mode for executed scripts."""
    m = mode.upper()
    if ctx.multi is not None or ctx.in_exec:
        raise CommandError("ERR SCRIPT DEBUG must be called outside MULTI")
    if m == b"NO":
        return OK
    if m in (b"YES", b"SYNC"):
        raise CommandError("ERR the Lua debugger (LDB) is not supported by this server")
    raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


@command("SCRIPT|HELP", arity=2, flags="loading stale", group="scripting", since="5.0.0")
def script_help(ctx: Client):
    """Show helpful text about the different subcommands."""
    lines = _SCRIPT_HELP
    if ctx.server.compat.valkey:  # Valkey 8 rewraps FLUSH's text and has SCRIPT SHOW
        lines = lines[:7] + ["    When called without the optional mode argument, the behavior is determined",
                             "     by the lazyfree-lazy-user-flush configuration directive. Valid modes are:"] + \
            lines[9:-2] + ["SHOW <sha1>", "    Show a script from the scripts cache."] + lines[-2:]
    return [Simple(x.encode()) for x in lines]
