"""The compiled hot path and its interpreted fallback (src/pyredis/compiled.py, hatch_build.py).

CI runs the whole suite twice: once as installed (compiled: every module of MODULES must be its
extension, a build that silently fell back fails here) and once with PYREDIS_PURE=1 (every one
of them must be its .py file).
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile

import pytest
import redis

from conftest import free_port
from procs import start, stop
from pyredis import compiled


def test_every_listed_module_runs_in_the_form_asked_for():
    for name in compiled.MODULES:
        mod = importlib.import_module(name)
        if compiled.PURE:
            assert mod.__file__.endswith(".py"), name
        else:
            # Not built (no compiler when installed) or stale would fall back: in CI that is a failure.
            assert not mod.__file__.endswith(".py"), (name, mod.__file__, compiled.report())
    assert compiled.is_compiled() is (not compiled.PURE)
    assert (compiled.report() is None) is (not compiled.PURE)


def _finder_on(tmp: str, make_ext: bool, ext_newer: bool, monkeypatch, pure: bool = False):
    """The finder's choice for a fake compiled module `fakepkg.hot` in tmp."""
    pkg = os.path.join(tmp, "fakepkg")
    os.makedirs(pkg, exist_ok=True)
    src = os.path.join(pkg, "hot.py")
    with open(src, "w") as f:
        f.write("X = 1\n")
    ext = os.path.join(pkg, "hot" + importlib.machinery.EXTENSION_SUFFIXES[0])
    if make_ext:
        with open(ext, "wb") as f:
            f.write(b"")
        t = os.path.getmtime(src)
        os.utime(ext, (t + 10, t + 10) if ext_newer else (t - 10, t - 10))
    monkeypatch.setattr(compiled, "_WANTED", frozenset({"fakepkg.hot"}))
    monkeypatch.setattr(compiled, "PURE", pure)
    monkeypatch.setattr(compiled, "_status", {})
    spec = compiled._Finder().find_spec("fakepkg.hot", [pkg])
    return spec.origin, compiled._status["fakepkg.hot"], src, ext


def test_finder_prefers_a_fresh_extension_and_falls_back_to_the_source(monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        origin, status, src, ext = _finder_on(tmp, make_ext=True, ext_newer=True, monkeypatch=monkeypatch)
        assert (origin, status) == (ext, "compiled")
    with tempfile.TemporaryDirectory() as tmp:  # edited since the build: the edit runs
        origin, status, src, ext = _finder_on(tmp, make_ext=True, ext_newer=False, monkeypatch=monkeypatch)
        assert (origin, status) == (src, "stale")
    with tempfile.TemporaryDirectory() as tmp:
        origin, status, src, ext = _finder_on(tmp, make_ext=False, ext_newer=True, monkeypatch=monkeypatch)
        assert (origin, status) == (src, "not built")
    with tempfile.TemporaryDirectory() as tmp:
        origin, status, src, ext = _finder_on(tmp, make_ext=True, ext_newer=True, monkeypatch=monkeypatch, pure=True)
        assert (origin, status) == (src, "PYREDIS_PURE")
    assert compiled._Finder().find_spec("json", None) is None  # anything else: Python's own finders


@pytest.mark.parametrize("pure", ["1", ""])
def test_the_server_says_how_it_runs(pure, monkeypatch):
    """INFO server's pyredis_compiled and, when interpreted, one line in the log."""
    port = free_port()
    monkeypatch.setenv("PYREDIS_PURE", pure)  # the subprocess's environment
    with tempfile.TemporaryDirectory() as d:
        proc = start([sys.executable, "-m", "pyredis", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", d, "--logfile", os.path.join(d, "log")], port)
        try:
            r = redis.Redis(port=port)
            assert r.info("server")["pyredis_compiled"] == (0 if pure else 1)
            r.close()
        finally:
            stop(proc)
        with open(os.path.join(d, "log")) as f:
            lines = [ln for ln in f if "runs interpreted" in ln]
        assert len(lines) == (1 if pure else 0), lines
        if pure:
            assert "PYREDIS_PURE is set" in lines[0]


def test_uv_rebuilds_when_a_compiled_source_changes():
    """pyproject's [tool.uv] cache-keys name every compiled module's file (else an edit runs
    interpreted until something else triggers a build)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    keys = {k["file"] for k in tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["cache-keys"]}
    for name in compiled.MODULES:
        assert "src/" + name.replace(".", "/") + ".py" in keys, name
        pxd = "src/" + name.replace(".", "/") + ".pxd"
        assert not (root / pxd).exists() or pxd in keys, pxd  # its C types are part of the build
