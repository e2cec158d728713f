"""``python -m runtimes._autoremove ARGV... -- CONTAINER``: wait, then remove.

For CLIs that cannot combine detached runs with ``--rm`` (nerdctl 2.0), the
adapter starts this helper in its own session: it waits for the container to
exit, removes it, and ends.  It never outlives the container.
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    split = argv.index("--")
    base, container = argv[:split], argv[split + 1]
    subprocess.run([*base, "wait", container], capture_output=True, check=False)
    subprocess.run([*base, "rm", "-f", container], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
