"""examples/app-postgres-redis on every runtime: up, hit, down, nothing left."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from runtimes.base import Runtime
from runtimes.testing.suite import stack_leftovers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "app-postgres-redis" / "stack.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_app_postgres_redis", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_example_stack(
    container_runtime: Runtime,
    session_labels: dict[str, str],
    unique_name: object,
    tmp_path: Path,
) -> None:
    rt = container_runtime
    example = load_example()
    assert callable(unique_name)
    name = unique_name("example")
    stack = example.make_stack(name, tmp_path)
    with rt.up(stack, labels=session_labels, timeout=240) as s:
        assert rt.inspect(s["db"]).health == "healthy"
        assert example.hit(s) == "hits=1 rows=1"
        assert example.hit(s) == "hits=2 rows=2"
        # The app reached both by service name; the data is really in Postgres.
        rows = s.exec(
            "db",
            [
                "psql",
                "-X",
                "-At",
                "-U",
                "postgres",
                "-d",
                "app",
                "-c",
                "SELECT max(hit) FROM visits",
            ],
        )
        assert rows.exit_code == 0, rows.stderr
        assert rows.stdout.decode().strip() == "2"
        assert s.exec("redis", ["redis-cli", "GET", "hits"]).stdout.decode().strip() == "2"
    assert stack_leftovers(rt, name) == []
    assert rt.images(labels={"runtimes.stack": name}) == []


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
