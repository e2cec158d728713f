"""The ``runtimes`` command: the library's normalised view, on every runtime.

Exit codes follow Docker: 125 when the runtime or the library reports an
error, the container's own exit code for foreground ``run``, ``exec`` and
``wait``, 2 for a bad command line.

The grammar lives in :mod:`~runtimes.cli._parser`, the verbs in
:mod:`~runtimes.cli._commands`, the output in :mod:`~runtimes.cli._format`.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from runtimes import registry
from runtimes.cli._commands import ERROR_EXIT, cmd_demo, cmd_info, report
from runtimes.cli._parser import build_parser
from runtimes.errors import RuntimesError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = build_parser().parse_args(argv)
    if args.verb == "exec" and not args.command:
        build_parser().error("exec needs a command")
    # A broken pipe (``| head``) is not an error worth a traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if args.handler in (cmd_info, cmd_demo):  # these connect by themselves
            code = args.handler(args)
        else:
            with registry.connect(args.runtime) as rt:
                code = args.handler(rt, args)
    except RuntimesError as exc:
        report(exc)
        code = ERROR_EXIT
    sys.exit(code)
