"""pyredis-check-aof and pyredis-check-rdb: report on (and repair) persistence files, in the
manner of redis-check-aof / redis-check-rdb.

    pyredis-check-aof [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>
    pyredis-check-rdb <dump.rdb>

check-aof is redis-check-aof 7.0's (the same output, exit status and truncations): a multi-part
AOF is checked through its manifest, file by file (an RDB base via the RDB checker); the first
thing it cannot read is reported with its offset, and --fix truncates the file there (the last
file only) after confirmation, as redis-check-aof does; --truncate-to-timestamp TS cuts the
last file at its first `#TS:` annotation later than TS (aof-timestamp-enabled writes them).
"""

from __future__ import annotations

import os
import sys

from ..rdb import RdbError, load_bytes, rdb_versions
from .aof import Manifest, ManifestError


def _fresh_state():
    from ..config import Config
    from ..core.state import ServerState

    cfg = Config()
    cfg.values["databases"] = 1 << 16  # accept any SELECTDB while checking
    return ServerState(cfg)


def check_rdb_bytes(data: bytes, name: str, out):
    """redis-check-rdb's report on an RDB (or an AOF's RDB preamble): the RdbInfo, or None
    when it is not sane."""
    out.write(f"[offset 0] Checking RDB file {name}\n")
    state = _fresh_state()

    def counts() -> None:
        import time

        now = int(time.time() * 1000)
        keys = sum(len(db.data) for db in state.dbs)
        expires = sum(len(db.expires) for db in state.dbs)
        expired = sum(1 for db in state.dbs for when in db.expires.values() if when < now)
        out.write(f"[info] {keys} keys read\n[info] {expires} expires\n[info] {expired} already expired\n")

    header = None  # rdbLoadRio's checks of the first 9 bytes, in redis-check-rdb's words
    if len(data) < 9:
        header = "[offset 0] Unexpected EOF reading RDB file"
    elif data[:5] != b"REDIS":
        header = "[offset 9] Wrong signature trying to load DB from file"
    else:
        import re

        m = re.match(rb"\s*[+-]?\d+", data[5:9])
        version = int(m.group()) if m else 0
        if version < 1 or version > rdb_versions({})[1]:  # the default mode's newest
            header = f"[offset 9] Can't handle RDB format version {version}"
    if header is not None:
        out.write(f"--- RDB ERROR DETECTED ---\n{header}\n[additional info] While doing: start\n"
                  "[additional info] Reading type 0 (string)\n")
        counts()
        return None
    try:
        info = load_bytes(data, state, source=name, skip_expired=False)
    except RdbError as e:
        out.write("--- RDB ERROR DETECTED ---\n")
        out.write(f"[additional info] {e}\n")
        counts()
        return None
    events = [(at, f"AUX FIELD {k.decode(errors='replace')} = '{v.decode(errors='replace')}'")
              for k, v, at in info.aux_at]
    events += [(at, f"Selecting DB ID {n}") for n, at in info.selects]
    for at, text in sorted(events, key=lambda e: e[0]):
        out.write(f"[offset {at}] {text}\n")
    out.write(f"[offset {info.end}] Checksum OK\n")
    out.write(f"[offset {info.end}] \\o/ RDB looks OK! \\o/\n")
    counts()
    return info


