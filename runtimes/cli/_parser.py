"""The ``runtimes`` command line: its grammar and ``--help``, nothing else."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from typing import Any, NoReturn

from runtimes.cli import _commands as c

__all__ = ["USAGE_EXIT", "build_parser"]

#: Docker's exit code for a command line it cannot parse (argparse's own is 2).
USAGE_EXIT = 125

FORMAT_HELP = (
    "table (default), json, or a template such as '{{.Name}}\\t{{.Status}}' "
    "or 'table {{.ID}}\\t{{.Name}}' (see `runtimes --help`)"
)


class _Parser(argparse.ArgumentParser):
    """argparse, exiting 125 on a bad command line as ``docker`` does."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_EXIT, f"{self.prog}: error: {message}\n")


def _global_options(parser: argparse.ArgumentParser, *, short_format: bool = False) -> None:
    """``--runtime`` and ``--format`` after the verb too, as Docker's fingers
    type them (``runtimes ps --format json``).  ``SUPPRESS`` keeps the value
    given before the verb when the flag is not repeated after it."""
    parser.add_argument(
        "--runtime",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="runtime to use (docker, podman, nerdctl...)",
    )
    flags = ("-f", "--format") if short_format else ("--format",)
    parser.add_argument(*flags, metavar="FORMAT", default=argparse.SUPPRESS, help=FORMAT_HELP)


