"""ACL: SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT GENPASS LOG DRYRUN SAVE LOAD HELP.

The users, rules, checks and the log live in core/acl.py (state.acl); this module is the
command's replies, worded as Redis 7.0's aclCommand.
"""

from __future__ import annotations

import os

from ..core.acl import (
    DENIED_CHANNEL,
    DENIED_CMD,
    DENIED_KEY,
    REASONS,
    RuleError,
    bits,
    check_user,
    has_spaces,
    lookup_argv,
    merge_selector_args,
    redact,
)
from ..core.args import to_int
from ..core.client import Client
from ..core.spec import ACL_ORDER, command, container
from ..errors import CommandError
from ..protocol.replies import OK, Double, SetReply
from ._server_common import help_reply

container("ACL", group="server", summary="A container for Access List Control commands.", since="6.0.0")

_ADMIN = "admin noscript loading stale"
_NOT_INT = "ERR value is not an integer or out of range"


def _s(b: bytes) -> bytes:
    """An argument in an error text: a C string there (it ends at a NUL byte), newlines
    turned into spaces as addReplyErrorFormat does."""
    return b.split(b"\0", 1)[0].replace(b"\r", b" ").replace(b"\n", b" ")


def _syntax(ctx: Client) -> CommandError:
    return CommandError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try ACL HELP."
                        % _s(ctx.argv[1]))


@command("ACL|SETUSER", arity=-3, flags=_ADMIN, group="server", since="6.0.0")
def acl_setuser(ctx: Client, username: bytes, *rules: bytes):
    """Creates and modifies an ACL user and its rules."""
    redact(ctx, *range(2, len(ctx.argv)))
    if has_spaces(username):
        raise CommandError("ERR Usernames can't contain spaces or null characters")
    merged, bad = merge_selector_args(list(rules))
    if merged is None:
        raise CommandError(b"ERR Unmatched parenthesis in acl selector starting at '%s'." % _s(rules[bad]))
    try:
        ctx.server.acl.set_user(username, merged)
    except RuleError as e:
        raise CommandError(b"ERR Error in ACL SETUSER modifier '%s': %s" % (_s(e.op), str(e).encode())) from None
    return OK


@command("ACL|DELUSER", arity=-3, flags=_ADMIN, group="server", since="6.0.0")
def acl_deluser(ctx: Client, *names: bytes):
    """Deletes ACL users, and terminates their connections."""
    if b"default" in names:
        raise CommandError("ERR The 'default' user cannot be removed")
    acl = ctx.server.acl
    return sum(1 for n in names if acl.delete_user(n))


def _selector_map(s, absent: int) -> dict:
    return {b"commands": s.describe_commands(absent), b"keys": b" ".join(s.describe_keys()),
            b"channels": b" ".join(s.describe_channels())}


@command("ACL|GETUSER", arity=3, flags=_ADMIN, group="server", since="6.0.0")
def acl_getuser(ctx: Client, username: bytes):
    """Lists the ACL rules of a user."""
    u = ctx.server.acl.users.get(username)
    if u is None:
        return None
    out = {b"flags": SetReply(u.flags()), b"passwords": list(u.passwords)}
    absent = ctx.server.acl.absent
    out.update(_selector_map(u.root, absent))
    out[b"selectors"] = [_selector_map(s, absent) for s in u.selectors[1:]]
    return out


@command("ACL|LIST", arity=2, flags=_ADMIN, group="server", since="6.0.0")
def acl_list(ctx: Client):
    """Dumps the effective rules in ACL file format."""
    acl = ctx.server.acl
    return [b"user " + u.name + b" " + u.describe(acl.absent) for u in acl.sorted_users()]


@command("ACL|USERS", arity=2, flags=_ADMIN, group="server", since="6.0.0")
def acl_users(ctx: Client):
    """Lists all ACL users."""
    return [u.name for u in ctx.server.acl.sorted_users()]


@command("ACL|WHOAMI", arity=2, flags="noscript loading stale", group="server", since="6.0.0")
def acl_whoami(ctx: Client):
    """Returns the authenticated username of the current connection."""
    return ctx.acl_user.name


def _no_aclfile(ctx: Client) -> str:
    path = ctx.server.config["aclfile"]
    if not path:
        raise CommandError(
            "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the "
            "ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file "
            "set) in order to store users in the Redis configuration.")
    return path


@command("ACL|LOAD", arity=2, flags=_ADMIN, group="server", since="6.0.0")
def acl_load(ctx: Client):
    """Reloads the rules from the configured ACL file."""
    err = ctx.server.acl.load_file(_no_aclfile(ctx))
    if err is not None:
        raise CommandError("ERR " + err)
    return OK


