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


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
INVALID_DB = "ERR DB index is out of range"
INVALID_EXPIRE = "ERR invalid expire time in '%s' command"
NOAUTH = "NOAUTH Authentication required."
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


def unknown_command(argv: list[bytes]) -> CommandError:
    name = argv[0].decode("utf-8", "replace")
    shown = " ".join("'%s'" % a.decode("utf-8", "replace")[:128] for a in argv[1:])
    # Redis prints at most 128 characters of each argument and of the arguments list.
    return CommandError("ERR unknown command '%s', with args beginning with: %s" % (name[:128], shown))


def unknown_subcommand(sub: bytes, cmd: str) -> CommandError:
    return CommandError(
        "ERR unknown subcommand '%s'. Try %s HELP." % (sub.decode("utf-8", "replace")[:128], cmd.upper())
    )
