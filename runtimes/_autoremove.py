"""``python -m runtimes._autoremove [--detach] ARGV... -- CONTAINER``: wait, then remove.

For CLIs that cannot combine detached runs with ``--rm`` (nerdctl 2.0), the
adapter runs this helper with ``--detach``: it starts a copy of itself in a
new session and returns at once, so the caller holds no child process.  The
copy waits for the container to exit, removes it, and ends: it never
outlives the container.
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--detach":
        subprocess.Popen(
            [sys.executable, "-m", "runtimes._autoremove", *argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return 0
    split = argv.index("--")
    base, container = argv[:split], argv[split + 1]
    subprocess.run([*base, "wait", container], capture_output=True, check=False)
    subprocess.run([*base, "rm", "-f", container], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
