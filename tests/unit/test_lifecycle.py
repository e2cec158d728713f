"""stats, top, rename, pause and prune: each runtime's answer normalised in
one adapter function, pinned on recorded output."""

from __future__ import annotations

import json
from typing import Any

import pytest

import runtimes
from runtimes import _normalize
from runtimes._shell import Completed, Shell
from runtimes.adapters import docker, nerdctl, podman
from runtimes.base import _images_in_use, _is_used
from runtimes.specs import RunSpec


def _record(recorded: Any, runtime: str, case: str) -> Any:
    return recorded(runtime, "lifecycle.json")[case]


def test_docker_stats(recorded: Any) -> None:
    raw = _record(recorded, "docker", "stats_busy")
    busy = docker.stats_record(raw)
    cpu, pre = raw["cpu_stats"], raw["precpu_stats"]
    expected = (
        (cpu["cpu_usage"]["total_usage"] - pre["cpu_usage"]["total_usage"])
        / (cpu["system_cpu_usage"] - pre["system_cpu_usage"])
        * cpu["online_cpus"]
        * 100
    )
    assert busy.cpu_percent == pytest.approx(expected)
    assert busy.cpu_percent is not None
    assert 0 < busy.cpu_percent <= 100 * cpu["online_cpus"]
    memory = raw["memory_stats"]
    # As `docker stats`: the inactive page cache is not "in use".
    assert busy.memory_usage == memory["usage"] - memory["stats"]["total_inactive_file"]
    assert busy.memory_limit == memory["limit"]
    assert busy.network_rx == sum(n["rx_bytes"] for n in raw["networks"].values())
    assert busy.pids == raw["pids_stats"]["current"]
    stopped = docker.stats_record(_record(recorded, "docker", "stats_stopped"))
    assert stopped == runtimes.Stats(
        cpu_percent=0.0, memory_usage=0, memory_limit=0, network_rx=0, network_tx=0,
        block_read=0, block_write=0, pids=0,
    )  # fmt: skip


def test_podman_stats_stream(recorded: Any) -> None:
    first, second = _record(recorded, "podman", "stats_stream_busy")
    since_start = podman.stats_sample(first.encode())
    last_second = podman.stats_sample(second.encode())
    assert since_start is not None
    assert last_second is not None
    assert since_start["UpTime"]  # running: the adapter reads the second sample
    busy = podman.stats_record(last_second)
    assert busy.cpu_percent == last_second["CPU"]
    assert busy.memory_usage == last_second["MemUsage"]  # page cache included
    assert busy.network_tx == last_second["NetOutput"]
    stopped = podman.stats_sample(_record(recorded, "podman", "stats_stream_stopped")[0].encode())
    assert stopped is not None
    assert not stopped["UpTime"]
    assert podman.stats_record(stopped).memory_limit == 0
    missing = _record(recorded, "podman", "stats_stream_missing")[0]
    assert json.loads(missing) == {"Error": {}, "Stats": None}
    assert podman.stats_sample(missing.encode()) is None


def test_nerdctl_stats(recorded: Any) -> None:
    host_memory = _record(recorded, "nerdctl", "info_mem_total")
    busy_run = _record(recorded, "nerdctl", "stats_busy")
    row = json.loads(busy_run["stdout"])
    assert row["MemUsage"].endswith("/ 8EiB")  # no limit, as nerdctl prints it
    busy = nerdctl.stats_record(row, host_memory, cpu=False)
    assert busy.cpu_percent is None
    assert nerdctl.stats_record(row, host_memory, cpu=True).cpu_percent == float(
        row["CPUPerc"].removesuffix("%")
    )
    assert busy.memory_usage == nerdctl.size_bytes(row["MemUsage"].split("/")[0])
    assert busy.memory_limit == host_memory
    assert (busy.network_rx, busy.network_tx) == tuple(
        nerdctl.size_bytes(part) for part in row["NetIO"].split("/")
    )
    assert busy.pids == int(row["PIDs"])
    stopped = json.loads(_record(recorded, "nerdctl", "stats_stopped")["stdout"])
    assert nerdctl.stats_record(stopped, host_memory, cpu=False) == runtimes.Stats(
        cpu_percent=None, memory_usage=0, memory_limit=0, network_rx=0, network_tx=0,
        block_read=0, block_write=0, pids=0,
    )  # fmt: skip
    # nerdctl before 2.0.5 never answers for a stopped container: the adapter
    # answers as 2.2.2 does (raw is not compared).
    for cpu in (False, True):
        assert nerdctl.stats_record(
            nerdctl.STOPPED_STATS_ROW, host_memory, cpu=cpu
        ) == nerdctl.stats_record(stopped, host_memory, cpu=cpu)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0B", 0),
        ("612B", 612),
        ("1.45kB", 1450),
        ("5.3MB", 5_300_000),
        ("484KiB", 484 * 1024),
        ("23.54GiB", round(23.54 * 1024**3)),
        ("8EiB", 8 * 1024**6),
        ("--", None),
    ],
)
def test_nerdctl_sizes(text: str, expected: int | None) -> None:
    assert nerdctl.size_bytes(text) == expected


