"""Each container's HELP text as the mode's server words it (7.2's "Print this help.", the
lines later releases add or drop)."""

from __future__ import annotations

import pytest

from oracles import ALL_MODES

pytestmark = pytest.mark.modes(*ALL_MODES)

CONTAINERS = ["CLIENT", "OBJECT", "SCRIPT", "FUNCTION", "CONFIG", "COMMAND", "MEMORY", "SLOWLOG", "XINFO", "XGROUP",
              "PUBSUB", "ACL", "MODULE", "LATENCY"]


@pytest.mark.parametrize("name", CONTAINERS)
def test_help(diff, name):
    diff.check(name, "HELP")
