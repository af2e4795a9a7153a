"""Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB ..."""

from __future__ import annotations

from ..core.client import Client
from ..core.pubsub import PubSub
from ..core.spec import command, container
from ..errors import CommandError
from ..protocol.replies import MultiReply, Push
from ..util import compile_glob


def hub(ctx: Client) -> PubSub:
    h = ctx.server.pubsub
    return h


def _confirmations(ctx: Client, kind: bytes, names, action, count) -> MultiReply:
    out = MultiReply()
    for name in names:
        action(ctx, name)
        out.append(Push([kind, name, count(ctx)]))
    return out


def _count(c: Client) -> int:
    return len(c.subscriptions) + len(c.psubscriptions)


def _scount(c: Client) -> int:
    return len(c.ssubscriptions)


def _unsub_all(ctx: Client, kind: bytes, own: set, action, count) -> MultiReply:
    names = list(own)
    if not names:
        return MultiReply([Push([kind, None, count(ctx)])])
    return _confirmations(ctx, kind, names, action, count)


@command("SUBSCRIBE", arity=-2, flags="pubsub noscript loading stale", group="pubsub", since="2.0.0")
def subscribe(ctx: Client, *channels: bytes):
    """Listens for messages published to channels."""
    _deny_in_multi(ctx, "SUBSCRIBE")
    return _confirmations(ctx, b"subscribe", channels, hub(ctx).subscribe, _count)


def _nosub(ctx: Client, name: bytes) -> None:
    """Valkey 8 refuses the unsubscribe commands of a client that is not subscribed to anything."""
    if ctx.server.compat.valkey and not ctx.subscription_count:
        raise CommandError(b"NOSUB '%s' command executed not in subscribed mode" % name)


@command("UNSUBSCRIBE", arity=-1, flags="pubsub noscript loading stale", group="pubsub", since="2.0.0")
def unsubscribe(ctx: Client, *channels: bytes):
    """Stops listening to messages posted to channels."""
    _nosub(ctx, b"unsubscribe")
    if not channels:
        return _unsub_all(ctx, b"unsubscribe", ctx.subscriptions, hub(ctx).unsubscribe, _count)
    return _confirmations(ctx, b"unsubscribe", channels, hub(ctx).unsubscribe, _count)


@command("PSUBSCRIBE", arity=-2, flags="pubsub noscript loading stale", group="pubsub", since="2.0.0")
def psubscribe(ctx: Client, *patterns: bytes):
    """Listens for messages published to channels that match one or more patterns."""
    _deny_in_multi(ctx, "PSUBSCRIBE")
    return _confirmations(ctx, b"psubscribe", patterns, hub(ctx).psubscribe, _count)


@command("PUNSUBSCRIBE", arity=-1, flags="pubsub noscript loading stale", group="pubsub", since="2.0.0")
def punsubscribe(ctx: Client, *patterns: bytes):
    """Stops listening to messages published to channels that match one or more patterns."""
    _nosub(ctx, b"punsubscribe")
    if not patterns:
        return _unsub_all(ctx, b"punsubscribe", ctx.psubscriptions, hub(ctx).punsubscribe, _count)
    return _confirmations(ctx, b"punsubscribe", patterns, hub(ctx).punsubscribe, _count)


@command("SSUBSCRIBE", arity=-2, flags="pubsub noscript loading stale", keys=(1, -1, 1), group="pubsub", since="7.0.0")
def ssubscribe(ctx: Client, *channels: bytes):
    """Listens for messages published to shard channels."""
    _deny_in_multi(ctx, "SSUBSCRIBE")
    return _confirmations(ctx, b"ssubscribe", channels, hub(ctx).ssubscribe, _scount)


@command("SUNSUBSCRIBE", arity=-1, flags="pubsub noscript loading stale", keys=(1, -1, 1), group="pubsub", since="7.0.0")
def sunsubscribe(ctx: Client, *channels: bytes):
    """Stops listening to messages posted to shard channels."""
    _nosub(ctx, b"sunsubscribe")
    if not channels:
        return _unsub_all(ctx, b"sunsubscribe", ctx.ssubscriptions, hub(ctx).sunsubscribe, _scount)
    return _confirmations(ctx, b"sunsubscribe", channels, hub(ctx).sunsubscribe, _scount)


def _deny_in_multi(ctx: Client, name: str) -> None:
    # Redis 7.0 refuses (P|S)SUBSCRIBE inside MULTI for RESP2 clients only when executed in EXEC
    # (the command is flagged; nothing to do here until transactions decide otherwise).
    return None


@command("PUBLISH", arity=3, flags="pubsub loading stale fast", group="pubsub", since="2.0.0")
def publish(ctx: Client, channel: bytes, message: bytes):
    """Posts a message to a channel."""
    return hub(ctx).publish(channel, message)


@command("SPUBLISH", arity=3, flags="pubsub loading stale fast", keys=(1, 1, 1), group="pubsub", since="7.0.0")
def spublish(ctx: Client, channel: bytes, message: bytes):
    """Post a message to a shard channel."""
    return hub(ctx).spublish(channel, message)


container("PUBSUB", group="pubsub", summary="A container for Pub/Sub commands.", since="2.8.0")


def _channels(table: dict, pattern: bytes | None) -> list[bytes]:
    if pattern is None:
        return list(table)
    match = compile_glob(pattern)
    return [ch for ch in table if match(ch)]


@command("PUBSUB|CHANNELS", arity=-2, flags="pubsub loading stale", group="pubsub", since="2.8.0")
def pubsub_channels(ctx: Client, *pattern: bytes):
    """Returns the active channels."""
    if len(pattern) > 1:
        raise CommandError("ERR wrong number of arguments for 'pubsub|channels' command")
    return _channels(hub(ctx).channels, pattern[0] if pattern else None)


@command("PUBSUB|NUMSUB", arity=-2, flags="pubsub loading stale", group="pubsub", since="2.8.0")
def pubsub_numsub(ctx: Client, *channels: bytes):
    """Returns a count of subscribers to channels."""
    table = hub(ctx).channels
    out: list = []
    for ch in channels:
        out += [ch, len(table.get(ch, ()))]
    return out


@command("PUBSUB|NUMPAT", arity=2, flags="pubsub loading stale", group="pubsub", since="2.8.0")
def pubsub_numpat(ctx: Client):
    """Returns a count of unique pattern subscriptions."""
    return len(hub(ctx).patterns)


@command("PUBSUB|SHARDCHANNELS", arity=-2, flags="pubsub loading stale", group="pubsub", since="7.0.0")
def pubsub_shardchannels(ctx: Client, *pattern: bytes):
    """Returns the active shard channels."""
    if len(pattern) > 1:
        raise CommandError("ERR wrong number of arguments for 'pubsub|shardchannels' command")
    return _channels(hub(ctx).shard_channels, pattern[0] if pattern else None)


@command("PUBSUB|SHARDNUMSUB", arity=-2, flags="pubsub loading stale", group="pubsub", since="7.0.0")
def pubsub_shardnumsub(ctx: Client, *channels: bytes):
    """Returns the count of subscribers of shard channels."""
    table = hub(ctx).shard_channels
    out: list = []
    for ch in channels:
        out += [ch, len(table.get(ch, ()))]
    return out


@command("PUBSUB|HELP", arity=2, flags="loading stale", group="pubsub", acl="", since="6.2.0")
def pubsub_help(ctx: Client):
    """Returns helpful text about the different subcommands."""
    from ..protocol.replies import Simple

    lines = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]
    return [Simple(x.encode()) for x in lines]