def test_top_tables(recorded: Any) -> None:
    for runtime in ("docker", "podman"):
        table = _record(recorded, runtime, "top")
        found = _normalize.processes(table["Titles"], table["Processes"], runtime=runtime)
        assert found
        assert all(p.pid > 0 and p.user and p.command for p in found)
        assert any(p.command.startswith("sleep ") for p in found)
    run = _record(recorded, "nerdctl", "top")
    titles, rows = nerdctl.top_table(run["stdout"].encode())
    assert titles == ["PID", "USER", "COMMAND"]
    found = _normalize.processes(titles, rows, runtime="nerdctl")
    assert [(p.user, p.command) for p in found] == [("root", "sleep 100000")]
    with pytest.raises(runtimes.CommandFailed, match="no PID"):
        _normalize.processes(["USER"], [["root"]], runtime="x")
    assert nerdctl.top_table(b"") == ([], [])


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("top_created", runtimes.CommandFailed),  # "no running task found: task ... not found"
        ("pause_created", runtimes.CommandFailed),
        ("pause_paused", runtimes.CommandFailed),
        ("rename_taken", runtimes.NameConflict),
    ],
)
def test_nerdctl_failures(recorded: Any, case: str, expected: type[Exception]) -> None:
    run = _record(recorded, "nerdctl", case)
    done = Completed(tuple(run["argv"]), run["rc"], b"", run["stderr"].encode())
    error = Shell("nerdctl", "nerdctl").error(done, operation=case, target="container", ref="c")
    assert type(error) is expected


def test_podman_top_of_a_stopped_container_is_an_empty_answer(recorded: Any) -> None:
    # Why the adapter asks whether it runs when the table is empty.
    assert _record(recorded, "podman", "top_stopped") == [200, ""]


def test_images_in_use() -> None:
    def container(image: str, **raw: str) -> runtimes.Container:
        return runtimes.Container(id="c" * 64, name="c", image=image, raw=raw)

    used = _images_in_use(
        [
            container("app:1"),
            container("1a2b3c4d5e6f", ImageID="sha256:" + "1a2b3c4d5e6f" + "0" * 52),
            container("localhost/other:2", Image="localhost/other:2"),
        ]
    )
    assert _is_used(runtimes.Image(id="sha256:" + "9" * 64, tags=("app:1",)), used)
    assert _is_used(runtimes.Image(id="sha256:1a2b3c4d5e6f" + "0" * 52), used)
    assert not _is_used(runtimes.Image(id="sha256:" + "9" * 64, tags=("app:2",)), used)
    # A short reference is too ambiguous to count as an id.
    short = _images_in_use([container("99")])
    assert not _is_used(runtimes.Image(id="sha256:" + "9" * 64), short)


def test_nerdctl_cpu_figure_follows_the_release() -> None:
    assert runtimes.Capability.STATS_CPU not in nerdctl.capabilities_for((2, 0, 3))
    assert runtimes.Capability.STATS_CPU in nerdctl.capabilities_for((2, 2, 2))
    assert runtimes.Capability.STATS_CPU not in nerdctl.capabilities_for(None)


class _MonitorShell:
    """Replays nerdctl over containerd 1.6 around a start that lost the race
    with the restart monitor: ``start`` fails as recorded, then each inspect
    gives the next of ``states`` (recorded records), the last one repeated."""

    def __init__(self, recorded: Any, states: list[str], *, restart_label: bool = True) -> None:
        race = _record(recorded, "nerdctl", "start_monitor_race")
        self.start = race["start"]
        self.records = [race[state] for state in states]
        if not restart_label:
            for record in self.records:
                labels = record[0]["Config"]["Labels"]
                record[0]["Config"]["Labels"] = {
                    k: v for k, v in labels.items() if not k.startswith("containerd.io/restart.")
                }
        self.starts_failing = 1
        self.calls: list[str] = []
        self.real = Shell("nerdctl", "nerdctl")

    def run(self, args: list[str], *, operation: str, **kwargs: Any) -> Completed:
        self.calls.append(args[0] if args[0] != "container" else args[1])
        if args[0] == "start":
            if self.starts_failing:
                self.starts_failing -= 1
                done = Completed(tuple(args), 1, b"", self.start["stderr"].encode())
                raise self.real.error(done, operation=operation, target="container", ref="c")
            return Completed(tuple(args), 0, b"", b"")
        if args[0] in ("rm", "create"):
            return Completed(tuple(args), 0, b"c\n" if args[0] == "create" else b"", b"")
        record = self.records.pop(0) if len(self.records) > 1 else self.records[0]
        return Completed(tuple(args), 0, json.dumps(record).encode(), b"")


