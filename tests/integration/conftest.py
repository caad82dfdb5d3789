"""Fixtures of the engine tests (the store fixtures are in tests/conftest.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.engine_support import Rig


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(database_url, tmp_path / "originations.log")
    yield r
    r.container.close()
