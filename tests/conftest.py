from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def recorded() -> Any:
    """``recorded("podman", "inspect_running.json")``: real output of a runtime."""

    def load(runtime: str, name: str) -> Any:
        path = FIXTURES / runtime / name
        if name.endswith(".json"):
            return json.loads(path.read_text())
        return path.read_bytes()

    return load
