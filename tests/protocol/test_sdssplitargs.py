"""sdssplitargs (protocol/parser.py): the one splitter of the inline protocol, redis.conf, the AOF
manifest, script shebangs, FUNCTION library metadata and pyredis-cli, against Redis 7.0's sds.c.

The cases are split by the function, then by redis-server itself (an inline request whose
unknown-command error lists the words it made), and the callers that had their own splitters
are checked where those differed from Redis: the whitespace set (C's isspace() between words,
only space/tab/CR/LF ending an unquoted word), `\\x` followed by something that is not two hex
digits, and the end of the C string at a NUL byte. The basic quoting cases are in
test_parser.py (test_split_args).
"""

from __future__ import annotations

import socket
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from conftest import REDIS_SERVER, require_binary
from pyredis.protocol.parser import sdssplitargs

CASES = [
    (b"a\x0bb", [b"a\x0bb"]),  # \v and \f do not end an unquoted word (Python's isspace() did)
    (b"a\x0cb c", [b"a\x0cb", b"c"]),
    (b"\x0b\x0ca\x0b", [b"a\x0b"]),  # ... but are blanks before a word (and after it: part of it)
    (b'"a"\x0bb', [b"a", b"b"]),  # ... and after a closing quote
    (b"a\x1fb", [b"a\x1fb"]),  # not C whitespace (str.isspace() says it is)
    (b"a\x1cb", [b"a\x1cb"]),
    ("a\u00a0b".encode(), ["a\u00a0b".encode()]),  # nor a UTF-8 no-break space
    (b'"a"\x1fb', None),  # so a closing quote followed by it is an error
    (b'"\\x 1"', [b"x 1"]),  # \x needs two hex digits (int(" 1", 16) would accept a space)
    (b'"\\x+a"', [b"x+a"]),
    (b'"\\x4g"', [b"x4g"]),
    (b'"\\x00\\xff"', [b"\x00\xff"]),
    (b"'a\\\\b'", [b"a\\\\b"]),  # single quotes: only \' is an escape
    (b"a\"b c\"d", None),  # a quoted part inside a word must end the word
    (b"a\"b c\" d", [b"ab c", b"d"]),
]

NUL_CASES = [
    (b"a\x00b c", [b"a"]),  # the line is a C string: it ends at the NUL
    (b"\x00a", []),
    (b'"a\x00b"', None),  # a NUL inside quotes is their unterminated end
    (b"'a\x00'", None),
]


@pytest.mark.parametrize("line,want", CASES + NUL_CASES, ids=[repr(x) for x, _ in CASES + NUL_CASES])
def test_sdssplitargs(line, want):
    assert sdssplitargs(line) == want


def _inline(port: int, line: bytes) -> bytes:
    """The reply to the inline request `NOSUCHCMD <line>`, until the server closes or is quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"NOSUCHCMD " + line + b"\r\n")
        s.settimeout(0.3)
        out = b""
        try:
            while not out.endswith(b"\r\n"):
                d = s.recv(4096)
                if not d:
                    break
                out += d
        except TimeoutError:
            pass
    return out


@pytest.mark.parametrize("line,want", CASES, ids=[repr(x) for x, _ in CASES])
def test_inline_split_same_as_redis(pyredis_srv, real_redis, line, want):
    """redis-server splits the inline line the same way: its unknown-command error names the
    words (a NUL cannot be tested inline: it hides the newline, see test_robustness.py)."""
    ours = _inline(pyredis_srv.port, line)
    assert ours == _inline(real_redis.port, line)
    if want is None:
        assert ours == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    else:
        assert ours.endswith(b"".join(b"'%s' " % w.split(b"\0")[0] for w in want) + b"\r\n")


# --- the callers whose private splitters differed -------------------------------------------
def test_function_metadata_split_as_redis(diff):
    """functionExtractLibMetaData: `name=a<VT>b` is one word, so the library name is invalid
    (the old splitter made `name=a` and an unknown `b`)."""
    code = "#!lua name=a\x0bb\nredis.register_function('f', function() return 1 end)"
    assert diff.check("FUNCTION", "LOAD", code) == b"ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"


def test_script_shebang_split_as_redis(diff):
    """evalExtractShebangFlags: `flags=no-writes<FF>x` is one word, an unknown flag."""
    diff.check("EVAL", "#!lua flags=no-writes\x0cx\nreturn 1", "0")


def test_config_line_split_as_redis(tmp_path):
    """loadServerConfigFromString: a unit separator (\\x1f) is no blank, so the line is one
    word: a bad directive for pyredis as for redis-server (str.isspace() made two words)."""
    from pyredis.config import Config, ConfigError

    require_binary(REDIS_SERVER, "redis-server")
    line = "maxmemory-policy\x1fallkeys-lru"
    conf = tmp_path / "redis.conf"
    conf.write_text(line + "\n")
    real = subprocess.run([REDIS_SERVER, str(conf)], capture_output=True, timeout=20)
    assert real.returncode != 0
    with pytest.raises(ConfigError) as e:
        Config().load_text(line + "\n")
    assert str(e.value) in (real.stdout + real.stderr).decode()


def test_aof_manifest_split_as_redis(tmp_path):
    """aofLoadManifestFromFile splits with sdssplitargs: \\xHH escapes and single quotes (the
    old splitter kept `\\x2e` as `x2e` and the quotes of 'name')."""
    from pyredis.persistence.aof import Manifest

    path = tmp_path / "appendonly.aof.manifest"
    path.write_text('file "appendonly.aof.1.base\\x2erdb" seq 1 type b\n'
                    "file 'appendonly.aof.1.incr.aof' seq 1 type i\n")
    m = Manifest.load(str(path))
    assert m.base.name == "appendonly.aof.1.base.rdb"
    assert [i.name for i in m.incrs] == ["appendonly.aof.1.incr.aof"]


@settings(max_examples=2000)
@given(st.lists(st.sampled_from([b"a", b"Z", b"9", b" ", b"\t", b"\r", b"\n", b"\x0b", b"\x0c", b"\x00", b'"', b"'",
                                 b"\\", b"x", b"\x1f", b"\xa0", b"\xff"]), max_size=24).map(b"".join))
def test_the_split_of_lines_without_quotes_is_the_loop(line):
    """A line without quotes, NUL, \\v or \\f is split by bytes.split(); any line gives what
    sdssplitargs's byte-by-byte loop gives."""
    from pyredis.protocol.parser import _split_quoted

    assert sdssplitargs(line) == _split_quoted(line)
