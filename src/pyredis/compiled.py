"""The compiled hot path: which modules the build compiles, and which form this process runs.

The build (hatch_build.py, run by `uv sync` / `uv run` / `uv build`) compiles the modules of
MODULES with Cython in pure-Python mode: the `.py` files stay the reference implementation and
the compiled extension sits next to each one (`encoder.cpython-311-x86_64-linux-gnu.so` beside
`encoder.py`). Without a C compiler, or without Cython, the build installs the `.py` files only
and pyredis runs interpreted; it says so once in its log and in INFO server
(`pyredis_compiled:0`).

install() puts a finder in front of Python's own that decides, per compiled module, which file
is imported:
- the `.py` file when PYREDIS_PURE is set (1/yes/true): the test suite runs once each way, so
  neither form can rot;
- the `.py` file when the extension is older than its source (an edit since the last build: the
  edit runs, not the old compiled code; the next `uv run` rebuilds it);
- otherwise the extension.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

# The modules the build compiles (hatch_build.py reads this tuple). Each was measured compiled
# against interpreted (benchmarks/RESULTS.md, "Compiled hot path"); a module whose compiled form
# was not faster is not listed.
MODULES: tuple[str, ...] = (
    "pyredis.protocol.encoder",
    "pyredis.protocol.parser",
    "pyredis.keyspace.zset",
    "pyredis.persistence.aof",
    "pyredis.keyspace.memsize",
    "pyredis.keyspace.pairs",
)

PURE = os.environ.get("PYREDIS_PURE", "").strip().lower() in ("1", "yes", "true", "on")

# module name -> "compiled" | why it runs interpreted ("PYREDIS_PURE", "not built", "stale")
_status: dict[str, str] = {}


def _extension_beside(directory: str, leaf: str) -> str | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        p = os.path.join(directory, leaf + suffix)
        if os.path.exists(p):
            return p
    return None


class _Finder(importlib.abc.MetaPathFinder):
    """Chooses between a compiled module's extension and its `.py` file (see the docstring)."""

    def find_spec(self, name, path, target=None):
        if name not in _WANTED:
            return None
        leaf = name.rpartition(".")[2]
        for d in path or ():
            src = os.path.join(d, leaf + ".py")
            if not os.path.exists(src):
                continue
            ext = _extension_beside(d, leaf)
            if PURE:
                why = "PYREDIS_PURE"
            elif ext is None:
                why = "not built"
            elif os.path.getmtime(ext) < os.path.getmtime(src):
                why = "stale"
            else:
                _status[name] = "compiled"
                return importlib.util.spec_from_file_location(name, ext)
            _status[name] = why
            return importlib.util.spec_from_file_location(name, src)
        return None


_WANTED = frozenset(MODULES)


def install() -> None:
    """Put the finder first on sys.meta_path (once); called by pyredis/__init__.py before any
    compiled module is imported."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def is_compiled() -> bool:
    """True when every module of MODULES runs compiled in this process."""
    _load_all()
    return all(_status.get(m) == "compiled" for m in MODULES)


def report() -> str | None:
    """One log line when some module runs interpreted (None when all are compiled)."""
    _load_all()
    missing = {m: why for m, why in _status.items() if why != "compiled"}
    if not missing:
        return None
    whys = sorted(set(missing.values()))
    if whys == ["PYREDIS_PURE"]:
        return "pyredis runs interpreted: PYREDIS_PURE is set (the compiled hot path is not used)."
    if "not built" in whys:
        return ("pyredis runs interpreted: the compiled hot path was not built (no C compiler or Cython "
                "when it was installed); everything works, more slowly. Reinstall with gcc present to compile it.")
    return ("pyredis runs interpreted for " + ", ".join(sorted(missing)) + ": the compiled modules are older "
            "than their sources (`uv sync` rebuilds them).")


def _load_all() -> None:
    import importlib

    for m in MODULES:
        if m not in _status:
            importlib.import_module(m)
