"""Command-line tools: `cli dev ...` / `pyredis dev ...` (the development service, dev.py) and
`pyredis-cli` (a redis-cli built on redis-py, client.py)."""
