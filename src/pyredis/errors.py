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
# Sent on accept, before any command, to a non-loopback client while protected-mode is on and
# the default user has no password (Redis 7.0 networking.c clientAcceptHandler); then closed.
DENIED_PROTECTED_MODE = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
    "for the default user. In this mode connections are only accepted from the loopback interface. If you "
    "want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just "
    "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    "connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly "
    "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Redis configuration file, and setting the protected "
    "mode option to 'no', and then restarting the server. 3) If you started the server manually just for "
    "testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the "
    "default user. NOTE: You only need to do one of the above things in order for the server to start accepting "
    "connections from the outside."
)
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
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
# getPositiveLongFromObjectOrReply's text (both failures)
POSITIVE = "ERR value is out of range, must be positive"
# a count too large for the reply (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER)
VALUE_OUT_OF_RANGE = "ERR value is out of range"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
TOO_MANY_KEYS = "ERR Number of keys can't be greater than number of args"
# the COUNT of LMPOP/BLMPOP/ZMPOP/BZMPOP
COUNT_NOT_POSITIVE = "ERR count should be greater than 0"
# the COUNT of GEOSEARCH/GEORADIUS and XAUTOCLAIM
COUNT_NOT_GT_ZERO = "ERR COUNT must be > 0"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
SCRIPT_WRITE_IN_RO = "ERR Can not execute a script with write flag using *_ro command."


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
