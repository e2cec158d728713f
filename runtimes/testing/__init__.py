"""Public testing helpers: the contract suite and its pytest plugin.

``runtimes.testing.plugin`` is registered as a pytest plugin (``pytest11``),
so installing ``runtimes`` gives every test session the ``container_runtime``
fixture and the ``--runtime`` option.  Bind the contract suite to your
runtimes with a one-line subclass of :class:`RuntimeContract`.
"""

from runtimes.testing.plugin import SESSION_LABEL, cleanup, required_runtimes
from runtimes.testing.suite import RuntimeContract

__all__ = ["SESSION_LABEL", "RuntimeContract", "cleanup", "required_runtimes"]
