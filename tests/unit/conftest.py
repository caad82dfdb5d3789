"""Fixtures of the unit tests: the in-memory store (no database) under the store fixtures of
tests/conftest.py (container, client, account) and the engine's rig."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dialer.bootstrap import MEMORY_URL, EngineRuntime
from tests.integration.engine_support import Rig


class MemoryRig(Rig):
    def engine(self, **limits: Any) -> EngineRuntime:
        # run_until_done sees it is done only after a rest; when no call ended since the last
        # one (its last step was a close-out), that rest waits poll_seconds of real time for
        # new work, which on virtual time with no API cannot come (1 s per such test).
        return super().engine(**{"poll_seconds": 0.01, **limits})


@pytest.fixture
def database_url() -> str:
    """The store every container of a unit test is built on (tests/conftest.py's fixtures)."""
    return MEMORY_URL


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = MemoryRig(MEMORY_URL, tmp_path / "originations.log")
    yield r
    r.container.close()
