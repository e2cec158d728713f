"""What a runtime lacks is refused by ``Runtime`` itself, once for every
adapter: by capability, before the adapter's verb runs, and after the
container is looked up, so a missing one is ``ContainerNotFound`` as on
every runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes import Capability, ContainerState


class _Bare(runtimes.Runtime):
    """An adapter without a single capability, whose verbs must not run."""

    name = "bare"
    capabilities = frozenset()

    @classmethod
    def detect(cls, **options: Any) -> str | None:
        return None

    def _inspect(self, ref: str) -> runtimes.Container:
        if ref == "missing":
            raise runtimes.ContainerNotFound(ref, f"no such container: {ref}")
        return runtimes.Container(
            id="a" * 64, name=ref, image="i", state=ContainerState.EXITED, runtime="bare"
        )


def _refuse(self: object, *args: object, **kwargs: object) -> None:
    raise AssertionError("the adapter's verb ran although the capability is missing")


for _verb in _Bare.__abstractmethods__ - {"_inspect"}:
    setattr(_Bare, _verb, _refuse)
_Bare.__abstractmethods__ = frozenset()


ON_A_CONTAINER: dict[str, tuple[Capability, Callable[[runtimes.Runtime, str, Path], object]]] = {
    "pause": (Capability.CONTROL, lambda rt, ref, tmp: rt.pause(ref)),
    "unpause": (Capability.CONTROL, lambda rt, ref, tmp: rt.unpause(ref)),
    "rename": (Capability.CONTROL, lambda rt, ref, tmp: rt.rename(ref, "other")),
    "restart": (Capability.CONTROL, lambda rt, ref, tmp: rt.restart(ref)),
    "top": (Capability.TOP, lambda rt, ref, tmp: rt.top(ref)),
    "exec-env": (
        Capability.EXEC_OPTIONS,
        lambda rt, ref, tmp: rt.exec(ref, "true", env={"A": "1"}),
    ),
    "exec-user": (Capability.EXEC_OPTIONS, lambda rt, ref, tmp: rt.exec(ref, "true", user="1")),
    "copy_to": (Capability.COPY_STOPPED, lambda rt, ref, tmp: rt.copy_to(ref, b"x", "/tmp/x")),
    "copy_from": (Capability.COPY_STOPPED, lambda rt, ref, tmp: rt.copy_from(ref, "/etc", tmp)),
}


@pytest.mark.parametrize("verb", sorted(ON_A_CONTAINER))
def test_missing_capability_is_refused_typed(verb: str, tmp_path: Path) -> None:
    capability, call = ON_A_CONTAINER[verb]
    with pytest.raises(runtimes.Unsupported) as info:
        call(_Bare(), "c1", tmp_path)
    assert info.value.capability is capability
    assert "bare does not support" in str(info.value)


@pytest.mark.parametrize("verb", sorted(ON_A_CONTAINER))
def test_missing_container_comes_first(verb: str, tmp_path: Path) -> None:
    _, call = ON_A_CONTAINER[verb]
    with pytest.raises(runtimes.ContainerNotFound):
        call(_Bare(), "missing", tmp_path)


def test_one_log_stream_needs_log_streams() -> None:
    with pytest.raises(runtimes.Unsupported) as info:
        _Bare().logs("c1", stderr=False)
    assert info.value.capability is Capability.LOG_STREAMS
    with pytest.raises(runtimes.ContainerNotFound):
        _Bare().logs("missing", stdout=False)


def test_auto_remove_is_refused_before_anything_is_created() -> None:
    with pytest.raises(runtimes.Unsupported) as info:
        _Bare().run("127.0.0.1:5000/x:1", "true", remove=True, pull="never")
    assert info.value.capability is Capability.AUTO_REMOVE