def _nerdctl_over(shell: _MonitorShell, *, races: bool = True) -> nerdctl.NerdctlRuntime:
    rt = object.__new__(nerdctl.NerdctlRuntime)
    rt._shell = shell  # type: ignore[assignment]
    rt.containerd_version = (1, 6, 20) if races else (2, 4, 2)
    rt.init_binary = None
    return rt


def test_nerdctl_start_that_the_restart_monitor_took_over_succeeds(recorded: Any) -> None:
    # As recorded: status "" just after the failed start, running 0.7 s later.
    shell = _MonitorShell(recorded, ["inspect_after", "inspect_after", "inspect_later"])
    _nerdctl_over(shell)._start("c")
    assert shell.calls == ["start", "inspect", "inspect", "inspect"]


def test_nerdctl_start_failing_so_without_a_restart_policy_raises_at_once(recorded: Any) -> None:
    shell = _MonitorShell(recorded, ["inspect_after"], restart_label=False)
    with pytest.raises(runtimes.CommandFailed, match="cannot start a container that has stopped"):
        _nerdctl_over(shell)._start("c")
    assert shell.calls == ["start", "inspect"]


def test_nerdctl_start_the_monitor_killed_just_after_waits_for_its_restart(
    recorded: Any,
) -> None:
    shell = _MonitorShell(recorded, ["inspect_after", "inspect_after", "inspect_later"])
    shell.starts_failing = 0
    _nerdctl_over(shell)._start("c")
    assert shell.calls == ["start", "inspect", "inspect", "inspect"]


def test_nerdctl_start_failing_so_on_a_later_containerd_raises_at_once(recorded: Any) -> None:
    # containerd 1.7 and later: no such race seen, so the error is the answer.
    shell = _MonitorShell(recorded, ["inspect_later"])
    with pytest.raises(runtimes.CommandFailed):
        _nerdctl_over(shell, races=False)._start("c")
    assert shell.calls == ["start"]


def test_nerdctl_start_runs_again_when_the_monitor_never_starts_it(
    recorded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nerdctl, "MONITOR_GRACE", 0.0)
    shell = _MonitorShell(recorded, ["inspect_after", "inspect_later"])
    _nerdctl_over(shell)._start("c")
    assert shell.calls == ["start", "inspect", "start", "inspect"]


def test_nerdctl_run_with_a_restart_policy_on_containerd_1_6_recovers_too(recorded: Any) -> None:
    # `run -d` would remove the container its failed start created.
    shell = _MonitorShell(recorded, ["inspect_after", "inspect_later"])
    rt = _nerdctl_over(shell)
    spec = RunSpec(image="img", command=("sleep", "9"), restart_policy="always")
    assert rt._run(spec) == "c"
    assert shell.calls == ["create", "start", "inspect", "inspect"]


def test_nerdctl_run_whose_start_fails_removes_what_it_created(recorded: Any) -> None:
    # Not the monitor's doing (no restart label): the start's error, and no container left.
    shell = _MonitorShell(recorded, ["inspect_after"], restart_label=False)
    spec = RunSpec(image="img", command=("sleep", "9"), restart_policy="always")
    with pytest.raises(runtimes.CommandFailed, match="cannot start a container that has stopped"):
        _nerdctl_over(shell)._run(spec)
    assert shell.calls == ["create", "start", "inspect", "rm"]


@pytest.mark.parametrize("races", [True, False])
def test_nerdctl_forced_remove_the_monitor_restarted_runs_once_more(
    recorded: Any, races: bool
) -> None:
    failed = _record(recorded, "nerdctl", "rm_monitor_race")
    calls: list[list[str]] = []

    class _Shell:
        def run(self, args: list[str], *, operation: str, **kwargs: Any) -> Completed:
            calls.append(args)
            if len(calls) == 1:
                done = Completed(tuple(args), 1, b"", failed["stderr"].encode())
                raise Shell("nerdctl", "nerdctl").error(
                    done, operation=operation, target="container", ref="c"
                )
            return Completed(tuple(args), 0, b"c\n", b"")

    rt = object.__new__(nerdctl.NerdctlRuntime)
    rt._shell = _Shell()  # type: ignore[assignment]
    rt.containerd_version = (1, 6, 20) if races else (2, 4, 2)
    if races:
        rt._remove("c", force=True)
        assert calls == [["rm", "-f", "--", "c"]] * 2
    else:
        with pytest.raises(runtimes.CommandFailed, match="cannot delete running task"):
            rt._remove("c", force=True)
