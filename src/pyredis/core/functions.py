"""The function libraries of one server (Redis 7.0 functions.c): FUNCTION LOAD's registry, also
filled by persistence when an RDB file or an AOF carries libraries. Libraries run in their own
Lua state (core/lua function_engine).

API:
    fns = registry(state)                              # state.lua_function_libs, created on first use
    lib = create_library(state, code, replace, fns)    # compile and link; CommandError on failure
    fns.libraries: name -> Library (name, code, functions); fns.functions: lowercase name -> FunctionInfo
    fns.link(lib) / fns.unlink(lib)
    library_sources(state) -> [code, ...]              # what RDB files and AOF rewrites save
"""

from __future__ import annotations

from ..errors import CommandError
from ..util import sdssplitargs
from .lua import FunctionInfo, function_engine, valid_name

_BAD_NAME = ("ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
             "least one character long")


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: bytes, code: bytes) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, FunctionInfo] = {}


class Functions:
    """The libraries of one server: name -> Library, and lowercase function name -> FunctionInfo."""

    def __init__(self) -> None:
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, FunctionInfo] = {}

    def link(self, lib: Library) -> None:
        self.libraries[lib.name] = lib
        for fi in lib.functions.values():
            self.functions[fi.name.lower()] = fi

    def unlink(self, lib: Library) -> None:
        self.libraries.pop(lib.name, None)
        for fi in lib.functions.values():
            k = fi.name.lower()
            if self.functions.get(k) is fi:
                del self.functions[k]


def registry(state) -> Functions:
    f = getattr(state, "lua_function_libs", None)
    if f is None:
        f = state.lua_function_libs = Functions()
    return f


def _metadata(payload: bytes) -> tuple[bytes, bytes, bytes]:
    """functionExtractLibMetaData: (engine, name, code keeping the shebang's newline)."""
    if not payload.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    end = payload.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid library metadata")
    parts = sdssplitargs(payload[:end])
    if not parts:
        raise CommandError("ERR Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for p in parts[1:]:
        if p[:5].lower() == b"name=":
            if name is not None:
                raise CommandError("ERR Invalid metadata value, name argument was given multiple times")
            name = p[5:]
            continue
        raise CommandError(b"ERR Invalid metadata value given: " + p)
    if name is None:
        raise CommandError("ERR Library name was not given")
    return engine, name, payload[end:]


def create_library(state, payload: bytes, replace: bool, fns: Functions) -> Library:
    """functionsCreateWithLibraryCtx: load payload into fns (or raise)."""
    engine_name, name, code = _metadata(payload)
    if not valid_name(name):
        raise CommandError(_BAD_NAME)
    if engine_name.lower() != b"lua":
        raise CommandError(b"ERR Engine '" + engine_name + b"' not found")
    old = fns.libraries.get(name)
    if old is not None and not replace:
        raise CommandError(b"ERR Library '" + name + b"' already exists")
    if old is not None:
        fns.unlink(old)
    try:
        lib = Library(name, payload)
        function_engine(state).load_library(lib, code)
        if not lib.functions:
            raise CommandError("ERR No functions registered")
        for fi in lib.functions.values():
            if fi.name.lower() in fns.functions:
                raise CommandError(b"ERR Function " + fi.name + b" already exists")
    except CommandError:
        if old is not None:
            fns.link(old)
        raise
    fns.link(lib)
    return lib


def library_sources(state) -> list[bytes]:
    """The code of every library, in load order (saved in RDB files as FUNCTION2 records)."""
    fns = getattr(state, "lua_function_libs", None)
    return [lib.code for lib in fns.libraries.values()] if fns is not None else []
