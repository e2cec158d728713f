"""The ``runtimes`` command: the library's normalised view, on every runtime.

Exit codes follow Docker's (checked against docker 28 on a 20.10 daemon):
125 for a bad command line or arguments, and for anything that stops
``run`` before its container runs; 1 when the runtime reports an error
(no such container, image, network...); the container's own exit code for
foreground ``run``, ``exec`` and ``wait``.

The grammar lives in :mod:`~runtimes.cli._parser`, the verbs in
:mod:`~runtimes.cli._commands`, the output in :mod:`~runtimes.cli._format`.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from runtimes import registry
from runtimes.cli._commands import cmd_completion, cmd_demo, cmd_info, exit_code, report
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
        if args.handler in (cmd_info, cmd_demo, cmd_completion):  # these connect by themselves
            code = args.handler(args)
        else:
            with registry.connect(args.runtime) as rt:
                code = args.handler(rt, args)
    except RuntimesError as exc:
        report(exc)
        code = exit_code(exc, args.verb)
    except KeyboardInterrupt:
        code = 130  # as a shell reports SIGINT, without a traceback
    sys.exit(code)
