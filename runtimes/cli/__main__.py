"""``python -m runtimes.cli``: the same as the ``runtimes`` command."""

from runtimes.cli import main

main()