@command("ACL|SAVE", arity=2, flags=_ADMIN, group="server", since="6.0.0")
def acl_save(ctx: Client):
    """Saves the effective ACL rules in the configured ACL file."""
    if not ctx.server.acl.save_file(_no_aclfile(ctx)):
        raise CommandError("ERR There was an error trying to save the ACLs. Please check the server logs for "
                           "more information")
    return OK


@command("ACL|CAT", arity=-2, flags="noscript loading stale", group="server", since="6.0.0")
def acl_cat(ctx: Client, *args: bytes):
    """Lists the ACL categories, or the commands inside a category."""
    if not args:
        return [c.encode() for c in ACL_ORDER]
    if len(args) > 1:
        raise _syntax(ctx)
    cat = args[0].decode("latin-1").lower()
    if cat not in ACL_ORDER:
        raise CommandError(b"ERR Unknown category '%s'" % _s(args[0][:128]))
    # in the order of every declared command, those of the server's mode (as that mode declares them)
    from ..core.commandtable import mode_specs

    b = bits()
    absent = ctx.server.acl.absent
    mine = {s.fullname: s for s in mode_specs(ctx.server.compat)}
    return [s.fullname.encode() for s in b.specs
            if not b.bit(s) & absent and cat in mine.get(s.fullname, s).acl]


@command("ACL|GENPASS", arity=-2, flags="noscript loading stale", group="server", since="6.0.0")
def acl_genpass(ctx: Client, *args: bytes):
    """Generates a pseudorandom, secure password that can be used to identify ACL users."""
    if len(args) > 1:
        raise _syntax(ctx)
    n = to_int(args[0], _NOT_INT) if args else 256
    if n <= 0 or n > 4096:
        raise CommandError("ERR ACL GENPASS argument must be the number of bits for the output password, a "
                           "positive number up to 4096")
    chars = (n + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("ACL|LOG", arity=-2, flags=_ADMIN, group="server", since="6.0.0")
def acl_log(ctx: Client, *args: bytes):
    """Lists recent security events generated due to ACL rules."""
    if len(args) > 1:
        raise _syntax(ctx)
    acl = ctx.server.acl
    count = 10
    if args:
        if args[0].lower() == b"reset":
            acl.log.clear()
            return OK
        count = max(0, to_int(args[0], _NOT_INT))
    import time

    now = int(time.time() * 1000)
    return [{b"count": e.count, b"reason": REASONS[e.reason], b"context": e.context, b"object": e.object,
             b"username": e.username, b"age-seconds": Double((now - e.ctime) / 1000),
             b"client-info": e.cinfo} for e in acl.log[:count]]


@command("ACL|DRYRUN", arity=-4, flags=_ADMIN, group="server", since="7.0.0")
def acl_dryrun(ctx: Client, username: bytes, *argv: bytes):
    """Simulates the execution of a command by a user, without executing the command."""
    u = ctx.server.acl.users.get(username)
    if u is None:
        raise CommandError(b"ERR User '%s' not found" % _s(username))
    argv_l = list(argv)
    spec = lookup_argv(argv_l, ctx.server.commands)
    if spec is None:
        raise CommandError(b"ERR Command '%s' not found" % _s(argv[0]))
    n = len(argv_l)
    if (spec.arity > 0 and spec.arity != n) or n < -spec.arity:
        raise CommandError("ERR wrong number of arguments for '%s' command" % spec.fullname)
    r, pos = check_user(u, spec, argv_l)
    if r != 0 and ctx.server.compat.at_least("7.2"):  # "User <name>" where 7.0 says "This user"
        who = b"User " + u.name
        if r == DENIED_CMD:
            return who + b" has no permissions to run the '%s' command" % spec.fullname.encode()
        what = b"key" if r == DENIED_KEY else b"channel"
        return who + b" has no permissions to access the '%s' %s" % (argv[pos], what)
    if r == DENIED_CMD:
        return b"This user has no permissions to run the '%s' command" % spec.fullname.encode()
    if r == DENIED_KEY:
        return b"This user has no permissions to access the '%s' key" % argv[pos]
    if r == DENIED_CHANNEL:
        return b"This user has no permissions to access the '%s' channel" % argv[pos]
    return OK


@command("ACL|HELP", arity=2, flags="loading stale", group="server", since="6.0.0")
def acl_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    return help_reply([
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ])
