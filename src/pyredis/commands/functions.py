"""FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP and FCALL, FCALL_RO
(Redis 7.0 functions.c, function_lua.c). The registry of libraries is core/functions.py;
libraries run in their own Lua state (core/lua function_engine).

FUNCTION DUMP writes Redis's payload format (RDB_OPCODE_FUNCTION2 + RDB string per library,
RDB version 10, CRC64-Jones), with strings LZF-compressed under rdbcompression as Redis does;
RESTORE reads both, so payloads move both ways.
"""

from __future__ import annotations

import time

from ..core.client import Client
from ..core.dispatch import GATE_READONLY, GATE_STALE
from ..core.replication import script_noreplicas, script_refusal
from ..core.functions import Functions, Library, create_library, registry
from ..core.lua import current_run, function_engine
from ..core.monitor import feed_now
from ..core.spec import command, container
from ..errors import BAD_PAYLOAD, BUSY_EVAL, SCRIPT_WRITE_IN_RO, CommandError
from ..protocol.replies import OK, SetReply, Simple
from ..util import glob_match
from .scripting import check_script_oom, keys_and_args, kill_script, numkeys_keys


def _subcommand_syntax(ctx: Client) -> CommandError:
    sub = ctx.argv[1].decode("utf-8", "replace")[:128] if len(ctx.argv) > 1 else ""
    return CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try FUNCTION HELP." % sub)


container("FUNCTION", group="scripting", acl="", since="7.0.0", summary="A container for function commands")


@command("FUNCTION|LOAD", arity=-3, flags="write denyoom noscript", group="scripting", since="7.0.0")
def function_load(ctx: Client, *args: bytes):
    """Create a function with the given arguments (name, code, description)."""
    replace = False
    i = 0
    while i < len(args) - 1:
        a = args[i]
        i += 1
        if a.lower() == b"replace":
            replace = True
            continue
        raise CommandError(b"ERR Unknown option given: " + a)
    lib = create_library(ctx.server, args[i], replace, registry(ctx.server))
    ctx.server.dirty += 1
    return lib.name


@command("FUNCTION|DELETE", arity=3, flags="write noscript", group="scripting", since="7.0.0")
def function_delete(ctx: Client, name: bytes):
    """Delete a function by name."""
    fns = registry(ctx.server)
    lib = fns.libraries.get(name)
    if lib is None:
        raise CommandError("ERR Library not found")
    fns.unlink(lib)
    ctx.server.dirty += 1
    return OK


@command("FUNCTION|FLUSH", arity=-2, flags="write noscript", group="scripting", since="7.0.0")
def function_flush(ctx: Client, *args: bytes):
    """Deleting all functions."""
    if len(args) > 1:
        raise _subcommand_syntax(ctx)
    if args and args[0].upper() not in (b"SYNC", b"ASYNC"):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    ctx.server.lua_function_libs = Functions()
    ctx.server.dirty += 1
    return OK


def _lib_reply(lib: Library, with_code: bool) -> dict:
    funcs = []
    for fi in lib.functions.values():
        funcs.append({
            b"name": fi.name,
            b"description": fi.desc,
            b"flags": SetReply(Simple(f.encode()) for f in fi.flags),
        })
    d = {b"library_name": lib.name, b"engine": b"LUA", b"functions": funcs}
    if with_code:
        d[b"library_code"] = lib.code
    return d


@command("FUNCTION|LIST", arity=-2, flags="noscript", group="scripting", since="7.0.0")
def function_list(ctx: Client, *args: bytes):
    """List information about all the functions."""
    with_code = False
    pattern = None
    i = 0
    while i < len(args):
        a = args[i]
        la = a.lower()
        if not with_code and la == b"withcode":
            with_code = True
        elif pattern is None and la == b"libraryname":
            if i >= len(args) - 1:
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = args[i]
        else:
            raise CommandError(b"ERR Unknown argument " + a)
        i += 1
    out = []
    for lib in registry(ctx.server).libraries.values():
        if pattern is not None and not glob_match(pattern, lib.name, True):
            continue
        out.append(_lib_reply(lib, with_code))
    return out


@command("FUNCTION|STATS", arity=2, flags="noscript allow_busy", group="scripting", since="7.0.0")
def function_stats(ctx: Client):
    """Return information about the function currently running (name, description, duration)."""
    run = current_run(ctx.server)
    running = None
    if run is not None and run.client is not None:
        if run.is_eval:
            raise CommandError(BUSY_EVAL)
        running = {
            b"name": run.name,
            b"command": list(run.argv or []),
            b"duration_ms": int((time.monotonic() - run.t0) * 1000),
        }
    fns = registry(ctx.server)
    return {
        b"running_script": running,
        b"engines": {b"LUA": {b"libraries_count": len(fns.libraries), b"functions_count": len(fns.functions)}},
    }


@command("FUNCTION|KILL", arity=2, flags="noscript allow_busy", group="scripting", since="7.0.0")
def function_kill(ctx: Client):
    """Kill the function currently in execution."""
    return kill_script(ctx, False)


# --- DUMP / RESTORE ------------------------------------------------------------------------
# The payload is Redis's: FUNCTION2 records (RDB string of each library's code, LZF-compressed
# under rdbcompression like Redis), then the RDB version and a CRC64, all from rdb/.
from ..rdb import (  # noqa: E402
    OP_FUNCTION2,
    OP_FUNCTION_PRE_GA,
    Reader,
    crc64,
    enc_string,
    rdb_versions,
)