def _verb(
    sub: Any,
    name: str,
    handler: Callable[..., int],
    summary: str,
    examples: str,
    *,
    short_format: bool = False,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    _global_options(parser, short_format=short_format)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="runtimes",
        description="Containers on docker, podman or containerd (nerdctl), one interface.",
        epilog=textwrap.dedent(
            """\
            The runtime is chosen by --runtime, else RUNTIMES_DEFAULT, else
            [tool.runtimes] default in pyproject.toml, else the user config,
            else the first reachable of docker, podman, nerdctl.
            --runtime and --format are accepted before or after the verb.

            --format takes table, json, or a Go-like template: {{.Field}},
            {{.A.B}}, {{json .X}}, {{.Labels}}, {{.Label "k"}}, {{index .X "k"}},
            {{join .X ","}}, {{.X | upper}}; "table " in front adds a header;
            \\t is a tab.  Fields match the JSON keys ignoring case and
            underscores ({{.ExitCode}}, {{.ID}}), Docker's column names
            ({{.Names}}, {{.Status}}, {{.RunningFor}}), then the runtime's own
            record on inspect ({{.State.Status}}).

            Exit codes, as docker's: 125 for a bad command line or arguments
            (and anything that stops `run` before the container runs); 1 when
            the runtime reports an error (no such container, image...); the
            container's own exit code for run (foreground), exec and wait.

            examples:
              runtimes ps --format json
              runtimes ps -a --filter label=app --filter status=exited -q
              runtimes inspect -f '{{.Name}} {{.State}}' web db
              runtimes logs --since 10m --until 2m web
              source <(runtimes completion bash)"""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--runtime", metavar="NAME", help="runtime to use (docker, podman, nerdctl...)"
    )
    parser.add_argument("--format", metavar="FORMAT", default="table", help=FORMAT_HELP)
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    _verb(
        sub,
        "info",
        c.cmd_info,
        "Show every runtime, whether it is reachable, and which one is picked.",
        "runtimes info\nruntimes --format json info",
    )

    p = _verb(
        sub,
        "demo",
        c.cmd_demo,
        "Build, run, reach, list, log, stop and remove a tiny web server on each runtime.",
        "runtimes demo\nruntimes --runtime podman demo\nruntimes demo --runtime nerdctl",
    )

    p = _verb(
        sub,
        "ps",
        c.cmd_ps,
        "List containers.",
        "runtimes ps\nruntimes ps -a --filter label=app=web\n"
        "runtimes ps --format json --filter name=web\n"
        "runtimes ps -aq --filter label=ci.job --filter status=exited   # ids only\n"
        "runtimes ps -n 3 --no-trunc\n"
        "runtimes ps --filter ancestor=demo:1 --format '{{.Names}}\\t{{.Status}}'",
    )
    p.add_argument("-a", "--all", action="store_true", help="include stopped containers")
    p.add_argument(
        "--filter",
        action="append",
        metavar="KEY=VALUE",
        help="label=K or label=K=V (all must match); name=REGEX, status=STATE, "
        "ancestor=IMAGE, id=PREFIX (any of the same key matches)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the ids")
    p.add_argument("--no-trunc", action="store_true", help="full ids and commands")
    p.add_argument(
        "-n", "--last", type=int, default=-1, metavar="N", help="the N newest, in any state"
    )
    p.add_argument("-l", "--latest", action="store_true", help="the newest, in any state")

    p = _verb(
        sub,
        "images",
        c.cmd_images,
        "List local images.",
        "runtimes images\nruntimes images --format json\nruntimes images -q",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image ids")
    p.add_argument("--no-trunc", action="store_true", help="full image ids")

    p = _verb(
        sub,
        "rmi",
        c.cmd_rmi,
        "Remove images.",
        "runtimes rmi demo:1\nruntimes rmi -f demo:1 demo:2",
    )
    p.add_argument("-f", "--force", action="store_true", help="remove even if in use")
    p.add_argument("images", nargs="+", metavar="IMAGE")

    p = _verb(
        sub,
        "pull",
        c.cmd_pull,
        "Pull images from their registry, showing progress; print each image id.",
        "runtimes pull 127.0.0.1:5000/team/app:1\n"
        "runtimes pull --platform linux/arm64 registry.example.com/app:2\n"
        "RUNTIMES_INSECURE_REGISTRIES=127.0.0.1:5000 runtimes pull 127.0.0.1:5000/app:1",
    )
    p.add_argument("--platform", metavar="OS/ARCH", help="e.g. linux/arm64")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    p.add_argument("images", nargs="+", metavar="IMAGE")

    p = _verb(
        sub,
        "push",
        c.cmd_push,
        "Push images to their registry, showing progress; print each pushed digest.",
        "runtimes tag demo:1 127.0.0.1:5000/team/demo:1\nruntimes push 127.0.0.1:5000/team/demo:1",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the digest")
    p.add_argument("images", nargs="+", metavar="IMAGE")

    p = _verb(
        sub,
        "tag",
        c.cmd_tag,
        "Give a local image another name.",
        "runtimes tag demo:1 127.0.0.1:5000/team/demo:1",
    )
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("target", metavar="TARGET")

    p = _verb(
        sub,
        "login",
        c.cmd_login,
        "Log in to a registry; the password (or token) is read from stdin.",
        "printf '%s\\n' \"$TOKEN\" | runtimes login -u ci --password-stdin 127.0.0.1:5000",
    )
    p.add_argument("-u", "--username", required=True)
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password or token from stdin"
    )
    p.add_argument("registry", metavar="REGISTRY", help="host[:port]")

    p = _verb(
        sub,
        "logout",
        c.cmd_logout,
        "Forget a registry's credentials.",
        "runtimes logout 127.0.0.1:5000",
    )
    p.add_argument("registry", metavar="REGISTRY", help="host[:port]")

    p = _verb(
        sub,
        "build",
        c.cmd_build,
        "Build an image, streaming its steps; print the image id.",
        "runtimes build -t demo:1 .\n"
        "runtimes build -q -t demo:1 --build-arg V=2 --target prod ./app",
    )
    p.add_argument("-t", "--tag", required=True, help="name:tag for the image")
    p.add_argument("-f", "--file", help="Dockerfile path relative to PATH")
    p.add_argument("--build-arg", action="append", metavar="K=V")
    p.add_argument("--target", help="stage to build")
    p.add_argument("--label", action="append", metavar="K=V")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image id")
    p.add_argument("path", metavar="PATH")

    p = _verb(
        sub,
        "run",
        c.cmd_run,
        "Run a container (foreground unless -d).",
        "runtimes run --rm demo:1 echo hello\n"
        "runtimes run -d --name web -p 127.0.0.1::8080 demo:1 httpd -f -p 8080 -h /www",
    )
    p.add_argument("-d", "--detach", action="store_true", help="print the id and return")
    p.add_argument("--rm", action="store_true", help="remove the container when it exits")
    p.add_argument("--name")
    p.add_argument(
        "-p", "--publish", action="append", metavar="SPEC", help="[ip:][host:]port[/proto]"
    )
    p.add_argument("-e", "--env", action="append", metavar="K=V")
    p.add_argument("-v", "--volume", action="append", metavar="SPEC", help="src:dst[:ro]")
    p.add_argument("-l", "--label", action="append", metavar="K=V")
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user")
    p.add_argument("--entrypoint")
    p.add_argument("--network", help="network to join (see `runtimes network`)")
    p.add_argument(
        "--network-alias", action="append", metavar="NAME", help="another name on --network"
    )
    p.add_argument("--hostname", help="host name inside the container, resolvable on --network")
    p.add_argument(
        "--pull",
        choices=("never", "missing", "always"),
        help="pull the image first: never (the default unless configured), missing, always",
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")

    p = _verb(
        sub,
        "logs",
        c.cmd_logs,
        "Print a container's output.",
        "runtimes logs web\nruntimes logs -f --tail 10 -t web\n"
        "runtimes logs --since 10m web                  # the last ten minutes\n"
        "runtimes logs --since 1h30m --until 1h web\n"
        "runtimes logs --since 2026-11-29T05:00:00Z --until 1764392400 web",
    )
    p.add_argument("-f", "--follow", action="store_true", help="follow until the container exits")
    p.add_argument("-n", "--tail", type=_tail, metavar="N", help="the last N lines (or all)")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument(
        "--since",
        metavar="T",
        help="from T: a duration ago (10m, 1h30m), RFC 3339, or epoch seconds",
    )
    p.add_argument("--until", metavar="T", help="up to T, same forms as --since")
    p.add_argument("container", metavar="CONTAINER")

    p = _verb(
        sub,
        "stop",
        c.cmd_stop,
        "Stop containers (SIGTERM, then SIGKILL).",
        "runtimes stop web\nruntimes stop -t 1 a b",
    )
    p.add_argument("-t", "--time", type=float, default=10, metavar="SECONDS")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "kill",
        c.cmd_kill,
        "Send a signal to containers.",
        "runtimes kill web\nruntimes kill -s SIGHUP web",
    )
    p.add_argument("-s", "--signal", default="SIGKILL")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "rm",
        c.cmd_rm,
        "Remove containers.",
        "runtimes rm web\nruntimes rm -f web db       # exits 0 even if one is already gone\n"
        "runtimes rm -f $(runtimes ps -aq --filter label=ci.job=42)",
    )
    p.add_argument(
        "-f", "--force", action="store_true", help="kill first if running; a missing one is fine"
    )
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "exec",
        c.cmd_exec,
        "Run a command in a running container, printing its output as it comes.",
        "runtimes exec web ls /\nruntimes exec -e A=1 -w /tmp -u 1000 web sh -c 'echo $A'\n"
        "runtimes exec -i db psql < dump.sql\nruntimes exec -d web sh -c 'sleep 60; touch /x'\n"
        "runtimes exec -t web top -b -n 1           # on a terminal: \\r\\n line ends\n"
        "echo 'select 1;' | runtimes exec -it db psql   # -it: stdin forwarded, as -i",
    )
    p.add_argument("-i", "--interactive", action="store_true", help="pass stdin to the command")
    p.add_argument(
        "-t",
        "--tty",
        action="store_true",
        help="run it on a terminal; with -i, stdin is forwarded and no terminal is "
        "allocated (the library takes stdin or a terminal, not both)",
    )
    p.add_argument("-d", "--detach", action="store_true", help="start it and return at once")
    p.add_argument("-e", "--env", action="append", metavar="K=V")
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD")

    p = _verb(
        sub,
        "wait",
        c.cmd_wait,
        "Wait for containers to exit; print their exit codes.",
        "runtimes wait web",
    )
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "inspect",
        c.cmd_inspect,
        "Print containers, images, volumes or networks as a JSON list.",
        "runtimes inspect web\nruntimes inspect --raw web db\n"
        "runtimes inspect demo:1 shop-net data-vol      # each looked up by kind, in order\n"
        "runtimes inspect --type image demo:1\n"
        "runtimes inspect -f '{{.Name}} {{.State}} {{.ExitCode}}' web\n"
        "runtimes inspect -f '{{json .Labels}}' web\n"
        "runtimes inspect -f '{{.State.StartedAt}}' web   # the runtime's own record",
        short_format=True,
    )
    p.add_argument("--raw", action="store_true", help="include the runtime's own record")
    p.add_argument(
        "--type",
        choices=("container", "image", "volume", "network"),
        help="only this kind (default: container, image, network, then volume)",
    )
    p.add_argument("targets", nargs="+", metavar="NAME")

    _network_verbs(sub)
    _volume_verbs(sub)

    p = _verb(
        sub,
        "up",
        c.cmd_up,
        "Start the services of a compose file in dependency order; Ctrl-C removes them.",
        "runtimes up -f stack.yaml\nruntimes up -f stack.yaml --name shop --detach\n"
        "runtimes down shop",
    )
    p.add_argument("-f", "--file", required=True, help="compose file (services section)")
    p.add_argument("--name", help="stack name (default: the file's name:, else its directory)")
    p.add_argument(
        "-d",
        "--detach",
        action="store_true",
        help="leave the stack running and return; remove it with `runtimes down NAME`",
    )
    p.add_argument(
        "--timeout", type=float, default=120.0, help="seconds each service may take to be ready"
    )
    p = _verb(
        sub,
        "down",
        c.cmd_down,
        "Remove everything a stack created (labelled runtimes.stack=NAME).",
        "runtimes down shop",
    )
    p.add_argument("name", metavar="NAME")
    # -- the rest of the lifecycle: files, control, stats, top, prune -------------

    p = _verb(
        sub,
        "cp",
        c.cmd_cp,
        "Copy a file or directory between a container (running or not) and here.",
        "runtimes cp ./app.conf web:/etc/app.conf\nruntimes cp web:/var/log ./logs\n"
        "runtimes cp web:/etc/hostname -        # the file's bytes on stdout\n"
        "echo hi | runtimes cp - web:/tmp/hi    # stdin into a file",
    )
    p.add_argument("source", metavar="SRC", help="PATH, CONTAINER:PATH or - (stdin)")
    p.add_argument("dest", metavar="DEST", help="PATH, CONTAINER:PATH or - (stdout)")

    for name, handler, summary in (
        ("start", c.cmd_start, "Start created or stopped containers."),
        ("pause", c.cmd_pause, "Freeze every process of containers."),
        ("unpause", c.cmd_unpause, "Thaw paused containers."),
    ):
        p = _verb(sub, name, handler, summary, f"runtimes {name} web\nruntimes {name} web db")
        p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "restart",
        c.cmd_restart,
        "Restart containers (stop signal, SIGKILL after -t seconds, start).",
        "runtimes restart web\nruntimes restart -t 1 web db",
    )
    p.add_argument("-t", "--time", type=float, default=10, metavar="SECONDS")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "stats",
        c.cmd_stats,
        "Show containers' CPU, memory, network and block I/O (every running one by default).",
        "runtimes stats --no-stream\nruntimes --format json stats --no-stream web",
    )
    p.add_argument("--no-stream", action="store_true", help="one sample, then exit")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")

    p = _verb(
        sub,
        "top",
        c.cmd_top,
        "List the processes of a running container (host pids).",
        "runtimes top web",
    )
    p.add_argument("container", metavar="CONTAINER")

    p = _verb(
        sub,
        "prune",
        c.cmd_prune,
        "Remove stopped containers, then unused volumes and images, among those labelled.",
        "runtimes prune --filter label=ci.job=42\n"
        "runtimes prune --filter label=team=docs --containers --volumes\n"
        "runtimes prune --force                 # everything unused: not on a shared machine",
    )
    p.add_argument("--filter", action="append", metavar="label=K=V", help="only objects with it")
    p.add_argument(
        "--containers", action="store_true", help="prune containers (default: all kinds)"
    )
    p.add_argument("--images", action="store_true", help="prune images")
    p.add_argument("--volumes", action="store_true", help="prune volumes")
    p.add_argument("-f", "--force", action="store_true", help="allowed without a label filter")

    p = _verb(
        sub,
        "completion",
        c.cmd_completion,
        "Print a shell completion script for bash, zsh or fish.",
        "source <(runtimes completion bash)            # in ~/.bashrc\n"
        'runtimes completion zsh > "${fpath[1]}/_runtimes"\n'
        "runtimes completion fish > ~/.config/fish/completions/runtimes.fish",
    )
    p.add_argument("shell", choices=("bash", "zsh", "fish"))
    return parser


