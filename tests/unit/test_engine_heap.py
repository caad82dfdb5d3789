"""The engine leaves what the process built before dialling out of the garbage collector's
full passes (engine/scheduler.py, settle_heap): those passes walked the whole heap every few
thousand calls."""

import gc
from collections.abc import Iterator

import pytest

from dialer.engine.scheduler import GC_YOUNG
from tests.integration.engine_support import Rig, drama


@pytest.fixture
def unfrozen() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *thresholds[1:])
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("unfrozen")
def test_the_startup_heap_is_frozen_once_the_engine_dials(rig: Rig) -> None:
    campaign = rig.campaign([drama(1)])
    assert gc.get_freeze_count() == 0
    rig.run()
    assert gc.get_freeze_count() > 0
    # Young passes every GC_YOUNG net new objects, not every 700.
    assert gc.get_threshold()[0] == GC_YOUNG
    assert rig.attempts(campaign)