@command("FUNCTION|DUMP", arity=2, flags="noscript", group="scripting", since="7.0.0")
def function_dump(ctx: Client):
    """Dump all functions into a serialized binary payload."""
    comp = ctx.server.config["rdbcompression"]
    out = bytearray()
    for lib in registry(ctx.server).libraries.values():
        out.append(OP_FUNCTION2)
        out += enc_string(lib.code, comp)
    out += rdb_versions(ctx.server.config)[0].to_bytes(2, "little")
    out += crc64(bytes(out)).to_bytes(8, "little")
    return bytes(out)


@command("FUNCTION|RESTORE", arity=-3, flags="write denyoom noscript", group="scripting", since="7.0.0")
def function_restore(ctx: Client, payload: bytes, *args: bytes):
    """Restore all the functions on the given payload."""
    policy = b"APPEND"
    if args:
        if len(args) > 1:
            raise _subcommand_syntax(ctx)
        policy = args[0].upper()
        if policy not in (b"FLUSH", b"APPEND", b"REPLACE"):
            raise CommandError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    if (len(payload) < 10 or int.from_bytes(payload[-10:-8], "little") > rdb_versions(ctx.server.config)[1]
            or crc64(payload[:-8]) != int.from_bytes(payload[-8:], "little")):
        raise CommandError(BAD_PAYLOAD)
    state = ctx.server
    rd = Reader(payload[:-10])
    new = Functions()
    try:
        while rd.pos < len(rd.data):
            t = rd.byte()
            if t == OP_FUNCTION_PRE_GA:
                raise CommandError("ERR Pre-GA function format not supported")
            if t != OP_FUNCTION2:
                raise CommandError("ERR given type is not a function")
            code = rd.string()
            create_library(state, code, False, new)
    except ValueError:
        raise CommandError("ERR failed loading the given functions payload") from None
    fns = registry(state)
    if policy == b"FLUSH":
        state.lua_function_libs = new
    else:
        for name in new.libraries:
            if name in fns.libraries and policy == b"APPEND":
                raise CommandError(b"ERR Library " + name + b" already exists")
        kept = Functions()
        for lib in fns.libraries.values():
            if lib.name not in new.libraries:
                kept.link(lib)
        for fi in new.functions.values():
            if fi.name.lower() in kept.functions:
                raise CommandError(b"ERR Function " + fi.name + b" already exists")
        for lib in new.libraries.values():
            kept.link(lib)
        state.lua_function_libs = kept
    state.dirty += 1
    return OK


_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


@command("FUNCTION|HELP", arity=2, flags="loading stale", group="scripting", since="7.0.0")
def function_help(ctx: Client):
    """Show helpful text about the different subcommands."""
    lines = _FUNCTION_HELP
    if ctx.server.compat.at_least("7.4", "valkey-8.0"):  # LIST no longer mentions the description
        lines = [x for x in lines if x != "    * Library description"]
    return [Simple(x.encode()) for x in lines]


# --- FCALL -------------------------------------------------------------------------------
def _fcall(ctx: Client, name: bytes, numkeys: bytes, rest: tuple, ro: bool):
    if ctx.server.monitors:  # before the function's own commands, as fcallCommandGeneric
        feed_now(ctx, ctx.argv)
    fi = registry(ctx.server).functions.get(name.lower())
    if fi is None:
        raise CommandError("ERR Function not found")
    keys, args = keys_and_args(numkeys, rest, "ERR Bad number of keys provided")
    no_writes = "no-writes" in fi.flags
    state = ctx.server
    if state.gates & (GATE_READONLY | GATE_STALE):  # scriptPrepareForRun: a replica, min-replicas
        err = script_refusal(state, ctx, no_writes, "allow-stale" in fi.flags)
        if err is not None:
            raise CommandError(err)
    if ro and not no_writes:
        raise CommandError(SCRIPT_WRITE_IN_RO)
    if state.gates & (GATE_READONLY | GATE_STALE):
        err = script_noreplicas(state, no_writes)
        if err is not None:
            raise CommandError(err)
    allow_oom = "allow-oom" in fi.flags
    check_script_oom(ctx, no_writes or allow_oom)
    return function_engine(ctx.server).run(ctx, fi.fn, keys, args, fi.name, False, ro or no_writes,
                                           allow_oom=allow_oom)


_FCALL_FLAGS = "noscript stale skip_monitor no_mandatory_keys"


@command("FCALL", arity=-3, flags=_FCALL_FLAGS, group="scripting", getkeys=numkeys_keys, since="7.0.0")
def fcall(ctx: Client, name: bytes, numkeys: bytes, *rest: bytes):
    """Invoke a function."""
    return _fcall(ctx, name, numkeys, rest, False)


@command("FCALL_RO", arity=-3, flags="readonly " + _FCALL_FLAGS, group="scripting", getkeys=numkeys_keys,
         since="7.0.0")
def fcall_ro(ctx: Client, name: bytes, numkeys: bytes, *rest: bytes):
    """Invoke a read-only function."""
    return _fcall(ctx, name, numkeys, rest, True)