def _tail(text: str) -> int | None:
    """``--tail N``, or ``all`` as docker takes it."""
    if text == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid --tail {text!r}: a number or all") from None


def _network_verbs(sub: Any) -> None:
    p = _verb(
        sub,
        "network",
        c.cmd_network_ls,
        "Manage networks: ls, create, rm, inspect.",
        "runtimes network create --label app=shop shop-net\n"
        "runtimes run -d --name db --network shop-net --network-alias database demo:1 sleep 1d\n"
        "runtimes network ls --filter label=app=shop\n"
        "runtimes network rm shop-net",
    )
    verbs = p.add_subparsers(dest="network_verb", metavar="COMMAND", required=True)
    n = _verb(
        verbs,
        "ls",
        c.cmd_network_ls,
        "List networks (not the host and none modes).",
        "runtimes network ls\nruntimes network ls --format json --filter label=app=shop",
    )
    n.add_argument("--filter", action="append", metavar="label=K=V", help="label=K=V")
    n.add_argument("-q", "--quiet", action="store_true", help="print only the names")
    n = _verb(
        verbs,
        "create",
        c.cmd_network_create,
        "Create a network; print its name.",
        "runtimes network create shop-net\n"
        "runtimes network create --subnet 10.89.30.0/24 --label app=shop shop-net",
    )
    n.add_argument("--label", action="append", metavar="K=V")
    n.add_argument("--subnet", metavar="CIDR", help="IPv4 subnet, e.g. 10.89.30.0/24")
    n.add_argument("--internal", action="store_true", help="nothing forwarded beyond it")
    n.add_argument("name", metavar="NAME")
    n = _verb(
        verbs,
        "rm",
        c.cmd_network_rm,
        "Remove networks no container uses.",
        "runtimes network rm shop-net\nruntimes network rm a b",
    )
    n.add_argument("networks", nargs="+", metavar="NETWORK")
    n = _verb(
        verbs,
        "inspect",
        c.cmd_network_inspect,
        "Print networks as a JSON list.",
        "runtimes network inspect shop-net\nruntimes network inspect --raw shop-net\n"
        "runtimes network inspect -f '{{.Subnets}}' shop-net",
        short_format=True,
    )
    n.add_argument("--raw", action="store_true", help="include the runtime's own record")
    n.add_argument("networks", nargs="+", metavar="NETWORK")


