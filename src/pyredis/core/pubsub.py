"""Pub/Sub: who is subscribed to what, and message delivery.

API:
    hub = PubSub(state)                     # state.pubsub
    hub.subscribe(client, channel) -> bool  # False if already subscribed
    hub.unsubscribe(client, channel) -> bool
    hub.psubscribe / punsubscribe / ssubscribe / sunsubscribe
    hub.publish(channel, message) -> receivers
    hub.spublish(channel, message) -> receivers
    hub.drop_client(client)                 # on disconnect / RESET

Messages go out through `client.write_push`, which the connection batches with the replies of
the read it is processing, so a client publishing to itself sees the message before the reply,
as Redis sends them. Subscribers that fall behind are cut off by `client-output-buffer-limit
pubsub` (checked by the connection after each push).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol.replies import Push
from ..util import compile_glob

if TYPE_CHECKING:
    from .client import Client
    from .state import ServerState


class PubSub:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        # channel -> {client: None}: dicts keep subscription order, as Redis's lists do.
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}

    # --- subscriptions ---------------------------------------------------------------
    @staticmethod
    def _add(table: dict, own: set, client: Client, name: bytes) -> bool:
        if name in own:
            return False
        own.add(name)
        table.setdefault(name, {})[client] = None
        return True

    @staticmethod
    def _remove(table: dict, own: set, client: Client, name: bytes) -> bool:
        if name not in own:
            return False
        own.discard(name)
        subs = table.get(name)
        if subs is not None:
            subs.pop(client, None)
            if not subs:
                del table[name]
        return True

    def subscribe(self, c: Client, ch: bytes) -> bool:
        return self._add(self.channels, c.subscriptions, c, ch)

    def unsubscribe(self, c: Client, ch: bytes) -> bool:
        return self._remove(self.channels, c.subscriptions, c, ch)

    def psubscribe(self, c: Client, pat: bytes) -> bool:
        return self._add(self.patterns, c.psubscriptions, c, pat)

    def punsubscribe(self, c: Client, pat: bytes) -> bool:
        return self._remove(self.patterns, c.psubscriptions, c, pat)

    def ssubscribe(self, c: Client, ch: bytes) -> bool:
        return self._add(self.shard_channels, c.ssubscriptions, c, ch)

    def sunsubscribe(self, c: Client, ch: bytes) -> bool:
        return self._remove(self.shard_channels, c.ssubscriptions, c, ch)

    def drop_client(self, c: Client) -> None:
        for ch in list(c.subscriptions):
            self.unsubscribe(c, ch)
        for p in list(c.psubscriptions):
            self.punsubscribe(c, p)
        for ch in list(c.ssubscriptions):
            self.sunsubscribe(c, ch)

    # --- delivery --------------------------------------------------------------------
    def publish(self, channel: bytes, message: bytes) -> int:
        n = 0
        subs = self.channels.get(channel)
        if subs:
            msg = Push([b"message", channel, message])
            for c in list(subs):
                _deliver(c, msg)
                n += 1
        if self.patterns:
            for pat, clients in list(self.patterns.items()):
                if compile_glob(pat)(channel):
                    msg = Push([b"pmessage", pat, channel, message])
                    for c in list(clients):
                        _deliver(c, msg)
                        n += 1
        return n

    def spublish(self, channel: bytes, message: bytes) -> int:
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        msg = Push([b"smessage", channel, message])
        for c in list(subs):
            _deliver(c, msg)
        return len(subs)


def _deliver(c: Client, msg: Push) -> None:
    if c.write_push is not None:
        c.write_push(msg)
