"""The reference servers of each compat-version mode, for differential tests.

    ORACLES["7.2"]          # path of the mode's server binary, or None when it is not here
    oracle_binary("7.2")    # that path; skips the test locally (fails in CI) when it is absent
    ALL_MODES               # ("7.0", "7.2", "7.4", "valkey-8.0")
    LATER_MODES             # the modes after 7.0

7.0 is the machine's redis-server (Debian's 7.0.15). The others are built from the projects'
tagged sources into ../shared/oracles (its README), next to the repository (the worktree's
parent folder); PYREDIS_ORACLES names another folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ALL_MODES = ("7.0", "7.2", "7.4", "valkey-8.0")
LATER_MODES = ALL_MODES[1:]

REDIS_SERVER = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)

_ROOT = Path(__file__).resolve().parent.parent
_SHARED = Path(os.environ.get("PYREDIS_ORACLES") or _ROOT.parent / "shared" / "oracles")
_BUILT = {"7.2": "redis-7.2.6/redis-server", "7.4": "redis-7.4.1/redis-server",
          "valkey-8.0": "valkey-8.0.1/valkey-server"}


def _built(mode: str) -> str | None:
    p = _SHARED / _BUILT[mode]
    return str(p) if os.access(p, os.X_OK) else None


ORACLES: dict[str, str | None] = {"7.0": REDIS_SERVER, **{m: _built(m) for m in _BUILT}}
NAMES = {"7.0": "redis-server 7.0.15", "7.2": "redis-server 7.2.6", "7.4": "redis-server 7.4.1",
         "valkey-8.0": "valkey-server 8.0.1"}


def require_binary(path: str | None, what: str) -> None:
    """The one allowed skip: a reference binary (redis-server, redis-cli...) missing locally.
    In CI (CI set) a missing binary is an error, never a skip."""
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI")
        pytest.skip(f"{what} not installed: differential tests skipped (apt-get install redis-server "
                    f"redis-tools; the later releases in ../shared/oracles)")


def oracle_binary(mode: str) -> str:
    path = ORACLES[mode]
    require_binary(path, NAMES[mode])
    return path  # type: ignore[return-value]


def oracle_cli(mode: str) -> str:
    """The redis-cli (valkey-cli) next to the mode's server."""
    server = oracle_binary(mode)
    if mode == "7.0":
        cli = shutil.which("redis-cli")
        require_binary(cli, "redis-cli")
        return cli  # type: ignore[return-value]
    return str(Path(server).parent / ("valkey-cli" if mode.startswith("valkey") else "redis-cli"))
