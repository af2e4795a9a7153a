"""Persistence: RDB snapshots and the multi-part AOF on disk (the formats: rdb/ and aof.py)."""
