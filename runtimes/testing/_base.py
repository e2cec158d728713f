"""The base every contract class shares: the adapter binding and the ``rt`` fixture."""

from __future__ import annotations

from typing import ClassVar

import pytest

from runtimes.base import Runtime


class _Base:
    #: Set in a subclass to bind the suite to one adapter only.
    runtime_name: ClassVar[str | None] = None

    @pytest.fixture
    def rt(self, container_runtime: Runtime) -> Runtime:
        return container_runtime
