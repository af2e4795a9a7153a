"""Every error text Redis sends, in one place. Error texts are API: redis-py picks exception
classes by prefix (WRONGTYPE, NOAUTH, EXECABORT, ...) and sometimes by the whole text.

Handlers raise CommandError(text); the dispatcher turns it into `-<text>\r\n`.
"""

from __future__ import annotations


class CommandError(Exception):
    """An error reply. `text` is the whole line after '-', e.g. b'ERR syntax error'."""

    def __init__(self, text: str | bytes) -> None:
        if isinstance(text, str):
            text = text.encode()
        self.text = text
        super().__init__(text)


class PersistenceError(Exception):
    """Persistence refused or failed (SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN's final save, loading
    at startup). Its text is the error reply, e.g. 'ERR Background save already in progress'."""


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
INVALID_DB = "ERR DB index is out of range"
INVALID_EXPIRE = "ERR invalid expire time in '%s' command"
NOAUTH = "NOAUTH Authentication required."
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
LOADING = "LOADING Redis is loading the dataset in memory"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
OOM_SCRIPT = "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPASS = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
OUT_OF_RANGE = "ERR index out of range"
OFFSET_RANGE = "ERR offset is out of range"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
INCR_FLOAT_NAN = "ERR increment would produce NaN or Infinity"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"


def wrong_arity(name: str) -> CommandError:
    return CommandError("ERR wrong number of arguments for '%s' command" % name)


def _cstr(b: bytes) -> bytes:
    """What C's %s prints of a Redis string: up to the first NUL."""
    z = b.find(0)
    return b if z < 0 else b[:z]


def _error_line(text: bytes) -> bytes:
    """addReplyErrorFormat: CR and LF inside the message become spaces."""
    return text.strip(b"\r\n").replace(b"\r", b" ").replace(b"\n", b" ")


def unknown_command(argv: list[bytes]) -> CommandError:
    # Redis: "'%.*s' " per argument while the list is shorter than 128 bytes (trailing space kept)
    args = b""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + _cstr(a)[: 128 - len(args)] + b"' "
    return CommandError(_error_line(
        b"ERR unknown command '" + _cstr(argv[0])[:128] + b"', with args beginning with: " + args))


def unknown_subcommand(sub: bytes, cmd: str) -> CommandError:
    return CommandError(_error_line(
        b"ERR unknown subcommand '" + _cstr(sub)[:128] + b"'. Try " + cmd.upper().encode() + b" HELP."))
