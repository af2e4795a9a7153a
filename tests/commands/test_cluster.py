"""CLUSTER and READONLY / READWRITE / ASKING against redis-server 7.0.15 without cluster
support: every subcommand refuses with the same error, HELP included; arity and unknown
subcommands are the command table's errors."""

from __future__ import annotations

_SUBS = ["ADDSLOTS 1", "ADDSLOTSRANGE 1 2", "BUMPEPOCH", "COUNT-FAILURE-REPORTS n", "COUNTKEYSINSLOT 1",
         "DELSLOTS 1", "DELSLOTSRANGE 1 2", "FAILOVER", "FAILOVER FORCE", "FLUSHSLOTS", "FORGET n",
         "GETKEYSINSLOT 1 1", "HELP", "INFO", "KEYSLOT k", "LINKS", "MEET h 1", "MYID", "NODES",
         "REPLICAS n", "REPLICATE n", "RESET", "RESET HARD", "SAVECONFIG", "SET-CONFIG-EPOCH 1",
         "SETSLOT 1 STABLE", "SHARDS", "SLAVES n", "SLOTS", "slots"]


def test_cluster_subcommands_without_cluster_support(diff):
    for sub in _SUBS:
        diff.check("CLUSTER", *sub.split())
    for bad in ["", "NOSUCH", "INFO x", "HELP x", "ADDSLOTS", "KEYSLOT", "MEET h", "SETSLOT 1"]:
        diff.check("CLUSTER", *bad.split())
    for name in ("READONLY", "READWRITE", "ASKING"):
        diff.check(name)
        diff.check(name, "x")


def test_cluster_command_metadata(diff):
    diff.check("COMMAND", "INFO", "cluster", "readonly", "readwrite", "asking", unordered=True)
    diff.check("COMMAND", "DOCS", "cluster", "readonly", "asking", unordered=True)
