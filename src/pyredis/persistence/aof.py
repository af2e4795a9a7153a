"""The append-only file in Redis 7's multi-part layout.

    <dir>/<appenddirname>/
        <appendfilename>.manifest            which files make up the AOF, in order
        <appendfilename>.<n>.base.rdb        the base: an RDB (aof-use-rdb-preamble yes) ...
        <appendfilename>.<n>.base.aof        ... or commands (aof-use-rdb-preamble no)
        <appendfilename>.<m>.incr.aof        commands appended since that base

Manifest lines, as Redis writes them: `file <name> seq <n> type <b|h|i>` (b base, h history,
i incremental). Loading replays the base, then every incr file in order.

API:
    m = Manifest.load(path) / Manifest.empty(); m.write(path) (atomic; ManifestWriteError: Redis's line); m.base, m.incrs
    encode_command(argv) -> bytes
    scan_commands(data, start) -> iterator of (argv, end_offset); raises AofFormatError(offset)
    iter_batches(data, start) -> iterator of (argvs, end offsets): the same commands, read fast
"""

from __future__ import annotations

import os

from ..protocol.parser import _COMPILED, NO_LIMIT, scan_multibulk
from ..rdb import fsync_dir
from ..util import sdscatrepr, sdssplitargs_str


class AofFormatError(ValueError):
    def __init__(self, msg: str, offset: int, truncated: bool) -> None:
        super().__init__(msg)
        self.offset = offset
        self.truncated = truncated  # True when the data simply ends mid-command


class AofInfo:
    __slots__ = ("name", "seq", "type")

    def __init__(self, name: str, seq: int, type_: str) -> None:
        self.name = name
        self.seq = seq
        self.type = type_

    def line(self) -> str:
        return f"file {_quote(self.name)} seq {self.seq} type {self.type}\n"


def _quote(name: str) -> str:
    """aofInfoFormat: the name as it is, or sdscatrepr'd when sdsneedsrepr says so."""
    raw = name.encode("utf-8", "surrogateescape")
    if all(32 < c < 127 and c not in b'\\"' for c in raw):
        return name
    return sdscatrepr(raw)


