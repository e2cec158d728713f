"""The `runtimes` command with Docker's grammar, on every selected runtime:
flags after the verb, --format templates, ps flags and filters, STATUS
wording, logs --since/--until, inspect of every kind, rm -f of a missing
container, exec -i/-t/-it, volume verbs.

One running and one exited container per runtime serve the whole module.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from runtimes.base import Runtime
from runtimes.models import Container

Cli = Callable[..., subprocess.CompletedProcess[str]]
MARK = "runtimes.test.cli"  # every container here has it; only the key is filtered on


def _cli(runtime: str) -> Cli:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runtimes.cli", *args, "--runtime", runtime]
            if args and args[0] not in ("exec", "run")  # flags after the verb, as docker users type
            else [sys.executable, "-m", "runtimes.cli", "--runtime", runtime, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


@pytest.fixture(scope="module")
def boxes(
    container_runtime: Runtime,
    test_image: str,
    session_labels: dict[str, str],
    runtimes_session_id: str,
) -> Iterator[tuple[Container, Container]]:
    """(running, exited): the running one printed a line on each stream."""
    rt = container_runtime
    prefix = f"rt-{runtimes_session_id}-cligrammar"
    labels = {**session_labels, MARK: prefix, "tier": "grammar"}
    running = rt.run(
        test_image,
        ["sh", "-c", "echo one; sleep 1.5; echo two >&2; exec sleep 1000"],
        name=f"{prefix}-up",
        labels=labels,
    )
    try:
        exited = rt.run(test_image, ["sh", "-c", "exit 3"], name=f"{prefix}-done", labels=labels)
        try:
            rt.wait(exited, timeout=60)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if len(list(rt.logs(running))) >= 2:
                    break
                time.sleep(0.2)
            yield rt.inspect(running), rt.inspect(exited)
        finally:
            rt.remove(exited, force=True)
    finally:
        rt.remove(running, force=True)


@pytest.fixture
def cli(container_runtime: Runtime) -> Cli:
    return _cli(container_runtime.name)


def test_global_flags_after_the_verb(cli: Cli, boxes: tuple[Container, Container]) -> None:
    up, _ = boxes
    listed = cli("ps", "--format", "json", "--filter", f"name={up.name}")
    assert listed.returncode == 0, listed.stderr
    assert [c["name"] for c in json.loads(listed.stdout)] == [up.name]
    bad = cli("ps", "--bogus")
    assert bad.returncode == 125  # docker's code for a bad command line
    assert "--bogus" in bad.stderr


def test_ps_quiet_no_trunc_last_and_all(cli: Cli, boxes: tuple[Container, Container]) -> None:
    up, done = boxes
    mine = ("--filter", f"label={MARK}={up.labels[MARK]}")
    assert cli("ps", "-q", *mine).stdout.split() == [up.id[:12]]
    assert cli("ps", "-aq", "--no-trunc", *mine).stdout.split() == sorted(
        [up.id, done.id],
        key=lambda i: i != done.id,  # newest first: the exited one
    )
    assert cli("ps", "-n", "1", "-q", *mine).stdout.split() == [done.id[:12]]
    assert cli("ps", "-l", "-q", *mine).stdout.split() == [done.id[:12]]
    table = cli("ps", "-a", "--no-trunc", *mine).stdout
    assert up.id in table
    assert "sleep 1.5; echo two >&2; exec sleep 1000" in table  # the command, whole


def test_ps_filters(cli: Cli, boxes: tuple[Container, Container], test_image: str) -> None:
    up, done = boxes

    def names(*filters: str) -> set[str]:
        args = [arg for f in filters for arg in ("--filter", f)]
        listed = cli("ps", "-a", "--format", "{{.Names}}", *args)
        assert listed.returncode == 0, listed.stderr
        return set(listed.stdout.split())

    both = {up.name, done.name}
    prefix = up.labels[MARK]
    assert names(f"label={MARK}", f"name={prefix}") == both  # key only, name as a regex
    assert names(f"label={MARK}={prefix}", "label=tier") == both
    assert names(f"label={MARK}={prefix}", "label=tier=other") == set()
    assert names(f"label={MARK}", "label=no.such.key", f"name={prefix}") == set()
    assert names(f"name={prefix}", "status=exited") == {done.name}
    assert names(f"name={prefix}", "status=running") == {up.name}
    assert names(f"name={prefix}", "status=running", "status=exited") == both
    assert names(f"name={prefix}", f"ancestor={test_image}") == both
    assert names(f"name={prefix}", "ancestor=no-such-image:1") == set()
    assert names(f"name={prefix}-up$") == {up.name}
    assert names(f"id={done.id[:10]}") == {done.name}
    bad = cli("ps", "--filter", "status=sleepy")
    assert bad.returncode == 125
    assert "status" in bad.stderr


def test_status_with_durations(cli: Cli, boxes: tuple[Container, Container]) -> None:
    up, done = boxes
    shown = cli("ps", "-a", "--filter", f"label={MARK}={up.labels[MARK]}",
                "--format", "{{.Names}}|{{.Status}}")  # fmt: skip
    status = dict(line.split("|") for line in shown.stdout.splitlines())
    duration = r"(Less than a second|\d+ seconds?|About a minute|\d+ minutes)"
    assert re.fullmatch(f"Up {duration}", status[up.name]), status
    assert re.fullmatch(rf"Exited \(3\) {duration} ago", status[done.name]), status
    table = cli("ps", "--filter", f"name={up.name}").stdout
    assert re.search(f"Up {duration}", table), table


def test_format_templates(cli: Cli, boxes: tuple[Container, Container]) -> None:
    up, _ = boxes
    only = ("--filter", f"name={up.name}")
    shown = cli("ps", *only, "--format", '{{.ID}} {{.Label "tier"}} {{json .Labels}}').stdout
    short, tier, labels = shown.strip().split(" ", 2)
    assert (short, tier) == (up.id[:12], "grammar")
    assert json.loads(labels)[MARK] == up.labels[MARK]
    table = cli("ps", *only, "--format", "table {{.Names}}\\t{{.State}}").stdout.splitlines()
    assert table == ["NAMES\tSTATE", f"{up.name}\trunning"]
    assert cli("ps", *only, "--format", "{{.Labels}}").stdout.count("tier=grammar") == 1
    bad = cli("ps", "--format", "{{range .Labels}}{{end}}")
    assert bad.returncode == 125


def test_logs_since_and_until(cli: Cli, boxes: tuple[Container, Container]) -> None:
    up, _ = boxes

    def logs(*args: str) -> str:
        done = cli("logs", *args, up.name)
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    assert sorted(logs("--since", "10m").split()) == ["one", "two"]
    assert sorted(logs("--since", "1h30m").split()) == ["one", "two"]
    assert logs("--until", "1h").split() == []
    now = datetime.now(UTC).timestamp()
    assert sorted(logs("--since", str(int(now) - 600)).split()) == ["one", "two"]
    assert sorted(logs("--since", f"{now - 600:.9f}").split()) == ["one", "two"]  # docker's form
    assert logs("--since", str(int(now) + 3600)).split() == []
    assert logs("--until", str(int(now) - 3600)).split() == []
    assert sorted(logs("--until", "2099-01-01T00:00:00Z").split()) == ["one", "two"]
    started = up.started_at
    assert started is not None
    # Up to the first line: the second comes 1.5 s later (Podman stamps whole seconds).
    stamped = logs("-t", "--since", "10m").splitlines()
    first = datetime.fromisoformat(next(s for s in stamped if s.endswith("one")).split()[0])
    assert logs("--until", first.isoformat()).split() == ["one"]
    assert logs("--tail", "1").split() == ["two"]
    bad = cli("logs", "--since", "yesterday", up.name)
    assert bad.returncode == 125
    assert "yesterday" in bad.stderr


def test_inspect_every_kind(
    cli: Cli, boxes: tuple[Container, Container], test_image: str, session_labels: dict[str, str]
) -> None:
    up, done = boxes
    label = "=".join(next(iter(session_labels.items())))
    volume, network = f"{up.labels[MARK]}-vol", f"{up.labels[MARK]}-net"
    assert cli("volume", "create", "--label", label, volume).stdout.strip() == volume
    try:
        assert cli("network", "create", "--label", label, network).returncode == 0
        try:
            shown = cli("inspect", up.name, test_image, volume, network, done.name)
            assert shown.returncode == 0, shown.stderr
            records = json.loads(shown.stdout)
            assert [r.get("name") for r in records] == [up.name, None, volume, network, done.name]
            assert test_image in records[1]["tags"]
            assert records[4]["exit_code"] == 3
            typed = cli("inspect", "--type", "image", "-f", "{{.ID}}", test_image)
            assert typed.stdout.strip() == records[1]["id"]
            assert cli("inspect", "--type", "volume", up.name).returncode == 1
            template = cli(
                "inspect", "-f", "{{.Name}} {{.State}} {{.ExitCode}}", up.name, done.name
            )
            assert template.stdout.splitlines() == [
                f"{up.name} running <no value>",
                f"{done.name} exited 3",
            ]
            # A field only the runtime's own record has.
            own = cli("inspect", "-f", "{{.State.ExitCode}}", done.name)
            assert own.stdout.strip() == "3", own.stderr
            half = cli("inspect", up.name, "no-such-thing-cli")
            assert half.returncode == 1
            assert [r["name"] for r in json.loads(half.stdout)] == [up.name]
            assert "no such object: no-such-thing-cli" in half.stderr
            assert json.loads(cli("network", "inspect", network).stdout)[0]["name"] == network
            listed = cli("volume", "ls", "-q", "--filter", f"label={label}").stdout.split()
            assert volume in listed
            assert json.loads(cli("volume", "inspect", volume).stdout)[0]["name"] == volume
        finally:
            assert cli("network", "rm", network).returncode == 0
    finally:
        assert cli("volume", "rm", volume).stdout.strip() == volume
    assert cli("volume", "inspect", volume).returncode == 1


def test_rm_and_not_found_exit_codes(cli: Cli, runtimes_session_id: str) -> None:
    missing = f"rt-{runtimes_session_id}-cli-missing"
    forced = cli("rm", "-f", missing)
    assert (forced.returncode, forced.stdout, forced.stderr) == (0, "", "")
    plain = cli("rm", missing)
    assert plain.returncode == 1
    assert f"no such container: {missing}" in plain.stderr
    for verb in ("inspect", "stop", "logs"):
        assert cli(verb, missing).returncode == 1, verb
    assert cli("inspect", missing).stdout.strip() == "[]"  # docker prints the empty list too


def test_exec_flags(cli: Cli, boxes: tuple[Container, Container]) -> None:
    up, _ = boxes
    piped = cli("exec", "-i", up.name, "sh", "-c", "wc -l; exit 2", stdin="a\nb\n")
    assert (piped.returncode, piped.stdout.split()) == (2, ["2"])
    # -it from a script: stdin forwarded, as docker's -i
    both = cli("exec", "-it", up.name, "sh", "-c", "cat", stdin="x\n")
    assert (both.returncode, both.stdout) == (0, "x\n")
    tty = cli("exec", "-t", up.name, "sh", "-c", "test -t 1 && echo onterm")
    # (text mode reads the terminal's \r\n as \n); `test -t 1` proves the terminal
    assert (tty.returncode, tty.stdout) == (0, "onterm\n")
    env = cli("exec", "-e", "A=b", "-w", "/tmp", "-u", "1000", up.name, "sh", "-c",
              'echo "$A $(pwd) $(id -u)"')  # fmt: skip
    assert (env.returncode, env.stdout) == (0, "b /tmp 1000\n")
