"""CLUSTER (every subcommand of Redis 7.0, and MYSHARDID of 7.2 and SLOT-STATS of Valkey 8.0) and
READONLY / READWRITE / ASKING, answered as redis-server answers them with cluster-enabled no (pyredis has no cluster mode):
clusterCommand, readonlyCommand, readwriteCommand and askingCommand all refuse with
"This instance has cluster support disabled" before looking at their arguments, CLUSTER HELP
included. Unknown subcommands and wrong arities are the command table's errors.
"""

from __future__ import annotations

from ..core.client import Client
from ..core.spec import command, container
from ..errors import CommandError

CLUSTER_DISABLED = "ERR This instance has cluster support disabled"


def _disabled(ctx: Client, *args: bytes):
    raise CommandError(CLUSTER_DISABLED)


container("CLUSTER", group="cluster", summary="A container for cluster commands", since="3.0.0")

_ADMIN = "admin stale no_async_loading"
# Redis 7.0's CLUSTER subcommands: (name, arity, flags, since).
_SUBCOMMANDS = [
    ("ADDSLOTS", -3, _ADMIN, "3.0.0"),
    ("ADDSLOTSRANGE", -4, _ADMIN, "7.0.0"),
    ("BUMPEPOCH", 2, _ADMIN, "3.0.0"),
    ("COUNT-FAILURE-REPORTS", 3, "admin stale", "3.0.0"),
    ("COUNTKEYSINSLOT", 3, "stale", "3.0.0"),
    ("DELSLOTS", -3, _ADMIN, "3.0.0"),
    ("DELSLOTSRANGE", -4, _ADMIN, "7.0.0"),
    ("FAILOVER", -2, _ADMIN, "3.0.0"),
    ("FLUSHSLOTS", 2, _ADMIN, "3.0.0"),
    ("FORGET", 3, _ADMIN, "3.0.0"),
    ("GETKEYSINSLOT", 4, "stale", "3.0.0"),
    ("HELP", 2, "loading stale", "5.0.0"),
    ("INFO", 2, "stale", "3.0.0"),
    ("KEYSLOT", 3, "stale", "3.0.0"),
    ("LINKS", 2, "stale", "7.0.0"),
    ("MEET", -4, _ADMIN, "3.0.0"),
    ("MYID", 2, "stale", "3.0.0"),
    ("NODES", 2, "stale", "3.0.0"),
    ("REPLICAS", 3, "admin stale", "5.0.0"),
    ("REPLICATE", 3, _ADMIN, "3.0.0"),
    ("RESET", -2, "admin noscript stale", "3.0.0"),
    ("SAVECONFIG", 2, _ADMIN, "3.0.0"),
    ("SET-CONFIG-EPOCH", 3, _ADMIN, "3.0.0"),
    ("SETSLOT", -4, _ADMIN, "3.0.0"),
    ("SHARDS", 2, "stale", "7.0.0"),
    ("SLAVES", 3, "admin stale", "3.0.0"),
    ("SLOTS", 2, "stale", "3.0.0"),
]
# Later releases allow more of them while loading (7.2: SHARDS and SLOTS; Valkey 8.0: also INFO,
# MYID, NODES and MYSHARDID).
_LOADING = {"SHARDS": "7.2", "SLOTS": "7.2", "INFO": "valkey-8.0", "MYID": "valkey-8.0", "NODES": "valkey-8.0"}
for _name, _arity, _flags, _since in _SUBCOMMANDS:
    _changed = {_LOADING[_name]: dict(flags="loading " + _flags)} if _name in _LOADING else None
    command("CLUSTER|" + _name, arity=_arity, flags=_flags, group="cluster", acl="", since=_since,
            changed=_changed)(_disabled)
command("CLUSTER|MYSHARDID", arity=2, flags="stale", group="cluster", acl="", since="7.2.0",
        changed={"valkey-8.0": dict(flags="loading stale")})(_disabled)
command("CLUSTER|SLOT-STATS", arity=-4, flags="loading stale", group="cluster", acl="", since="8.0.0",
        valkey=True)(_disabled)


@command("READONLY", arity=1, flags="loading stale fast", group="cluster", acl="connection", since="3.0.0")
def readonly(ctx: Client):
    """Enables read queries for a connection to a cluster replica node."""
    raise CommandError(CLUSTER_DISABLED)


@command("READWRITE", arity=1, flags="loading stale fast", group="cluster", acl="connection", since="3.0.0")
def readwrite(ctx: Client):
    """Disables read queries for a connection to a cluster replica node."""
    raise CommandError(CLUSTER_DISABLED)


@command("ASKING", arity=1, flags="fast", group="cluster", acl="connection", since="3.0.0")
def asking(ctx: Client):
    """Sent by cluster clients after an -ASK redirect."""
    raise CommandError(CLUSTER_DISABLED)