class ManifestError(ValueError):
    """aofLoadManifestFromFile's error: its text, and the line it is about (or None)."""

    def __init__(self, msg: str, lineno: int = 0, line: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.lineno = lineno
        self.line = line

    def log_lines(self) -> list[str]:
        """What Redis logs before exit(1)."""
        out = ["\n*** FATAL AOF MANIFEST FILE ERROR ***\n"]
        if self.line is not None:
            out += [f"Reading the manifest file, at line {self.lineno}\n", f">>> '{self.line}'\n"]
        return out + [f"{self.msg}\n"]


class ManifestWriteError(OSError):
    """The manifest could not be written: str() is the line Redis logs (writeAofManifestFile)."""

    def __str__(self) -> str:
        return self.strerror


class Manifest:
    def __init__(self) -> None:
        self.base: AofInfo | None = None
        self.incrs: list[AofInfo] = []
        self.history: list[AofInfo] = []
        self.curr_base_seq = 0
        self.curr_incr_seq = 0
        self.dirty = False  # changed since read or written (persistAofManifest writes only then)

    @classmethod
    def load(cls, path: str) -> Manifest:
        """aofLoadManifestFromFile, line by line (fgets of 1024 bytes); OSError when the file
        cannot be read, ManifestError(text, line number, line) when it is not a manifest."""
        m = cls()
        with open(path, "rb") as f:
            data = f.read()
        if not data:
            raise ManifestError("Found an empty AOF manifest")
        maxseq = 0
        pos = 0
        lineno = 0
        while pos < len(data):
            nl = data.find(b"\n", pos, pos + 1024)
            raw = data[pos:pos + 1024] if nl < 0 else data[pos:nl + 1]
            pos += len(raw)
            lineno += 1
            if raw[:1] == b"#":
                continue
            if nl < 0:
                raise ManifestError("The AOF manifest file contains too long line")
            line = raw.strip(b" \t\r\n").decode("utf-8", "surrogateescape")
            bad = ManifestError("Invalid AOF manifest file format", lineno, line)
            if not line:
                raise bad
            words = sdssplitargs_str(line)
            if words is None or len(words) < 6 or len(words) % 2:
                raise bad
            name, seq, type_ = None, 0, ""
            for k, v in zip(words[0::2], words[1::2]):
                k = k.lower()
                if k == "file":
                    name = v
                    if "/" in v or "\\" in v:
                        raise ManifestError("File can't be a path, just a filename", lineno, line)
                elif k == "seq":
                    seq = _atoll(v)
                elif k == "type":
                    type_ = v[:1]
            if name is None or not seq or not type_:
                raise bad
            info = AofInfo(name, seq, type_)
            if type_ == "b":
                if m.base is not None:
                    raise ManifestError("Found duplicate base file information", lineno, line)
                m.base = info
                m.curr_base_seq = seq
            elif type_ == "h":
                m.history.append(info)
            elif type_ == "i":
                if seq <= maxseq:
                    raise ManifestError("Found a non-monotonic sequence number", lineno, line)
                m.incrs.append(info)
                m.curr_incr_seq = maxseq = seq
            else:
                raise ManifestError("Unknown AOF file type", lineno, line)
        return m

    def text(self) -> str:
        lines = []
        if self.base is not None:
            lines.append(self.base.line())
        lines += [h.line() for h in self.history]
        lines += [i.line() for i in self.incrs]
        return "".join(lines)

    def write(self, path: str) -> None:
        """writeAofManifestFile: temp-<name> in the same folder, fsync, rename over the
        manifest. ManifestWriteError (an OSError) carries the line Redis logs."""
        folder, name = os.path.split(path)
        tmp_name = f"temp-{name}"
        tmp = os.path.join(folder, tmp_name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        except OSError as e:
            raise ManifestWriteError(e.errno, f"Can't open the AOF manifest file {tmp_name}: {e.strerror}") from None
        try:
            try:
                os.write(fd, self.text().encode("utf-8", "surrogateescape"))
            except OSError as e:
                raise ManifestWriteError(
                    e.errno, f"Error trying to write the temporary AOF manifest file {tmp_name}: {e.strerror}") from None
            try:
                os.fsync(fd)
            except OSError as e:
                raise ManifestWriteError(e.errno, f"Fail to fsync the temp AOF file {tmp_name}: {e.strerror}.") from None
        finally:
            os.close(fd)
        try:
            os.rename(tmp, path)
        except OSError as e:
            raise ManifestWriteError(e.errno, f"Error trying to rename the temporary AOF manifest file {tmp_name} "
                                              f"into {name}: {e.strerror}") from None
        fsync_dir(os.path.abspath(folder))

    def copy(self) -> Manifest:
        m = Manifest()
        m.base = self.base
        m.incrs = list(self.incrs)
        m.history = list(self.history)
        m.curr_base_seq = self.curr_base_seq
        m.curr_incr_seq = self.curr_incr_seq
        m.dirty = self.dirty
        return m


def _atoll(t: str) -> int:
    """atoll: leading spaces, a sign, the digits that follow (0 when none)."""
    t = t.lstrip(" \t\n\v\f\r")
    sign = -1 if t[:1] == "-" else 1
    t = t[1:] if t[:1] in "+-" else t
    n = 0
    for c in t:
        if not "0" <= c <= "9":
            break
        n = n * 10 + ord(c) - 48
    return sign * n


def encode_command(argv: list[bytes]) -> bytes:
    """The canonical RESP multibulk of argv (what the AOF and the replication stream carry).
    Up to four arguments one formatting operation (SET key value: the AOF's common case)."""
    n = len(argv)
    if n == 3:
        a, b, c = argv
        return b"*3\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(a), a, len(b), b, len(c), c)
    if n == 2:
        a, b = argv
        return b"*2\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(a), a, len(b), b)
    if n == 4:
        a, b, c, d = argv
        return b"*4\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
            len(a), a, len(b), b, len(c), c, len(d), d)
    parts = [b"*%d\r\n" % n]
    for a in argv:
        parts.append(b"$%d\r\n" % len(a))
        parts.append(a)
        parts.append(b"\r\n")
    return b"".join(parts)


def scan_commands(data: bytes, start: int = 0):
    """Strict RESP multibulk reader over an AOF: yields (argv, end offset). `#...` annotation
    lines (aof-timestamp-enabled) are skipped, as Redis does."""
    pos = start
    n = len(data)
    while pos < n:
        cmd_start = pos
        c = data[pos]
        if c == 35:  # '#': annotation
            nl = data.find(b"\n", pos)
            if nl < 0:
                raise AofFormatError("Unexpected end of file reading the append only file", cmd_start, True)
            pos = nl + 1
            continue
        if c != 42:
            raise AofFormatError("Bad file format reading the append only file", cmd_start, False)
        nl = data.find(b"\r\n", pos)
        if nl < 0:
            raise AofFormatError("Unexpected end of file reading the append only file", cmd_start, True)
        try:
            argc = int(data[pos + 1 : nl])
        except ValueError:
            raise AofFormatError("Bad file format reading the append only file", cmd_start, False) from None
        if argc < 1:
            raise AofFormatError("Bad file format reading the append only file", cmd_start, False)
        pos = nl + 2
        argv = []
        for _ in range(argc):
            if pos >= n:
                raise AofFormatError("Unexpected end of file reading the append only file", cmd_start, True)
            if data[pos] != 36:
                raise AofFormatError("Bad file format reading the append only file", cmd_start, False)
            nl = data.find(b"\r\n", pos)
            if nl < 0:
                raise AofFormatError("Unexpected end of file reading the append only file", cmd_start, True)
            try:
                ln = int(data[pos + 1 : nl])
            except ValueError:
                raise AofFormatError("Bad file format reading the append only file", cmd_start, False) from None
            pos = nl + 2
            if pos + ln + 2 > n:
                raise AofFormatError("Unexpected end of file reading the append only file", cmd_start, True)
            if data[pos + ln : pos + ln + 2] != b"\r\n":
                raise AofFormatError("Bad file format reading the append only file", cmd_start, False)
            argv.append(data[pos : pos + ln])
            pos += ln + 2
        yield argv, pos


def iter_batches(data: bytes, start: int = 0, batch: int = 1024):
    """The commands of an AOF from `start`, in batches: yields (commands, end offset of each).
    Canonical commands are read fast (the request parser's byte loop, scan_multibulk with the
    AOF's rules, in the compiled build; hiredis interpreted, where it is faster); at the first
    command the fast reader cannot vouch for, the strict reader (scan_commands) takes over from
    that offset, to report damage (AofFormatError) or skip an annotation with exact offsets, and
    the fast reader resumes after it."""
    n = len(data)
    pos = start
    while pos < n:
        if _COMPILED:
            cmds, ends, pos = scan_multibulk(data, pos, batch, NO_LIMIT, True)
            if cmds:
                yield cmds, ends
                continue
        else:
            pos = yield from _hiredis_batches(data, pos, batch)
        if pos >= n:
            break
        # one step of the strict reader: a command the fast reader refused (or raise)
        for argv, end in scan_commands(data, pos):
            yield [argv], [end]
            pos = end
            break
        else:
            break  # only annotation lines were left


def _hiredis_batches(data: bytes, pos: int, batch: int):
    """scan_multibulk's contract (AOF rules) through hiredis's C reader: yields batches of
    (commands, end offsets) and returns the offset it stopped at. Each command is checked to be exactly its
    canonical encoding at the expected offset (hiredis skips the CRLF after a bulk unchecked)."""
    import hiredis

    n = len(data)
    reader = hiredis.Reader()
    # fed in slices: hiredis moves its unread buffer down as it consumes
    view = memoryview(data)
    fed = pos
    off = pos
    cmds: list = []
    ends: list = []
    try:
        while True:
            req = reader.gets()
            if req is False:
                if fed >= n:
                    break
                reader.feed(view[fed:fed + 65536])
                fed += 65536
                continue
            if type(req) is not list or not req:
                break
            enc = encode_command(req)
            if not data.startswith(enc, off):
                break
            off += len(enc)
            cmds.append(req)
            ends.append(off)
            if len(cmds) >= batch:
                yield cmds, ends
                cmds = []
                ends = []
    except (hiredis.ProtocolError, TypeError):
        pass
    del view
    if cmds:
        yield cmds, ends
    return off
