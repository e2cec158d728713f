"""Health, readiness and stacks without an engine: recorded records, validation, order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runtimes
from runtimes import _normalize, _specs, stacks
from runtimes.models import Capability

FIXTURES = Path(__file__).parents[1] / "fixtures"


def record(runtime: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / runtime / name).read_text())
    return data


def test_docker_reports_the_engines_health() -> None:
    raw = record("docker", "inspect_healthy.json")
    assert _normalize.health_status(raw["State"]) == "healthy"


def test_podman_without_systemd_stays_starting() -> None:
    # Podman 4.3 recorded on a machine without systemd: the check is never
    # scheduled, which is why podman lacks SCHEDULES_HEALTHCHECKS.
    raw = record("podman", "inspect_health_without_systemd.json")
    assert _normalize.health_status(raw["State"]) == "starting"
    assert _normalize.health_status({}) is None


def test_healthcheck_is_normalised_and_round_trips_through_its_label() -> None:
    check = _specs.check_healthcheck(runtimes.Healthcheck(test="pg_isready -q", interval=1))
    assert check is not None
    assert check.test == ("/bin/sh", "-c", "pg_isready -q")
    label = _specs.healthcheck_label(check)
    assert _specs.healthcheck_from_labels({_specs.HEALTHCHECK_LABEL: label}) == check
    assert _specs.healthcheck_from_labels({_specs.HEALTHCHECK_LABEL: "{not json"}) is None
    assert _specs.healthcheck_from_labels({}) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"test": ""},
        {"test": ()},
        {"test": ["a\x00b"]},
        {"test": "true", "interval": 0},
        {"test": "true", "timeout": float("inf")},
        {"test": "true", "retries": True},
        {"test": "true", "retries": 1001},
        {"test": "true", "start_period": -1},
    ],
)
def test_bad_healthchecks(bad: dict[str, Any]) -> None:
    with pytest.raises(runtimes.InvalidSpec):
        _specs.check_healthcheck(runtimes.Healthcheck(**bad))


def test_wait_conditions() -> None:
    pattern, port, http, argv, healthy, seconds = _specs.wait_conditions(
        log="ready", port=80, http="/", exec="true", healthy=True, timeout=5
    )
    assert pattern is not None
    assert (port, http, argv, healthy, seconds) == (80, "/", ["true"], True, 5.0)
    for bad in (
        {},
        {"log": ""},
        {"http": "/"},
        {"port": 70000},
        {"port": True},
        {"http": "x", "port": 1},
        {"exec": ""},
        {"log": "x", "timeout": float("nan")},
    ):
        kwargs: dict[str, Any] = {
            "log": None,
            "port": None,
            "http": None,
            "exec": None,
            "healthy": False,
            "timeout": 1,
            **bad,
        }
        with pytest.raises(runtimes.InvalidSpec):
            _specs.wait_conditions(**kwargs)


def svc(**kwargs: Any) -> runtimes.Service:
    return runtimes.Service(**{"image": "x:1", **kwargs})


def test_plan_orders_by_dependency() -> None:
    stack = runtimes.Stack(
        "s",
        services={
            "app": svc(depends_on={"db": "healthy", "cache": "started"}),
            "db": svc(healthcheck=runtimes.Healthcheck(test="true")),
            "cache": svc(),
            "migrate": svc(depends_on={"db": "healthy"}),
        },
    )
    order = stacks.plan(stack, frozenset())
    assert order.index("db") < order.index("app")
    assert order.index("cache") < order.index("app")
    assert order.index("db") < order.index("migrate")


def test_plan_refuses_before_anything_exists() -> None:
    cycle = runtimes.Stack(
        "s",
        services={
            "a": svc(depends_on={"b": "started"}),
            "b": svc(depends_on={"c": "started"}),
            "c": svc(depends_on={"a": "started"}),
        },
    )
    with pytest.raises(runtimes.InvalidSpec, match=r"cycle a -> b -> c -> a"):
        stacks.plan(cycle, frozenset())
    with pytest.raises(runtimes.Unsupported) as info:
        stacks.plan(runtimes.Stack("s", services={"a": svc(aliases=["x"])}), frozenset())
    assert info.value.capability is Capability.NETWORK_ALIASES
    for services in (
        {},
        {"a": svc(image=None)},
        {"a": runtimes.Service(image="x:1", build="/")},
        {"a": svc(depends_on={"a": "completed"})},
        {"a": svc(ready={"healthy": True})},
        {"a": svc(ports=["nope"])},
        {"a": svc(env={"": "x"})},
    ):
        with pytest.raises(runtimes.InvalidSpec):
            stacks.plan(runtimes.Stack("s", services=services), frozenset())
    with pytest.raises(runtimes.InvalidSpec):
        stacks.plan(runtimes.Stack("bad name", services={"a": svc()}), frozenset())
