"""MODULE LIST / HELP / LOAD / LOADEX / UNLOAD, as Redis 7.0's moduleCommand answers them.

pyredis runs no native Redis module, so no module is ever loaded: MODULE LIST is empty, and
MODULE LOAD / LOADEX go through Redis's moduleLoad checks in order, logging what it logs:
a file without execute permission, a file dlopen() refuses (the dynamic loader's own
message, since the file really is opened the same way), a library that does not export
RedisModule_OnLoad. A library that does export it is not initialised (pyredis has no module
API) and fails with a line of its own. LOAD, LOADEX and UNLOAD are protected by
enable-module-command (core/spec.py's PROTECTED_BY, checked by dispatch).
"""

from __future__ import annotations

import os

from ..core.client import Client
from ..core.spec import command, container
from ..errors import CommandError
from ..protocol.replies import Simple

LOAD_FAILED = "ERR Error loading the extension. Please check the server logs."

container("MODULE", group="server", summary="A container for module commands", since="4.0.0")


def _log(ctx: Client, level: str, msg: str) -> None:
    srv = ctx.server.server
    if srv is not None:
        srv.log(level, msg)


def _text(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def load_failure(name: str) -> str:
    """moduleLoad's checks, in order: the line Redis logs for why `name` does not load
    (nothing ever does: pyredis runs no native module). Also used for `loadmodule` at start-up."""
    try:
        st = os.stat(name)
    except (OSError, ValueError):
        st = None
    if st is not None and not st.st_mode & 0o111:
        return f"Module {name} failed to load: It does not have execute permissions."
    import _ctypes

    try:
        handle = _ctypes.dlopen(name, os.RTLD_NOW | os.RTLD_LOCAL)
    except OSError as e:
        return f"Module {name} failed to load: {e}"
    try:
        exported = True
        try:
            _ctypes.dlsym(handle, "RedisModule_OnLoad")
        except OSError:
            exported = False
    finally:
        _ctypes.dlclose(handle)
    if not exported:
        return f"Module {name} does not export RedisModule_OnLoad() symbol. Module not loaded."
    return f"Module {name} initialization failed. Module not loaded (pyredis cannot run native Redis modules)"


def _load(ctx: Client, path: bytes) -> None:
    """MODULE LOAD: always ends in the load error, after Redis's log line."""
    _log(ctx, "warning", load_failure(_text(path)))
    raise CommandError(LOAD_FAILED)


@command("MODULE|LIST", arity=2, flags="admin noscript", group="server", since="4.0.0", complexity="O(N)")
def module_list(ctx: Client):
    """Returns all loaded modules."""
    return []


# moduleCommand's help lines; addReplyHelp adds the first line and HELP.
_HELP = ("LIST", "    Return a list of loaded modules.",
         "LOAD <path> [<arg> ...]", "    Load a module library from <path>, passing to it any optional arguments.",
         "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
         "    Load a module library from <path>, while passing it module configurations and optional arguments.",
         "UNLOAD <name>", "    Unload a module.")


@command("MODULE|HELP", arity=2, flags="loading stale", group="server", since="5.0.0", complexity="O(1)")
def module_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    lines = ("MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", *_HELP, "HELP", "    Prints this help.")
    return [Simple(x.encode()) for x in lines]


@command("MODULE|LOAD", arity=-3, flags="admin noscript no_async_loading", group="server", since="4.0.0",
         complexity="O(1)")
def module_load(ctx: Client, path: bytes, *args: bytes):
    """Loads a module."""
    _load(ctx, path)


@command("MODULE|LOADEX", arity=-3, flags="admin noscript no_async_loading", group="server", since="7.0.0",
         complexity="O(1)")
def module_loadex(ctx: Client, path: bytes, *args: bytes):
    """Loads a module using extended parameters."""
    i = 0
    while i < len(args):  # parseLoadexArguments
        word = args[i].lower()
        if word == b"config":
            if i + 2 >= len(args):
                _log(ctx, "notice", "CONFIG specified without name value pair")
                raise CommandError(LOAD_FAILED)
            i += 3
        elif word == b"args":
            break
        else:
            _log(ctx, "notice", f"Syntax Error from arguments to loadex around {_text(args[i])}.")
            raise CommandError(LOAD_FAILED)
    _load(ctx, path)


@command("MODULE|UNLOAD", arity=3, flags="admin noscript no_async_loading", group="server", since="4.0.0",
         complexity="O(1)")
def module_unload(ctx: Client, name: bytes):
    """Unloads a module."""
    raise CommandError("ERR Error unloading module: no such module with that name")
