"""pyredis-check-aof and pyredis-check-rdb: report on (and repair) persistence files, in the
manner of redis-check-aof / redis-check-rdb.

    pyredis-check-aof [--fix] <file.manifest | file.aof>
    pyredis-check-rdb <dump.rdb>

check-aof: a multi-part AOF is checked through its manifest, file by file (an RDB base via the
RDB checker). A file that ends mid-command can be fixed (--fix) by truncating it to its last
complete command, after confirmation, as redis-check-aof does; corruption in the middle is
reported with its offset and is not "fixed" by throwing data away silently.
"""

from __future__ import annotations

import os
import sys

from ..rdb import RdbError, load_bytes
from .aof import AofFormatError, Manifest, ManifestError, scan_commands


def _fresh_state():
    from ..config import Config
    from ..core.state import ServerState

    cfg = Config()
    cfg.values["databases"] = 1 << 16  # accept any SELECTDB while checking
    return ServerState(cfg)


def check_rdb_bytes(data: bytes, name: str, out) -> bool:
    out.write(f"[offset 0] Checking RDB file {name}\n")
    state = _fresh_state()
    try:
        info = load_bytes(data, state, source=name, skip_expired=False)
    except RdbError as e:
        out.write("--- RDB ERROR DETECTED ---\n")
        out.write(f"[additional info] {e}\n")
        return False
    out.write(f"[offset 9] RDB version {info.version}\n")
    for k, v in info.aux.items():
        out.write(f"[offset 0] AUX FIELD {k.decode(errors='replace')} = '{v.decode(errors='replace')}'\n")
    out.write(f"[offset {info.end}] Checksum OK\n")
    out.write(f"[offset {info.end}] \\o/ RDB looks OK! \\o/\n")
    expires = sum(len(db.expires) for db in state.dbs)
    out.write(f"[info] {info.keys} keys read\n[info] {expires} expires\n")
    if info.functions:
        out.write(f"[info] {len(info.functions)} function libraries\n")
    return True


def _check_aof_file(path: str, fix: bool, out, is_last: bool, confirm) -> bool:
    name = os.path.basename(path)
    with open(path, "rb") as f:
        data = f.read()
    start = 0
    if data[:5] == b"REDIS":
        out.write("Start to check BASE AOF (RDB format).\n")
        state = _fresh_state()
        try:
            info = load_bytes(data, state, source=name, skip_expired=False)
        except RdbError as e:
            out.write(f"RDB preamble of AOF file is not sane, aborting: {e}\n")
            return False
        out.write("RDB preamble is OK, proceeding with AOF tail...\n")
        start = info.end
    good = start
    lines = 0
    try:
        for argv, end in scan_commands(data, start):
            good = end
            lines += 1 + 2 * len(argv)
    except AofFormatError as e:
        diff = len(data) - good
        out.write(f"AOF analyzed: filename={name}, size={len(data)}, ok_up_to={good}, ok_up_to_line={lines}, diff={diff}\n")
        if not e.truncated:
            out.write(f"{e} {name} at offset {e.offset}\n")
            out.write(f"AOF {name} format error (corruption in the middle): not fixable by truncation\n")
            return False
        if not fix:
            out.write(f"AOF {name} is not valid. Use the --fix option to try fixing it.\n")
            return False
        if not is_last:
            out.write(f"AOF {name} is truncated but is not the last file: refusing to drop data in the middle\n")
            return False
        out.write(f"This will shrink the AOF {name} from {len(data)} bytes, with {diff} bytes, to {good} bytes\n")
        if not confirm():
            out.write("Aborted.\n")
            return False
        os.truncate(path, good)
        out.write(f"Successfully truncated AOF {name}\n")
        return True
    out.write(f"AOF analyzed: filename={name}, size={len(data)}, ok_up_to={good}, ok_up_to_line={lines}, diff=0\n")
    out.write(f"AOF {name} is valid\n")
    return True


def _confirm() -> bool:
    sys.stdout.write("Continue? [y/N]: ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer.startswith("y")


def main_check_aof(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fix = False
    if args and args[0] == "--fix":
        fix = True
        args.pop(0)
    if len(args) != 1:
        sys.stderr.write("Usage: pyredis-check-aof [--fix] <file.manifest|file.aof>\n")
        return 1
    path = args[0]
    out = sys.stdout
    if not os.path.exists(path):
        out.write(f"Cannot open file: {path}\n")
        return 1
    if path.endswith(".manifest"):
        out.write("Start checking Multi Part AOF\n")
        try:
            m = Manifest.load(path)
        except (ManifestError, OSError) as e:
            out.write(f"Invalid AOF manifest: {e}\n")
            return 1
        d = os.path.dirname(os.path.abspath(path))
        files = ([m.base] if m.base else []) + m.incrs
        ok = True
        for i, info in enumerate(files):
            p = os.path.join(d, info.name)
            if not os.path.exists(p):
                out.write(f"AOF file {info.name} doesn't exist\n")
                return 1
            out.write(f"Start to check {'BASE' if info.type == 'b' else 'INCR'} AOF {info.name}.\n")
            ok = _check_aof_file(p, fix, out, i == len(files) - 1, _confirm) and ok
        out.write("All AOF files and manifest are valid\n" if ok else "")
        return 0 if ok else 1
    return 0 if _check_aof_file(path, fix, out, True, _confirm) else 1


def main_check_rdb(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("Usage: pyredis-check-rdb <rdb-file-name>\n")
        return 1
    try:
        with open(args[0], "rb") as f:
            data = f.read()
    except OSError as e:
        sys.stdout.write(f"Cannot open file: {args[0]}: {e.strerror}\n")
        return 1
    return 0 if check_rdb_bytes(data, args[0], sys.stdout) else 1
