"""The session cleanup removes labelled images whatever order the runtime
lists them in, although a parent image cannot go before its child."""

from __future__ import annotations

from typing import Any

from runtimes.errors import CommandFailed, ImageNotFound
from runtimes.models import ENGINE_CAPABILITIES
from runtimes.testing import cleanup


class Engine:
    """Stands in for a runtime with two labelled images, ``child`` built on
    ``parent``; the listing names the parent first."""

    capabilities = ENGINE_CAPABILITIES

    def __init__(self) -> None:
        self.images_left = ["parent", "child"]

    def ps(self, **kwargs: Any) -> list[Any]:
        return []

    def volumes(self, **kwargs: Any) -> list[Any]:
        return []

    def networks(self, **kwargs: Any) -> list[Any]:
        return []

    def images(self, **kwargs: Any) -> list[Any]:
        return [type("Image", (), {"id": ref})() for ref in self.images_left]

    def remove_image(self, ref: str, *, force: bool = False) -> None:
        if ref not in self.images_left:
            raise ImageNotFound(ref)
        if ref == "parent" and "child" in self.images_left:
            raise CommandFailed(
                "conflict: image has dependent child images",
                runtime="stand-in",
                operation="remove_image",
                status=409,
            )
        self.images_left.remove(ref)


def test_parent_images_go_after_their_children() -> None:
    engine = Engine()
    assert cleanup(engine, {"k": "v"}) == []  # type: ignore[arg-type]
    assert engine.images_left == []


def test_a_network_in_use_is_reported_not_raised() -> None:
    # Another (unlabelled) container still attached: the sweep goes on and
    # cleanup reports the network; down reports only what it removed.
    from runtimes import _sweep
    from runtimes.errors import NetworkInUse

    class Busy(Engine):
        def networks(self, **kwargs: Any) -> list[Any]:
            return [type("Network", (), {"name": "net"})()]

        def remove_network(self, name: str) -> None:
            raise NetworkInUse(name, "network net has active endpoints")

    engine = Busy()
    removed = _sweep.remove_labelled(engine, {"k": "v"})  # type: ignore[arg-type]
    assert removed == [("image", "child"), ("image", "parent")]
    assert cleanup(engine, {"k": "v"}) == ["network net"]  # type: ignore[arg-type]
