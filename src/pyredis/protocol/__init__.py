"""Bytes <-> values. No I/O: the server and the AOF loader both drive these."""
