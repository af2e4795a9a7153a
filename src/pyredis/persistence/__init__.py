"""Persistence: RDB snapshots, DUMP/RESTORE payloads, the multi-part AOF."""