class _Exit(Exception):
    """redis-check-aof's exit(code) from deep inside the check."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


_OK, _EMPTY, _TRUNCATED, _TS_TRUNCATED = range(4)  # AOF_CHECK_OK, _EMPTY, _TRUNCATED, _TIMESTAMP_TRUNCATED


class _AofChecker:
    """redis-check-aof 7.0, step for step: checkSingleAof reads RESP commands (and `#`
    annotations) from the start, remembers the last offset where a command (a whole
    MULTI ... EXEC) ended, and reports the first thing it cannot read as Redis words it;
    --fix truncates there after confirmation; --truncate-to-timestamp cuts the last file
    at the first `#TS:` annotation past the timestamp. `line` counts every line read, across
    files (a global in Redis)."""

    def __init__(self, out, fix: bool, to_timestamp: int, confirm) -> None:
        self.out = out
        self.fix = fix
        self.to_timestamp = to_timestamp
        self.confirm = confirm
        self.line = 1
        self.error = ""
        self.epos = 0

    def p(self, text: str) -> None:
        self.out.write(text + "\n")

    def _err(self, msg: str) -> None:
        self.error = "0x%16x: %s" % (self.epos, msg)

    # --- the RESP reader (readLong, readBytes, readString, processRESP) --------------------
    def _fgets(self, data: bytes, pos: int, size: int) -> bytes:
        nl = data.find(b"\n", pos, pos + size - 1)
        return data[pos:pos + size - 1] if nl < 0 else data[pos:nl + 1]

    def _newline(self, two: bytes) -> bool:
        if two[:2] != b"\r\n":
            b = (two + b"\0\0")[:2]
            self._err("Expected \\r\\n, got: %02x%02x" % (b[0], b[1]))
            return False
        self.line += 1
        return True

    def _read_long(self, data: bytes, pos: int, prefix: bytes) -> tuple[int | None, int]:
        self.epos = pos
        buf = self._fgets(data, pos, 128)
        if not buf:
            return None, pos
        pos += len(buf)
        if buf[:1] != prefix:
            self._err("Expected prefix '%s', got: '%s'" % (prefix.decode(), buf[:1].decode("latin-1")))
            return None, pos
        i = 1
        while i < len(buf) and buf[i:i + 1] in b" \t\n\v\f\r":
            i += 1
        j = i + 1 if buf[i:i + 1] in (b"+", b"-") else i
        while j < len(buf) and 48 <= buf[j] <= 57:
            j += 1
        digits = buf[i:j]
        value = int(digits) if digits.lstrip(b"+-") else 0
        if digits.lstrip(b"+-") == b"":
            j = 1  # strtol consumed nothing: eptr is right after the prefix
        value = max(-(2**63), min(2**63 - 1, value))
        if not self._newline(buf[j:j + 2]):
            return None, pos
        return value, pos

    def _process_resp(self, data: bytes, pos: int, name: str, multi: list[int]) -> tuple[bool, int]:
        argc, pos = self._read_long(data, pos, b"*")
        if argc is None:
            return False, pos
        for i in range(argc):
            n, pos = self._read_long(data, pos, b"$")
            if n is None:
                return False, pos
            if n < 0 or n > 2**63 - 3:
                self._err(f"Expected to read string of {n} bytes, which is not in the suitable range")
                return False, pos
            self.epos = pos
            got = data[pos:pos + n + 2]
            pos += len(got)
            if len(got) != n + 2:
                self._err(f"Expected to read {n + 2} bytes, got {len(got)} bytes")
                return False, pos
            if not self._newline(got[n:]):
                return False, pos
            if i == 0:
                word = got[:n].split(b"\0", 1)[0].lower()
                if word == b"multi":
                    multi[0] += 1
                    if multi[0] > 1:
                        self._err(f"Unexpected MULTI in AOF {name}")
                        return False, pos
                elif word == b"exec":
                    multi[0] -= 1
                    if multi[0]:
                        self._err(f"Unexpected EXEC in AOF {name}")
                        return False, pos
        return True, pos

    def _annotation(self, path: str, data: bytes, pos: int, last_file: bool) -> tuple[bool, int]:
        """processAnnotations: False when the file was cut at a #TS past the timestamp."""
        self.epos = pos
        buf = self._fgets(data, pos, 1024)
        if self.to_timestamp and buf.startswith(b"#TS:"):
            digits = buf[4:]
            k = 1 if digits[:1] in (b"+", b"-") else 0
            while k < len(digits) and 48 <= digits[k] <= 57:
                k += 1
            if k == 0 or digits[k:k + 1] != b"\r" or not digits[:k].lstrip(b"+-"):
                self.p("Invalid timestamp annotation")
                raise _Exit(1)
            ts = int(digits[:k])
            if ts > self.to_timestamp:
                if pos == 0:
                    self.p(f"AOF {path} has nothing before timestamp {self.to_timestamp}, aborting...")
                    raise _Exit(1)
                if not last_file:
                    self.p(f"Failed to truncate AOF {path} to timestamp {self.to_timestamp} to offset {pos} because "
                           f"it is not the last file.")
                    self.p("If you insist, please delete all files after this file according to the manifest file "
                           "and delete the corresponding records in manifest file manually. Then re-run "
                           "redis-check-aof.")
                    raise _Exit(1)
                try:
                    os.truncate(path, pos)
                except OSError:
                    self.p(f"Failed to truncate AOF {path} to timestamp {self.to_timestamp}")
                    raise _Exit(1) from None
                return False, pos + len(buf)
        return True, pos + len(buf)

    # --- checkSingleAof ---------------------------------------------------------------------
    def check_single(self, name: str, path: str, last_file: bool, preamble: bool) -> int:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            self.p(f"Cannot open file {path}: {e.strerror}, aborting...")
            raise _Exit(1) from None
        size = len(data)
        if size == 0:
            return _EMPTY
        pos = cur = 0
        if preamble:
            info = check_rdb_bytes(data, name, self.out)
            if info is None:
                self.p("RDB preamble of AOF file is not sane, aborting.")
                raise _Exit(1)
            self.p("RDB preamble is OK, proceeding with AOF tail...")
            cur = info.end
        multi = [0]
        at_eof = False
        while True:
            if not multi[0]:
                pos = cur
            if cur >= size:
                at_eof = True
                break
            first = data[cur:cur + 1]
            if first == b"#":
                ok, cur = self._annotation(path, data, cur, last_file)
                if not ok:
                    return _TS_TRUNCATED
            elif first == b"*":
                ok, cur = self._process_resp(data, cur, path, multi)
                if not ok:
                    at_eof = cur >= size and not self.error
                    break
            else:
                self.p(f"AOF {name} format error")
                break
        if at_eof and multi[0] and not self.error:
            self._err("Reached EOF before reading EXEC for MULTI")
        if self.error:
            self.p(self.error)
        diff = size - pos
        if diff == 0 and self.to_timestamp:
            self.p(f"Truncate nothing in AOF {name} to timestamp {self.to_timestamp}")
            return _OK
        self.p(f"AOF analyzed: filename={name}, size={size}, ok_up_to={pos}, ok_up_to_line={self.line}, diff={diff}")
        if diff > 0:
            if not self.fix:
                self.p(f"AOF {name} is not valid. Use the --fix option to try fixing it.")
                raise _Exit(1)
            if not last_file:
                self.p(f"Failed to truncate AOF {name} because it is not the last file")
                raise _Exit(1)
            self.p(f"This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {pos} bytes")
            self.out.write("Continue? [y/N]: ")
            if not self.confirm():
                self.p("Aborting...")
                raise _Exit(1)
            try:
                os.truncate(path, pos)
            except OSError:
                self.p(f"Failed to truncate AOF {name}")
                raise _Exit(1) from None
            return _TRUNCATED
        return _OK

    def outcome(self, kind: str, name: str, ret: int) -> None:
        prefix = f"{kind} " if kind else ""
        if ret == _OK:
            self.p(f"{prefix}AOF {name} is valid")
        elif ret == _EMPTY:
            self.p(f"{prefix}AOF {name} is empty")
        elif ret == _TS_TRUNCATED:
            self.p(f"Successfully truncated AOF {name} to timestamp {self.to_timestamp}")
        else:
            self.p(f"Successfully truncated AOF {name}")

    # --- checkMultiPartAof / checkOldStyleAof ---------------------------------------------------
    def multi_part(self, dirpath: str, manifest_path: str) -> None:
        self.p("Start checking Multi Part AOF")
        try:
            m = Manifest.load(manifest_path)
        except ManifestError as e:
            for text in e.log_lines():  # (serverLog: each message and a newline)
                self.out.write(_log_prefix() + text + "\n")
            raise _Exit(1) from None
        except OSError as e:
            self.out.write(_log_prefix() + f"Fatal error: can't open the AOF manifest {manifest_path} for reading: "
                                           f"{e.strerror}\n")
            raise _Exit(1) from None
        total = (1 if m.base else 0) + len(m.incrs)
        n = 0
        if m.base:
            path = os.path.join(dirpath, m.base.name)
            n += 1
            preamble = _file_is_rdb(path, self)
            self.p(f"Start to check BASE AOF ({'RDB' if preamble else 'RESP'} format).")
            self.outcome("BASE", m.base.name, self.check_single(m.base.name, path, n == total, preamble))
        if m.incrs:
            self.p("Start to check INCR files.")
            for info in m.incrs:
                path = os.path.join(dirpath, info.name)
                n += 1
                self.outcome("INCR", info.name, self.check_single(info.name, path, n == total, False))
        self.p("All AOF files and manifest are valid")

    def old_style(self, path: str, preamble: bool) -> None:
        self.p("Start checking Old-Style AOF")
        self.outcome("", path, self.check_single(path, path, True, preamble))


