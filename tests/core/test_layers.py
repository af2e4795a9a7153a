"""The layering of docs/architecture.md, enforced: import-linter's contracts in pyproject.toml
(layers from leaves to cli, commands and persistence as independent siblings, no asyncio below
server/). A failure lists the import chain that breaks a contract."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "pyredis layers KEPT" in out and "asyncio only in server/ and above KEPT" in out, out
