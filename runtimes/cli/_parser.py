"""The ``runtimes`` command line: its grammar and ``--help``, nothing else."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from typing import Any

from runtimes.cli import _commands as c

__all__ = ["build_parser"]


def _verb(
    sub: Any, name: str, handler: Callable[..., int], summary: str, examples: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip(), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runtimes",
        description="Containers on docker, podman or containerd (nerdctl), one interface.",
        epilog=textwrap.dedent(
            """\
            The runtime is chosen by --runtime, else RUNTIMES_DEFAULT, else
            [tool.runtimes] default in pyproject.toml, else the user config,
            else the first reachable of docker, podman, nerdctl.
            Exit codes: 125 on a runtime or library error; the container's own
            exit code for run (foreground), exec and wait."""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--runtime", metavar="NAME", help="runtime to use (docker, podman, nerdctl...)"
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
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
    # Also after the verb, as the README writes it; SUPPRESS keeps the global value.
    p.add_argument("--runtime", metavar="NAME", default=argparse.SUPPRESS, help="only this runtime")

    p = _verb(
        sub,
        "ps",
        c.cmd_ps,
        "List containers.",
        "runtimes ps\nruntimes ps -a --filter label=app=web\n"
        "runtimes --format json ps --filter name=web",
    )
    p.add_argument("-a", "--all", action="store_true", help="include stopped containers")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE", help="label=K=V or name=N")

    _verb(
        sub,
        "images",
        c.cmd_images,
        "List local images.",
        "runtimes images\nruntimes --format json images",
    )

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
        "runtimes logs web\nruntimes logs -f --tail 10 -t web",
    )
    p.add_argument("-f", "--follow", action="store_true", help="follow until the container exits")
    p.add_argument("--tail", type=int, metavar="N")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("--since", metavar="T", help="RFC 3339 time or epoch seconds")
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

    p = _verb(sub, "rm", c.cmd_rm, "Remove containers.", "runtimes rm web\nruntimes rm -f web db")
    p.add_argument("-f", "--force", action="store_true", help="kill first if running")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")

    p = _verb(
        sub,
        "exec",
        c.cmd_exec,
        "Run a command in a running container, printing its output as it comes.",
        "runtimes exec web ls /\nruntimes exec -e A=1 -w /tmp -u 1000 web sh -c 'echo $A'\n"
        "runtimes exec -i db psql < dump.sql\nruntimes exec -d web sh -c 'sleep 60; touch /x'",
    )
    p.add_argument("-i", "--interactive", action="store_true", help="pass stdin to the command")
    p.add_argument("-t", "--tty", action="store_true", help="run it on a terminal")
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
        "Print a container as JSON.",
        "runtimes inspect web\nruntimes inspect --raw web",
    )
    p.add_argument("--raw", action="store_true", help="include the runtime's own record")
    p.add_argument("container", metavar="CONTAINER")

    _network_verbs(sub)

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
    return parser


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
        "runtimes network ls\nruntimes --format json network ls --filter label=app=shop",
    )
    n.add_argument("--filter", action="append", metavar="label=K=V", help="label=K=V")
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
        "Print a network as JSON.",
        "runtimes network inspect shop-net\nruntimes network inspect --raw shop-net",
    )
    n.add_argument("--raw", action="store_true", help="include the runtime's own record")
    n.add_argument("network", metavar="NETWORK")