def _log_prefix() -> str:
    """serverLog's prefix in redis-check-aof (role C, warning)."""
    import time

    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
    return f"{os.getpid()}:C {stamp} # "


def _file_is_rdb(path: str, ck: _AofChecker) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(5) == b"REDIS"
    except OSError as e:
        ck.p(f"Cannot open file {path}: {e.strerror}")
        raise _Exit(1) from None


def _file_is_manifest(path: str, ck: _AofChecker) -> bool:
    """fileIsManifest: a line (not a comment) starting with `file`, anywhere in the file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        ck.p(f"Cannot open file {path}: {e.strerror}")
        raise _Exit(1) from None
    pos = 0
    found = False
    while pos < len(data):
        nl = data.find(b"\n", pos, pos + 4096)
        raw = data[pos:pos + 4096] if nl < 0 else data[pos:nl + 1]
        pos += len(raw)
        if raw[:1] != b"#" and raw.startswith(b"file"):
            found = True
    return found


def _confirm() -> bool:
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer[:1] in ("y", "Y")


USAGE = "Usage: {} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>\n"


def main_check_aof(argv: list[str] | None = None) -> int:
    """redis-check-aof's main: [--fix | --truncate-to-timestamp TS] FILE; everything goes to
    stdout; exit status 0 (valid, or fixed) or 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    fix = False
    to_timestamp = 0
    if len(args) == 1:
        path = args[0]
    elif len(args) == 2 and args[0] == "--fix":
        fix, path = True, args[1]
    elif len(args) == 3 and args[0] == "--truncate-to-timestamp":
        text = args[1]
        stripped = text.lstrip(" \t\n\v\f\r")
        body = stripped[1:] if stripped[:1] in "+-" else stripped
        # strtol: the whole argument read (an empty one is 0), no overflow
        if text and (not body or not body.isascii() or not body.isdigit() or not -(2**63) <= int(stripped) < 2**63):
            out.write("Invalid timestamp, aborting...\n")
            return 1
        to_timestamp = int(stripped) if text else 0
        path = args[2]
    else:
        out.write(USAGE.format("pyredis-check-aof"))
        return 1
    ck = _AofChecker(out, fix, to_timestamp, _confirm)
    try:
        if _file_is_manifest(path, ck):
            ck.multi_part(os.path.dirname(path) or ".", path)
        else:
            ck.old_style(path, _file_is_rdb(path, ck))
    except _Exit as e:
        out.flush()
        return e.code
    out.flush()
    return 0


def main_check_rdb(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("Usage: pyredis-check-rdb <rdb-file-name>\n")
        return 1
    try:
        with open(args[0], "rb") as f:
            data = f.read()
    except OSError:  # redis-check-rdb: the first line, then exit status 1
        sys.stdout.write(f"[offset 0] Checking RDB file {args[0]}\n")
        return 1
    return 0 if check_rdb_bytes(data, args[0], sys.stdout) is not None else 1