def _volume_verbs(sub: Any) -> None:
    p = _verb(
        sub,
        "volume",
        c.cmd_volume_ls,
        "Manage volumes: ls, create, rm, inspect.",
        "runtimes volume create --label app=shop shop-data\n"
        "runtimes run -d -v shop-data:/data demo:1 sleep 1d\n"
        "runtimes volume ls --filter label=app=shop\n"
        "runtimes volume rm shop-data",
    )
    verbs = p.add_subparsers(dest="volume_verb", metavar="COMMAND", required=True)
    v = _verb(
        verbs,
        "ls",
        c.cmd_volume_ls,
        "List volumes.",
        "runtimes volume ls\nruntimes volume ls -q --filter label=app=shop",
    )
    v.add_argument("--filter", action="append", metavar="label=K=V", help="label=K=V")
    v.add_argument("-q", "--quiet", action="store_true", help="print only the names")
    v = _verb(
        verbs,
        "create",
        c.cmd_volume_create,
        "Create a volume; print its name.",
        "runtimes volume create shop-data\nruntimes volume create --label app=shop shop-data",
    )
    v.add_argument("--label", action="append", metavar="K=V")
    v.add_argument("name", metavar="NAME")
    v = _verb(
        verbs,
        "rm",
        c.cmd_volume_rm,
        "Remove volumes.",
        "runtimes volume rm shop-data\nruntimes volume rm -f a b",
    )
    v.add_argument("-f", "--force", action="store_true", help="even if a container uses it")
    v.add_argument("volumes", nargs="+", metavar="VOLUME")
    v = _verb(
        verbs,
        "inspect",
        c.cmd_volume_inspect,
        "Print volumes as a JSON list.",
        "runtimes volume inspect shop-data\nruntimes volume inspect -f '{{.Labels}}' shop-data",
        short_format=True,
    )
    v.add_argument("--raw", action="store_true", help="include the runtime's own record")
    v.add_argument("volumes", nargs="+", metavar="VOLUME")
