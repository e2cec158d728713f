"""The contract suite's test image: ``FROM scratch`` plus a static busybox.

Built through the runtime's own ``build`` so that nothing is ever pulled.
The busybox comes from ``RUNTIMES_TEST_BUSYBOX`` or, failing that, from a
statically linked ``busybox`` on ``PATH`` (Debian: ``busybox-static``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from runtimes.base import Runtime
from runtimes.models import Image

__all__ = ["BUSYBOX_DOCKERFILE", "find_static_busybox", "write_busybox_context"]

#: The test image: busybox applets, a non-root user ``u`` (uid 1000), a
#: world-writable ``/tmp`` and a page for ``httpd`` in ``/www``.
BUSYBOX_DOCKERFILE = """\
FROM scratch AS base
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /tmp /etc /www /home/u \\
 && chmod 1777 /tmp \\
 && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd \\
 && echo 'u:x:1000:1000:u:/home/u:/bin/sh' >> /etc/passwd \\
 && echo 'root:x:0:' > /etc/group \\
 && echo 'u:x:1000:' >> /etc/group \\
 && echo 'hello from runtimes' > /www/index.html
"""


def find_static_busybox() -> Path:
    """Locate a statically linked busybox, or raise ``LookupError`` saying how to get one."""
    configured = os.environ.get("RUNTIMES_TEST_BUSYBOX")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise LookupError(f"RUNTIMES_TEST_BUSYBOX={configured} is not a file")
        return path
    found = shutil.which("busybox")
    if found and _is_static(Path(found)):
        return Path(found)
    raise LookupError(
        "no static busybox found: install one (Debian: apt-get install busybox-static) "
        "or set RUNTIMES_TEST_BUSYBOX, or set RUNTIMES_TEST_IMAGE to an existing image"
    )


def _is_static(path: Path) -> bool:
    try:
        out = subprocess.run(
            ["ldd", str(path)], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "not a dynamic executable" in (out.stdout + out.stderr)


def write_busybox_context(directory: Path, dockerfile: str = BUSYBOX_DOCKERFILE) -> Path:
    """Fill ``directory`` with a static busybox and ``dockerfile``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(find_static_busybox(), directory / "busybox")
    (directory / "Dockerfile").write_text(dockerfile)
    return directory


def build_test_image(runtime: Runtime, tag: str, labels: Mapping[str, str]) -> Image:
    """Build the busybox test image with ``runtime`` and return it."""
    with tempfile.TemporaryDirectory(prefix="runtimes-image-") as tmp:
        context = write_busybox_context(Path(tmp))
        return runtime.build(context, tag=tag, labels=labels)
