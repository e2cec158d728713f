"""Remove everything that carries some labels: the one sweep behind
``Runtime.down``, the test plugin's cleanup and the demo's.

Each caller used to have its own loop, and they had drifted apart (one
retried parent images, one let a network in use stop the sweep).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from runtimes.errors import NetworkInUse, NotFound, RuntimesError
from runtimes.models import Capability

if TYPE_CHECKING:
    from runtimes.base import Runtime

__all__ = ["Kind", "left_labelled", "remove_labelled"]

Kind = Literal["container", "image", "volume", "network"]

# A parent image cannot go before its child, even forced, and a listing may
# name the parent first (Docker's classic builder puts build labels on a
# cached parent): what failed is tried again once the others are gone.
_IMAGE_ROUNDS = 3


def _stores(runtime: Runtime) -> tuple[bool, bool, bool]:
    """Whether ``runtime`` has images, volumes and networks to list at all:
    what it has no store of (a cluster: Capability), nothing can have made."""
    has = runtime.capabilities
    return (
        Capability.IMAGE_STORE in has,
        Capability.VOLUMES in has,
        Capability.NETWORKS in has,
    )


def remove_labelled(runtime: Runtime, labels: Mapping[str, str]) -> list[tuple[Kind, str]]:
    """Remove the containers, images, volumes and networks carrying
    ``labels``, in that order; return what was removed as ``(kind, name or id)``.

    One at a time: a batch removal on Podman removes nothing when one name
    is missing and still exits 0.  What is already gone is fine; what cannot
    be removed (an image still used, a network an unlabelled container is
    attached to) is left for :func:`left_labelled` to report, so that
    everything else still goes.
    """
    images, volumes, networks = _stores(runtime)
    removed: list[tuple[Kind, str]] = []
    for container in runtime.ps(all=True, labels=labels):
        with contextlib.suppress(NotFound):
            runtime.remove(container, force=True)
            removed.append(("container", container.name))
    pending = [image.id for image in runtime.images(labels=labels)] if images else []
    for _round in range(_IMAGE_ROUNDS):
        failed = []
        for ref in pending:
            try:
                runtime.remove_image(ref, force=True)
            except NotFound:
                continue
            except RuntimesError:
                failed.append(ref)
                continue
            removed.append(("image", ref))
        pending = failed
        if not pending:
            break
    for volume in runtime.volumes(labels=labels) if volumes else ():
        with contextlib.suppress(NotFound):
            runtime.remove_volume(volume.name, force=True)
            removed.append(("volume", volume.name))
    # Networks last: a labelled container still attached would keep one in use.
    for network in runtime.networks(labels=labels) if networks else ():
        with contextlib.suppress(NotFound, NetworkInUse):
            runtime.remove_network(network.name)
            removed.append(("network", network.name))
    return removed


def left_labelled(runtime: Runtime, labels: Mapping[str, str]) -> list[tuple[Kind, str]]:
    """What still carries ``labels``, as ``(kind, name or id)``."""
    images, volumes, networks = _stores(runtime)
    left: list[tuple[Kind, str]] = [
        ("container", c.name) for c in runtime.ps(all=True, labels=labels)
    ]
    left += [("image", i.id) for i in runtime.images(labels=labels)] if images else []
    left += [("volume", v.name) for v in runtime.volumes(labels=labels)] if volumes else []
    left += [("network", n.name) for n in runtime.networks(labels=labels)] if networks else []
    return left
