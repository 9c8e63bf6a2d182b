"""ccxt, loaded one exchange at a time.

`import ccxt.async_support` runs two package `__init__` files (ccxt's and its async_support's) that
import every exchange ccxt supports, twice over (sync and async classes): ~0.5 s of CPU and ~70 MB of
memory for the three exchanges the bot uses. So both packages are set up with their `__init__`'s
base part only — its imports from `ccxt.base.*` / `ccxt.async_support.base.*` (Exchange, the errors,
the precision helpers, which ccxt's own modules import from the package), `__version__` and the
`exchanges` id list, read from the file itself with `ast` — and each configured exchange's module
is imported on its own. Where ccxt was imported whole already (a test, a REPL), that import is used
as it is.

Nothing outside this module imports ccxt's packages: error classes come from `ccxt.base.errors`,
exchange classes from `exchange_class`.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import threading
from types import ModuleType

from services.exchange_ids import is_ccxt_exchange

PACKAGES = ("ccxt", "ccxt.async_support")
BASE_MODULES = ("ccxt.base", "ccxt.async_support.base")
KEPT_NAMES = ("__version__", "exchanges")  # plain values of the __init__ (the list of ids: strings only)
_registering = threading.Lock()


def _base_part(source: str, filename: str) -> ast.Module:
    """A package `__init__` without its exchanges: the imports from the base modules, `__version__`,
    `exchanges` (the ids)."""
    tree = ast.parse(source, filename)

    def kept(node: ast.stmt) -> bool:
        if isinstance(node, ast.ImportFrom):
            return node.level == 0 and (node.module or "").startswith(BASE_MODULES)
        return isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in KEPT_NAMES for target in node.targets
        )

    tree.body = [node for node in tree.body if kept(node)]
    return tree


def _register_packages() -> None:
    with _registering:
        for name in PACKAGES:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None or spec.submodule_search_locations is None:
                raise ImportError(f"{name} is not installed")
            package = importlib.util.module_from_spec(spec)
            sys.modules[name] = package
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, package)
            if spec.origin is not None:
                with open(spec.origin, encoding="utf-8") as init:
                    code = compile(_base_part(init.read(), spec.origin), spec.origin, "exec")
                try:
                    exec(code, package.__dict__)  # ccxt's own __init__, its base part
                except BaseException:
                    del sys.modules[name]
                    raise


def errors() -> ModuleType:
    """`ccxt.base.errors` (BaseError, NetworkError, …), without the exchanges."""
    _register_packages()
    return importlib.import_module("ccxt.base.errors")


def load_base() -> None:
    """What every async exchange shares (the base Exchange, aiohttp glue, errors): the slow part of
    a first exchange, for a worker thread at start."""
    errors()
    importlib.import_module("ccxt.async_support.base.exchange")


def exchange_class(exchange_id: str) -> type:
    """The `ccxt.async_support` class of one exchange, importing that exchange only."""
    if not is_ccxt_exchange(exchange_id):
        raise ValueError(f"unknown ccxt exchange id {exchange_id!r}")
    _register_packages()
    module = importlib.import_module(f"ccxt.async_support.{exchange_id}")
    found = getattr(module, exchange_id, None)
    if not isinstance(found, type):
        raise ValueError(f"ccxt has no exchange class {exchange_id!r}")
    return found
