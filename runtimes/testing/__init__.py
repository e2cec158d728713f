"""Public testing helpers: the contract suite and its pytest plugin.

``runtimes.testing.plugin`` is registered as a pytest plugin (``pytest11``),
so installing ``runtimes`` gives every test session the ``container_runtime``
fixture and the ``--runtime`` option.  Bind the contract suite to your
runtimes with a one-line subclass of :class:`RuntimeContract`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtimes.testing.plugin import SESSION_LABEL, cleanup, required_runtimes
    from runtimes.testing.suite import RuntimeContract

__all__ = ["SESSION_LABEL", "RuntimeContract", "cleanup", "required_runtimes"]

# Imported on first use, because both import pytest: `runtimes demo` uses
# runtimes.testing.images on machines where only the library is installed.
_LAZY = {
    "SESSION_LABEL": "runtimes.testing.plugin",
    "cleanup": "runtimes.testing.plugin",
    "required_runtimes": "runtimes.testing.plugin",
    "RuntimeContract": "runtimes.testing.suite",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
