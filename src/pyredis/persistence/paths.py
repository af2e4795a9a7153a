"""Where one server's data files are, read from its config at each call (CONFIG SET dir,
dbfilename, appenddirname or appendfilename apply to the next file written).

API:
    data_dir(cfg)                 # absolute `dir`
    rdb_path(cfg)                 # <dir>/<dbfilename>
    aof_dir(cfg)                  # <dir>/<appenddirname>
    manifest_path(cfg)            # <aof dir>/<appendfilename>.manifest
    aof_file(cfg, info)           # <aof dir>/<name of a manifest entry>
    base_name(cfg, seq)           # <appendfilename>.<seq>.base.rdb (or .aof without the RDB preamble)
    incr_name(cfg, seq)           # <appendfilename>.<seq>.incr.aof
    legacy_aof_path(cfg)          # <dir>/<appendfilename>: the single-file AOF of Redis < 7
"""

from __future__ import annotations

import os

from .aof import AofInfo


def data_dir(cfg) -> str:
    return os.path.abspath(cfg["dir"] or ".")


def rdb_path(cfg) -> str:
    return os.path.join(data_dir(cfg), cfg["dbfilename"])


def aof_dir(cfg) -> str:
    return os.path.join(data_dir(cfg), cfg["appenddirname"])


def manifest_path(cfg) -> str:
    return os.path.join(aof_dir(cfg), cfg["appendfilename"] + ".manifest")


def aof_file(cfg, info: AofInfo) -> str:
    return os.path.join(aof_dir(cfg), info.name)


def base_name(cfg, seq: int) -> str:
    ext = "rdb" if cfg["aof-use-rdb-preamble"] else "aof"
    return f"{cfg['appendfilename']}.{seq}.base.{ext}"


def incr_name(cfg, seq: int) -> str:
    return f"{cfg['appendfilename']}.{seq}.incr.aof"


def legacy_aof_path(cfg) -> str:
    return os.path.join(data_dir(cfg), cfg["appendfilename"])
