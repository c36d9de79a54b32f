"""The web process's garbage-collector settings: start-up frozen, young collections less often."""

import gc
from collections.abc import Iterator

import pytest
from django.test import override_settings

from documents import collector


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tuning_freezes_what_exists_and_sets_the_thresholds(restored_gc: None) -> None:
    gc.unfreeze()
    with override_settings(COLLAB_GC_THRESHOLD=[20000, 10, 10]):
        collector._tune()
    assert gc.get_threshold() == (20000, 10, 10)
    # Everything alive at start-up (modules, settings, this test's objects) left the young generations.
    assert gc.get_freeze_count() > 10000
    assert sum(gc.get_count()) < 1000


def test_an_empty_setting_leaves_cpythons_defaults(restored_gc: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    with override_settings(COLLAB_GC_THRESHOLD=[]):
        collector.install()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
