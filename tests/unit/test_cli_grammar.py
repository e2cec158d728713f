"""The CLI's pure parts: templates, STATUS wording, time values, completion,
exit codes of a bad command line (no runtime needed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from runtimes.cli._commands import moment
from runtimes.cli._completion import script
from runtimes.cli._format import status_text
from runtimes.cli._parser import build_parser
from runtimes.cli._template import Template
from runtimes.errors import InvalidSpec
from runtimes.models import Container, ContainerState

RECORD = {"id": "0123456789abcdef", "name": "web", "labels": {"b": "2", "a": "1"}, "exit_code": 3}
RAW = {
    "State": {"Status": "exited", "ExitCode": 3},
    "Config": {"Env": ["A=1", "B=2"], "Labels": {"z": "9", "y": "8"}},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{.Name}}", "web"),
        ("{{.Names}}", "web"),  # docker ps's column name
        ("{{.ID}}:{{.ExitCode}}", "0123456789abcdef:3"),  # case and underscores ignored
        ("{{.Labels}}", "a=1,b=2"),  # docker ps's wording
        ('{{.Label "b"}}', "2"),
        ('{{index .Labels "a"}}', "1"),
        ("{{json .Labels}}", '{"a":"1","b":"2"}'),
        ("{{.State.Status}} {{.Config.Env}}", "exited [A=1 B=2]"),  # the runtime's record
        ('{{join .Config.Env ","}}', "A=1,B=2"),
        ("{{.Config.Labels}}", "map[y:8 z:9]"),  # the runtime's own map, printed as Go does
        ("{{json .Config.Labels}}", '{"y":"8","z":"9"}'),
        ("{{.Name | upper}}", "WEB"),
        ("{{.Name}}\\t{{.ExitCode}}", "web\t3"),
        ("  {{- .Name -}}  !", "web!"),
        ("{{len .Labels}}", "2"),
    ],
)
def test_template_subset(source: str, expected: str) -> None:
    assert Template(source).render(RECORD, RAW) == expected


def test_template_table_header_and_refusals() -> None:
    template = Template("table {{.ID}}\\t{{.RunningFor}}")
    assert template.table
    assert template.header() == "ID\tRUNNING FOR"
    for bad in ("{{range .X}}{{end}}", "{{.Name", "{{$x := 1}}", "{{.Nope}}", "{{ }}"):
        with pytest.raises(InvalidSpec):
            Template(bad).render(RECORD, RAW)


def test_status_wording_like_dockers() -> None:
    now = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)

    def make(**fields: object) -> Container:
        return Container(id="x" * 64, name="n", image="i", **fields)  # type: ignore[arg-type]

    up = make(state=ContainerState.RUNNING, started_at=now - timedelta(minutes=3))
    assert status_text(up, now) == "Up 3 minutes"
    healthy = make(state=ContainerState.RUNNING, started_at=now, health="healthy")
    assert status_text(healthy, now) == "Up Less than a second (healthy)"
    paused = make(state=ContainerState.PAUSED, started_at=now - timedelta(hours=2))
    assert status_text(paused, now) == "Up 2 hours (Paused)"
    exited = make(state=ContainerState.EXITED, exit_code=0, finished_at=now - timedelta(seconds=2))
    assert status_text(exited, now) == "Exited (0) 2 seconds ago"
    # Docker's listing has no times: its daemon's own Status text is used.
    listed = make(state=ContainerState.RUNNING, raw={"Status": "Up About a minute"})
    assert status_text(listed, now) == "Up About a minute"
    assert status_text(make(state=ContainerState.CREATED), now) == "Created"


def test_since_and_until_values() -> None:
    assert moment("1700000000", "--since") == datetime.fromtimestamp(1700000000, UTC)
    assert moment("1700000000.5", "--since").timestamp() == 1700000000.5
    assert moment("2026-11-29T05:00:00Z", "--since") == datetime(2026, 11, 29, 5, tzinfo=UTC)
    ago = datetime.now(UTC) - moment("1h30m", "--until")
    assert timedelta(minutes=89) < ago < timedelta(minutes=91)
    with pytest.raises(InvalidSpec):
        moment("yesterday", "--since")


def test_library_since_takes_dockers_epoch_spelling() -> None:
    from runtimes import _specs

    assert _specs.check_since("1700000000.000000000") == 1700000000
    assert _specs.check_since("1700000000") == 1700000000


def test_global_flags_after_the_verb() -> None:
    parser = build_parser()
    args = parser.parse_args(["ps", "--format", "json", "--runtime", "podman", "-aq"])
    assert (args.format, args.runtime, args.all, args.quiet) == ("json", "podman", True, True)
    args = parser.parse_args(["--format", "json", "ps"])  # before still works
    assert args.format == "json"
    args = parser.parse_args(["network", "ls", "--format", "{{.Name}}"])
    assert args.format == "{{.Name}}"
    args = parser.parse_args(["inspect", "-f", "{{.Name}}", "--type", "image", "a", "b"])
    assert (args.format, args.type, args.targets) == ("{{.Name}}", "image", ["a", "b"])


def test_bad_command_line_exits_125() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runtimes.cli", "ps", "--bogus"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 125
    assert "unrecognized arguments: --bogus" in done.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    text = script(build_parser(), shell)
    for word in ("ps", "inspect", "no-trunc", "format", "volume"):
        assert word in text
    binary = shutil.which(shell)
    if binary:  # the script at least parses in its shell
        flag = ["--no-execute"] if shell == "fish" else ["-n"]
        checked = subprocess.run(
            [binary, *flag], input=text, capture_output=True, text=True, timeout=30, check=False
        )
        assert checked.returncode == 0, checked.stderr


def test_bash_completion_completes_verbs_flags_and_sub_verbs() -> None:
    text = script(build_parser(), "bash")

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        program = (
            f"{text}\nCOMP_WORDS=(runtimes {line}); COMP_CWORD={len(words)}; "
            '_runtimes; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(
            ["bash", "-c", program], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.split()

    assert "inspect" in complete("ins")
    assert complete("ps", "--no") == ["--no-trunc"]
    assert complete("network", "l") == ["ls"]
    assert complete("ls") == []  # `ls` alone is no verb
    assert set(complete("completion", "")) >= {"bash", "zsh", "fish"}


def test_template_records_have_dockers_columns() -> None:
    from runtimes.cli._format import template_record
    from runtimes.models import Image

    image = Image(id="sha256:" + "a" * 64, tags=("demo/app:1", "demo/app:latest"))
    assert Template("{{.Repository}}:{{.Tag}}").render(template_record(image)) == "demo/app:1"
    box = Container(id="b" * 64, name="web", image="demo/app:1", state=ContainerState.CREATED)
    assert Template("{{.ID}} {{.Status}}").render(template_record(box, trunc=True)) == (
        "bbbbbbbbbbbb Created"
    )
