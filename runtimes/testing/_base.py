"""The base every contract class shares: the adapter binding and the ``rt`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from runtimes.base import Runtime
from runtimes.models import Capability

#: How a skip for a missing capability starts; the plugin counts them by it.
CAPABILITY_SKIP = "lacks capability"


def need(rt: Runtime, *capabilities: Capability) -> None:
    """Skip the test unless ``rt`` declares every one of ``capabilities``."""
    for capability in capabilities:
        if capability not in rt.capabilities:
            reason = rt.unsupported_reasons.get(capability, "not declared by the adapter")
            pytest.skip(f"{rt.name} {CAPABILITY_SKIP} {capability.value}: {reason}")


class _Base:
    #: Set in a subclass to bind the suite to one adapter only.
    runtime_name: ClassVar[str | None] = None
    #: Capabilities every test defined in the class needs: skipped without them.
    requires: ClassVar[frozenset[Capability]] = frozenset()

    @pytest.fixture
    def rt(self, container_runtime: Runtime, request: pytest.FixtureRequest) -> Runtime:
        # The class that defines the test decides, not the class that
        # gathers every contract (RuntimeContract inherits them all).
        test = request.function.__name__
        owner = next((k for k in type(self).__mro__ if test in vars(k)), type(self))
        need(container_runtime, *sorted(getattr(owner, "requires", frozenset())))
        return container_runtime


#: One call per verb that takes a container reference, for tables of cases.
CONTAINER_VERBS: dict[str, Callable[[Any, Any], object]] = {
    "inspect": lambda rt, ref: rt.inspect(ref),
    "logs": lambda rt, ref: rt.logs(ref),
    "stop": lambda rt, ref: rt.stop(ref, timeout=1),
    "kill": lambda rt, ref: rt.kill(ref),
    "wait": lambda rt, ref: rt.wait(ref, timeout=5),
    "remove": lambda rt, ref: rt.remove(ref, force=True),
    "exec": lambda rt, ref: rt.exec(ref, ["true"]),
    "copy_to": lambda rt, ref: rt.copy_to(ref, b"x", "/tmp/runtimes-copied"),
    "copy_from": lambda rt, ref: rt.copy_from(ref, "/etc/passwd"),
    "start": lambda rt, ref: rt.start(ref),
    "restart": lambda rt, ref: rt.restart(ref, timeout=1),
    "pause": lambda rt, ref: rt.pause(ref),
    "unpause": lambda rt, ref: rt.unpause(ref),
    "rename": lambda rt, ref: rt.rename(ref, "runtimes-renamed-never"),
    "stats": lambda rt, ref: rt.stats(ref),
    "top": lambda rt, ref: rt.top(ref),
}
