"""bench/amd_content.py's pooling: the content score at a decision point reads only the
embeddings of windows that have ended by then."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_content as content


def test_pooled_reads_only_the_windows_ended_by_then() -> None:
    rng = np.random.default_rng(5)
    emb = rng.normal(size=(116, 96))
    for t_ms in (790, 1000, 2000, 3500, 5000, 8000):
        ended = (t_ms - content.WINDOW_MS) // content.STEP_MS + 1
        later = emb.copy()
        later[ended:] = rng.normal(size=later[ended:].shape) * 100
        assert np.array_equal(content.pooled(emb, t_ms), content.pooled(later, t_ms)), t_ms
        # and it does read the last window that has ended
        changed = emb.copy()
        changed[ended - 1] += 1000
        assert not np.array_equal(content.pooled(emb, t_ms), content.pooled(changed, t_ms))


def test_pooled_is_the_mean_and_the_maximum() -> None:
    emb = np.array([[1.0, -2.0], [3.0, 0.0], [50.0, 50.0]])
    # at 870 ms two windows have ended (at 790 and 870 ms); the third (950 ms) has not
    assert content.pooled(emb, 869).tolist() == [1.0, -2.0, 1.0, -2.0]
    assert content.pooled(emb, 870).tolist() == [2.0, -1.0, 3.0, 0.0]
    assert content.pooled(emb, 10_000).tolist() == [18.0, 16.0, 50.0, 50.0]


@pytest.mark.parametrize(
    ("t_ms", "head"), [(900, None), (1000, 1000), (3400, 3000), (10_000, 8000)]
)
def test_a_point_is_scored_by_the_latest_head_at_or_before_it(t_ms: int, head: int | None) -> None:
    assert content.anchor_of(t_ms) == head
