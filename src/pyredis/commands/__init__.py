"""One module per Redis command group. Importing this package registers every command.

Every module here is imported (in name order), so a new module needs no entry; modules whose
name starts with "_" (_server_common) are helpers and are left to their users.
"""

import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
