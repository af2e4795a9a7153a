"""Build hook: compiles pyredis's hot path with Cython (pure-Python mode) when it can.

The modules are the ones src/pyredis/compiled.py lists in MODULES; their `.py` files are
compiled unchanged (they stay the reference implementation, see compiled.py).

- `uv sync` / `uv run` (an editable install): the extensions are written next to their `.py`
  files in src/ (git ignores them), where the import system finds them; the package's
  bytecode is written too (precompile_bytecode).
- `uv build` (a wheel): the extensions go into the wheel, which is then tagged for this
  interpreter and platform.
- No C compiler, no Cython, a failed compile, or PYREDIS_NO_COMPILE=1: a warning, and the
  package installs interpreted (pyredis says so in its log and in INFO server).
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent
SRC = ROOT / "src"


def compiled_modules() -> list[str]:
    """MODULES of src/pyredis/compiled.py, read without importing the package."""
    tree = ast.parse((SRC / "pyredis" / "compiled.py").read_text())
    for node in tree.body:
        target = getattr(node, "target", None) or (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "MODULES":
            return list(ast.literal_eval(node.value))
    raise RuntimeError("MODULES not found in src/pyredis/compiled.py")


def build_extensions(modules: list[str], out_dir: Path) -> list[tuple[Path, str]]:
    """Cythonize and compile `modules` into out_dir; returns (file, path inside the package
    tree) for each extension."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    work = Path(tempfile.mkdtemp(prefix="pyredis-cython-"))
    try:
        exts = [Extension(m, [str(SRC / (m.replace(".", "/") + ".py"))], extra_compile_args=["-g0"])
                for m in modules]  # (-g0: no debug info, a sixth of the size; Python's own -O3 stays)
        exts = cythonize(exts, build_dir=str(work / "c"), quiet=True, language_level=3,
                         # annotations stay documentation: typed (cfg: dict) would refuse a Config
                         compiler_directives={"binding": True, "embedsignature": False, "annotation_typing": False})
        dist = Distribution({"name": "pyredis-hot-path", "ext_modules": exts})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = str(work / "lib")
        cmd.build_temp = str(work / "tmp")
        cmd.parallel = os.cpu_count() or 1
        cmd.ensure_finalized()
        cmd.run()
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        made = []
        for m in modules:
            rel = m.replace(".", "/") + suffix
            dst = out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "lib" / rel, dst)
            made.append((dst, rel))
        return made
    finally:
        shutil.rmtree(work, ignore_errors=True)


def precompile_bytecode() -> None:
    """The package's .pyc files beside its sources (__pycache__, git ignores them), written at
    install as `uv sync --compile-bytecode` does for site-packages: a start then reads them
    instead of compiling every module, even where PYTHONDONTWRITEBYTECODE keeps Python from
    caching what it compiles (0.35 s -> 0.15 s to the first PONG on our machines). A stale
    .pyc is never used: Python checks each against its source's mtime and size."""
    import compileall

    compileall.compile_dir(str(SRC / "pyredis"), quiet=2)


class CompileHotPath(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        modules = compiled_modules()
        if version == "editable":
            precompile_bytecode()
            # forget earlier builds first: a failed build runs interpreted
            for m in modules:
                for old in (SRC / m.replace(".", "/")).parent.glob(m.rpartition(".")[2] + ".*.so"):
                    old.unlink()
        if os.environ.get("PYREDIS_NO_COMPILE", "").strip().lower() in ("1", "yes", "true", "on"):
            self.app.display_warning("pyredis: PYREDIS_NO_COMPILE is set: installing the interpreted modules only")
            return
        out_dir = SRC if version == "editable" else Path(tempfile.mkdtemp(prefix="pyredis-ext-"))
        self._tmp = None if version == "editable" else out_dir
        try:
            made = build_extensions(modules, out_dir)
        except BaseException as e:  # noqa: BLE001  (a compiler's SystemExit included: fall back)
            if isinstance(e, KeyboardInterrupt):
                raise
            self.app.display_warning(f"pyredis: could not compile the hot path ({type(e).__name__}: {e}); "
                                     "installing the interpreted modules only (pyredis_compiled:0)")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            for path, rel in made:
                build_data["force_include"][str(path)] = rel
        self.app.display_info(f"pyredis: compiled {len(made)} hot-path modules with Cython ({sys.implementation.cache_tag})")

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
